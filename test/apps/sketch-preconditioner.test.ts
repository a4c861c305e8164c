// LowRankPreconditioner (P = V L V' + D + damping I from a sketched estimate, Woodbury solves)
// against a dense Cholesky solve at small dim; its bad inputs; and fitLinearRegression with
// `sketch`, against gradient descent and the dense preconditioner.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import * as ref from '../../src/reference/cholesky.js';
import { setup, maxAbs, maxAbsDiff, normals, randomOrthogonal, checkBadInputs } from '../helpers/helpers.js';

test.before(setup);

/** An estimate with orthonormal eigenvectors (rows of a random orthogonal matrix), a decaying spectrum and a diagonal above it. */
function estimate(dim: number, k: number, seed: number) {
  const Q = randomOrthogonal(dim, seed);
  const eigenvalues = Float64Array.from({ length: k }, (_, i) => 100 / (i + 1));
  const eigenvectors = Q.slice(0, k * dim);
  const extra = normals(dim, seed, 5).map((v) => 0.5 + v * v);
  const diagonal = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    let low = 0;
    for (let i = 0; i < k; i++) low += eigenvalues[i]! * eigenvectors[i * dim + j]! ** 2;
    diagonal[j] = low + extra[j]!; // D = extra
  }
  return { eigenvalues, eigenvectors, diagonal, extra };
}

function dense(e: ReturnType<typeof estimate>, dim: number, k: number, damping: number): Float64Array {
  const P = new Float64Array(dim * dim);
  for (let r = 0; r < dim; r++) {
    for (let c = 0; c < dim; c++) {
      let s = 0;
      for (let i = 0; i < k; i++)
        s += e.eigenvalues[i]! * e.eigenvectors[i * dim + r]! * e.eigenvectors[i * dim + c]!;
      P[r * dim + c] = s + (r === c ? e.extra[r]! + damping : 0);
    }
  }
  return P;
}

test('solve and apply equal the dense P^-1 g and P v (dims 1..33 around the SIMD width, k 0..dim, damping 0 and 0.3)', () => {
  for (const dim of [1, 2, 3, 5, 8, 16, 33]) {
    for (const k of new Set([0, 1, Math.min(3, dim), dim])) {
      for (const damping of [0, 0.3]) {
        const e = estimate(dim, k, dim * 10 + k);
        const P = new g.LowRankPreconditioner(e, { damping });
        assert.is(P.rank, k);
        const Pd = dense(e, dim, k, damping);
        const v = normals(dim, dim + k, 7);
        const want = ref.solve(ref.choleskyFactor(Pd, dim).L!, dim, v);
        const got = P.solve(v);
        assert.ok(
          maxAbsDiff(got, want) <= 1e-10 * maxAbs(want),
          `solve dim ${dim} k ${k} damping ${damping}: ${maxAbsDiff(got, want)}`,
        );
        const Pv = new Float64Array(dim);
        for (let r = 0; r < dim; r++) for (let c = 0; c < dim; c++) Pv[r] += Pd[r * dim + c]! * v[c]!;
        assert.ok(maxAbsDiff(P.apply(v), Pv) <= 1e-12 * maxAbs(Pv), `apply dim ${dim} k ${k}`);
        // solve(apply(v)) = v; out may alias the input
        const x = P.apply(v);
        assert.is(P.solve(x, x), x);
        assert.ok(maxAbsDiff(x, v) <= 1e-10 * maxAbs(v), 'round trip');
        P.dispose();
        P.dispose();
        assert.throws(() => P.solve(v), /disposed/);
      }
    }
  }
});

test('k uses the first eigenpairs only; non-positive eigenvalues are dropped; a diagonal below the low-rank part is clamped', () => {
  const dim = 12;
  const e = estimate(dim, 5, 3);
  const P3 = new g.LowRankPreconditioner(e, { k: 3 });
  assert.is(P3.rank, 3);
  const withZero = { ...e, eigenvalues: Float64Array.from([...e.eigenvalues.slice(0, 2), 0, -1, -2]) };
  assert.is(new g.LowRankPreconditioner(withZero).rank, 2);
  // diagonal entries below the low-rank part: D clamps to 0, damping keeps P definite
  const low = { ...e, diagonal: new Float64Array(dim) };
  assert.throws(
    () => new g.LowRankPreconditioner(low),
    (err: Error) => err instanceof RangeError && /`damping` must be > 0/.test(err.message),
  );
  const P = new g.LowRankPreconditioner(low, { damping: 1 });
  const v = normals(dim, 1);
  assert.ok(maxAbsDiff(P.solve(P.apply(v)), v) <= 1e-10 * maxAbs(v));
});

