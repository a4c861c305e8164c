// Seeded synthetic linear-regression problems with a chosen spectrum: the test bed of the
// method (docs/method.md). x = L z with z i.i.d. standardised (Gaussian, Rademacher, uniform or
// Student-t with 5 degrees of freedom, scaled to unit variance), Sigma = L L' = Q' diag(lambda) Q
// with a random rotation Q, y = x'w* + e, e ~ N(0, s2).
import { Rng } from '../core/rng.js';
import { formatBytes } from '../core/wasm.js';
import type { RegressionData } from './dataset.js';
import {
  checkOptions,
  checkPositiveInteger,
  checkNonNegative,
  checkOneOf,
  checkSeed,
  checkNumber,
  checkInteger,
  checkFloat64Array,
  checkLength,
  checkFinite,
} from '../core/validate.js';

/** The distribution of the standardised inputs z (x = L z). */
export type InputDistribution = 'gaussian' | 'rademacher' | 'uniform' | 'student-t5';
/** Every InputDistribution. */
export const INPUT_DISTRIBUTIONS: readonly InputDistribution[] = [
  'gaussian',
  'rademacher',
  'uniform',
  'student-t5',
];

/** Options of syntheticRegression(). */
export interface SyntheticOptions {
  /** Feature dimension d. */
  dim: number;
  /** Number of rows. */
  rows: number;
  /** Condition number of Sigma: eigenvalues log-spaced on [1, condition] (default 100). */
  condition?: number;
  /** Label-noise variance s2 (default 1). */
  noiseVariance?: number;
  /** Distribution of the inputs (default 'gaussian'). */
  inputs?: InputDistribution;
  /** Seed of the rotation, the inputs, w* and the label noise. */
  seed: number | bigint;
}

/** What syntheticRegression() returns. */
export interface SyntheticProblem {
  /** The rows: X (rows x dim, row-major) and y. */
  data: RegressionData;
  /** The weights that generated y. */
  wStar: Float64Array;
  /** The population covariance Sigma (dim x dim). */
  sigma: Float64Array;
  /** Eigenvalues of Sigma, ascending. */
  eigenvalues: Float64Array;
}

/**
 * Random orthogonal matrix (Gram–Schmidt on seeded normals), row-major.
 * @param dim - its dimension, a positive integer at most 4096
 * @param seed - non-negative safe integer or bigint < 2^64
 * @param stream - generator stream in [0, 2^32) (default 7)
 * @returns Q (dim x dim) with orthonormal rows
 * @throws {TypeError|RangeError} for a bad dim, seed or stream
 * @example
 * const Q = randomOrthogonal(3, 1);
 */
export function randomOrthogonal(dim: number, seed: number | bigint, stream = 7): Float64Array {
  checkPositiveInteger('dim', dim, 4096);
  checkSeed('seed', seed);
  checkInteger('stream', stream, 0, 0xffffffff);
  const q = new Rng(seed, stream).normals(new Float64Array(dim * dim));
  for (let i = 0; i < dim; i++) {
    for (let k = 0; k < i; k++) {
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += q[i * dim + j]! * q[k * dim + j]!;
      for (let j = 0; j < dim; j++) q[i * dim + j]! -= dot * q[k * dim + j]!;
    }
    let nrm = 0;
    for (let j = 0; j < dim; j++) nrm += q[i * dim + j]! ** 2;
    nrm = Math.sqrt(nrm);
    for (let j = 0; j < dim; j++) q[i * dim + j]! /= nrm;
  }
  return q;
}

/**
 * Q' diag(ev) Q for an orthogonal Q whose rows are the eigenvectors.
 * @param ev - the eigenvalues (finite; at most 4096 of them)
 * @param Q - ev.length x ev.length row-major, rows the eigenvectors
 * @returns the symmetric matrix (row-major)
 * @throws {TypeError|RangeError} for malformed arguments, or when the result overflows float64
 * @example
 * const A = matrixWithSpectrum([1, 4], randomOrthogonal(2, 1));
 */
