// The estimators' formulas (docs/estimators.md): what turns the covariance of one or two
// levels of gradients into H, and the checks of their options. A leaf: no plan, no oracle.
import { checkNonNegative, isObject, show } from '../core/validate.js';
import { calibratedNoiseVariance } from './noise.js';
import { choleskySolve } from '../core/cholesky.js';

/** What estimateHessian returns. */
export interface HessianEstimate {
  /** C_hat: the sample covariance of the batch gradients (dim x dim row-major). */
  hessian: Float64Array;
  /** Mean batch gradient (estimates H (w - w*)); for method 'paired', the mean pair difference g(xi1) - g(xi2) (zero in expectation). */
  mean: Float64Array;
  /** Number of batch gradients used. */
  batches: number;
  /** The injected variance tau2 that was used. */
  noiseVariance: number;
}

/** The error for noiseLevels given to a method other than 'two-level'. @internal */
export function noiseLevelsUnused(value: unknown, method: string): TypeError {
  return new TypeError(
    `invalid argument: \`noiseLevels\` must be left out unless method is 'two-level' (method is '${method}'). Value: \`${show(value)}\`.`,
  );
}

/**
 * Smallest relative gap (tau_1 - tau_2) / tau_1 of 'two-level': the estimate's relative
 * standard error is about tau_1 / (tau_1 - tau_2) * sqrt(2 / batches), so below 2^-20 it is
 * above 2^20 * 2^-15 = 32 even at the most batches allowed (2^31 - 1): noise, whatever the
 * data. docs/guarantees.md, numeric edges. @internal
 */
export const MIN_LEVEL_GAP = 2 ** -20;

/** [tau_1, tau_2] with tau_1 > tau_2 >= 0, finite; default [n, 0]. @internal */
export function checkNoiseLevels(value: unknown, n: number): [number, number] {
  if (value === undefined) return [n, 0];
  if (!Array.isArray(value) || value.length !== 2) {
    throw new TypeError(
      `invalid argument: \`noiseLevels\` must be an array of two numbers [tau_1, tau_2]. Value: \`${Array.isArray(value) ? `Array(${value.length})` : String(value)}\`.`,
    );
  }
  const a = checkNonNegative('noiseLevels[0]', value[0]),
    b = checkNonNegative('noiseLevels[1]', value[1]);
  if (!(a > b))
    throw new RangeError(
      `invalid argument: \`noiseLevels\` must have noiseLevels[0] > noiseLevels[1]. Value: \`[${a}, ${b}]\`.`,
    );
  if (!(a - b >= MIN_LEVEL_GAP * a)) {
    throw new RangeError(
      `invalid argument: \`noiseLevels\` are too close: (noiseLevels[0] - noiseLevels[1]) / noiseLevels[0] must be at least 2^-20 ` +
        `(the estimate's relative error is about noiseLevels[0] / (noiseLevels[0] - noiseLevels[1]) * sqrt(2 / batches), above 32 for any batches below that). Value: \`[${a}, ${b}]\`.`,
    );
  }
  if (!Number.isFinite(n / (a - b))) {
    throw new RangeError(
      `invalid argument: \`noiseLevels\` are too small: batchSize / (noiseLevels[0] - noiseLevels[1]) overflows a double. Value: \`[${a}, ${b}]\`.`,
    );
  }
  return [a, b];
}

/** A method's injected noise: the variance of each level, the first level's, and s2. @internal */
export interface MethodNoise {
  tau2: number;
  levels: number[];
  s2: number;
}

/**
 * The one rule for each method's noise options, shared by estimateHessian's plan, one level of
 * it and estimateCurvature: `noiseLevels` only for 'two-level' (default [n, 0]; then
 * `noiseVariance` must be left out); 'paired' defaults to n / 2 per draw and needs > 0; the
 * others default to the calibrated n - s2 (s2 = baseNoiseVariance, default 0). @internal
 */
