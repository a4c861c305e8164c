import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { operatorNorm, operatorNormDiff, relativeError, extremeEigenvalues } from '../../src/node.js';
import { extremeRitz, tridiagonalEigenvalue } from '../../src/spectral/tridiagonal.js';
import { wasm, withBlocks, copyIn, f64 } from '../../src/core/wasm.js';
import * as ref from '../../src/reference/spectral.js';
import {
  setup,
  maxAbs,
  maxAbsDiff,
  normals,
  randomOrthogonal,
  withSpectrum,
  assertSameValues,
} from '../helpers/helpers.js';

test.before(setup);

function symmetric(dim: number, seed: number): Float64Array {
  const a = normals(dim * dim, seed);
  const s = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++)
    for (let j = 0; j < dim; j++) s[i * dim + j] = (a[i * dim + j]! + a[j * dim + i]!) / 2;
  return s;
}

test('matvec and matvecDiff equal the reference at edge dims', () => {
  for (const dim of [1, 2, 3, 4, 5, 8, 17, 64, 129]) {
    const A = symmetric(dim, dim),
      B = symmetric(dim, dim + 1),
      x = normals(dim, 3);
    const [y, yd] = withBlocks(
      [dim * dim * 8, dim * dim * 8, dim * 8, dim * 8, dim * 8],
      'test',
      (a, b, xp, yp, zp) => {
        copyIn(a!, A);
        copyIn(b!, B);
        copyIn(xp!, x);
        wasm().matvec(a!, xp!, yp!, dim);
        wasm().matvecDiff(a!, b!, xp!, zp!, dim);
        return [f64(yp!, dim).slice(), f64(zp!, dim).slice()];
      },
    );
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
    for (const [tol, method] of [
      [1e-6, 'power'],
      [1e-10, 'power'],
      [1e-6, 'lanczos'],
      [1e-10, 'lanczos'],
    ] as const) {
      const A = symmetric(dim, 100 + dim);
      const exact = ref.operatorNormExact(A, dim);
      const r = operatorNorm(A, dim, { tol, seed: 1, method });
      const ev = ref.jacobiEigenvalues(A, dim);
      // power iteration also needs its residual bound below tol (issue 7): at tol 1e-10 a top
      // pair with |lambda2 / lambda1| = 0.9988 (dim 2) needs more than the 10^4 cap; it must
      // then say so, and its value is still accurate
      assert.ok(r.converged || (method === 'power' && r.iterations === 10000), `dim ${dim} converged`);
      assert.ok(
        Math.abs(r.value - exact) <= 10 * tol * exact,
        `dim ${dim} tol ${tol}: ${r.value} vs ${exact} (ev ${ev[0]}, ${ev[dim - 1]})`,
      );
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

test("Lanczos over 100 start vectors: converged, within tol of Jacobi, at most dim steps; its value equals the TS reference's; extremeEigenvalues and the condition number", () => {
  // Behaviour, not the step count: the step-for-step comparison with ref.lanczos this test
  // used to make failed for 6 of 100 start vectors (the driver checks convergence every 4th
  // step after 16, the reference every step: counts differ by 2), and the step count is the
  // implementation's business. Measured over seeds 0-99 at tol 1e-6 and 1e-10: always
  // converged, in 20-30 steps (dim 30), with |value - exact| <= 6.4e-5 tol ||A||.
  const dim = 30,
    A = symmetric(dim, 9),
    B = symmetric(dim, 10);
  const D = A.map((v, i) => v - B[i]!);
  const exactA = ref.operatorNormExact(A, dim),
    exactD = ref.operatorNormExact(D, dim);
  for (let seed = 0; seed < 100; seed++) {
    for (const tol of [1e-6, 1e-10]) {
      for (const [got, exact] of [
        [operatorNorm(A, dim, { tol, seed }), exactA],
        [operatorNormDiff(A, B, dim, { tol, seed }), exactD],
      ] as const) {
        assert.is(got.method, 'lanczos');
        assert.ok(
          got.converged && got.iterations >= 1 && got.iterations <= dim,
          `seed ${seed} tol ${tol}: converged ${got.converged} in ${got.iterations} steps`,
        );
        assert.ok(
          Math.abs(got.value - exact) <= tol * exact,
          `seed ${seed} tol ${tol}: ${got.value} vs ${exact}`,
        );
      }
    }
  }
  const v0 = normals(dim, 0);
  for (const Y of [undefined, B]) {
    const want = ref.lanczos(A, Y, dim, v0, 1e-10, 1000, extremeRitz);
    const got = Y
      ? operatorNormDiff(A, Y, dim, { tol: 1e-10, seed: 0 })
      : operatorNorm(A, dim, { tol: 1e-10, seed: 0 });
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
    for (let i = 0; i < k; i++) {
      T[i * k + i] = alpha[i]!;
      if (i < k - 1) {
        T[i * k + i + 1] = beta[i]!;
        T[(i + 1) * k + i] = beta[i]!;
      }
    }
    const ev = ref.jacobiEigenvalues(T, k);
    for (let j = 0; j < k; j++)
      assert.ok(
        Math.abs(tridiagonalEigenvalue(alpha, beta, k, j) - ev[j]!) < 1e-12 * (1 + maxAbs(ev)),
        `k ${k} j ${j}`,
      );
  }
});

test('operatorNorm: an honest converged=false at the iteration cap', () => {
  const A = withSpectrum([1, 0.999, 0.5, 0.1], randomOrthogonal(4, 3));
  const r = operatorNorm(A, 4, { tol: 1e-12, maxIter: 5, method: 'power' });
  assert.is(r.converged, false);
  assert.is(r.iterations, 5);
  const big = withSpectrum(
    Array.from({ length: 64 }, (_, i) => 1 - i / 640),
    randomOrthogonal(64, 3),
  );
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
  const S = withSpectrum(
    Array.from({ length: n }, (_, i) => (i === n - 1 ? 10 : -1 + (2 * i) / (n - 2))),
    randomOrthogonal(n, 6),
  );
  for (const seed of [0, 1, 2]) {
    const l = operatorNorm(S, n, { tol: 1e-10, seed });
    const p = operatorNorm(S, n, { tol: 1e-10, seed, method: 'power' });
    assert.ok(l.converged && l.iterations <= 20, `Lanczos: ${l.iterations} steps, converged ${l.converged}`);
    assert.ok(
      p.converged && p.iterations <= 30,
      `power: ${p.iterations} iterations, converged ${p.converged}`,
    );
    assert.ok(
      Math.abs(l.value - 10) <= 1e-9 && Math.abs(p.value - 10) <= 1e-9,
      `values ${l.value} ${p.value}`,
    );
  }
});

test('a small beta is not an invariant subspace: 5 clusters of 4 (and of 8) eigenvalues 1e-7 apart, norm and both ends exact to tol', () => {
  // After 5 steps the Krylov space holds the 5 cluster centres and beta is ~2e-6 (4e-7 ||A||,
  // far above rounding) but not zero: stopping there gives ends ~1.5e-7 off. Measured over
  // seeds 0-19: converged in 16-20 steps (dim 20), norm within 1.8e-14 relative, both ends
  // within 1.8e-15.
  // With the checks spaced out (the Ritz analysis runs every few steps), clusters of 4 are
  // often resolved by the first check; clusters of 8 (dim 40) still have beta ~1e-7 ||A||
  // there, and a rule that stopped at beta <= 1e-3 ||A|| returned ends 9.5e-8 off (seeds 0-4).
  for (const per of [4, 8]) {
    const ev: number[] = [];
    for (let k = 1; k <= 5; k++) for (let j = 0; j < per; j++) ev.push(k - j * 1e-7);
    const n = ev.length,
      A = withSpectrum(ev, randomOrthogonal(n, 3));
    for (const seed of [0, 1, 2, 3, 4]) {
      const r = operatorNorm(A, n, { tol: 1e-10, seed });
      assert.ok(
        r.converged && Math.abs(r.value - 5) <= 5e-10,
        `${per} per cluster, seed ${seed}: norm ${r.value} after ${r.iterations} steps`,
      );
      const e = extremeEigenvalues(A, n, { tol: 1e-10, seed });
      assert.ok(
        e.converged && Math.abs(e.max - 5) <= 5e-10 && Math.abs(e.min - (1 - (per - 1) * 1e-7)) <= 1e-10,
        `${per} per cluster, seed ${seed}: ends ${e.min} ${e.max}`,
      );
    }
  }
});

test('power iteration matches its TS reference iteration for iteration', () => {
  const dim = 12,
    A = symmetric(dim, 5),
    B = symmetric(dim, 6);
  const v0 = normals(dim, 0);
  for (const [X, Y] of [
    [A, undefined],
    [A, B],
  ] as const) {
    const want = ref.powerIteration(X, Y, dim, v0, 1e-9, 10000);
    const got = Y
      ? operatorNormDiff(X, Y, dim, { tol: 1e-9, seed: 0, method: 'power' })
      : operatorNorm(X, dim, { tol: 1e-9, seed: 0, method: 'power' });
    assert.ok(
      Math.abs(got.iterations - want.iterations) <= 2,
      `iterations ${got.iterations} vs ${want.iterations}`,
    );
    assert.ok(Math.abs(got.value - want.value) <= 1e-8 * want.value);
  }
});

test('operatorNormDiff and relativeError: equal to forming A - B', () => {
  const dim = 20,
    A = symmetric(dim, 7),
    B = symmetric(dim, 8);
  const D = A.map((v, i) => v - B[i]!);
  const exact = ref.operatorNormExact(D, dim);
  assert.ok(Math.abs(operatorNormDiff(A, B, dim, { tol: 1e-12 }).value - exact) <= 1e-9 * exact);
  const rel = relativeError(A, B, dim, { tol: 1e-12 });
  assert.ok(Math.abs(rel - exact / ref.operatorNormExact(B, dim)) <= 1e-9 * rel);
  assert.is(relativeError(B, B, dim), 0);
  assert.throws(() => relativeError(A, new Float64Array(dim * dim), dim), RangeError);
});

// ---- the prepared-matrix kernels against their plain-TS references, at edge dims ----
// dims: 1, the SIMD width 2 +/- 1, the 4-row block +/- 1, odd, and larger
const EDGE_DIMS = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 64, 129];

test('symMatvec (upper triangle only) equals the reference, and ignores the lower triangle', () => {
  for (const dim of EDGE_DIMS) {
    const A = symmetric(dim, 200 + dim),
      x = normals(dim, 7);
    const junk = A.slice();
    for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) junk[i * dim + j] = 1e300; // never read
    const y = withBlocks([dim * dim * 8, dim * 8, dim * 8], 'test', (a, xp, yp) => {
      copyIn(a!, junk);
      copyIn(xp!, x);
      wasm().symMatvec(a!, xp!, yp!, dim);
      return f64(yp!, dim).slice();
    });
    const want = ref.symMatvec(A, x, dim);
    const tol = 4 * dim * 2.2e-16 * maxAbs(A) * maxAbs(x);
    assert.ok(maxAbsDiff(y, want) <= tol, `symMatvec dim ${dim}: ${maxAbsDiff(y, want)}`);
  }
});

test('matrixInfo and symPrepare equal their references; a non-finite entry anywhere gives NaN', () => {
  const run = (M: Float64Array, dim: number, f1 = 1, f2 = 1) =>
    withBlocks([dim * dim * 8, 16], 'test', (a, o) => {
      copyIn(a!, M);
      wasm().matrixInfo(a!, dim, o!);
      const info = Array.from(f64(o!, 2));
      wasm().symPrepare(a!, dim, f1, f2);
      return { info, prepared: f64(a!, dim * dim).slice() };
    });
  for (const dim of EDGE_DIMS) {
    const M = normals(dim * dim, 300 + dim); // not symmetric: every pair differs
    const { info, prepared } = run(M, dim, 2 ** -500, 2 ** -520);
    assert.equal(info, ref.matrixInfo(M, dim), `matrixInfo dim ${dim}`);
    assertSameValues(prepared, ref.symPrepare(M, dim, 2 ** -500, 2 ** -520), `symPrepare dim ${dim}`);
    for (const pos of new Set([0, dim - 1, dim * dim - 1, (dim >> 1) * dim + (dim >> 2), dim * dim - dim])) {
      for (const v of [NaN, Infinity, -Infinity]) {
        const B = M.slice();
        B[pos] = v;
        const r = run(B, dim).info;
        assert.ok(Number.isNaN(r[0]) && Number.isNaN(r[1]), `dim ${dim} ${v} at ${pos}: ${r}`);
      }
    }
  }
});

test('lanczosSteps equals its plain-TS twin coefficient for coefficient, to an invariant space', () => {
  for (const dim of EDGE_DIMS) {
    const S = symmetric(dim, 400 + dim);
    const v = normals(dim, 1);
    const n = Math.hypot(...v);
    for (let i = 0; i < dim; i++) v[i]! /= n;
    const want = ref.lanczosCoefficients(S, dim, v, dim);
    const got = withBlocks(
      [dim * dim * 8, (dim + 1) * dim * 8, dim * 8, dim * 8, dim * 8],
      'test',
      (a, basis, al, be, h) => {
        copyIn(a!, S);
        copyIn(basis!, v);
        // in two runs, as the driver calls it
        const mid = Math.max(1, dim >> 1);
        let k = wasm().lanczosSteps(a!, dim, basis!, 0, mid, al!, be!, h!);
        if (k === mid) k = wasm().lanczosSteps(a!, dim, basis!, k, dim, al!, be!, h!);
        return { alpha: Array.from(f64(al!, k)), beta: Array.from(f64(be!, k)) };
      },
    );
    assert.is(got.alpha.length, want.alpha.length, `dim ${dim} steps`);
    const scale = maxAbs(S) * dim;
    for (let i = 0; i < got.alpha.length; i++) {
      assert.ok(Math.abs(got.alpha[i]! - want.alpha[i]!) <= 1e-12 * scale, `dim ${dim} alpha ${i}`);
      assert.ok(Math.abs(got.beta[i]! - want.beta[i]!) <= 1e-12 * scale, `dim ${dim} beta ${i}`);
    }
  }
});

/** ritzEnds in wasm on T_k (alpha, beta), state in and out (5 doubles), for the ends in `mask`. */
function wasmRitzEnds(
  alpha: number[],
  beta: number[],
  k: number,
  betaK: number,
  state: Float64Array,
  mask = 3,
): void {
  const n = Math.max(k, 1);
  withBlocks([n * 8, n * 8, 48, 2 * n * 8], 'test', (al, be, st, sc) => {
    copyIn(al!, Float64Array.from(alpha.slice(0, k)));
    copyIn(be!, Float64Array.from(beta.slice(0, k)));
    copyIn(st!, state);
    (wasm() as unknown as { ritzEnds(...a: number[]): void }).ritzEnds(al!, be!, k, betaK, mask, st!, sc!);
    state.set(f64(st!, 5));
  });
}

test('ritzEnds (wasm) equals its TS twin and the bisection / inverse-iteration oracle, cold and warm-started check after check, at edge orders', () => {
  const ks = new Set([1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 64, 65, 129]);
  const spectrumCases: [string, (n: number) => Float64Array][] = [
    ['random', (n) => symmetric(n, 11 + n)],
    [
      '2% gap, negative bottom',
      (n) =>
        withSpectrum(
          Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (i === 0 ? 1 : 0.98 * (1 - i / n))),
          randomOrthogonal(n, 3),
        ),
    ],
    [
      'cluster 1e-7 at both ends',
      (n) =>
        withSpectrum(
          Array.from({ length: n }, (_, i) =>
            i === 0 ? 5 - 1e-7 : i === 1 ? 5 : i === 2 ? -4 : i === 3 ? -4 + 1e-7 : Math.sin(i),
          ),
          randomOrthogonal(n, 12),
        ),
    ],
    [
      'definite, wide',
      (n) =>
        withSpectrum(
          Array.from({ length: n }, (_, i) => 10 ** (-4 + (8 * i) / n)),
          randomOrthogonal(n, 4),
        ),
    ],
  ];
  for (const [name, make] of spectrumCases) {
    for (const dim of [9, 40, 130]) {
      const S = make(dim);
      const v = normals(dim, 2);
      const n = Math.hypot(...v);
      const { alpha, beta } = ref.lanczosCoefficients(
        S,
        dim,
        v.map((x) => x / n),
        dim,
      );
      const warmW = new Float64Array(5),
        warmR = new Float64Array(5);
      for (const k of [
        ...ks,
        ...Array.from({ length: alpha.length }, (_, i) => i + 1).filter((i) => i % 5 === 0),
      ].sort((x, y) => x - y)) {
        if (k > alpha.length) continue;
        const bk = beta[k - 1]!;
        const want = extremeRitz(alpha, beta, k, bk);
        const cold = new Float64Array(5);
        wasmRitzEnds(alpha, beta, k, bk, cold);
        const coldRef = new Float64Array(5);
        ref.ritzEnds(alpha, beta, k, bk, coldRef);
        wasmRitzEnds(alpha, beta, k, bk, warmW);
        ref.ritzEnds(alpha, beta, k, bk, warmR);
        let tnorm = 0;
        for (let i = 0; i < k; i++)
          tnorm = Math.max(
            tnorm,
            Math.abs(alpha[i]!) + Math.abs(beta[i]!) + (i ? Math.abs(beta[i - 1]!) : 0),
          );
        for (const [label, got] of [
          ['cold', cold],
          ['warm', warmW],
          ['TS cold', coldRef],
          ['TS warm', warmR],
        ] as const) {
          assert.is(got[4], k, `${name} ${dim} k ${k} ${label}: k stored`);
          for (const e of [0, 1]) {
            const w = want[e]!,
              value = got[2 * e]!,
              err = got[2 * e + 1]!;
            assert.ok(
              Math.abs(value - w.value) <= 16 * Number.EPSILON * tnorm,
              `${name} ${dim} k ${k} ${label} end ${e}: ${value} vs ${w.value}`,
            );
            // the residual bounds agree where they decide anything (above rounding level)
            const floor = 1e-14 * tnorm;
            assert.ok(
              Math.abs(err - w.error) <= 1e-6 * w.error + floor,
              `${name} ${dim} k ${k} ${label} end ${e} bound ${err} vs ${w.error}`,
            );
          }
        }
        // wasm and its twin: the same arithmetic, the same bits
        assertSameValues(cold, coldRef, `${name} ${dim} k ${k}: wasm = TS (cold)`);
        assertSameValues(warmW, warmR, `${name} ${dim} k ${k}: wasm = TS (warm)`);
      }
      // one end only: the other keeps its previous values
      const k = alpha.length,
        st = new Float64Array([7, 7, 7, 7, 0]);
      wasmRitzEnds(alpha, beta, k, beta[k - 1]!, st, 2);
      assert.equal([st[0], st[1]], [7, 7], `${name} ${dim}: the low end untouched`);
      assert.ok(
        Math.abs(st[2]! - extremeRitz(alpha, beta, k, beta[k - 1]!)[1]!.value) <=
          1e-13 * (1 + Math.abs(st[2]!)),
        `${name} ${dim}: high end`,
      );
    }
  }
});

test('ritzEnds: warm-started checks take a few passes over T; cold ones stay bounded', () => {
  const dim = 256;
  const S = withSpectrum(
    Array.from({ length: dim }, (_, i) => (i % 2 ? -1 : 1) * (i === 0 ? 1 : 0.98 * (1 - i / dim))),
    randomOrthogonal(dim, 3),
  );
  const v = normals(dim, 0),
    n = Math.hypot(...v);
  const { alpha, beta } = ref.lanczosCoefficients(
    S,
    dim,
    v.map((x) => x / n),
    110,
  );
  const st = new Float64Array(5);
  let late = 0;
  for (let k = 4; k <= alpha.length; k += 4) {
    ref.ritzEnds(alpha, beta, k, beta[k - 1]!, st);
    assert.ok(ref.ritzStats.passes <= 60, `k ${k}: ${ref.ritzStats.passes} passes`);
    if (k >= 60) late = Math.max(late, ref.ritzStats.passes);
  }
  // measured: 4-6 Sturm/Laguerre passes for both ends once the ends have settled
  assert.ok(late <= 12, `late checks: up to ${late} passes`);
});

// ---- preconditions: finite, symmetric to a relative tolerance, any scale (issue 11, item 7) ----

type Fn = (M: Float64Array, dim: number, opts?: Record<string, unknown>) => number;
/** Every spectral entry point, as one function of one matrix (the other argument benign). */
const entries: [string, string, Fn][] = [
  ['operatorNorm lanczos', 'A', (M, d, o) => operatorNorm(M, d, { ...o }).value],
  ['operatorNorm power', 'A', (M, d, o) => operatorNorm(M, d, { method: 'power', ...o }).value],
  ['operatorNormDiff (A)', 'A', (M, d, o) => operatorNormDiff(M, new Float64Array(d * d), d, o).value],
  [
    'operatorNormDiff (B)',
    'B',
    (M, d, o) => operatorNormDiff(new Float64Array(d * d), M, d, { method: 'power', ...o }).value,
  ],
  ['relativeError (estimate)', 'estimate', (M, d, o) => relativeError(M, identity(d), d, o)],
  ['relativeError (truth)', 'truth', (M, d, o) => 1 / relativeError(new Float64Array(d * d), M, d, o)],
  [
    'extremeEigenvalues max',
    'A',
    (M, d, o) => {
      const e = extremeEigenvalues(M, d, o);
      return Math.max(-e.min, e.max);
    },
  ],
];

function identity(dim: number): Float64Array {
  const I = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) I[i * dim + i] = 1;
  return I;
}

