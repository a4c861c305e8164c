// The gradient oracle with fused noise: 100,000 rows x dim 64, batch 256, 4096 batches
// (and dims 16 and 256), wasm vs the plain-TS reference (same sampling, same summation
// order, same noise stream). X is 12.8-205 MB here, so the kernels take their sorted path
// (X read in address order; assembly/gradient.ts). numpy: every form of
// bench/python/anchors.py's pipeline is a row; the fastest is the anchor, the others
// information. "of limit": the roofline time (bench/limits.js gradientRoofline: the bytes
// of X and y read once and the gradients written, at the sequential bandwidth, or the
// multiply-adds at the f64x2 peak, whichever takes longer) over the row's time.
import * as g from '../dist/node.js';
import { linearRegressionGradients as refGradients } from '../src/reference/gradients.ts';
import { suite, check } from './common.js';
import { gradientRoofline } from './limits.js';

export async function run(anchors, L) {
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
        anchors: numpyForms(anchors?.gradients?.[dim]),
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
    if (L)
      for (const r of rows.filter((x) => x.suite.startsWith(`gradients:rows=1e5,dim=${dim},`))) {
        if (!r.name.startsWith('wasm') || r.name.includes("'paired'")) continue;
        const roof = gradientRoofline(L, {
          rows: n,
          dim,
          batchSize,
          batches,
          covariance: r.name.includes('estimateHessian'),
        });
        r.ofLimit = roof.ms / r.ms;
        r.limitName = `roofline (${roof.bound}, ${roof.ms.toFixed(1)} ms)`;
      }
  }
  return rows;
}

/** numpy's pipeline forms as anchor rows: the fastest the anchor, the others information. */
export function numpyForms(a) {
  if (!a) return [];
  // older anchors.py output: only the two forms
  const forms = a.forms ?? {
    loop: { ...a.loop, label: 'one batch at a time' },
    vectorised: { ...a.vectorised, label: '128 batches at a time (einsum)' },
  };
  const best = a.best ?? (a.loop.ms <= a.vectorised.ms ? 'loop' : 'vectorised');
  return Object.entries(forms).map(([k, f]) => ({
    name: `numpy pipeline, ${f.label}${k === best ? ' (the fastest form: the anchor)' : ''}`,
    ms: f.ms,
    info: k !== best,
  }));
}
