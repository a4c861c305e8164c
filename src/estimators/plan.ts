// The estimators that go beyond the calibration rule (docs/estimators.md): paired noise,
// two noise levels and misfit debiasing, for the built-in linear-regression oracle. The
// finishing steps (covariance -> H) are shared with estimateCurvature (curvature.ts), so
// both entry points compute the same numbers from the same gradients.
//
// Random numbers: every batch b draws its rows and noise from Philox counters
// b * 2^32 + j under (seed, stream) in fixed domains, so a result never depends on how the
// batches are chunked or split across workers:
//   0x80000001  rows of batch b                (the gradient oracle, unchanged)
//   0x80000002  noise of batch b, first draw   (the gradient oracle, unchanged)
//   0x80000003  noise of batch b, second draw  ('paired'; new)
// 'two-level' uses batches [first, first + m1) at tau_1 and [first + m1, first + m) at tau_2.
//
// The block plan: every runner (estimateHessian in one thread, the worker pool, gradcov/bullmq)
// computes a method as the same list of blocks (level, first batch, count, and what is drawn:
// gradients at the level's noise, or pair differences), each block a fresh accumulator; the
// blocks of a level are merged in block order, then the method's formula finishes. One thread
// uses one block per level; the pool and BullMQ cut each level into blocks of blockBatches.
// So a result depends on blockBatches only, never on the number of workers or retries, and
// equals the single-thread one when every level fits in one block.
import { wasm, alloc, free, f64, copyIn, withBlocks, checkFits } from '../core/wasm.js';
import { checkRegressionData, checkOptions, checkPositiveInteger, checkOneOf } from '../core/validate.js';
import { GradientCovariance } from '../core/covariance.js';
import { decodeHeader, copyBytes } from '../core/serialize.js';
import {
  withOracle,
  withSortArea,
  accumulate,
  prepareEstimateFor,
  estimateResult,
  ESTIMATE_OPTION_KEYS,
  type EstimateJob,
  type EstimateOptions,
  type Parsed,
} from './oracle.js';
import { residentData, RegressionDataset, type RegressionData } from '../data/dataset.js';
import {
  CurvatureSketch,
  checkSketchBytes,
  checkSketch,
  probeSketch,
  newSketch,
  sketchChunkRows,
  addPairDifferences,
  sketchResult,
  type SketchSpec,
  type SketchedCurvature,
  type SketchEstimateOptions,
} from './sketched.js';
import {
  noiseLevelsUnused,
  methodNoise,
  withoutMethod,
  type EstimatorMethod,
  ESTIMATOR_METHODS,
  type CurvatureEstimate,
  evaluationsOf,
  levelBatches,
  pairedHessian,
  twoLevelHessian,
  debiasedHessian,
} from './methods.js';

/**
 * Gradients per kernel call and per covariance update: the chunk of oracle.ts's
 * accumulate() (a multiple of the 256-row block, about 2 MiB), which estimateCurvature
 * must match to give the same bits (tested: the built-in oracle through estimateCurvature
 * equals estimateHessian). @internal
 */
export function chunkRows(dim: number): number {
  return Math.max(256, Math.floor((2 * 2 ** 20) / (dim * 8 * 256)) * 256);
}

/** What a block draws: batch gradients at its noise level, or pair differences g(xi1) - g(xi2). @internal */
export type BlockDraw = 'gradients' | 'pairs';

/** One block of an estimate plan: batches [first, first + count) of one level. @internal */
export interface PlanBlock {
  /** Index of the level (0, or 1 for the second noise level of 'two-level'). */
  level: number;
  first: number;
  count: number;
  draw: BlockDraw;
  /** The injected variance of this block's draws. */
  tau2: number;
  /** Method 'paired' with `sketch`: the block is a CurvatureSketch of this spec, not a covariance. */
  sketch?: SketchSpec;
}

/** A block's accumulator: a covariance, or a sketch (a sketched plan). @internal */
export type BlockAccumulator = GradientCovariance | CurvatureSketch;

/**
 * A validated estimate cut into blocks: the method, the parsed options (p.tau2 is the first
 * level's variance; p.m all batches), the levels' variances, s2, and the blocks, level by
 * level in batch order. @internal
 */
