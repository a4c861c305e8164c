// The risks measured directly on data rows, the ground truth that estimateRisk()'s
// gradient-only estimates are compared with: plain TS over the rows (no kernel), validated.
import {
  checkFloat64Array,
  checkFinite,
  checkLength,
  checkNonNegative,
  checkOneOf,
  checkRegressionData,
} from '../core/validate.js';

/** The perturbation ball of the adversarial risk: l2, l-infinity, or Mahalanobis (D'H^-1 D <= eps^2). */
export type PerturbationNorm = 'l2' | 'linf' | 'mahalanobis';

/** ||w||_* of the ball, on checked inputs (H: dim x dim for 'mahalanobis'). */
function dualNormRef(w: Float64Array, norm: PerturbationNorm, H?: Float64Array): number {
  const d = w.length;
  if (norm === 'l2') return Math.sqrt(w.reduce((s, v) => s + v * v, 0));
  if (norm === 'linf') return w.reduce((s, v) => s + Math.abs(v), 0);
  let q = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) q += w[i]! * H![i * d + j]! * w[j]!;
  return Math.sqrt(q);
}

/** The three means over the rows, on checked inputs. */
function riskOnDataRef(
  data: { X: Float64Array; y: Float64Array; rows: number; dim: number },
  w: Float64Array,
  eps: number,
  dual: number,
) {
  const { X, y, rows, dim } = data;
  let adv = 0,
    sq = 0,
    ab = 0;
  for (let r = 0; r < rows; r++) {
    let res = -y[r]!;
    for (let c = 0; c < dim; c++) res += X[r * dim + c]! * w[c]!;
    const a = Math.abs(res);
    adv += (a + eps * dual) ** 2;
    sq += res * res;
    ab += a;
  }
  return { adversarial: adv / rows, meanSquared: sq / rows, meanAbs: ab / rows };
}

const NORMS: readonly PerturbationNorm[] = ['l2', 'linf', 'mahalanobis'];

/**
 * Dual norm ||w||_* of a perturbation ball: l2 -> ||w||_2, linf -> ||w||_1, mahalanobis
 * (D'H^-1 D <= 1) -> sqrt(w'Hw).
 *
 * @param w - the weights (finite)
 * @param norm - 'l2', 'linf' or 'mahalanobis'
 * @param H - the dim x dim positive semi-definite matrix of the Mahalanobis ball (required for 'mahalanobis')
 * @returns ||w||_*
 * @throws {TypeError} when w or H is not a Float64Array, or norm is not a string
 * @throws {RangeError} for an unknown norm, non-finite values, a wrong H size, or w'Hw < 0
 * @example
 * dualNorm(new Float64Array([3, -4]), 'l2'); // 5
 */
export function dualNorm(w: Float64Array, norm: PerturbationNorm, H?: Float64Array): number {
  const v = checkFloat64Array('w', w);
  checkFinite('w', v);
  const which = checkOneOf('norm', norm, NORMS);
  if (which !== 'mahalanobis') return dualNormRef(v, which);
  if (H === undefined)
    throw new TypeError("invalid argument: `H` must be given for norm 'mahalanobis'. Value: `undefined`.");
  const M = checkFloat64Array('H', H);
  checkLength('H', M, v.length * v.length, 'dim x dim');
  checkFinite('H', M, M.length, v.length);
  const q = dualNormRef(v, which, M);
  if (Number.isNaN(q))
    throw new RangeError("invalid argument: `H` must be positive semi-definite: w'Hw < 0 for this `w`.");
  return q;
}

/**
 * The risks measured directly on data rows: the mean over the rows of
 * sup_{||D|| <= eps} ((x + D)'w - y)^2 = (|r| + eps ||w||_*)^2, and the means of r^2 and
 * |r|, with r = x'w - y. The ground truth for estimateRisk()'s estimates.
 *
 * @param data - the rows { X, y, rows, dim }
 * @param w - the weights, dim values
 * @param eps - the perturbation radius, >= 0
 * @param dual - the dual norm ||w||_* of the ball (see dualNorm()), >= 0
 * @returns the three means
 * @throws {TypeError|RangeError} for malformed data, a wrong w length, or negative or non-finite eps or dual
 * @example
 * const truth = riskOnData(data, w, 0.1, dualNorm(w, 'l2'));
 */
export function riskOnData(
  data: { X: Float64Array; y: Float64Array; rows: number; dim: number },
  w: Float64Array,
  eps: number,
  dual: number,
): {
  /** Mean of (|r| + eps ||w||_*)^2 over the rows. */
  adversarial: number;
  /** Mean of r^2. */
  meanSquared: number;
  /** Mean of |r|. */
  meanAbs: number;
} {
  const d = checkRegressionData(data);
  const v = checkFloat64Array('w', w);
  checkLength('w', v, d.dim, 'dim');
  checkFinite('w', v);
  const e = checkNonNegative('eps', eps),
    q = checkNonNegative('dual', dual);
  const out = riskOnDataRef(d, v, e, q);
  if (!Number.isFinite(out.adversarial) || !Number.isFinite(out.meanSquared)) {
    throw new RangeError(
      `the risk on these data is not representable as a double (residuals overflow). Value: \`${out.meanSquared}\`.`,
    );
  }
  return out;
}
