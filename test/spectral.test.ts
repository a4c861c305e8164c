import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { operatorNorm, operatorNormDiff, relativeError, extremeEigenvalues } from '../src/node.js';
import { extremeRitz, tridiagonalEigenvalue } from '../src/tridiagonal.js';
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

test('operatorNorm (Lanczos and power) agrees with Jacobi to the requested tolerance on indefinite matrices', () => {
  for (const dim of [1, 2, 3, 5, 8, 17, 40, 64]) {
    for (const [tol, method] of [[1e-6, 'power'], [1e-10, 'power'], [1e-6, 'lanczos'], [1e-10, 'lanczos']] as const) {
      const A = symmetric(dim, 100 + dim);
      const exact = ref.operatorNormExact(A, dim);
      const r = operatorNorm(A, dim, { tol, seed: 1, method });
      const ev = ref.jacobiEigenvalues(A, dim);
      // power iteration also needs its residual bound below tol (issue 7): at tol 1e-10 a top
      // pair with |lambda2 / lambda1| = 0.9988 (dim 2) needs more than the 10^4 cap; it must
      // then say so, and its value is still accurate
      assert.ok(r.converged || (method === 'power' && r.iterations === 10000), `dim ${dim} converged`);
      assert.ok(Math.abs(r.value - exact) <= 10 * tol * exact, `dim ${dim} tol ${tol}: ${r.value} vs ${exact} (ev ${ev[0]}, ${ev[dim - 1]})`);
    }
  }
});

test('operatorNorm: the largest magnitude negative, +/- pairs, zero and identity matrices, both methods', () => {
  const Q = randomOrthogonal(6, 2);
  for (const method of ['lanczos', 'power'] as const) {
    const neg = withSpectrum([-5, 4, 1, 0, -2, 3], Q);
    assert.ok(Math.abs(operatorNorm(neg, 6, { tol: 1e-12, method }).value - 5) < 1e-10, method);
    const pm = withSpectrum([-3, 3, 1, 0.5, -0.2, 2], Q);
    const r = operatorNorm(pm, 6, { tol: 1e-12, method });
    assert.ok(r.converged && Math.abs(r.value - 3) < 1e-10, `${method} +/- pair: ${r.value}`);
    const zero = operatorNorm(new Float64Array(36), 6, { method });
    assert.equal([zero.value, zero.converged], [0, true]);
    const I = withSpectrum([1, 1, 1, 1, 1, 1], Q);
    assert.ok(Math.abs(operatorNorm(I, 6, { method }).value - 1) < 1e-12, `${method} identity`);
  }
});

test('Lanczos over 100 start vectors: converged, within tol of Jacobi, at most dim steps; its value equals the TS reference\'s; extremeEigenvalues and the condition number', () => {
  // Behaviour, not the step count: the step-for-step comparison with ref.lanczos this test
  // used to make failed for 6 of 100 start vectors (the driver checks convergence every 4th
  // step after 16, the reference every step: counts differ by 2), and the step count is the
  // implementation's business. Measured over seeds 0-99 at tol 1e-6 and 1e-10: always
  // converged, in 20-30 steps (dim 30), with |value - exact| <= 6.4e-5 tol ||A||.
  const dim = 30, A = symmetric(dim, 9), B = symmetric(dim, 10);
  const D = A.map((v, i) => v - B[i]!);
  const exactA = ref.operatorNormExact(A, dim), exactD = ref.operatorNormExact(D, dim);
  for (let seed = 0; seed < 100; seed++) {
    for (const tol of [1e-6, 1e-10]) {
      for (const [got, exact] of [[operatorNorm(A, dim, { tol, seed }), exactA], [operatorNormDiff(A, B, dim, { tol, seed }), exactD]] as const) {
        assert.is(got.method, 'lanczos');
        assert.ok(got.converged && got.iterations >= 1 && got.iterations <= dim, `seed ${seed} tol ${tol}: converged ${got.converged} in ${got.iterations} steps`);
        assert.ok(Math.abs(got.value - exact) <= tol * exact, `seed ${seed} tol ${tol}: ${got.value} vs ${exact}`);
      }
    }
  }
  const v0 = normals(dim, 0);
  for (const Y of [undefined, B]) {
    const want = ref.lanczos(A, Y, dim, v0, 1e-10, 1000, extremeRitz);
    const got = Y ? operatorNormDiff(A, Y, dim, { tol: 1e-10, seed: 0 }) : operatorNorm(A, dim, { tol: 1e-10, seed: 0 });
    assert.ok(Math.abs(got.value - Math.max(-want.lo, want.hi)) <= 1e-9 * got.value);
  }
  const ev = [0.01, 0.5, 1, 2, 3, 7, 9.5, 10];
  const H = withSpectrum(ev, randomOrthogonal(8, 4));
  const e = extremeEigenvalues(H, 8, { tol: 1e-10 });
  assert.ok(e.converged);
  assert.ok(Math.abs(e.min - 0.01) < 1e-10 * 0.01 * 10, `min ${e.min}`);
  assert.ok(Math.abs(e.max - 10) < 1e-9, `max ${e.max}`);
  assert.ok(Math.abs(e.conditionNumber - 1000) < 1e-6);
  const indefinite = extremeEigenvalues(withSpectrum([-2, 1, 3], randomOrthogonal(3, 5)), 3);
  assert.ok(Math.abs(indefinite.min + 2) < 1e-9 && indefinite.conditionNumber === Infinity);
});