export interface EstimatePlan {
  method: EstimatorMethod;
  w: Float64Array;
  p: Parsed;
  levels: number[];
  s2: number;
  blocks: PlanBlock[];
  /** The validated `sketch` option (method 'paired' only), when given. */
  sketch?: SketchSpec;
}

/** The blocks of `count` batches from `first`, cut every `size` batches. */
function cut(
  level: number,
  first: number,
  count: number,
  draw: BlockDraw,
  tau2: number,
  size: number,
  sketch?: SketchSpec,
): PlanBlock[] {
  const out: PlanBlock[] = [];
  for (let b = 0; b < count; b += size)
    out.push({
      level,
      first: first + b,
      count: Math.min(size, count - b),
      draw,
      tau2,
      ...(sketch ? { sketch } : {}),
    });
  return out;
}

/**
 * Every level's blocks, level by level in batch order: the levels' batches (levelBatches)
 * cut every `size` batches (Infinity: one block per level). The one cut of estimateHessian's
 * plan and estimateCurvature's. @internal
 */
export function cutLevels(
  method: EstimatorMethod,
  first: number,
  m: number,
  tau2: number,
  levels: readonly number[],
  size: number,
  sketch?: SketchSpec,
): PlanBlock[] {
  const kind = method === 'paired' ? 'pairs' : 'gradients';
  return levelBatches(method, first, m, tau2, levels).flatMap(([f, count, t], level) =>
    cut(level, f, count, kind, t, size, sketch),
  );
}

/**
 * Validates estimateHessian's arguments for any method (the options and the method first,
 * then the data through `shape()`, then w and the rest, as estimateHessian always has), then
 * `blockBatches` (a positive integer; Infinity: one block per level), and cuts the method into
 * blocks. Nothing is computed. @internal
 */
export function planEstimate<D extends { rows: number; dim: number }>(
  shape: () => D,
  w: unknown,
  options: EstimateOptions,
  blockBatches: unknown = Infinity,
  what = '`options` of estimateHessian',
): EstimatePlan & { data: D } {
  const opts = checkOptions(
    'options',
    options,
    [...ESTIMATE_OPTION_KEYS, 'method', 'noiseLevels', 'blockBatches', 'sketch'],
    what,
  );
  const method =
    opts.method === undefined ? 'calibrated' : checkOneOf('method', opts.method, ESTIMATOR_METHODS);
  if (method !== 'two-level' && opts.noiseLevels !== undefined)
    throw noiseLevelsUnused(opts.noiseLevels, method); // before the data is read
  const sketch = checkSketch(opts.sketch, method);
  const { blockBatches: given, sketch: _sketch, ...rest } = withoutMethod(opts);
  if (given !== undefined) blockBatches = given;
  let levels: number[] | undefined;
  let s2 = 0;
  if (method !== 'calibrated') {
    // (one level's noise, 'calibrated', is prepareEstimateFor's: the same rule)
    const noise = methodNoise(method, checkPositiveInteger('batchSize', rest.batchSize), {
      ...rest,
      noiseLevels: opts.noiseLevels,
    });
    ({ levels, s2 } = noise);
    rest.noiseVariance = noise.tau2;
  }
  const data = shape();
  const { w: weights, p } = prepareEstimateFor(
    data,
    w as Float64Array,
    rest as unknown as EstimateOptions,
    sketch === undefined,
  );
  if (sketch) probeSketch(p.dim, sketch); // the sketch's own checks (size, precision, memory) before any work
  if (method === 'two-level' && p.m < 4) {
    throw new RangeError(
      `invalid argument: \`batches\` must be at least 4 for method 'two-level' (two covariances of at least 2). Value: \`${p.m}\`.`,
    );
  }
  const size =
    blockBatches === Infinity ? Infinity : checkPositiveInteger('blockBatches', blockBatches, 0x7fffffff);
  levels ??= [p.tau2];
  const blocks = cutLevels(method, p.firstBatch, p.m, p.tau2, levels, size, sketch);
  return { method, w: weights, p, levels, s2, blocks, data, ...(sketch ? { sketch } : {}) };
}

/**
 * Computes blocks of a plan (the worker's side): for each block a fresh accumulator of
 * exactly its batches, handed to `each` (which serializes it, or keeps it). Consecutive
 * blocks that draw alike share one copy of the data in wasm memory. @internal
 */