test('any finite symmetric matrix gets a finite, correct answer: norms near 1.6e308 and 1e-300 (all entry points)', () => {
  const Q = randomOrthogonal(5, 21);
  const unit = withSpectrum([1.6, -0.9, 0.5, 0.25, -1.2], Q); // ||unit|| = 1.6
  for (const s of [1e308 / 1.6, 1e308, 2 ** 1020, 1e200, 1e-300, 2 ** -1060, 1]) {
    if (!Number.isFinite(1.6 * s)) continue;
    const M = unit.map((v) => v * s);
    for (const [name, , f] of entries) {
      if (name.startsWith('relativeError')) continue; // a ratio: checked below
      const want = 1.6 * s;
      const v = f(M, 5, { tol: 1e-12 });
      assert.ok(
        Number.isFinite(v) && Math.abs(v / want - 1) <= 1e-10,
        `${name} at scale ${s}: ${v} vs ${want}`,
      );
    }
  }
  // the case: a norm of about 1.6e308 was NaN with converged: true
  const big = withSpectrum([1.6e308, 1e307, -1e308], randomOrthogonal(3, 5));
  for (const method of ['lanczos', 'power'] as const) {
    const r = operatorNorm(big, 3, { method, tol: 1e-12 });
    assert.ok(r.converged && Math.abs(r.value / 1.6e308 - 1) < 1e-10, `${method}: ${r.value}`);
  }
  const e = extremeEigenvalues(big, 3, { tol: 1e-12 });
  assert.ok(
    Math.abs(e.max / 1.6e308 - 1) < 1e-10 && Math.abs(e.min / -1e308 - 1) < 1e-10 && e.converged,
    `${e.min} ${e.max}`,
  );
  // A - B formed after scaling: entries near the largest double do not overflow
  const A = withSpectrum([1.7e308, 1e308, 1e300], Q.subarray(0, 0).length ? Q : randomOrthogonal(3, 6));
  const B = A.map((v) => v / 2);
  const d = operatorNormDiff(A, B, 3, { tol: 1e-12 });
  assert.ok(
    Number.isFinite(d.value) && Math.abs(d.value / (0.5 * 1.7e308) - 1) < 1e-10 && d.converged,
    `${d.value}`,
  );
  // relativeError of huge matrices is computed on common scaled copies
  assert.ok(
    Math.abs(
      relativeError(
        A.map((v) => v * 1.05),
        A,
        3,
        { tol: 1e-12 },
      ) - 0.05,
    ) < 1e-10,
  );
  assert.ok(
    Math.abs(
      relativeError(
        A.map((v) => v * 1e-300),
        A.map((v) => v * 2e-300),
        3,
        { tol: 1e-12 },
      ) - 0.5,
    ) < 1e-10,
  );
  // scales too far apart for one common scale: truth 1e-300, estimate - truth about 1e-100
  const T = A.map((v) => (v * 1e-300) / 1.7e308),
    E = T.map((v, i) => v + (A[i]! * 1e-100) / 1.7e308);
  const rel = relativeError(E, T, 3, { tol: 1e-12 });
  assert.ok(Math.abs(rel / 1e200 - 1) < 1e-9, `${rel}`);
});

