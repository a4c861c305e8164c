// Plain-TS reference for the risk estimates: the risks measured directly on the data
// (the Monte-Carlo ground truth over its rows), with H = X'X/rows of the same data.
import type { RegressionData } from '../data/dataset.js';

/** The perturbation ball of the adversarial risk: l2, l-infinity, or Mahalanobis (D'H^-1 D <= eps^2). */
export type PerturbationNorm = 'l2' | 'linf' | 'mahalanobis';

/**
 * Dual norm ||w||_* of the perturbation ball: l2 -> ||w||_2, linf -> ||w||_1,
 * mahalanobis (D'H^-1 D <= 1) -> sqrt(w'Hw).
 *
 * @param w - the weights
 * @param norm - the ball
 * @param H - the dim x dim matrix of the Mahalanobis ball (required for 'mahalanobis')
 * @returns ||w||_*
 * @example
 * dualNorm(new Float64Array([3, -4]), 'l2'); // 5
 */
export function dualNorm(w: Float64Array, norm: PerturbationNorm, H?: Float64Array): number {
  const d = w.length;
  if (norm === 'l2') return Math.sqrt(w.reduce((s, v) => s + v * v, 0));
  if (norm === 'linf') return w.reduce((s, v) => s + Math.abs(v), 0);
  let q = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) q += w[i]! * H![i * d + j]! * w[j]!;
  return Math.sqrt(q);
}

/**
 * The risks measured directly on data rows (the ground truth to compare estimates with):
 * the mean over the rows of sup_{||D|| <= eps} ((x + D)'w - y)^2 = (|r| + eps ||w||_*)^2,
 * and the mean of r^2 and of |r|, r = x'w - y.
 *
 * @param data - the rows
 * @param w - the weights
 * @param eps - the perturbation radius
 * @param dual - the dual norm ||w||_* of the ball (see dualNorm())
 * @returns the three means
 * @example
 * const truth = riskOnData(data, w, 0.1, dualNorm(w, 'l2'));
 */
export function riskOnData(data: RegressionData, w: Float64Array, eps: number, dual: number): {
  /** Mean of (|r| + eps ||w||_*)^2 over the rows. */
  adversarial: number;
  /** Mean of r^2. */
  meanSquared: number;
  /** Mean of |r|. */
  meanAbs: number;
} {
  const { X, y, rows, dim } = data;
  let adv = 0, sq = 0, ab = 0;
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
