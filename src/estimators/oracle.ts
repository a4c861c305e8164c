// The built-in gradient oracle of linear regression: batch gradients with injected target
// noise (assembly/gradient.ts), their option parsing and size checks, and the streaming of
// gradients into an accumulator.
import {
  wasm,
  alloc,
  free,
  f64,
  copyIn,
  withBlocks,
  checkBlocks,
  byteCount,
  checkDenseDim,
  USE_THE_SKETCH,
} from '../core/wasm.js';
import {
  GradientCovariance,
  paddedDim,
  covarianceScratchBytes,
  MAX_COVARIANCE_DIM,
} from '../core/covariance.js';
import {
  checkOptions,
  checkPositiveInteger,
  checkFloat64Array,
  checkLength,
  checkFinite,
  checkNonNegative,
  checkSeed,
  checkStream,
  checkBoolean,
  checkInteger,
} from '../core/validate.js';
import { methodNoise, type EstimatorMethod, type HessianEstimate } from './methods.js';
import { sketchChunkRows, type SketchEstimateOptions } from './sketched.js';
import { type RegressionData, checkData, RegressionDataset } from '../data/dataset.js';

/** The keys of GradientOptions, for the unknown-key check. */
export const GRADIENT_OPTION_KEYS = [
  'batchSize',
  'batches',
  'noiseVariance',
  'seed',
  'stream',
  'replacement',
  'firstBatch',
] as const;
/** The keys of EstimateOptions. */
export const ESTIMATE_OPTION_KEYS = [...GRADIENT_OPTION_KEYS, 'baseNoiseVariance'] as const;

/** Bytes of the oracle kernel's scratch: n uniforms and n normals (f64), n indices and n swap records (i32), and a row permutation (i32) without replacement (assembly/gradient.ts lrGradientsScratchBytes, in 53-bit JS). */
export function oracleScratchBytes(rows: number, batchSize: number, replacement: boolean): number {
  return 24 * batchSize + (replacement ? 0 : 4 * rows);
}

/** Options of linearRegressionGradients (and, except noiseVariance's default, of estimateHessian). */
export interface GradientOptions {
  /**
   * Samples per batch n (positive integer; at most rows without replacement). At most
   * 44,739,240: the oracle's scratch, 24 n bytes (+ 4 rows without replacement), is one
   * block of the wasm heap, which serves blocks below 1 GiB.
   */
  batchSize: number;
  /**
   * Number of batches m (positive integer, at most 2^31 - 1; `linearRegressionGradients`
   * returns them in one array, so 8 m dim bytes must be below 1 GiB there).
   */
  batches: number;
  /** Variance tau2 of the Gaussian noise added to every target of every batch. */
  noiseVariance: number;
  /** Seed: non-negative safe integer or bigint < 2^64. */
  seed: number | bigint;
  /** Stream id in [0, 2^32), e.g. a worker index (default 0). */
  stream?: number;
  /** Sample rows with replacement (default true); false: distinct rows within a batch. */
  replacement?: boolean;
  /** Global index of the first batch (default 0; firstBatch + batches <= 2^32): batch b is the same in any call. */
  firstBatch?: number;
}

/** @internal */
export interface Parsed {
  rows: number;
  dim: number;
  n: number;
  m: number;
  tau2: number;
  k0: number;
  k1: number;
  stream: number;
  replacement: boolean;
  firstBatch: number;
}

/** Validates a weight vector of length dim. @internal */
export function checkWeights(w: unknown, dim: number): Float64Array {
  const v = checkFloat64Array('w', w);
  checkLength('w', v, dim, 'data.dim');
  checkFinite('w', v);
  return v;
}

