// Curvature from any gradient source: the caller's oracle returns batch gradients at
// targets perturbed by noise that gradcov draws (or that a remote holder draws itself from
// targetNoise with the same seed, stream and batch). For a model f(x; w) trained with the
// mean half-squared loss, the paired estimate is the Gauss–Newton matrix G = E[J'J] at any w
// (for linear regression G = H); see docs/estimators.md.
import { wasm, alloc, free, f64, checkDenseDim, USE_THE_SKETCH, byteCount } from '../core/wasm.js';
import { GradientCovariance, MAX_COVARIANCE_DIM, paddedDim } from '../core/covariance.js';
import { calibratedNoiseVariance } from './noise.js';
import { checkNoiseLevels, checkPairedNoise, noiseLevelsUnused, ESTIMATOR_METHODS, DOMAIN_BATCH_NOISE, DOMAIN_PAIR_NOISE, evaluationsOf, twoLevelSplit, pairedHessian, twoLevelHessian, debiasedHessian, type EstimatorMethod, type CurvatureEstimate } from './methods.js';
import { chunkRows } from './plan.js';
import { checkSketch, newSketch, sketchChunkRows, addPairDifferences, sketchResult, type SketchSpec, type SketchEstimateOptions, type SketchedCurvature } from './sketched.js';
import {
  checkOptions, checkPositiveInteger, checkInteger, checkNonNegative, checkOneOf, checkSeed, checkStream, show,
  type FloatArray,
} from '../core/validate.js';

const MODE_NORMAL = 1;

/** What the oracle is asked for: the gradient of batch `batch` with `noise` added to its targets. */
export interface GradientRequest {
  /** Global batch index: the oracle must use the same samples every time it sees this index. */
  batch: number;
  /** 0 or 1: which independent noise draw ('paired' asks for both draws of each batch). */
  draw: 0 | 1;
  /** batchSize x outputs row-major: add noise[i * outputs + k] to target k of sample i. */
  noise: Float64Array;
  /** The variance of every noise value. */
  noiseVariance: number;
}

/**
 * The caller's gradient source: the mean half-squared-loss gradient of the batch at the
 * perturbed targets (length dim). A synchronous answer may reuse one buffer (it is copied
 * at once); a Promise must resolve to an array that is not overwritten later.
 */
export type GradientOracle = (request: GradientRequest) => FloatArray | PromiseLike<FloatArray>;

/** Options of estimateCurvature: the oracle's shape (dim, outputs, batchSize), the budget, the seed and the estimator. */
export interface CurvatureOptions {
  /** Number of parameters p (the gradient length). */
  dim: number;
  /** Outputs per sample k (default 1): the noise holds batchSize x outputs values. */
  outputs?: number;
  /** Samples per batch n (the oracle's batch size). */
  batchSize: number;
  /** Number of batches m (the cost in gradient evaluations is m, or 2m for 'paired'). */
  batches: number;
  /** Seed of the noise: non-negative safe integer or bigint < 2^64. */
  seed: number | bigint;
  /** Philox stream in [0, 2^32) (default 0), e.g. one per data holder. */
  stream?: number;
  /** Global index of the first batch (default 0). */
  firstBatch?: number;
  /** 'calibrated' | 'paired' | 'two-level' | 'debiased' (default 'calibrated'; see EstimateOptions.method). */
  method?: EstimatorMethod;
  /** Injected variance per draw (default: calibrated batchSize - baseNoiseVariance; batchSize / 2 for 'paired'). */
  noiseVariance?: number;
  /** Label-noise variance s2 in the targets (default 0): the calibrated default and 'debiased' use it. */
  baseNoiseVariance?: number;
  /** 'two-level' only: [tau_1, tau_2], tau_1 > tau_2 >= 0 (default [batchSize, 0]). */
  noiseLevels?: [number, number];
  /** Requests in flight at once for a Promise-returning oracle (default 4; 1 = one at a time). */
  concurrency?: number;
  /**
   * Method 'paired' only: sketch the pair differences (Frequent Directions of size
   * `sketch.size`, docs/sketch.md) instead of accumulating the dense dim x dim estimate; the
   * result is then a SketchedCurvature (top eigenpairs with certified intervals, the exact
   * diagonal and trace) and dim is limited by the sketch's memory (2 size dim values), not by
   * the dense 11,584.
   */
  sketch?: SketchEstimateOptions;
}