test('a norm beyond the largest double is a RangeError, never Infinity or NaN', () => {
  const M = new Float64Array([1e308, 1e308, 1e308, 1e308]); // ||M|| = 2e308
  for (const [name, param, f] of entries) {
    if (name.startsWith('relativeError')) continue; // a ratio: finite
    let err: unknown;
    try {
      f(M, 2);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof RangeError && /largest double/.test(err.message), `${name} (${param}): ${err}`);
  }
  const I = identity(2).map((v) => v * 1.5e308);
  assert.throws(
    () =>
      operatorNormDiff(
        I,
        I.map((v) => -v),
        2,
      ),
    (e: Error) => e instanceof RangeError && /A - B/.test(e.message),
  );
  assert.throws(
    () =>
      relativeError(
        identity(2).map((v) => v * 1e300),
        identity(2).map((v) => v * 1e-300),
        2,
      ),
    (e: Error) => e instanceof RangeError && /overflows/.test(e.message),
  );
});

test('symmetry is checked with a relative tolerance (1e-10 of the largest entry), at every scale, for every entry point', () => {
  for (const dim of [2, 3, 5, 8, 9]) {
    const S = symmetric(dim, 500 + dim);
    const m = maxAbs(S);
    for (const scale of [1, 1e-300, 1e300]) {
      for (const [rel, ok] of [
        [1e-12, true],
        [5e-11, true],
        [1e-9, false],
        [1, false],
      ] as const) {
        const M = S.map((v) => v * scale);
        M[dim - 1] = M[dim - 1]! + rel * m * scale; // entry (0, dim - 1) only: its mirror keeps the old value
        for (const [name, param, f] of entries) {
          if (ok) {
            const v = f(M, dim);
            assert.ok(Number.isFinite(v), `${name} dim ${dim} asym ${rel} scale ${scale}`);
          } else {
            assert.throws(
              () => f(M, dim),
              (e: Error) =>
                e instanceof RangeError &&
                e.message.includes(`\`${param}\` must be symmetric`) &&
                e.message.includes(`${param}[0][${dim - 1}]`),
              `${name} dim ${dim} asym ${rel} scale ${scale}`,
            );
          }
        }
      }
    }
  }
  // the case: a non-symmetric input no longer returns a wrong value marked converged
  assert.throws(() => operatorNorm(new Float64Array([1, 2, 3, 4]), 2), /`A` must be symmetric/);
  assert.throws(
    () => operatorNorm(new Float64Array([0, 1, 0, 0]), 2, { method: 'power' }),
    /`A` must be symmetric/,
  );
});

