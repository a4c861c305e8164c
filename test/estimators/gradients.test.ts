import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  linearRegressionGradients,
  estimateHessian,
  GradientCovariance,
  RegressionDataset,
} from '../../src/node.js';
import * as ref from '../../src/reference/gradients.js';
import {
  setup,
  maxAbs,
  maxAbsDiff,
  offsetView,
  regressionProblem as problem,
  assertSameValues,
} from '../helpers/helpers.js';

test.before(setup);

// (rows, dim, batchSize, batches): sizes around the SIMD width, odd dims, n = rows, n = 1
const CASES: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [2, 1, 2, 3],
  [5, 3, 5, 4],
  [7, 2, 3, 5],
  [100, 7, 13, 9],
  [50, 64, 32, 3],
  [1000, 65, 256, 2],
  [300, 4, 1, 6],
];

test('gradients equal the reference (same rows, same noise to a few ulp) at edge sizes', () => {
  for (const [rows, dim, n, m] of CASES) {
    const { data, w } = problem(rows, dim, rows + dim);
    for (const replacement of [true, false]) {
      for (const tau2 of [0, n, 0.37]) {
        const got = linearRegressionGradients(data, w, {
          batchSize: n,
          batches: m,
          noiseVariance: tau2,
          seed: 11,
          replacement,
        });
        const want = ref.linearRegressionGradients(data.X, data.y, rows, dim, w, {
          batchSize: n,
          batches: m,
          noiseVariance: tau2,
          k0: 11,
          k1: 0,
          replacement,
        });
        // |g| <= max|x| * max|r|; the noise differs from the reference by a few ulp of max(r, 1)
        const tol = 1e-13 * (1 + maxAbs(want)) * Math.sqrt(dim) * (1 + Math.sqrt(tau2));
        assert.ok(
          maxAbsDiff(got, want) <= tol,
          `rows ${rows} dim ${dim} n ${n} m ${m} repl ${replacement} tau2 ${tau2}: ${maxAbsDiff(got, want)}`,
        );
      }
    }
  }
});

test('batch b depends only on (seed, stream, b): firstBatch slices agree; streams and seeds differ', () => {
  const { data, w } = problem(200, 6, 1);
  const opts = { batchSize: 20, noiseVariance: 20, seed: 5 };
  const all = linearRegressionGradients(data, w, { ...opts, batches: 10 });
  const part = linearRegressionGradients(data, w, { ...opts, batches: 3, firstBatch: 4 });
  assertSameValues(part, all.subarray(4 * 6, 7 * 6));
  const other = linearRegressionGradients(data, w, { ...opts, batches: 10, stream: 1 });
  assert.not.equal(Array.from(other), Array.from(all));
  const seedBig = linearRegressionGradients(data, w, { ...opts, batches: 10, seed: 5n });
  assertSameValues(seedBig, all);
});

// The kernel's batch composition, read back through the gradients themselves: with X = I
// (row r is the unit vector e_r), y = -1 and w = 0, every residual is 1 and no noise is
// injected, so n * g_b = sum over the batch of e_r: coordinate r counts how often the
// kernel put row r in batch b. (The tests below used to check ref.batchIndices, the
// reference, which cannot catch a sampling bug in the wasm kernel.)
function batchCounts(
  rows: number,
  n: number,
  batches: number,
  seed: number,
  replacement: boolean,
): Float64Array {
  const X = new Float64Array(rows * rows);
  for (let r = 0; r < rows; r++) X[r * rows + r] = 1;
  const G = linearRegressionGradients(
    { X, y: new Float64Array(rows).fill(-1), rows, dim: rows },
    new Float64Array(rows),
    { batchSize: n, batches, noiseVariance: 0, seed, replacement },
  );
  return G.map((v) => Math.round(v * n)); // n g is an integer count up to rounding of 1/n sums
}

test('without replacement a batch holds distinct rows (the kernel, read back through its gradients); with n = rows it is the full gradient', () => {
  for (const [rows, n] of [
    [37, 37],
    [1000, 50],
    [9, 8],
    [2, 1],
  ] as const) {
    const C = batchCounts(rows, n, 20, 3, false);
    for (let b = 0; b < 20; b++) {
      const c = C.subarray(b * rows, (b + 1) * rows);
      assert.ok(
        c.every((v) => v === 0 || v === 1),
        `rows ${rows} n ${n} batch ${b}: a row drawn twice`,
      );
      assert.is(
        c.reduce((a, v) => a + v, 0),
        n,
        `rows ${rows} n ${n} batch ${b}: n distinct rows`,
      );
    }
  }
  // with replacement the same read-back does show repeats (so the check above can fail):
  // 50 of 1000 rows, P(no repeat in a batch) ~ exp(-50*49/2000) = 0.29, so some of 20 batches repeat
  const R = batchCounts(1000, 50, 20, 3, true);
  assert.ok(
    R.some((v) => v > 1),
    'sampling with replacement repeats rows',
  );
  const { data, w } = problem(23, 4, 8);
  const G = linearRegressionGradients(data, w, {
    batchSize: 23,
    batches: 3,
    noiseVariance: 0,
    seed: 1,
    replacement: false,
  });
  const full = new Float64Array(4);
  for (let r = 0; r < 23; r++) {
    let res = -data.y[r]!;
    for (let c = 0; c < 4; c++) res += data.X[r * 4 + c]! * w[c]!;
    for (let c = 0; c < 4; c++) full[c]! += (res * data.X[r * 4 + c]!) / 23;
  }
  for (let b = 0; b < 3; b++)
    assert.ok(maxAbsDiff(G.subarray(b * 4, b * 4 + 4), full) < 1e-13 * (1 + maxAbs(full)));
});

