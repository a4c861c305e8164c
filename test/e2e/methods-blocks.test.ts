// Every estimator method through the block plan (src/estimators/plan.ts), in every runner that
// has one: estimateHessian (one block per level) and the worker pool (blocks of
// blockBatches; gradcov/bullmq has the same checks in bullmq.test.ts). For each method:
// - every level within one block: the pool's result is bit for bit estimateHessian's, every
//   field (hessian, mean, noise levels, evaluations, misfit), with 1, 2 and 3 workers (and 2
//   workers each with its own copy of the data);
// - several blocks per level: bit-identical across 1, 2 and 3 workers and to estimateHessian
//   with the same blockBatches, and within merge rounding of estimateHessian without;
// - the same error (class and message) as estimateHessian for each method's own bad inputs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { createEstimatorPool } from '../../src/node/workers.js';
import type { EstimatorPool } from '../../src/parallel/pool.js';
import { beforeAll, hex, fields } from '../helpers/helpers.js';

const pools: EstimatorPool[] = [];
let prob: ReturnType<typeof g.syntheticRegression>;
let w: Float64Array;
beforeAll(test, async () => {
  await g.init(undefined, { build: 'simd' });
  for (const workers of [1, 2, 3]) pools.push(await createEstimatorPool({ workers }));
  pools.push(await createEstimatorPool({ workers: 2, sharedMemory: false })); // the path where each worker loads its own copy
  prob = g.syntheticRegression({ dim: 5, rows: 1500, seed: 2, noiseVariance: 1 });
  w = prob.wStar.map((v, i) => v + (i === 0 ? 0.3 : 0)); // a small misfit: 'debiased' has a fixed point
});
test.after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

const base = { batchSize: 24, seed: 3, baseNoiseVariance: 1 };
const METHODS: [string, Record<string, unknown>][] = [
  ['calibrated', {}],
  ['calibrated, stream 5, firstBatch 7, no replacement', { stream: 5, firstBatch: 7, replacement: false }],
  ['paired', { method: 'paired', noiseVariance: 8 }],
  ['paired, default noise, stream 2, firstBatch 11', { method: 'paired', stream: 2, firstBatch: 11 }],
  ['two-level', { method: 'two-level', noiseLevels: [24, 2] }],
  ['two-level, default levels, no replacement', { method: 'two-level', replacement: false }],
  ['debiased', { method: 'debiased' }],
  ['debiased, firstBatch 3', { method: 'debiased', firstBatch: 3 }],
];

test('every method, every level in one block: the pool equals estimateHessian bit for bit, every field, with 1, 2 and 3 workers', async () => {
  // 300 batches: one block of 512; two-level's levels of 150. 1024 with blocks of 512: each two-level level is exactly one block.
  for (const [name, extra] of METHODS) {
    for (const [batches, blockBatches] of [
      [300, 512],
      [1024, extra.method === 'two-level' ? 512 : 1024],
    ] as const) {
      const o = { ...base, ...extra, batches } as g.EstimateOptions;
      const single = fields(g.estimateHessian(prob.data, w, o));
      for (const pool of pools) {
        const viaPool = fields(await pool.estimateHessian(prob.data, w, { ...o, blockBatches }));
        assert.equal(viaPool, single, `${name}, ${batches} batches, ${pool.size} workers`);
      }
    }
  }
});

test('every method, several blocks per level: bit-identical for 1, 2 and 3 workers; within merge rounding of estimateHessian', async () => {
  for (const [name, extra] of METHODS) {
    const o = { ...base, ...extra, batches: 1003 } as g.EstimateOptions;
    const single = g.estimateHessian(prob.data, w, o);
    const first = await pools[0]!.estimateHessian(prob.data, w, { ...o, blockBatches: 128 });
    for (const pool of pools.slice(1)) {
      assert.equal(
        fields(await pool.estimateHessian(prob.data, w, { ...o, blockBatches: 128 })),
        fields(first),
        `${name}: ${pool.size} workers vs 1`,
      );
    }
    const scale = Math.max(...single.hessian.map(Math.abs));
    const diff = Math.max(...single.hessian.map((v, i) => Math.abs(v - first.hessian[i]!)));
    assert.ok(diff <= 1e-10 * scale, `${name}: ${diff} vs scale ${scale}`);
    // estimateHessian with the same blockBatches: the pool's bits, in one thread
    assert.equal(
      fields(g.estimateHessian(prob.data, w, { ...o, blockBatches: 128 })),
      fields(first),
      `${name}: estimateHessian with blockBatches 128 vs the pool`,
    );
    assert.equal(first.noiseLevels, single.noiseLevels, `${name}: noise levels`);
    assert.is(first.gradientEvaluations, single.gradientEvaluations, `${name}: evaluations`);
    assert.is(first.method, single.method);
  }
});

test('a different blockBatches is a different plan: the blocks, not the workers, decide the bits', async () => {
  // (a test that can fail: were the blocks ignored, these would be equal)
  const o = { ...base, method: 'paired' as const, batches: 1003 };
  const a = await pools[1]!.estimateHessian(prob.data, w, { ...o, blockBatches: 128 });
  const b = await pools[1]!.estimateHessian(prob.data, w, { ...o, blockBatches: 100 });
  assert.ok(hex(a.hessian) !== hex(b.hessian), 'blocks of 128 and of 100 merge differently');
});

test("each method's bad inputs: the pool refuses with estimateHessian's error, before any worker computes", async () => {
  const o = { ...base, batches: 40 };
  const cases: [string, Record<string, unknown>][] = [
    ['unknown method', { method: 'bogus' }],
    ['noiseLevels without two-level', { noiseLevels: [4, 1] }],
    ['noiseLevels with paired', { method: 'paired', noiseLevels: [4, 1] }],
    ['two-level with noiseVariance', { method: 'two-level', noiseVariance: 3 }],
    ['two-level with 3 batches', { method: 'two-level', batches: 3 }],
    ['two-level, levels in the wrong order', { method: 'two-level', noiseLevels: [1, 4] }],
    ['two-level, one level', { method: 'two-level', noiseLevels: [4] }],
    ['two-level, NaN level', { method: 'two-level', noiseLevels: [Number.NaN, 1] }],
    ['paired with noiseVariance 0', { method: 'paired', noiseVariance: 0 }],
    ['paired with negative noiseVariance', { method: 'paired', noiseVariance: -1 }],
    ['debiased, negative baseNoiseVariance', { method: 'debiased', baseNoiseVariance: -1 }],
    [
      'debiased with no noise: no fixed point',
      { method: 'debiased', noiseVariance: 0, baseNoiseVariance: 0 },
    ],
    ['paired, batchSize 0', { method: 'paired', batchSize: 0 }],
    ['blockBatches 0', { method: 'paired', blockBatches: 0 }],
    ['blockBatches 2.5', { method: 'two-level', blockBatches: 2.5 }],
    ['blockBatches a string', { blockBatches: '64' }],
  ];
  const settle = async (fn: () => unknown) => {
    try {
      await fn();
      return 'no error';
    } catch (err) {
      return `${(err as Error).constructor.name}: ${(err as Error).message.replace(/ Known keys: [^)]*/, '')}`;
    }
  };
  for (const [what, extra] of cases) {
    const single = await settle(() => g.estimateHessian(prob.data, w, { ...o, ...extra } as never));
    assert.ok(single !== 'no error', `${what}: estimateHessian accepts it`);
    for (const pool of pools) {
      assert.is(
        await settle(() => pool.estimateHessian(prob.data, w, { ...o, ...extra } as never)),
        single,
        `${what}, ${pool.size} workers`,
      );
    }
  }
});

test.run();
