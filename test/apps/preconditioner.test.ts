// Preconditioner and fitLinearRegression against ground truth: the exact least-squares fit,
// the true Hessian, and iteration counts; bad inputs; extremeEigenvalues for the step size.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Preconditioner,
  fitLinearRegression,
  syntheticRegression,
  leastSquares,
  secondMomentMatrix,
  extremeEigenvalues,
} from '../../src/node.js';
import * as ref from '../../src/reference/cholesky.js';
import { jacobiEigenvalues } from '../../src/reference/spectral.js';
import {
  setup,
  maxAbs,
  maxAbsDiff,
  normals,
  offsetView,
  randomOrthogonal,
  withSpectrum,
} from '../helpers/helpers.js';

test.before(setup);

const EPS = 2.220446049250313e-16;

test('Preconditioner.apply equals the reference solve with (H + ridge I); out and offset views', () => {
  for (const dim of [1, 2, 3, 5, 16, 33]) {
    const H = withSpectrum(
      Array.from({ length: dim }, (_, i) => 1 + i),
      randomOrthogonal(dim, dim),
    );
    const P = new Preconditioner(offsetView(H), dim, { ridge: 0.25 });
    const g = normals(dim, 4);
    const want = ref.solve(
      ref.choleskyFactor(
        H.map((v, i) => v + (i % (dim + 1) === 0 ? 0.25 : 0)),
        dim,
      ).L!,
      dim,
      g,
    );
    assert.ok(maxAbsDiff(P.apply(offsetView(g)), want) <= 100 * dim * EPS * maxAbs(want), `dim ${dim}`);
    const out = new Float64Array(dim);
    assert.is(P.apply(g, out), out);
    assert.ok(maxAbsDiff(out, want) <= 100 * dim * EPS * maxAbs(want));
    P.dispose();
    P.dispose(); // idempotent
    assert.throws(() => P.apply(g), /disposed/);
  }
});

test('Preconditioner: not positive definite names the pivot and suggests a ridge; bad inputs leave nothing allocated to misuse', () => {
  const A = withSpectrum([2, -1, 1], randomOrthogonal(3, 2));
  assert.throws(
    () => new Preconditioner(A, 3),
    (e: Error) =>
      e instanceof RangeError &&
      /`hessian` \+ ridge I must be positive definite: the Cholesky pivot at index \d/.test(e.message) &&
      /ridge: /.test(e.message),
  );
  const P = new Preconditioner(withSpectrum([1, 2, 3], randomOrthogonal(3, 2)), 3);
  const g = new Float64Array([1, 2, 3]);
  const before = P.apply(g);
  const cases: [() => unknown, RegExp, typeof TypeError][] = [
    [() => new Preconditioner(A, 3, { ridge: -1 }), /`ridge` must be a finite number >= 0/, RangeError],
    [() => new Preconditioner(new Float64Array(4), 3), /`hessian` must have length 9/, RangeError],
    [() => new Preconditioner(A, 1.5), /`dim` must be an integer/, RangeError],
    [() => P.apply(new Float64Array(2)), /`g` must have length 3/, RangeError],
    [() => P.apply([1, 2, 3] as unknown as Float64Array), /`g` must be a Float64Array/, TypeError],
    [
      () => P.apply(new Float64Array([1, NaN, 3])),
      /`g` must contain only finite numbers. Value: `NaN` at index 1/,
      RangeError,
    ],
    [() => P.apply(g, new Float64Array(2)), /`out` must have length 3/, RangeError],
  ];
  for (const [f, re, Kind] of cases)
    assert.throws(f, (e: Error) => e instanceof Kind && re.test(e.message), String(re));
  assert.equal(P.apply(g), before, 'state unchanged after rejected calls');
  P.dispose();
});

test('extremeEigenvalues: lambda_min, lambda_max and the condition number of a synthetic H agree with Jacobi', () => {
  const p = syntheticRegression({ dim: 12, rows: 3000, condition: 1000, seed: 4 });
  const H = secondMomentMatrix(p.data);
  const ev = jacobiEigenvalues(H, 12);
  const e = extremeEigenvalues(H, 12, { tol: 1e-10 });
  assert.ok(Math.abs(e.max - ev[11]!) <= 1e-8 * ev[11]!, `${e.max} vs ${ev[11]}`);
  assert.ok(Math.abs(e.min - ev[0]!) <= 1e-8 * ev[0]!, `${e.min} vs ${ev[0]}`);
  assert.ok(Math.abs(e.conditionNumber - ev[11]! / ev[0]!) <= 1e-7 * e.conditionNumber);
});