test('bad inputs name the field', () => {
  const e = estimate(6, 2, 1);
  const P = new g.LowRankPreconditioner(e);
  checkBadInputs('LowRankPreconditioner', [
    [
      'estimate not an object',
      () => new g.LowRankPreconditioner(null as never),
      TypeError,
      'estimate',
      'null',
    ],
    [
      'diagonal not a Float64Array',
      () => new g.LowRankPreconditioner({ ...e, diagonal: [1, 2] as never }),
      TypeError,
      'estimate.diagonal',
      /Value/,
    ],
    [
      'eigenvectors of the wrong length',
      () => new g.LowRankPreconditioner({ ...e, eigenvectors: new Float64Array(5) }),
      RangeError,
      'estimate.eigenvectors',
      /5/,
    ],
    [
      'NaN eigenvalue',
      () => new g.LowRankPreconditioner({ ...e, eigenvalues: Float64Array.from([1, Number.NaN]) }),
      RangeError,
      'estimate.eigenvalues',
      'NaN',
    ],
    ['negative damping', () => new g.LowRankPreconditioner(e, { damping: -1 }), RangeError, 'damping', '-1'],
    ['k above the eigenpairs', () => new g.LowRankPreconditioner(e, { k: 3 }), RangeError, 'k', '3'],
    ['g of the wrong length', () => P.solve(new Float64Array(5)), RangeError, 'g', /5/],
    [
      'v non-finite',
      () => P.apply(new Float64Array(6).fill(Number.POSITIVE_INFINITY)),
      RangeError,
      'v',
      'Infinity',
    ],
  ]);
});

test('fitLinearRegression with sketch: far fewer steps than gradient descent on an ill-conditioned problem; bad combinations refused', () => {
  const { data } = g.syntheticRegression({ dim: 24, rows: 6000, condition: 1e4, seed: 4 });
  const o = { steps: 30, batchSize: 64, seed: 2, batches: 4000 };
  const gd = g.fitLinearRegression(data, { ...o, method: 'gd' });
  const sk = g.fitLinearRegression(data, {
    ...o,
    method: 'preconditioned',
    sketch: { size: 24, k: 23 },
    ridge: 1e-3,
  });
  assert.throws(
    () => new g.LowRankPreconditioner(estimate(6, 2, 1), { ridge: 1 } as never),
    /unknown key `ridge`/,
  );
  const exact = g.leastSquares(data).w;
  const lossAt = (w: Float64Array) => {
    let s = 0;
    for (let r = 0; r < data.rows; r++) {
      let t = -data.y[r]!;
      for (let c = 0; c < data.dim; c++) t += data.X[r * data.dim + c]! * w[c]!;
      s += t * t;
    }
    return s / (2 * data.rows);
  };
  const floor = lossAt(exact);
  const excess = (l: number) => l - floor;
  assert.ok(
    excess(sk.loss[30]!) < 0.01 * excess(gd.loss[30]!),
    `sketch ${excess(sk.loss[30]!)} vs gd ${excess(gd.loss[30]!)}`,
  );
  assert.is(sk.estimator, 'paired');
  assert.is(sk.hessian.length, 24 * 24);
  assert.throws(
    () => g.fitLinearRegression(data, { ...o, method: 'gd', sketch: { size: 8 } }),
    /`sketch` must be left out/,
  );
  assert.throws(
    () =>
      g.fitLinearRegression(data, {
        ...o,
        method: 'preconditioned',
        estimator: 'calibrated',
        sketch: { size: 8 },
      }),
    /`sketch` needs estimator 'paired'/,
  );
  assert.throws(
    () => g.fitLinearRegression(data, { ...o, method: 'preconditioned', sketch: { size: 1 } }),
    /`sketch.size`/,
  );
});

test.run();
