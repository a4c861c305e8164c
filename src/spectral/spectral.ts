import { wasm, f64, copyIn, withBlocks } from '../core/wasm.js';
import { Rng } from '../core/rng.js';
import {
  checkPositiveInteger,
  checkFloat64Array,
  checkLength,
  checkFinite,
  checkOptions,
  checkUnitInterval,
  checkSeed,
  checkOneOf,
} from '../core/validate.js';

/** Most Lanczos steps kept (the basis is steps x dim doubles of wasm memory). */
const LANCZOS_MAX_STEPS = 1000;

/** The iteration of operatorNorm(): Lanczos (default) or power iteration. */
export type SpectralMethod = 'lanczos' | 'power';

/** Options of the spectral functions. */
export interface SpectralOptions {
  /**
   * Relative accuracy to stop at (in (0, 1); default 1e-9). Lanczos reports converged only
   * when the residual ||A y - theta y|| of each returned Ritz pair is at most tol times its
   * scale (||A||; for extremeEigenvalues each end's own magnitude, at least 1e-8 ||A||):
   * an eigenvalue then lies within that distance of the value, which never lies outside
   * the spectrum (see docs/guarantees.md).
   */
  tol?: number;
  /** Cap on matrix-vector products (default 10000 for power iteration; Lanczos also stops at dim and 1000 steps). */
  maxIter?: number;
  /** Seed of the random start vector (default 0). */
  seed?: number | bigint;
  /** 'lanczos' (default: full reorthogonalisation, tens of steps) or 'power' (power iteration). */
  method?: SpectralMethod;
}

/** What operatorNorm() and operatorNormDiff() return. */
export interface SpectralResult {
  /** The estimate of ||S||_2 = max |eigenvalue|. */
  value: number;
  /** Matrix-vector products used. */
  iterations: number;
  /** Whether the stopping rule was met before the cap. */
  converged: boolean;
  /** The iteration that was used. */
  method: SpectralMethod;
}

/** What extremeEigenvalues() returns. */
export interface ExtremeEigenvalues {
  /** Smallest eigenvalue. */
  min: number;
  /** Largest eigenvalue. */
  max: number;
  /** max / min when min > 0 (a positive-definite matrix), else Infinity. */
  conditionNumber: number;
  /** Matrix-vector products used. */
  iterations: number;
  /** Whether both eigenvalues met the stopping rule before the cap. */
  converged: boolean;
}

/**
 * Largest accepted asymmetry, relative to the largest entry: max |A_ij - A_ji| must be at
 * most SYMMETRY_TOL * max |A_ij|. Rounding in products such as Q diag(ev) Q' leaves about
 * dim * eps (1e-13 at dim 1000); anything above 1e-10 is a matrix that is not symmetric,
 * whose operator norm (a singular value) these methods do not compute.
 */
const SYMMETRY_TOL = 1e-10;

function checkMatrixShape(name: string, A: unknown, dim: number): Float64Array {
  const a = checkFloat64Array(name, A);
  checkLength(name, a, dim * dim, 'dim x dim');
  return a;
}

/** The worst pair of a matrix that failed the symmetry check, for the message (rare path). */
function asymmetryError(name: string, a: Float64Array, dim: number, maxAbs: number): RangeError {
  let worst = -1,
    wi = 0,
    wj = 0;
  for (let i = 0; i < dim; i++) {
    for (let j = i + 1; j < dim; j++) {
      const d = Math.abs(a[i * dim + j]! - a[j * dim + i]!);
      if (d > worst) {
        worst = d;
        wi = i;
        wj = j;
      }
    }
  }
  return new RangeError(
    `invalid argument: \`${name}\` must be symmetric (|${name}[i][j] - ${name}[j][i]| <= ${SYMMETRY_TOL} * max |${name}[i][j]| = ${SYMMETRY_TOL * maxAbs}). ` +
      `Value: ${name}[${wi}][${wj}] = ${a[wi * dim + wj]} but ${name}[${wj}][${wi}] = ${a[wj * dim + wi]}; symmetrize it first, e.g. (${name} + ${name}')/2.`,
  );
}

