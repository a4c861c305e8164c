// The fused paired-noise kernel: pair differences (1/n) X_B'(xi2 - xi1) of 100,000 rows x
// dim 64, batch 256, against the calibrated route at the same number of gradient
// evaluations (two batch gradients per pair) and against the plain-TS reference.
import * as g from '../dist/node.js';
import { pairDifferences } from '../dist/estimators/plan.js';
import { lrPairedDiffs as refPairs } from '../src/reference/paired.ts';
import { suite, check } from './common.js';

export async function run() {
  const rows = [];
  for (const [dim, pairs] of [
    [16, 2048],
    [64, 2048],
  ]) {
    const n = 100000,
      batchSize = 256;
    const X = new g.Rng(4).normals(new Float64Array(n * dim));
    const y = new g.Rng(5).normals(new Float64Array(n));
    const w = new g.Rng(6).normals(new Float64Array(dim));
    const data = { X, y, rows: n, dim };
    // validation: the first 8 pair differences agree with the reference to 1e-12 relative
    const a = pairDifferences(data, { batchSize, batches: 8, noiseVariance: 128, seed: 1 });
    const b = refPairs(X, n, dim, { batchSize, batches: 8, noiseVariance: 128, k0: 1, k1: 0 });
    let err = 0,
      scale = 0;
    for (let i = 0; i < a.length; i++) {
      err = Math.max(err, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    check(err <= 1e-12 * scale, `pair differences dim ${dim}: ${err}`);
    const ds = new g.RegressionDataset(data);
    rows.push(
      ...(await suite(`paired:rows=1e5,dim=${dim},n=256,pairs=${pairs}`, {
        unit: 'pairs',
        work: pairs,
        minSamples: 3,
        cases: [
          {
            name: "wasm estimateHessian 'paired' (fused, RegressionDataset)",
            fn: () => g.estimateHessian(ds, w, { batchSize, batches: pairs, seed: 1, method: 'paired' }),
          },
          {
            name: "wasm estimateHessian 'calibrated', 2 gradients per pair (RegressionDataset)",
            fn: () => g.estimateHessian(ds, w, { batchSize, batches: 2 * pairs, seed: 1 }),
          },
          {
            name: 'plain TS reference pair differences',
            baseline: true,
            fn: () => refPairs(X, n, dim, { batchSize, batches: pairs, noiseVariance: 128, k0: 1, k1: 0 }),
          },
        ],
      })),
    );
    ds.dispose();
  }
  return rows;
}
