// Plain-TS references for the spectral kernels: matrix-vector product, power iteration
// (same stopping rule as assembly/spectral.ts) and cyclic Jacobi eigenvalues (the oracle).

import { firstCheck, checkInterval } from '../spectral/spectral.js'; // the check schedule is policy, shared

export function matvec(
  A: Float64Array,
  x: Float64Array,
  dim: number,
  y = new Float64Array(dim),
): Float64Array {
  for (let i = 0; i < dim; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += A[i * dim + j]! * x[j]!;
    y[i] = s;
  }
  return y;
}

/** Power iteration for max |lambda| of symmetric A (or A - B), from start vector v0. */
export function powerIteration(
  A: Float64Array,
  B: Float64Array | undefined,
  dim: number,
  v0: Float64Array,
  tol: number,
  maxIter: number,
): { value: number; iterations: number; converged: boolean } {
  const v = Float64Array.from(v0);
  let norm = Math.hypot(...v);
  for (let i = 0; i < dim; i++) v[i]! /= norm;
  let theta = 0,
    prevTheta = 0,
    prevDelta = Infinity,
    it = 0;
  const w = new Float64Array(dim);
  let prev = new Float64Array(dim);
  const floor = 8 * dim * Number.EPSILON;
  while (it < maxIter) {
    it++;
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += (A[i * dim + j]! - (B ? B[i * dim + j]! : 0)) * v[j]!;
      w[i] = s;
    }
    norm = 0;
    for (let i = 0; i < dim; i++) norm += w[i]! * w[i]!;
    theta = Math.sqrt(norm);
    if (theta === 0) return { value: 0, iterations: it, converged: true };
    // residual bound: some |lambda| lies within ||S v_k - theta_{k-1} v_{k-1}|| of theta_{k-1}
    let resOk = false;
    if (it > 1) {
      let r2 = 0;
      for (let i = 0; i < dim; i++) r2 += (w[i]! - prevTheta * prev[i]!) ** 2;
      resOk = Math.sqrt(r2) <= tol * prevTheta + floor * theta;
    }
    prev = v.slice();
    for (let i = 0; i < dim; i++) v[i] = w[i]! / theta;
    if (it > 1) {
      const delta = Math.abs(theta - prevTheta);
      if (delta === 0 && resOk) return { value: theta, iterations: it, converged: true };
      if (prevDelta < Infinity && delta > 0) {
        let err = delta;
        if (delta < prevDelta) {
          const q = delta / prevDelta;
          err = Math.max(delta, (delta * q) / (1 - q));
        }
        if (err <= tol * theta && resOk) return { value: theta, iterations: it, converged: true };
      }
      if (delta > 0) prevDelta = delta;
    }
    prevTheta = theta;
  }
  return { value: theta, iterations: it, converged: false };
}

