// The gradient oracle with fused noise: 100,000 rows x dim 64, batch 256, 4096 batches
// (and dims 16 and 256), wasm vs the plain-TS reference (same sampling, same summation
// order, same noise stream). X is 12.8-205 MB here, so the kernels take their sorted path
// (X read in address order; assembly/gradient.ts).
import * as g from '../dist/node.js';
import { linearRegressionGradients as refGradients } from '../src/reference/gradients.ts';
import { suite, check } from './common.js';

export async function run(anchors) {
  const rows = [];
  for (const [dim, batches] of [
    [16, 4096],
    [64, 4096],
    [256, 1024],
  ]) {
    const n = 100000,
      batchSize = 256;
    const X = new g.Rng(4).normals(new Float64Array(n * dim));
    const y = new g.Rng(5).normals(new Float64Array(n));
    const w = new g.Rng(6).normals(new Float64Array(dim));
    const data = { X, y, rows: n, dim };
    const opts = { batchSize, batches, noiseVariance: batchSize, seed: 1 };
    // validation: the first 8 batches agree with the reference to 1e-12 relative
    const a = g.linearRegressionGradients(data, w, { ...opts, batches: 8 });
    const b = refGradients(X, y, n, dim, w, { ...opts, batches: 8, k0: 1, k1: 0 });
    let err = 0,
      scale = 0;
    for (let i = 0; i < a.length; i++) {
      err = Math.max(err, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    check(err <= 1e-12 * scale, `gradients dim ${dim}: ${err}`);
    const ds = new g.RegressionDataset(data);
    rows.push(
      ...(await suite(`gradients:rows=1e5,dim=${dim},n=256,m=${batches}`, {
        unit: 'gradients',
        work: batches,
        minSamples: 3,
        anchors: anchors?.gradients?.[dim]
          ? [
              {
                name: "numpy pipeline, one batch at a time (gather, residual, X_B'r, np.cov)",
                ms: anchors.gradients[dim].loop.ms,
              },
              {
                name: 'numpy pipeline, 128 batches at a time (einsum)',
                ms: anchors.gradients[dim].vectorised.ms,
              },
            ]
          : [],
        cases: [
          {
            name: 'wasm linearRegressionGradients (copies X per call)',
            fn: () => g.linearRegressionGradients(data, w, opts),
          },
          {
            name: 'wasm linearRegressionGradients (RegressionDataset)',
            fn: () => g.linearRegressionGradients(ds, w, opts),
          },
          { name: 'wasm estimateHessian (RegressionDataset)', fn: () => g.estimateHessian(ds, w, opts) },
          {
            name: "wasm estimateHessian, method 'paired' (RegressionDataset)",
            fn: () => g.estimateHessian(ds, w, { ...opts, method: 'paired' }),
          },
          {
            name: 'plain TS reference',
            baseline: true,
            fn: () => refGradients(X, y, n, dim, w, { ...opts, k0: 1, k1: 0 }),
          },
        ],
      })),
    );
    ds.dispose();
  }
  return rows;
}
