// The estimators beyond the calibration rule (estimateHessian's method option): the fused
// paired-noise kernel against its plain-TS reference and against two real gradient
// evaluations, and each estimator's expectation against its exact formula at several w
// (including far ones) for Gaussian and non-Gaussian inputs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { pairDifferences } from '../../src/estimators/plan.js';
import { wasm, alloc, free, f64, copyIn } from '../../src/core/wasm.js';
import * as refP from '../../src/reference/paired.js';
import * as refG from '../../src/reference/gradients.js';
import {
  setup,
  maxAbs,
  maxAbsDiff,
  normals,
  regressionProblem as problem,
  assertSameValues,
} from '../helpers/helpers.js';

test.before(setup);

// (rows, dim, batchSize, batches): 0-free edge sizes around the SIMD width (2), odd dims,
// n = rows, n = 1, and more batches than one 256-row chunk of the staging buffer
const CASES: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [2, 1, 2, 3],
  [5, 3, 5, 4],
  [7, 2, 3, 5],
  [100, 7, 13, 9],
  [50, 64, 32, 3],
  [1000, 65, 256, 2],
  [300, 4, 1, 6],
  [40, 5, 8, 257],
  [30, 257, 7, 3],
];

test('paired kernel: differences equal the reference at edge sizes (with and without replacement)', () => {
  for (const [rows, dim, n, m] of CASES) {
    const { data } = problem(rows, dim, rows + dim);
    for (const replacement of [true, false]) {
      for (const tau2 of [n / 2, 0.37]) {
        const got = pairDifferences(data, {
          batchSize: n,
          batches: m,
          noiseVariance: tau2,
          seed: 11,
          replacement,
        });
        const want = refP.lrPairedDiffs(data.X, rows, dim, {
          batchSize: n,
          batches: m,
          noiseVariance: tau2,
          k0: 11,
          k1: 0,
          replacement,
        });
        // normals differ from the reference by a few ulp; |d| <= max|x| sqrt(tau2) max|z2 - z1|
        const tol = 1e-13 * (1 + maxAbs(want)) * Math.sqrt(n);
        assert.ok(
          maxAbsDiff(got, want) <= tol,
          `rows ${rows} dim ${dim} n ${n} m ${m} repl ${replacement}: ${maxAbsDiff(got, want)}`,
        );
      }
    }
  }
});

test('paired kernel: zero batches write nothing (the kernel called directly)', () => {
  const k = wasm();
  const { data } = problem(10, 3, 1);
  const x = alloc(data.X.byteLength, 'test'),
    out = alloc(64, 'test'),
    sc = alloc(k.lrPairedDiffsScratchBytes(10, 4, 1), 'test');
  try {
    copyIn(x, data.X);
    f64(out, 8).fill(7);
    k.lrPairedDiffs(x, 10, 3, 4, 0, 0, 1, 1, 0, 0, 1, out, sc);
    assert.equal(Array.from(f64(out, 8)), new Array(8).fill(7));
  } finally {
    free(x);
    free(out);
    free(sc);
  }
});

test('paired kernel: pair b depends only on (seed, stream, b); a resident dataset gives the same bits', () => {
  const { data } = problem(200, 6, 1);
  const opts = { batchSize: 20, noiseVariance: 10, seed: 5 };
  const all = pairDifferences(data, { ...opts, batches: 10 });
  const part = pairDifferences(data, { ...opts, batches: 3, firstBatch: 4 });
  assertSameValues(part, all.subarray(4 * 6, 7 * 6));
  const ds = new g.RegressionDataset(data);
  try {
    assertSameValues(pairDifferences(ds, { ...opts, batches: 10 }), all);
    const w = normals(6, 1, 4);
    const a = g.estimateHessian(ds, w, { ...opts, batches: 300, method: 'paired' });
    const b = g.estimateHessian(data, w, { ...opts, batches: 300, method: 'paired' });
    assertSameValues(a.hessian, b.hessian);
  } finally {
    ds.dispose();
  }
  assert.not.equal(Array.from(pairDifferences(data, { ...opts, batches: 10, stream: 1 })), Array.from(all));
});

