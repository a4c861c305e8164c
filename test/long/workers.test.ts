// Issue 7: independent instances in several worker_threads at once give the same results,
// bit for bit, as the same tasks run one after another on the main thread.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
// @ts-expect-error: a plain .mjs helper shared with the worker
import { runTask } from './fixtures/task.mjs';
import * as g from '../../dist/node.js';
import { createEstimatorPool } from '../../src/node/workers.js';
import { poolTransports } from '../../src/parallel/pool.js';

test('4 workers at once == one after another', async () => {
  await g.init(undefined, { build: 'simd' });
  const seeds = [1, 2, 3, 4];
  const url = new URL('./fixtures/worker.mjs', import.meta.url);
  const parallel = await Promise.all(
    seeds.map(
      (seed) =>
        new Promise((resolve, reject) => {
          const w = new Worker(url, { workerData: { seed } });
          w.once('message', (m) => {
            resolve(m);
            void w.terminate();
          });
          w.once('error', reject);
        }),
    ),
  );
  const sequential = seeds.map((seed) => runTask(g, seed));
  for (let i = 0; i < seeds.length; i++) {
    assert.equal(parallel[i], sequential[i], `seed ${seeds[i]}`);
    assert.ok((sequential[i] as { norm: number }).norm < 0.2);
  }
  assert.not.equal(sequential[0], sequential[1]);
});

// Issue 11: the pool's recovery and memory over many cycles. Killing a worker 20 times
// (alternating which one, idle and mid-call) always ends in a replaced worker giving the
// same bits; 100 share/forget cycles of a 4 MB data set leave every worker's reserved
// wasm memory where the first cycle left it (no leak of the workers' copies).
test("pool: 20 worker deaths, each replaced with the same bits; 100 share/forget cycles do not grow the workers' memory", async () => {
  const rows = 20000,
    dim = 24;
  const X = new g.Rng(1).normals(new Float64Array(rows * dim));
  const y = new g.Rng(2).normals(new Float64Array(rows));
  const data = { X, y, rows, dim };
  const w = new Float64Array(dim);
  const opts = { batchSize: 32, batches: 3000, seed: 4, blockBatches: 500 };
  const same = (a: Float64Array, b: Float64Array) => a.every((v, i) => Object.is(v, b[i]));
  const pool = await createEstimatorPool({ workers: 2 });
  try {
    const h = await pool.share(data);
    const ref = (await pool.estimateHessian(h, w, opts)).hessian;
    let midCall = 0;
    for (let i = 0; i < 20; i++) {
      const running = pool.estimateHessian(h, w, opts).then(
        () => 'finished',
        () => 'rejected',
      );
      if (i % 2) await new Promise((r) => setTimeout(r, 2));
      await poolTransports(pool)[i % 2]!.terminate();
      if ((await running) === 'rejected') midCall++;
      assert.ok(
        same((await pool.estimateHessian(h, w, opts)).hessian, ref),
        `death ${i}: same bits after the replacement`,
      );
    }
    assert.ok(midCall >= 1, `some deaths hit a running call (${midCall})`);
    await pool.forget(h);
    const d2 = { ...data, rows: 10000, X: X.subarray(0, 10000 * dim), y: y.subarray(0, 10000) };
    let first: number[] | undefined;
    for (let i = 0; i < 100; i++) {
      const hi = await pool.share(d2);
      await pool.estimateHessian(hi, w, { ...opts, batches: 200 });
      await pool.forget(hi);
      first ??= await pool.wasmMemoryBytes();
    }
    assert.equal(
      await pool.wasmMemoryBytes(),
      first,
      'reserved wasm memory per worker after 1 and 100 cycles',
    );
  } finally {
    await pool.close();
  }
});

test.run();
