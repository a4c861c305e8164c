import { wasm, f64, copyIn, withBlocks } from './wasm.js';
import { Rng } from './rng.js';
import { checkPositiveInteger, checkFloat64Array, checkLength, checkFinite, checkOptions, checkUnitInterval, checkSeed, checkOneOf } from './validate.js';
import { extremeRitz } from './tridiagonal.js';

/** Most Lanczos steps kept (the basis is steps x dim doubles of wasm memory). */
const LANCZOS_MAX_STEPS = 1000;

export type SpectralMethod = 'lanczos' | 'power';

export interface SpectralOptions {
  /** Relative accuracy to stop at (in (0, 1); default 1e-9). */
  tol?: number;
  /** Cap on matrix-vector products (default 10000 for power iteration; Lanczos also stops at dim and 1000 steps). */
  maxIter?: number;
  /** Seed of the random start vector (default 0). */
  seed?: number | bigint;
  /** 'lanczos' (default: full reorthogonalisation, tens of steps) or 'power' (power iteration). */
  method?: SpectralMethod;
}

export interface SpectralResult {
  /** The estimate of ||S||_2 = max |eigenvalue|. */
  value: number;
  /** Matrix-vector products used. */
  iterations: number;
  /** Whether the stopping rule was met before the cap. */
  converged: boolean;
  method: SpectralMethod;
}

export interface ExtremeEigenvalues {
  /** Smallest and largest eigenvalue. */
  min: number;
  max: number;
  /** max / min when min > 0 (a positive-definite matrix), else Infinity. */
  conditionNumber: number;
  iterations: number;
  converged: boolean;
}

function checkSymmetricInput(name: string, A: unknown, dim: number): Float64Array {
  const a = checkFloat64Array(name, A);
  checkLength(name, a, dim * dim, 'dim x dim');
  checkFinite(name, a);
  return a;
}

interface Parsed { tol: number; maxIter: number; v0: Float64Array; method: SpectralMethod }

function parse(options: unknown, dim: number): Parsed {
  const opts = checkOptions('options', options, ['tol', 'maxIter', 'method', 'seed']);
  const tol = opts.tol === undefined ? 1e-9 : checkUnitInterval('tol', opts.tol);
  const maxIter = opts.maxIter === undefined ? 10000 : checkPositiveInteger('maxIter', opts.maxIter, 0x7fffffff);
  const method = opts.method === undefined ? 'lanczos' : checkOneOf('method', opts.method, ['lanczos', 'power'] as const);
  const seed = opts.seed === undefined ? 0 : opts.seed;
  checkSeed('seed', seed);
  return { tol, maxIter, method, v0: new Rng(seed as number | bigint).normals(new Float64Array(dim)) };
}

function power(A: Float64Array, B: Float64Array | undefined, dim: number, p: Parsed): SpectralResult {
  const k = wasm();
  const bytes = dim * dim * 8;
  return withBlocks([bytes, B ? bytes : 8, dim * 8, 2 * dim * 8, 24], 'operatorNorm', (aPtr, bPtr, vPtr, wPtr, outPtr) => {
    copyIn(aPtr!, A);
    if (B) copyIn(bPtr!, B);
    copyIn(vPtr!, p.v0);
    k.powerIteration(aPtr!, B ? bPtr! : 0, dim, vPtr!, wPtr!, p.tol, p.maxIter, outPtr!);
    const r = f64(outPtr!, 3);
    return { value: r[0]!, iterations: r[1]!, converged: r[2] === 1, method: 'power' as const };
  });
}

/**
 * Lanczos with full reorthogonalisation (wasm: matrix-vector product and Gram–Schmidt)
 * and, every step early and every 4th step later, the extreme Ritz values of the
 * tridiagonal T_k with their residual bounds r = beta_k |last eigenvector component|
 * (plain TS, O(k)). Stops when both ends' residuals are within tol of `scale(end)`.
 */
