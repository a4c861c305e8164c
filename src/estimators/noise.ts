import { Rng } from '../core/rng.js';
import {
  checkOptions,
  checkPositiveInteger,
  checkNonNegative,
  checkOneOf,
  checkFloat64Array,
  checkFinite,
} from '../core/validate.js';

/** The loss normalisations calibratedNoiseVariance() knows (docs/method.md, "Other loss conventions"). */
export type LossConvention = 'mean-half-squared' | 'mean-squared' | 'sum-half-squared' | 'sum-squared';
/** Every LossConvention, in the order of the docs. */
export const LOSS_CONVENTIONS: readonly LossConvention[] = [
  'mean-half-squared',
  'mean-squared',
  'sum-half-squared',
  'sum-squared',
];

/** Options of calibratedNoiseVariance(). */
export interface CalibrationOptions {
  /** Variance s2 of the label noise already in the targets (default 0). */
  baseNoiseVariance?: number;
  /** How the batch loss is normalised (default 'mean-half-squared', the oracle's loss). */
  loss?: LossConvention;
}

/**
 * The calibration rule: the target-noise variance to inject so that the total target
 * noise s2 + tau2 makes Cov(batch gradient) estimate the Hessian.
 *
 * | loss | Hessian | total noise s2 + tau2 |
 * |---|---|---|
 * | mean-half-squared (1/2n) sum r^2 | H | n |
 * | mean-squared (1/n) sum r^2 | 2H | n/2 |
 * | sum-half-squared (1/2) sum r^2 | nH | 1 |
 * | sum-squared sum r^2 | 2nH | 1/2 |
 *
 * Returns max(0, target - baseNoiseVariance): when the label noise already exceeds the
 * target, no noise is injected and the covariance estimates the Hessian only up to the
 * scale (s2 / target), which docs/method.md calls "H up to scale".
 *
 * @param batchSize positive integer n
 * @returns the variance tau2 of the Gaussian noise to add to each target
 * @throws {TypeError|RangeError} for a bad batch size, variance or loss name
 * @example
 * calibratedNoiseVariance(256);                             // 256
 * calibratedNoiseVariance(256, { baseNoiseVariance: 6 });   // 250
 * calibratedNoiseVariance(256, { loss: 'mean-squared' });   // 128
 */
export function calibratedNoiseVariance(batchSize: number, options?: CalibrationOptions): number {
  const n = checkPositiveInteger('batchSize', batchSize);
  const opts = checkOptions(
    'options',
    options,
    ['baseNoiseVariance', 'loss'],
    '`options` of calibratedNoiseVariance',
  );
  const s2 =
    opts.baseNoiseVariance === undefined ? 0 : checkNonNegative('baseNoiseVariance', opts.baseNoiseVariance);
  const loss =
    opts.loss === undefined ? 'mean-half-squared' : checkOneOf('loss', opts.loss, LOSS_CONVENTIONS);
  const target =
    loss === 'mean-half-squared'
      ? n
      : loss === 'mean-squared'
        ? n / 2
        : loss === 'sum-half-squared'
          ? 1
          : 0.5;
  return Math.max(0, target - s2);
}

/**
 * Returns a new array y + xi with xi ~ N(0, variance) drawn from `rng` (which advances).
 * @example
 * const yNoisy = injectTargetNoise(y, calibratedNoiseVariance(64), new Rng(7));
 */
export function injectTargetNoise(y: Float64Array, variance: number, rng: Rng): Float64Array {
  y = checkFloat64Array('y', y);
  const v = checkNonNegative('variance', variance);
  if (!(rng instanceof Rng))
    throw new TypeError(`invalid argument: \`rng\` must be an Rng. Value: \`${String(rng)}\`.`);
  checkFinite('y', y);
  const out = rng.normals(new Float64Array(y.length), 0, Math.sqrt(v));
  for (let i = 0; i < y.length; i++) {
    out[i] = y[i]! + out[i]!;
    if (out[i]! - out[i]! !== 0) {
      throw new RangeError(
        `invalid argument: \`y\` plus noise of variance ${v} overflows float64 at row ${i}. Value: \`${y[i]}\`; scale the targets down.`,
      );
    }
  }
  return out;
}