/**
 * Runs fn on the matrices copied into wasm memory, checked and prepared: each input is
 * checked finite and symmetric in O(dim^2) (matrixInfo), then all are scaled by one power of
 * two 2^-e so that the largest entry lies in [1/2, 1) when it lies outside 2^+-256 (exact;
 * without it sums of squares overflow near 1e154 and underflow near 1e-154), and replaced
 * by their symmetric part (A + A')/2 when they are asymmetric beyond rounding level (only
 * the upper triangle is read afterwards). fn gets the pointers and e: a result r of the scaled
 * matrices is r * 2^e of the inputs.
 */
function withPrepared<T>(
  inputs: readonly [string, Float64Array][],
  dim: number,
  what: string,
  fn: (ptrs: number[], e: number, maxAbs: number[]) => T,
): T {
  const k = wasm();
  const bytes = dim * dim * 8;
  return withBlocks([...inputs.map(() => bytes), 16], what, (...ptrs) => {
    const info = ptrs[inputs.length]!;
    const asym: number[] = [],
      maxes: number[] = [];
    let maxAll = 0;
    inputs.forEach(([name, a], i) => {
      copyIn(ptrs[i]!, a);
      k.matrixInfo(ptrs[i]!, dim, info);
      const [maxAbs, maxAsym] = f64(info, 2);
      if (Number.isNaN(maxAbs!)) {
        checkFinite(name, a, a.length, dim); // throws, naming the row and column of the first non-finite entry
        throw new RangeError(`invalid argument: \`${name}\` must contain only finite numbers.`);
      }
      if (maxAsym! > SYMMETRY_TOL * maxAbs!) throw asymmetryError(name, a, dim, maxAbs!);
      asym.push(maxAsym!);
      maxes.push(maxAbs!);
      maxAll = Math.max(maxAll, maxAbs!);
    });
    let e = 0;
    if (maxAll > 0 && (maxAll < 2 ** -256 || maxAll > 2 ** 256)) e = Math.floor(Math.log2(maxAll)) + 1;
    // 2^-e as two factors: each within the double range for any e in [-1073, 1024]
    const e1 = Math.trunc(e / 2),
      f1 = 2 ** -e1,
      f2 = 2 ** -(e - e1);
    // asymmetry at rounding level (<= 64 eps of the largest entry, as Q diag(ev) Q' leaves)
    // changes the norm by at most 64 dim eps relative: the upper triangle is used as it is,
    // which saves a pass over the matrix; above that, the symmetric part
    inputs.forEach((_, i) => {
      if (e !== 0 || asym[i]! > 64 * Number.EPSILON * maxes[i]!) k.symPrepare(ptrs[i]!, dim, f1, f2);
    });
    return fn(ptrs.slice(0, inputs.length), e, maxes);
  });
}

/** r * 2^e, or a RangeError when that is not a finite double. */
function unscale(r: number, e: number, what: string): number {
  if (e === 0 || r === 0) return r;
  const e1 = Math.trunc(e / 2);
  const v = r * 2 ** e1 * 2 ** (e - e1);
  // a norm of exactly the largest double may round up by an ulp in scaled units: clamp that
  if (!Number.isFinite(v) && Math.abs(r) <= Number.MAX_VALUE * 2 ** -e1 * 2 ** -(e - e1) * (1 + 2 ** -40))
    return Math.sign(r) * Number.MAX_VALUE;
  if (!Number.isFinite(v)) {
    throw new RangeError(
      `${what} is about 2^${(Math.log2(Math.abs(r)) + e).toFixed(1)}, beyond the largest double (about 1.8e308): scale the input down.`,
    );
  }
  return v;
}

interface Parsed {
  tol: number;
  maxIter: number;
  v0: Float64Array;
  method: SpectralMethod;
}

/** Bounds of maxIter: kernels count iterations in 32 bits. */
const MAX_ITER = 0x7fffffff;

function parse(options: unknown, dim: number): Parsed {
  const opts = checkOptions('options', options, ['tol', 'maxIter', 'method', 'seed']);
  const tol = opts.tol === undefined ? 1e-9 : checkUnitInterval('tol', opts.tol);
  const maxIter =
    opts.maxIter === undefined ? 10000 : checkPositiveInteger('maxIter', opts.maxIter, MAX_ITER);
  const method =
    opts.method === undefined ? 'lanczos' : checkOneOf('method', opts.method, ['lanczos', 'power'] as const);
  const seed = opts.seed === undefined ? 0 : opts.seed;
  checkSeed('seed', seed);
  return { tol, maxIter, method, v0: new Rng(seed as number | bigint).normals(new Float64Array(dim)) };
}

