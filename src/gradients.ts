import { wasm, alloc, free, f64, copyIn, withBlocks, checkFits, trackBlocks, releaseBlocks } from './wasm.js';
import { GradientCovariance } from './covariance.js';
import { calibratedNoiseVariance } from './noise.js';
import {
  checkOptions, checkPositiveInteger, checkFloat64Array, checkLength, checkFinite, checkNonNegative,
  checkSeed, checkStream, checkBoolean, checkInteger, checkLive, checkRegressionData,
} from './validate.js';
import { estimateBeyond, withoutMethod, type EstimatorMethod, type CurvatureEstimate } from './estimators.js';

/** Regression data: X is rows x dim row-major, y has `rows` targets. */
export interface RegressionData {
  X: Float64Array;
  y: Float64Array;
  rows: number;
  dim: number;
}

export interface GradientOptions {
  /** Samples per batch n (positive integer; at most rows without replacement). */
  batchSize: number;
  /** Number of batches m (positive integer). */
  batches: number;
  /** Variance tau2 of the Gaussian noise added to every target of every batch. */
  noiseVariance: number;
  /** Seed: non-negative safe integer or bigint < 2^64. */
  seed: number | bigint;
  /** Stream id in [0, 2^32), e.g. a worker index (default 0). */
  stream?: number;
  /** Sample rows with replacement (default true); false: distinct rows within a batch. */
  replacement?: boolean;
  /** Global index of the first batch (default 0): batch b is the same in any call. */
  firstBatch?: number;
}

/** @internal */
export interface Parsed {
  rows: number; dim: number; n: number; m: number; tau2: number;
  k0: number; k1: number; stream: number; replacement: boolean; firstBatch: number;
}

/** Validates regression data (or a live RegressionDataset). @internal */
export function checkData(data: unknown): RegressionData | RegressionDataset {
  if (data instanceof RegressionDataset) {
    data.checkLive();
    return data;
  }
  return checkRegressionData(data, ' or a RegressionDataset');
}

/**
 * Regression data kept in WebAssembly memory: validated and copied once, then used by any
 * number of `linearRegressionGradients` / `estimateHessian` calls without copying X again
 * (a 100,000 x 64 X is 51 MB: checking and copying it costs more than many estimates).
 * Call `dispose()` when done (a FinalizationRegistry frees forgotten ones eventually).
 *
 * @example
 * const ds = new RegressionDataset({ X, y, rows, dim });
 * for (const tau2 of [0, 32, 64]) estimateHessian(ds, w, { batchSize: 64, batches: 4000, noiseVariance: tau2, seed: 1 });
 * ds.dispose();
 */
export class RegressionDataset {
  readonly rows: number;
  readonly dim: number;
  #ptrs: [number, number] | undefined;