/** The linear gradient of batch b at explicit noise (the reference's rows): a second, independent evaluation path. */
function referenceGradient(
  data: { X: Float64Array; y: Float64Array; rows: number; dim: number },
  w: Float64Array,
  n: number,
  b: number,
  seed: number,
  noise: Float64Array,
  replacement = true,
): Float64Array {
  const { X, y, rows, dim } = data;
  const idx = refG.batchIndices(rows, n, b, seed, 0, 0, replacement);
  const out = new Float64Array(dim);
  for (let j = 0; j < n; j++) {
    const row = idx[j]!;
    let r = -(y[row]! + noise[j]!);
    for (let c = 0; c < dim; c++) r += X[row * dim + c]! * w[c]!;
    for (let c = 0; c < dim; c++) out[c]! += (r * X[row * dim + c]!) / n;
  }
  return out;
}

test('paired kernel equals two gradient evaluations of the same batch (draw 0 = the oracle, draw 1 = targetNoise)', () => {
  for (const [rows, dim, n, m] of CASES.filter((c) => c[3] < 100)) {
    const { data, w } = problem(rows, dim, 3 * rows + dim);
    const tau2 = n / 2;
    const D = pairDifferences(data, { batchSize: n, batches: m, noiseVariance: tau2, seed: 7 });
    const G1 = g.linearRegressionGradients(data, w, {
      batchSize: n,
      batches: m,
      noiseVariance: tau2,
      seed: 7,
    });
    for (let b = 0; b < m; b++) {
      const xi1 = g.targetNoise({ seed: 7, batch: b, batchSize: n, noiseVariance: tau2 });
      const xi2 = g.targetNoise({ seed: 7, batch: b, draw: 1, batchSize: n, noiseVariance: tau2 });
      const g1 = referenceGradient(data, w, n, b, 7, xi1);
      const g2 = referenceGradient(data, w, n, b, 7, xi2);
      const scale = 1 + maxAbs(g1) + maxAbs(g2);
      // draw 0 is exactly the built-in oracle's noise: its gradient matches to rounding
      assert.ok(
        maxAbsDiff(g1, G1.subarray(b * dim, (b + 1) * dim)) <= 1e-12 * scale,
        `g1 rows ${rows} dim ${dim} b ${b}`,
      );
      const diff = g1.map((v, i) => v - g2[i]!);
      assert.ok(
        maxAbsDiff(diff, D.subarray(b * dim, (b + 1) * dim)) <= 1e-12 * scale,
        `d rows ${rows} dim ${dim} b ${b}: ${maxAbsDiff(diff, D.subarray(b * dim, (b + 1) * dim))}`,
      );
    }
  }
});

test("estimateHessian('paired') equals estimateCurvature over a two-evaluation oracle (to rounding)", async () => {
  const { data, w } = problem(500, 5, 2);
  const n = 16,
    m = 600;
  const fused = g.estimateHessian(data, w, { batchSize: n, batches: m, seed: 3, method: 'paired' });
  const viaOracle = await g.estimateCurvature(
    (req) => referenceGradient(data, w, n, req.batch, 3, req.noise),
    { dim: 5, batchSize: n, batches: m, seed: 3, method: 'paired' },
  );
  assert.ok(
    maxAbsDiff(fused.hessian, viaOracle.hessian) <= 1e-12 * maxAbs(fused.hessian),
    `${maxAbsDiff(fused.hessian, viaOracle.hessian)}`,
  );
  assert.is(fused.gradientEvaluations, 2 * m);
  assert.is(viaOracle.gradientEvaluations, 2 * m);
  assert.equal(fused.noiseLevels, [n / 2]);
});

// ---------------------------------------------------------------------------------------
// Expectations against the exact formulas. Rows are drawn with replacement from a finite
// data set, so the population is the data's empirical distribution and the expectations
// are exact finite sums: H = X'X / rows, and for the calibrated covariance
// E[C_hat] = (1/n) (E[r^2 x x'] - E[r x] E[r x]' + tau2 H), r = x'w - y.

const DIM = 6,
  N = 32,
  M = 3000,
  SEEDS = 6;

