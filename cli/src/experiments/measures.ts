// Error measures used by the experiments: the raw relative operator-norm error, the error
// after the best rescaling (min over c of ||c C_hat - H|| / ||H||), the effective rank and
// the Gaussian-x bias that the method predicts away from the optimum.
import {
  operatorNorm,
  relativeError,
  Rng,
  pointAtMisfit,
  syntheticRegression,
  secondMomentMatrix,
  type InputDistribution,
} from 'gradcov';
import type { ExperimentOptions } from './types.js';

/**
 * ||A||_2 = max |lambda| of a symmetric A by the library's Lanczos (full
 * reorthogonalisation), which also converges when the extreme eigenvalues are +a and -a,
 * the case at the best rescaling.
 */
export function symmetricNorm(A: Float64Array, dim: number): number {
  return operatorNorm(A, dim, { tol: 1e-10 }).value;
}

/** ||C - H|| / ||H||. */
export function rawError(C: Float64Array, H: Float64Array, dim: number): number {
  return relativeError(C, H, dim, { tol: 1e-10 });
}

/**
 * min over c >= 0 of ||c C - H|| / ||H|| and the minimiser, by golden-section search
 * (the objective is convex in c). Starts from the Frobenius-optimal scale.
 */
export function bestRescaledError(
  C: Float64Array,
  H: Float64Array,
  dim: number,
): { error: number; scale: number } {
  const normH = symmetricNorm(H, dim);
  let ch = 0,
    cc = 0;
  for (let i = 0; i < C.length; i++) {
    ch += C[i]! * H[i]!;
    cc += C[i]! * C[i]!;
  }
  const tmp = new Float64Array(C.length);
  const f = (c: number): number => {
    for (let i = 0; i < C.length; i++) tmp[i] = c * C[i]! - H[i]!;
    return symmetricNorm(tmp, dim) / normH;
  };
  if (!(cc > 0)) return { error: 1, scale: 0 };
  let lo = 0,
    hi = 2 * (ch / cc);
  while (f(hi) < f(hi / 2)) hi *= 2; // the minimum lies below hi
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo),
    b = lo + g * (hi - lo),
    fa = f(a),
    fb = f(b);
  for (let it = 0; it < 60 && hi - lo > 1e-10 * hi; it++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = f(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = f(b);
    }
  }
  const c = (lo + hi) / 2;
  return { error: f(c), scale: c };
}

/** Effective rank r = tr(H) / ||H||. */
export function effectiveRank(H: Float64Array, dim: number): number {
  let tr = 0;
  for (let i = 0; i < dim; i++) tr += H[i * dim + i]!;
  return tr / symmetricNorm(H, dim);
}

/** The Gaussian-x bias of the calibrated covariance, ||((d'Hd) H + H d d' H) / n|| / ||H||. */
export function predictedBias(
  H: Float64Array,
  w: Float64Array,
  wStar: Float64Array,
  dim: number,
  n: number,
): number {
  const d = w.map((v, i) => v - wStar[i]!);
  const Hd = new Float64Array(dim);
  for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) Hd[i]! += H[i * dim + j]! * d[j]!;
  const misfit = d.reduce((s, v, i) => s + v * Hd[i]!, 0);
  const B = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++)
    for (let j = 0; j < dim; j++) B[i * dim + j] = (misfit * H[i * dim + j]! + Hd[i]! * Hd[j]!) / n;
  return symmetricNorm(B, dim) / symmetricNorm(H, dim);
}

/** A point at misfit d'Hd = `misfit` from w along a seeded random direction. */
export function pointAway(
  H: Float64Array,
  w: Float64Array,
  misfit: number,
  seed: number,
  stream = 99,
): Float64Array {
  if (misfit === 0) return w.slice();
  return pointAtMisfit(H, w, new Rng(seed, stream).normals(new Float64Array(w.length)), misfit);
}

/** Formats a ratio such as 0.0625 as "1/16" for labels; integers and halves plainly. */
export function ratioLabel(r: number): string {
  if (r === 0 || r >= 1) return String(r);
  const inv = 1 / r;
  return Number.isInteger(inv) ? `1/${inv}` : String(r);
}

export function pick<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/** The label-noise variance s2 of the experiments' synthetic problems. */
export const LABEL_NOISE = 1;
/** The condition number of H of the experiments' synthetic problems (unless swept). */
export const CONDITION = 100;

/**
 * The sizes an experiment runs at: the options over the experiment's defaults (d = 20,
 * 20,000 rows and n = 64 unless the experiment says otherwise; `batches` may depend on d).
 */
export function sizes(
  o: ExperimentOptions,
  defaults: { dim?: number; batches: number | ((dim: number) => number) },
): { dim: number; rows: number; n: number; m: number } {
  const dim = pick(o.dim, defaults.dim ?? 20);
  const m = pick(
    o.batches,
    typeof defaults.batches === 'function' ? defaults.batches(dim) : defaults.batches,
  );
  return { dim, rows: pick(o.rows, 20000), n: pick(o.batchSize, 64), m };
}

/** The experiments' synthetic problem (label noise LABEL_NOISE, Gaussian x and cond CONDITION unless given) and its H. */
export function syntheticProblem(
  dim: number,
  rows: number,
  seed: number,
  inputs: InputDistribution = 'gaussian',
  condition = CONDITION,
) {
  const p = syntheticRegression({ dim, rows, condition, noiseVariance: LABEL_NOISE, inputs, seed });
  return { p, H: secondMomentMatrix(p.data) };
}
