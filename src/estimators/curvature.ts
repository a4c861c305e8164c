// Curvature from any gradient source: the caller's oracle returns batch gradients at
// targets perturbed by noise that gradcov draws (or that a remote holder draws itself from
// targetNoise with the same seed, stream and batch). For a model f(x; w) trained with the
// mean half-squared loss, the paired estimate is the Gauss–Newton matrix G = E[J'J] at any w
// (for linear regression G = H); see docs/estimators.md.
import { wasm, alloc, free, f64, checkDenseDim, USE_THE_SKETCH, byteCount } from '../core/wasm.js';
import { GradientCovariance, MAX_COVARIANCE_DIM, paddedDim } from '../core/covariance.js';
import { MAGIC as COVARIANCE_MAGIC } from '../core/serialize.js';
import {
  methodNoise,
  ESTIMATOR_METHODS,
  DOMAIN_BATCH_NOISE,
  DOMAIN_PAIR_NOISE,
  type EstimatorMethod,
  type CurvatureEstimate,
} from './methods.js';
import {
  chunkRows,
  cutLevels,
  finishPlan,
  LevelMerge,
  mergeLevels,
  blockBytesInfo,
  blockMismatch,
  type BlockBytesInfo,
  type BlockAccumulator,
  type DenseFinish,
  type MergePlan,
  type PlanBlock,
} from './plan.js';
import {
  CurvatureSketch,
  checkSketch,
  SKETCH_MAGIC,
  probeSketch,
  newSketch,
  sketchChunkRows,
  addPairDifferences,
  type SketchSpec,
  type SketchEstimateOptions,
  type SketchedCurvature,
} from './sketched.js';
import {
  checkOptions,
  checkPositiveInteger,
  checkInteger,
  checkNonNegative,
  checkOneOf,
  checkSeed,
  checkStream,
  show,
  typedView,
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
 * at once); a Promise must resolve to an array that is not overwritten later (one buffer
 * shared by calls in flight at once is refused with a TypeError; docs/guarantees.md).
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
  /**
   * Cancels the estimate: when it aborts, the promise rejects at once with an `AbortError`
   * (its `cause` is `signal.reason`), calls still in flight are abandoned (their answers are
   * ignored) and the memory the estimate holds is freed. An already aborted signal rejects
   * before the oracle is called.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds each Promise-returning oracle call may take (default: no limit; at most
   * 2^31 - 1). A call that has not settled by then rejects the estimate at once with an
   * error naming the batch and draw (a synchronous call cannot be interrupted).
   */
  timeout?: number;
  /**
   * Batches per block (a positive integer, at most 2^31 - 1; default: one block per noise
   * level, the estimate as it has always been computed). Each level's batches are cut into
   * blocks of this many (curvatureBlocks lists them), each block is streamed into a fresh
   * accumulator, and the blocks are merged in block order, so the result equals what
   * finishCurvature makes of the blocks computed anywhere (computeCurvatureBlock, in
   * workers or on a queue), bit for bit, whatever their number of workers or retries.
   */
  blockBatches?: number;
}

/** One block of an estimate's plan (curvatureBlocks): what computeCurvatureBlock computes for its index. */
export interface CurvatureBlock {
  /** Its position in the plan (0, 1, ...): the `index` of computeCurvatureBlock and of finishCurvature's `blocks`. */
  index: number;
  /** Its noise level: 0, or 1 for the second level of 'two-level'. */
  level: number;
  /** Global index of its first batch. */
  firstBatch: number;
  /** Its number of batches (the gradients, or pair differences, its accumulator holds). */
  batches: number;
  /** The injected variance of its draws. */
  noiseVariance: number;
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
  'dim',
  'outputs',
  'batchSize',
  'batches',
  'seed',
  'stream',
  'firstBatch',
  'method',
  'noiseVariance',
  'baseNoiseVariance',
  'noiseLevels',
  'concurrency',
  'sketch',
  'signal',
  'timeout',
  'blockBatches',
] as const;
/** The keys of TargetNoiseOptions. @internal */
export const TARGET_NOISE_OPTION_KEYS = [
  'seed',
  'stream',
  'batch',
  'draw',
  'batchSize',
  'outputs',
  'noiseVariance',
] as const;

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
  const [k0, k1] = checkSeed('seed', o.seed);
  const stream = o.stream === undefined ? 0 : checkStream('stream', o.stream);
  const batch = checkInteger('batch', o.batch, 0, 0xffffffff);
  const draw = o.draw === undefined ? 0 : checkInteger('draw', o.draw, 0, 1);
  const n = checkPositiveInteger('batchSize', o.batchSize);
  const outputs = o.outputs === undefined ? 1 : checkPositiveInteger('outputs', o.outputs);
  if (o.noiseVariance === undefined)
    throw new TypeError('invalid argument: `noiseVariance` must be a number. Value: `undefined`.');
  const tau2 = checkNonNegative('noiseVariance', o.noiseVariance);
  const count = n * outputs;
  if (count > 2 ** 32)
    throw new RangeError(
      `invalid argument: \`batchSize\` x \`outputs\` must not exceed 2^32. Value: \`${count}\`.`,
    );
  const out = new Float64Array(count);
  fillNoise(out, k0, k1, stream, batch, draw, Math.sqrt(tau2));
  return out;
}

