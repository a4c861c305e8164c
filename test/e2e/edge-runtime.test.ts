// Vercel's edge runtime emulator (`edge-runtime`) in strict mode: code generation from
// strings and from wasm bytes disabled, as on Vercel. The package is bundled with the
// `edge-light` condition; the entry's `import x from './gradcov.wasm?module'` is bound to a
// WebAssembly.Module compiled outside the sandbox and injected as a global, which is how
// Next.js's edge sandbox provides `?module` imports.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { EdgeRuntime } from 'edge-runtime';
import { bundle } from './bundle.js';
import { ROOT, assertSameAsReference } from './runtimes.js';

const bytes = readFileSync(`${ROOT}dist/gradcov.wasm`);

async function strictRuntime(): Promise<EdgeRuntime> {
  const code = await bundle({
    entry: 'globals',
    conditions: ['edge-light', 'worker', 'browser'],
    format: 'iife',
    wasm: {
      name: 'vercel-wasm-module',
      setup(b) {
        b.onResolve({ filter: /\.wasm\?module$/ }, (args) => ({ path: args.path, namespace: 'wasm-module' }));
        b.onLoad({ filter: /.*/, namespace: 'wasm-module' }, () => ({
          contents: 'export default globalThis.__gradcovWasmModule;',
        }));
      },
    },
  });
  const runtime = new EdgeRuntime({
    codeGeneration: { strings: false, wasm: false },
    extend: (context) =>
      Object.assign(context, {
        __gradcovWasmModule: new WebAssembly.Module(bytes),
        __wasmBytes: new Uint8Array(bytes),
      }),
  });
  runtime.evaluate(code);
  return runtime;
}

test('edge-runtime strict: eval and compiling wasm bytes are refused; init(bytes) says so and what to do', async () => {
  const runtime = await strictRuntime();
  const evalResult = runtime.evaluate(
    `(() => { try { return new Function('return 1')(); } catch (e) { return String(e); } })()`,
  );
  assert.match(String(evalResult), /Code generation from strings disallowed/);
  const compileResult: string = await runtime.evaluate(
    `WebAssembly.compile(__wasmBytes).then(() => 'compiled', (e) => String(e))`,
  );
  assert.match(compileResult, /disallowed/);
  const initResult: string = await runtime.evaluate(
    `gradcov.init(__wasmBytes).then(() => 'loaded', (e) => e.message)`,
  );
  assert.match(
    initResult,
    /failed to load the WebAssembly module from \d+ bytes: .*pass a precompiled WebAssembly\.Module to init\(\)/,
  );
});

test('edge-runtime strict: init() takes the injected module; the same summary', async () => {
  const runtime = await strictRuntime();
  const json: string = await runtime.evaluate('conformance().then(JSON.stringify)');
  assertSameAsReference(JSON.parse(json), 'edge-runtime (strict)');
});

test.run();
