import { wasm, alloc, free, f64, copyIn, withBlocks, checkFits } from './wasm.js';
import { GradientCovariance } from './covariance.js';
import { calibratedNoiseVariance } from './noise.js';
import {
  checkOptions, checkPositiveInteger, checkFloat64Array, checkLength, checkFinite, checkNonNegative,
  checkSeed, checkStream, checkBoolean, checkInteger, isObject, show,
} from './validate.js';

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

interface Parsed {
  rows: number; dim: number; n: number; m: number; tau2: number;
  k0: number; k1: number; stream: number; replacement: boolean; firstBatch: number;
}

function checkData(data: unknown): RegressionData {
  if (!isObject(data)) throw new TypeError(`invalid argument: \`data\` must be an object { X, y, rows, dim }. Value: \`${show(data)}\`.`);
  const rows = checkPositiveInteger('data.rows', data.rows);
  const dim = checkPositiveInteger('data.dim', data.dim);
  const X = checkFloat64Array('data.X', data.X);
  const y = checkFloat64Array('data.y', data.y);
  checkLength('data.X', X, rows * dim, 'rows x dim');
  checkLength('data.y', y, rows, 'rows');
  checkFinite('data.X', X);
  checkFinite('data.y', y);
  return { X, y, rows, dim };
}

function checkWeights(w: unknown, dim: number): Float64Array {
  const v = checkFloat64Array('w', w);
  checkLength('w', v, dim, 'data.dim');
  checkFinite('w', v);
  return v;
}

function parse(data: RegressionData, opts: Record<string, unknown>, noiseVariance: number): Parsed {
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

/** Runs fn with X, y, w resident in wasm memory and the oracle's scratch. */
function withOracle<T>(data: RegressionData, w: Float64Array, p: Parsed,
  fn: (run: (outPtr: number, first: number, count: number) => void) => T): T {
  const k = wasm();
  const scratchBytes = k.lrGradientsScratchBytes(p.rows, p.n, p.replacement ? 1 : 0);
  return withBlocks([data.X.byteLength, data.y.byteLength, w.byteLength, scratchBytes], 'the gradient oracle',
    (xPtr, yPtr, wPtr, sPtr) => {
      copyIn(xPtr!, data.X);
      copyIn(yPtr!, data.y);
      copyIn(wPtr!, w);
      const std = Math.sqrt(p.tau2);
      return fn((outPtr, first, count) => k.lrGradients(xPtr!, yPtr!, p.rows, p.dim, wPtr!, p.n, count, first, std,
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
export function linearRegressionGradients(data: RegressionData, w: Float64Array, options: GradientOptions): Float64Array {
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
  /** Injected variance tau2; default: the calibrated value batchSize - baseNoiseVariance. */
  noiseVariance?: number;
  /** Label-noise variance s2 already in y, used for the default (default 0). */
  baseNoiseVariance?: number;
}

export interface HessianEstimate {
  /** C_hat: the sample covariance of the batch gradients (dim x dim row-major). */
  hessian: Float64Array;
  /** Mean batch gradient (estimates H (w - w*)). */
  mean: Float64Array;
  /** Number of batch gradients used. */
  batches: number;
  /** The injected variance tau2 that was used. */
  noiseVariance: number;
}

/** Gradients per kernel call inside estimateHessian: a multiple of the 256-row block. */
const ESTIMATE_CHUNK_BYTES = 2 * 2 ** 20;

/**
 * Estimates the Hessian H = E[x x'] of linear regression at w from gradients alone:
 * draws `batches` noisy batch gradients (noise calibrated to the batch size unless given)
 * and returns their sample covariance. Gradients stream through wasm in blocks, so memory
 * stays O(dim^2 + data); the result equals building them all and calling
 * GradientCovariance.addBatch once.
 *
 * @throws {TypeError|RangeError} for malformed data, weights or options; batches must be >= 2
 * @example
 * const { hessian } = estimateHessian(data, w, { batchSize: 64, batches: 2000, seed: 1 });
 * relativeError(hessian, trueH, dim);
 */
export function estimateHessian(data: RegressionData, w: Float64Array, options: EstimateOptions): HessianEstimate {
  const d = checkData(data);
  const weights = checkWeights(w, d.dim);
  const opts = checkOptions('options', options);
  const n = checkPositiveInteger('batchSize', opts.batchSize);
  const tau2 = opts.noiseVariance === undefined
    ? calibratedNoiseVariance(n, opts.baseNoiseVariance === undefined ? undefined : { baseNoiseVariance: opts.baseNoiseVariance as number })
    : checkNonNegative('noiseVariance', opts.noiseVariance);
  const p = parse(d, opts, tau2);
  if (p.m < 2) throw new RangeError(`invalid argument: \`batches\` must be at least 2 to form a covariance. Value: \`${p.m}\`.`);
  const acc = new GradientCovariance(p.dim);
  try {
    const chunk = Math.max(256, Math.floor(ESTIMATE_CHUNK_BYTES / (p.dim * 8 * 256)) * 256);
    withOracle(d, weights, p, (run) => {
      const rows = Math.min(chunk, p.m);
      const buf = alloc(rows * p.dim * 8, 'gradient staging');
      try {
        for (let b = 0; b < p.m; b += rows) {
          const count = Math.min(rows, p.m - b);
          run(buf, p.firstBatch + b, count);
          acc.addFromWasm(buf, count);
        }
      } finally {
        free(buf);
      }
    });
    return { hessian: acc.covariance(), mean: acc.mean(), batches: p.m, noiseVariance: tau2 };
  } finally {
    acc.dispose();
  }
}