/** Which noise targetNoise draws: (seed, stream, batch, draw) and its size and variance. */
export interface TargetNoiseOptions {
  /** Seed (the same as the estimate's). */
  seed: number | bigint;
  /** Stream (default 0). */
  stream?: number;
  /** Global batch index. */
  batch: number;
  /** 0 (default) or 1: the pair's second draw. */
  draw?: 0 | 1;
  /** Samples per batch n. */
  batchSize: number;
  /** Outputs per sample k (default 1). */
  outputs?: number;
  /** Variance tau2 of each value. */
  noiseVariance: number;
}

/** The keys of CurvatureOptions (any other key is rejected, naming the closest). @internal */
export const CURVATURE_OPTION_KEYS = [
  'dim', 'outputs', 'batchSize', 'batches', 'seed', 'stream', 'firstBatch', 'method', 'noiseVariance', 'baseNoiseVariance', 'noiseLevels', 'concurrency', 'sketch',
] as const;
/** The keys of TargetNoiseOptions. @internal */
export const TARGET_NOISE_OPTION_KEYS = ['seed', 'stream', 'batch', 'draw', 'batchSize', 'outputs', 'noiseVariance'] as const;

let scratchPtr = 0;
let scratchCount = 0;

/**
 * The target noise of one batch: batchSize x outputs values sqrt(tau2) z, with z standard
 * normals from Philox counters batch * 2^32 + j under (seed, stream) in the domain of the
 * draw (0x80000002 for draw 0, the built-in oracle's noise; 0x80000003 for draw 1). It is
 * what estimateCurvature hands the oracle, so a data holder that knows (seed, stream) can
 * draw it itself instead of receiving it. Bit-identical on every engine.
 *
 * @param options - seed, stream, batch, draw, batchSize, outputs, noiseVariance
 * @returns a new Float64Array of batchSize x outputs values (row-major by sample)
 * @throws {TypeError|RangeError} for a bad option (batchSize x outputs must be below 2^32)
 * @example
 * const xi = targetNoise({ seed: 1, batch: 17, batchSize: 64, noiseVariance: 32 });
 * // the holder adds xi[i] to the target of sample i of batch 17, then sends the gradient
 */
export function targetNoise(options: TargetNoiseOptions): Float64Array {
  const o = checkOptions('options', options, TARGET_NOISE_OPTION_KEYS, '`options` of targetNoise');
  if (o.seed === undefined) throw new TypeError('invalid argument: `seed` must be a number or a bigint. Value: `undefined`.');
  const [k0, k1] = checkSeed('seed', o.seed);
  const stream = o.stream === undefined ? 0 : checkStream('stream', o.stream);
  const batch = checkInteger('batch', o.batch, 0, 0xffffffff);
  const draw = o.draw === undefined ? 0 : checkInteger('draw', o.draw, 0, 1);
  const n = checkPositiveInteger('batchSize', o.batchSize);
  const outputs = o.outputs === undefined ? 1 : checkPositiveInteger('outputs', o.outputs);
  if (o.noiseVariance === undefined) throw new TypeError('invalid argument: `noiseVariance` must be a number. Value: `undefined`.');
  const tau2 = checkNonNegative('noiseVariance', o.noiseVariance);
  const count = n * outputs;
  if (count > 2 ** 32) throw new RangeError(`invalid argument: \`batchSize\` x \`outputs\` must not exceed 2^32. Value: \`${count}\`.`);
  const out = new Float64Array(count);
  fillNoise(out, k0, k1, stream, batch, draw, Math.sqrt(tau2));
  return out;
}

