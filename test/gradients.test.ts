import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { linearRegressionGradients, estimateHessian, GradientCovariance, RegressionDataset } from '../src/node.js';
import * as ref from '../src/reference/gradients.js';
import { setup, maxAbs, maxAbsDiff, normals, offsetView } from './helpers.js';

test.before(setup);

function problem(rows: number, dim: number, seed: number) {
  const X = normals(rows * dim, seed, 1);
  const y = normals(rows, seed, 2);
  const w = normals(dim, seed, 3);
  return { data: { X, y, rows, dim }, w };
}

// (rows, dim, batchSize, batches): sizes around the SIMD width, odd dims, n = rows, n = 1
const CASES: [number, number, number, number][] = [
  [1, 1, 1, 1], [2, 1, 2, 3], [5, 3, 5, 4], [7, 2, 3, 5], [100, 7, 13, 9], [50, 64, 32, 3], [1000, 65, 256, 2], [300, 4, 1, 6],
];

test('gradients equal the reference (same rows, same noise to a few ulp) at edge sizes', () => {
  for (const [rows, dim, n, m] of CASES) {
    const { data, w } = problem(rows, dim, rows + dim);
    for (const replacement of [true, false]) {
      for (const tau2 of [0, n, 0.37]) {
        const got = linearRegressionGradients(data, w, { batchSize: n, batches: m, noiseVariance: tau2, seed: 11, replacement });
        const want = ref.linearRegressionGradients(data.X, data.y, rows, dim, w,
          { batchSize: n, batches: m, noiseVariance: tau2, k0: 11, k1: 0, replacement });
        // |g| <= max|x| * max|r|; the noise differs from the reference by a few ulp of max(r, 1)
        const tol = 1e-13 * (1 + maxAbs(want)) * Math.sqrt(dim) * (1 + Math.sqrt(tau2));
        assert.ok(maxAbsDiff(got, want) <= tol, `rows ${rows} dim ${dim} n ${n} m ${m} repl ${replacement} tau2 ${tau2}: ${maxAbsDiff(got, want)}`);
      }
    }
  }
});

test('batch b depends only on (seed, stream, b): firstBatch slices agree; streams and seeds differ', () => {
  const { data, w } = problem(200, 6, 1);
  const opts = { batchSize: 20, noiseVariance: 20, seed: 5 };
  const all = linearRegressionGradients(data, w, { ...opts, batches: 10 });
  const part = linearRegressionGradients(data, w, { ...opts, batches: 3, firstBatch: 4 });
  assert.equal(Array.from(part), Array.from(all.subarray(4 * 6, 7 * 6)));
  const other = linearRegressionGradients(data, w, { ...opts, batches: 10, stream: 1 });
  assert.not.equal(Array.from(other), Array.from(all));
  const seedBig = linearRegressionGradients(data, w, { ...opts, batches: 10, seed: 5n });
  assert.equal(Array.from(seedBig), Array.from(all));
});

test('without replacement a batch holds distinct rows; with n = rows it is the full gradient', () => {
  for (let b = 0; b < 20; b++) {
    const idx = ref.batchIndices(37, 37, b, 3, 0, 0, false);
    assert.is(new Set(idx).size, 37, `batch ${b} is a permutation`);
    const few = ref.batchIndices(1000, 50, b, 3, 0, 0, false);
    assert.is(new Set(few).size, 50);
  }
  const { data, w } = problem(23, 4, 8);
  const G = linearRegressionGradients(data, w, { batchSize: 23, batches: 3, noiseVariance: 0, seed: 1, replacement: false });
  const full = new Float64Array(4);
  for (let r = 0; r < 23; r++) {
    let res = -data.y[r]!;
    for (let c = 0; c < 4; c++) res += data.X[r * 4 + c]! * w[c]!;
    for (let c = 0; c < 4; c++) full[c]! += (res * data.X[r * 4 + c]!) / 23;
  }
  for (let b = 0; b < 3; b++) assert.ok(maxAbsDiff(G.subarray(b * 4, b * 4 + 4), full) < 1e-13 * (1 + maxAbs(full)));
});

test('sampling with replacement is uniform over rows (chi-square, 10 rows, 10^5 draws)', () => {
  const counts = new Array(10).fill(0);
  for (let b = 0; b < 1000; b++) for (const i of ref.batchIndices(10, 100, b, 9, 0, 0, true)) counts[i]++;
  const chi2 = counts.reduce((s, c) => s + (c - 10000) ** 2 / 10000, 0);
  assert.ok(chi2 < 27.9, `chi-square ${chi2} (9 dof, p = 0.001 critical 27.9)`); // fixed seed
});

test('view offsets of X, y and w are honoured', () => {
  const { data, w } = problem(40, 5, 2);
  const opts = { batchSize: 8, batches: 4, noiseVariance: 1, seed: 3 };
  const a = linearRegressionGradients(data, w, opts);
  const b = linearRegressionGradients({ X: offsetView(data.X), y: offsetView(data.y), rows: 40, dim: 5 }, offsetView(w), opts);
  assert.equal(Array.from(b), Array.from(a));
});

test('estimateHessian equals the covariance of linearRegressionGradients (streamed in chunks)', () => {
  const { data, w } = problem(500, 9, 4);
  const batches = 1300; // more than one internal chunk boundary at this dim
  const est = estimateHessian(data, w, { batchSize: 16, batches, seed: 2 });
  assert.is(est.noiseVariance, 16);
  assert.is(est.batches, batches);
  const G = linearRegressionGradients(data, w, { batchSize: 16, batches, noiseVariance: 16, seed: 2 });
  const acc = new GradientCovariance(9).addBatch(G);
  assert.equal(Array.from(est.hessian), Array.from(acc.covariance()));
  assert.equal(Array.from(est.mean), Array.from(acc.mean()));
  acc.dispose();
  const est2 = estimateHessian(data, w, { batchSize: 16, batches: 10, seed: 2, baseNoiseVariance: 6 });
  assert.is(est2.noiseVariance, 10);
  const est3 = estimateHessian(data, w, { batchSize: 16, batches: 10, seed: 2, noiseVariance: 0 });
  assert.is(est3.noiseVariance, 0);
});

test('RegressionDataset: resident data gives the same gradients and estimates; dispose is final', () => {
  const { data, w } = problem(300, 7, 12);
  const ds = new RegressionDataset(data);
  assert.equal([ds.rows, ds.dim], [300, 7]);
  const opts = { batchSize: 16, batches: 40, noiseVariance: 16, seed: 3 };
  assert.equal(Array.from(linearRegressionGradients(ds, w, opts)), Array.from(linearRegressionGradients(data, w, opts)));
  assert.equal(Array.from(estimateHessian(ds, w, opts).hessian), Array.from(estimateHessian(data, w, opts).hessian));
  data.X[0] = 1e9; // the dataset holds its own copy
  assert.equal(Array.from(linearRegressionGradients(ds, w, { ...opts, batches: 2 })),
    Array.from(linearRegressionGradients({ ...data, X: problem(300, 7, 12).data.X }, w, { ...opts, batches: 2 })));
  assert.throws(() => linearRegressionGradients(ds, new Float64Array(6), opts), /`w` must have length 7/);
  assert.throws(() => new RegressionDataset({ ...data, rows: 5 }), /`data.X`/);
  ds.dispose();
  ds.dispose();
  assert.throws(() => estimateHessian(ds, w, opts), /disposed/);
});

test.run();