test('tridiagonal helpers: bisection eigenvalues equal Jacobi on the full tridiagonal matrix', () => {
  for (const k of [1, 2, 5, 20]) {
    const alpha = Array.from(normals(k, k));
    const beta = Array.from(normals(Math.max(k - 1, 0), k + 50));
    const T = new Float64Array(k * k);
    for (let i = 0; i < k; i++) { T[i * k + i] = alpha[i]!; if (i < k - 1) { T[i * k + i + 1] = beta[i]!; T[(i + 1) * k + i] = beta[i]!; } }
    const ev = ref.jacobiEigenvalues(T, k);
    for (let j = 0; j < k; j++) assert.ok(Math.abs(tridiagonalEigenvalue(alpha, beta, k, j) - ev[j]!) < 1e-12 * (1 + maxAbs(ev)), `k ${k} j ${j}`);
  }
});

test('operatorNorm: an honest converged=false at the iteration cap', () => {
  const A = withSpectrum([1, 0.999, 0.5, 0.1], randomOrthogonal(4, 3));
  const r = operatorNorm(A, 4, { tol: 1e-12, maxIter: 5, method: 'power' });
  assert.is(r.converged, false);
  assert.is(r.iterations, 5);
  const big = withSpectrum(Array.from({ length: 64 }, (_, i) => 1 - i / 640), randomOrthogonal(64, 3));
  const l = operatorNorm(big, 64, { tol: 1e-14, maxIter: 4 });
  assert.equal([l.converged, l.iterations, l.method], [false, 4, 'lanczos']);
  assert.ok(r.value <= 1 + 1e-12 && r.value > 0.5);
});

test('stopping rules: a well-separated top eigenvalue stops early (Lanczos <= 20 steps, power <= 30 iterations at dim 200), accurate to tol', () => {
  // spectrum: 10, and 199 values evenly in [-1, 1]. Measured over seeds 0-29 at tol 1e-10:
  // Lanczos 10-11 steps, power 13-14 iterations, both exact to 2e-16 relative. Bounds 2x the
  // largest count: a rule that never stops early (or runs to the cap) fails, and so does one
  // that stops before the value is within tol.
  const n = 200;
  const S = withSpectrum(Array.from({ length: n }, (_, i) => (i === n - 1 ? 10 : -1 + (2 * i) / (n - 2))), randomOrthogonal(n, 6));
  for (const seed of [0, 1, 2]) {
    const l = operatorNorm(S, n, { tol: 1e-10, seed });
    const p = operatorNorm(S, n, { tol: 1e-10, seed, method: 'power' });
    assert.ok(l.converged && l.iterations <= 20, `Lanczos: ${l.iterations} steps, converged ${l.converged}`);
    assert.ok(p.converged && p.iterations <= 30, `power: ${p.iterations} iterations, converged ${p.converged}`);
    assert.ok(Math.abs(l.value - 10) <= 1e-9 && Math.abs(p.value - 10) <= 1e-9, `values ${l.value} ${p.value}`);
  }
});

test('a small beta is not an invariant subspace: 5 clusters of 4 eigenvalues 1e-7 apart, norm and both ends exact to tol', () => {
  // After 5 steps the Krylov space holds the 5 cluster centres and beta is ~2e-6 (4e-7 ||A||,
  // far above rounding) but not zero: stopping there gives ends ~1.5e-7 off. Measured over
  // seeds 0-19: converged in 16-20 steps (dim 20), norm within 1.8e-14 relative, both ends
  // within 1.8e-15.
  const ev: number[] = [];
  for (let k = 1; k <= 5; k++) ev.push(k, k - 1e-7, k - 2e-7, k - 3e-7);
  const n = ev.length, A = withSpectrum(ev, randomOrthogonal(n, 3));
  for (const seed of [0, 1, 2]) {
    const r = operatorNorm(A, n, { tol: 1e-10, seed });
    assert.ok(r.converged && Math.abs(r.value - 5) <= 5e-10, `seed ${seed}: norm ${r.value} after ${r.iterations} steps`);
    const e = extremeEigenvalues(A, n, { tol: 1e-10, seed });
    assert.ok(e.converged && Math.abs(e.max - 5) <= 5e-10 && Math.abs(e.min - (1 - 3e-7)) <= 1e-10, `seed ${seed}: ends ${e.min} ${e.max}`);
  }
});

test('power iteration matches its TS reference iteration for iteration', () => {
  const dim = 12, A = symmetric(dim, 5), B = symmetric(dim, 6);
  const v0 = normals(dim, 0);
  for (const [X, Y] of [[A, undefined], [A, B]] as const) {
    const want = ref.powerIteration(X, Y, dim, v0, 1e-9, 10000);
    const got = Y ? operatorNormDiff(X, Y, dim, { tol: 1e-9, seed: 0, method: 'power' }) : operatorNorm(X, dim, { tol: 1e-9, seed: 0, method: 'power' });
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
