// init() called twice, in fresh Node processes (the loaded module is per realm): the same
// request resolves, a different source or build is refused with a message saying what is
// loaded, a rejected source promise is never left unhandled, and 'auto' falls back to the
// plain SIMD build when the relaxed file is missing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function run(
  code: string,
  { cwd = ROOT, flags = [] as string[] } = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', code], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

test('a second init() with no arguments, the same build, or a build that resolves to the loaded one, resolves with the first module', () => {
  const r = run(`import * as g from 'gradcov';
    await g.init(); const m = g.wasmModule();
    await g.init(); await g.init(undefined, { build: 'auto' });
    await g.init(undefined, { build: 'simd' }); // what 'auto' loaded on Node 20: the same request
    console.log(JSON.stringify([g.wasmModule() === m, g.wasmBuild()]));`);
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), [true, 'simd']);
});

test('a second init() with a different build or source is refused, naming what is loaded', () => {
  const r = run(`import * as g from 'gradcov';
    import { readFileSync } from 'node:fs';
    await g.init(undefined, { build: 'simd' });
    const a = await g.init(undefined, { build: 'relaxed-simd' }).then(() => 'resolved', (e) => e.message);
    const b = await g.init(readFileSync('dist/gradcov.wasm')).then(() => 'resolved', (e) => e.message);
    console.log(JSON.stringify([a, b, g.wasmBuild()]));`);
  assert.is(r.status, 0, r.stderr);
  const [a, b, build] = JSON.parse(r.stdout) as string[];
  assert.match(
    a!,
    /init\(\) was already called \(the bundled \.wasm, build 'simd'\); a second call asking for build 'relaxed-simd' is refused/,
  );
  assert.match(b!, /a second call asking for source \d+ bytes is refused/);
  assert.is(build, 'simd');
});

test('a rejected source promise after a successful init() is reported, never unhandled', () => {
  const r = run(`import * as g from 'gradcov';
    await g.init();
    const msg = await g.init(Promise.reject(new Error('network down'))).then(() => 'resolved', (e) => e.message);
    await new Promise((res) => setTimeout(res, 50));
    console.log(msg);`);
  assert.is(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  assert.not.match(r.stderr, /Unhandled|unhandled/);
  assert.match(r.stdout, /already called .* a second call asking for source a promised Response is refused/);
});

test('a rejected source promise on the first init() rejects init() with the cause, and a later init() can succeed', () => {
  const r = run(`import * as g from 'gradcov';
    const msg = await g.init(Promise.reject(new Error('network down'))).then(() => 'resolved', (e) => e.message);
    await g.init();
    console.log(JSON.stringify([msg, g.isInitialized()]));`);
  assert.is(r.status, 0, r.stderr);
  const [msg, ok] = JSON.parse(r.stdout) as [string, boolean];
  assert.match(msg, /failed to load the WebAssembly module from a promised Response: .*network down/);
  assert.is(ok, true);
});

test("build 'auto' falls back to the plain SIMD build when the relaxed file is missing", () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradcov-init-'));
  try {
    // a copy of the package without dist/gradcov.relaxed.wasm, run where relaxed SIMD validates
    mkdirSync(join(dir, 'node_modules', '@assemblyscript'), { recursive: true });
    symlinkSync(
      join(ROOT, 'node_modules', '@assemblyscript', 'loader'),
      join(dir, 'node_modules', '@assemblyscript', 'loader'),
    );
    cpSync(join(ROOT, 'dist'), join(dir, 'dist'), {
      recursive: true,
      filter: (f) => !f.endsWith('gradcov.relaxed.wasm'),
    });
    const code = `import * as g from './dist/node.js';
      await g.init();
      console.log(JSON.stringify([g.relaxedSimdSupported(), g.wasmBuild()]));`;
    const flags = ['--experimental-wasm-relaxed-simd'];
    const r = run(code, { cwd: dir, flags });
    assert.is(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), [true, 'simd']);
    // an explicit 'relaxed-simd' request has no fallback and names the missing file
    const strict = run(
      `import * as g from './dist/node.js';
      console.log(await g.init(undefined, { build: 'relaxed-simd' }).then(() => 'resolved', (e) => e.message));`,
      { cwd: dir, flags },
    );
    assert.match(
      strict.stdout,
      /failed to load the WebAssembly module from .*gradcov\.relaxed\.wasm: .*ENOENT|no such file/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