function lanczos(A: Float64Array, B: Float64Array | undefined, dim: number, p: Parsed,
  scaleOf: (lo: number, hi: number, which: 0 | 1, err0: number, err1: number) => number) {
  const k = wasm();
  const steps = Math.min(p.maxIter, dim, LANCZOS_MAX_STEPS);
  const bytes = dim * dim * 8;
  return withBlocks([bytes, B ? bytes : 8, (steps + 1) * dim * 8, 16], 'the Lanczos iteration', (aPtr, bPtr, basis, out) => {
    copyIn(aPtr!, A);
    if (B) copyIn(bPtr!, B);
    let nrm = 0;
    for (const v of p.v0) nrm += v * v;
    const v0 = p.v0.map((v) => v / Math.sqrt(nrm));
    copyIn(basis!, v0);
    const alpha: number[] = [], beta: number[] = [];
    let lo = 0, hi = 0, converged = false, it = 0;
    while (it < steps) {
      k.lanczosStep(aPtr!, B ? bPtr! : 0, dim, basis!, it, out!);
      const [a, b] = f64(out!, 2);
      alpha.push(a!);
      it++;
      // the Ritz analysis costs O(60 k) per check: every step early, then every 4th step
      if (it > 16 && it % 4 !== 0 && it < steps && b! > 0) {
        beta.push(b!);
        continue;
      }
      const [end0, end1] = extremeRitz(alpha, beta, it, b!);
      lo = end0.value; hi = end1.value;
      const norm = Math.max(Math.abs(lo), Math.abs(hi));
      // beta = 0 (to rounding): the Krylov space is invariant and T's eigenvalues are exact
      if (b! <= 8 * Number.EPSILON * norm || (end0.error <= p.tol * scaleOf(lo, hi, 0, end0.error, end1.error)
        && end1.error <= p.tol * scaleOf(lo, hi, 1, end0.error, end1.error))) {
        converged = true;
        break;
      }
      beta.push(b!);
    }
    return { lo, hi, iterations: it, converged };
  });
}

/**
 * A power of two s with max |entry| / s in [2^-1, 1) when the entries are so small or so
 * large that the kernels' sums of squares would underflow or overflow (outside 2^+-256);
 * else 1. Scaling by a power of two is exact, so results are unchanged otherwise. Issue 7:
 * a matrix of size 1e-200 had ||A v||^2 = 0 and was reported "converged" with norm 0.
 */
function scaleOf(...mats: (Float64Array | undefined)[]): number {
  let m = 0;
  for (const M of mats) if (M) for (let i = 0; i < M.length; i++) m = Math.max(m, Math.abs(M[i]!));
  if (m === 0 || (m >= 2 ** -256 && m <= 2 ** 256)) return 1;
  return 2 ** Math.ceil(Math.log2(m));
}

const scaled = (M: Float64Array | undefined, s: number) => (M && s !== 1 ? M.map((v) => v / s) : M);

function norm(A0: Float64Array, B0: Float64Array | undefined, dim: number, options: unknown): SpectralResult {
  const p = parse(options, dim);
  const s = scaleOf(A0, B0);
  if (s !== 1) {
    const r = norm(scaled(A0, s)!, scaled(B0, s), dim, options);
    return { ...r, value: r.value * s };
  }
  const A = A0, B = B0;
  if (p.method === 'power') return power(A, B, dim, p);
  // For the norm, the end of smaller magnitude only has to be shown smaller than the other
  // end (Ritz values lie inside the spectrum, so |lambda| <= |theta| + error bounds it).
  const r = lanczos(A, B, dim, p, (lo, hi, which, err0, err1) => {
    const big = Math.max(Math.abs(lo), Math.abs(hi));
    const mine = Math.abs(which === 0 ? lo : hi), myErr = which === 0 ? err0 : err1, otherErr = which === 0 ? err1 : err0;
    return mine < big && mine + myErr < big - otherErr ? Infinity : big;
  });
  return { value: Math.max(Math.abs(r.lo), Math.abs(r.hi)), iterations: r.iterations, converged: r.converged, method: 'lanczos' };
}