test('asymmetry beyond the double range (a_ij = 1e308, a_ji = -1e308) is a symmetry RangeError, not a finiteness one, in the blocks and the scalar tail', () => {
  for (const [dim, i, j] of [
    [2, 0, 1],
    [5, 0, 1],
    [5, 0, 4],
    [5, 4, 2],
    [9, 3, 8],
    [8, 6, 1],
  ] as const) {
    const M = identity(dim);
    M[i * dim + j] = 1e308;
    M[j * dim + i] = -1e308;
    for (const [name, param, f] of entries) {
      assert.throws(
        () => f(M, dim),
        (e: Error) => e instanceof RangeError && e.message.includes(`\`${param}\` must be symmetric`),
        `${name} dim ${dim} (${i}, ${j})`,
      );
    }
  }
});

test("rounding-level asymmetry: the iteration uses the symmetric part (A + A')/2", () => {
  const dim = 6,
    S = symmetric(dim, 31);
  const M = S.slice();
  M[1] = M[1]! * (1 + 4e-11); // within the tolerance
  const sym = M.slice();
  sym[1] = sym[dim] = (M[1]! + M[dim]!) / 2;
  const exact = ref.operatorNormExact(sym, dim);
  for (const method of ['lanczos', 'power'] as const) {
    assert.ok(Math.abs(operatorNorm(M, dim, { method, tol: 1e-12 }).value - exact) <= 1e-11 * exact, method);
  }
});

