// A full-batch linear-regression fitter: gradient descent, or preconditioned by a Hessian
// estimate (the dense Preconditioner, src/apps/preconditioner.ts, or the sketch's
// LowRankPreconditioner, src/apps/sketch-preconditioner.ts).
import { wasm, alloc, free, f64, copyIn, checkBlocks, byteCount } from '../core/wasm.js';
import { checkSquare, checkRidge } from '../core/cholesky.js';
import { checkWeights } from '../estimators/oracle.js';
import { estimateHessian } from '../estimators/plan.js';
import type { RegressionData } from '../data/dataset.js';
import { secondMomentMatrix } from '../data/helpers.js';
import { extremeEigenvalues } from '../spectral/spectral.js';
import { checkSketch, type SketchEstimateOptions } from '../estimators/sketched.js';
import { LowRankPreconditioner } from './sketch-preconditioner.js';
import {
  checkPositiveInteger,
  checkOptions,
  checkOneOf,
  checkInteger,
  checkSeed,
  checkNonNegative,
  checkUnitInterval,
  checkBoolean,
  checkPositive,
  checkRegressionData,
  show,
} from '../core/validate.js';
import { Preconditioner } from './preconditioner.js';

/** P^-1 g with either preconditioner. */
function solveWith(
  P: Preconditioner | LowRankPreconditioner,
  g: Float64Array,
  out?: Float64Array,
): Float64Array {
  return P instanceof LowRankPreconditioner ? P.solve(g, out) : P.apply(g, out);
}

/** The dense matrix of a low-rank-plus-diagonal preconditioner (its columns P e_j), for FitResult.hessian. */
function denseOf(P: LowRankPreconditioner, dim: number): Float64Array {
  const out = new Float64Array(dim * dim);
  const e = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    e.fill(0);
    e[j] = 1;
    const col = P.apply(e);
    for (let i = 0; i < dim; i++) out[i * dim + j] = col[i]!;
  }
  return out;
}

/** The keys of FitOptions, for the unknown-key check. */
const FIT_OPTION_KEYS = [
  'method',
  'steps',
  'learningRate',
  'batchSize',
  'batches',
  'noiseVariance',
  'baseNoiseVariance',
  'seed',
  'hessian',
  'ridge',
  'tolerance',
  'initial',
  'snapshotEvery',
  'debias',
  'rescale',
  'estimator',
  'sketch',
] as const;

/** Options of fitLinearRegression(). */
export interface FitOptions {
  /** 'gd': w <- w - eta g. 'preconditioned': w <- w - eta (H_hat + ridge I)^-1 g. */
  method: 'gd' | 'preconditioned';
  /** Most steps to take (non-negative integer). */
  steps: number;
  /** eta. Default: 1 / lambda_max for 'gd' (of `hessian`, else of the data's X'X/rows); 1 for 'preconditioned'. */
  learningRate?: number;
  /** Batch size n of the noisy gradients from which H_hat is estimated ('preconditioned'). */
  batchSize: number;
  /** Noisy batch gradients spent on H_hat (default 200 dim, at least 1000): batches / 2 pairs for 'paired'. */
  batches?: number;
  /**
   * How H_hat is estimated ('preconditioned' without `hessian`): 'paired' (default; unbiased
   * at any start point, no correction needed) or 'calibrated' (the calibrated covariance,
   * corrected by `debias` and `rescale`).
   */
  estimator?: 'paired' | 'calibrated';
  /** Injected target-noise variance tau2 for H_hat (default: batchSize / 2 per draw for 'paired'; calibrated, batchSize - baseNoiseVariance, for 'calibrated'). */
  noiseVariance?: number;
  /** Label-noise variance s2 already in y, used only for the calibrated default (default 0). */
  baseNoiseVariance?: number;
  /** Seed of the batches and noise that estimate H_hat. */
  seed: number | bigint;
  /** Use this Hessian (estimate) instead of estimating one: as the preconditioner ('preconditioned'), for lambda_max ('gd'). */
  hessian?: Float64Array;
  /** lambda added to the diagonal of H_hat before factorising (default 0). */
  ridge?: number;
  /** Stop once the full-batch gradient norm is at most tolerance * its initial norm (default: run all steps). */
  tolerance?: number;
  /** Starting point (default zeros). */
  initial?: Float64Array;
  /** Keep a copy of w every this many steps (and the last); default none. */
  snapshotEvery?: number;
  /** 'calibrated' H_hat only: remove the misfit's rank-one term g0 g0'/n (exact for Gaussian x). Default true. */
  debias?: boolean;
  /** Estimated H_hat: rescale it by the curvature measured along its first step (one gradient difference). Default true for 'calibrated', false for 'paired'. */
  rescale?: boolean;
  /**
   * Estimator 'paired' only: precondition with the low-rank-plus-diagonal P = V L V' + D + ridge I
   * of a sketched estimate (estimateHessian's `sketch`, docs/sketch.md: O(dim k) per step)
   * instead of the Cholesky factor of the dense H_hat.
   */
  sketch?: SketchEstimateOptions;
}