/** Philox normals of (batch, draw) times std into out (validated arguments). */
function fillNoise(
  out: Float64Array,
  k0: number,
  k1: number,
  stream: number,
  batch: number,
  draw: number,
  std: number,
): void {
  if (std === 0) {
    out.fill(0);
    return;
  }
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
  dim: number;
  n: number;
  outputs: number;
  m: number;
  first: number;
  k0: number;
  k1: number;
  stream: number;
  method: EstimatorMethod;
  tau2: number;
  levels: number[];
  s2: number;
  concurrency: number;
  sketch?: SketchSpec;
  signal?: AbortSignal;
  timeout: number;
  /** The blocks (one per level without blockBatches), and what the merge and the finish read. */
  blocks: PlanBlock[];
  finish: DenseFinish & MergePlan;
}

/**
 * Validates estimateCurvature's options (every function of the oracle path validates them
 * alike; `fn` names the caller in the unknown-key error) and cuts the estimate into its blocks.
 */
function plan(options: CurvatureOptions, fn = 'estimateCurvature'): Plan {
  const o = checkOptions('options', options, CURVATURE_OPTION_KEYS, `\`options\` of ${fn}`);
  // the dense estimate is one wasm heap block (8 dim^2 bytes); a sketch's size is checked by the sketch
  const dim = checkPositiveInteger('dim', o.dim);
  if (o.sketch === undefined) {
    checkDenseDim(
      'dim',
      dim,
      MAX_COVARIANCE_DIM,
      'the dense estimate (its gradient covariance, 8 dim^2 bytes)',
      USE_THE_SKETCH,
      byteCount(paddedDim(dim) ** 2, 8),
    );
  }
  const outputs = o.outputs === undefined ? 1 : checkPositiveInteger('outputs', o.outputs);
  const n = checkPositiveInteger('batchSize', o.batchSize);
  if (n * outputs > 2 ** 32)
    throw new RangeError(
      `invalid argument: \`batchSize\` x \`outputs\` must not exceed 2^32. Value: \`${n * outputs}\`.`,
    );
  const m = checkPositiveInteger('batches', o.batches, 0x7fffffff);
  const [k0, k1] = checkSeed('seed', o.seed);
  const stream = o.stream === undefined ? 0 : checkStream('stream', o.stream);
  const first = o.firstBatch === undefined ? 0 : checkInteger('firstBatch', o.firstBatch, 0, 0xffffffff);
  if (first + m > 2 ** 32)
    throw new RangeError(
      `invalid argument: \`firstBatch\` + \`batches\` must not exceed 2^32. Value: \`${first + m}\`.`,
    );
  const method = o.method === undefined ? 'calibrated' : checkOneOf('method', o.method, ESTIMATOR_METHODS);
  const { tau2, levels, s2 } = methodNoise(method, n, o);
  if (m < 2)
    throw new RangeError(
      `invalid argument: \`batches\` must be at least 2 to form a covariance. Value: \`${m}\`.`,
    );
  if (method === 'two-level' && m < 4) {
    throw new RangeError(
      `invalid argument: \`batches\` must be at least 4 for method 'two-level' (two covariances of at least 2). Value: \`${m}\`.`,
    );
  }
  const concurrency =
    o.concurrency === undefined ? 4 : checkPositiveInteger('concurrency', o.concurrency, 1024);
  const sketch = checkSketch(o.sketch, method);
  const signal = checkSignal(o.signal);
  const timeout = o.timeout === undefined ? Infinity : checkTimeout(o.timeout);
  const size =
    o.blockBatches === undefined
      ? Infinity
      : checkPositiveInteger('blockBatches', o.blockBatches, 0x7fffffff);
  if (sketch) probeSketch(dim, sketch); // the sketch's own checks (size, memory), before any work
  const blocks = cutLevels(method, first, m, tau2, levels, size, sketch);
  const finish = {
    method,
    levels,
    s2,
    blocks,
    p: { n, m, dim, tau2 },
    ...(sketch ? { sketch } : {}),
  };
  return {
    dim,
    n,
    outputs,
    m,
    first,
    k0,
    k1,
    stream,
    method,
    tau2,
    levels,
    s2,
    concurrency,
    timeout,
    blocks,
    finish,
    ...(sketch ? { sketch } : {}),
    ...(signal ? { signal } : {}),
  };
}

