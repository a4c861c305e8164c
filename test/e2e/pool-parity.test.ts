// Pool == single thread (issue 11): for the same input, pool.estimateHessian gives the same
// result (bit for bit in one block; within merge rounding across blocks) or the same error
// (class and message) as estimateHessian, over a table of inputs: malformed and huge
// values, unknown and function-valued options, sizes that overflow 32-bit arithmetic.
// Every test runs on both data paths: the workers' shared WebAssembly memory (X held once,
// read in place) and a memory per worker (each loads its own copy).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { createEstimatorPool } from '../../src/node/workers.js';
import type { EstimatorPool } from '../../src/parallel/pool.js';
import { beforeAll } from '../helpers/helpers.js';

let shared: EstimatorPool;
let copies: EstimatorPool;
beforeAll(test, async () => {
  await g.init(undefined, { build: 'simd' });
  [shared, copies] = await Promise.all([
    createEstimatorPool({ workers: 2 }),
    createEstimatorPool({ workers: 2, sharedMemory: false }),
  ]);
  assert.ok(shared.sharedWasmMemory && !copies.sharedWasmMemory, 'one pool of each path');
  D = problem(300, 3, 1);
});
test.after(async () => {
  await Promise.all([shared?.close(), copies?.close()]);
});
const pools = () =>
  [
    ['shared wasm memory', shared],
    ['a memory per worker', copies],
  ] as const;

function problem(rows: number, dim: number, seed: number, scale = 1) {
  const X = new g.Rng(seed).normals(new Float64Array(rows * dim)).map((v) => v * scale);
  const y = new g.Rng(seed + 2).normals(new Float64Array(rows)).map((v) => v * scale);
  return { X, y, rows, dim };
}

type Outcome =
  { ok: true; hessian: Float64Array; mean: Float64Array } | { ok: false; kind: string; message: string };
const settle = async (fn: () => unknown): Promise<Outcome> => {
  try {
    const r = (await fn()) as { hessian: Float64Array; mean: Float64Array };
    return { ok: true, hessian: r.hessian, mean: r.mean };
  } catch (err) {
    // two differences are by design: the unknown-key message lists the known keys (the pool
    // also knows `blockBatches`), and the rule for `data` names the alternative each API
    // takes (a RegressionDataset single-threaded, a share() handle in the pool)
    const message = (err as Error).message
      .replace(/ Known keys: [^)]*/, '')
      .replace(/ or a (RegressionDataset|handle from share\(\))/, '');
    return { ok: false, kind: (err as Error).constructor.name, message };
  }
};
const same = (a: Float64Array, b: Float64Array) =>
  a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

let D: ReturnType<typeof problem>;
const W = new Float64Array(3).fill(0.1);
const O = { batchSize: 16, batches: 64, seed: 1 };
// [what, data, w, options]
const cases = (): [string, unknown, unknown, unknown][] => [
  ['valid', D, W, O],
  [
    'valid, no replacement, stream 7, firstBatch 5',
    D,
    W,
    { ...O, replacement: false, stream: 7, firstBatch: 5 },
  ],
  ['typo methd', D, W, { ...O, methd: 'paired' }],
  ['method calibrated', D, W, { ...O, method: 'calibrated' }],
  ['method paired', D, W, { ...O, method: 'paired' }],
  ['method two-level', D, W, { ...O, method: 'two-level', noiseLevels: [16, 1] }],
  ['method debiased', D, W, { ...O, method: 'debiased', baseNoiseVariance: 1 }],
  ['method bogus', D, W, { ...O, method: 'bogus' }],
  ['noiseLevels without two-level', D, W, { ...O, noiseLevels: [2, 1] }],
  ['typo noiseVarianse', D, W, { ...O, noiseVarianse: 4 }],
  ['function-valued unknown option', D, W, { ...O, onProgress: () => 1 }],
  ['function-valued seed', D, W, { ...O, seed: () => 1 }],
  ['options null', D, W, null],
  ['options an array', D, W, [1]],
  ['batchSize 0', D, W, { ...O, batchSize: 0 }],
  ['batchSize 89478486', D, W, { ...O, batchSize: 89478486 }],
  ['batchSize 2^28, 16 batches', D, W, { ...O, batchSize: 2 ** 28, batches: 16 }],
  ['batchSize 2^31 - 1', D, W, { ...O, batchSize: 2 ** 31 - 1 }],
  ['batchSize 2^32', D, W, { ...O, batchSize: 2 ** 32 }],
  ['batchSize > rows without replacement', D, W, { ...O, batchSize: 301, replacement: false }],
  ['batches 1', D, W, { ...O, batches: 1 }],
  ['batches 2^32', D, W, { ...O, batches: 2 ** 32 }],
  ['firstBatch + batches > 2^32', D, W, { ...O, firstBatch: 2 ** 32 - 10 }],
  ['stream 2^32', D, W, { ...O, stream: 2 ** 32 }],
  ['seed -1', D, W, { ...O, seed: -1 }],
  ['seed 2^64 as bigint', D, W, { ...O, seed: 2n ** 64n }],
  ['replacement "yes"', D, W, { ...O, replacement: 'yes' }],
  ['noiseVariance -1', D, W, { ...O, noiseVariance: -1 }],
  ['noiseVariance Infinity', D, W, { ...O, noiseVariance: Infinity }],
  ['noiseVariance 1e308', D, W, { ...O, noiseVariance: 1e308 }],
  ['baseNoiseVariance > batchSize', D, W, { ...O, baseNoiseVariance: 100 }],
  ['w too short', D, new Float64Array(2), O],
  ['w NaN', D, Float64Array.of(0, Number.NaN, 0), O],
  ['w 1e200', D, new Float64Array(3).fill(1e200), O],
  ['w an Array', D, [0, 0, 0], O],
  ['data at 1e80', problem(300, 3, 1, 1e80), W, O],
  ['data at 1e154', problem(300, 3, 1, 1e154), W, O],
  ['data at 1e-200', problem(300, 3, 1, 1e-200), W, O],
  ['NaN in X', { ...D, X: D.X.map((v, i) => (i === 7 ? Number.NaN : v)) }, W, O],
  ['X too short', { ...D, X: D.X.subarray(1) }, W, O],
  ['rows 1e8 with small arrays', { ...D, rows: 1e8 }, W, O],
  ['dim 2.5', { ...D, dim: 2.5 }, W, O],
  ['data a string', 'data', W, O],
  ['data a RegressionDataset-like forged handle', { id: 1 }, W, O],
];

