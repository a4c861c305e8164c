// Risk and adversarial risk of a linear predictor from gradients alone (docs/applications.md,
// Applications): E[r^2] = s2 + d'Hd with d'Hd = g_bar' H^-1 g_bar, and
// R_adv = E[r^2] + 2 eps ||w||_* E|r| + eps^2 ||w||_*^2 for perturbations ||D|| <= eps.
import { solveSpd, checkSquare } from '../core/cholesky.js';
import {
  checkOptions,
  checkPositiveInteger,
  checkFloat64Array,
  checkLength,
  checkFinite,
  checkNonNegative,
  isObject,
  show,
} from '../core/validate.js';

/** What estimateRisk needs: the gradient statistics at w, and s2 or an unbiased H. */
export interface RiskInput {
  /** Mean batch gradient g_bar at w (estimates H d, d = w - w*): `estimateHessian(...).mean`. */
  mean: Float64Array;
  /** Sample covariance C_hat of the batch gradients at w: `estimateHessian(...).hessian`. */
  covariance: Float64Array;
  /** Batch size n of those gradients. */
  batchSize: number;
  /** Target-noise variance tau2 injected into them. */
  noiseVariance: number;
  /** Label-noise variance s2, if known (route 1). */
  labelNoiseVariance?: number;
  /** An unbiased estimate of H itself, if s2 is unknown (route 2): `estimateHessian(data, w, { ..., method: 'paired' }).hessian` from gradients alone. */
  hessian?: Float64Array;
}

/** Options of estimateRisk. */
export interface RiskOptions {
  /** Perturbation radii (default [0]). */
  eps?: number[];
  /** lambda added to the diagonal in the solves (default 0). */
  ridge?: number;
}

/** The adversarial risk at one radius, for three perturbation norms. */
export interface AdversarialRisk {
  /** The radius. */
  eps: number;
  /** ||D||_2 <= eps: dual norm ||w||_2. */
  l2: number;
  /** ||D||_inf <= eps: dual norm ||w||_1. */
  linf: number;
  /** D'H^-1 D <= eps^2: dual norm sqrt(w'Hw). */
  mahalanobis: number;
}

/** What estimateRisk returns. */
export interface RiskEstimate {
  /** E[r^2] = s2 + d'Hd, r = x'w - y. */
  meanSquared: number;
  /** The misfit d'Hd = g_bar' H^-1 g_bar. */
  misfit: number;
  /** s2: as given (route 1) or identified from the scale (route 2). */
  labelNoiseVariance: number;
  /** E|r| = sqrt(2/pi) sqrt(E r^2) (Gaussian r). */
  meanAbs: number;
  /** The H used (dim x dim). */
  hessian: Float64Array;
  /** The dual norms of w that the adversarial risks use. */
  dualNorms: {
    /** ||w||_2 (for ||D||_2 <= eps). */
    l2: number;
    /** ||w||_1 (for ||D||_inf <= eps). */
    linf: number;
    /** sqrt(w'Hw) (for D'H^-1 D <= eps^2). */
    mahalanobis: number;
  };
  /** R_adv per radius in options.eps. */
  adversarial: AdversarialRisk[];
}

function checkVector(name: string, v: unknown, dim: number): Float64Array {
  const a = checkFloat64Array(name, v);
  checkLength(name, a, dim, 'dim');
  checkFinite(name, a);
  return a;
}

