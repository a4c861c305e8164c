import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { operatorNorm, operatorNormDiff, relativeError } from '../src/node.js';
import { wasm, withBlocks, copyIn, f64 } from '../src/wasm.js';
import * as ref from '../src/reference/spectral.js';
import { setup, maxAbs, maxAbsDiff, normals, randomOrthogonal, withSpectrum } from './helpers.js';

test.before(setup);

function symmetric(dim: number, seed: number): Float64Array {
  const a = normals(dim * dim, seed);
  const s = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) s[i * dim + j] = (a[i * dim + j]! + a[j * dim + i]!) / 2;
  return s;
}

test('matvec and matvecDiff equal the reference at edge dims', () => {
  for (const dim of [1, 2, 3, 4, 5, 8, 17, 64, 129]) {
    const A = symmetric(dim, dim), B = symmetric(dim, dim + 1), x = normals(dim, 3);
    const [y, yd] = withBlocks([dim * dim * 8, dim * dim * 8, dim * 8, dim * 8, dim * 8], 'test', (a, b, xp, yp, zp) => {
      copyIn(a!, A); copyIn(b!, B); copyIn(xp!, x);
      wasm().matvec(a!, xp!, yp!, dim);
      wasm().matvecDiff(a!, b!, xp!, zp!, dim);
      return [f64(yp!, dim).slice(), f64(zp!, dim).slice()];
    });
    const want = ref.matvec(A, x, dim);
    const D = A.map((v, i) => v - B[i]!);
    const wantD = ref.matvec(D, x, dim);
    const tol = 4 * dim * 2.2e-16 * maxAbs(A) * maxAbs(x) * 2;
    assert.ok(maxAbsDiff(y!, want) <= tol, `matvec dim ${dim}`);
    assert.ok(maxAbsDiff(yd!, wantD) <= 2 * tol, `matvecDiff dim ${dim}`);
  }
});

test('Jacobi reference: eigenvalues of a matrix with a known spectrum', () => {
  const ev = [-3, -1, 0.5, 2, 2.5];
  const A = withSpectrum(ev, randomOrthogonal(5, 1));
  const got = ref.jacobiEigenvalues(A, 5);
  assert.ok(maxAbsDiff(got, ev) < 1e-12, `${Array.from(got)}`);
});

test('operatorNorm agrees with Jacobi to the requested tolerance on indefinite matrices', () => {
  for (const dim of [1, 2, 3, 5, 8, 17, 40, 64]) {
    for (const tol of [1e-6, 1e-10]) {
      const A = symmetric(dim, 100 + dim);
      const exact = ref.operatorNormExact(A, dim);
      const r = operatorNorm(A, dim, { tol, seed: 1 });
      const ev = ref.jacobiEigenvalues(A, dim);
      assert.ok(r.converged, `dim ${dim} converged`);
      assert.ok(Math.abs(r.value - exact) <= 10 * tol * exact, `dim ${dim} tol ${tol}: ${r.value} vs ${exact} (ev ${ev[0]}, ${ev[dim - 1]})`);
    }
  }
});

test('operatorNorm: the largest magnitude negative, +/- pairs, zero and identity matrices', () => {
  const Q = randomOrthogonal(6, 2);
  const neg = withSpectrum([-5, 4, 1, 0, -2, 3], Q);
  assert.ok(Math.abs(operatorNorm(neg, 6, { tol: 1e-12 }).value - 5) < 1e-10);
  const pm = withSpectrum([-3, 3, 1, 0.5, -0.2, 2], Q);
  const r = operatorNorm(pm, 6, { tol: 1e-12 });
  assert.ok(r.converged && Math.abs(r.value - 3) < 1e-10, `+/- pair: ${r.value}`);
  const zero = operatorNorm(new Float64Array(36), 6);
  assert.equal([zero.value, zero.converged], [0, true]);
  const I = withSpectrum([1, 1, 1, 1, 1, 1], Q);
  assert.ok(Math.abs(operatorNorm(I, 6).value - 1) < 1e-12);
});

test('operatorNorm: an honest converged=false at the iteration cap', () => {
  const A = withSpectrum([1, 0.999, 0.5, 0.1], randomOrthogonal(4, 3));
  const r = operatorNorm(A, 4, { tol: 1e-12, maxIter: 5 });
  assert.is(r.converged, false);
  assert.is(r.iterations, 5);
  assert.ok(r.value <= 1 + 1e-12 && r.value > 0.5);
});

test('power iteration matches its TS reference iteration for iteration', () => {
  const dim = 12, A = symmetric(dim, 5), B = symmetric(dim, 6);
  const v0 = normals(dim, 0);
  for (const [X, Y] of [[A, undefined], [A, B]] as const) {
    const want = ref.powerIteration(X, Y, dim, v0, 1e-9, 10000);
    const got = Y ? operatorNormDiff(X, Y, dim, { tol: 1e-9, seed: 0 }) : operatorNorm(X, dim, { tol: 1e-9, seed: 0 });
    assert.ok(Math.abs(got.iterations - want.iterations) <= 2, `iterations ${got.iterations} vs ${want.iterations}`);
    assert.ok(Math.abs(got.value - want.value) <= 1e-8 * want.value);
  }
});

test('operatorNormDiff and relativeError: equal to forming A - B', () => {
  const dim = 20, A = symmetric(dim, 7), B = symmetric(dim, 8);
  const D = A.map((v, i) => v - B[i]!);
  const exact = ref.operatorNormExact(D, dim);
  assert.ok(Math.abs(operatorNormDiff(A, B, dim, { tol: 1e-12 }).value - exact) <= 1e-9 * exact);
  const rel = relativeError(A, B, dim, { tol: 1e-12 });
  assert.ok(Math.abs(rel - exact / ref.operatorNormExact(B, dim)) <= 1e-9 * rel);
  assert.is(relativeError(B, B, dim), 0);
  assert.throws(() => relativeError(A, new Float64Array(dim * dim), dim), RangeError);
});

test.run();