/**
 * Operator norm ||A||_2 = max |lambda| of a symmetric dim x dim matrix (row-major), from a
 * seeded random start. Default method 'lanczos': full reorthogonalisation, stops when both
 * extreme Ritz values' error estimates are below tol * ||A||. Method 'power': power
 * iteration, stops when the remaining relative error estimated from the observed
 * convergence rate is below tol. Either reports converged false at the cap.
 *
 * @throws {TypeError|RangeError} for a malformed matrix or options
 * @example
 * operatorNorm(new Float64Array([2, 1, 1, -3]), 2).value; // 3.1926...
 */
export function operatorNorm(A: Float64Array, dim: number, options?: SpectralOptions): SpectralResult {
  const d = checkPositiveInteger('dim', dim, 46340);
  return norm(checkSymmetricInput('A', A, d), undefined, d, options);
}

/**
 * ||A - B||_2 for symmetric A, B without forming A - B (the kernel reads both).
 * @example
 * operatorNormDiff(estimate, truth, dim).value / operatorNorm(truth, dim).value
 */
export function operatorNormDiff(A: Float64Array, B: Float64Array, dim: number, options?: SpectralOptions): SpectralResult {
  const d = checkPositiveInteger('dim', dim, 46340);
  return norm(checkSymmetricInput('A', A, d), checkSymmetricInput('B', B, d), d, options);
}

/**
 * Relative operator-norm error ||estimate - truth||_2 / ||truth||_2 of symmetric matrices.
 * @throws {RangeError} when truth is the zero matrix
 * @example
 * relativeError(estimateHessian(data, w, opts).hessian, H, dim) // e.g. 0.05
 */
export function relativeError(estimate: Float64Array, truth: Float64Array, dim: number, options?: SpectralOptions): number {
  const d = checkPositiveInteger('dim', dim, 46340);
  checkSymmetricInput('estimate', estimate, d); // named as the caller knows them, not as A and B
  checkSymmetricInput('truth', truth, d);
  const num = operatorNormDiff(estimate, truth, dim, options).value;
  const den = operatorNorm(truth, dim, options).value;
  if (den === 0) throw new RangeError('invalid argument: `truth` must not be the zero matrix (its norm is the denominator).');
  return num / den;
}

/**
 * Smallest and largest eigenvalue of a symmetric matrix (Lanczos, each to relative accuracy
 * tol of its own magnitude, or of ||A|| for an end near 0), and the condition number.
 * @example
 * const { min, max, conditionNumber } = extremeEigenvalues(H, dim);
 * const step = 1 / max;   // gradient-descent step size
 */
export function extremeEigenvalues(A: Float64Array, dim: number, options?: Omit<SpectralOptions, 'method'>): ExtremeEigenvalues {
  const d = checkPositiveInteger('dim', dim, 46340);
  const a = checkSymmetricInput('A', A, d);
  const p = parse(options, d);
  if (p.method !== 'lanczos') throw new RangeError("invalid argument: `method` must be 'lanczos' for extremeEigenvalues. Value: `'power'`.");
  const s = scaleOf(a);
  if (s !== 1) {
    const e = extremeEigenvalues(scaled(a, s)!, d, options);
    return { ...e, min: e.min * s, max: e.max * s };
  }
  const r = lanczos(a, undefined, d, p, (lo, hi, which) => {
    const own = Math.abs(which === 0 ? lo : hi);
    return Math.max(own, 1e-8 * Math.max(Math.abs(lo), Math.abs(hi)));
  });
  return { min: r.lo, max: r.hi, conditionNumber: r.lo > 0 ? r.hi / r.lo : Infinity, iterations: r.iterations, converged: r.converged };
}