/** What fitLinearRegression() returns. */
export interface FitResult {
  /** The final weights. */
  w: Float64Array;
  /** Full-batch mean half-squared loss (1/(2 rows)) ||X w - y||^2 at w_0, w_1, ..., w_steps. */
  loss: Float64Array;
  /** Steps taken. */
  steps: number;
  /** Whether `tolerance` was reached (false when no tolerance was given). */
  converged: boolean;
  /** The step size that was used. */
  learningRate: number;
  /** The Hessian used (H_hat after debiasing and rescaling, for 'preconditioned'; for 'gd' the matrix lambda_max came from). */
  hessian: Float64Array;
  /** The factor c that multiplied H_hat (1 unless rescaled). */
  scale: number;
  /** How H_hat was estimated ('paired' or 'calibrated'; undefined when given or for 'gd'). */
  estimator?: 'paired' | 'calibrated';
  /** Noisy batch gradients spent estimating H_hat (0 when given or for 'gd'). */
  batchGradients: number;
  /** Full-batch gradient evaluations (steps, plus the start and the one for rescaling). */
  gradientEvaluations: number;
  /** The iterates every `snapshotEvery` steps. */
  snapshots: {
    /** The step after which w was taken. */
    step: number;
    /** A copy of the iterate. */
    w: Float64Array;
  }[];
}

/**
 * Fits linear regression by gradient descent or preconditioned gradient descent on the
 * mean half-squared loss, with deterministic full-batch gradients g(w) = X'(X w - y)/rows
 * (so that iteration counts are comparable and do not depend on sampling noise).
 * Noisy mini-batch gradients are used only to estimate the preconditioner: for
 * 'preconditioned' without `hessian`, H_hat comes from `batches` noisy batch gradients at
 * the start point. With `estimator: 'paired'` (default) they are batches / 2 batches, each
 * with two independent target-noise draws (`estimateHessian` method 'paired'), which is
 * unbiased for H at any start point and needs no correction. With 'calibrated' it is the
 * covariance of calibrated batch gradients, then (by default) the misfit's rank-one term
 * g0 g0'/n is removed (exact for Gaussian x) and the result is rescaled so that it matches
 * the curvature p'(g(w0 + p) - g(w0)) along its first step p (far from the optimum the
 * calibrated covariance is H times (s2 + tau2 + d'Hd)/n, not H).
 * The full-batch gradient is evaluated as H w - X'y/rows with H = X'X/rows formed once
 * (the same numbers up to rounding, O(dim^2) per step in the wasm matvec); H itself is
 * never given to the preconditioner.
 *
 * @param data - `{ X, y, rows, dim }`
 * @param options - see FitOptions
 * @returns the trajectory: loss per step, final w, optional snapshots
 * @throws {TypeError|RangeError} for malformed data or options; RangeError when H_hat + ridge I is not positive definite
 * @example
 * const { data } = syntheticRegression({ dim: 20, rows: 20000, condition: 1000, seed: 1 });
 * const pre = fitLinearRegression(data, { method: 'preconditioned', steps: 20, batchSize: 64, seed: 1 });
 * const gd = fitLinearRegression(data, { method: 'gd', steps: 20, batchSize: 64, seed: 1 });
 * pre.loss[20] < gd.loss[20]; // true: far fewer steps needed
 */