/**
 * The mean-squared and adversarial risk of the linear predictor w, from the mean and the
 * covariance of noisy batch gradients at w plus the injected variance tau2.
 *
 * With A = n C_hat - g_bar g_bar' ~ (s2 + tau2 + d'Hd) H (docs/applications.md, Gaussian x):
 * - route 1, s2 known (`labelNoiseVariance`): t = g_bar' A^-1 g_bar = d'Hd / (s2 + tau2 + d'Hd),
 *   so kappa = (s2 + tau2) / (1 - t), H = A / kappa, d'Hd = kappa t (the misfit debiasing of
 *   docs/applications.md solved in closed form). Needs t < 1, i.e. the misfit must not swamp the noise.
 * - route 2, H known (`hessian`, e.g. from the paired-noise estimator, unbiased at any w):
 *   d'Hd = g_bar' H^-1 g_bar and kappa = <A, H> / <H, H> (Frobenius), so
 *   E[r^2] = kappa - tau2 and s2 = kappa - tau2 - d'Hd (docs/applications.md's scale identification).
 *   The scale carries the covariance's sampling error times s2 + tau2 + d'Hd, so this route
 *   is precise when tau2 is small (tau2 = 0 is fine here: H comes from elsewhere) or m large.
 *
 * Which quantities need Gaussian assumptions: E[r^2] = s2 + d'Hd and d'Hd = g' H^-1 g hold
 * for any input distribution; the proportionality A ~ kappa H away from w* (route 1's
 * debiasing, route 2's scale) assumes Gaussian x (at w* it holds for any x with
 * homoscedastic noise); E|r| = sqrt(2/pi) sqrt(E r^2), and hence the adversarial risks for
 * eps > 0, assume Gaussian residuals r (Gaussian x and Gaussian label noise). The identity
 * sup_{||D|| <= eps} ((x + D)'w - y)^2 = (|r| + eps ||w||_*)^2 is exact.
 *
 * @param w - the weights (length dim)
 * @param input - mean gradient, covariance, batch size, tau2, and s2 or an unbiased H
 * @param options - `{ eps: number[], ridge }`
 * @returns E[r^2], d'Hd, s2, E|r|, the H used, the dual norms and R_adv per eps
 * @throws {TypeError|RangeError} for malformed input, when neither s2 nor H is given, or when route 1 cannot separate the misfit (t >= 1)
 * @example
 * const est = estimateHessian(data, w, { batchSize: 64, batches: 4000, noiseVariance: 63, seed: 1 });
 * const risk = estimateRisk(w, { mean: est.mean, covariance: est.hessian, batchSize: 64,
 *   noiseVariance: 63, labelNoiseVariance: 1 }, { eps: [0.1] });
 * risk.meanSquared;             // ~ E[(x'w - y)^2]
 * risk.adversarial[0].linf;     // risk under ||D||_inf <= 0.1
 * // s2 unknown: H from paired noise, then s2 from the scale (gradients only)
 * const H = estimateHessian(data, w, { batchSize: 64, batches: 4000, seed: 1, method: 'paired' }).hessian;
 * const plain = estimateHessian(data, w, { batchSize: 64, batches: 8000, seed: 2, noiseVariance: 0 });
 * estimateRisk(w, { mean: plain.mean, covariance: plain.hessian, batchSize: 64, noiseVariance: 0, hessian: H });
 */
