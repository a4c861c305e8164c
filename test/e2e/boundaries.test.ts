// What the CLI must not change: the core stays free of Node APIs and of the CLI's
// libraries; the plotting libraries load only through report.ts, itself loaded only for
// --out; the progress bar shows on a terminal and never in piped output or with --quiet.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLI, ROOT } from './cli.js';

const src = join(ROOT, 'src');
const cliSrc = join(ROOT, 'cli', 'src');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

test('core files (src/*.ts except node.ts) import no Node API and none of the CLI libraries', () => {
  const core = readdirSync(src).filter((f) => f.endsWith('.ts') && f !== 'node.ts');
  assert.ok(core.length > 5);
  for (const f of core) {
    const text = readFileSync(join(src, f), 'utf8');
    assert.not.match(text, /from ['"](node:|fs|path|commander|csv-parse|cli-progress|vega)/, f);
    assert.not.match(text, /from ['"]\.\/(cli|node)\//, f);
  }
});

test('vega and vega-lite are imported only dynamically, only in cli/src/report.ts, which is loaded only dynamically', () => {
  for (const f of [...files(src), ...files(cliSrc)]) {
    const text = readFileSync(f, 'utf8');
    const rel = f.slice(ROOT.length);
    if (rel === 'cli/src/report.ts') {
      assert.match(text, /await import\('vega'\)|import\('vega'\)/);
      assert.not.match(text, /^import .*from ['"]vega/m, 'no static vega import');
    } else {
      assert.not.match(text, /['"]vega(-lite)?['"]/, rel);
      assert.not.match(
        text,
        /^import .*['"]\.\.?\/(cli\/)?report\.js['"]/m,
        `${rel}: report.js only by dynamic import`,
      );
    }
  }
});

test('experiment without --out never loads the plotting libraries', () => {
  // a loader hook that fails the process if anything resolves vega
  const hook = `data:text/javascript,${encodeURIComponent(`
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent("export async function resolve(s, c, n) { if (/^vega/.test(s)) throw new Error('loaded ' + s); return n(s, c); }"));
  `)}`;
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      hook,
      CLI,
      'experiment',
      'calibration',
      '--dim',
      '4',
      '--rows',
      '500',
      '--batches',
      '100',
      '--json',
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.is(r.status, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout).experiments.length === 1);
  const withOut = spawnSync(
    process.execPath,
    [
      '--import',
      hook,
      CLI,
      'experiment',
      'calibration',
      '--dim',
      '4',
      '--rows',
      '500',
      '--batches',
      '100',
      '--out',
      mkdtempSync(join(tmpdir(), 'gradcov-lazy-')),
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.is(withOut.status, 1, 'the hook does catch vega when --out is given');
  assert.match(withOut.stderr, /loaded vega/);
});

// The progress-bar tests need a terminal: `script` (util-linux; Debian/Ubuntu package
// bsdutils) runs the CLI under a pseudo-terminal. Without it they are reported as skipped
// with how to get it (under CI=true test/run.mjs counts a skip as a failure).
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).error === undefined;
const terminalTest = hasScript ? test : test.skip;
if (!hasScript)
  console.log(
    '\n  SKIPPED 2 progress-bar tests: the `script` command (a pseudo-terminal) is missing: apt-get install bsdutils (util-linux)\n',
  );
/** Runs the CLI under a pseudo-terminal; its terminal output (stdout and stderr) is `stdout`. */
const inTerminal = (args: string[]) =>
  spawnSync(
    'script',
    ['-qec', ['GRADCOV_PROGRESS_DELAY_MS=0', process.execPath, CLI, ...args].join(' '), '/dev/null'],
    { cwd: ROOT, encoding: 'utf8' },
  );

terminalTest('the progress bar shows on a terminal only, and never with --quiet', () => {
  const args = ['experiment', 'batches', '--dim', '5', '--rows', '1000', '--batches', '3000'];
  const shell = (extra: string[]) => inTerminal([...args, ...extra]);
  const tty = shell([]);
  assert.is(tty.status, 0, tty.stderr);
  assert.match(tty.stdout, /batches\s+\[[█░]+\] \d+\/18 estimates/);
  const quiet = shell(['--quiet']);
  assert.is(quiet.status, 0, quiet.stderr);
  assert.not.match(quiet.stdout, /estimates \|/);
  assert.match(quiet.stdout, /\| +m \| mean error/);
  const piped = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, GRADCOV_PROGRESS_DELAY_MS: '0' },
  });
  assert.is(piped.status, 0, piped.stderr);
  assert.not.match(piped.stdout + piped.stderr, /estimates \|/);
});

terminalTest('estimate shows a progress bar in megabytes while it reads a large CSV on a terminal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradcov-progress-'));
  const file = join(dir, 'rows.csv');
  const lines = ['a,b,y'];
  for (let i = 0; i < 60000; i++) lines.push(`${(i % 97) / 7},${(i % 89) / 3},${(i % 83) / 5}`);
  writeFileSync(file, lines.join('\n') + '\n');
  const tty = inTerminal(['estimate', '--data', file, '--target', 'y', '--batches', '200']);
  assert.is(tty.status, 0, tty.stdout);
  assert.match(tty.stdout, /reading\s+\[[█░]+\] \d+\/\d+ MB/);
  const quiet = inTerminal(['estimate', '--data', file, '--target', 'y', '--batches', '200', '--quiet']);
  assert.is(quiet.status, 0, quiet.stdout);
  assert.not.match(quiet.stdout, / MB \|/);
});

test.run();
