// Outputs that cannot be subverted (issue 20 class 6): hostile column names through every
// output format of `gradcov estimate` (CSV per RFC 4180 with formula cells neutralised, the
// terminal without escape sequences and with bounded width, JSON round-tripping the names,
// HTML escaped), and `--out` checked before the work, never through a symlink, all files or
// none, no partial file after Ctrl-C.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CLI, ROOT, gradcov, tempDir, regressionCsv, writeCsv } from './cli.ts';
import { csvField, terminalText, htmlText } from '../../cli/src/output.ts';
import { Proc } from './redis.ts';

const ESC = '\x1b';
const HUGE = 'h'.repeat(200_000);
/** Hostile names: [label, name]. Every output format is checked for each. */
const NAMES: [string, string][] = [
  ['comma', 'a,b'],
  ['quote', 'q"uote'],
  ['formula =', '=HYPERLINK("http://evil.example","click")'],
  ['formula +', '+1+1'],
  ['formula -', '-2+3'],
  ['formula @', '@SUM(A1:A9)'],
  ['ANSI colour', `${ESC}[31mred${ESC}[0m`],
  ['OSC title', `${ESC}]0;owned${String.fromCharCode(7)}t`],
  ['bidi override', '\u202eevil'],
  ['unicode', 'ünïcödé µ'],
  ['huge', HUGE],
];
const neutralised = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

test('csvField, terminalText, htmlText: a table of hostile names', () => {
  const rows: [string, string, string][] = [
    ['plain', 'plain', 'plain'],
    ['a,b', '"a,b"', 'a,b'],
    ['q"uote', '"q""uote"', 'q"uote'],
    ['=1+1', "'=1+1", '=1+1'],
    ['+1', "'+1", '+1'],
    ['-1', "'-1", '-1'],
    ['@x', "'@x", '@x'],
    ['\tx', "'\tx", ' x'],
    ['=a,"b"', '"\'=a,""b"""', '=a,"b"'],
    ['line\nbreak', '"line\nbreak"', 'line break'],
    [`${ESC}[2J${ESC}[31mred`, `${ESC}[2J${ESC}[31mred`, 'red'],
    [
      `a${String.fromCharCode(0)}b${String.fromCharCode(0x7f)}c`,
      `a${String.fromCharCode(0)}b${String.fromCharCode(0x7f)}c`,
      'abc',
    ],
    [`a${String.fromCharCode(0x9b)}2Jb`, `a${String.fromCharCode(0x9b)}2Jb`, 'ab'], // C1 CSI: the whole sequence goes
  ];
  for (const [name, csv, term] of rows) {
    assert.is(csvField(name), csv, `csv ${JSON.stringify(name)}`);
    assert.is(terminalText(name), term, `terminal ${JSON.stringify(name)}`);
    // RFC 4180 round trip: a parser reads back exactly the (neutralised) name
    assert.equal(
      parse(`${csvField(name)},x\n`, { relax_column_count: false })[0],
      [neutralised(name), 'x'],
      `round trip ${JSON.stringify(name)}`,
    );
  }
  const cut = terminalText(HUGE, 80);
  assert.ok(cut.length < 120 && cut.includes('(200000 characters)'), cut);
  assert.is(htmlText(`<a href='x' onclick="y">&`), '&lt;a href=&#39;x&#39; onclick=&quot;y&quot;&gt;&amp;');
});

