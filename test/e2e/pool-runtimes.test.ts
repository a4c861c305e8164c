// The worker pool in each runtime that implements node:worker_threads (Node, Deno, Bun):
// the shared-memory path (the workers' kernels on one shared WebAssembly memory holding X
// once) is taken by default, and it gives the same bits as the copy path, 1 and 2 workers,
// and the main thread (one block).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { BIN, runJson } from './runtimes.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/pool-runtime.mjs', import.meta.url));
type Out = {
  single: number[];
  runs: { workers: number; sharedMemory: boolean; sharedWasmMemory: boolean; hessian: number[] }[];
};

function check(out: Out, runtime: string): void {
  assert.equal(
    out.runs.map((r) => [r.workers, r.sharedMemory, r.sharedWasmMemory]),
    [
      [1, true, true],
      [2, true, true],
      [2, false, false],
    ],
    `${runtime}: shared memory by default`,
  );
  for (const r of out.runs)
    assert.equal(r.hessian, out.single, `${runtime}: ${r.workers} workers, sharedMemory ${r.sharedMemory}`);
}

test('node: shared memory by default, the same bits as copies and as the main thread', () => {
  check(runJson<Out>(process.execPath, [SCRIPT]), 'node');
});

test('deno: the same', () => {
  const env = { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
  check(
    runJson<Out>(`${BIN}deno`, ['run', '--allow-read', '--allow-env', '--allow-sys', '--no-prompt', SCRIPT], {
      env,
    }),
    'deno',
  );
});

test('deno and bun with their default (relaxed-SIMD) build: the relaxed shared build, the same bits as their main thread', () => {
  const env = { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', POOL_BUILD: 'auto' };
  for (const [name, cmd, args] of [
    ['deno', `${BIN}deno`, ['run', '--allow-read', '--allow-env', '--allow-sys', '--no-prompt', SCRIPT]],
    ['bun', `${BIN}bun`, [SCRIPT]],
  ] as const) {
    const out = runJson<Out & { build: string }>(cmd, [...args], { env });
    assert.is(out.build, 'relaxed-simd', `${name}: init() picked relaxed SIMD`);
    check(out, `${name}, relaxed SIMD`);
  }
});

test('deno, gradcov/web-workers (module Web Workers): the same', () => {
  const env = { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', POOL_ENTRY: 'web-workers' };
  check(
    runJson<Out>(`${BIN}deno`, ['run', '--allow-read', '--allow-env', '--allow-sys', '--no-prompt', SCRIPT], {
      env,
    }),
    'deno web workers',
  );
});

test('bun: the same', () => {
  check(runJson<Out>(`${BIN}bun`, [SCRIPT]), 'bun');
});

test.run();