export function computeBlocks<T>(
  job: EstimateJob,
  blocks: readonly PlanBlock[],
  each: (acc: BlockAccumulator) => T,
): T[] {
  const out: T[] = [];
  for (let i = 0; i < blocks.length;) {
    const { draw, tau2 } = blocks[i]!;
    let j = i + 1;
    while (j < blocks.length && blocks[j]!.draw === draw && Object.is(blocks[j]!.tau2, tau2)) j++;
    const group = blocks.slice(i, j);
    const p = { ...job.p, tau2 };
    const runAll = (run: (outPtr: number, first: number, count: number) => void) => {
      for (const b of group) {
        const acc = b.sketch ? newSketch(p.dim, b.sketch) : new GradientCovariance(p.dim);
        let kept = false;
        try {
          if (acc instanceof CurvatureSketch) accumulateSketch(acc, run, p, b.first, b.count);
          else accumulate(acc, run, job.p, b.first, b.count);
          const v = each(acc);
          kept = (v as unknown) === acc;
          out.push(v);
        } finally {
          if (!kept) acc.dispose();
        }
      }
    };
    try {
      if (draw === 'pairs') withPairKernel({ ...job, p }, runAll);
      else withOracle(job.data, job.w, p, runAll);
    } catch (err) {
      for (const v of out) if (v instanceof GradientCovariance || v instanceof CurvatureSketch) v.dispose();
      throw err;
    }
    i = j;
  }
  return out;
}

/** What a merge reads of a plan (estimateHessian's and estimateCurvature's). @internal */
export interface MergePlan {
  levels: readonly number[];
  blocks: readonly PlanBlock[];
  sketch?: SketchSpec;
  p: { dim: number };
}

/**
 * The one merge of a plan's blocks into one accumulator per level, fed the blocks one at a
 * time in plan order (`add`), so a runner may compute the next block only after merging the
 * last. A level starts from its first block itself when the plan is sketched (a merge into an
 * empty sketch would shrink again) or has one block per level (that block is the level, as
 * in one thread); otherwise from an empty covariance that every block is merged into. @internal
 */
export class LevelMerge {
  #levels: (BlockAccumulator | undefined)[];
  #next = 0;
  readonly #fromBlock: boolean;

  constructor(private readonly plan: MergePlan) {
    this.#fromBlock = plan.sketch !== undefined || plan.blocks.length === plan.levels.length;
    this.#levels = plan.levels.map(() => (this.#fromBlock ? undefined : new GradientCovariance(plan.p.dim)));
  }

  /** Index of the next block to add. */
  get next(): number {
    return this.#next;
  }

