// The sketch wired into the estimators (issue 19): estimateCurvature and estimateHessian with
// `sketch` (method 'paired') against the exact mean of the scaled pair differences, the
// block plan (blocks merged in order), the refusals before any work, and a dim far above
// the dense limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { jacobiEigenvalues } from '../../src/reference/spectral.js';
import { pairDifferences } from '../../src/estimators/plan.js';
import { setup, maxAbsDiff, regressionProblem, assertSameValues } from '../helpers/helpers.js';

test.before(setup);

/** An oracle of the built-in linear model: (1/n) X_B'(X_B w - y_B - noise) with batch b's rows drawn from b. */
function linearOracle(data: g.RegressionData, w: Float64Array, n: number) {
  const { X, y, rows, dim } = data;
  return (req: g.GradientRequest) => {
    const out = new Float64Array(dim);
    for (let i = 0; i < n; i++) {
      const r = (req.batch * 7919 + i * 104729) % rows;
      let res = -y[r]! - req.noise[i]!;
      for (let j = 0; j < dim; j++) res += X[r * dim + j]! * w[j]!;
      for (let j = 0; j < dim; j++) out[j] += (X[r * dim + j]! * res) / n;
    }
    return out;
  };
}

/** G_hat = (n / (2 tau2)) (1/m) sum d d' of the pair differences (the sketch's target), dense. */
function exactPaired(diffs: Float64Array, m: number, dim: number, n: number, tau2: number): Float64Array {
  const G = new Float64Array(dim * dim),
    f = n / (2 * tau2) / m;
  for (let b = 0; b < m; b++) {
    for (let i = 0; i < dim; i++)
      for (let j = 0; j < dim; j++) G[i * dim + j] += f * diffs[b * dim + i]! * diffs[b * dim + j]!;
  }
  return G;
}

test('estimateHessian with a sketch of size > dim: the eigenvalues, diagonal and trace of the exact paired mean (to rounding), shrinkage 0', () => {
  for (const [rows, dim, n, m, size] of [
    [200, 1, 8, 5, 2],
    [300, 3, 8, 40, 4],
    [300, 7, 16, 300, 8],
    [300, 5, 4, 97, 32],
  ] as const) {
    const { data, w } = regressionProblem(rows, dim, rows + dim);
    const o = { batchSize: n, batches: m, seed: 3 };
    const tau2 = n / 2;
    const s = g.estimateHessian(data, w, { ...o, method: 'paired', sketch: { size } });
    const D = pairDifferences(data, { ...o, noiseVariance: tau2 }); // the plan's own kernel (draw 'pairs')
    const G = exactPaired(D, m, dim, n, tau2);
    const want = jacobiEigenvalues(G, dim).reverse();
    const k = Math.min(10, size - 1);
    assert.is(s.eigenvalues.length, k);
    assert.is(s.eigenvectors.length, k * dim);
    const scale = want[0]!;
    for (let i = 0; i < Math.min(k, dim); i++)
      assert.ok(
        Math.abs(s.eigenvalues[i]! - want[i]!) <= 1e-9 * scale,
        `dim ${dim}: eigenvalue ${i} ${s.eigenvalues[i]} vs ${want[i]}`,
      );
    for (let i = dim; i < k; i++)
      assert.ok(
        Math.abs(s.eigenvalues[i]!) <= 1e-9 * scale,
        `dim ${dim}: eigenvalue ${i} beyond the rank is ${s.eigenvalues[i]}`,
      );
    for (let i = 1; i < k; i++) assert.ok(s.eigenvalues[i]! <= s.eigenvalues[i - 1]!, 'descending');
    assert.ok(s.shrinkage <= 1e-9 * scale, `shrinkage ${s.shrinkage}`);
    const diag = Float64Array.from({ length: dim }, (_, i) => G[i * dim + i]!);
    assert.ok(maxAbsDiff(s.diagonal, diag) <= 1e-12 * scale, 'diagonal');
    assert.ok(Math.abs(s.trace - diag.reduce((a, b) => a + b, 0)) <= 1e-12 * scale * dim, 'trace');
    // each returned eigenvector v_i satisfies G v_i = lambda_i v_i (within rank)
    for (let i = 0; i < Math.min(k, dim); i++) {
      const v = s.eigenvectors.subarray(i * dim, (i + 1) * dim);
      const Gv = new Float64Array(dim);
      for (let r = 0; r < dim; r++) for (let c = 0; c < dim; c++) Gv[r] += G[r * dim + c]! * v[c]!;
      assert.ok(
        maxAbsDiff(
          Gv,
          v.map((x) => x * s.eigenvalues[i]!),
        ) <=
          1e-7 * scale,
        `dim ${dim}: eigenvector ${i}`,
      );
    }
    assertSameValues(
      s.upper,
      s.eigenvalues.map((v) => v + s.shrinkage),
      'upper = eigenvalues + shrinkage',
    );
    assert.is(s.method, 'paired');
    assert.is(s.rows, m);
    assert.is(s.batches, m);
    assert.is(s.gradientEvaluations, 2 * m);
    assert.is(s.noiseVariance, tau2);
    assert.is(s.sketchSize, size);
    assert.not.ok('hessian' in s, 'no dense matrix');
  }
});