/** All eigenvalues of a symmetric matrix by cyclic Jacobi rotations, ascending. */
export function jacobiEigenvalues(A: Float64Array, dim: number, sweeps = 100): Float64Array {
  const a = Float64Array.from(A);
  for (let s = 0; s < sweeps; s++) {
    let off = 0;
    for (let p = 0; p < dim; p++) for (let q = p + 1; q < dim; q++) off += a[p * dim + q]! ** 2;
    if (off < 1e-30 * (1 + frob(a))) break;
    for (let p = 0; p < dim; p++) {
      for (let q = p + 1; q < dim; q++) {
        const apq = a[p * dim + q]!;
        if (apq === 0) continue;
        const app = a[p * dim + p]!,
          aqq = a[q * dim + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          sn = t * c;
        for (let k = 0; k < dim; k++) {
          const akp = a[k * dim + p]!,
            akq = a[k * dim + q]!;
          a[k * dim + p] = c * akp - sn * akq;
          a[k * dim + q] = sn * akp + c * akq;
        }
        for (let k = 0; k < dim; k++) {
          const apk = a[p * dim + k]!,
            aqk = a[q * dim + k]!;
          a[p * dim + k] = c * apk - sn * aqk;
          a[q * dim + k] = sn * apk + c * aqk;
        }
      }
    }
  }
  const ev = new Float64Array(dim);
  for (let i = 0; i < dim; i++) ev[i] = a[i * dim + i]!;
  return ev.sort();
}

function frob(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return s;
}

/** ||A||_2 of a symmetric matrix from its Jacobi eigenvalues. */
export function operatorNormExact(A: Float64Array, dim: number): number {
  const ev = jacobiEigenvalues(A, dim);
  return Math.max(Math.abs(ev[0]!), Math.abs(ev[dim - 1]!));
}

/**
 * Lanczos with full reorthogonalisation (the plain-TS twin of assembly lanczosSteps plus the
 * driver in src/spectral/spectral.ts): classical Gram–Schmidt against the whole basis, a second pass
 * only when the first removed most of the norm (DGKS), the same check schedule, and the
 * extreme Ritz values from `ritz` at each check until both error estimates are within
 * tol * max(|lo|, |hi|), or beta is at rounding level.
 */
export function lanczos(
  A: Float64Array,
  B: Float64Array | undefined,
  dim: number,
  v0: Float64Array,
  tol: number,
  maxSteps: number,
  ritz: (
    alpha: number[],
    beta: number[],
    k: number,
    betaK: number,
  ) => [{ value: number; error: number }, { value: number; error: number }],
  schedule: {
    first: (dim: number, steps: number) => number;
    interval: (k: number, dim: number) => number;
  } = { first: firstCheck, interval: checkInterval },
) {
  const S = B ? A.map((v, i) => v - B[i]!) : A;
  const basis: Float64Array[] = [];
  let n0 = 0;
  for (const v of v0) n0 += v * v;
  basis.push(v0.map((v) => v / Math.sqrt(n0)));
  const alpha: number[] = [],
    beta: number[] = [];
  let lo = 0,
    hi = 0,
    it = 0,
    converged = false,
    tnorm = 0;
  const steps = Math.min(maxSteps, dim);
  let next = schedule.first(dim, steps);
  const project = (w: Float64Array) => {
    const h = basis.map((vj) => {
      let c = 0;
      for (let i = 0; i < dim; i++) c += vj[i]! * w[i]!;
      return c;
    });
    basis.forEach((vj, j) => {
      for (let i = 0; i < dim; i++) w[i]! -= h[j]! * vj[i]!;
    });
    let n = 0;
    for (let i = 0; i < dim; i++) n += w[i]! * w[i]!;
    return Math.sqrt(n);
  };
  while (it < steps) {
    const vk = basis[it]!;
    const w = matvec(S, vk, dim);
    let a = 0,
      before = 0;
    for (let i = 0; i < dim; i++) a += vk[i]! * w[i]!;
    for (let i = 0; i < dim; i++) w[i]! -= a * vk[i]! + (it > 0 ? beta[it - 1]! * basis[it - 1]![i]! : 0);
    for (let i = 0; i < dim; i++) before += w[i]! * w[i]!;
    let b = project(w);
    if (b < Math.SQRT1_2 * Math.sqrt(before)) b = project(w);
    basis.push(b > 0 ? w.map((v) => v / b) : w);
    alpha.push(a);
    it++;
    tnorm = Math.max(tnorm, Math.abs(a), b);
    const invariant = b <= 8 * Number.EPSILON * tnorm;
    if (!invariant && it < Math.min(next, steps)) {
      beta.push(b);
      continue;
    }
    const [e0, e1] = ritz(alpha, beta, it, b);
    lo = e0.value;
    hi = e1.value;
    const norm = Math.max(Math.abs(lo), Math.abs(hi));
    if (invariant || b <= 8 * Number.EPSILON * norm || (e0.error <= tol * norm && e1.error <= tol * norm)) {
      converged = true;
      break;
    }
    beta.push(b);
    next = it + schedule.interval(it, dim);
  }
  return { lo, hi, iterations: it, converged };
}

/** Plain-TS twin of assembly symMatvec: y = S x with S given by its upper triangle. */
export function symMatvec(A: Float64Array, x: Float64Array, dim: number): Float64Array {
  const y = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += (j >= i ? A[i * dim + j]! : A[j * dim + i]!) * x[j]!;
    y[i] = s;
  }
  return y;
}

/** Plain-TS twin of assembly matrixInfo: [max |a_ij|, max |a_ij - a_ji|], both NaN for a non-finite entry. */
export function matrixInfo(A: Float64Array, dim: number): [number, number] {
  let mx = 0,
    asym = 0;
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) {
      const a = A[i * dim + j]!;
      if (!Number.isFinite(a)) return [NaN, NaN];
      mx = Math.max(mx, Math.abs(a));
      asym = Math.max(asym, Math.abs(a - A[j * dim + i]!));
    }
  }
  return [mx, asym];
}

/** Plain-TS twin of assembly symPrepare: entries scaled by f1 then f2, pairs replaced by their mean. */
export function symPrepare(A: Float64Array, dim: number, f1: number, f2: number): Float64Array {
  const out = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) {
      out[i * dim + j] =
        i === j
          ? A[i * dim + i]! * f1 * f2
          : A[i * dim + j]! * f1 * (f2 * 0.5) + A[j * dim + i]! * f1 * (f2 * 0.5);
    }
  }
  return out;
}

