import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  standardize,
  secondMomentMatrix,
  leastSquares,
  pointAtMisfit,
  syntheticRegression,
  INPUT_DISTRIBUTIONS,
  relativeError,
} from '../../src/node.js';
import { loadDiabetes } from '../../cli/src/datasets.js';
import * as refCov from '../../src/reference/covariance.js';
import { setup, maxAbsDiff, normals } from '../helpers/helpers.js';

test.before(setup);

test('standardize: every column and the target have mean 0 and variance 1', () => {
  const d = standardize(loadDiabetes());
  assert.is(d.rows, 442);
  assert.is(d.dim, 10);
  for (let c = 0; c < d.dim; c++) {
    let m = 0,
      v = 0;
    for (let r = 0; r < d.rows; r++) m += d.X[r * d.dim + c]! / d.rows;
    for (let r = 0; r < d.rows; r++) v += d.X[r * d.dim + c]! ** 2 / d.rows;
    assert.ok(Math.abs(m) < 1e-12 && Math.abs(v - 1) < 1e-12, `column ${c}: mean ${m}, variance ${v}`);
  }
  let v = 0;
  for (const t of d.y) v += (t * t) / d.rows;
  assert.ok(Math.abs(v - 1) < 1e-12);
  assert.ok(Math.abs(d.yMean - 152.133) < 1e-3, `diabetes target mean ${d.yMean}`); // the published mean
});

test('standardize: a constant column whose mean is inexact stays 0 (not rounding noise scaled to +-1)', () => {
  const rows = 7,
    dim = 3,
    X = new Float64Array(rows * dim),
    y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    X[r * dim] = 0.1;
    X[r * dim + 1] = r;
    X[r * dim + 2] = 1e8 + 0.3; // 0.1 * 7 / 7 is not exactly 0.1
    y[r] = 0.7;
  }
  const s = standardize({ X, y, rows, dim });
  for (let r = 0; r < rows; r++) {
    assert.is(s.X[r * dim], 0);
    assert.is(s.X[r * dim + 2], 0);
    assert.is(s.y[r], 0);
  }
  assert.is(s.xScale[0], 1);
  assert.is(s.xScale[2], 1);
  assert.is(s.yScale, 1);
  assert.ok(Math.abs(s.xScale[1]! - 2) < 1e-12, 'a varying column is scaled as before');
  // a column with a genuine but tiny spread (sd 1e-9 at mean 0) is still standardised
  const Z = Float64Array.from({ length: rows }, (_, r) => (r - 3) * 1e-9);
  const t = standardize({ X: Z, y: new Float64Array(rows).map((_, r) => r), rows, dim: 1 });
  assert.ok(Math.abs(t.X[6]! - 1.5) < 1e-9, `${t.X[6]}`);
});

test("secondMomentMatrix equals X'X/rows and is the covariance for centred data", () => {
  const d = standardize(loadDiabetes());
  const H = secondMomentMatrix(d);
  const { cov } = refCov.covariance(d.X, d.rows, d.dim);
  assert.ok(
    maxAbsDiff(
      H,
      cov.map((v) => (v * (d.rows - 1)) / d.rows),
    ) < 1e-12,
  );
});

test('leastSquares recovers noiseless weights and reports the residual variance', () => {
  const p = syntheticRegression({ dim: 6, rows: 500, noiseVariance: 0, seed: 4 });
  const { w, residualVariance } = leastSquares(p.data);
  assert.ok(maxAbsDiff(w, p.wStar) < 1e-10);
  assert.ok(residualVariance < 1e-20);
  const noisy = syntheticRegression({ dim: 6, rows: 50000, noiseVariance: 2, seed: 4 });
  assert.ok(Math.abs(leastSquares(noisy.data).residualVariance - 2) < 0.05);
  const X = new Float64Array(20); // a zero column is singular
  for (let r = 0; r < 10; r++) X[r * 2] = r;
  assert.throws(() => leastSquares({ X, y: new Float64Array(10), rows: 10, dim: 2 }), /singular at column 1/);
});

test('pointAtMisfit: the returned point has the requested misfit', () => {
  const p = syntheticRegression({ dim: 5, rows: 100, seed: 2 });
  const H = secondMomentMatrix(p.data);
  const w = pointAtMisfit(H, p.wStar, normals(5, 3), 7);
  const d = w.map((v, i) => v - p.wStar[i]!);
  let q = 0;
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) q += d[i]! * H[i * 5 + j]! * d[j]!;
  assert.ok(Math.abs(q - 7) < 1e-10);
});

test('syntheticRegression: each input law has unit variance per coordinate before mixing, and the spectrum asked for', () => {
  for (const inputs of INPUT_DISTRIBUTIONS) {
    const p = syntheticRegression({ dim: 8, rows: 40000, condition: 10, inputs, seed: 3 });
    assert.ok(Math.abs(p.eigenvalues[7]! / p.eigenvalues[0]! - 10) < 1e-9);
    const err = relativeError(secondMomentMatrix(p.data), p.sigma, 8);
    assert.ok(err < 0.05, `${inputs}: sample second moment vs Sigma ${err}`);
  }
  assert.throws(() => syntheticRegression({ dim: 3, rows: 10, seed: 1, condition: 0.5 }), RangeError);
  assert.throws(
    () => syntheticRegression({ dim: 3, rows: 10, seed: 1, inputs: 'cauchy' as never }),
    /`inputs`/,
  );
  assert.throws(() => syntheticRegression({ dim: 0, rows: 10, seed: 1 }), /`dim`/);
});

test.run();
