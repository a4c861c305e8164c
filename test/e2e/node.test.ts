// Node 20: the conformance script on the main thread (the reference for every other
// runtime), in a worker_threads worker given the compiled module by postMessage, and
// through the `gradcov/inline` entry bundled by esbuild.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONFORMANCE,
  assertPlausible,
  assertSameAsReference,
  referenceSummary,
  runJson,
} from './runtimes.js';

test('node main thread: init() reads the bundled .wasm; the summary is plausible', () => {
  assertPlausible(referenceSummary());
});

test('node worker_threads: the compiled Module crosses postMessage and gives the same summary', () => {
  const out = runJson<{ received: string; summary: unknown }>(process.execPath, [
    `${CONFORMANCE}node-threads.js`,
  ]);
  assert.is(out.received, '[object WebAssembly.Module]');
  assertSameAsReference(out.summary, 'worker_threads');
});

test('gradcov/inline bundled by esbuild (no .wasm file next to the bundle) gives the same summary', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradcov-inline-'));
  try {
    const outfile = join(dir, 'bundle.mjs');
    await build({
      entryPoints: [`${CONFORMANCE}cli.js`],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      outfile,
      alias: { gradcov: 'gradcov/inline' },
      logLevel: 'error',
    });
    assertSameAsReference(runJson(process.execPath, [outfile]), 'gradcov/inline');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
