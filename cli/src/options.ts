// Parsers for command-line values: each rejects bad input with a message that names the
// option and the value (commander prints it as "error: option '--x <n>' argument ... is invalid").
import { InvalidArgumentError } from 'commander';

export function positiveInteger(value: string): number {
  const v = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`must be a positive integer, got "${value}".`);
  return v;
}

export function atLeastTwo(value: string): number {
  const v = positiveInteger(value);
  if (v < 2) throw new InvalidArgumentError(`must be at least 2 (a covariance needs two gradients), got "${value}".`);
  return v;
}

export function nonNegativeNumber(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < 0) throw new InvalidArgumentError(`must be a finite number >= 0, got "${value}".`);
  return v;
}

export function seed(value: string): number {
  const v = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(v)) throw new InvalidArgumentError(`must be a non-negative integer, got "${value}".`);
  return v;
}

export function integerList(value: string): number[] {
  return value.split(',').map((s) => {
    try {
      return positiveInteger(s);
    } catch {
      throw new InvalidArgumentError(`must be a comma-separated list of positive integers, got "${value}".`);
    }
  });
}