/** A result that is not finite, or no iteration at all, is never reported (never "converged"). */
function checkRan(iterations: number, value: number, what: string): void {
  if (!(iterations >= 1) || !Number.isFinite(value)) {
    throw new Error(
      `gradcov: ${what} failed (${iterations} iterations, value ${value}); please report this with the input.`,
    );
  }
}

function power(aPtr: number, dim: number, p: Parsed): SpectralResult {
  const k = wasm();
  return withBlocks([dim * 8, 2 * dim * 8, 24], 'operatorNorm', (vPtr, wPtr, outPtr) => {
    copyIn(vPtr!, p.v0);
    k.powerIteration(aPtr, 0, dim, vPtr!, wPtr!, p.tol, p.maxIter, outPtr!);
    const r = f64(outPtr!, 3);
    checkRan(r[1]!, r[0]!, 'power iteration');
    return { value: r[0]!, iterations: r[1]!, converged: r[2] === 1, method: 'power' as const };
  });
}

/**
 * Cost of one Ritz check per unit of k, in units where a Lanczos step costs
 * dim^2 + 4 k dim (the matrix-vector product plus Gram–Schmidt): a check of one end in
 * wasm (ritzEnds: Laguerre steps and inverse iteration on T_k) measured 33-40 ns per k, a
 * step about 0.065-0.09 ns per unit (d = 512).
 */
const CHECK_COST_PER_K = 500;

/** Step of the first Ritz check: dim <= 16 runs to the end (cheaper than checking). @internal */
export function firstCheck(dim: number, steps: number): number {
  return Math.min(steps, dim <= 16 ? dim : 4);
}

/**
 * Steps before the next Ritz check after step k (src/reference/spectral.ts uses the same).
 * Checking every c steps costs K / c checks and about c / 2 steps past convergence; with
 * the steps so far k as the estimate of the total K, the sum is least at
 * c = sqrt(2 k check / step) = k sqrt(2 CHECK_COST_PER_K / step). At d = 512 that is a
 * check every step early and every 4 near k = 100 (checks about 3% of a matvec per
 * step); at d = 64 every 2 to 7 steps. @internal
 */
export function checkInterval(k: number, dim: number): number {
  const step = dim * dim + 4 * (k + 1) * dim;
  return Math.max(1, Math.round(k * Math.sqrt((2 * CHECK_COST_PER_K) / step)));
}

/**
 * Lanczos with full reorthogonalisation: runs of steps in wasm (lanczosSteps: matrix-vector
 * product on the upper triangle, classical Gram–Schmidt with a DGKS second pass), and
 * between runs the extreme Ritz values of T_k with their residual bounds
 * r = beta_k |last eigenvector component| (ritzEnds in wasm, O(k)). Checks are spaced by their
 * cost (checkInterval). Stops when both ends' residuals are within tol of `scale(end)`.
 */