/**
 * Plain-TS twin of assembly lanczosSteps from step 0: the Lanczos coefficients alpha, beta
 * (classical Gram–Schmidt, DGKS second pass) for `steps` steps or until beta is at
 * rounding level.
 */
export function lanczosCoefficients(
  S: Float64Array,
  dim: number,
  v0: Float64Array,
  steps: number,
): { alpha: number[]; beta: number[] } {
  const basis: Float64Array[] = [v0.slice()];
  const alpha: number[] = [],
    beta: number[] = [];
  let tnorm = 0;
  for (let k = 0; k < steps; k++) {
    const w = symMatvec(S, basis[k]!, dim);
    let a = 0,
      before = 0;
    for (let i = 0; i < dim; i++) a += basis[k]![i]! * w[i]!;
    for (let i = 0; i < dim; i++) w[i]! -= a * basis[k]![i]! + (k > 0 ? beta[k - 1]! * basis[k - 1]![i]! : 0);
    for (let i = 0; i < dim; i++) before += w[i]! * w[i]!;
    const pass = () => {
      const h = basis.map((v) => v.reduce((s, vi, i) => s + vi * w[i]!, 0));
      basis.forEach((v, j) => {
        for (let i = 0; i < dim; i++) w[i]! -= h[j]! * v[i]!;
      });
      return Math.sqrt(w.reduce((s, x) => s + x * x, 0));
    };
    let b = pass();
    if (b < Math.SQRT1_2 * Math.sqrt(before)) b = pass();
    alpha.push(a);
    beta.push(b);
    basis.push(b > 0 ? w.map((x) => x / b) : w);
    tnorm = Math.max(tnorm, Math.abs(a), b);
    if (b <= 8 * Number.EPSILON * tnorm) break;
  }
  return { alpha, beta };
}

/**
 * Plain-TS twin of assembly `pivots`: the Sturm count of sgn T - x I and, for
 * p = det(sgn T - x I) = prod d_i, G = p'/p and H = G^2 - p''/p.
 */
export function pivots(
  alpha: ArrayLike<number>,
  beta: ArrayLike<number>,
  k: number,
  sgn: number,
  x: number,
  tiny: number,
): { count: number; G: number; H: number } {
  let d = sgn * alpha[0]! - x;
  if (d === 0) d = -tiny;
  let dp = -1,
    dpp = 0,
    inv = 1 / d,
    r = dp * inv,
    g = r,
    h = r * r,
    count = d < 0 ? 1 : 0;
  for (let i = 1; i < k; i++) {
    const b = beta[i - 1]!;
    const q = b * b * inv,
      qi = q * inv;
    dpp = qi * (dpp - 2 * dp * dp * inv);
    dp = -1 + qi * dp;
    d = sgn * alpha[i]! - x - q;
    if (d === 0) d = -tiny;
    inv = 1 / d;
    r = dp * inv;
    g += r;
    h += r * r - dpp * inv;
    if (d < 0) count++;
  }
  return { count, G: g, H: h };
}

/** Passes over T made by the last ritzEnds() call (for tests and tuning). */
export const ritzStats = { passes: 0 };

/** Plain-TS twin of assembly `ritzTop`: the largest eigenvalue of sgn T by safeguarded Laguerre iteration from the right. */
export function ritzTop(
  alpha: ArrayLike<number>,
  beta: ArrayLike<number>,
  k: number,
  sgn: number,
  lo0: number,
  hi0: number,
  gersh: number,
  tnorm: number,
): number {
  const tiny = Number.EPSILON * tnorm,
    floor = Number.EPSILON * tnorm;
  const pass = (x: number) => {
    ritzStats.passes++;
    return pivots(alpha, beta, k, sgn, x, tiny);
  };
  let lo = lo0,
    hi = hi0;
  let p = hi > lo ? pass(hi) : undefined;
  if (!p || p.count < k) {
    lo = Math.max(lo, hi0);
    if (!(lo < gersh)) lo = -gersh;
    hi = gersh;
    p = pass(hi);
  }
  let xc = hi,
    G = p.G,
    H = p.H,
    usable = true,
    slow = 0;
  for (let it = 0; it < 300; it++) {
    if (!(hi - lo > floor)) return hi;
    let x = 0,
      laguerre = false;
    if (usable) {
      const root = Math.sqrt(Math.max(0, (k - 1) * (k * H - G * G)));
      const step = k / (G >= 0 ? G + root : G - root);
      x = xc - step;
      const inward = xc === hi ? step > 0 : step < 0;
      if (inward && Math.abs(step) <= floor) return Math.min(hi, Math.max(lo, x));
      laguerre = inward && x > lo && x < hi && slow < 2;
    }
    if (!laguerre) {
      x = 0.5 * (lo + hi);
      slow = 0;
    }
    const width = hi - lo;
    const q = pass(x);
    if (q.count === k) hi = x;
    else lo = x;
    xc = x;
    G = q.G;
    H = q.H;
    usable = q.count >= k - 1;
    if (laguerre) slow = hi - lo > 0.5 * width ? slow + 1 : 0;
  }
  return hi;
}