  /** @throws {TypeError|RangeError} for malformed data, or when it does not fit in wasm memory */
  constructor(data: RegressionData) {
    const d = checkData(data) as RegressionData;
    if (d instanceof RegressionDataset) throw new TypeError('invalid argument: `data` is already a RegressionDataset.');
    this.rows = d.rows;
    this.dim = d.dim;
    const xPtr = alloc(d.X.byteLength, `a RegressionDataset of ${d.rows} x ${d.dim}`);
    let yPtr = 0;
    try {
      yPtr = alloc(d.y.byteLength, `a RegressionDataset of ${d.rows} x ${d.dim}`);
    } catch (err) {
      free(xPtr);
      throw err;
    }
    copyIn(xPtr, d.X);
    copyIn(yPtr, d.y);
    this.#ptrs = [xPtr, yPtr];
    trackBlocks(this, this.#ptrs);
  }

  /** Pointers of X and y in wasm memory. @internal */
  get pointers(): [number, number] {
    this.checkLive();
    return this.#ptrs!;
  }

  /** @internal */
  checkLive(): void {
    checkLive('RegressionDataset', this.#ptrs === undefined);
  }

  /** Frees the wasm copy. Further use throws. Safe to call twice. */
  dispose(): void {
    if (!this.#ptrs) return;
    releaseBlocks(this, this.#ptrs);
    this.#ptrs = undefined;
  }
}

/** Validates a weight vector of length dim. @internal */
export function checkWeights(w: unknown, dim: number): Float64Array {
  const v = checkFloat64Array('w', w);
  checkLength('w', v, dim, 'data.dim');
  checkFinite('w', v);
  return v;
}

function parse(data: { rows: number; dim: number }, opts: Record<string, unknown>, noiseVariance: number): Parsed {
  const replacement = opts.replacement === undefined ? true : checkBoolean('replacement', opts.replacement);
  const n = checkPositiveInteger('batchSize', opts.batchSize, replacement ? 0x7fffffff : data.rows);
  const m = checkPositiveInteger('batches', opts.batches, 0x7fffffff);
  if (opts.seed === undefined) throw new TypeError('invalid argument: `seed` must be a number or a bigint. Value: `undefined`.');
  const [k0, k1] = checkSeed('seed', opts.seed);
  const stream = opts.stream === undefined ? 0 : checkStream('stream', opts.stream);
  const firstBatch = opts.firstBatch === undefined ? 0 : checkInteger('firstBatch', opts.firstBatch, 0, 0xffffffff);
  if (firstBatch + m > 2 ** 32) {
    throw new RangeError(`invalid argument: \`firstBatch\` + \`batches\` must not exceed 2^32. Value: \`${firstBatch + m}\`.`);
  }
  return { rows: data.rows, dim: data.dim, n, m, tau2: noiseVariance, k0, k1, stream, replacement, firstBatch };
}

/** Runs fn with X, y, w resident in wasm memory and the oracle's scratch. @internal */
export function withOracle<T>(data: RegressionData | RegressionDataset, w: Float64Array, p: Parsed,
  fn: (run: (outPtr: number, first: number, count: number) => void) => T): T {
  const k = wasm();
  const scratchBytes = k.lrGradientsScratchBytes(p.rows, p.n, p.replacement ? 1 : 0);
  const resident = data instanceof RegressionDataset;
  const xBytes = resident ? 8 : data.X.byteLength, yBytes = resident ? 8 : data.y.byteLength;
  return withBlocks([xBytes, yBytes, w.byteLength, scratchBytes], 'the gradient oracle', (xTmp, yTmp, wPtr, sPtr) => {
    let xPtr = xTmp!, yPtr = yTmp!;
    if (resident) [xPtr, yPtr] = data.pointers;
    else {
      copyIn(xPtr, data.X);
      copyIn(yPtr, data.y);
    }
    copyIn(wPtr!, w);
    const std = Math.sqrt(p.tau2);
    return fn((outPtr, first, count) => k.lrGradients(xPtr, yPtr, p.rows, p.dim, wPtr!, p.n, count, first, std,
      p.k0, p.k1, p.stream, p.replacement ? 1 : 0, outPtr, sPtr!));
  });
}

/**
 * The built-in linear-regression gradient oracle: `batches` mini-batch gradients
 * g_b = (1/n) X_B'(X_B w - y_B - xi_B) of the mean half-squared loss, with fresh target
 * noise xi ~ N(0, noiseVariance) for every sample of every batch (fused in the kernel).
 * Batch b's rows and noise depend only on (seed, stream, b).
 *
 * @returns batches x dim row-major Float64Array
 * @throws {TypeError|RangeError} for malformed data, weights or options
 * @example
 * const G = linearRegressionGradients({ X, y, rows: 1000, dim: 5 }, w,
 *   { batchSize: 32, batches: 500, noiseVariance: 32, seed: 1 });
 */
export function linearRegressionGradients(data: RegressionData | RegressionDataset, w: Float64Array, options: GradientOptions): Float64Array {
  const d = checkData(data);
  const weights = checkWeights(w, d.dim);
  const opts = checkOptions('options', options);
  if (opts.noiseVariance === undefined) throw new TypeError('invalid argument: `noiseVariance` must be a number. Value: `undefined`.');
  const p = parse(d, opts, checkNonNegative('noiseVariance', opts.noiseVariance));
  const bytes = p.m * p.dim * 8;
  checkFits(bytes, `the output of ${p.m} gradients of dim ${p.dim}`); // before copying the data in
  return withOracle(d, weights, p, (run) => {
    const out = alloc(bytes, `${p.m} gradients of dim ${p.dim}`);
    try {
      run(out, p.firstBatch, p.m);
      return f64(out, p.m * p.dim).slice();
    } finally {
      free(out);
    }
  });
}

export interface EstimateOptions extends Omit<GradientOptions, 'noiseVariance'> {
  /**
   * Injected variance tau2; default: the calibrated value batchSize - baseNoiseVariance
   * ('calibrated', 'debiased'), batchSize / 2 per draw ('paired'). 'two-level' takes noiseLevels instead.
   */
  noiseVariance?: number;
  /** Label-noise variance s2 already in y, used for the default and by 'debiased' (default 0). */
  baseNoiseVariance?: number;
  /**
   * The estimator (docs/estimators.md), and its cost in gradient evaluations for `batches` = m:
   * - 'calibrated' (default): the covariance of m batch gradients at the calibrated noise;
   *   m evaluations; biased by the misfit far from the optimum.
   * - 'paired': m batches, each with two independent noise draws; n / (2 tau2) times the
   *   covariance of the differences; 2m evaluations (fused for this oracle: no residual);
   *   unbiased at any w, for any input distribution.
   * - 'two-level': ceil(m/2) batches at noiseLevels[0] and the rest at noiseLevels[1];
   *   n (C_1 - C_2) / (tau_1 - tau_2); m evaluations; unbiased at any w.
   * - 'debiased': the calibrated covariance with the misfit's rank-one term removed and the
   *   scale solved for (closed form of the fixed point); m evaluations; needs Gaussian x and s2.
   */
  method?: EstimatorMethod;
  /** 'two-level' only: the two injected variances [tau_1, tau_2], tau_1 > tau_2 >= 0 (default [batchSize, 0]). */
  noiseLevels?: [number, number];
}

export interface HessianEstimate {
  /** C_hat: the sample covariance of the batch gradients (dim x dim row-major). */
  hessian: Float64Array;
  /** Mean batch gradient (estimates H (w - w*)); for method 'paired', the mean pair difference g(xi1) - g(xi2) (zero in expectation). */
  mean: Float64Array;
  /** Number of batch gradients used. */
  batches: number;
  /** The injected variance tau2 that was used. */
  noiseVariance: number;
}

/** Gradients per kernel call inside estimateHessian: a multiple of the 256-row block. */
const ESTIMATE_CHUNK_BYTES = 2 * 2 ** 20;

/**
 * Estimates the Hessian H = E[x x'] of linear regression at w from gradients alone, with
 * the estimator `method` (default 'calibrated': the sample covariance of `batches` batch
 * gradients with noise calibrated to the batch size unless given). 'paired' and
 * 'two-level' are unbiased at any w and for any input distribution; 'debiased' removes the
 * misfit for Gaussian inputs (see EstimateOptions.method for each one's cost). Gradients
 * stream through wasm in blocks, so memory stays O(dim^2 + data); the 'calibrated' result
 * equals building the gradients and calling GradientCovariance.addBatch once.
 *
 * @param data - `{ X, y, rows, dim }` or a RegressionDataset
 * @param w - the weights (length dim) at which to estimate
 * @param options - batchSize, batches, seed, method and the noise settings
 * @returns the estimate, its mean vector, and what the method used (noise levels, gradient evaluations)
 * @throws {TypeError|RangeError} for malformed data, weights or options (batches must be >= 2, >= 4 for 'two-level');
 *   RangeError from 'debiased' when the misfit cannot be separated from the noise
 * @example
 * const { hessian } = estimateHessian(data, w, { batchSize: 64, batches: 2000, seed: 1 });
 * const exact = estimateHessian(data, w, { batchSize: 64, batches: 1000, seed: 1, method: 'paired' });
 * relativeError(exact.hessian, trueH, dim);
 */
export function estimateHessian(data: RegressionData | RegressionDataset, w: Float64Array, options: EstimateOptions): CurvatureEstimate {
  const beyond = estimateBeyond(data, w, options); // the other methods (estimators.ts); undefined for 'calibrated'
  if (beyond) return beyond;
  const job = prepareEstimate(data, w, withoutMethod(options));
  const acc = new GradientCovariance(job.p.dim);
  try {
    withOracle(job.data, job.w, job.p, (run) => accumulate(acc, run, job.p, job.p.firstBatch, job.p.m));
    const est = { hessian: acc.covariance(), mean: acc.mean(), batches: job.p.m, noiseVariance: job.p.tau2 };
    return { ...est, method: 'calibrated', noiseLevels: [job.p.tau2], gradientEvaluations: job.p.m };
  } finally {
    acc.dispose();
  }
}

/** Validated inputs of an estimate (shared by estimateHessian and the worker pool). @internal */
export interface EstimateJob { data: RegressionData | RegressionDataset; w: Float64Array; p: Parsed }

/**
 * Validates estimateHessian's arguments (same rules and messages) without computing.
 * @internal
 */
export function prepareEstimate(data: RegressionData | RegressionDataset, w: Float64Array, options: EstimateOptions): EstimateJob {
  const d = checkData(data);
  const weights = checkWeights(w, d.dim);
  const opts = checkOptions('options', options);
  if (opts.method !== undefined && opts.method !== 'calibrated') { // only estimateHessian computes the other methods
    throw new RangeError(`invalid argument: \`method\` must be 'calibrated' here (the worker pool computes the calibrated estimator only). Value: \`${String(opts.method)}\`.`);
  }
  const n = checkPositiveInteger('batchSize', opts.batchSize);
  const tau2 = opts.noiseVariance === undefined
    ? calibratedNoiseVariance(n, opts.baseNoiseVariance === undefined ? undefined : { baseNoiseVariance: opts.baseNoiseVariance as number })
    : checkNonNegative('noiseVariance', opts.noiseVariance);
  const p = parse(d, opts, tau2);
  if (p.m < 2) throw new RangeError(`invalid argument: \`batches\` must be at least 2 to form a covariance. Value: \`${p.m}\`.`);
  return { data: d, w: weights, p };
}

/** Streams batches [first, first + count) through wasm into acc, in kernel-sized chunks. @internal */
export function accumulate(acc: GradientCovariance, run: (outPtr: number, first: number, count: number) => void,
  p: Parsed, first: number, count: number): void {
  const chunk = Math.max(256, Math.floor(ESTIMATE_CHUNK_BYTES / (p.dim * 8 * 256)) * 256);
  const rows = Math.min(chunk, count);
  const buf = alloc(rows * p.dim * 8, 'gradient staging');
  try {
    for (let b = 0; b < count; b += rows) {
      const c = Math.min(rows, count - b);
      run(buf, first + b, c);
      acc.addFromWasm(buf, c);
    }
  } finally {
    free(buf);
  }
}

/**
 * The worker side of the pool: for each block [first, first + count) of global batch
 * indices, a fresh accumulator of exactly those batches, serialized (toBytes). The data
 * is copied into wasm once for all blocks. A block that is the whole job gives the same
 * bits as estimateHessian. @internal
 */
export function estimateBlocks(job: EstimateJob, blocks: readonly (readonly [number, number])[]): Uint8Array[] {
  return withOracle(job.data, job.w, job.p, (run) => blocks.map(([first, count]) => {
    const acc = new GradientCovariance(job.p.dim);
    try {
      accumulate(acc, run, job.p, first, count);
      return acc.toBytes();
    } finally {
      acc.dispose();
    }
  }));
}
