// The Cholesky kernels against the plain-TS reference at edge sizes, with view offsets, and
// the not-positive-definite error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { choleskyFactor, choleskySolve } from '../../src/node.js';
import { wasm, withBlocks, copyIn, f64 } from '../../src/core/wasm.js';
import * as ref from '../../src/reference/cholesky.js';
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
const SIZES = [1, 2, 3, 4, 5, 7, 17, 64, 65, 100];

/** A well-conditioned SPD matrix with eigenvalues in [1, cond]. */
function spd(dim: number, seed: number, cond = 100): Float64Array {
  const ev = Array.from({ length: dim }, (_, i) => (dim === 1 ? 1 : cond ** (i / (dim - 1))));
  return withSpectrum(ev, randomOrthogonal(dim, seed));
}

test('kernel factor, forward and backward solves equal the reference at edge sizes', () => {
  for (const dim of SIZES) {
    const A = spd(dim, dim),
      b = normals(dim, dim + 1);
    const [L, fwd, bwd] = withBlocks([dim * dim * 8, dim * 8, dim * 8, 8], 'test', (lp, xp, yp, pp) => {
      copyIn(lp!, A);
      copyIn(xp!, b);
      copyIn(yp!, b);
      assert.is(wasm().choleskyFactor(lp!, dim, 0, pp!), -1, `dim ${dim} factor succeeds`);
      wasm().choleskyForward(lp!, dim, xp!);
      wasm().choleskyBackward(lp!, dim, yp!);
      return [f64(lp!, dim * dim).slice(), f64(xp!, dim).slice(), f64(yp!, dim).slice()];
    });
    const r = ref.choleskyFactor(A, dim);
    assert.is(r.pivot, -1);
    const lower = L!.map((v, i) => (i % dim <= Math.floor(i / dim) ? v : 0));
    // the upper triangle is left as it was
    for (let i = 0; i < dim; i++)
      for (let j = i + 1; j < dim; j++) assert.is(L![i * dim + j], A[i * dim + j], 'upper untouched');
    const tol = 8 * dim * EPS * maxAbs(A);
    assert.ok(maxAbsDiff(lower, r.L!) <= tol, `dim ${dim} L: ${maxAbsDiff(lower, r.L!)}`);
    const tolx = 1e3 * dim * EPS * maxAbs(b); // L^-1 amplifies by up to sqrt(cond) = 10 per level
    assert.ok(maxAbsDiff(fwd!, ref.forward(r.L!, dim, b)) <= tolx, `dim ${dim} forward`);
    assert.ok(maxAbsDiff(bwd!, ref.backward(r.L!, dim, b)) <= tolx, `dim ${dim} backward`);
  }
});

test('choleskySolve solves (A + ridge I) x = b: residual small relative to norms, offset views accepted', () => {
  for (const dim of SIZES) {
    for (const ridge of [0, 0.5]) {
      const A = spd(dim, 100 + dim),
        b = normals(dim, 7);
      const x = choleskySolve(offsetView(A), dim, offsetView(b), { ridge });
      let res = 0;
      for (let i = 0; i < dim; i++) {
        let s = ridge * x[i]! - b[i]!;
        for (let j = 0; j < dim; j++) s += A[i * dim + j]! * x[j]!;
        res = Math.max(res, Math.abs(s));
      }
      assert.ok(
        res <= 1e3 * dim * EPS * (maxAbs(A) + ridge) * maxAbs(x),
        `dim ${dim} ridge ${ridge}: residual ${res}`,
      );
    }
  }
});

test("choleskyFactor returns L with zeros above the diagonal and L L' = A + ridge I", () => {
  const dim = 9,
    A = spd(dim, 3);
  const L = choleskyFactor(A, dim, { ridge: 2 });
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) {
      if (j > i) assert.is(L[i * dim + j], 0);
      let s = 0;
      for (let k = 0; k < dim; k++) s += L[i * dim + k]! * L[j * dim + k]!;
      assert.ok(Math.abs(s - A[i * dim + j]! - (i === j ? 2 : 0)) <= 64 * EPS * 102, `(${i},${j})`);
    }
  }
});

test('not positive definite: the kernel returns the failing pivot and its value; the wrapper says which and suggests a ridge', () => {
  const A = withSpectrum([3, 2, -1, 1], randomOrthogonal(4, 9)); // indefinite
  const r = ref.choleskyFactor(A, 4);
  assert.ok(r.pivot >= 0);
  const [pivot, value] = withBlocks([128, 8], 'test', (lp, pp) => {
    copyIn(lp!, A);
    return [wasm().choleskyFactor(lp!, 4, 0, pp!), f64(pp!, 1)[0]!];
  });
  assert.is(pivot, r.pivot);
  assert.ok(Math.abs(value! - (r as { value: number }).value) <= 1e-12);
  assert.throws(
    () => choleskyFactor(A, 4),
    (e: Error) =>
      e instanceof RangeError &&
      new RegExp(`pivot at index ${r.pivot} is -?[0-9.e-]+ \\(<= 0\\) with ridge 0`).test(e.message) &&
      /ridge: /.test(e.message),
  );
  // singular: zero matrix, pivot 0 is 0; a ridge fixes it
  assert.throws(() => choleskySolve(new Float64Array(4), 2, new Float64Array(2)), /pivot at index 0 is 0/);
  assert.ok(
    maxAbsDiff(choleskySolve(new Float64Array(4), 2, new Float64Array([1, 2]), { ridge: 2 }), [0.5, 1]) <=
      4 * EPS,
  );
  // a ridge larger than the most negative eigenvalue makes it positive definite
  assert.ok(choleskyFactor(A, 4, { ridge: 1.5 }).every(Number.isFinite));
});

test('bad inputs: TypeError / RangeError naming the parameter', () => {
  const A = spd(3, 1);
  const cases: [() => unknown, RegExp, typeof TypeError][] = [
    [() => choleskyFactor([1] as unknown as Float64Array, 1), /`A` must be a Float64Array/, TypeError],
    [() => choleskyFactor(A, 0), /`dim` must be an integer in \[1, 46340\]. Value: `0`/, RangeError],
    [() => choleskyFactor(A, 2), /`A` must have length 4/, RangeError],
    [
      () => choleskyFactor(A, 3, { ridge: -1 }),
      /`ridge` must be a finite number >= 0. Value: `-1`/,
      RangeError,
    ],
    [
      () =>
        choleskyFactor(
          A.map((v, i) => (i === 4 ? NaN : v)),
          3,
        ),
      /`A` must contain only finite numbers. Value: `NaN` at row 1, column 1/,
      RangeError,
    ],
    [() => choleskySolve(A, 3, new Float64Array(2)), /`b` must have length 3/, RangeError],
    [
      () => choleskySolve(A, 3, new Float32Array(3) as unknown as Float64Array),
      /`b` must be a Float64Array/,
      TypeError,
    ],
  ];
  for (const [f, re, Kind] of cases)
    assert.throws(f, (e: Error) => e instanceof Kind && re.test(e.message), String(re));
});

test.run();