test('estimateCurvature with a sketch: the same numbers as the dense paired estimate of the same oracle (size > dim), any concurrency', async () => {
  const { data, w } = regressionProblem(300, 6, 11);
  const n = 10,
    m = 120;
  const o = { dim: 6, batchSize: n, batches: m, seed: 5, method: 'paired' as const };
  const s = await g.estimateCurvature(linearOracle(data, w, n), { ...o, sketch: { size: 8, k: 6 } });
  const s1 = await g.estimateCurvature(linearOracle(data, w, n), {
    ...o,
    sketch: { size: 8, k: 6 },
    concurrency: 1,
  });
  assertSameValues(s1.eigenvalues, s.eigenvalues, 'concurrency 1 vs 4');
  assertSameValues(s1.diagonal, s.diagonal);
  const dense = await g.estimateCurvature(linearOracle(data, w, n), o);
  // dense: n/(2 tau2) times the centred covariance (1/(m-1)); the sketch: the uncentred mean (1/m)
  const G = dense.hessian,
    mean = dense.mean,
    f = n / (2 * dense.noiseVariance);
  const U = G.map((v, idx) => (v * (m - 1)) / m + f * mean[Math.floor(idx / 6)]! * mean[idx % 6]!);
  const want = jacobiEigenvalues(U, 6).reverse();
  for (let i = 0; i < 6; i++)
    assert.ok(
      Math.abs(s.eigenvalues[i]! - want[i]!) <= 1e-9 * want[0]!,
      `eigenvalue ${i}: ${s.eigenvalues[i]} vs ${want[i]}`,
    );
  for (let i = 0; i < 6; i++)
    assert.ok(Math.abs(s.diagonal[i]! - U[i * 7]!) <= 1e-12 * want[0]!, `diagonal ${i}`);
});

test('blocks: a sketched estimateHessian in blocks of blockBatches (merged in order) agrees with one block; each blocking is reproducible bit for bit', () => {
  const { data, w } = regressionProblem(400, 12, 2);
  const o = { batchSize: 16, batches: 500, seed: 8, method: 'paired' as const, sketch: { size: 6, k: 4 } };
  const one = g.estimateHessian(data, w, o);
  const cut = g.estimateHessian(data, w, { ...o, blockBatches: 64 });
  const again = g.estimateHessian(data, w, { ...o, blockBatches: 64 });
  assertSameValues(again.eigenvalues, cut.eigenvalues, 'blocks of 64, twice');
  assertSameValues(again.eigenvectors, cut.eigenvectors);
  // the diagonal and trace are sums (exact up to the order of addition); the intervals of both hold the same G_hat's eigenvalues
  assert.ok(maxAbsDiff(cut.diagonal, one.diagonal) <= 1e-12 * one.trace);
  assert.ok(Math.abs(cut.trace - one.trace) <= 1e-12 * one.trace);
  const D = pairDifferences(data, { batchSize: 16, batches: 500, seed: 8, noiseVariance: 8 });
  const exact = jacobiEigenvalues(exactPaired(D, 500, 12, 16, 8), 12).reverse();
  for (const s of [one, cut]) {
    for (let i = 0; i < 4; i++) {
      assert.ok(
        s.eigenvalues[i]! <= exact[i]! * (1 + 1e-9) && exact[i]! <= s.upper[i]! * (1 + 1e-9),
        `lambda_${i} = ${exact[i]} in [${s.eigenvalues[i]}, ${s.upper[i]}]`,
      );
    }
  }
});

test("sketch precision 'f32': estimateCurvature's eigenvalues within 1e-6 of the f64 sketch's (relative to lambda_1), the diagonal and trace identical", async () => {
  const { data, w } = regressionProblem(3000, 60, 4);
  const oracle = linearOracle(data, w, 16);
  const o = { dim: 60, batchSize: 16, batches: 400, seed: 5, method: 'paired' as const };
  const a = await g.estimateCurvature(oracle, { ...o, sketch: { size: 12 } });
  const b = await g.estimateCurvature(oracle, { ...o, sketch: { size: 12, precision: 'f32' } });
  assert.ok(maxAbsDiff(a.eigenvalues, b.eigenvalues) < 1e-6 * a.eigenvalues[0]!);
  assert.ok(
    a.eigenvalues.some((v, i) => v !== b.eigenvalues[i]),
    'rounded: not the same bits',
  );
  assertSameValues(b.diagonal, a.diagonal, 'diagonal');
  assert.is(b.trace, a.trace);
});