/** The `signal` option: an AbortSignal (anything with a boolean `aborted` and addEventListener). */
function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  const v = value as { aborted?: unknown; addEventListener?: unknown; removeEventListener?: unknown } | null;
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.aborted !== 'boolean' ||
    typeof v.addEventListener !== 'function' ||
    typeof v.removeEventListener !== 'function'
  ) {
    throw new TypeError(`invalid argument: \`signal\` must be an AbortSignal. Value: \`${show(value)}\`.`);
  }
  return value as AbortSignal;
}

/** The `timeout` option: milliseconds, > 0 and at most 2^31 - 1 (what setTimeout can wait), or Infinity. */
function checkTimeout(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(
      `invalid argument: \`timeout\` must be a number of milliseconds. Value: \`${show(value)}\`.`,
    );
  }
  if (value === Infinity) return value;
  if (!(value > 0) || value > 0x7fffffff) {
    throw new RangeError(
      `invalid argument: \`timeout\` must be > 0 and at most 2147483647 ms (or Infinity for no limit). Value: \`${show(value)}\`.`,
    );
  }
  return value;
}

/** The error an aborted estimate rejects with (name 'AbortError', cause the signal's reason). */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  const err = new Error(
    `estimateCurvature: aborted by \`signal\`${reason === undefined ? '' : ` (${describeThrown(reason)})`}.`,
    { cause: reason },
  );
  err.name = 'AbortError';
  return err;
}

/**
 * A readable account of anything the oracle threw or rejected with: an Error's message, a
 * string (at most 200 characters), else what it is. Never throws (a Proxy, a null-prototype
 * object or an Error whose message getter throws are all described).
 */
function describeThrown(err: unknown): string {
  try {
    if (err instanceof Error) {
      const message: unknown = err.message;
      if (typeof message === 'string') return message.length > 200 ? message.slice(0, 200) + '…' : message;
    }
  } catch {
    /* a Proxy whose traps throw, or a throwing message getter: described below */
  }
  if (typeof err === 'string')
    return `it threw the string ${JSON.stringify(err.length > 200 ? err.slice(0, 200) + '…' : err)} (not an Error)`;
  let what: string;
  try {
    what = show(err);
  } catch {
    what = 'an object that cannot be inspected (a revoked Proxy?)';
  }
  return `it threw ${what} (not an Error)`;
}

// the typed arrays' own getters: a subclass or a Proxy cannot lie through them
const TYPED_ARRAY = Object.getPrototypeOf(Uint8Array.prototype) as object;
const intrinsic = (key: PropertyKey) =>
  Object.getOwnPropertyDescriptor(TYPED_ARRAY, key)!.get! as (this: unknown) => unknown;
const taTag = intrinsic(Symbol.toStringTag),
  taLength = intrinsic('length'),
  taBuffer = intrinsic('buffer'),
  taOffset = intrinsic('byteOffset');

/** A received answer's memory: for telling whether two answers share it. */
interface Received {
  buffer: ArrayBufferLike;
  start: number;
  end: number;
  batch: number;
  draw: number;
  at: number;
}

/**
 * The state of one estimateCurvature call across its streams: the first failure (an oracle
 * error, a timeout, the signal's abort), which rejects `failure` at once, and the memory of
 * the asynchronous answers received while other calls were in flight (to detect an oracle
 * that resolves several calls with one buffer).
 */
class Run {
  failed = false;
  /** Timers of calls in flight: cleared when the estimate settles (a late call keeps nothing alive). */
  readonly timers = new Set<ReturnType<typeof setTimeout>>();
  readonly failure: Promise<never>;
  private reject!: (err: unknown) => void;
  private receipts = 0;
  private readonly inFlight = new Map<number, number>(); // call id -> receipts when it began
  private nextId = 0;
  private received: Received[] = [];
  private readonly onAbort?: () => void;