test('sampling is uniform over rows (the kernel; chi-square, 10 rows, 10^5 draws, with and without replacement)', () => {
  // counts over all batches: 10^5 draws, 10^4 expected per row. Without replacement (n = 5 of
  // 10 rows) every row is drawn with probability 1/2 per batch and the counts vary less (the
  // finite-population factor (rows - n) / (rows - 1) = 5/9), so chi2 is scaled by 9/5 to be
  // chi-square with 9 dof again. Bound: the p = 0.001 critical value 27.9, for each of the
  // 2 x 3 fixed seeds. Measured over seeds 1-100 (scripts/stat-spread.ts batches): with
  // replacement chi2 mean 8.3, max 20.1; without, scaled, mean 9.1, max 22.5; none above 27.9.
  // A row never drawn gives chi2 ~ 10^4; a 5% deficit on one row adds (500)^2 / 10^4 = 25, so
  // the test is sized for bias of a row skipped or favoured by 5% or more, not for 1% effects.
  for (const [n, batches, replacement] of [
    [100, 1000, true],
    [5, 20000, false],
  ] as const) {
    for (const seed of [1, 2, 3]) {
      const C = batchCounts(10, n, batches, seed, replacement);
      const counts = new Array(10).fill(0);
      for (let b = 0; b < batches; b++) for (let r = 0; r < 10; r++) counts[r] += C[b * 10 + r]!;
      assert.is(
        counts.reduce((a, v) => a + v, 0),
        100000,
      );
      const chi2 = counts.reduce((s, c) => s + (c - 10000) ** 2 / 10000, 0) * (replacement ? 1 : 9 / 5);
      assert.ok(
        chi2 < 27.9,
        `replacement ${replacement} seed ${seed}: chi-square ${chi2} (9 dof, p = 0.001 critical 27.9); counts ${counts}`,
      );
    }
  }
});

test('view offsets of X, y and w are honoured', () => {
  const { data, w } = problem(40, 5, 2);
  const opts = { batchSize: 8, batches: 4, noiseVariance: 1, seed: 3 };
  const a = linearRegressionGradients(data, w, opts);
  const b = linearRegressionGradients(
    { X: offsetView(data.X), y: offsetView(data.y), rows: 40, dim: 5 },
    offsetView(w),
    opts,
  );
  assertSameValues(b, a);
});

test('estimateHessian equals the covariance of linearRegressionGradients (streamed in chunks)', () => {
  const { data, w } = problem(500, 9, 4);
  const batches = 1300; // more than one internal chunk boundary at this dim
  const est = estimateHessian(data, w, { batchSize: 16, batches, seed: 2 });
  assert.is(est.noiseVariance, 16);
  assert.is(est.batches, batches);
  const G = linearRegressionGradients(data, w, { batchSize: 16, batches, noiseVariance: 16, seed: 2 });
  const acc = new GradientCovariance(9).addBatch(G);
  assertSameValues(est.hessian, acc.covariance());
  assertSameValues(est.mean, acc.mean());
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
  assertSameValues(linearRegressionGradients(ds, w, opts), linearRegressionGradients(data, w, opts));
  assertSameValues(estimateHessian(ds, w, opts).hessian, estimateHessian(data, w, opts).hessian);
  data.X[0] = 1e9; // the dataset holds its own copy
  assertSameValues(
    linearRegressionGradients(ds, w, { ...opts, batches: 2 }),
    linearRegressionGradients({ ...data, X: problem(300, 7, 12).data.X }, w, { ...opts, batches: 2 }),
  );
  assert.throws(() => linearRegressionGradients(ds, new Float64Array(6), opts), /`w` must have length 7/);
  assert.throws(() => new RegressionDataset({ ...data, rows: 5 }), /`data.X`/);
  ds.dispose();
  ds.dispose();
  assert.throws(() => estimateHessian(ds, w, opts), /disposed/);
});

test.run();