export function estimateRisk(w: Float64Array, input: RiskInput, options?: RiskOptions): RiskEstimate {
  const weights = checkFloat64Array('w', w);
  const dim = weights.length;
  if (dim === 0) throw new RangeError('invalid argument: `w` must not be empty. Value: `Float64Array(0)`.');
  checkFinite('w', weights);
  if (!isObject(input))
    throw new TypeError(
      `invalid argument: \`input\` must be an object { mean, covariance, batchSize, noiseVariance, ... }. Value: \`${show(input)}\`.`,
    );
  const g = checkVector('input.mean', input.mean, dim);
  const C = checkSquare('input.covariance', input.covariance, dim);
  const n = checkPositiveInteger('input.batchSize', input.batchSize);
  const tau2 = checkNonNegative('input.noiseVariance', input.noiseVariance);
  const s2Given =
    input.labelNoiseVariance === undefined
      ? undefined
      : checkNonNegative('input.labelNoiseVariance', input.labelNoiseVariance);
  const Hk = input.hessian === undefined ? undefined : checkSquare('input.hessian', input.hessian, dim);
  checkOptions('input', input, [
    'mean',
    'covariance',
    'batchSize',
    'noiseVariance',
    'labelNoiseVariance',
    'hessian',
  ]);
  const o = checkOptions('options', options, ['eps', 'ridge'], '`options` of estimateRisk');
  let eps = [0];
  if (o.eps !== undefined) {
    if (!Array.isArray(o.eps))
      throw new TypeError(
        `invalid argument: \`eps\` must be an array of numbers. Value: \`${show(o.eps)}\`.`,
      );
    eps = o.eps.map((e, i) => checkNonNegative(`eps[${i}]`, e));
  }
  const ridge = o.ridge === undefined ? 0 : checkNonNegative('ridge', o.ridge);
  if (s2Given === undefined && Hk === undefined) {
    throw new TypeError(
      'invalid argument: `input.labelNoiseVariance` or `input.hessian` must be given: the risk needs s2, or an unbiased H (e.g. from paired noise draws) to identify it from the scale. Value: `undefined`.',
    );
  }

  const A = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++)
    for (let j = 0; j < dim; j++) A[i * dim + j] = n * C[i * dim + j]! - g[i]! * g[j]!;
  if (A.some((v) => v - v !== 0)) {
    throw new RangeError(
      "invalid argument: `input.batchSize` x `input.covariance` - `input.mean` `input.mean`' must be finite. Value: it overflows float64; scale the problem down.",
    );
  }
  let H: Float64Array, misfit: number, s2: number, meanSquared: number;
  if (Hk) {
    const x = solveSpd('input.hessian', Hk, dim, g, ridge);
    misfit = dotv(g, x);
    let ah = 0,
      hh = 0;
    for (let i = 0; i < A.length; i++) {
      ah += A[i]! * Hk[i]!;
      hh += Hk[i]! * Hk[i]!;
    }
    const kappa = ah / hh;
    meanSquared = Math.max(kappa - tau2, misfit);
    s2 = meanSquared - misfit;
    H = Hk.slice();
  } else {
    s2 = s2Given!;
    let x: Float64Array;
    try {
      x = solveSpd("input.batchSize * input.covariance - input.mean input.mean'", A, dim, g, ridge);
    } catch (err) {
      throw new RangeError(
        `estimateRisk: n C_hat - g_bar g_bar' is not positive definite (${(err as Error).message.replace(/^invalid argument: /, '')}); more batches, or a ridge, are needed.`,
        { cause: err },
      );
    }
    const t = dotv(g, x);
    if (!(t < 1)) {
      throw new RangeError(
        `estimateRisk: the misfit cannot be separated from the noise: g_bar' (n C_hat - g_bar g_bar')^-1 g_bar = ${t} >= 1. Inject more noise (noiseVariance) or use more batches.`,
      );
    }
    const kappa = (s2 + tau2) / (1 - t);
    H = A.map((v) => v / kappa);
    misfit = kappa * t;
    meanSquared = s2 + misfit;
  }
  const meanAbs = Math.sqrt(2 / Math.PI) * Math.sqrt(meanSquared);
  let l2 = 0,
    l1 = 0,
    whw = 0;
  for (let i = 0; i < dim; i++) {
    l2 += weights[i]! * weights[i]!;
    l1 += Math.abs(weights[i]!);
    let s = 0;
    for (let j = 0; j < dim; j++) s += H[i * dim + j]! * weights[j]!;
    whw += weights[i]! * s;
  }
  const dual = { l2: Math.sqrt(l2), linf: l1, mahalanobis: Math.sqrt(Math.max(whw, 0)) };
  const adv = (e: number, norm: number) => meanSquared + 2 * e * norm * meanAbs + e * e * norm * norm;
  const adversarial = eps.map((e) => ({
    eps: e,
    l2: adv(e, dual.l2),
    linf: adv(e, dual.linf),
    mahalanobis: adv(e, dual.mahalanobis),
  }));
  const scalars = [meanSquared, misfit, s2, meanAbs, dual.l2, dual.linf, dual.mahalanobis];
  if (scalars.some((x) => x - x !== 0) || H.some((x) => x - x !== 0)) {
    throw new RangeError(
      'estimateRisk: the risk overflows float64 for these inputs (`w`, `input.mean`, `input.covariance` or `input.hessian` are too large); scale the problem down.',
    );
  }
  const badEps = adversarial.findIndex((a) => [a.l2, a.linf, a.mahalanobis].some((x) => x - x !== 0));
  if (badEps >= 0) {
    throw new RangeError(
      `invalid argument: \`eps[${badEps}]\` is too large: the adversarial risk overflows float64. Value: \`${eps[badEps]}\`.`,
    );
  }
  return {
    meanSquared,
    misfit,
    labelNoiseVariance: s2,
    meanAbs,
    hessian: H,
    dualNorms: dual,
    adversarial,
  };
}

function dotv(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