  constructor(private readonly signal: AbortSignal | undefined) {
    this.failure = new Promise<never>((_, reject) => {
      this.reject = reject;
    });
    this.failure.catch(() => undefined); // handled by whoever races it; never unhandled
    if (signal) {
      if (signal.aborted) throw abortError(signal);
      this.onAbort = () => this.fail(abortError(signal));
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.reject(err);
  }

  /** Throws the abort error if the signal has aborted (checked before every oracle call). */
  check(): void {
    if (this.signal?.aborted) {
      this.fail(abortError(this.signal));
      throw abortError(this.signal);
    }
  }

  begin(): number {
    const id = this.nextId++;
    this.inFlight.set(id, this.receipts);
    return id;
  }

  end(id: number): void {
    this.inFlight.delete(id);
  }

  /**
   * Records the memory of an asynchronous answer of call `id`; throws if an answer received
   * after that call began (so while both were in flight) uses overlapping memory.
   */
  claim(id: number, buffer: ArrayBufferLike, start: number, end: number, batch: number, draw: number): void {
    const began = this.inFlight.get(id) ?? this.receipts;
    for (const r of this.received) {
      if (r.buffer === buffer && r.at >= began && start < r.end && r.start < end) {
        throw new TypeError(
          `the oracle's gradient for batch ${batch} (draw ${draw}) is the same memory as its gradient for batch ${r.batch} (draw ${r.draw}), and both calls were in flight at once: the first answer may have been overwritten before it was read. A Promise must resolve to an array that is not written again (return a fresh array or buf.slice()), or answer synchronously (a synchronous answer may reuse its buffer: it is copied at once).`,
        );
      }
    }
    this.received.push({ buffer, start, end, batch, draw, at: this.receipts++ });
    // an answer received before every call now in flight began can conflict with none of them
    let oldest = this.receipts;
    for (const s of this.inFlight.values()) if (s < oldest) oldest = s;
    if (this.received.length > 64 || this.received[0]!.at < oldest)
      this.received = this.received.filter((r) => r.at >= oldest);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
  }
}

/**
 * One oracle answer copied into `into` (a private Float64Array of the lane: the oracle may
 * reuse or share its buffer), checked: a real Float64Array or Float32Array (read through the intrinsic
 * getters, so a Proxy or a subclass with lying getters is refused or read truthfully) of
 * length dim with finite values. An asynchronous answer is also checked against the answers
 * received while its call was in flight (Run.claim).
 */
function copyGradient(
  value: unknown,
  dim: number,
  batch: number,
  draw: number,
  run: Run,
  id: number | undefined,
  into: Float64Array,
): Float64Array {
  const where = `the oracle's gradient for batch ${batch} (draw ${draw})`;
  const tag = typeof value === 'object' && value !== null ? taTag.call(value) : undefined;
  if (tag !== 'Float64Array' && tag !== 'Float32Array') {
    let what: string;
    try {
      what =
        value instanceof Float64Array || value instanceof Float32Array
          ? 'an object posing as a typed array (a Proxy?)'
          : `\`${show(value)}\``;
    } catch {
      what = 'an object that cannot be inspected (a revoked Proxy?)';
    }
    throw new TypeError(`${where} must be a Float64Array or Float32Array. Value: ${what}.`);
  }
  const length = taLength.call(value) as number;
  if (length !== dim)
    throw new RangeError(`${where} must have length dim (${dim}). Value: length ${length}.`);
  const buffer = taBuffer.call(value) as ArrayBufferLike;
  const offset = taOffset.call(value) as number;
  const Kind = tag === 'Float64Array' ? Float64Array : Float32Array;
  if (id !== undefined) run.claim(id, buffer, offset, offset + length * Kind.BYTES_PER_ELEMENT, batch, draw);
  const g = into;
  g.set(new Kind(buffer as ArrayBuffer, offset, length)); // one copy, read once
  for (let i = 0; i < dim; i++) {
    const v = g[i]!;
    if (v - v !== 0)
      throw new RangeError(`${where} must contain only finite numbers. Value: \`${v}\` at index ${i}.`);
  }
  return g;
}

/** The index of the first non-finite value of `a`, or -1. */
function firstNonFinite(a: Float64Array): number {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

/** The error for finite gradients whose combination overflowed float64. */
function combinedOverflow(batch: number): RangeError {
  return new RangeError(
    `estimateCurvature: the oracle's gradients for batch ${batch} overflow float64 when combined (entries near 1.8e308): scale the model's loss or targets down.`,
  );
}

/** The promise of an asynchronous answer, rejected if it has not settled within `ms`. */
function settleWithin<T>(answer: Promise<T>, ms: number, batch: number, draw: number, run: Run): Promise<T> {
  if (ms === Infinity) return answer;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `estimateCurvature: the oracle did not answer batch ${batch} (draw ${draw}) within the timeout of ${ms} ms.`,
          ),
        ),
      ms,
    );
  });
  run.timers.add(timer!);
  return Promise.race([answer, late]).finally(() => {
    clearTimeout(timer);
    run.timers.delete(timer!);
  });
}

/** Thrown inside a lane whose call settled after the estimate had already failed: ignored. */
const ABANDONED = Symbol('abandoned');