function parse(
  data: { rows: number; dim: number },
  opts: Record<string, unknown>,
  noiseVariance: number,
): Parsed {
  const replacement = opts.replacement === undefined ? true : checkBoolean('replacement', opts.replacement);
  const n = checkPositiveInteger('batchSize', opts.batchSize, replacement ? 0x7fffffff : data.rows);
  // the oracle's scratch (24 batchSize bytes, plus 4 rows without replacement) is one heap block
  checkBlocks(
    [oracleScratchBytes(data.rows, n, replacement)],
    `\`batchSize\` = ${n}`,
    `the gradient oracle's scratch (24 batchSize${replacement ? '' : ' + 4 rows'} bytes; batchSize at most 44,739,240)`,
  );
  const m = checkPositiveInteger('batches', opts.batches, 0x7fffffff);
  const [k0, k1] = checkSeed('seed', opts.seed);
  const stream = opts.stream === undefined ? 0 : checkStream('stream', opts.stream);
  const firstBatch =
    opts.firstBatch === undefined ? 0 : checkInteger('firstBatch', opts.firstBatch, 0, 0xffffffff);
  if (firstBatch + m > 2 ** 32) {
    throw new RangeError(
      `invalid argument: \`firstBatch\` + \`batches\` must not exceed 2^32. Value: \`${firstBatch + m}\`.`,
    );
  }
  return {
    rows: data.rows,
    dim: data.dim,
    n,
    m,
    tau2: noiseVariance,
    k0,
    k1,
    stream,
    replacement,
    firstBatch,
  };
}

/** The blocks withOracle holds (X, y, w, scratch), for up-front size checks. */
function oracleBlocks(data: object, p: Parsed): number[] {
  const resident = data instanceof RegressionDataset;
  return [
    resident ? 8 : byteCount(p.rows * p.dim, 8),
    resident ? 8 : byteCount(p.rows, 8),
    byteCount(p.dim, 8),
    oracleScratchBytes(p.rows, p.n, p.replacement),
  ];
}

/**
 * Checks, before anything is copied or computed, that the oracle's blocks plus `more`
 * (bytes) fit: X first (blaming `data`), then everything together.
 */
function checkOracleFits(data: object, p: Parsed, more: number[], blame: string, what: string): void {
  const blocks = oracleBlocks(data, p);
  checkBlocks(
    blocks.slice(0, 2),
    `\`data\` (${p.rows} x ${p.dim})`,
    'a copy of X and y in wasm memory (8 rows dim bytes)',
  );
  checkBlocks([...blocks, ...more], blame, what);
}

/**
 * Runs fn with the gradient kernels' sort area for calls of up to `batches` batches, or
 * with none (0, 0) when it is not worth it or does not fit beside what is live: the area
 * only makes the kernels faster on a large X (they read X in address order instead of
 * gathering random rows); the results are bit for bit the same with or without it, so
 * it is taken only if the memory is there. @internal
 */
export function withSortArea<T>(
  p: Parsed,
  batches: number,
  paired: boolean,
  fn: (areaPtr: number, areaBytes: number) => T,
): T {
  const bytes =
    wasm().lrSortAreaBytes(p.rows, p.dim, p.n, Math.min(batches, 0x7fffffff), paired ? 1 : 0) >>> 0;
  let area = 0;
  if (bytes > 0) {
    try {
      area = alloc(bytes, "the gradient oracle's sort area");
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
    }
  }
  try {
    return fn(area, area ? bytes : 0);
  } finally {
    free(area);
  }
}

