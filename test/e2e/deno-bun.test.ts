// Deno and Bun (from their npm packages, pinned in devDependencies): each runs the
// conformance script as a file, resolving 'gradcov' by package self-reference to the
// `node` entry, which reads the .wasm with node:fs. Bun runs JavaScriptCore, so this is
// the test that the results do not depend on the engine.
import { test } from 'uvu';
import { BIN, CONFORMANCE, assertSameAsReference, runJson } from './runtimes.js';

test('deno: the same summary', () => {
  const env = { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
  assertSameAsReference(
    runJson(`${BIN}deno`, ['run', '--allow-read', '--no-prompt', `${CONFORMANCE}cli.js`], { env }),
    'deno',
  );
});

test('bun (JavaScriptCore): the same summary', () => {
  assertSameAsReference(runJson(`${BIN}bun`, [`${CONFORMANCE}cli.js`]), 'bun');
});

test.run();