/**
 * Calls the oracle for batches [first, first + count) at noise std (draws as listed), with
 * at most `concurrency` requests in flight, and hands what `combine` makes of each batch's
 * answers to `flush`, `chunk` batches at a time in batch order (rows[t] is batch batch0 + t).
 * The first failure (an oracle error, a bad answer, a timeout, an abort) rejects at once,
 * even while other calls hang; calls that settle later are ignored.
 */
async function stream(
  oracle: GradientOracle,
  p: Plan,
  run: Run,
  first: number,
  count: number,
  tau2: number,
  draws: (0 | 1)[],
  combine: (gs: Float64Array[], out: Float64Array) => void,
  chunk: number,
  flush: (rows: Float64Array, c: number, batch0: number) => void,
): Promise<void> {
  const std = Math.sqrt(tau2);
  // one buffer of `chunk` rows, reused chunk after chunk (row t of a chunk is batch batch0 + t),
  // and one copy per draw in each lane: nothing of size dim is allocated per batch
  const rows = new Float64Array(Math.min(chunk, count) * p.dim);
  const scratch: Float64Array[][] = [];
  for (let c0 = 0; c0 < count; c0 += chunk) {
    const c = Math.min(chunk, count - c0);
    let next = 0;
    const ask = async (t: number, draw: 0 | 1, into: Float64Array): Promise<Float64Array> => {
      run.check();
      const batch = first + c0 + t;
      const noise = new Float64Array(p.n * p.outputs);
      fillNoise(noise, p.k0, p.k1, p.stream, batch, draw, std);
      const failed = (err: unknown) =>
        new Error(
          `estimateCurvature: the oracle failed on batch ${batch} (draw ${draw}): ${describeThrown(err)}`,
          { cause: err },
        );
      let g: unknown;
      try {
        g = oracle({ batch, draw, noise, noiseVariance: tau2 });
      } catch (err) {
        throw failed(err);
      }
      // `then` is read once (a getter may answer differently each time, or throw)
      let then: unknown;
      try {
        then =
          (typeof g === 'object' && g !== null) || typeof g === 'function'
            ? (g as { then?: unknown }).then
            : undefined;
      } catch (err) {
        throw failed(err);
      }
      // a synchronous answer is copied before anything else runs (the oracle may reuse
      // its buffer); a promised one when it settles, checked against reuse
      if (typeof then !== 'function') return copyGradient(g, p.dim, batch, draw, run, undefined, into);
      const id = run.begin();
      try {
        const answer = new Promise((resolve, reject) => {
          (then as (a: unknown, b: unknown) => void).call(g, resolve, reject);
        });
        try {
          g = await settleWithin(
            answer.then(undefined, (err: unknown) => {
              throw failed(err);
            }),
            p.timeout,
            batch,
            draw,
            run,
          );
        } catch (err) {
          throw run.failed ? ABANDONED : err;
        }
        if (run.failed) throw ABANDONED;
        return copyGradient(g, p.dim, batch, draw, run, id, into);
      } finally {
        run.end(id);
      }
    };
    const lane = async (mine: Float64Array[]): Promise<void> => {
      try {
        while (next < c && !run.failed) {
          const t = next++;
          for (let i = 0; i < draws.length; i++) await ask(t, draws[i]!, mine[i]!);
          combine(mine, rows.subarray(t * p.dim, (t + 1) * p.dim));
        }
      } catch (err) {
        if (err !== ABANDONED) run.fail(err); // the first failure wins; the other lanes take no new batches
      }
    };
    const lanes: Promise<void>[] = [];
    for (let i = 0; i < Math.min(p.concurrency, c); i++) {
      scratch[i] ??= draws.map(() => new Float64Array(p.dim));
      lanes.push(lane(scratch[i]!));
    }
    await Promise.race([Promise.all(lanes), run.failure]);
    if (run.failed) await run.failure; // throws the first failure
    flush(rows, c, first + c0);
  }
}

/**
 * stream() into a covariance accumulator in chunks of the built-in estimator's size (so the
 * built-in oracle gives the same bits as estimateHessian).
 */
async function streamDense(
  acc: GradientCovariance,
  oracle: GradientOracle,
  p: Plan,
  run: Run,
  first: number,
  count: number,
  tau2: number,
  draws: (0 | 1)[],
  combine: (gs: Float64Array[], out: Float64Array) => void,
): Promise<void> {
  const chunk = Math.min(chunkRows(p.dim), count);
  const buf = alloc(chunk * p.dim * 8, 'the gradient staging buffer');
  try {
    await stream(oracle, p, run, first, count, tau2, draws, combine, chunk, (rows, c, batch0) => {
      f64(buf, c * p.dim).set(rows.subarray(0, c * p.dim)); // a fresh view: the oracle may have grown wasm memory
      // finite gradients whose difference overflowed
      if (!acc.addFromWasm(buf, c)) throw combinedOverflow(batch0 + Math.floor(firstNonFinite(rows) / p.dim));
    });
  } finally {
    free(buf);
  }
}