export function methodNoise(
  method: EstimatorMethod,
  n: number,
  o: { noiseVariance?: unknown; noiseLevels?: unknown; baseNoiseVariance?: unknown },
): MethodNoise {
  if (method !== 'two-level' && o.noiseLevels !== undefined) throw noiseLevelsUnused(o.noiseLevels, method);
  const s2 =
    o.baseNoiseVariance === undefined ? 0 : checkNonNegative('baseNoiseVariance', o.baseNoiseVariance);
  if (method === 'two-level') {
    if (o.noiseVariance !== undefined) {
      throw new TypeError(
        `invalid argument: \`noiseVariance\` must be left out for method 'two-level' (it takes noiseLevels). Value: \`${show(o.noiseVariance)}\`.`,
      );
    }
    const levels = checkNoiseLevels(o.noiseLevels, n);
    return { tau2: levels[0], levels, s2 };
  }
  const tau2 =
    o.noiseVariance === undefined
      ? method === 'paired'
        ? n / 2
        : calibratedNoiseVariance(n, { baseNoiseVariance: s2 })
      : checkNonNegative('noiseVariance', o.noiseVariance);
  if (method === 'paired') checkPairedNoise(tau2, n);
  return { tau2, levels: [tau2], s2 };
}

/** The noise variance of 'paired': > 0 and batchSize / (2 tau2) a finite double. @internal */
export function checkPairedNoise(tau2: number, n: number): number {
  if (!(tau2 > 0)) {
    throw new RangeError(
      `invalid argument: \`noiseVariance\` must be > 0 for method 'paired' (the pair differences are pure noise). Value: \`${tau2}\`.`,
    );
  }
  if (!Number.isFinite(n / (2 * tau2))) {
    throw new RangeError(
      `invalid argument: \`noiseVariance\` is too small for method 'paired': batchSize / (2 noiseVariance) overflows a double. Value: \`${tau2}\`.`,
    );
  }
  return tau2;
}

/**
 * The estimate must be finite: an overflow (a noise level at the edge of the doubles) is a
 * RangeError naming the user's parameter, never an Infinity or NaN in the result. @internal
 */
export function checkFiniteEstimate(H: Float64Array, blame: string, value: string): Float64Array {
  for (let i = 0; i < H.length; i++) {
    const v = H[i]!;
    if (v - v !== 0) {
      throw new RangeError(
        `invalid argument: \`${blame}\` is at the edge of the doubles: the estimate overflowed (entry ${i} is ${v}); use a noise level nearer the data's scale. Value: \`${value}\`.`,
      );
    }
  }
  return H;
}

/** The options without `method` and `noiseLevels` (what the calibrated path reads). @internal */
export function withoutMethod<T>(options: T): T {
  if (!isObject(options)) return options;
  const { method: _m, noiseLevels: _l, ...rest } = options as Record<string, unknown>;
  return rest as T;
}

/** The estimators of estimateHessian and estimateCurvature. */
export type EstimatorMethod = 'calibrated' | 'paired' | 'two-level' | 'debiased';
/** The names of the estimators, in the order of docs/estimators.md: 'calibrated', 'paired', 'two-level', 'debiased'. */
export const ESTIMATOR_METHODS: readonly EstimatorMethod[] = [
  'calibrated',
  'paired',
  'two-level',
  'debiased',
];

/** Philox domain (counter word c2) of the second noise draw of a pair (the first is the oracle's 0x80000002). */
export const DOMAIN_PAIR_NOISE = 0x80000003;
/** Philox domain of the oracle's (first) noise draw. */
export const DOMAIN_BATCH_NOISE = 0x80000002;

/** An estimate of H (or of the Gauss–Newton matrix G) and what the estimator used. */
export interface CurvatureEstimate extends HessianEstimate {
  /** The estimator. */
  method: EstimatorMethod;
  /**
   * The injected target-noise variances: [tau2] ('calibrated', 'debiased'), [tau2] per draw
   * ('paired'), [tau_1, tau_2] ('two-level'). `noiseVariance` is the first of them.
   */
  noiseLevels: number[];
  /** Gradient evaluations the estimate cost (2 per batch for 'paired', 1 otherwise). */
  gradientEvaluations: number;
  /** 'debiased' only: the misfit d'Hd identified from the scale. */
  misfit?: number;
}

