// The sketched paired estimate (issue 19) through the block plan in every runner: each block a
// CurvatureSketch computed on a worker, shipped as toBytes(), merged in block order on the
// coordinator. The same bits for 1, 2 and 3 workers (shared memory or a copy each), for
// estimateHessian with the same blockBatches, for gradcov/bullmq (worker processes, and
// after a worker is killed in the middle of a block and its block retried); one block
// equals estimateHessian bit for bit; bad sketch options get estimateHessian's error.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { createEstimatorPool } from '../../src/node/workers.js';
import type { EstimatorPool } from '../../src/parallel/pool.js';
import { createCoordinator } from '../../src/bullmq/index.js';
import { beforeAll, fields } from '../helpers/helpers.js';
import { redisSuite, startRedis, startWorkerProcess, starts, type Proc } from './redis.js';

const test = suite('sketch blocks');
const pools: EstimatorPool[] = [];
let prob: ReturnType<typeof g.syntheticRegression>;
let w: Float64Array;
beforeAll(test, async () => {
  await g.init(undefined, { build: 'simd' });
  for (const workers of [1, 2, 3]) pools.push(await createEstimatorPool({ workers }));
  pools.push(await createEstimatorPool({ workers: 2, sharedMemory: false }));
  prob = g.syntheticRegression({ dim: 40, rows: 2000, seed: 2, noiseVariance: 1 });
  w = prob.wStar.map((v, i) => v + (i === 0 ? 0.3 : 0));
});
test.after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

const O = { batchSize: 24, seed: 3, method: 'paired' as const, sketch: { size: 8, k: 5 } };

test('one block: every pool equals estimateHessian bit for bit, every field', async () => {
  const o = { ...O, batches: 300 };
  const single = fields(g.estimateHessian(prob.data, w, o));
  for (const pool of pools)
    assert.equal(
      fields(await pool.estimateHessian(prob.data, w, { ...o, blockBatches: 512 })),
      single,
      `${pool.size} workers`,
    );
});

test('several blocks: the same bits for 1, 2 and 3 workers and estimateHessian with the same blockBatches; a share() handle too', async () => {
  const o = { ...O, batches: 1003, blockBatches: 100, stream: 2, firstBatch: 7 };
  const first = fields(await pools[0]!.estimateHessian(prob.data, w, o));
  for (const pool of pools.slice(1))
    assert.equal(fields(await pool.estimateHessian(prob.data, w, o)), first, `${pool.size} workers vs 1`);
  assert.equal(fields(g.estimateHessian(prob.data, w, o)), first, 'estimateHessian with blockBatches 100');
  const handle = await pools[2]!.share(prob.data);
  assert.equal(fields(await pools[2]!.estimateHessian(handle, w, o)), first, 'through share()');
  // (a test that can fail: the blocks decide the bits)
  const other = fields(await pools[1]!.estimateHessian(prob.data, w, { ...o, blockBatches: 128 }));
  assert.ok(other.eigenvalues !== first.eigenvalues, 'blocks of 100 and 128 differ');
});

test("precision 'f32' (the sketch buffer in f32): the same bits for 1, 2 and 3 workers and estimateHessian; the blocks are f32 sketches", async () => {
  const o = { ...O, sketch: { ...O.sketch, precision: 'f32' as const }, batches: 601, blockBatches: 100 };
  const first = fields(g.estimateHessian(prob.data, w, o));
  for (const pool of pools)
    assert.equal(fields(await pool.estimateHessian(prob.data, w, o)), first, `${pool.size} workers, f32`);
  const f64 = fields(g.estimateHessian(prob.data, w, { ...o, sketch: O.sketch }));
  assert.ok(first.eigenvalues !== f64.eigenvalues, 'f32 storage rounds: not the f64 bits');
  assert.is(first.diagonal, f64.diagonal, 'the diagonal is exact in both');
});

test("bad sketch options: the pool refuses with estimateHessian's error, before any worker computes", async () => {
  const o = { batchSize: 24, seed: 3, batches: 40 };
  for (const extra of [
    { sketch: { size: 4 } },
    { method: 'two-level', sketch: { size: 4 } },
    { method: 'paired', sketch: { size: 1 } },
    { method: 'paired', sketch: { size: 4, k: 5 } },
    { method: 'paired', sketch: { size: 4, rank: 1 } },
  ] as Record<string, unknown>[]) {
    let want = '',
      got = '';
    try {
      g.estimateHessian(prob.data, w, { ...o, ...extra } as never);
    } catch (e) {
      want = `${(e as Error).name}: ${(e as Error).message}`;
    }
    try {
      await pools[1]!.estimateHessian(prob.data, w, { ...o, ...extra } as never);
    } catch (e) {
      got = `${(e as Error).name}: ${(e as Error).message}`;
    }
    assert.ok(want !== '', `${JSON.stringify(extra)} is refused`);
    assert.is(
      got.replace(/ Known keys: [^)]*/, ''),
      want.replace(/ Known keys: [^)]*/, ''),
      JSON.stringify(extra),
    );
  }
});

test.run();

// gradcov/bullmq: block jobs on worker processes (dist/ build), bit-identical to the pool
const mq = suite('sketch blocks on gradcov/bullmq');
const FAST = { LOCK: 2000, STALL: 1000, MAX_STALLED: 5 };
redisSuite(mq, [
  [
    "sketched blocks on two worker processes, one killed in the middle of a block and its block retried: the pool's bits",
    async () => {
      const redis = await startRedis();
      const queue = `sk${process.pid}`;
      const procs: Proc[] = [];
      const pool = await createEstimatorPool({ workers: 2 });
      const coordinator = await createCoordinator({ connection: redis.url, queue, pollInterval: 100 });
      try {
        const sp = g.syntheticRegression({ dim: 40, rows: 2000, seed: 2, noiseVariance: 1 });
        const ww = sp.wStar.map((v, i) => v + (i === 0 ? 0.3 : 0));
        const o = { ...O, batches: 1003, blockBatches: 128 };
        const want = fields(await pool.estimateHessian(sp.data, ww, o));
        procs.push(
          await startWorkerProcess({ REDIS_URL: redis.url, QUEUE: queue, HANG_AT: 2, ...FAST }, 'A'),
        );
        const run = coordinator.estimateHessian(sp.data, ww, o);
        await procs[0]!.waitFor(/^HANG block 2$/);
        await procs[0]!.kill9();
        procs.push(await startWorkerProcess({ REDIS_URL: redis.url, QUEUE: queue, ...FAST }, 'B'));
        assert.equal(fields(await run), want, 'bullmq (after a retry) vs the pool');
        assert.is(starts(procs).get(2), 2, 'block 2: once on A (killed), once on B');
        // one block: estimateHessian's bits
        const one = { ...O, batches: 300 };
        assert.equal(
          fields(await coordinator.estimateHessian(sp.data, ww, one)),
          fields(g.estimateHessian(sp.data, ww, one)),
          'one block vs estimateHessian',
        );
      } finally {
        await coordinator.close();
        await pool.close();
        await Promise.all(procs.map((p) => p.stop()));
        await redis.close();
      }
    },
  ],
]);
mq.run();