/** Plain-TS twin of assembly `lastComponent`: |s_k| by inverse iteration with the shift theta + 4 eps ||T||. */
export function lastComponentInverse(
  alpha: ArrayLike<number>,
  beta: ArrayLike<number>,
  k: number,
  sgn: number,
  theta: number,
  tnorm: number,
): number {
  const sigma = theta + 4 * Number.EPSILON * tnorm,
    tiny = Number.EPSILON * tnorm;
  const inv = new Float64Array(k),
    z = new Float64Array(k).fill(1);
  let d = sgn * alpha[0]! - sigma;
  if (d === 0) d = -tiny;
  inv[0] = 1 / d;
  for (let i = 1; i < k; i++) {
    const b = beta[i - 1]!;
    d = sgn * alpha[i]! - sigma - b * b * inv[i - 1]!;
    if (d === 0) d = -tiny;
    inv[i] = 1 / d;
  }
  let last = 0,
    sc = 1;
  for (let step = 0; step < 3; step++) {
    let g = sc * z[0]! * inv[0]!;
    z[0] = g;
    for (let i = 1; i < k; i++) {
      g = (sc * z[i]! - beta[i - 1]! * g) * inv[i]!;
      z[i] = g;
    }
    let v = g,
      mx = Math.abs(g),
      nrm = g * g;
    for (let i = k - 2; i >= 0; i--) {
      v = z[i]! - beta[i]! * inv[i]! * v;
      z[i] = v;
      mx = Math.max(mx, Math.abs(v));
      nrm += v * v;
    }
    if (!(mx > 0) || !Number.isFinite(nrm)) return 1;
    sc = 1 / mx;
    last = Math.abs(z[k - 1]!) / Math.sqrt(nrm);
  }
  return last;
}

/**
 * Plain-TS twin of assembly `ritzEnds`: the extreme Ritz values of T_k and their residual
 * bounds |beta_k| |s_k|, warm-started from `state` = [lowest, its bound, highest, its
 * bound, k of that result (0: none)], which it updates; `ends` as in the kernel (1: lowest,
 * 2: highest, 3: both).
 */
export function ritzEnds(
  alpha: ArrayLike<number>,
  beta: ArrayLike<number>,
  k: number,
  betaK: number,
  state: Float64Array,
  ends = 3,
): void {
  ritzStats.passes = 0;
  if (k === 1) {
    state.set([alpha[0]!, Math.abs(betaK), alpha[0]!, Math.abs(betaK), 1]);
    return;
  }
  let tnorm = 0,
    gl = Infinity,
    gh = -Infinity,
    prevB = 0;
  for (let i = 0; i < k; i++) {
    const b = i < k - 1 ? Math.abs(beta[i]!) : 0,
      a = alpha[i]!,
      r = prevB + b;
    tnorm = Math.max(tnorm, Math.abs(a) + r);
    gl = Math.min(gl, a - r);
    gh = Math.max(gh, a + r);
    prevB = b;
  }
  const pad = 4 * Number.EPSILON * tnorm + Number.MIN_VALUE;
  gl -= pad;
  gh += pad;
  const warm = state[4]! >= 1 && state[4]! <= k;
  const eps4 = 4 * Number.EPSILON * tnorm;
  for (const end of [0, 1]) {
    if ((ends & (1 << end)) === 0) continue;
    const sgn = end === 0 ? -1 : 1,
      o = end === 0 ? 0 : 2;
    let lo = sgn * (end === 0 ? gh : gl),
      hi = sgn * (end === 0 ? gl : gh);
    const g = hi;
    if (warm) {
      const prev = sgn * state[o]!,
        r = state[o + 1]!;
      lo = prev - eps4;
      hi = prev + r + eps4;
    }
    const theta = ritzTop(alpha, beta, k, sgn, lo, hi, g, tnorm);
    state[o] = sgn * theta;
    state[o + 1] = Math.abs(betaK) * lastComponentInverse(alpha, beta, k, sgn, theta, tnorm);
  }
  state[4] = k;
}