/** Philox normals of (batch, draw) times std into out (validated arguments). */
function fillNoise(out: Float64Array, k0: number, k1: number, stream: number, batch: number, draw: number, std: number): void {
  if (std === 0) { out.fill(0); return; }
  const k = wasm();
  const CHUNK = 8192;
  if (scratchCount < CHUNK) {
    scratchPtr = alloc(CHUNK * 8, 'the target-noise scratch buffer');
    scratchCount = CHUNK;
  }
  const domain = draw === 0 ? DOMAIN_BATCH_NOISE : DOMAIN_PAIR_NOISE;
  for (let done = 0; done < out.length; done += CHUNK) {
    const c = Math.min(CHUNK, out.length - done);
    k.philoxFill(scratchPtr, c, k0, k1, done, batch, domain, stream, MODE_NORMAL);
    const z = f64(scratchPtr, c);
    for (let i = 0; i < c; i++) out[done + i] = std * z[i]!;
  }
}

interface Plan {
  dim: number; n: number; outputs: number; m: number; first: number; k0: number; k1: number; stream: number;
  method: EstimatorMethod; tau2: number; levels: number[]; s2: number; concurrency: number; sketch?: SketchSpec;
}

function plan(options: CurvatureOptions): Plan {
  const o = checkOptions('options', options, CURVATURE_OPTION_KEYS, '`options` of estimateCurvature');
  // the dense estimate is one wasm heap block (8 dim^2 bytes); a sketch's size is checked by the sketch
  const dim = checkPositiveInteger('dim', o.dim);
  if (o.sketch === undefined) {
    checkDenseDim('dim', dim, MAX_COVARIANCE_DIM, 'the dense estimate (its gradient covariance, 8 dim^2 bytes)', USE_THE_SKETCH,
      byteCount(paddedDim(dim) ** 2, 8));
  }
  const outputs = o.outputs === undefined ? 1 : checkPositiveInteger('outputs', o.outputs);
  const n = checkPositiveInteger('batchSize', o.batchSize);
  if (n * outputs > 2 ** 32) throw new RangeError(`invalid argument: \`batchSize\` x \`outputs\` must not exceed 2^32. Value: \`${n * outputs}\`.`);
  const m = checkPositiveInteger('batches', o.batches, 0x7fffffff);
  if (o.seed === undefined) throw new TypeError('invalid argument: `seed` must be a number or a bigint. Value: `undefined`.');
  const [k0, k1] = checkSeed('seed', o.seed);
  const stream = o.stream === undefined ? 0 : checkStream('stream', o.stream);
  const first = o.firstBatch === undefined ? 0 : checkInteger('firstBatch', o.firstBatch, 0, 0xffffffff);
  if (first + m > 2 ** 32) throw new RangeError(`invalid argument: \`firstBatch\` + \`batches\` must not exceed 2^32. Value: \`${first + m}\`.`);
  const method = o.method === undefined ? 'calibrated' : checkOneOf('method', o.method, ESTIMATOR_METHODS);
  const s2 = o.baseNoiseVariance === undefined ? 0 : checkNonNegative('baseNoiseVariance', o.baseNoiseVariance);
  let tau2 = o.noiseVariance === undefined
    ? (method === 'paired' ? n / 2 : calibratedNoiseVariance(n, { baseNoiseVariance: s2 }))
    : checkNonNegative('noiseVariance', o.noiseVariance);
  if (method === 'paired') checkPairedNoise(tau2, n);
  let levels = [tau2];
  if (method === 'two-level') {
    if (o.noiseVariance !== undefined) {
      throw new TypeError(`invalid argument: \`noiseVariance\` must be left out for method 'two-level' (it takes noiseLevels). Value: \`${show(o.noiseVariance)}\`.`);
    }
    levels = checkNoiseLevels(o.noiseLevels, n);
    tau2 = levels[0]!;
  } else if (o.noiseLevels !== undefined) throw noiseLevelsUnused(o.noiseLevels, method);
  if (m < 2) throw new RangeError(`invalid argument: \`batches\` must be at least 2 to form a covariance. Value: \`${m}\`.`);
  if (method === 'two-level' && m < 4) {
    throw new RangeError(`invalid argument: \`batches\` must be at least 4 for method 'two-level' (two covariances of at least 2). Value: \`${m}\`.`);
  }
  const concurrency = o.concurrency === undefined ? 4 : checkPositiveInteger('concurrency', o.concurrency, 1024);
  const sketch = checkSketch(o.sketch, method);
  return { dim, n, outputs, m, first, k0, k1, stream, method, tau2, levels, s2, concurrency, ...(sketch ? { sketch } : {}) };
}