test('bad sketch options: a clear error before the oracle is called or anything is computed', async () => {
  let calls = 0;
  const oracle = () => {
    calls++;
    return new Float64Array(4);
  };
  const base = { dim: 4, batchSize: 8, batches: 10, seed: 1 };
  const cases: [Record<string, unknown>, typeof TypeError | typeof RangeError, RegExp][] = [
    [{ ...base, sketch: { size: 4 } }, RangeError, /`sketch` needs method 'paired'.*method: 'paired'/],
    [{ ...base, method: 'two-level', sketch: { size: 4 } }, RangeError, /method 'paired'/],
    [{ ...base, method: 'debiased', sketch: { size: 4 } }, RangeError, /method 'paired'/],
    [{ ...base, method: 'paired', sketch: { size: 1 } }, RangeError, /`sketch.size` must be .*Value: `1`/],
    [{ ...base, method: 'paired', sketch: { size: 2.5 } }, RangeError, /`sketch.size`/],
    [{ ...base, method: 'paired', sketch: {} }, TypeError, /`sketch.size`/],
    [{ ...base, method: 'paired', sketch: { size: 4, k: 5 } }, RangeError, /`sketch.k` must be .*Value: `5`/],
    [{ ...base, method: 'paired', sketch: { size: 4, k: 0 } }, RangeError, /`sketch.k`/],
    [{ ...base, method: 'paired', sketch: { size: 4, rank: 2 } }, TypeError, /rank/],
    [{ ...base, method: 'paired', sketch: 4 }, TypeError, /`sketch`/],
  ];
  for (const [opts, Kind, re] of cases) {
    const err = await g.estimateCurvature(oracle, opts as never).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(err instanceof Kind, `${JSON.stringify(opts.sketch)}: ${String(err)}`);
    assert.match(err!.message, re);
  }
  assert.is(calls, 0, 'the oracle was never called');
  const { data, w } = regressionProblem(50, 4, 1);
  assert.throws(
    () => g.estimateHessian(data, w, { batchSize: 8, batches: 10, seed: 1, sketch: { size: 4 } }),
    /needs method 'paired'/,
  );
  assert.throws(
    () =>
      g.estimateHessian(data, w, {
        batchSize: 8,
        batches: 10,
        seed: 1,
        method: 'paired',
        sketch: { size: 4, k: 9 },
      }),
    /`sketch.k`/,
  );
  // the dense limit does not apply to a sketch, but still to the dense path
  const err = await g.estimateCurvature(oracle, { ...base, dim: 20000, method: 'paired' }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(String(err), /`dim`/);
});

test('estimateHessian with a sketch above the dense limit (dim 12,000): runs; the dense path still refuses it', () => {
  const { data, w } = regressionProblem(64, 12_000, 5);
  const o = { batchSize: 8, batches: 30, seed: 1, method: 'paired' as const };
  assert.throws(() => g.estimateHessian(data, w, o), /`data.dim` must be at most 11584/);
  const s = g.estimateHessian(data, w, { ...o, sketch: { size: 4 } });
  assert.is(s.diagonal.length, 12_000);
  assert.is(s.eigenvectors.length, 3 * 12_000);
  // the mean of diag(G_hat) estimates the mean of diag(X'X / rows) (about 1): the 240 samples'
  // noise is a common factor of relative sd sqrt(2 / 240) = 0.09 (4 sd: 0.37)
  let want = 0,
    sum = 0;
  for (let j = 0; j < 12_000; j++) sum += s.diagonal[j]!;
  const mean = sum / 12_000;
  for (const v of data.X) want += (v * v) / (64 * 12_000);
  assert.ok(Math.abs(mean / want - 1) < 0.37, `mean diagonal ${mean} vs ${want}`);
  assert.ok(Math.abs(s.trace - sum) <= 1e-9 * s.trace);
});

test('atomic: an oracle that throws, rejects or answers a wrong length mid-run rejects naming the batch and draw; no result', async () => {
  const o = { dim: 5, batchSize: 4, batches: 50, seed: 1, method: 'paired' as const, sketch: { size: 3 } };
  const ok = (req: g.GradientRequest) => new Float64Array(5).map((_, j) => req.noise[j % 4]! * (j + 1));
  const cases: [(req: g.GradientRequest) => unknown, RegExp][] = [
    [
      (req) => {
        if (req.batch === 37 && req.draw === 1) throw new Error('boom');
        return ok(req);
      },
      /failed on batch 37 \(draw 1\): boom/,
    ],
    [
      (req) => (req.batch === 12 ? Promise.reject(new Error('gone')) : ok(req)),
      /failed on batch 12 \(draw 0\): gone/,
    ],
    [
      (req) => (req.batch === 20 ? new Float64Array(4) : ok(req)),
      /batch 20 \(draw 0\) must have length dim \(5\)/,
    ],
    [
      (req) => (req.batch === 3 && req.draw === 1 ? new Float64Array(5).fill(Number.NaN) : ok(req)),
      /batch 3 \(draw 1\) must contain only finite/,
    ],
    [
      (req) => (req.batch === 4 ? new Float64Array(5).fill(req.draw ? -1.7e308 : 1.7e308) : ok(req)),
      /batch 4 overflow float64 when combined/,
    ],
  ];
  for (const [oracle, re] of cases) {
    const err = await g.estimateCurvature(oracle as g.GradientOracle, o).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(err instanceof Error, String(re));
    assert.match(err!.message, re);
  }
  assert.is((await g.estimateCurvature(ok, o)).rows, 50);
});

test('dim 100,000 through estimateCurvature: no dense matrix, the exact diagonal and trace, a planted top direction', async () => {
  const dim = 100_000,
    n = 4,
    m = 60;
  // rows x = 3 z_0 e_1 + 0.003 z (z standard normal, drawn from the batch and sample index, the
  // same for both draws), so G = 9 e_1 e_1' + 9e-6 I; the oracle's gradient is linear in the noise
  const rows = new Map<number, Float64Array[]>();
  const noises = new Map<number, Float64Array[]>();
  const oracle = (req: g.GradientRequest) => {
    noises.set(req.batch, [...(noises.get(req.batch) ?? []), req.noise.slice()]);
    let xs = rows.get(req.batch);
    if (!xs) {
      xs = Array.from({ length: n }, (_, i) => {
        const z = new g.Rng(1000 + req.batch * n + i).normals(new Float64Array(dim));
        z[0] = 3 * z[0]!;
        for (let j = 1; j < dim; j++) z[j] = 0.003 * z[j]!;
        return z;
      });
      rows.set(req.batch, xs);
    } else rows.delete(req.batch); // draw 1 is the last use
    const out = new Float64Array(dim);
    for (let i = 0; i < n; i++) {
      const x = xs[i]!,
        f = -req.noise[i]! / n;
      for (let j = 0; j < dim; j++) out[j] += f * x[j]!;
    }
    return out;
  };
  const s = await g.estimateCurvature(oracle, {
    dim,
    batchSize: n,
    batches: m,
    seed: 1,
    method: 'paired',
    sketch: { size: 8 },
    concurrency: 1,
  });
  assert.is(s.eigenvalues.length, 7);
  assert.is(s.eigenvectors.length, 7 * dim);
  assert.is(s.diagonal.length, dim);
  assert.ok(Math.abs(s.eigenvectors[0]!) > 0.99, `top direction e_1: ${s.eigenvectors[0]}`);
  // diag(G_hat) over the bulk: given the noise, its mean over j is 9e-6 (n / 2 tau2) (1/m) sum_b
  // (1/n^2) sum_i (xi2 - xi1)_i^2 up to the average of 99,999 x 240 chi-squares (well within 2%)
  let given = 0;
  for (const [a, b] of noises.values()) for (let i = 0; i < n; i++) given += (a![i]! - b![i]!) ** 2;
  given *= (9e-6 * (n / (2 * s.noiseVariance))) / (m * n * n);
  let bulk = 0;
  for (let j = 1; j < dim; j++) bulk += s.diagonal[j]!;
  bulk /= dim - 1;
  assert.ok(
    Math.abs(bulk - given) < 0.02 * given,
    `bulk diagonal ${bulk}, expected ${given} given the noise`,
  );
  // lambda_1 = 9 + 9e-6: the sampling sd of G_hat's top entry is 9 sqrt((2 + 6/n) / m) (a Gaussian
  // scale mixture); the interval [lambda, lambda + shrinkage] must meet 9 +- 3 sd
  const sd = 9 * Math.sqrt((2 + 6 / n) / m);
  assert.ok(
    s.eigenvalues[0]! < 9 + 3 * sd && s.upper[0]! > 9 - 3 * sd,
    `lambda_1 in [${s.eigenvalues[0]}, ${s.upper[0]}], sd ${sd}`,
  );
  // the FD bound: shrinkage <= ||A - A_1||_F^2 / (l - 1) / m, here the bulk's trace (0.9) / 7 up to sampling
  assert.ok(s.shrinkage <= (1.5 * 0.9) / 7, `shrinkage ${s.shrinkage}`);
  let sum = 0;
  for (const v of s.diagonal) sum += v;
  assert.ok(Math.abs(s.trace - sum) < 1e-9 * s.trace, 'trace = sum of the diagonal');
});

test.run();