export function matrixWithSpectrum(ev: ArrayLike<number>, Q: Float64Array): Float64Array {
  if (typeof ev !== 'object' || ev === null || typeof ev.length !== 'number') {
    throw new TypeError(`invalid argument: \`ev\` must be an array of numbers. Value: \`${String(ev)}\`.`);
  }
  const d = checkPositiveInteger('ev.length', ev.length, 4096);
  checkFinite('ev', ev);
  Q = checkFloat64Array('Q', Q);
  checkLength('Q', Q, d * d, 'ev.length squared');
  checkFinite('Q', Q, Q.length, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    for (let i = 0; i < d; i++) {
      const a = ev[k]! * Q[k * d + i]!;
      for (let j = 0; j < d; j++) out[i * d + j]! += a * Q[k * d + j]!;
    }
  }
  if (out.some((v) => v - v !== 0)) {
    throw new RangeError(
      "invalid argument: `ev` is too large: Q' diag(ev) Q overflows float64. Value: its largest entry.",
    );
  }
  return out;
}

/** rows x dim i.i.d. standardised draws of the given distribution. */
export function standardizedDraws(count: number, kind: InputDistribution, rng: Rng): Float64Array {
  if (kind === 'gaussian') return rng.normals(new Float64Array(count));
  if (kind === 'student-t5') {
    // t_5 = Z / sqrt(chi2_5 / 5), variance 5/3: scale by sqrt(3/5)
    const z = rng.normals(new Float64Array(count));
    const c = rng.normals(new Float64Array(count * 5));
    for (let i = 0; i < count; i++) {
      let chi = 0;
      for (let k = 0; k < 5; k++) chi += c[i * 5 + k]! ** 2;
      z[i] = (z[i]! / Math.sqrt(chi / 5)) * Math.sqrt(3 / 5);
    }
    return z;
  }
  const u = rng.uniforms(new Float64Array(count));
  if (kind === 'rademacher') for (let i = 0; i < count; i++) u[i] = u[i]! < 0.5 ? -1 : 1;
  else for (let i = 0; i < count; i++) u[i] = (u[i]! - 0.5) * Math.sqrt(12);
  return u;
}

/**
 * A seeded synthetic problem with Sigma of the given condition number.
 * @example
 * const { data, wStar, sigma } = syntheticRegression({ dim: 20, rows: 10000, seed: 1 });
 */
export function syntheticRegression(options: SyntheticOptions): SyntheticProblem {
  const o = checkOptions(
    'options',
    options,
    ['dim', 'rows', 'condition', 'noiseVariance', 'inputs', 'seed'],
    '`options` of syntheticRegression',
  );
  const dim = checkPositiveInteger('dim', o.dim, 4096);
  const rows = checkPositiveInteger('rows', o.rows);
  if (rows * dim * 8 > 2 ** 30 - 64) {
    // X must fit in one wasm heap block to be used by the gradient oracle
    throw new RangeError(
      `invalid argument: \`rows\` x \`dim\` must fit in one WebAssembly heap block (< 1 GiB). Value: ${rows} x ${dim} needs ${formatBytes(rows * dim * 8)}.`,
    );
  }
  const condition = o.condition === undefined ? 100 : checkNumber('condition', o.condition);
  if (!(condition >= 1) || !Number.isFinite(condition)) {
    throw new RangeError(
      `invalid argument: \`condition\` must be a finite number >= 1. Value: \`${condition}\`.`,
    );
  }
  const s2 = o.noiseVariance === undefined ? 1 : checkNonNegative('noiseVariance', o.noiseVariance);
  const kind = o.inputs === undefined ? 'gaussian' : checkOneOf('inputs', o.inputs, INPUT_DISTRIBUTIONS);
  checkSeed('seed', o.seed);
  const seed = o.seed as number | bigint;
  const ev = Float64Array.from({ length: dim }, (_, i) => (dim === 1 ? 1 : condition ** (i / (dim - 1))));
  const Q = randomOrthogonal(dim, seed);
  const z = standardizedDraws(rows * dim, kind, new Rng(seed, 11));
  // x = Q' diag(sqrt ev) z
  const X = new Float64Array(rows * dim);
  const L = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++)
    for (let k = 0; k < dim; k++) L[i * dim + k] = Q[k * dim + i]! * Math.sqrt(ev[k]!);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += L[i * dim + k]! * z[r * dim + k]!;
      X[r * dim + i] = s;
    }
  }
  const wStar = new Rng(seed, 12).normals(new Float64Array(dim));
  const e = new Rng(seed, 13).normals(new Float64Array(rows), 0, Math.sqrt(s2));
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = e[r]!;
    for (let c = 0; c < dim; c++) s += X[r * dim + c]! * wStar[c]!;
    y[r] = s;
  }
  return { data: { X, y, rows, dim }, wStar, sigma: matrixWithSpectrum(ev, Q), eigenvalues: ev };
}