function exactCalibrated(
  data: { X: Float64Array; y: Float64Array; rows: number },
  w: Float64Array,
  tau2: number,
  H: Float64Array,
): Float64Array {
  const { X, y, rows } = data;
  const M2 = new Float64Array(DIM * DIM),
    mu = new Float64Array(DIM);
  for (let r = 0; r < rows; r++) {
    let res = -y[r]!;
    for (let c = 0; c < DIM; c++) res += X[r * DIM + c]! * w[c]!;
    for (let i = 0; i < DIM; i++) {
      mu[i]! += (res * X[r * DIM + i]!) / rows;
      for (let j = 0; j < DIM; j++)
        M2[i * DIM + j]! += (res * res * X[r * DIM + i]! * X[r * DIM + j]!) / rows;
    }
  }
  return M2.map((v, k) => (v - mu[Math.floor(k / DIM)]! * mu[k % DIM]! + tau2 * H[k]!) / N);
}

/** The mean of SEEDS estimates (fixed seeds 1..SEEDS): its distance to the expectation measures bias. */
function meanEstimate(
  data: g.RegressionData,
  w: Float64Array,
  method: g.EstimatorMethod,
  extra: Partial<g.EstimateOptions> = {},
): Float64Array {
  const avg = new Float64Array(DIM * DIM);
  for (let s = 1; s <= SEEDS; s++) {
    const e = g.estimateHessian(data, w, {
      batchSize: N,
      batches: M,
      seed: s,
      method,
      baseNoiseVariance: 1,
      ...extra,
    });
    for (let i = 0; i < avg.length; i++) avg[i]! += e.hessian[i]! / SEEDS;
  }
  return avg;
}

// Tolerances on the relative operator-norm error of the mean of 6 estimates (m = 3000,
// n = 32, d = 6, condition 10), set from 10 repetitions with other seeds (measured maxima
// in brackets): calibrated vs its formula 0.05 [0.030]; paired vs H 0.045 [0.028, every
// misfit and distribution]; two-level ([4n, 0]) vs H 0.08 [0.053] at d'Hd/n <= 1 and
// 0.35 [0.219] at 10; debiased (Gaussian x) 0.09 [0.054] at d'Hd/n <= 1.
for (const inputs of ['gaussian', 'rademacher', 'uniform'] as const) {
  test(`expectations at d'Hd/n in {0, 1, 10}, ${inputs} inputs: calibrated matches its biased formula, paired and two-level are unbiased for H`, () => {
    const prob = g.syntheticRegression({
      dim: DIM,
      rows: 4000,
      condition: 10,
      seed: 5,
      noiseVariance: 1,
      inputs,
    });
    const H = g.secondMomentMatrix(prob.data);
    const dir = g.syntheticRegression({ dim: DIM, rows: 1, seed: 9 }).wStar;
    for (const ratio of [0, 1, 10]) {
      const w = g.pointAtMisfit(H, prob.wStar, dir, ratio * N);
      const where = `${inputs}, d'Hd/n = ${ratio}`;
      const calExact = exactCalibrated(prob.data, w, N - 1, H);
      const cal = meanEstimate(prob.data, w, 'calibrated');
      assert.ok(
        g.relativeError(cal, calExact, DIM) < 0.05,
        `${where}: calibrated vs its formula ${g.relativeError(cal, calExact, DIM)}`,
      );
      const bias = g.relativeError(calExact, H, DIM);
      if (ratio > 0) assert.ok(bias > 0.5, `${where}: the calibrated bias should be visible: ${bias}`);
      const paired = g.relativeError(meanEstimate(prob.data, w, 'paired'), H, DIM);
      assert.ok(paired < 0.045, `${where}: paired vs H ${paired} (calibrated bias ${bias})`);
      const two = g.relativeError(
        meanEstimate(prob.data, w, 'two-level', { noiseLevels: [4 * N, 0] }),
        H,
        DIM,
      );
      assert.ok(two < (ratio <= 1 ? 0.08 : 0.35), `${where}: two-level vs H ${two}`);
      if (inputs === 'gaussian' && ratio <= 1) {
        const deb = g.relativeError(meanEstimate(prob.data, w, 'debiased'), H, DIM);
        assert.ok(deb < 0.09, `${where}: debiased vs H ${deb}`);
      }
    }
  });
}