export function fitLinearRegression(data: RegressionData, options: FitOptions): FitResult {
  const d = checkRegressionData(data);
  checkBlocks(
    [byteCount(d.dim * d.dim, 8), byteCount(d.dim * d.dim + 1, 8)],
    `\`data.dim\` = ${d.dim}`,
    "fitLinearRegression (X'X / rows and its Cholesky factor, 8 dim^2 bytes each)",
  );
  const o = checkOptions('options', options, FIT_OPTION_KEYS, '`options` of fitLinearRegression');
  const method = checkOneOf('method', o.method, ['gd', 'preconditioned'] as const);
  const steps = checkInteger('steps', o.steps, 0, 1e9);
  const n = checkPositiveInteger('batchSize', o.batchSize);
  checkSeed('seed', o.seed);
  const dim = d.dim;
  const batches =
    o.batches === undefined ? Math.max(1000, 200 * dim) : checkInteger('batches', o.batches, 2, 0x7fffffff);
  const learningRate =
    o.learningRate === undefined ? undefined : checkPositive('learningRate', o.learningRate);
  const noiseVariance =
    o.noiseVariance === undefined ? undefined : checkNonNegative('noiseVariance', o.noiseVariance);
  const baseNoiseVariance =
    o.baseNoiseVariance === undefined ? 0 : checkNonNegative('baseNoiseVariance', o.baseNoiseVariance);
  const given = o.hessian === undefined ? undefined : checkSquare('hessian', o.hessian, dim);
  const ridge = checkRidge({ ridge: o.ridge });
  const tolerance = o.tolerance === undefined ? undefined : checkUnitInterval('tolerance', o.tolerance);
  const w = o.initial === undefined ? new Float64Array(dim) : checkWeights(o.initial, dim).slice();
  const every = o.snapshotEvery === undefined ? 0 : checkPositiveInteger('snapshotEvery', o.snapshotEvery);
  const estimator =
    o.estimator === undefined
      ? 'paired'
      : checkOneOf('estimator', o.estimator, ['paired', 'calibrated'] as const);
  const debias = o.debias === undefined ? estimator === 'calibrated' : checkBoolean('debias', o.debias);
  const rescale = o.rescale === undefined ? estimator === 'calibrated' : checkBoolean('rescale', o.rescale);
  if (debias && estimator === 'paired') {
    throw new TypeError(
      "invalid argument: `debias` must not be true with estimator 'paired' (its H_hat has no misfit term to remove). Value: `true`.",
    );
  }
  if (o.sketch !== undefined && estimator !== 'paired') {
    throw new RangeError(
      `invalid argument: \`sketch\` needs estimator 'paired' (the sketch holds zero-mean pair differences). Value: estimator \`'${estimator}'\`.`,
    );
  }
  const sketch = checkSketch(o.sketch, 'paired');
  if (sketch && (method !== 'preconditioned' || given)) {
    throw new TypeError(
      `invalid argument: \`sketch\` must be left out unless method is 'preconditioned' without \`hessian\` (it decides how H_hat is estimated). Value: \`${show(o.sketch)}\`.`,
    );
  }
  if (estimator === 'paired' && noiseVariance === 0) {
    throw new RangeError("invalid argument: `noiseVariance` must be > 0 for estimator 'paired'. Value: `0`.");
  }

  // sufficient statistics of the full-batch gradient: H = X'X/rows, b = X'y/rows, c0 = y'y/(2 rows)
  const H = secondMomentMatrix(d);
  const b = new Float64Array(dim);
  let c0 = 0;
  for (let r = 0; r < d.rows; r++) {
    const yr = d.y[r]!;
    c0 += (yr * yr) / (2 * d.rows);
    for (let c = 0; c < dim; c++) b[c]! += (d.X[r * dim + c]! * yr) / d.rows;
  }

  const k = wasm();
  const hPtr = alloc(dim * dim * 8, 'fitLinearRegression');
  let vPtr = 0,
    gPtr = 0;
  let P: Preconditioner | LowRankPreconditioner | undefined;
  try {
    vPtr = alloc(dim * 8, 'fitLinearRegression');
    gPtr = alloc(dim * 8, 'fitLinearRegression');
    copyIn(hPtr, H);
    let evaluations = 0;
    const g = new Float64Array(dim);
    /** g <- H v - b; returns the loss 0.5 v'Hv - b'v + c0. */
    const gradient = (v: Float64Array): number => {
      copyIn(vPtr, v);
      k.matvec(hPtr, vPtr, gPtr, dim);
      const hv = f64(gPtr, dim);
      let vhv = 0,
        bv = 0;
      for (let i = 0; i < dim; i++) {
        vhv += v[i]! * hv[i]!;
        bv += b[i]! * v[i]!;
        g[i] = hv[i]! - b[i]!;
      }
      evaluations++;
      return 0.5 * vhv - bv + c0;
    };

    let eta: number,
      used: Float64Array,
      scale = 1,
      batchGradients = 0;
    const loss: number[] = [gradient(w)];
    if (method === 'gd') {
      used = given ?? H;
      eta = learningRate ?? 1 / extremeEigenvalues(used, dim, { tol: 1e-10 }).max;
    } else {
      if (given) {
        used = given;
      } else if (sketch) {
        const est = estimateHessian(d, w, {
          batchSize: n,
          batches: Math.max(2, Math.floor(batches / 2)),
          seed: o.seed as number | bigint,
          method: 'paired',
          sketch: o.sketch as SketchEstimateOptions,
          ...(noiseVariance === undefined ? {} : { noiseVariance }),
        });
        batchGradients = est.gradientEvaluations;
        P = new LowRankPreconditioner(est, { damping: ridge });
        used = denseOf(P, dim);
      } else {
        const est =
          estimator === 'paired'
            ? estimateHessian(d, w, {
                batchSize: n,
                batches: Math.max(2, Math.floor(batches / 2)),
                seed: o.seed as number | bigint,
                method: 'paired',
                ...(noiseVariance === undefined ? {} : { noiseVariance }),
              })
            : estimateHessian(d, w, {
                batchSize: n,
                batches,
                seed: o.seed as number | bigint,
                ...(noiseVariance === undefined ? { baseNoiseVariance } : { noiseVariance }),
              });
        batchGradients = est.gradientEvaluations;
        used = est.hessian;
        if (debias)
          for (let i = 0; i < dim; i++)
            for (let j = 0; j < dim; j++) used[i * dim + j]! -= (g[i]! * g[j]!) / n;
      }
      P ??= new Preconditioner(used, dim, { ridge });
      if (!given && rescale) {
        const g0 = g.slice();
        const p = solveWith(P, g0);
        const wp = w.map((v, i) => v + p[i]!);
        gradient(wp);
        let num = 0,
          den = 0;
        for (let i = 0; i < dim; i++) {
          num += p[i]! * (g[i]! - g0[i]!);
          den += p[i]! * g0[i]!;
        }
        g.set(g0);
        if (num > 0 && den > 0) scale = num / den;
        used = used.map((v) => v * scale);
      }
      eta = learningRate ?? 1;
    }

    const snapshots: { step: number; w: Float64Array }[] = [];
    let gnorm0 = 0;
    for (let i = 0; i < dim; i++) gnorm0 += g[i]! * g[i]!;
    gnorm0 = Math.sqrt(gnorm0);
    let converged = false,
      taken = 0;
    const dir = new Float64Array(dim);
    const done = (): boolean => {
      if (tolerance === undefined) return false;
      let s = 0;
      for (let i = 0; i < dim; i++) s += g[i]! * g[i]!;
      return Math.sqrt(s) <= tolerance * gnorm0;
    };
    converged = done();
    while (!converged && taken < steps) {
      if (P) solveWith(P, g, dir);
      else dir.set(g);
      const f = P ? eta / scale : eta;
      for (let i = 0; i < dim; i++) w[i]! -= f * dir[i]!;
      taken++;
      const l = gradient(w);
      if (l - l !== 0 || g.some((v) => v - v !== 0)) {
        throw new RangeError(
          `fitLinearRegression diverged: the loss or gradient overflowed float64 at step ${taken}. \`learningRate\` (${eta}) is too large for this problem` +
            `${method === 'gd' ? ' (gradient descent needs less than 2 / lambda_max)' : ', or the Hessian estimate is poor (pass more `batches`, or a `ridge`)'}.`,
        );
      }
      loss.push(l);
      if (every && taken % every === 0) snapshots.push({ step: taken, w: w.slice() });
      converged = done();
    }
    if (every && taken % every !== 0) snapshots.push({ step: taken, w: w.slice() });
    return {
      w,
      loss: Float64Array.from(loss),
      steps: taken,
      converged,
      learningRate: eta,
      hessian: used,
      scale,
      ...(method === 'preconditioned' && !given ? { estimator } : {}),
      batchGradients,
      gradientEvaluations: evaluations,
      snapshots,
    };
  } finally {
    P?.dispose();
    free(hPtr);
    free(vPtr);
    free(gPtr);
  }
}
