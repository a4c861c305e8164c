// Parallel estimateHessian (gradcov/node-workers): single-thread wasm estimateHessian (the
// baseline here, so the ratio column is the parallel speed-up) vs the worker pool with 1
// and 2 workers; 100,000 rows x dim 64, batch 256, 8192 batches, the data shared with the
// workers once. Validation: the pool gives the same bits for 1 and 2 workers and matches
// the single-thread result within merge rounding.
import * as g from '../dist/node.js';
import { createEstimatorPool } from '../dist/node/workers.js';
import { suite, check } from './common.js';

export async function run() {
  const rows = 100000, dim = 64, batches = 8192;
  const X = new g.Rng(4).normals(new Float64Array(rows * dim));
  const y = new g.Rng(5).normals(new Float64Array(rows));
  const w = new g.Rng(6).normals(new Float64Array(dim));
  const data = { X, y, rows, dim };
  const opts = { batchSize: 256, batches, seed: 1 };
  const pools = [await createEstimatorPool({ workers: 1 }), await createEstimatorPool({ workers: 2 })];
  try {
    const shared = await Promise.all(pools.map((p) => p.share(data)));
    const ref = g.estimateHessian(data, w, opts).hessian;
    const [one, two] = await Promise.all([0, 1].map((i) => pools[i].estimateHessian(shared[i], w, opts)));
    check(one.hessian.every((v, i) => Object.is(v, two.hessian[i])), 'pool: 1 and 2 workers differ');
    let err = 0, scale = 0;
    for (let i = 0; i < ref.length; i++) { err = Math.max(err, Math.abs(ref[i] - two.hessian[i])); scale = Math.max(scale, Math.abs(ref[i])); }
    check(err <= 64 * Number.EPSILON * scale, `pool vs single thread: ${err}`);
    return await suite(`parallel:rows=1e5,dim=${dim},n=256,m=${batches}`, {
      unit: 'gradients',
      work: batches,
      minSamples: 5,
      cases: [
        { name: 'estimateHessian, main thread', baseline: true, fn: () => g.estimateHessian(data, w, opts) },
        { name: 'pool.estimateHessian, 1 worker', fn: async () => { await pools[0].estimateHessian(shared[0], w, opts); } },
        { name: 'pool.estimateHessian, 2 workers', fn: async () => { await pools[1].estimateHessian(shared[1], w, opts); } },
      ],
    });
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}