test('pool.estimateHessian == estimateHessian: the same bits or the same error, for every row of the table (one block)', async () => {
  for (const [path, pool] of pools()) {
    const tally = { ok: 0, error: 0 };
    for (const [row, data, w, options] of cases()) {
      const what = `${path}: ${row}`;
      const single = await settle(() => g.estimateHessian(data as never, w as never, options as never));
      const opts =
        options !== null && typeof options === 'object' && !Array.isArray(options)
          ? { ...options, blockBatches: 1e6 }
          : options;
      const viaPool = await settle(() => pool.estimateHessian(data as never, w as never, opts as never));
      if (what.includes('forged handle')) {
        // the single-thread API has no handles: it reads the object as data; the pool names its own rule
        assert.ok(!single.ok && !viaPool.ok, what);
        continue;
      }
      tally[single.ok ? 'ok' : 'error']++;
      if (single.ok && viaPool.ok) {
        assert.ok(
          same(single.hessian, viaPool.hessian) && same(single.mean, viaPool.mean),
          `${what}: results differ`,
        );
      } else {
        assert.equal(viaPool, single, what);
      }
    }
    // not vacuous: the table has both outcomes (valid rows, and huge data that is representable)
    assert.ok(tally.ok >= 4 && tally.error >= 25, JSON.stringify(tally));
  }
});

test('the same through a share() handle, for every row whose data is valid', async () => {
  for (const [path, pool] of pools()) {
    const h = await pool.share(D);
    for (const [row, data, w, options] of cases()) {
      if (data !== D) continue;
      const what = `${path}: ${row}`;
      const single = await settle(() => g.estimateHessian(D, w as never, options as never));
      const viaHandle = await settle(() => pool.estimateHessian(h, w as never, options as never));
      if (single.ok && viaHandle.ok)
        assert.ok(same(single.hessian, viaHandle.hessian), `${what}: results differ`);
      else assert.equal(viaHandle, single, what);
    }
    await pool.forget(h);
  }
});

test('across several blocks: both succeed (within merge rounding) or fail with the same error, huge data included', async () => {
  for (const [path, pool] of pools())
    for (const scale of [1, 1e80, 1e150, 1e154, 1e160, 1e-150]) {
      const d = problem(500, 4, 2, scale);
      const w = new Float64Array(4);
      const opts = { batchSize: 8, batches: 900, seed: 5 };
      const single = await settle(() => g.estimateHessian(d, w, opts));
      const viaPool = await settle(() => pool.estimateHessian(d, w, { ...opts, blockBatches: 100 }));
      if (single.ok && viaPool.ok) {
        const s = Math.max(...single.hessian.map(Math.abs));
        const diff = Math.max(...single.hessian.map((v, i) => Math.abs(v - viaPool.hessian[i]!)));
        assert.ok(diff <= 64 * Number.EPSILON * s, `${path}, scale ${scale}: ${diff} vs ${s}`);
        assert.ok(
          single.hessian.every(Number.isFinite),
          `${path}, scale ${scale}: a result is finite or an error`,
        );
      } else {
        assert.equal(viaPool, single, `${path}, scale ${scale}`);
      }
    }
});

test.run();
