// Plain-TS reference for the risk estimates: the risks measured directly on the data
// (the Monte-Carlo ground truth over its rows), with H = X'X/rows of the same data.
import type { RegressionData } from '../gradients.js';

export type PerturbationNorm = 'l2' | 'linf' | 'mahalanobis';

/** Dual norm ||w||_* of the perturbation ball: l2 -> ||w||_2, linf -> ||w||_1, mahalanobis (D'H^-1 D <= 1) -> sqrt(w'Hw). */
export function dualNorm(w: Float64Array, norm: PerturbationNorm, H?: Float64Array): number {
  const d = w.length;
  if (norm === 'l2') return Math.sqrt(w.reduce((s, v) => s + v * v, 0));
  if (norm === 'linf') return w.reduce((s, v) => s + Math.abs(v), 0);
  let q = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) q += w[i]! * H![i * d + j]! * w[j]!;
  return Math.sqrt(q);
}

/** Mean over the rows of sup_{||D|| <= eps} ((x + D)'w - y)^2 = (|r| + eps ||w||_*)^2, and E r^2, E|r|. */
export function riskOnData(data: RegressionData, w: Float64Array, eps: number, dual: number): { adversarial: number; meanSquared: number; meanAbs: number } {
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
