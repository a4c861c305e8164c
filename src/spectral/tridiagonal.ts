// Symmetric tridiagonal eigen-analysis by plain bisection: extreme eigenvalues by
// Sturm-sequence bisection and the last eigenvector component by inverse iteration. T has
// diagonal alpha[0..k) and off-diagonal beta[0..k-1). The oracle that the wasm Ritz check
// (assembly/spectral.ts ritzEnds, twin in src/reference/spectral.ts) is tested against.

/** Number of eigenvalues of T below x (Sturm sequence of the LDL' pivots). */
export function sturmCount(alpha: ArrayLike<number>, beta: ArrayLike<number>, k: number, x: number): number {
  const tiny = -Number.EPSILON * (Math.abs(x) + Number.MIN_VALUE);
  let d = alpha[0]! - x;
  if (d === 0) d = tiny; // step past an exact zero pivot
  let count = d < 0 ? 1 : 0;
  for (let i = 1; i < k; i++) {
    const b = beta[i - 1]!;
    d = alpha[i]! - x - (b * b) / d;
    if (d === 0) d = tiny;
    if (d < 0) count++;
  }
  return count;
}

/** Gershgorin interval containing the spectrum of T. */
function bounds(alpha: ArrayLike<number>, beta: ArrayLike<number>, k: number): [number, number] {
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < k; i++) {
    const r = (i > 0 ? Math.abs(beta[i - 1]!) : 0) + (i < k - 1 ? Math.abs(beta[i]!) : 0);
    lo = Math.min(lo, alpha[i]! - r);
    hi = Math.max(hi, alpha[i]! + r);
  }
  return [lo, hi];
}

/**
 * The j-th smallest eigenvalue of T (0-based) by bisection, to `relTol` of the spectrum's
 * scale (default: machine precision).
 */
export function tridiagonalEigenvalue(
  alpha: ArrayLike<number>,
  beta: ArrayLike<number>,
  k: number,
  j: number,
  relTol = 0,
): number {
  if (k === 1) return alpha[0]!;
  let [lo, hi] = bounds(alpha, beta, k);
  const scale = Math.max(Math.abs(lo), Math.abs(hi), Number.MIN_VALUE);
  const width = Math.max(relTol, 2 * Number.EPSILON) * scale;
  lo -= 4 * Number.EPSILON * scale;
  hi += 4 * Number.EPSILON * scale;
  while (hi - lo > width) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (sturmCount(alpha, beta, k, mid) > j) hi = mid;
    else lo = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * Fills y (length >= k) with the unit eigenvector of T for eigenvalue theta by three steps
 * of inverse iteration (tridiagonal LU solve of (T - theta I) z = y) from the all-ones
 * vector, and returns |y[k-1]|, its last component. c, d, z: scratch of length >= k.
 */
function inverseVector(
  alpha: ArrayLike<number>,
  beta: ArrayLike<number>,
  k: number,
  theta: number,
  y: Float64Array,
  c: Float64Array,
  d: Float64Array,
  z: Float64Array,
): number {
  if (k === 1) {
    y[0] = 1;
    return 1;
  }
  const scale = Math.max(Math.abs(theta), 1e-300);
  const shift = theta + scale * 4 * Number.EPSILON;
  y.fill(1, 0, k);
  for (let iter = 0; iter < 3; iter++) {
    if (!solveShifted(alpha, beta, k, shift, y, c, d, z, scale * Number.EPSILON)) break;
  }
  return Math.abs(y[k - 1]!);
}

/**
 * One step of inverse iteration: z = (T - shift I)^-1 y (Thomas algorithm; a zero pivot is
 * replaced by `tiny`), then y = z / ||z||. Returns false (y unchanged) when z is zero or
 * not finite.
 */
function solveShifted(
  alpha: ArrayLike<number>,
  beta: ArrayLike<number>,
  k: number,
  shift: number,
  y: Float64Array,
  c: Float64Array,
  d: Float64Array,
  z: Float64Array,
  tiny: number,
): boolean {
  for (let i = 0; i < k; i++) {
    const sub = i > 0 ? beta[i - 1]! : 0;
    let piv = alpha[i]! - shift - (i > 0 ? sub * c[i - 1]! : 0);
    if (piv === 0) piv = tiny;
    c[i] = i < k - 1 ? beta[i]! / piv : 0;
    d[i] = (y[i]! - (i > 0 ? sub * d[i - 1]! : 0)) / piv;
  }
  z[k - 1] = d[k - 1]!;
  for (let i = k - 2; i >= 0; i--) z[i] = d[i]! - c[i]! * z[i + 1]!;
  let nrm = 0;
  for (let i = 0; i < k; i++) nrm = Math.max(nrm, Math.abs(z[i]!));
  if (!(nrm > 0) || !Number.isFinite(nrm)) return false;
  let s = 0;
  for (let i = 0; i < k; i++) {
    const v = z[i]! / nrm;
    z[i] = v;
    s += v * v;
  }
  s = Math.sqrt(s);
  for (let i = 0; i < k; i++) y[i] = z[i]! / s;
  return true;
}

/**
 * |last component| of the unit eigenvector of T for eigenvalue theta, by three steps of
 * inverse iteration (tridiagonal LU solve of (T - theta I) y = b).
 */
export function lastComponent(
  alpha: ArrayLike<number>,
  beta: ArrayLike<number>,
  k: number,
  theta: number,
): number {
  return inverseVector(
    alpha,
    beta,
    k,
    theta,
    new Float64Array(k),
    new Float64Array(k),
    new Float64Array(k),
    new Float64Array(k),
  );
}

export interface RitzEnd {
  /** Ritz value. */
  value: number;
  /** Error bound: the residual beta_k |last eigenvector component| (an eigenvalue lies within it). */
  error: number;
}

/**
 * The two extreme Ritz values of T_k with error bounds; beta_k is the next off-diagonal.
 * The bound is the residual itself, as ARPACK uses, not the sharper residual^2 / gap: the
 * gap to the next Ritz value overstates the true gap while a cluster is unresolved (issue
 * 7: eigenvalues 5 and 5 - 1e-6 gave 4.9999995 "converged" to 1e-9 after 5 steps).
 */
export function extremeRitz(
  alpha: ArrayLike<number>,
  beta: ArrayLike<number>,
  k: number,
  betaK: number,
): [RitzEnd, RitzEnd] {
  const ends: RitzEnd[] = [];
  for (const j of [0, k - 1]) {
    const value = tridiagonalEigenvalue(alpha, beta, k, j);
    ends.push({ value, error: Math.abs(betaK) * lastComponent(alpha, beta, k, value) });
  }
  return [ends[0]!, ends[1]!];
}