test('gradcov estimate with hostile column names: every output format escapes them', () => {
  const dir = tempDir();
  const base = regressionCsv().map((l) => l.split(','));
  for (const [label, name] of NAMES) {
    // the name as a quoted CSV header cell (so commas and quotes are legal in the input)
    const header = [`"${name.replace(/"/g, '""')}"`, 'b', 'c', 'y'].join(',');
    const file = join(dir, `in-${label.replace(/\W/g, '_')}.csv`);
    writeFileSync(file, [header, ...base.slice(1).map((r) => r.join(','))].join('\n') + '\n');
    const out = join(dir, `out-${label.replace(/\W/g, '_')}`);
    const r = gradcov('estimate', '--data', file, '--target', 'y', '--batches', '200', '--out', out);
    assert.is(r.code, 0, `${label}: ${r.stderr.slice(0, 500)}`);
    // terminal: no escape or control characters from the name, bounded size
    assert.ok(
      !r.stdout.includes(ESC) && !/[\u202e\x9b]/.test(r.stdout),
      `${label}: the terminal output carries no escapes`,
    );
    assert.ok(r.stdout.length < 8000, `${label}: terminal output of ${r.stdout.length} characters`);
    // CSV: RFC 4180, names neutralised, one column per feature
    for (const csvName of ['hessian.csv', 'second-moment.csv']) {
      const rows = parse(readFileSync(join(out, csvName), 'utf8')) as string[][];
      assert.equal(rows[0], ['', neutralised(name), 'b', 'c'], `${label}: ${csvName} header`);
      assert.is(rows.length, 4, `${label}: ${csvName} rows`);
      for (const row of rows) assert.is(row.length, 4, `${label}: ${csvName} columns`);
      assert.is(rows[1]![0], neutralised(name), `${label}: ${csvName} row name`);
      for (const row of rows.slice(1))
        for (const cell of row.slice(1))
          assert.ok(Number.isFinite(Number(cell)), `${label}: ${csvName} cell ${cell}`);
    }
    // JSON: the name exactly as given
    const json = JSON.parse(readFileSync(join(out, 'estimate.json'), 'utf8'));
    assert.is(json.features[0], name, `${label}: estimate.json keeps the name`);
  }
  // an error message quoting a hostile name: escapes removed there too
  const file = writeCsv(dir, 'bad.csv', [`"${ESC}[31m=evil",y`, ...Array.from({ length: 20 }, () => '1,2')]);
  const bad = gradcov('estimate', '--data', file, '--target', 'y');
  assert.is(bad.code, 1);
  assert.ok(!bad.stderr.includes(ESC) && /=evil/.test(bad.stderr), bad.stderr);
});

test('--out: checked before the work, never through a symlink, all files or none', () => {
  const dir = tempDir();
  const file = writeCsv(dir, 'reg.csv', regressionCsv());
  const args = ['estimate', '--data', file, '--target', 'y', '--batches', '200'];
  const outside = join(dir, 'outside.txt');
  writeFileSync(outside, 'precious\n');
  const cases: [string, (out: string) => void, RegExp, string[]][] = [
    [
      'hessian.csv is a symlink',
      (out) => {
        mkdirSync(out);
        symlinkSync(outside, join(out, 'hessian.csv'));
      },
      /hessian\.csv is a symbolic link; gradcov does not write through links/,
      ['hessian.csv'],
    ],
    [
      'estimate.json is a dangling symlink',
      (out) => {
        mkdirSync(out);
        symlinkSync(join(dir, 'nowhere'), join(out, 'estimate.json'));
      },
      /estimate\.json is a symbolic link/,
      ['estimate.json'],
    ],
    [
      'estimate.json is a directory',
      (out) => {
        mkdirSync(join(out, 'estimate.json'), { recursive: true });
      },
      /estimate\.json exists and is not a regular file/,
      ['estimate.json'],
    ],
    [
      '--out is a file',
      (out) => {
        writeFileSync(out, 'x');
      },
      /--out .*(not a directory|cannot create the directory)/,
      [],
    ],
  ];
  for (const [i, [label, arrange, pattern, present]] of cases.entries()) {
    const out = join(dir, `out${i}`);
    arrange(out);
    // with a bad --batch-size too: the --out check comes first (before reading or estimating)
    const r = gradcov(...args, '--out', out);
    assert.is(r.code, 1, label);
    assert.match(r.stderr, pattern, `${label}: ${r.stderr}`);
    assert.is(readFileSync(outside, 'utf8'), 'precious\n', `${label}: nothing written through the link`);
    if (lstatSync(out).isDirectory()) {
      assert.equal(
        readdirSync(out).sort(),
        [...present].sort(),
        `${label}: no file written (and no temporary left)`,
      );
    }
  }
  // existing regular files are replaced whole; no temporary is left
  const out = join(dir, 'good');
  mkdirSync(out);
  writeFileSync(join(out, 'hessian.csv'), 'old run\n');
  const ok = gradcov(...args, '--out', out);
  assert.is(ok.code, 0, ok.stderr);
  assert.equal(readdirSync(out).sort(), [
    'estimate-matrices.svg',
    'estimate-spectrum.svg',
    'estimate.json',
    'hessian.csv',
    'report.html',
    'second-moment.csv',
  ]);
  assert.ok(!readFileSync(join(out, 'hessian.csv'), 'utf8').includes('old run'));
  // a read-only directory: refused before the work, naming it
  const ro = join(dir, 'ro');
  mkdirSync(ro, { mode: 0o500 });
  if (process.getuid?.() !== 0) {
    // root writes anywhere
    const r = gradcov(...args, '--out', ro);
    assert.is(r.code, 1);
    assert.match(r.stderr, /cannot write files there/);
  }
});