/** g(xi1) - g(xi2) of a batch's two draws, into out. */
function difference(gs: FloatArray[], out: Float64Array): void {
  const a = gs[0]!,
    b = gs[1]!;
  for (let i = 0; i < out.length; i++) out[i] = a[i]! - b[i]!;
}

/** A single draw's gradient, into out. */
function copy(gs: FloatArray[], out: Float64Array): void {
  out.set(gs[0]!);
}

/**
 * One block of the plan streamed into a fresh accumulator: its batches' gradients (or pair
 * differences) into a covariance, in the chunks of the built-in estimator (streamDense), or
 * into a sketch in the chunks every runner uses (sketchChunkRows). The one computation of a
 * block, for estimateCurvature and computeCurvatureBlock; the accumulator is the caller's
 * (freed here if the block fails).
 */
async function streamBlock(
  oracle: GradientOracle,
  p: Plan,
  run: Run,
  b: PlanBlock,
): Promise<BlockAccumulator> {
  const pairs = b.draw === 'pairs';
  const draws: (0 | 1)[] = pairs ? [0, 1] : [0];
  const combine = pairs ? difference : copy;
  if (b.sketch) {
    const sketch = newSketch(p.dim, b.sketch);
    try {
      await stream(
        oracle,
        p,
        run,
        b.first,
        b.count,
        b.tau2,
        draws,
        combine,
        sketchChunkRows(p.dim),
        (rows, c, batch0) => {
          const block = rows.subarray(0, c * p.dim);
          try {
            addPairDifferences(sketch, block, p.n, b.tau2); // checks every value before any state changes
          } catch (err) {
            // finite gradients whose difference overflowed: name the batch (scanned only on failure, as the dense path does)
            const bad = firstNonFinite(block);
            if (bad >= 0) throw combinedOverflow(batch0 + Math.floor(bad / p.dim));
            throw err;
          }
        },
      );
      return sketch;
    } catch (err) {
      sketch.dispose();
      throw err;
    }
  }
  const acc = new GradientCovariance(p.dim);
  try {
    await streamDense(acc, oracle, p, run, b.first, b.count, b.tau2, draws, combine);
    return acc;
  } catch (err) {
    acc.dispose();
    throw err;
  }
}