/** Runs fn with X, y, w resident in wasm memory and the oracle's scratch. @internal */
export function withOracle<T>(
  data: RegressionData | RegressionDataset,
  w: Float64Array,
  p: Parsed,
  fn: (run: (outPtr: number, first: number, count: number) => void) => T,
): T {
  const k = wasm();
  const resident = data instanceof RegressionDataset;
  const [xBytes, yBytes, , scratchBytes] = oracleBlocks(data, p);
  return withBlocks(
    [xBytes, yBytes, w.byteLength, scratchBytes],
    'the gradient oracle',
    (xTmp, yTmp, wPtr, sPtr) => {
      let xPtr = xTmp!,
        yPtr = yTmp!;
      if (resident) [xPtr, yPtr] = data.pointers;
      else {
        copyIn(xPtr, data.X);
        copyIn(yPtr, data.y);
      }
      copyIn(wPtr!, w);
      const std = Math.sqrt(p.tau2);
      return withSortArea(p, p.m, false, (area, areaBytes) =>
        fn((outPtr, first, count) =>
          k.lrGradients(
            xPtr,
            yPtr,
            p.rows,
            p.dim,
            wPtr!,
            p.n,
            count,
            first,
            std,
            p.k0,
            p.k1,
            p.stream,
            p.replacement ? 1 : 0,
            outPtr,
            sPtr!,
            area,
            areaBytes,
          ),
        ),
      );
    },
  );
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
export function linearRegressionGradients(
  data: RegressionData | RegressionDataset,
  w: Float64Array,
  options: GradientOptions,
): Float64Array {
  const d = checkData(data);
  const weights = checkWeights(w, d.dim);
  const opts = checkOptions(
    'options',
    options,
    GRADIENT_OPTION_KEYS,
    '`options` of linearRegressionGradients',
  );
  if (opts.noiseVariance === undefined)
    throw new TypeError('invalid argument: `noiseVariance` must be a number. Value: `undefined`.');
  const p = parse(d, opts, checkNonNegative('noiseVariance', opts.noiseVariance));
  const bytes = byteCount(p.m * p.dim, 8);
  checkBlocks(
    [bytes],
    `\`batches\` = ${p.m}`,
    `the output of ${p.m} gradients of dim ${p.dim} (8 batches dim bytes)`,
  );
  checkOracleFits(
    d,
    p,
    [bytes],
    `\`batches\` = ${p.m} with \`batchSize\` = ${p.n}`,
    'the gradient oracle with its output',
  ); // before copying the data in
  return withOracle(d, weights, p, (run) => {
    const out = alloc(bytes, `${p.m} gradients of dim ${p.dim}`);
    try {
      run(out, p.firstBatch, p.m);
      const G = f64(out, p.m * p.dim).slice();
      const bad = G.findIndex((v) => v - v !== 0);
      if (bad >= 0) throw gradientOverflow(p, p.firstBatch + Math.floor(bad / p.dim));
      return G;
    } finally {
      free(out);
    }
  });
}

/** The error for a batch gradient that overflowed float64 (data or weights too large). */
function gradientOverflow(p: Parsed, batch: number): RangeError {
  return new RangeError(
    `the gradient of batch ${batch} overflows float64 (an entry of (1/n) X_B'(X_B w - y_B - noise) exceeds ~1.8e308): ` +
      `the data, the weights \`w\` or \`noiseVariance\` (${p.tau2}) are too large. Standardize the data (standardize()) or scale them down.`,
  );
}

/**
 * The estimate from a finished accumulator, or a RangeError saying the Hessian estimate is
 * not representable (shared by estimateHessian and the worker pool, so both give the same
 * result or the same error). @internal
 */
export function estimateResult(
  acc: GradientCovariance,
  batches: number,
  noiseVariance: number,
): HessianEstimate {
  let hessian: Float64Array;
  try {
    hessian = acc.covariance();
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const order = /of the order of (2\^\d+)/.exec(err.message)?.[1];
    throw new RangeError(
      `estimateHessian: the Hessian estimate of these data is not representable in float64 (its entries, of the order of ${order ?? 'its largest entry'}, ` +
        'overflow the largest double ~1.8e308). Standardize the data (standardize()) or scale them down.',
      { cause: err },
    );
  }
  return { hessian, mean: acc.mean(), batches, noiseVariance };
}

/** Options of estimateHessian: those of linearRegressionGradients, with a calibrated default noise. */
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
  /**
   * Compute in blocks of this many batches (a positive integer, or Infinity for one block
   * per level, the default), each a fresh accumulator, merged in block order per level. The worker pool and
   * gradcov/bullmq always compute in blocks (default 2048): the same `blockBatches` here gives
   * their result bit for bit, in one thread.
   */
  blockBatches?: number;
  /**
   * Method 'paired' only: sketch the pair differences (Frequent Directions of size
   * `sketch.size`, docs/sketch.md) instead of the dense dim x dim estimate: the result is a
   * SketchedCurvature (top `sketch.k` eigenpairs with certified intervals, the exact diagonal
   * and trace), and memory is O(dim size), not O(dim^2).
   */
  sketch?: SketchEstimateOptions;
}

export type { HessianEstimate } from './methods.js';

/** Gradients per kernel call inside estimateHessian: a multiple of the 256-row block. */
const ESTIMATE_CHUNK_BYTES = 2 * 2 ** 20;