test('non-finite entries are rejected naming the matrix, in every entry point; NaN is never reported converged', () => {
  for (const [name, param, f] of entries) {
    for (const v of [NaN, Infinity, -Infinity]) {
      const M = identity(3);
      M[5] = v;
      assert.throws(
        () => f(M, 3),
        (e: Error) => e instanceof RangeError && e.message.includes(`\`${param}\``),
        `${name} ${v}`,
      );
    }
  }
  // a sweep of scales and shapes that used to produce NaN or 0: every result finite and converged
  for (const s of [1.7976931348623157e308, 1e308, 1e200, 1e154, 1e-154, 1e-300, 5e-324]) {
    for (const dim of [1, 2, 3, 4, 5]) {
      const D = new Float64Array(dim * dim);
      for (let i = 0; i < dim; i++) D[i * dim + i] = i % 2 ? -s : s; // norm s, representable
      for (const method of ['lanczos', 'power'] as const) {
        const r = operatorNorm(D, dim, { method, tol: 1e-12 });
        assert.ok(
          r.converged && Math.abs(r.value / s - 1) <= 4 * Number.EPSILON,
          `${method} dim ${dim} scale ${s}: ${r.value} (converged ${r.converged})`,
        );
      }
      const e = extremeEigenvalues(D, dim);
      assert.ok(
        e.converged &&
          Math.abs(e.max / s - 1) <= 4 * Number.EPSILON &&
          Math.abs(e.min / (dim > 1 ? -s : s) - 1) <= 4 * Number.EPSILON,
        `extreme dim ${dim} scale ${s}: ${e.min} ${e.max}`,
      );
    }
  }
});