/**
 * One oracle answer as a private Float64Array copy (the oracle may reuse or share its
 * buffer), checked: a float array of length dim with finite values.
 */
function copyGradient(value: unknown, dim: number, batch: number, draw: number): Float64Array {
  const where = `the oracle's gradient for batch ${batch} (draw ${draw})`;
  if (!(value instanceof Float64Array) && !(value instanceof Float32Array)) {
    throw new TypeError(`${where} must be a Float64Array or Float32Array. Value: \`${show(value)}\`.`);
  }
  if (value.length !== dim) throw new RangeError(`${where} must have length dim (${dim}). Value: length ${value.length}.`);
  const g = Float64Array.from(value);
  for (let i = 0; i < dim; i++) {
    const v = g[i]!;
    if (v - v !== 0) throw new RangeError(`${where} must contain only finite numbers. Value: \`${v}\` at index ${i}.`);
  }
  return g;
}

/** The error for finite gradients whose combination overflowed float64. */
function combinedOverflow(batch: number): RangeError {
  return new RangeError(`estimateCurvature: the oracle's gradients for batch ${batch} overflow float64 when combined (entries near 1.8e308): scale the model's loss or targets down.`);
}

/**
 * Calls the oracle for batches [first, first + count) at noise std (draws as listed), with
 * at most `concurrency` requests in flight, and hands what `combine` makes of each batch's
 * answers to `flush`, `chunk` batches at a time in batch order (rows[t] is batch batch0 + t).
 */
