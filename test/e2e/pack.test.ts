// As a user installs it: `npm pack`, the tarball's contents, an install of the tarball into
// an empty project (offline: the package has no dependencies), the conformance script run
// from there in Node, and a TypeScript file type-checked (strict) against the published
// types for a Node setup and for a browser/bundler setup.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, CONFORMANCE, assertSameAsReference, runJson } from './runtimes.js';

const dir = mkdtempSync(join(tmpdir(), 'gradcov-pack-'));
const app = join(dir, 'app');
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', timeout: 120_000 });
let files: string[] = [];

test.before(() => {
  // --ignore-scripts: `npm test` has just built dist/ (pretest); prepare would rebuild it
  const [info] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT));
  files = info.files.map((f: { path: string }) => f.path).sort();
  console.log(`  tarball ${info.filename}: ${(info.size / 1024).toFixed(1)} KiB packed, ${(info.unpackedSize / 1024).toFixed(1)} KiB unpacked, ${files.length} files; dist/gradcov.wasm ${statSync(join(ROOT, 'dist/gradcov.wasm')).size} bytes`);
  writeFileSync(join(dir, 'tarball'), info.filename);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('the tarball holds what a user needs and nothing else', () => {
  for (const f of ['LICENSE', 'README.md', 'package.json', 'data/diabetes/README.md', 'dist/gradcov.wasm', 'dist/wasm-base64.js',
    ...['node', 'browser', 'workerd', 'edge', 'inline', 'index'].flatMap((e) => [`dist/${e}.js`, `dist/${e}.d.ts`])]) {
    assert.ok(files.includes(f), `missing ${f}`);
  }
  const unwanted = files.filter((f) => /\.(wat|map|ts)$/.test(f) && !f.endsWith('.d.ts') || /debug|reference|^src\/|^test\/|^assembly\/|^scripts\//.test(f));
  assert.equal(unwanted, []);
});

test('installed from the tarball into an empty project, the conformance script gives the same summary', () => {
  mkdirApp();
  npm(['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, readTarball())], app);
  copyFileSync(join(CONFORMANCE, 'conformance.js'), join(app, 'conformance.js'));
  copyFileSync(join(CONFORMANCE, 'cli.js'), join(app, 'cli.js'));
  assertSameAsReference(runJson(process.execPath, ['cli.js'], { cwd: app }), 'the installed tarball');
});

test('a strict TypeScript file type-checks against the published types (Node and bundler settings)', () => {
  copyFileSync(join(ROOT, 'test/e2e/pack/app.ts'), join(app, 'app.ts'));
  const common = { strict: true, noEmit: true, target: 'ES2022', skipLibCheck: false, noUncheckedIndexedAccess: true };
  writeFileSync(join(app, 'tsconfig.node.json'), JSON.stringify({ compilerOptions: {
    ...common, module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022'], types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')],
  }, files: ['app.ts'] }));
  writeFileSync(join(app, 'tsconfig.web.json'), JSON.stringify({ compilerOptions: {
    ...common, module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM'], types: [],
  }, files: ['app.ts'] }));
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  for (const config of ['tsconfig.node.json', 'tsconfig.web.json']) {
    try {
      execFileSync(process.execPath, [tsc, '-p', config], { cwd: app, encoding: 'utf8' });
    } catch (err) {
      assert.unreachable(`tsc -p ${config}: ${(err as { stdout?: string }).stdout}`);
    }
  }
});

function mkdirApp(): void {
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'gradcov-user', private: true, type: 'module' }));
}

function readTarball(): string {
  return execFileSync('cat', [join(dir, 'tarball')], { encoding: 'utf8' });
}

test.run();