test('Ctrl-C during an estimate: exit 130, no partial or temporary file in --out', async () => {
  const dir = tempDir();
  const file = writeCsv(dir, 'reg.csv', regressionCsv());
  const out = join(dir, 'out');
  const p = new Proc(
    spawn(
      process.execPath,
      [
        CLI,
        'estimate',
        '--data',
        file,
        '--target',
        'y',
        '--batches',
        '3000000',
        '--batch-size',
        '8',
        '--out',
        out,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    ),
    'gradcov estimate',
  );
  // the out directory is made by the check before the work: then interrupt
  const t = Date.now();
  while (!existsSync(out) && Date.now() - t < 60_000) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300));
  p.child.kill('SIGINT');
  const code = await p.exited;
  assert.is(code, 130, `exit code ${code}: ${p.err}`);
  assert.match(p.err, /gradcov: interrupted/);
  assert.equal(readdirSync(out), [], 'nothing written');
});

// a real Ctrl-C needs a terminal: util-linux `script` gives the bin a pseudo-terminal, and ^C
// written to it is the SIGINT of a user's keyboard (the progress bar shows only on a TTY)
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const ptyTest = hasScript || process.env.CI === 'true' ? test : test.skip;
if (!hasScript)
  console.log('\n  SKIPPED the Ctrl-C terminal test: no `script` (util-linux) for a pseudo-terminal\n');
ptyTest(
  'Ctrl-C on a terminal: the progress bar stops, the cursor is shown again, exit 130, nothing in --out',
  async () => {
    const dir = tempDir();
    const file = writeCsv(dir, 'reg.csv', regressionCsv());
    const out = join(dir, 'out');
    const cmd = `GRADCOV_PROGRESS_DELAY_MS=0 ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} estimate --data ${JSON.stringify(file)} --target y --batches 3000000 --batch-size 8 --out ${JSON.stringify(out)}`;
    const p = spawn('script', ['-qefc', cmd, '/dev/null'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let sent = false;
    p.stdout!.on('data', (b: Buffer) => {
      screen += b.toString();
      if (!sent && /\d+\/\d+ blocks/.test(screen)) {
        sent = true;
        setTimeout(() => p.stdin!.write('\x03'), 200);
      }
    });
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => {
        p.kill('SIGKILL');
        resolve(null);
      }, 120_000);
      p.on('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    assert.ok(sent, `the bar never showed: ${JSON.stringify(screen.slice(-300))}`);
    assert.is(code, 130, `exit ${code}: ${JSON.stringify(screen.slice(-300))}`);
    const after = screen.slice(screen.lastIndexOf('^C'));
    assert.ok(after.includes('\x1b[?25h'), `the cursor is shown again: ${JSON.stringify(after)}`);
    assert.match(after, /gradcov: interrupted/);
    assert.equal(readdirSync(out), [], 'nothing written');
  },
);

test.run();