test('fitLinearRegression: GD with step 1/lambda_max and preconditioned (H_hat from gradients) both reach the least-squares fit; preconditioned in far fewer steps', () => {
  const dim = 10;
  const p = syntheticRegression({ dim, rows: 5000, condition: 1000, seed: 2 });
  const ls = leastSquares(p.data);
  const Lstar = ls.residualVariance / 2;
  const H = secondMomentMatrix(p.data);
  const gd = fitLinearRegression(p.data, {
    method: 'gd',
    steps: 40000,
    batchSize: 64,
    seed: 1,
    tolerance: 1e-9,
  });
  assert.ok(
    Math.abs(gd.learningRate - 1 / extremeEigenvalues(H, dim, { tol: 1e-10 }).max) <= 1e-9 * gd.learningRate,
  );
  const pre = fitLinearRegression(p.data, {
    method: 'preconditioned',
    steps: 100,
    batchSize: 64,
    seed: 1,
    tolerance: 1e-9,
    snapshotEvery: 2,
  });
  for (const f of [gd, pre]) {
    assert.ok(f.converged, `converged in ${f.steps}`);
    assert.is(f.loss.length, f.steps + 1);
    assert.ok(
      (f.loss[f.steps]! - Lstar) / Lstar <= 1e-10,
      `relative excess ${(f.loss[f.steps]! - Lstar) / Lstar}`,
    );
    assert.ok(maxAbsDiff(f.w, ls.w) <= 1e-6 * maxAbs(ls.w), `w: ${maxAbsDiff(f.w, ls.w)}`);
  }
  assert.ok(pre.steps * 100 < gd.steps, `preconditioned ${pre.steps} vs GD ${gd.steps}`);
  assert.is(pre.batchGradients, 2000); // default max(1000, 200 dim)
  // H_hat after debiasing and rescaling estimates H (sampling error ~ sqrt(r/m) ~ 0.05; bound 0.2)
  const ev = jacobiEigenvalues(
    pre.hessian.map((v, i) => v - H[i]!),
    dim,
  );
  const num = Math.max(-ev[0]!, ev[dim - 1]!);
  const den = jacobiEigenvalues(H, dim)[dim - 1]!;
  assert.ok(num / den < 0.2, `||H_hat - H||/||H|| = ${num / den}`);
  assert.equal(
    pre.snapshots.map((s) => s.step),
    Array.from({ length: Math.ceil(pre.steps / 2) }, (_, i) => Math.min(2 * (i + 1), pre.steps)),
  );
  // loss is the full-batch mean half-squared loss
  const w0loss = p.data.y.reduce((s, v) => s + v * v, 0) / (2 * p.data.rows);
  assert.ok(Math.abs(pre.loss[0]! - w0loss) <= 1e-12 * w0loss);
});

test('fitLinearRegression: with the true H as `hessian` and eta = 1, one preconditioned step reaches the optimum', () => {
  const p = syntheticRegression({ dim: 6, rows: 2000, condition: 100, seed: 3 });
  const ls = leastSquares(p.data);
  const f = fitLinearRegression(p.data, {
    method: 'preconditioned',
    steps: 1,
    batchSize: 32,
    seed: 1,
    hessian: secondMomentMatrix(p.data),
  });
  assert.is(f.batchGradients, 0);
  assert.ok(maxAbsDiff(f.w, ls.w) <= 1e-10 * maxAbs(ls.w));
});

test('fitLinearRegression: deterministic given the seed; bad options name the parameter', () => {
  const p = syntheticRegression({ dim: 4, rows: 500, seed: 5 });
  const o = { method: 'preconditioned' as const, steps: 5, batchSize: 16, seed: 9 };
  assert.equal(fitLinearRegression(p.data, o).loss, fitLinearRegression(p.data, o).loss);
  const bad: [Record<string, unknown>, RegExp, typeof TypeError][] = [
    [{ method: 'newton' }, /`method` must be one of 'gd', 'preconditioned'/, RangeError],
    [{ steps: -1 }, /`steps` must be an integer in \[0, 1000000000\]/, RangeError],
    [{ learningRate: 0 }, /`learningRate` must be a finite number > 0. Value: `0`/, RangeError],
    [{ batchSize: 0 }, /`batchSize` must be a positive integer/, RangeError],
    [{ batches: 1 }, /`batches` must be an integer in \[2, 2147483647\]/, RangeError],
    [{ seed: undefined }, /`seed` must be a number or a bigint/, TypeError],
    [{ tolerance: 2 }, /`tolerance` must be a number in \(0, 1\)/, RangeError],
    [{ hessian: new Float64Array(3) }, /`hessian` must have length 16/, RangeError],
    [{ initial: new Float64Array(3) }, /`w` must have length 4/, RangeError],
    [{ debias: 'yes' }, /`debias` must be a boolean/, TypeError],
    [{ ridge: -1 }, /`ridge` must be a finite number >= 0/, RangeError],
  ];
  for (const [patch, re, Kind] of bad) {
    assert.throws(
      () => fitLinearRegression(p.data, { ...o, ...patch } as never),
      (e: Error) => e instanceof Kind && re.test(e.message),
      String(re),
    );
  }
  assert.throws(
    () => fitLinearRegression(p.data, { ...o, hessian: withSpectrum([1, -1, 1, 1], randomOrthogonal(4, 1)) }),
    /pivot at index/,
  );
});

test.run();