function lanczos(
  aPtr: number,
  dim: number,
  p: Parsed,
  scaleOf: (lo: number, hi: number, which: 0 | 1, err0: number, err1: number) => number,
) {
  const k = wasm();
  const steps = Math.min(p.maxIter, dim, LANCZOS_MAX_STEPS);
  return withBlocks(
    [(steps + 1) * dim * 8, steps * 8, steps * 8, steps * 8, 48, 2 * steps * 8],
    'the Lanczos iteration',
    (basis, alphaPtr, betaPtr, hPtr, statePtr, scratchPtr) => {
      let nrm = 0;
      for (const v of p.v0) nrm += v * v;
      const inv = 1 / Math.sqrt(nrm);
      for (let i = 0; i < dim; i++) p.v0[i] = p.v0[i]! * inv;
      copyIn(basis!, p.v0);
      // no allocation after the blocks above: these views stay valid
      const state = f64(statePtr!, 5),
        beta = f64(betaPtr!, steps);
      state[4] = 0; // no previous Ritz values
      let lo = 0,
        hi = 0,
        converged = false,
        it = 0;
      let next = firstCheck(dim, steps);
      // Each check analyses the end that failed the rule last time (both at first, and the
      // other one too once its values are more than twice as old); only when it passes is
      // the other end analysed too, and the decision taken on both fresh values: about half
      // the work at most checks, the same decision.
      let pending = 3;
      const lastK = [0, 0];
      const trend = { end: -1, k: 0, logErr: 0 }; // the watched end's bound at the last check
      const ok = (which: 0 | 1) =>
        state[2 * which + 1]! <= p.tol * scaleOf(state[0]!, state[2]!, which, state[1]!, state[3]!);
      const analyse = (mask: number, b: number) => {
        k.ritzEnds(alphaPtr!, betaPtr!, it, b, mask, statePtr!, scratchPtr!);
        if (mask & 1) lastK[0] = it;
        if (mask & 2) lastK[1] = it;
      };
      while (it < steps) {
        const target = Math.min(next, steps);
        const reached = k.lanczosSteps(aPtr, dim, basis!, it, target, alphaPtr!, betaPtr!, hPtr!);
        const invariant = reached < target;
        it = reached;
        const b = beta[it - 1]!;
        let mask = pending;
        if (mask !== 3 && 2 * lastK[mask === 1 ? 1 : 0]! < it) mask = 3;
        analyse(mask, b);
        const norm0 = Math.max(Math.abs(state[0]!), Math.abs(state[2]!));
        // beta = 0 (to rounding): the Krylov space is invariant and T's eigenvalues are exact
        const exact = invariant || b <= 8 * Number.EPSILON * norm0;
        if (mask !== 3 && (exact || ok(mask === 1 ? 0 : 1))) {
          analyse(3 - mask, b);
          mask = 3;
        }
        lo = state[0]!;
        hi = state[2]!;
        if (exact) {
          converged = true;
          break;
        }
        const ok0 = ok(0),
          ok1 = ok(1);
        if (mask === 3) {
          if (ok0 && ok1) {
            converged = true;
            break;
          }
          // the end to watch: a failing one (the one of larger magnitude when both fail)
          pending = !ok0 && (ok1 || Math.abs(lo) >= Math.abs(hi)) ? 1 : 2;
        }
        // the next check: by cost (checkInterval), or, while the watched end's bound falls
        // geometrically and is far from tol, a quarter of the steps it predicts are still needed
        const w: 0 | 1 = pending === 1 ? 0 : 1;
        const logErr = Math.log(state[2 * w + 1]!),
          logGoal = Math.log(p.tol * scaleOf(state[0]!, state[2]!, w, state[1]!, state[3]!));
        let ahead = 0;
        if (trend.end === w && trend.k < it && logErr < trend.logErr && Number.isFinite(logGoal)) {
          const rate = (logErr - trend.logErr) / (it - trend.k); // < 0
          // a quarter of the prediction, at most half the steps so far: Lanczos convergence
          // speeds up (superlinear), so a prediction from the last rate errs long
          ahead = Math.min(Math.floor((0.25 * (logGoal - logErr)) / rate), Math.floor(it / 2));
        }
        trend.end = w;
        trend.k = it;
        trend.logErr = logErr;
        next = it + Math.max(checkInterval(it, dim), Math.min(ahead, steps));
      }
      checkRan(it, lo + hi, 'the Lanczos iteration');
      return { lo, hi, iterations: it, converged };
    },
  );
}

/** ||S||_2 of the prepared (scaled, symmetric) matrix at aPtr, in scaled units. */
function normOf(aPtr: number, dim: number, p: Parsed): SpectralResult {
  if (p.method === 'power') return power(aPtr, dim, p);
  // For the norm, the end of smaller magnitude only has to be shown smaller than the other
  // end (Ritz values lie inside the spectrum, so |lambda| <= |theta| + error bounds it).
  const r = lanczos(aPtr, dim, p, (lo, hi, which, err0, err1) => {
    const big = Math.max(Math.abs(lo), Math.abs(hi));
    const mine = Math.abs(which === 0 ? lo : hi),
      myErr = which === 0 ? err0 : err1,
      otherErr = which === 0 ? err1 : err0;
    return mine < big && mine + myErr < big - otherErr ? Infinity : big;
  });
  return {
    value: Math.max(Math.abs(r.lo), Math.abs(r.hi)),
    iterations: r.iterations,
    converged: r.converged,
    method: 'lanczos',
  };
}