/** The oracle argument: a function. */
function checkOracle(oracle: unknown): void {
  if (typeof oracle !== 'function') {
    throw new TypeError(
      `invalid argument: \`oracle\` must be a function (request) => gradient. Value: \`${show(oracle)}\`.`,
    );
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
 * Atomic: if the oracle throws (anything), rejects, returns a wrong type (a Proxy too), length
 * or a non-finite value, resolves calls in flight at once with one buffer, or a call outlives
 * `timeout`, the promise rejects at once with an error naming the batch and draw (calls still
 * pending are abandoned), every accumulator is freed, and no estimate is returned; an abort of
 * `signal` rejects the same way with an AbortError.
 *
 * @param oracle - `(request) => gradient` (Float64Array or Float32Array of length dim, or a Promise of one)
 * @param options - dim, outputs, batchSize, batches, seed, method, noiseVariance, concurrency, signal, timeout
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
export async function estimateCurvature(
  oracle: GradientOracle,
  options: CurvatureOptions & { sketch: SketchEstimateOptions },
): Promise<SketchedCurvature>;
export async function estimateCurvature(
  oracle: GradientOracle,
  options: CurvatureOptions,
): Promise<CurvatureEstimate>;
export async function estimateCurvature(
  oracle: GradientOracle,
  options: CurvatureOptions,
): Promise<CurvatureEstimate | SketchedCurvature> {
  checkOracle(oracle);
  const p = plan(options);
  const run = new Run(p.signal); // an already aborted signal rejects here, before any call or allocation
  try {
    return await estimate(oracle, p, run);
  } finally {
    run.close();
  }
}

/**
 * estimateCurvature on a validated plan: each block streamed in plan order and merged at once
 * (LevelMerge, the block plan's one merge), then the method's finish; every accumulator is
 * freed whether it resolves or rejects. One block per level (no blockBatches): the levels are
 * the streamed accumulators themselves.
 */
async function estimate(
  oracle: GradientOracle,
  p: Plan,
  run: Run,
): Promise<CurvatureEstimate | SketchedCurvature> {
  const merge = new LevelMerge(p.finish);
  try {
    for (const b of p.blocks) merge.add(await streamBlock(oracle, p, run, b));
    return finishPlan(p.finish, merge.levels(), false);
  } finally {
    merge.dispose();
  }
}

/**
 * The blocks an estimate is cut into: every noise level's batches in blocks of `blockBatches`
 * (one block per level without it), in the order finishCurvature merges them. Validates the
 * options exactly as estimateCurvature does (blockBatches included); nothing is computed and
 * no oracle is needed. Hand each block's `index` to computeCurvatureBlock, wherever it runs.
 *
 * @param options - estimateCurvature's options (with `blockBatches` to cut the levels)
 * @returns the blocks, in plan order: index, level, firstBatch, batches, noiseVariance
 * @throws {TypeError|RangeError} for bad options (estimateCurvature's errors)
 * @example
 * const options = { dim: 193, batchSize: 64, batches: 2000, seed: 1, method: 'paired', blockBatches: 250 };
 * curvatureBlocks(options).length; // 8
 */
export function curvatureBlocks(options: CurvatureOptions): CurvatureBlock[] {
  return plan(options, 'curvatureBlocks').blocks.map((b, index) => ({
    index,
    level: b.level,
    firstBatch: b.first,
    batches: b.count,
    noiseVariance: b.tau2,
  }));
}

/** The `index` argument: an integer in [0, count). */
function checkBlockIndex(index: unknown, count: number): number {
  if (typeof index !== 'number')
    throw new TypeError(
      `invalid argument: \`index\` must be an integer in [0, ${count}) (the blocks of curvatureBlocks(options)). Value: \`${show(index)}\`.`,
    );
  if (!Number.isInteger(index) || index < 0 || index >= count)
    throw new RangeError(
      `invalid argument: \`index\` must be an integer in [0, ${count}) (the blocks of curvatureBlocks(options)). Value: \`${show(index)}\`.`,
    );
  return index;
}

/**
 * Computes one block of an estimate (curvatureBlocks(options)[index]) and returns its
 * accumulator serialized: GradientCovariance.toBytes(), or CurvatureSketch.toBytes() with
 * `sketch`. The block's batches stream exactly as in estimateCurvature (the same chunks, the
 * same checks of every answer; concurrency, timeout and signal honoured), so the bytes depend
 * only on the options, the index and the oracle's answers: compute blocks in any worker, in
 * any order, as often as a retry needs, and finishCurvature merges them into
 * estimateCurvature's result. The oracle must answer a batch the same way everywhere (the
 * same samples and model for a batch index).
 *
 * @param oracle - as estimateCurvature's
 * @param options - estimateCurvature's options (the same for every block and for finishCurvature)
 * @param index - the block, an integer in [0, curvatureBlocks(options).length)
 * @returns a promise of the block's bytes
 * @throws {TypeError|RangeError} (as a rejected promise) for bad options, a bad `index` or a
 *   bad oracle answer; an AbortError when `signal` aborts
 * @example
 * const bytes = await computeCurvatureBlock(oracle, options, job.data.index);
 */
export async function computeCurvatureBlock(
  oracle: GradientOracle,
  options: CurvatureOptions,
  index: number,
): Promise<Uint8Array> {
  checkOracle(oracle);
  const p = plan(options, 'computeCurvatureBlock');
  const b = p.blocks[checkBlockIndex(index, p.blocks.length)]!;
  const run = new Run(p.signal);
  try {
    const acc = await streamBlock(oracle, p, run, b);
    try {
      return acc.toBytes();
    } finally {
      acc.dispose();
    }
  } finally {
    run.close();
  }
}

/**
 * Checks block i's bytes against its block of the plan without allocating wasm memory: a
 * Uint8Array of the plan's kind (a sketch or a covariance), intact (fromBytes' checks but the
 * positive semi-definiteness of a covariance, which its decode checks), of the plan's dim,
 * holding one gradient (or row) per batch of the block, of the plan's sketch size and precision.
 */
function checkBlockBytes(value: unknown, i: number, b: PlanBlock, p: Plan): void {
  const name = `blocks[${i}]`;
  const bytes = typedView(value, ['Uint8Array']);
  if (bytes === undefined)
    throw new TypeError(
      `invalid argument: \`${name}\` must be a Uint8Array (the bytes computeCurvatureBlock returned for block ${i}). Value: \`${show(value)}\`.`,
    );
  const magic =
    bytes.byteLength >= 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) : 0;
  const kinds = ['a GradientCovariance', 'a CurvatureSketch'];
  if ((p.sketch ? COVARIANCE_MAGIC : SKETCH_MAGIC) === magic)
    throw new TypeError(
      `invalid argument: \`${name}\` must be ${kinds[p.sketch ? 1 : 0]}'s bytes (the options ${p.sketch ? 'have' : 'have no'} \`sketch\`). Value: ${kinds[p.sketch ? 0 : 1]}'s bytes.`,
    );
  let info: BlockBytesInfo;
  try {
    info = blockBytesInfo(bytes, p.sketch !== undefined);
  } catch (err) {
    throw new RangeError(`invalid argument: \`${name}\` is not a block's bytes: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const m = blockMismatch(info, { dim: p.dim, count: b.count, ...(p.sketch ? { sketch: p.sketch } : {}) });
  const why = !m
    ? undefined
    : m.field === 'dim'
      ? `dim ${m.want} (the options' dim). Value: dim ${m.got}`
      : m.field === 'rows'
        ? `${m.want} ${p.sketch ? 'rows' : 'gradients'} (block ${i} has ${b.count} batches from batch ${b.first}). Value: ${m.got}`
        : m.field === 'size'
          ? `a sketch of size ${m.want} (\`sketch.size\`). Value: size ${m.got}`
          : `${p.sketch ? 'a sketch' : 'an accumulator'} of precision '${m.want}'. Value: '${m.got}'`;
  if (why) throw new RangeError(`invalid argument: \`${name}\` must hold ${why}.`);
}

/**
 * The estimate from its blocks' bytes (computeCurvatureBlock for every index of
 * curvatureBlocks(options), in that order): the same CurvatureEstimate, or SketchedCurvature
 * with `sketch`, as estimateCurvature(oracle, options) returns, bit for bit, however many
 * workers computed the blocks, in whatever order, with whatever retries. Synchronous; no
 * oracle is called (`concurrency`, `timeout` and `signal` are validated and unused).
 *
 * Every block is checked before any is merged: the count (one per block), each a Uint8Array
 * of the plan's kind (covariance or sketch), intact (length, header, CRC-32, finite values),
 * of the options' dim, holding one gradient (row) per batch of its block, of the sketch's
 * size. Each is then decoded by fromBytes (a covariance's co-moment is also checked positive
 * semi-definite) and merged in plan order; a refusal names the block and frees everything.
 *
 * @param options - the options every block was computed with
 * @param blocks - the blocks' bytes, blocks[i] for block i
 * @returns the estimate (dim x dim), or a SketchedCurvature with `sketch`
 * @throws {TypeError|RangeError} for bad options, a wrong number of blocks, or a block that
 *   is not block i's bytes (naming `blocks[i]`); the method's own errors (as estimateCurvature's)
 * @example
 * const bytes = await Promise.all(curvatureBlocks(options).map((b) => runInWorker(b.index)));
 * const G = finishCurvature(options, bytes);
 */
export function finishCurvature(
  options: CurvatureOptions & { sketch: SketchEstimateOptions },
  blocks: readonly Uint8Array[],
): SketchedCurvature;
export function finishCurvature(options: CurvatureOptions, blocks: readonly Uint8Array[]): CurvatureEstimate;
export function finishCurvature(
  options: CurvatureOptions,
  blocks: readonly Uint8Array[],
): CurvatureEstimate | SketchedCurvature {
  const p = plan(options, 'finishCurvature');
  if (!Array.isArray(blocks))
    throw new TypeError(
      `invalid argument: \`blocks\` must be an array of ${p.blocks.length} Uint8Array (one per block of curvatureBlocks(options)). Value: \`${show(blocks)}\`.`,
    );
  const list = Array.from(blocks as unknown[]); // read once: a getter cannot change an entry after its check
  if (list.length !== p.blocks.length)
    throw new RangeError(
      `invalid argument: \`blocks\` must have ${p.blocks.length} entries (one per block of curvatureBlocks(options)). Value: ${list.length} entries.`,
    );
  p.blocks.forEach((b, i) => checkBlockBytes(list[i], i, b, p));
  const levels = mergeLevels(p.finish, list, (bytes, i) => {
    let acc: BlockAccumulator;
    try {
      acc = p.sketch
        ? CurvatureSketch.fromBytes(bytes as Uint8Array)
        : GradientCovariance.fromBytes(bytes as Uint8Array);
    } catch (err) {
      throw new RangeError(
        `invalid argument: \`blocks[${i}]\` is not a block's bytes: ${(err as Error).message}`,
        { cause: err },
      );
    }
    // (bytes rewritten since their check, e.g. on a SharedArrayBuffer, are refused too)
    const rows = acc instanceof CurvatureSketch ? acc.rows : acc.count;
    if (acc.dim !== p.dim || rows !== p.blocks[i]!.count) {
      acc.dispose();
      throw new RangeError(`invalid argument: \`blocks[${i}]\` changed while it was decoded.`);
    }
    return acc;
  });
  try {
    return finishPlan(p.finish, levels, false);
  } finally {
    for (const l of levels) l.dispose();
  }
}
