// Cloudflare workerd via miniflare: the package bundled with the `workerd` condition (as
// wrangler does), the .wasm given to workerd as a CompiledWasm module next to the worker,
// so init() needs no argument; workerd itself forbids compiling wasm from bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Miniflare } from 'miniflare';
import { bundle } from './bundle.js';
import { ROOT, assertSameAsReference } from './runtimes.js';

test('workerd (miniflare): the .wasm imported as CompiledWasm; the same summary', async () => {
  const code = await bundle({
    entry: 'worker',
    conditions: ['workerd', 'worker', 'browser'],
    format: 'esm',
    wasm: {
      name: 'compiled-wasm',
      setup(b) {
        b.onResolve({ filter: /\.wasm$/ }, () => ({ path: './gradcov.wasm', external: true }));
      },
    },
  });
  assert.match(code, /from "\.\/gradcov\.wasm"/, 'the bundle imports the .wasm as a module');
  const mf = new Miniflare({
    compatibilityDate: '2025-01-01',
    modules: [
      { type: 'ESModule', path: `${ROOT}worker.js`, contents: code },
      {
        type: 'CompiledWasm',
        path: `${ROOT}gradcov.wasm`,
        contents: readFileSync(`${ROOT}dist/gradcov.wasm`),
      },
    ],
  });
  try {
    const res = await mf.dispatchFetch('http://localhost/');
    const text = await res.text();
    assert.is(res.status, 200, text);
    assertSameAsReference(JSON.parse(text), 'workerd');
  } finally {
    await mf.dispose();
  }
});

test.run();
