// The sketched paired estimate (docs/sketch.md): instead of the dense d x d covariance of the
// pair differences, a Frequent Directions sketch (src/sketch/) of the scaled rows
// a_b = (g_b(xi1) - g_b(xi2)) sqrt(n / (2 tau2)), whose mean (1/m) sum a_b a_b' is the paired
// estimate G_hat. Memory O(d l), never O(d^2). Shared by estimateCurvature, the block plan
// (estimateHessian, the worker pool, gradcov/bullmq), so every runner gives the same numbers.
// The accumulator (issue 19 part 1, src/sketch/sketch.ts): its one import in the estimators.
import { CurvatureSketch, checkSketchBytes, SKETCH_MAGIC } from '../sketch/sketch.js';
import { checkOptions, checkInteger, checkPositiveInteger, show } from '../core/validate.js';
import type { EstimatorMethod } from './methods.js';

export { CurvatureSketch, checkSketchBytes, SKETCH_MAGIC };

/** The `sketch` option of estimateCurvature and estimateHessian (method 'paired' only). */
export interface SketchEstimateOptions {
  /** The sketch size l (an integer >= 2): a buffer of 2l rows of length dim; see docs/sketch.md for choosing it. */
  size: number;
  /** Eigenpairs returned (1 <= k <= size; default min(10, size - 1)). */
  k?: number;
  /** Storage of the sketch's buffer (the accumulator's option, default its own: 'f64'). */
  precision?: 'f64' | 'f32';
}

/** A validated `sketch` option. @internal */
export interface SketchSpec {
  size: number;
  k: number;
  precision?: 'f64' | 'f32';
}

/** The keys of SketchEstimateOptions. @internal */
export const SKETCH_OPTION_KEYS = ['size', 'k', 'precision'] as const;

/**
 * Validates the `sketch` option (undefined: no sketch) and that the method is 'paired': the
 * single-draw methods have a moving mean that a Frequent Directions sketch of raw gradients
 * does not remove. @internal
 */
export function checkSketch(value: unknown, method: EstimatorMethod): SketchSpec | undefined {
  if (value === undefined) return undefined;
  const o = checkOptions('sketch', value, SKETCH_OPTION_KEYS, '`options.sketch`');
  if (method !== 'paired') {
    throw new RangeError(
      `invalid argument: \`sketch\` needs method 'paired' (the sketch holds zero-mean pair differences; the single-draw methods' gradients have a mean it would not remove): pass method: 'paired'. Value: method \`${show(method)}\`.`,
    );
  }
  if (o.size === undefined)
    throw new TypeError('invalid argument: `sketch.size` must be an integer >= 2. Value: `undefined`.');
  const size = checkInteger('sketch.size', o.size, 2);
  const k = o.k === undefined ? Math.min(10, size - 1) : checkPositiveInteger('sketch.k', o.k, size);
  const spec: SketchSpec = { size, k };
  if (o.precision !== undefined) spec.precision = o.precision as 'f64' | 'f32';
  return spec;
}

/** A new, empty sketch of the spec (the accumulator validates dim, size, precision and memory). @internal */
export function newSketch(dim: number, spec: SketchSpec): CurvatureSketch {
  return new CurvatureSketch(
    dim,
    spec.precision === undefined ? { size: spec.size } : { size: spec.size, precision: spec.precision },
  );
}

/**
 * Throws what the accumulator would throw for this dim and spec (size, precision, memory),
 * before any work is sent anywhere. @internal
 */
export function probeSketch(dim: number, spec: SketchSpec): void {
  newSketch(dim, spec).dispose();
}

/**
 * Rows per addRows call: about 8 MiB of f64 rows (at least 1, at most 256), the same in every
 * runner so the sketch sees the same calls. @internal
 */
export function sketchChunkRows(dim: number): number {
  return Math.max(1, Math.min(256, Math.floor((8 * 2 ** 20) / (8 * dim))));
}

/** Adds pair differences (rows x dim) as the rows a = delta sqrt(n / (2 tau2)). @internal */
export function addPairDifferences(
  sketch: CurvatureSketch,
  diffs: Float64Array,
  n: number,
  tau2: number,
): void {
  sketch.addRows(diffs, { scale: Math.sqrt(n / (2 * tau2)) });
}

/** What estimateCurvature and estimateHessian return with `sketch` (method 'paired'). */
export interface SketchedCurvature {
  /** Always 'paired'. */
  method: EstimatorMethod;
  /** Top k eigenvalues lambda_i of the sketch's estimate B'B / m, descending. */
  eigenvalues: Float64Array;
  /** Their eigenvectors: k rows of length dim, row-major (row i belongs to eigenvalues[i]). */
  eigenvectors: Float64Array;
  /** eigenvalues[i] + shrinkage: each eigenvalue of the paired estimate lies in [eigenvalues[i], upper[i]]. */
  upper: Float64Array;
  /**
   * Delta / m, the Frequent Directions shrinkage: 0 <= G_hat - B'B / m <= shrinkage I. Compare it
   * with the smallest returned eigenvalue: when they are close the spectrum is too flat for l.
   */
  shrinkage: number;
  /** diag(G_hat), exact (a running sum, not sketched). */
  diagonal: Float64Array;
  /** tr(G_hat), exact. */
  trace: number;
  /** Parameters p (the gradient length). */
  dim: number;
  /** The sketch size l. */
  sketchSize: number;
  /** Rows in the sketch: one per batch (m). */
  rows: number;
  /** Batches m. */
  batches: number;
  /** The injected variance tau2 per draw. */
  noiseVariance: number;
  /** [tau2]. */
  noiseLevels: number[];
  /** 2m. */
  gradientEvaluations: number;
}

/** The sketched result of a finished sketch (shared by every runner). @internal */
export function sketchResult(
  sketch: CurvatureSketch,
  spec: SketchSpec,
  m: number,
  tau2: number,
): SketchedCurvature {
  const { eigenvalues, eigenvectors, upper, shrinkage } = sketch.eigenpairs(spec.k);
  return {
    method: 'paired',
    eigenvalues,
    eigenvectors,
    upper,
    shrinkage,
    diagonal: sketch.diagonal(),
    trace: sketch.trace(),
    dim: sketch.dim,
    sketchSize: spec.size,
    rows: sketch.rows,
    batches: m,
    noiseVariance: tau2,
    noiseLevels: [tau2],
    gradientEvaluations: 2 * m,
  };
}