/** Cost of `batches` batches under `method`, in gradient evaluations. @internal */
export function evaluationsOf(method: EstimatorMethod, batches: number): number {
  return method === 'paired' ? 2 * batches : batches;
}

/** 'two-level' batch split: ceil(m/2) at the first level, the rest at the second. @internal */
export function twoLevelSplit(m: number): [number, number] {
  const m1 = Math.ceil(m / 2);
  return [m1, m - m1];
}

/**
 * The batches of each noise level, as [first batch, count, tau2]: 'two-level' splits its m
 * batches between its two levels (twoLevelSplit), every other method has one level. The
 * block plan and estimateCurvature both cut by it. @internal
 */
export function levelBatches(
  method: EstimatorMethod,
  first: number,
  m: number,
  tau2: number,
  levels: readonly number[],
): [number, number, number][] {
  if (method !== 'two-level') return [[first, m, tau2]];
  const [m1, m2] = twoLevelSplit(m);
  return [
    [first, m1, levels[0]!],
    [first + m1, m2, levels[1]!],
  ];
}

/** 'paired': n / (2 tau2) times the covariance of the pair differences (in place). @internal */
export function pairedHessian(diffCovariance: Float64Array, n: number, tau2: number): Float64Array {
  const f = n / (2 * tau2);
  for (let i = 0; i < diffCovariance.length; i++) diffCovariance[i]! *= f;
  return checkFiniteEstimate(diffCovariance, 'noiseVariance', String(tau2));
}

/** 'two-level': n (C_1 - C_2) / (tau_1 - tau_2) (into C1). @internal */
export function twoLevelHessian(
  C1: Float64Array,
  C2: Float64Array,
  n: number,
  tau1: number,
  tau2: number,
): Float64Array {
  const f = n / (tau1 - tau2);
  for (let i = 0; i < C1.length; i++) C1[i] = f * (C1[i]! - C2[i]!);
  return checkFiniteEstimate(C1, 'noiseLevels', `[${tau1}, ${tau2}]`);
}

/**
 * 'debiased' (Gaussian x): A = n C - (g g' - C/m) estimates (s2 + tau2 + d'Hd) H (g g' - C/m
 * is unbiased for the rank-one term H d d' H), and H = A / kappa solves the fixed point
 * kappa = s2 + tau2 + g' H^-1 g in closed form: with t = g' A^-1 g, kappa = (s2 + tau2) / (1 - t).
 * @throws {RangeError} when A is not positive definite or t >= 1 (the misfit swamps the noise)
 * @internal
 */
export function debiasedHessian(
  C: Float64Array,
  g: Float64Array,
  dim: number,
  m: number,
  n: number,
  s2: number,
  tau2: number,
): { hessian: Float64Array; misfit: number } {
  const A = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++)
      A[i * dim + j] = n * C[i * dim + j]! - (g[i]! * g[j]! - C[i * dim + j]! / m);
  }
  checkFiniteEstimate(A, 'noiseVariance', String(tau2)); // n C_hat overflowed: the noise level, not the factorisation
  let x: Float64Array;
  try {
    x = choleskySolve(A, dim, g);
  } catch (err) {
    throw new RangeError(
      `method 'debiased': n C_hat - g_bar g_bar' is not positive definite (${(err as Error).message.replace(/^invalid argument: /, '')}); use more batches, or method 'paired'.`,
      { cause: err },
    );
  }
  let t = 0;
  for (let i = 0; i < dim; i++) t += g[i]! * x[i]!;
  if (!(t < 1) || !(s2 + tau2 > 0)) {
    throw new RangeError(
      `method 'debiased': the misfit cannot be separated from the noise (g_bar' (n C_hat - g_bar g_bar')^-1 g_bar = ${t}, s2 + tau2 = ${s2 + tau2}); inject more noise (a larger \`noiseVariance\`), use more batches, or use method 'paired'.`,
    );
  }
  const kappa = (s2 + tau2) / (1 - t);
  for (let i = 0; i < A.length; i++) A[i]! /= kappa;
  return { hessian: checkFiniteEstimate(A, 'noiseVariance', String(tau2)), misfit: kappa * t };
}
