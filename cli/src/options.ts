// Parsers for command-line values: each rejects bad input with a message that names the
// option and the value (commander prints it as "option '--x <n>' argument ... is invalid",
// behind the CLI's one error prefix), including the documented bounds of cli/src/limits.ts.
import { InvalidArgumentError } from 'commander';
import { MAX_BATCH_SIZE, MAX_BATCHES, MAX_FEATURES, MAX_NOISE, MAX_ROWS } from './limits.js';

function integerAtMost(value: string, max: number, what: string): number {
  const v = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(v) || v < 1)
    throw new InvalidArgumentError(`must be a positive integer, got "${value}".`);
  if (v > max) throw new InvalidArgumentError(`must be at most ${max} (${what}), got "${value}".`);
  return v;
}

export function positiveInteger(value: string): number {
  return integerAtMost(value, Number.MAX_SAFE_INTEGER, 'a safe integer');
}

/** --batch-size: rows per batch, at most MAX_BATCH_SIZE. */
export function batchSize(value: string): number {
  return integerAtMost(value, MAX_BATCH_SIZE, "the CLI's limit on the batch size");
}

/** --batches: at least 2 (a covariance needs two gradients), at most MAX_BATCHES. */
export function atLeastTwo(value: string): number {
  const v = integerAtMost(value, MAX_BATCHES, "the CLI's limit on the batch gradients per estimate");
  if (v < 2)
    throw new InvalidArgumentError(`must be at least 2 (a covariance needs two gradients), got "${value}".`);
  return v;
}

/** --dim: at most MAX_FEATURES. */
export function dimension(value: string): number {
  return integerAtMost(value, MAX_FEATURES, "the CLI's limit on the feature dimension");
}

/** --rows of the synthetic experiments: at most MAX_ROWS. */
export function rowCount(value: string): number {
  return integerAtMost(value, MAX_ROWS, "the CLI's limit on synthetic rows");
}

export function nonNegativeNumber(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < 0)
    throw new InvalidArgumentError(`must be a finite number >= 0, got "${value}".`);
  return v;
}

/** --noise: a variance in [0, MAX_NOISE] (the calibrated value is about the batch size). */
export function noiseVariance(value: string): number {
  const v = nonNegativeNumber(value);
  if (v > MAX_NOISE)
    throw new InvalidArgumentError(
      `must be at most 1e150 (larger variances overflow the gradients' squares; the calibrated value is about the batch size), got "${value}".`,
    );
  return v;
}

/** --noise-levels: two variances tau_1,tau_2 with tau_1 > tau_2 (method two-level). */
export function noiseLevels(value: string): [number, number] {
  const parts = value.split(',');
  if (parts.length !== 2)
    throw new InvalidArgumentError(`must be two variances tau_1,tau_2 separated by a comma, got "${value}".`);
  const [a, b] = parts.map((p) => noiseVariance(p)) as [number, number];
  if (!(a > b)) throw new InvalidArgumentError(`must have tau_1 > tau_2, got "${value}".`);
  return [a, b];
}

export function seed(value: string): number {
  const v = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(v))
    throw new InvalidArgumentError(`must be a non-negative integer, got "${value}".`);
  return v;
}

/** --dims: comma-separated dimensions (at most MAX_DIMS_LIST of them), each at most MAX_FEATURES. */
const MAX_DIMS_LIST = 64;
export function integerList(value: string): number[] {
  const parts = value.split(',');
  if (parts.length > MAX_DIMS_LIST)
    throw new InvalidArgumentError(`must list at most ${MAX_DIMS_LIST} dimensions, got ${parts.length}.`);
  return parts.map((s) => {
    try {
      return dimension(s);
    } catch {
      throw new InvalidArgumentError(
        `must be a comma-separated list of positive integers at most ${MAX_FEATURES}, got "${value}".`,
      );
    }
  });
}

/** --delimiter: one character, or `tab` / `\t`; not a quote, a line break or the decimal point. */
export function delimiter(value: string): string {
  const d = value === 'tab' || value === '\\t' ? '\t' : value;
  if (d.length !== 1 || d === '"' || d === '\n' || d === '\r' || d === '.') {
    throw new InvalidArgumentError(`must be one character such as , ; | or the word tab, got "${value}".`);
  }
  return d;
}
