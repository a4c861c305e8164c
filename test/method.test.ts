// The method itself (MATH.md): with target noise calibrated so that s2 + tau2 = n, the
// covariance of batch gradients estimates the Hessian H = E[x x'], near and far from the
// optimum; without calibration it fails by a constant factor. Fixed seeds; each bound is
// stated beside its assertion with the reason for its size. The truth is the data's own
// second-moment matrix X'X/rows (batches are drawn from the data).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  estimateHessian, relativeError, calibratedNoiseVariance, syntheticRegression, secondMomentMatrix, pointAtMisfit,
  Rng, type InputDistribution,
} from '../src/node.js';
import { setup } from './helpers.js';

const DIM = 20, ROWS = 20000, N = 64, M = 20000, S2 = 1;

function problem(inputs: InputDistribution) {
  // Sigma with eigenvalues log-spaced on [1, 100] (condition number 100), a random rotation
  const p = syntheticRegression({ dim: DIM, rows: ROWS, condition: 100, noiseVariance: S2, inputs, seed: 1 });
  return { ...p, H: secondMomentMatrix(p.data) };
}

let gaussian: ReturnType<typeof problem>;
test.before(async () => {
  await setup();
  gaussian = problem('gaussian');
});

function bestScaleError(C: Float64Array, H: Float64Array): number {
  let lo = 0.01, hi = 100;
  for (let k = 0; k < 80; k++) { // golden-section search on log c (the error is unimodal in c)
    const a = lo * (hi / lo) ** 0.382, b = lo * (hi / lo) ** 0.618;
    const fa = relativeError(C.map((v) => v * a), H, DIM), fb = relativeError(C.map((v) => v * b), H, DIM);
    if (fa < fb) hi = b; else lo = a;
  }
  return relativeError(C.map((v) => v * Math.sqrt(lo * hi)), H, DIM);
}

// Sampling error ~ ||H|| sqrt(r/m) with effective rank r = tr(H)/||H|| ~ 4.3 here and
// m = 20000: sqrt(r/m) ~ 0.015, times a constant of a few (observed 0.02-0.04).
test('calibrated (s2 + tau2 = n) at the optimum: relative error < 0.08 (Gaussian x)', () => {
  const { data, wStar, H } = gaussian;
  const est = estimateHessian(data, wStar, { batchSize: N, batches: M, seed: 1, baseNoiseVariance: S2 });
  assert.is(est.noiseVariance, N - S2);
  const err = relativeError(est.hessian, H, DIM);
  assert.ok(err < 0.08, `relative error ${err}`);
});

test('calibrated far from the optimum (misfit d\'Hd = n/10): matches the predicted bias; error < 0.25', () => {
  const { data, wStar, H } = gaussian;
  const w = pointAtMisfit(H, wStar, new Rng(9).normals(new Float64Array(DIM)), N / 10);
  const d = w.map((v, i) => v - wStar[i]!);
  const est = estimateHessian(data, w, { batchSize: N, batches: M, seed: 2, baseNoiseVariance: S2 });
  // MATH.md, Gaussian x: Cov = H + ((d'Hd) H + H d d' H) / n
  const Hd = new Float64Array(DIM);
  for (let i = 0; i < DIM; i++) for (let j = 0; j < DIM; j++) Hd[i]! += H[i * DIM + j]! * d[j]!;
  const predicted = H.map((v, k) => v * (1 + N / 10 / N) + (Hd[Math.floor(k / DIM)]! * Hd[k % DIM]!) / N);
  const errPred = relativeError(est.hessian, predicted, DIM);
  const err = relativeError(est.hessian, H, DIM);
  // the bias is at most 2 (d'Hd)||H||/n = 0.2 ||H||; the prediction removes it
  assert.ok(errPred < 0.08, `error against the predicted covariance ${errPred}`);
  assert.ok(err < 0.25, `error against H ${err}`);
  assert.ok(errPred < err, `the bias is what separates the estimate from H: ${errPred} < ${err}`);
});

test('uncalibrated (tau2 = 0) near the optimum fails by a constant factor: error > 0.5', () => {
  const { data, wStar, H } = gaussian;
  const est = estimateHessian(data, wStar, { batchSize: N, batches: M, seed: 3, noiseVariance: 0 });
  const err = relativeError(est.hessian, H, DIM);
  // Cov ~ (s2/n) H: the error is about 1 - 1/64 ~ 0.98
  assert.ok(err > 0.5, `relative error ${err}`);
  assert.ok(Math.abs(err - (1 - S2 / N)) < 0.05, `about 1 - s2/n: ${err}`);
});

test('up to scale: s2 + tau2 = 2n gives about 2H (error ~1), but rescaled it is accurate (< 0.08)', () => {
  const { data, wStar, H } = gaussian;
  const tau2 = calibratedNoiseVariance(N, { baseNoiseVariance: S2 }) + N;
  const est = estimateHessian(data, wStar, { batchSize: N, batches: M, seed: 4, noiseVariance: tau2 });
  const err = relativeError(est.hessian, H, DIM);
  assert.ok(Math.abs(err - 1) < 0.1, `raw error ${err}`);
  const scaled = bestScaleError(est.hessian, H);
  assert.ok(scaled < 0.08, `best-rescaled error ${scaled}`);
});

for (const kind of ['rademacher', 'uniform'] as InputDistribution[]) {
  test(`calibrated at the optimum with ${kind} inputs: relative error < 0.08`, () => {
    const { data, wStar, H } = problem(kind);
    const est = estimateHessian(data, wStar, { batchSize: N, batches: M, seed: 5, baseNoiseVariance: S2 });
    const err = relativeError(est.hessian, H, DIM);
    assert.ok(err < 0.08, `relative error ${err}`);
  });
}

test('sampling error shrinks like 1/sqrt(m): 16x the batches, about 1/4 the error', () => {
  const { data, wStar, H } = gaussian;
  const e = (m: number, seed: number) => relativeError(
    estimateHessian(data, wStar, { batchSize: N, batches: m, seed, baseNoiseVariance: S2 }).hessian, H, DIM);
  const small = [1, 2, 3].map((s) => e(1000, 10 + s)).reduce((a, b) => a + b) / 3;
  const large = [1, 2, 3].map((s) => e(16000, 20 + s)).reduce((a, b) => a + b) / 3;
  const ratio = large / small;
  assert.ok(ratio > 0.15 && ratio < 0.4, `ratio ${ratio} (expected ~0.25)`);
  // and the error is of the order sqrt(r/m) with r = tr(H)/||H||
  let tr = 0;
  for (let i = 0; i < DIM; i++) tr += H[i * DIM + i]!;
  const r = tr / gaussian.eigenvalues[DIM - 1]!;
  assert.ok(small < 4 * Math.sqrt(r / 1000) && small > 0.25 * Math.sqrt(r / 1000), `error ${small} vs sqrt(r/m) ${Math.sqrt(r / 1000)}`);
});

test('the synthetic data second moment is close to Sigma (sanity of the generator)', () => {
  const err = relativeError(gaussian.H, gaussian.sigma, DIM);
  assert.ok(err < 0.05, `${err}`);
});

test.run();