test('what each method reports: noise levels, gradient evaluations, misfit', () => {
  const prob = g.syntheticRegression({ dim: 4, rows: 2000, seed: 2, noiseVariance: 1 });
  const H = g.secondMomentMatrix(prob.data);
  const w = g.pointAtMisfit(H, prob.wStar, new Float64Array([1, 0, 0, 0]), 64);
  const o = { batchSize: 64, batches: 1000, seed: 1, baseNoiseVariance: 1 };
  const cal = g.estimateHessian(prob.data, w, o);
  assert.is(cal.method, 'calibrated');
  assert.equal(cal.noiseLevels, [63]);
  assert.is(cal.gradientEvaluations, 1000);
  const two = g.estimateHessian(prob.data, w, { ...o, method: 'two-level' });
  assert.equal(two.noiseLevels, [64, 0]);
  assert.is(two.gradientEvaluations, 1000);
  const deb = g.estimateHessian(prob.data, w, { ...o, method: 'debiased' });
  // the scale is identified through s2 + tau2 only, so the misfit is noisy: 12 seeds gave 45-73 for 64
  assert.ok(Math.abs(deb.misfit! - 64) < 0.4 * 64, `misfit ${deb.misfit}`);
  const pr = g.estimateHessian(prob.data, w, { ...o, method: 'paired', noiseVariance: 5 });
  assert.equal(pr.noiseLevels, [5]);
  assert.is(pr.gradientEvaluations, 2000);
  // the default calibrated result is unchanged by the new option (same bits as before it existed)
  assertSameValues(g.estimateHessian(prob.data, w, { ...o, method: 'calibrated' }).hessian, cal.hessian);
});

test("'debiased' refuses (RangeError) when no fixed point exists instead of returning a wrong scale", () => {
  const prob = g.syntheticRegression({ dim: 3, rows: 500, seed: 2, noiseVariance: 0 });
  const H = g.secondMomentMatrix(prob.data);
  const w = g.pointAtMisfit(H, prob.wStar, new Float64Array([1, 1, 1]), 1e6);
  assert.throws(
    () =>
      g.estimateHessian(prob.data, w, {
        batchSize: 8,
        batches: 50,
        seed: 1,
        method: 'debiased',
        noiseVariance: 0,
      }),
    /debiased/,
  );
});

test('bad method options', () => {
  const { data, w } = problem(50, 3, 1);
  const o = { batchSize: 8, batches: 10, seed: 1 };
  const rows: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    [
      'unknown method',
      () => g.estimateHessian(data, w, { ...o, method: 'exact' as never }),
      RangeError,
      /`method` must be one of .*Value: `"exact"`/,
    ],
    [
      'method a number',
      () => g.estimateHessian(data, w, { ...o, method: 1 as never }),
      TypeError,
      /`method` must be a string/,
    ],
    [
      'paired without noise',
      () => g.estimateHessian(data, w, { ...o, method: 'paired', noiseVariance: 0 }),
      RangeError,
      /`noiseVariance` must be > 0/,
    ],
    [
      'two-level, 3 batches',
      () => g.estimateHessian(data, w, { ...o, batches: 3, method: 'two-level' }),
      RangeError,
      /`batches` must be at least 4/,
    ],
    [
      'levels not increasing',
      () => g.estimateHessian(data, w, { ...o, method: 'two-level', noiseLevels: [1, 2] }),
      RangeError,
      /`noiseLevels` must have/,
    ],
    [
      'levels of length 1',
      () => g.estimateHessian(data, w, { ...o, method: 'two-level', noiseLevels: [1] as never }),
      TypeError,
      /`noiseLevels` must be an array of two/,
    ],
    [
      'negative level',
      () => g.estimateHessian(data, w, { ...o, method: 'two-level', noiseLevels: [1, -1] }),
      RangeError,
      /`noiseLevels\[1\]` must be/,
    ],
    [
      'levels without two-level',
      () => g.estimateHessian(data, w, { ...o, noiseLevels: [2, 1] }),
      TypeError,
      /`noiseLevels` must be left out unless method is 'two-level'/,
    ],
  ];
  for (const [label, call, Kind, pattern] of rows) {
    assert.throws(call, (err: unknown) => err instanceof Kind && pattern.test((err as Error).message), label);
  }
});

test.run();