async function stream(oracle: GradientOracle, p: Plan, first: number, count: number, tau2: number, draws: (0 | 1)[],
  combine: (gs: FloatArray[], out: Float64Array) => void, chunk: number, flush: (rows: Float64Array[], c: number, batch0: number) => void): Promise<void> {
  const std = Math.sqrt(tau2);
  for (let c0 = 0; c0 < count; c0 += chunk) {
    const c = Math.min(chunk, count - c0);
    const rows: Float64Array[] = new Array(c);
    let next = 0;
    const ask = async (t: number, draw: 0 | 1): Promise<FloatArray> => {
      const batch = first + c0 + t;
      const noise = new Float64Array(p.n * p.outputs);
      fillNoise(noise, p.k0, p.k1, p.stream, batch, draw, std);
      const failed = (err: unknown) => new Error(`estimateCurvature: the oracle failed on batch ${batch} (draw ${draw}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      let g: unknown;
      try {
        g = oracle({ batch, draw, noise, noiseVariance: tau2 });
      } catch (err) {
        throw failed(err);
      }
      // a synchronous answer is copied before anything else runs (the oracle may reuse
      // its buffer); a promised one when it settles
      if (typeof (g as PromiseLike<unknown> | null)?.then === 'function') {
        try {
          g = await g;
        } catch (err) {
          throw failed(err);
        }
      }
      return copyGradient(g, p.dim, batch, draw);
    };
    let stop = false;
    const lane = async (): Promise<void> => {
      try {
        while (next < c && !stop) {
          const t = next++;
          const gs: FloatArray[] = [];
          for (const d of draws) gs.push(await ask(t, d));
          const row = new Float64Array(p.dim);
          combine(gs, row);
          rows[t] = row;
        }
      } catch (err) {
        stop = true; // the other lanes take no new batches
        throw err;
      }
    };
    const lanes: Promise<void>[] = [];
    for (let i = 0; i < Math.min(p.concurrency, c); i++) lanes.push(lane());
    const settled = await Promise.allSettled(lanes);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    flush(rows, c, first + c0);
  }
}

/**
 * stream() into a covariance accumulator in chunks of the built-in estimator's size (so the
 * built-in oracle gives the same bits as estimateHessian).
 */
async function streamDense(acc: GradientCovariance, oracle: GradientOracle, p: Plan, first: number, count: number,
  tau2: number, draws: (0 | 1)[], combine: (gs: FloatArray[], out: Float64Array) => void): Promise<void> {
  const chunk = Math.min(chunkRows(p.dim), count);
  const buf = alloc(chunk * p.dim * 8, 'the gradient staging buffer');
  try {
    await stream(oracle, p, first, count, tau2, draws, combine, chunk, (rows, c, batch0) => {
      const view = f64(buf, c * p.dim); // fresh view: the oracle may have grown wasm memory
      for (let t = 0; t < c; t++) view.set(rows[t]!, t * p.dim);
      if (!acc.addFromWasm(buf, c)) { // finite gradients whose difference overflowed
        throw combinedOverflow(batch0 + Math.floor(view.findIndex((v) => v - v !== 0) / p.dim));
      }
    });
  } finally {
    free(buf);
  }
}

/** The pair differences of every batch into a sketch, in the chunks every runner uses (sketchChunkRows). */
async function streamSketch(oracle: GradientOracle, p: Plan, spec: SketchSpec): Promise<SketchedCurvature> {
  const sketch = newSketch(p.dim, spec); // validates size, precision and memory before the oracle is asked
  try {
    await stream(oracle, p, p.first, p.m, p.tau2, [0, 1], (gs, out) => {
      const a = gs[0]!, b = gs[1]!;
      for (let i = 0; i < p.dim; i++) out[i] = a[i]! - b[i]!;
    }, sketchChunkRows(p.dim), (rows, c, batch0) => {
      const block = new Float64Array(c * p.dim);
      for (let t = 0; t < c; t++) block.set(rows[t]!, t * p.dim);
      const bad = block.findIndex((v) => v - v !== 0);
      if (bad >= 0) throw combinedOverflow(batch0 + Math.floor(bad / p.dim));
      addPairDifferences(sketch, block, p.n, p.tau2);
    });
    return sketchResult(sketch, spec, p.m, p.tau2);
  } finally {
    sketch.dispose();
  }
}

/**
 * Estimates the curvature of any model trained with the mean half-squared loss from its
 * gradients alone: the Hessian H for linear regression, the Gauss–Newton matrix
 * G = E[J'J] for a nonlinear model. The oracle is the caller's code: for each request it
 * adds `request.noise` to the targets of batch `request.batch` and returns that batch's
 * gradient (synchronously or as a Promise; at most `concurrency` requests are in flight).
 * Gradients stream into a covariance accumulator, so memory is O(dim^2) whatever the
 * number of batches; with `sketch: { size }` (method 'paired') they stream into a Frequent
 * Directions sketch instead (O(dim size) memory, no dense limit on dim) and the result is a
 * SketchedCurvature: the top eigenpairs with certified intervals, the exact diagonal and trace
 * (docs/sketch.md). 'paired' is exact at any w (two draws per batch); 'calibrated' is
 * biased by the residuals away from the optimum. With the built-in linear-regression
 * gradients as the oracle, the result equals estimateHessian's bit for bit.
 *
 * Atomic: if the oracle throws, rejects, or returns a wrong type, length or a non-finite
 * value, the promise rejects with an error naming the batch and draw, and no estimate is
 * returned.
 *
 * @param oracle - `(request) => gradient` (Float64Array or Float32Array of length dim, or a Promise of one)
 * @param options - dim, outputs, batchSize, batches, seed, method, noiseVariance, concurrency
 * @returns a promise of the estimate (dim x dim), its mean vector and what the method used; with `sketch`, a SketchedCurvature
 * @throws {TypeError|RangeError} (as a rejected promise) for bad options or a bad oracle answer;
 *   without `sketch`, a RangeError for dim above 11584 (the dense dim x dim estimate, 8 dim^2
 *   bytes, is one block of the 4 GiB WebAssembly memory) saying the bytes needed and to use
 *   the sketch
 * @example
 * import { estimateCurvature } from 'gradcov';
 * const G = await estimateCurvature(({ batch, noise }) => myGradient(batch, noise),
 *   { dim: 193, batchSize: 64, batches: 2000, seed: 1, method: 'paired' });
 */
export async function estimateCurvature(oracle: GradientOracle, options: CurvatureOptions & { sketch: SketchEstimateOptions }): Promise<SketchedCurvature>;
export async function estimateCurvature(oracle: GradientOracle, options: CurvatureOptions): Promise<CurvatureEstimate>;
export async function estimateCurvature(oracle: GradientOracle, options: CurvatureOptions): Promise<CurvatureEstimate | SketchedCurvature> {
  if (typeof oracle !== 'function') {
    throw new TypeError(`invalid argument: \`oracle\` must be a function (request) => gradient. Value: \`${show(oracle)}\`.`);
  }
  const p = plan(options);
  const base = { batches: p.m, method: p.method, gradientEvaluations: evaluationsOf(p.method, p.m) };
  const copy = (gs: FloatArray[], out: Float64Array) => out.set(gs[0]!);
  if (p.sketch) return streamSketch(oracle, p, p.sketch);
  if (p.method === 'paired') {
    const acc = new GradientCovariance(p.dim);
    try {
      await streamDense(acc, oracle, p, p.first, p.m, p.tau2, [0, 1], (gs, out) => {
        const a = gs[0]!, b = gs[1]!;
        for (let i = 0; i < p.dim; i++) out[i] = a[i]! - b[i]!;
      });
      return { ...base, hessian: pairedHessian(acc.covariance(), p.n, p.tau2), mean: acc.mean(), noiseVariance: p.tau2, noiseLevels: [p.tau2] };
    } finally {
      acc.dispose();
    }
  }
  if (p.method === 'two-level') {
    const [m1, m2] = twoLevelSplit(p.m);
    const [tau1, tau2] = p.levels as [number, number];
    const a1 = new GradientCovariance(p.dim), a2 = new GradientCovariance(p.dim);
    try {
      await streamDense(a1, oracle, p, p.first, m1, tau1, [0], copy);
      await streamDense(a2, oracle, p, p.first + m1, m2, tau2, [0], copy);
      const hessian = twoLevelHessian(a1.covariance(), a2.covariance(), p.n, tau1, tau2);
      a1.merge(a2);
      return { ...base, hessian, mean: a1.mean(), noiseVariance: tau1, noiseLevels: [tau1, tau2] };
    } finally {
      a1.dispose();
      a2.dispose();
    }
  }
  const acc = new GradientCovariance(p.dim);
  try {
    await streamDense(acc, oracle, p, p.first, p.m, p.tau2, [0], copy);
    const mean = acc.mean();
    if (p.method === 'calibrated') {
      return { ...base, hessian: acc.covariance(), mean, noiseVariance: p.tau2, noiseLevels: [p.tau2] };
    }
    const { hessian, misfit } = debiasedHessian(acc.covariance(), mean, p.dim, p.m, p.n, p.s2, p.tau2);
    return { ...base, hessian, mean, noiseVariance: p.tau2, noiseLevels: [p.tau2], misfit };
  } finally {
    acc.dispose();
  }
}