/**
 * Operator norm ||A||_2 = max |lambda| of a symmetric dim x dim matrix (row-major), from a
 * seeded random start. Default method 'lanczos': full reorthogonalisation, stops when both
 * extreme Ritz values' residuals ||A y - theta y|| are below tol * ||A|| (some eigenvalue
 * then lies within tol ||A|| of each; the value never exceeds ||A|| beyond rounding, and is
 * within 10 tol of it when eigenvalues closer than tol to the extreme one are merged). Method 'power': power
 * iteration, stops when the remaining relative error estimated from the observed
 * convergence rate is below tol. Either reports converged false at the cap.
 *
 * Preconditions, checked in O(dim^2) before iterating: every entry finite, and A symmetric
 * to a relative tolerance: max |A_ij - A_ji| <= 1e-10 * max |A_ij|; the
 * iteration then uses the symmetric part (A + A')/2 (or the upper triangle, when the
 * asymmetry is at rounding level, below 64 eps of the largest entry). Any such matrix gets a finite answer (entries near 1e308 or 1e-308 are scaled by
 * a power of two first, which is exact); only a norm above the largest double (about
 * 1.8e308, e.g. dim 2 with all entries 1e308) is a RangeError.
 *
 * @param A symmetric dim x dim matrix, row-major
 * @param dim matrix order, positive integer <= 46340
 * @param options tol in (0, 1) (default 1e-9), maxIter in [1, 2^31 - 1] (default 10000),
 *   seed of the start vector (default 0), method 'lanczos' (default) or 'power'
 * @returns the norm, the matrix-vector products used, and whether the stopping rule was met
 * @throws {TypeError|RangeError} for a malformed or non-symmetric matrix, a non-finite entry,
 *   bad options, or a norm beyond the double range
 * @example
 * operatorNorm(new Float64Array([2, 1, 1, -3]), 2).value; // 3.1926...
 */
export function operatorNorm(A: Float64Array, dim: number, options?: SpectralOptions): SpectralResult {
  const d = checkPositiveInteger('dim', dim, 46340);
  const a = checkMatrixShape('A', A, d);
  const p = parse(options, d);
  return withPrepared([['A', a]], d, 'operatorNorm', ([aPtr], e) => {
    const r = normOf(aPtr!, d, p);
    return { ...r, value: unscale(r.value, e, 'the operator norm of `A`') };
  });
}

/**
 * ||A - B||_2 for symmetric A, B (same preconditions as operatorNorm, for each). The
 * difference is formed after both are scaled by one power of two, so it cannot overflow
 * even when A and B are near the largest double.
 * @param A symmetric dim x dim matrix, row-major
 * @param B symmetric dim x dim matrix, row-major
 * @param dim matrix order, positive integer <= 46340
 * @param options as for operatorNorm
 * @returns as for operatorNorm, for A - B
 * @throws {TypeError|RangeError} as for operatorNorm, naming `A` or `B`
 * @example
 * operatorNormDiff(estimate, truth, dim).value / operatorNorm(truth, dim).value
 */
export function operatorNormDiff(
  A: Float64Array,
  B: Float64Array,
  dim: number,
  options?: SpectralOptions,
): SpectralResult {
  const d = checkPositiveInteger('dim', dim, 46340);
  const a = checkMatrixShape('A', A, d),
    b = checkMatrixShape('B', B, d);
  const p = parse(options, d);
  return withPrepared(
    [
      ['A', a],
      ['B', b],
    ],
    d,
    'operatorNormDiff',
    ([aPtr, bPtr], e) => {
      wasm().matSub(aPtr!, bPtr!, d * d);
      const r = normOf(aPtr!, d, p);
      return { ...r, value: unscale(r.value, e, 'the operator norm of `A - B`') };
    },
  );
}

