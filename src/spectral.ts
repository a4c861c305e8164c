import { wasm, f64, copyIn, withBlocks } from './wasm.js';
import { Rng } from './rng.js';
import { checkPositiveInteger, checkFloat64Array, checkLength, checkFinite, checkOptions, checkUnitInterval, checkSeed } from './validate.js';

export interface PowerIterationOptions {
  /** Relative accuracy to stop at (in (0, 1); default 1e-9). */
  tol?: number;
  /** Iteration cap (default 10000). */
  maxIter?: number;
  /** Seed of the random start vector (default 0). */
  seed?: number | bigint;
}

export interface PowerIterationResult {
  /** The estimate of ||S||_2 = max |eigenvalue|. */
  value: number;
  /** Matrix-vector products used. */
  iterations: number;
  /** Whether the stopping rule was met before the cap. */
  converged: boolean;
}

function checkSymmetricInput(name: string, A: unknown, dim: number): Float64Array {
  const a = checkFloat64Array(name, A);
  checkLength(name, a, dim * dim, 'dim x dim');
  checkFinite(name, a);
  return a;
}

function run(A: Float64Array, B: Float64Array | undefined, dim: number, options: unknown): PowerIterationResult {
  const opts = checkOptions('options', options);
  const tol = opts.tol === undefined ? 1e-9 : checkUnitInterval('tol', opts.tol);
  const maxIter = opts.maxIter === undefined ? 10000 : checkPositiveInteger('maxIter', opts.maxIter, 0x7fffffff);
  const seed = opts.seed === undefined ? 0 : opts.seed;
  checkSeed('seed', seed);
  const v0 = new Rng(seed as number | bigint).normals(new Float64Array(dim));
  const k = wasm();
  const bytes = dim * dim * 8;
  return withBlocks([bytes, B ? bytes : 8, dim * 8, dim * 8, 24], 'operatorNorm', (aPtr, bPtr, vPtr, wPtr, outPtr) => {
    copyIn(aPtr!, A);
    if (B) copyIn(bPtr!, B);
    copyIn(vPtr!, v0);
    k.powerIteration(aPtr!, B ? bPtr! : 0, dim, vPtr!, wPtr!, tol, maxIter, outPtr!);
    const r = f64(outPtr!, 3);
    return { value: r[0]!, iterations: r[1]!, converged: r[2] === 1 };
  });
}

/**
 * Operator norm ||A||_2 = max |lambda| of a symmetric dim x dim matrix (row-major) by power
 * iteration from a seeded random start. Stops when the estimated remaining relative error
 * (from the observed convergence rate) is below `tol`, or at `maxIter` with converged false.
 *
 * @throws {TypeError|RangeError} for a malformed matrix or options
 * @example
 * operatorNorm(new Float64Array([2, 1, 1, -3]), 2).value; // 3.1926...
 */
export function operatorNorm(A: Float64Array, dim: number, options?: PowerIterationOptions): PowerIterationResult {
  const d = checkPositiveInteger('dim', dim, 46340);
  return run(checkSymmetricInput('A', A, d), undefined, d, options);
}

/**
 * ||A - B||_2 for symmetric A, B without forming A - B (the kernel reads both).
 * @example
 * operatorNormDiff(estimate, truth, dim).value / operatorNorm(truth, dim).value
 */
export function operatorNormDiff(A: Float64Array, B: Float64Array, dim: number, options?: PowerIterationOptions): PowerIterationResult {
  const d = checkPositiveInteger('dim', dim, 46340);
  return run(checkSymmetricInput('A', A, d), checkSymmetricInput('B', B, d), d, options);
}

/**
 * Relative operator-norm error ||estimate - truth||_2 / ||truth||_2 of symmetric matrices.
 * @throws {RangeError} when truth is the zero matrix
 * @example
 * relativeError(estimateHessian(data, w, opts).hessian, H, dim) // e.g. 0.05
 */
export function relativeError(estimate: Float64Array, truth: Float64Array, dim: number, options?: PowerIterationOptions): number {
  const num = operatorNormDiff(estimate, truth, dim, options).value;
  const den = operatorNorm(truth, dim, options).value;
  if (den === 0) throw new RangeError('invalid argument: `truth` must not be the zero matrix (its norm is the denominator).');
  return num / den;
}