/** Validated inputs of an estimate (shared by estimateHessian and the worker pool). @internal */
export interface EstimateJob {
  data: RegressionData | RegressionDataset;
  w: Float64Array;
  p: Parsed;
}

/**
 * Validates estimateHessian's arguments (same rules and messages) without computing.
 * @internal
 */
export function prepareEstimate(
  data: RegressionData | RegressionDataset,
  w: Float64Array,
  options: EstimateOptions,
  dense = true,
): EstimateJob {
  const d = checkData(data);
  return { data: d, ...prepareEstimateFor(d, w, options, dense) };
}

/**
 * prepareEstimate for data of a known shape that was checked before (the worker pool's
 * share() handles): the same checks of w, the options and the sizes, in the same order
 * (a shape that is not a RegressionDataset counts X and y as copied in). `dense` false (a
 * sketched plan): no dim x dim covariance, so neither its dim limit nor its blocks are
 * counted (the sketch checks its own). @internal
 */
export function prepareEstimateFor(
  d: { rows: number; dim: number },
  w: Float64Array,
  options: EstimateOptions,
  dense = true,
): { w: Float64Array; p: Parsed } {
  const weights = checkWeights(w, d.dim);
  const opts = checkOptions(
    'options',
    options,
    [...ESTIMATE_OPTION_KEYS, 'method'],
    '`options` of estimateHessian',
  );
  if (opts.method !== undefined && opts.method !== 'calibrated') {
    // the plan (src/estimators/plan.ts) passes one level's options, without the method
    throw new RangeError(
      `invalid argument: \`method\` must be 'calibrated' for one level of the block plan. Value: \`${String(opts.method)}\`.`,
    );
  }
  const n = checkPositiveInteger('batchSize', opts.batchSize);
  const { tau2 } = methodNoise('calibrated', n, opts);
  const p = parse(d, opts, tau2);
  if (p.m < 2)
    throw new RangeError(
      `invalid argument: \`batches\` must be at least 2 to form a covariance. Value: \`${p.m}\`.`,
    );
  if (!dense) {
    checkOracleFits(
      d,
      p,
      [Math.min(p.m, sketchChunkRows(p.dim)) * p.dim * 8],
      `\`data.dim\` = ${p.dim} with \`batchSize\` = ${p.n}`,
      'estimateHessian (data, oracle scratch and the staging of pair differences)',
    );
    return { w: weights, p };
  }
  checkDenseDim(
    'data.dim',
    p.dim,
    MAX_COVARIANCE_DIM,
    'the dense estimate (its gradient covariance, 8 dim^2 bytes)',
    USE_THE_SKETCH,
    byteCount(paddedDim(p.dim) ** 2, 8),
  );
  const dp = paddedDim(p.dim);
  checkOracleFits(
    d,
    p,
    [dp * 8, dp * dp * 8, covarianceScratchBytes(p.dim), stagingRows(p) * p.dim * 8],
    `\`data.dim\` = ${p.dim} with \`batchSize\` = ${p.n}`,
    'estimateHessian (data, oracle scratch, the covariance and its staging)',
  );
  return { w: weights, p };
}

/** Gradients staged per kernel call in estimateHessian. */
function stagingRows(p: Parsed): number {
  return Math.min(Math.max(256, Math.floor(ESTIMATE_CHUNK_BYTES / (p.dim * 8 * 256)) * 256), p.m);
}

/** Streams batches [first, first + count) through wasm into acc, in kernel-sized chunks. @internal */
export function accumulate(
  acc: GradientCovariance,
  run: (outPtr: number, first: number, count: number) => void,
  p: Parsed,
  first: number,
  count: number,
): void {
  const rows = Math.min(stagingRows(p), count);
  const buf = alloc(rows * p.dim * 8, 'gradient staging');
  try {
    for (let b = 0; b < count; b += rows) {
      const c = Math.min(rows, count - b);
      run(buf, first + b, c);
      if (!acc.addFromWasm(buf, c)) {
        const G = f64(buf, c * p.dim);
        throw gradientOverflow(p, first + b + Math.floor(G.findIndex((v) => v - v !== 0) / p.dim));
      }
    }
  } finally {
    free(buf);
  }
}
