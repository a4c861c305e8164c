// Independent yardsticks for the statistical tests: plain-TS computations that share no
// code with the library paths under test (no wasm, no relativeError/operatorNorm, no
// secondMomentMatrix), so a bug in the library cannot move the truth along with the
// estimate. The operator norm comes from the cyclic Jacobi eigenvalues of src/reference.
import { jacobiEigenvalues } from '../../src/reference/spectral.js';
import { choleskyFactor, solve } from '../../src/reference/cholesky.js';

interface Data {
  X: Float64Array;
  y: Float64Array;
  rows: number;
  dim: number;
}

/** ||A||_2 of a symmetric matrix: the largest |eigenvalue| by Jacobi. */
export function normExact(A: Float64Array, dim: number): number {
  const ev = jacobiEigenvalues(A, dim);
  return Math.max(Math.abs(ev[0]!), Math.abs(ev[dim - 1]!));
}

/** ||estimate - truth||_2 / ||truth||_2 by Jacobi eigenvalues (not the library's relativeError). */
export function relErrExact(estimate: ArrayLike<number>, truth: Float64Array, dim: number): number {
  const D = new Float64Array(dim * dim);
  for (let i = 0; i < D.length; i++) D[i] = estimate[i]! - truth[i]!;
  return normExact(D, dim) / normExact(truth, dim);
}

/** min over c > 0 of ||c C - H|| / ||H||, by golden-section search on log c (unimodal: convex in c). */
export function bestScaleErrExact(
  C: Float64Array,
  H: Float64Array,
  dim: number,
): { error: number; scale: number } {
  let lo = 0.01,
    hi = 100;
  const f = (c: number) =>
    relErrExact(
      C.map((v) => v * c),
      H,
      dim,
    );
  for (let k = 0; k < 60; k++) {
    const a = lo * (hi / lo) ** 0.382,
      b = lo * (hi / lo) ** 0.618;
    if (f(a) < f(b)) hi = b;
    else lo = a;
  }
  const scale = Math.sqrt(lo * hi);
  return { error: f(scale), scale };
}

/** H = X'X / rows, by a plain loop. */
export function secondMoment(d: Data): Float64Array {
  const { X, rows, dim } = d;
  const H = new Float64Array(dim * dim);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < dim; i++) {
      const a = X[r * dim + i]!;
      for (let j = 0; j < dim; j++) H[i * dim + j]! += a * X[r * dim + j]!;
    }
  }
  return H.map((v) => v / rows);
}

/**
 * The exact covariance of one batch gradient g = (1/n) sum_{i in B} x_i (x_i'w - y_i - xi_i),
 * rows drawn uniformly with replacement from the data, xi_i ~ N(0, tau2): with z_i = x_i r_i
 * (r_i = x_i'w - y_i) and the data's own averages, Cov(g) = (Cov(z) + tau2 X'X/rows) / n.
 * This is what the calibrated estimator's C_hat converges to for this data set, at any w.
 */
export function batchGradientCovariance(d: Data, w: Float64Array, n: number, tau2: number): Float64Array {
  const { X, y, rows, dim } = d;
  const mean = new Float64Array(dim),
    zz = new Float64Array(dim * dim),
    xx = new Float64Array(dim * dim);
  const z = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    let res = -y[r]!;
    for (let c = 0; c < dim; c++) res += X[r * dim + c]! * w[c]!;
    for (let c = 0; c < dim; c++) {
      z[c] = X[r * dim + c]! * res;
      mean[c]! += z[c]! / rows;
    }
    for (let i = 0; i < dim; i++) {
      for (let j = 0; j < dim; j++) {
        zz[i * dim + j]! += z[i]! * z[j]!;
        xx[i * dim + j]! += X[r * dim + i]! * X[r * dim + j]!;
      }
    }
  }
  const C = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) {
      C[i * dim + j] = (zz[i * dim + j]! / rows - mean[i]! * mean[j]! + (tau2 * xx[i * dim + j]!) / rows) / n;
    }
  }
  return C;
}

export function trace(A: ArrayLike<number>, dim: number): number {
  let t = 0;
  for (let i = 0; i < dim; i++) t += A[i * dim + i]!;
  return t;
}

/** min, median, 90th and 99th percentile and max of a sample (for the spread script and messages). */
export function spread(xs: number[]): { min: number; median: number; p90: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))]!;
  return { min: s[0]!, median: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1]! };
}

/** The median of a few numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/**
 * tr(T^-1 C) / dim: the scale of C relative to a positive-definite truth T, measured in T's
 * own metric (each whitened direction counts once). For C an unbiased sample covariance
 * of m near-Gaussian gradients with mean T its relative standard deviation is about
 * sqrt(2 / (m dim)), tighter than the trace or any single entry. By the plain-TS Cholesky.
 */
export function whitenedScale(C: Float64Array, T: Float64Array, dim: number): number {
  const f = choleskyFactor(T, dim);
  if (!f.L) throw new Error(`whitenedScale: the truth is not positive definite (pivot ${f.pivot})`);
  const L = f.L;
  let t = 0;
  for (let j = 0; j < dim; j++) {
    const col = new Float64Array(dim);
    for (let i = 0; i < dim; i++) col[i] = C[i * dim + j]!;
    t += solve(L, dim, col)[j]!;
  }
  return t / dim;
}