  /** Adds the next block's accumulator; takes it over (it is merged and disposed, or kept as its level). */
  add(acc: BlockAccumulator): void {
    const b = this.plan.blocks[this.#next++]!;
    const level = this.#levels[b.level];
    if (level === undefined) {
      this.#levels[b.level] = acc;
      return;
    }
    try {
      mergeInto(level, acc);
    } finally {
      acc.dispose();
    }
  }

  /** The levels, once every block is added (the caller disposes them). */
  levels(): BlockAccumulator[] {
    if (this.#next !== this.plan.blocks.length)
      throw new Error(`gradcov: ${this.#next} of ${this.plan.blocks.length} blocks merged`);
    return this.#levels as BlockAccumulator[];
  }

  /** Frees the levels merged so far (after a failure). */
  dispose(): void {
    for (const l of this.#levels) l?.dispose();
  }
}

/**
 * Merges the blocks (in plan order, decoded by `decode`) into one accumulator per level
 * (LevelMerge). On a failure every accumulator is freed. @internal
 */
export function mergeLevels<B>(
  plan: MergePlan,
  blocks: readonly B[],
  decode: (block: B, index: number) => BlockAccumulator,
): BlockAccumulator[] {
  const merge = new LevelMerge(plan);
  try {
    for (let i = 0; i < plan.blocks.length; i++) merge.add(decode(blocks[i]!, i));
    return merge.levels();
  } catch (err) {
    merge.dispose();
    throw err;
  }
}

/** level.merge(acc) for two accumulators of the same kind. */
function mergeInto(level: BlockAccumulator, acc: BlockAccumulator): void {
  if (level instanceof CurvatureSketch && acc instanceof CurvatureSketch) level.merge(acc);
  else if (level instanceof GradientCovariance && acc instanceof GradientCovariance) level.merge(acc);
  else throw new TypeError('gradcov: a block of another kind (covariance vs sketch) than its plan');
}

/** What a block's bytes say of the accumulator they hold (blockBytesInfo). @internal */
export interface BlockBytesInfo {
  dim: number;
  /** Gradients (a covariance) or rows (a sketch) it holds. */
  rows: number;
  /** The sketch size l (a sketch only). */
  size?: number;
  precision: 'f64' | 'f32';
}

/**
 * Checks a block's bytes completely as the accumulator the plan expects (a sketch's or a
 * covariance's toBytes() form: fromBytes' checks but a covariance's positive
 * semi-definiteness, which its decode checks) without allocating wasm memory, and returns
 * what they hold. Shared by every coordinator (finishCurvature, gradcov/bullmq). @internal
 * @throws {TypeError|RangeError} from the decoders, naming the first rule the bytes break
 */
export function blockBytesInfo(bytes: Uint8Array, sketch: boolean): BlockBytesInfo {
  if (sketch) {
    const h = checkSketchBytes(bytes);
    return { dim: h.d, rows: h.rows, size: h.l, precision: h.be === 4 ? 'f32' : 'f64' };
  }
  const h = decodeHeader(copyBytes(bytes));
  return { dim: h.dim, rows: h.count, precision: h.precision };
}

/**
 * The first way a block's accumulator differs from what its block of the plan must hold (the
 * plan's dim, one gradient or row per batch of the block, the sketch's size and precision; a
 * covariance of precision 'f64'), or undefined. Every coordinator checks its blocks with it
 * before merging. @internal
 */
export function blockMismatch(
  info: BlockBytesInfo,
  want: { dim: number; count: number; sketch?: SketchSpec },
): { field: 'dim' | 'rows' | 'size' | 'precision'; want: number | string; got: number | string } | undefined {
  if (info.dim !== want.dim) return { field: 'dim', want: want.dim, got: info.dim };
  if (info.rows !== want.count) return { field: 'rows', want: want.count, got: info.rows };
  if (want.sketch && info.size !== want.sketch.size)
    return { field: 'size', want: want.sketch.size, got: info.size! };
  const precision = want.sketch?.precision ?? 'f64';
  if (info.precision !== precision) return { field: 'precision', want: precision, got: info.precision };
  return undefined;
}

/** Decodes a block's bytes as the plan's accumulator (hostile bytes are refused by fromBytes). @internal */
export function decodeBlock(plan: EstimatePlan, bytes: Uint8Array, trusted = false): BlockAccumulator {
  if (plan.sketch) return CurvatureSketch.fromBytes(bytes);
  return trusted ? GradientCovariance.fromOwnBytes(bytes) : GradientCovariance.fromBytes(bytes);
}

/**
 * The method's estimate from one accumulator per level (shared by every runner, so all give
 * the same numbers, or the same error, from the same accumulators). `data`: as finishDense
 * (false for estimateCurvature's gradients). @internal
 */
export function finishPlan(
  plan: DenseFinish & { sketch?: SketchSpec },
  levels: readonly BlockAccumulator[],
  data = true,
): CurvatureEstimate | SketchedCurvature {
  const { p } = plan;
  if (plan.sketch) return sketchResult(levels[0] as CurvatureSketch, plan.sketch, p.m, p.tau2);
  return finishDense(plan, levels as GradientCovariance[], data);
}

/** What finishDense reads of a plan (estimateCurvature passes its own). @internal */
export interface DenseFinish {
  method: EstimatorMethod;
  levels: readonly number[];
  s2: number;
  p: { n: number; m: number; dim: number; tau2: number };
}

/**
 * The dense estimate from each level's accumulator, for every method: ONE finish for
 * estimateHessian's plan (its runners) and estimateCurvature. `data`: the covariance of
 * 'calibrated' comes from data (an overflow is reported in estimateHessian's terms: scale the
 * data); otherwise from the caller's gradients (the accumulator's own message). @internal
 */
export function finishDense(
  plan: DenseFinish,
  levels: readonly GradientCovariance[],
  data = true,
): CurvatureEstimate {
  const { method, p } = plan;
  const n = p.n,
    m = p.m,
    dim = p.dim;
  const base = { batches: m, method, gradientEvaluations: evaluationsOf(method, m) };
  const acc = levels[0]!;
  if (method === 'calibrated') {
    const est = data
      ? estimateResult(acc, m, p.tau2)
      : { hessian: acc.covariance(), mean: acc.mean(), batches: m, noiseVariance: p.tau2 };
    return { ...est, method, noiseLevels: [p.tau2], gradientEvaluations: m };
  }
  if (method === 'paired') {
    return {
      ...base,
      hessian: pairedHessian(acc.covariance(), n, p.tau2),
      mean: acc.mean(),
      noiseVariance: p.tau2,
      noiseLevels: [p.tau2],
    };
  }
  if (method === 'two-level') {
    const [tau1, tau2] = plan.levels as [number, number];
    const hessian = twoLevelHessian(acc.covariance(), levels[1]!.covariance(), n, tau1, tau2);
    acc.merge(levels[1]!); // (the levels are the caller's to dispose)
    return { ...base, hessian, mean: acc.mean(), noiseVariance: tau1, noiseLevels: [tau1, tau2] };
  }
  // 'debiased'
  const mean = acc.mean();
  const { hessian, misfit } = debiasedHessian(acc.covariance(), mean, dim, m, n, plan.s2, p.tau2);
  return { ...base, hessian, mean, noiseVariance: p.tau2, noiseLevels: [p.tau2], misfit };
}

/**
 * Runs fn with X resident in wasm memory and the paired kernel's scratch: `run(out, first,
 * count)` writes the pair differences of batches [first, first + count) to out.
 */
function withPairKernel<T>(
  job: EstimateJob,
  fn: (run: (outPtr: number, first: number, count: number) => void) => T,
): T {
  const { p } = job;
  const k = wasm();
  const resident = job.data instanceof RegressionDataset;
  const scratchBytes = k.lrPairedDiffsScratchBytes(p.rows, p.n, p.replacement ? 1 : 0);
  const xBytes = resident ? 8 : (job.data as RegressionData).X.byteLength;
  return withBlocks([xBytes, scratchBytes], 'the paired-noise kernel', (xTmp, sPtr) => {
    const xPtr = resident ? (job.data as RegressionDataset).pointers[0] : xTmp!;
    if (!resident) copyIn(xPtr, (job.data as RegressionData).X);
    const std = Math.sqrt(p.tau2);
    return withSortArea(p, p.m, true, (area, areaBytes) =>
      fn((outPtr, first, count) =>
        k.lrPairedDiffs(
          xPtr,
          p.rows,
          p.dim,
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
  });
}

/**
 * Streams the pair differences of batches [first, first + count) into a sketch, in the
 * chunks of sketchChunkRows (as estimateCurvature), through a small staging block.
 */
function accumulateSketch(
  sketch: CurvatureSketch,
  run: (outPtr: number, first: number, count: number) => void,
  p: Parsed,
  first: number,
  count: number,
): void {
  const rows = Math.min(sketchChunkRows(p.dim), count);
  const buf = alloc(rows * p.dim * 8, 'pair-difference staging');
  try {
    for (let b = 0; b < count; b += rows) {
      const c = Math.min(rows, count - b);
      run(buf, first + b, c);
      const block = f64(buf, c * p.dim).slice(); // a copy: the sketch may grow wasm memory
      const bad = block.findIndex((v) => v - v !== 0);
      if (bad >= 0)
        throw new RangeError(
          `the pair difference of batch ${first + b + Math.floor(bad / p.dim)} overflows float64: the data or \`noiseVariance\` (${p.tau2}) are too large. Standardize the data (standardize()) or scale them down.`,
        );
      addPairDifferences(sketch, block, p.n, p.tau2);
    }
  } finally {
    free(buf);
  }
}

/**
 * The pair differences g_b(xi1) - g_b(xi2) = (1/n) X_B'(xi2 - xi1) of the built-in oracle's
 * batches [firstBatch, firstBatch + batches), from the fused kernel (no residual: w and y
 * are not needed). Batch b uses the rows and first noise draw of linearRegressionGradients'
 * batch b and a second draw from its own Philox domain. @internal
 *
 * @returns batches x dim row-major Float64Array
 */
export function pairDifferences(
  data: RegressionData | RegressionDataset,
  options: EstimateOptions,
): Float64Array {
  const d = data instanceof RegressionDataset ? data : checkRegressionData(data, ' or a RegressionDataset');
  const m = checkPositiveInteger(
    'batches',
    checkOptions('options', options, ESTIMATE_OPTION_KEYS, '`options` of pairDifferences').batches,
    0x7fffffff,
  );
  // (the covariance's at-least-2 rule does not apply to the differences themselves)
  const plan = planEstimate(() => d, new Float64Array(d.dim), {
    ...options,
    batches: Math.max(2, m),
    method: 'paired',
  });
  const job: EstimateJob = { data: d, w: plan.w, p: { ...plan.p, m } };
  const bytes = job.p.m * job.p.dim * 8;
  checkFits(bytes, `the output of ${job.p.m} pair differences of dim ${job.p.dim}`);
  return withPairKernel(job, (run) => {
    const out = alloc(bytes, `${job.p.m} pair differences of dim ${job.p.dim}`);
    try {
      run(out, job.p.firstBatch, job.p.m);
      return f64(out, job.p.m * job.p.dim).slice();
    } finally {
      free(out);
    }
  });
}

/**
 * estimateHessian in this thread, for every method: validates everything first, then
 * computes the plan's blocks (one per level) and finishes. @internal
 */
export function estimatePlanned(
  data: RegressionData | RegressionDataset,
  w: Float64Array,
  options: EstimateOptions,
): CurvatureEstimate | SketchedCurvature {
  // plain arrays: copied into wasm memory and checked there in one step, used as resident
  // data for this call only, and freed however the call ends (issue 22 item 3)
  let copy: RegressionDataset | undefined;
  try {
    const plan = planEstimate(
      () => {
        const r = residentData(data);
        if (r.owned) copy = r.ds;
        return r.ds;
      },
      w,
      options,
    );
    return runPlanned(plan);
  } finally {
    copy?.dispose();
  }
}

function runPlanned(
  plan: ReturnType<typeof planEstimate<RegressionData | RegressionDataset>>,
): CurvatureEstimate | SketchedCurvature {
  const accs = computeBlocks({ data: plan.data, w: plan.w, p: plan.p }, plan.blocks, (acc) => acc);
  let levels: BlockAccumulator[];
  try {
    levels = mergeLevels(plan, accs, (acc) => acc); // (one block per level: the accumulators themselves)
  } catch (err) {
    for (const a of accs) a.dispose(); // (idempotent)
    throw err;
  }
  try {
    return finishPlan(plan, levels);
  } finally {
    for (const l of levels) l.dispose();
  }
}

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
 *   RangeError from 'debiased' when the misfit cannot be separated from the noise; without
 *   `sketch`, a RangeError for data.dim above 11584 (the dense dim x dim estimate, 8 dim^2
 *   bytes, is one block of the 4 GiB WebAssembly memory) saying the bytes needed and to use
 *   the sketch (`sketch: { size }`, docs/sketch.md)
 * @example
 * const { hessian } = estimateHessian(data, w, { batchSize: 64, batches: 2000, seed: 1 });
 * const exact = estimateHessian(data, w, { batchSize: 64, batches: 1000, seed: 1, method: 'paired' });
 * relativeError(exact.hessian, trueH, dim);
 */
export function estimateHessian(
  data: RegressionData | RegressionDataset,
  w: Float64Array,
  options: EstimateOptions & { sketch: SketchEstimateOptions },
): SketchedCurvature;
export function estimateHessian(
  data: RegressionData | RegressionDataset,
  w: Float64Array,
  options: EstimateOptions,
): CurvatureEstimate;
export function estimateHessian(
  data: RegressionData | RegressionDataset,
  w: Float64Array,
  options: EstimateOptions,
): CurvatureEstimate | SketchedCurvature {
  return estimatePlanned(data, w, options); // every method, as the block plan above (one block per level)
}