/**
 * Relative operator-norm error ||estimate - truth||_2 / ||truth||_2 of symmetric matrices
 * (same preconditions as operatorNorm, for each). Both norms are computed on the same
 * scaled copies, so the ratio is finite for any finite inputs whose ratio is a double.
 * @param estimate symmetric dim x dim matrix, row-major
 * @param truth symmetric dim x dim matrix, row-major, not zero
 * @param dim matrix order, positive integer <= 46340
 * @param options as for operatorNorm
 * @returns the relative error
 * @throws {TypeError|RangeError} as for operatorNorm, naming `estimate` or `truth`; a
 *   RangeError when truth is the zero matrix or the ratio overflows
 * @example
 * relativeError(estimateHessian(data, w, opts).hessian, H, dim) // e.g. 0.05
 */
export function relativeError(
  estimate: Float64Array,
  truth: Float64Array,
  dim: number,
  options?: SpectralOptions,
): number {
  const d = checkPositiveInteger('dim', dim, 46340);
  const est = checkMatrixShape('estimate', estimate, d),
    tru = checkMatrixShape('truth', truth, d);
  const p = parse(options, d);
  return withPrepared(
    [
      ['estimate', est],
      ['truth', tru],
    ],
    d,
    'relativeError',
    ([ePtr, tPtr], e, [, maxTruth]) => {
      // ||truth|| on the common scale, or, when truth is so much smaller than the estimate that
      // it would underflow there, on its own scale 2^et (the ratio then carries 2^(e - et))
      let den: number,
        et = e;
      if (maxTruth === 0 || maxTruth * 2 ** -e >= 2 ** -256) den = normOf(tPtr!, d, p).value;
      else
        [den, et] = withPrepared(
          [['truth', tru]],
          d,
          'relativeError',
          ([t], e2) => [normOf(t!, d, p).value, e2] as const,
        );
      if (den === 0)
        throw new RangeError(
          'invalid argument: `truth` must not be the zero matrix (its norm is the denominator).',
        );
      wasm().matSub(ePtr!, tPtr!, d * d);
      const num = normOf(ePtr!, d, p).value;
      const h = Math.trunc((e - et) / 2);
      const ratio = (num / den) * 2 ** h * 2 ** (e - et - h);
      if (!Number.isFinite(ratio))
        throw new RangeError(
          `relativeError: ||estimate - truth|| / ||truth|| overflows (about 2^${(Math.log2(num / den) + e - et).toFixed(1)}).`,
        );
      return ratio;
    },
  );
}

/**
 * Smallest and largest eigenvalue of a symmetric matrix (Lanczos, each to relative accuracy
 * tol of its own magnitude, or of 1e-8 ||A|| for an end near 0: the residual of each Ritz
 * pair is below that, so an eigenvalue lies within it; min never lies below the smallest
 * eigenvalue nor max above the largest), and the condition number.
 * Preconditions as for operatorNorm.
 * @param A symmetric dim x dim matrix, row-major
 * @param dim matrix order, positive integer <= 46340
 * @param options tol, maxIter and seed as for operatorNorm
 * @returns min, max, max / min when min > 0 (else Infinity), steps used, converged
 * @throws {TypeError|RangeError} as for operatorNorm
 * @example
 * const { min, max, conditionNumber } = extremeEigenvalues(H, dim);
 * const step = 1 / max;   // gradient-descent step size
 */
export function extremeEigenvalues(
  A: Float64Array,
  dim: number,
  options?: Omit<SpectralOptions, 'method'>,
): ExtremeEigenvalues {
  const d = checkPositiveInteger('dim', dim, 46340);
  const a = checkMatrixShape('A', A, d);
  const p = parse(options, d);
  if (p.method !== 'lanczos')
    throw new RangeError(
      "invalid argument: `method` must be 'lanczos' for extremeEigenvalues. Value: `'power'`.",
    );
  return withPrepared([['A', a]], d, 'extremeEigenvalues', ([aPtr], e) => {
    const r = lanczos(aPtr!, d, p, (lo, hi, which) => {
      const own = Math.abs(which === 0 ? lo : hi);
      return Math.max(own, 1e-8 * Math.max(Math.abs(lo), Math.abs(hi)));
    });
    const min = unscale(r.lo, e, 'the smallest eigenvalue of `A`'),
      max = unscale(r.hi, e, 'the largest eigenvalue of `A`');
    return {
      min,
      max,
      conditionNumber: r.lo > 0 ? r.hi / r.lo : Infinity,
      iterations: r.iterations,
      converged: r.converged,
    };
  });
}