// ---- maxIter bounds (issue 11, item 15) ----

test('maxIter: 1 to 2^31 - 1 run at least one iteration; above that a RangeError naming maxIter (every entry point)', () => {
  const dim = 4,
    A = withSpectrum([1, -0.5, 0.25, 0.1], randomOrthogonal(dim, 8));
  for (const [name, , f] of entries) {
    for (const maxIter of [2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53, 1e300]) {
      assert.throws(
        () => f(A, dim, { maxIter }),
        (e: Error) => e instanceof RangeError && /`maxIter`/.test(e.message),
        `${name} maxIter ${maxIter}`,
      );
    }
    for (const maxIter of [0, -1, 1.5, NaN, Infinity]) {
      assert.throws(
        () => f(A, dim, { maxIter }),
        (e: Error) => e instanceof RangeError && /`maxIter`/.test(e.message),
        `${name} maxIter ${maxIter}`,
      );
    }
  }
  for (const method of ['lanczos', 'power'] as const) {
    // the largest allowed cap: a normal run, never "0 after 0 iterations"
    const r = operatorNorm(A, dim, { method, maxIter: 2 ** 31 - 1, tol: 1e-12 });
    assert.ok(
      r.converged && r.iterations >= 1 && Math.abs(r.value - 1) < 1e-11,
      `${method}: ${r.value} after ${r.iterations}`,
    );
    const one = operatorNorm(A, dim, { method, maxIter: 1 });
    assert.is(one.iterations, 1, method);
    assert.ok(one.value > 0 && one.value <= 1 + 1e-12, `${method} one step: ${one.value}`);
  }
  const e = extremeEigenvalues(A, dim, { maxIter: 2 ** 31 - 1 });
  assert.ok(e.converged && e.iterations >= 1 && Math.abs(e.max - 1) < 1e-9);
});

test.run();
