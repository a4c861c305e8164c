// Cholesky factorisation with a ridge and the solves, as one-shot functions. The factor is
// computed by the wasm kernel (assembly/cholesky.ts); Preconditioner keeps one resident.
import { wasm, f64, copyIn, withBlocks, checkBlocks, byteCount } from './wasm.js';
import {
  checkPositiveInteger,
  checkFloat64Array,
  checkLength,
  checkFinite,
  checkOptions,
  checkNonNegative,
} from './validate.js';

/** Options of the Cholesky functions. */
export interface CholeskyOptions {
  /** lambda >= 0 added to the diagonal: factorises A + lambda I (default 0). */
  ridge?: number;
}

/** Validates a dim x dim matrix argument. @internal */
export function checkSquare(name: string, A: unknown, dim: number): Float64Array {
  const a = checkFloat64Array(name, A);
  checkLength(name, a, dim * dim, 'dim x dim');
  checkFinite(name, a, a.length, dim);
  return a;
}

/** Reads `ridge` from options (default 0). @internal */
export function checkRidge(options: unknown): number {
  const o = checkOptions('options', options, ['ridge']);
  return o.ridge === undefined ? 0 : checkNonNegative('ridge', o.ridge);
}

/** The error for a failed pivot: which, its value, and a ridge that would do. @internal */
export function notPositiveDefinite(
  name: string,
  pivot: number,
  value: number,
  ridge: number,
  A: Float64Array,
  dim: number,
): RangeError {
  let trace = 0;
  for (let i = 0; i < dim; i++) trace += A[i * dim + i]!;
  const scale = Math.abs(trace / dim) || 1;
  const suggest = Math.max(ridge * 10, Math.abs(value) + 1e-8 * scale, 1e-10 * scale);
  return new RangeError(
    `invalid argument: \`${name}\` + ridge I must be positive definite: the Cholesky pivot at index ${pivot} ` +
      `is ${value} (<= 0) with ridge ${ridge}. Pass a ridge, e.g. { ridge: ${suggest.toPrecision(2)} }, or check the matrix (symmetric, full rank).`,
  );
}

/**
 * Factorises A + ridge I = L L' (A symmetric positive definite, dim x dim row-major; only
 * its lower triangle is read) in wasm and returns L, lower triangular with zeros above.
 *
 * @param A - symmetric matrix (Float64Array, any byteOffset)
 * @param dim - its dimension
 * @param options - `{ ridge }`, lambda >= 0 added to the diagonal (default 0)
 * @returns L (dim x dim row-major)
 * @throws {TypeError|RangeError} for malformed input; RangeError naming the failing pivot, its value and a ridge that would help when A + ridge I is not positive definite
 * @example
 * const L = choleskyFactor(new Float64Array([4, 2, 2, 3]), 2); // [2, 0, 1, 1.414...]
 */
export function choleskyFactor(A: Float64Array, dim: number, options?: CholeskyOptions): Float64Array {
  const d = checkPositiveInteger('dim', dim, 46340);
  checkBlocks(
    [byteCount(d * d, 8)],
    `\`dim\` = ${d}`,
    'the Cholesky factor (8 dim^2 bytes; dim at most 11585)',
  );
  const a = checkSquare('A', A, d);
  const ridge = checkRidge(options);
  return withBlocks([d * d * 8, 8], 'choleskyFactor', (lPtr, pivotPtr) => {
    copyIn(lPtr!, a);
    const k = wasm();
    const pivot = k.choleskyFactor(lPtr!, d, ridge, pivotPtr!);
    if (pivot >= 0) throw notPositiveDefinite('A', pivot, f64(pivotPtr!, 1)[0]!, ridge, a, d);
    const L = f64(lPtr!, d * d).slice();
    for (let i = 0; i < d; i++) L.fill(0, i * d + i + 1, (i + 1) * d);
    return L;
  });
}

/**
 * Solves (A + ridge I) x = b by a Cholesky factorisation in wasm.
 *
 * @param A - symmetric positive-definite matrix (dim x dim row-major)
 * @param b - right-hand side (length dim)
 * @returns x (a new Float64Array)
 * @throws {TypeError|RangeError} as choleskyFactor, and for a b of the wrong length
 * @example
 * choleskySolve(new Float64Array([4, 2, 2, 3]), 2, new Float64Array([2, 1])); // [0.5, 0]
 */
export function choleskySolve(
  A: Float64Array,
  dim: number,
  b: Float64Array,
  options?: CholeskyOptions,
): Float64Array {
  const d = checkPositiveInteger('dim', dim, 46340);
  checkBlocks(
    [byteCount(d * d, 8)],
    `\`dim\` = ${d}`,
    'the Cholesky factor (8 dim^2 bytes; dim at most 11585)',
  );
  const a = checkSquare('A', A, d);
  const rhs = checkFloat64Array('b', b);
  checkLength('b', rhs, d, 'dim');
  checkFinite('b', rhs);
  const ridge = checkRidge(options);
  return solveSpd('A', a, d, rhs, ridge);
}

/**
 * (A + ridge I)^-1 b for validated arguments; a failed pivot is reported naming `name`,
 * the matrix as the user knows it (e.g. `input.hessian`). @internal
 */
export function solveSpd(
  name: string,
  a: Float64Array,
  d: number,
  rhs: Float64Array,
  ridge: number,
): Float64Array {
  return withBlocks([d * d * 8, d * 8, 8], 'choleskySolve', (lPtr, xPtr, pivotPtr) => {
    copyIn(lPtr!, a);
    copyIn(xPtr!, rhs);
    const k = wasm();
    const pivot = k.choleskyFactor(lPtr!, d, ridge, pivotPtr!);
    if (pivot >= 0) throw notPositiveDefinite(name, pivot, f64(pivotPtr!, 1)[0]!, ridge, a, d);
    k.choleskySolve(lPtr!, d, xPtr!);
    const x = f64(xPtr!, d).slice();
    if (x.some((v) => v - v !== 0)) {
      throw new RangeError(
        `invalid argument: \`${name}\` + ridge I must be well enough conditioned for the solve to stay finite. Value: the solution overflows float64 with ridge ${ridge}; pass a larger ridge.`,
      );
    }
    return x;
  });
}
