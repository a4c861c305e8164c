// Parallel estimation over workers, independent of how workers are made: the coordinator
// (EstimatorPool) and the worker's message handler (serveWorker) speak through a minimal
// Transport, which src/node/workers.ts implements with worker_threads and
// src/web-workers.ts with Web Workers. No Node API here (the core stays runtime-neutral).
//
// Determinism: the batches [first, first + m) are cut into blocks of `blockBatches`
// (a fixed size, independent of the number of workers); each worker computes a contiguous
// run of blocks, one fresh accumulator per block, and ships each as toBytes(); the
// coordinator merges the blocks in block order. So for a seed the result is bit-identical
// for any number of workers. A job of one block equals estimateHessian bit for bit; with
// several blocks it differs from estimateHessian only by the rounding of the Chan merges.
import { init, isInitialized, checkBlocks, byteCount } from '../core/wasm.js';
import { checkWeights, ESTIMATE_OPTION_KEYS, type EstimateOptions } from '../estimators/oracle.js';
import { RegressionDataset, type RegressionData } from '../data/dataset.js';
import { planEstimate, mergeLevels, finishPlan, decodeBlock } from '../estimators/plan.js';
import type { SketchEstimateOptions, SketchedCurvature } from '../estimators/sketched.js';
import type { CurvatureEstimate } from '../estimators/methods.js';
import {
  checkBoolean,
  checkOptions,
  checkPositiveInteger,
  checkRegressionData,
  show,
  type RegressionShape,
} from '../core/validate.js';
import { type Transport, Channel, makeTransports, startChannels, contiguous } from './channel.js';
import {
  type SharedWasm,
  type SharedWasmLoader,
  prepareSharedWasm,
  canShareMemory,
  type PackedData,
  packData,
} from './shared-memory.js';

/** Default batches per block: large enough that a block's toBytes and merge cost little. */
export const DEFAULT_BLOCK_BATCHES = 2048;

declare const sharedDataBrand: unique symbol;

/**
 * A handle to a data set that `pool.share(data)` copied into the pool's workers. It is an
 * opaque object that only the pool which made it accepts: a handle of another pool, a
 * forgotten handle, or an object built to look like one is rejected.
 */
export interface SharedData {
  /** Rows of the shared data. */
  readonly rows: number;
  /** Columns (features) of the shared data. */
  readonly dim: number;
  /** Only share() makes handles. */
  readonly [sharedDataBrand]: true;
}

/** pool.estimateHessian's options: estimateHessian's, plus the block size. */
export interface PoolEstimateOptions extends EstimateOptions {
  /** Batches per block (default 2048). Results depend on it, not on the number of workers. */
  blockBatches?: number;
}

/** The pool's own options, checked by createEstimatorPool. @internal */
export interface PoolSettings {
  /** Share X and y through a SharedArrayBuffer (true), copy them to each worker (false). */
  sharedMemory: boolean;
  /**
   * Where the entry finds the shared-memory build of the kernels (gradcov.shared.wasm, or
   * its relaxed-SIMD twin), for the build init() loaded. Without it, or where it cannot be
   * loaded, each worker holds its own copy of X in its WebAssembly memory.
   */
  sharedWasm?: SharedWasmLoader;
}

/** The message that gives a worker a data set: its addresses in the shared memory, or the arrays. */
function shareMessage(e: Entry): Record<string, unknown> {
  const { X, y, rows, dim, at } = e.data;
  return at
    ? { type: 'share', dataId: e.id, at, rows, dim }
    : { type: 'share', dataId: e.id, data: { X, y, rows, dim } };
}

/** A handle's record in the pool that made it. */
interface Entry {
  readonly id: number;
  readonly data: PackedData;
}

// Handles are objects of this class, made only here (the token), frozen, and looked up by
// identity in the WeakMap of the pool that made them: a copied or forged object, or a
// handle of another pool, finds nothing. `handleOwner` tells the two apart for the message.
const TOKEN = Symbol('gradcov share() handle');
const handleOwner = new WeakMap<object, EstimatorPool>();
class SharedDataHandle {
  readonly rows: number;
  readonly dim: number;
  constructor(token: symbol, rows: number, dim: number) {
    if (token !== TOKEN)
      throw new TypeError('gradcov: share() handles are made by EstimatorPool.share() only.');
    this.rows = rows;
    this.dim = dim;
    Object.freeze(this);
  }
}

/** The option keys pool.estimateHessian takes: estimateHessian's (every method) and `blockBatches`. */
const POOL_ESTIMATE_KEYS = [
  ...ESTIMATE_OPTION_KEYS,
  'blockBatches',
  'method',
  'noiseLevels',
  'sketch',
] as const;

// Test hook: the live channels of a pool (tests kill a worker through its transport).
const channelsOf = new WeakMap<EstimatorPool, () => Channel[]>();

/** The transports of a pool's current workers, for tests that kill one. @internal */
export function poolTransports(pool: EstimatorPool): Transport[] {
  return (channelsOf.get(pool)?.() ?? []).map((c) => c.transport);
}

/**
 * A pool of workers that estimate the Hessian together. Make one with
 * `createEstimatorPool` from `gradcov/node-workers` (worker_threads) or
 * `gradcov/web-workers` (Web Workers); `close()` ends the workers.
 *
 * Worker failure: when a worker dies (it is killed, runs out of memory, or its
 * WebAssembly traps), the calls running on it reject with an Error that says so, and the
 * next call replaces the worker (a fresh thread, given the compiled module and every
 * shared data set again) before it starts. Only if that replacement fails does the pool
 * become broken: every later call rejects with "the EstimatorPool is broken ... close it".
 */
export class EstimatorPool {
  #channels: Channel[];
  readonly #make: (index: number) => Transport;
  readonly #sharedMemory: boolean;
  readonly #shared: SharedWasm | undefined;
  #closed = false;
  #broken: Error | undefined;
  #repair: Promise<void> | undefined;
  #nextData = 1;
  readonly #handles = new WeakMap<object, Entry>();
  readonly #entries = new Set<Entry>();

  /** @internal use createEstimatorPool */
  constructor(
    channels: Channel[],
    make: (index: number) => Transport,
    settings: PoolSettings,
    shared?: SharedWasm,
  ) {
    this.#channels = channels;
    this.#make = make;
    this.#sharedMemory = settings.sharedMemory;
    this.#shared = shared;
    channelsOf.set(this, () => this.#channels);
  }

  /** Number of workers. */
  get size(): number {
    return this.#channels.length;
  }

  /**
   * True when data reaches the workers through a SharedArrayBuffer (one copy for all
   * workers), false when each worker is sent its own copy (runtimes without shared
   * memory, such as a page that is not cross-origin isolated, or `sharedMemory: false`).
   */
  get sharedMemory(): boolean {
    return this.#sharedMemory;
  }

  /**
   * True when the workers' WebAssembly instances share one memory, so a shared data set is
   * held once for the whole pool and no worker has a copy (Node, Deno, Bun, and
   * cross-origin-isolated pages, with the bundled kernels); false when each worker loads
   * its own copy of X into its own WebAssembly memory.
   */
  get sharedWasmMemory(): boolean {
    return this.#shared !== undefined;
  }

  /**
   * Tells the workers to drop a data set; once every worker has answered (so none reads it
   * any more), frees its place in the shared memory.
   */
  #drop(entry: Entry, channels: Channel[]): Promise<void> {
    const acks = channels.map((c) => c.request({ type: 'forget', dataId: entry.id }));
    const done = Promise.allSettled(acks).then(() => {
      if (entry.data.at) this.#shared!.regions.free(entry.data.at[0]);
    });
    return this.#all(acks, channels).then(
      () => done,
      (err: unknown) =>
        done.then(() => {
          throw err;
        }),
    );
  }

  #live(): void {
    if (this.#closed) throw new Error('gradcov: this EstimatorPool has been closed.');
    if (this.#broken) throw this.#broken;
  }

  /** The workers, after replacing any that died (one repair at a time). */
  async #ready(): Promise<Channel[]> {
    this.#live();
    if (this.#channels.some((c) => c.failed)) {
      this.#repair ??= this.#replaceFailed().finally(() => {
        this.#repair = undefined;
      });
      await this.#repair;
      this.#live();
    }
    return [...this.#channels]; // a snapshot: a later repair replaces entries of #channels
  }

  async #replaceFailed(): Promise<void> {
    for (let i = 0; i < this.#channels.length; i++) {
      const old = this.#channels[i]!;
      if (!old.failed) continue;
      await old.close();
      try {
        const [fresh] = await startChannels([this.#make(i)], this.#shared);
        for (const e of this.#entries) await fresh!.request(shareMessage(e));
        this.#channels[i] = fresh!;
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        this.#broken = new Error(
          `gradcov: the EstimatorPool is broken: worker ${i} stopped (${old.failed!.message}) and could not be replaced (${why}). Close it (await pool.close()) and create a new pool.`,
          { cause: err },
        );
        throw this.#broken;
      }
    }
  }

  /**
   * Runs requests on the workers and waits for all of them. A worker that died gives an
   * error that says what happens next; otherwise the error of the first worker in order
   * (the lowest blocks) is thrown, so the error does not depend on which worker was faster.
   */
  async #all<T>(requests: (Promise<T> | undefined)[], channels: Channel[]): Promise<T[]> {
    const settled = await Promise.allSettled(requests.map((r) => r ?? Promise.resolve(undefined as T)));
    const failed = settled.find((r) => r.status === 'rejected');
    if (!failed) return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
    const dead = channels.findIndex((c) => c.failed);
    if (dead >= 0 && !this.#closed) {
      const cause = channels[dead]!.failed!;
      throw new Error(
        `gradcov: worker ${dead} of this EstimatorPool stopped during the call (${cause.message}); nothing was returned. The next call replaces the worker; shared data sets stay valid.`,
        { cause },
      );
    }
    throw failed.reason;
  }

  /**
   * Copies a data set once for repeated estimates: validated, then copied into a buffer
   * the pool owns (a SharedArrayBuffer that every worker reads, where the runtime allows
   * it; else one copy sent to each worker), then loaded into each worker's WebAssembly
   * memory. The pool keeps no reference to `data`: changing, reusing or transferring its
   * arrays afterwards changes nothing. Estimates with the handle do not check or copy X again.
   *
   * @param data - { X, y, rows, dim } (X rows x dim row-major, finite)
   * @returns an opaque handle that only this pool accepts, until `forget(handle)`
   * @throws {TypeError|RangeError} for malformed data, or data too large for a worker's
   *   WebAssembly memory (checked before anything is allocated or sent)
   * @example
   * const shared = await pool.share({ X, y, rows, dim });
   * const { hessian } = await pool.estimateHessian(shared, w, { batchSize: 64, batches: 20000, seed: 1 });
   * await pool.forget(shared);
   */
  async share(data: RegressionData): Promise<SharedData> {
    this.#live();
    if (data instanceof RegressionDataset) {
      throw new TypeError(
        "invalid argument: `data` must be plain { X, y, rows, dim } (a RegressionDataset lives in this thread's wasm memory). Value: `RegressionDataset`.",
      );
    }
    const d = checkRegressionData(data);
    // each worker loads X and y into its wasm memory: refuse what cannot fit, before copying
    checkBlocks(
      [byteCount(d.rows * d.dim, 8), byteCount(d.rows, 8)],
      `\`data\` (${d.rows} x ${d.dim})`,
      "a copy of X and y in each worker's wasm memory (8 rows dim bytes)",
    );
    const entry: Entry = {
      id: this.#nextData++,
      data: packData(d, this.#sharedMemory, 'data', this.#shared),
    };
    let channels: Channel[];
    try {
      channels = await this.#ready();
    } catch (err) {
      if (entry.data.at) this.#shared!.regions.free(entry.data.at[0]);
      throw err;
    }
    this.#entries.add(entry);
    try {
      await this.#all(
        channels.map((c) => c.request(shareMessage(entry))),
        channels,
      );
    } catch (err) {
      this.#entries.delete(entry);
      this.#drop(entry, channels).catch(() => undefined);
      throw err;
    }
    const handle = new SharedDataHandle(TOKEN, d.rows, d.dim);
    this.#handles.set(handle, entry);
    handleOwner.set(handle, this);
    return handle as unknown as SharedData;
  }

  /** The entry of a handle of this pool, or a clear error for anything else. */
  #entry(handle: unknown, name: string): Entry {
    const entry = typeof handle === 'object' && handle !== null ? this.#handles.get(handle) : undefined;
    if (entry) return entry;
    if (handle instanceof SharedDataHandle && handleOwner.has(handle)) {
      throw new RangeError(
        handleOwner.get(handle) === this
          ? `invalid argument: \`${name}\` is a share() handle that was forgotten (forget()); share the data again. Value: \`SharedData(${handle.rows} x ${handle.dim})\`.`
          : `invalid argument: \`${name}\` is a share() handle of another EstimatorPool; share the data with this pool. Value: \`SharedData(${handle.rows} x ${handle.dim})\`.`,
      );
    }
    const rule =
      name === 'data'
        ? "regression data { X, y, rows, dim } or a handle returned by this pool's share()"
        : "a handle returned by this pool's share()";
    throw new TypeError(`invalid argument: \`${name}\` must be ${rule}. Value: \`${show(handle)}\`.`);
  }

  /**
   * Frees the workers' copy of a shared data set; the handle is rejected afterwards.
   * Forgetting a handle twice does nothing.
   * @param handle - a handle from this pool's share()
   * @throws {TypeError|RangeError} for anything that is not a handle of this pool
   * @example
   * await pool.forget(shared);
   */
  async forget(handle: SharedData): Promise<void> {
    this.#live();
    const entry = this.#handles.get(handle as object);
    if (!entry) {
      if (handleOwner.get(handle as object) === this) return; // forgotten before
      this.#entry(handle, 'handle');
    }
    this.#handles.delete(handle as object);
    this.#entries.delete(entry!);
    const channels = await this.#ready();
    await this.#drop(entry!, channels);
  }

  /**
   * estimateHessian on all workers: the same arguments and result, for every `method`,
   * plus `blockBatches`. Batch b is computed exactly as in a single-thread run (its rows
   * and noise depend only on seed, stream and b); each of the method's levels (two for
   * 'two-level') is cut into blocks of `blockBatches` batches. The result for a seed does
   * not depend on the number of workers (bit-identical), and equals estimateHessian within
   * merge rounding (bit-identical when every level has at most blockBatches batches).
   * Every argument is checked here, before any worker is asked, with the messages
   * estimateHessian gives.
   *
   * @param data - a handle from share(), or the data itself (then copied to the workers for this call)
   * @param w - weights, length dim
   * @param options - estimateHessian's options, plus `blockBatches`
   * @returns the same fields as estimateHessian
   * @throws {TypeError|RangeError} for malformed arguments, before any worker is asked;
   *   Error when a worker dies during the call (the next call replaces it)
   * @example
   * const pool = await createEstimatorPool({ workers: 2 });
   * const { hessian } = await pool.estimateHessian(data, w, { batchSize: 64, batches: 20000, seed: 1 });
   * await pool.close();
   */
  async estimateHessian(
    data: RegressionData | SharedData,
    w: Float64Array,
    options: PoolEstimateOptions & { sketch: SketchEstimateOptions },
  ): Promise<SketchedCurvature>;
  async estimateHessian(
    data: RegressionData | SharedData,
    w: Float64Array,
    options: PoolEstimateOptions,
  ): Promise<CurvatureEstimate>;
  async estimateHessian(
    data: RegressionData | SharedData,
    w: Float64Array,
    options: PoolEstimateOptions,
  ): Promise<CurvatureEstimate | SketchedCurvature> {
    this.#live();
    let entry: Entry | undefined;
    let shape: { rows: number; dim: number };
    if (typeof data === 'object' && data !== null && !('X' in data) && !('y' in data)) {
      entry = this.#entry(data, 'data');
      shape = entry.data;
    } else {
      if (data instanceof RegressionDataset) {
        throw new TypeError(
          "invalid argument: `data` must be plain { X, y, rows, dim } or a handle from share() (a RegressionDataset lives in this thread's wasm memory). Value: `RegressionDataset`.",
        );
      }
      shape = checkRegressionData(data, ' or a handle from share()');
    }
    checkWeights(w, shape.dim); // the order of estimateHessian's checks: data, w, options
    const opts = checkOptions('options', options, POOL_ESTIMATE_KEYS, '`options` of estimateHessian');
    const { blockBatches: bb, ...rest } = opts;
    // estimateHessian's checks, sizes included (the bytes each worker will allocate), before
    // anything is sent; then the method's blocks (src/estimators/plan.ts: the plan every runner shares)
    const plan = planEstimate(
      () => shape,
      w,
      rest as unknown as EstimateOptions,
      bb ?? DEFAULT_BLOCK_BATCHES,
    );
    const { w: weights, p } = plan;
    const wCopy = weights.slice(); // before the first await: changing w after the call cannot reach the workers
    const own = entry === undefined;
    const job: Entry = entry ?? {
      id: this.#nextData++,
      data: packData(shape as RegressionShape, this.#sharedMemory, 'data', this.#shared),
    };
    let channels: Channel[];
    try {
      channels = await this.#ready();
    } catch (err) {
      if (own && job.data.at) this.#shared!.regions.free(job.data.at[0]);
      throw err;
    }
    try {
      if (own)
        await this.#all(
          channels.map((c) => c.request(shareMessage(job))),
          channels,
        );
      const { blocks } = plan;
      const ranges = contiguous(blocks.length, channels.length);
      const parts = await this.#all(
        ranges.map(([a, b], i) =>
          a === b
            ? undefined
            : channels[i]!.request<Uint8Array[]>({
                type: 'estimate',
                dataId: job.id,
                blocks: blocks.slice(a, b),
                w: wCopy,
                p,
              }),
        ),
        channels,
      );
      // block order; our own workers' blocks: no O(dim^3) PSD check
      const levels = mergeLevels(
        plan,
        parts.flatMap((x) => x ?? []),
        (blob) => decodeBlock(plan, blob, true),
      );
      try {
        return finishPlan(plan, levels); // the same result or the same error as estimateHessian
      } finally {
        for (const l of levels) l.dispose();
      }
    } finally {
      if (own) this.#drop(job, channels).catch(() => undefined);
    }
  }

  /**
   * Bytes of WebAssembly memory each worker has reserved for itself (memory grows and never
   * shrinks): its whole memory when each worker has its own (then it holds a copy of each
   * shared data set), or its working space within the shared memory when
   * `sharedWasmMemory` is true (see `sharedWasmMemoryBytes()`).
   * @returns one number per worker
   * @example
   * const perWorker = await pool.wasmMemoryBytes();
   */
  async wasmMemoryBytes(): Promise<number[]> {
    const channels = await this.#ready();
    return this.#all(
      channels.map((c) => c.request<number>({ type: 'memory' })),
      channels,
    );
  }

  /**
   * Bytes of the one WebAssembly memory the workers share: the data sets shared with them
   * (once), every worker's working space and the kernels' constants; 0 when
   * `sharedWasmMemory` is false. This is all the WebAssembly memory of the workers.
   * @returns bytes reserved (the memory grows and never shrinks)
   * @example
   * const total = pool.sharedWasmMemory ? pool.sharedWasmMemoryBytes() : (await pool.wasmMemoryBytes()).reduce((a, b) => a + b, 0);
   */
  sharedWasmMemoryBytes(): number {
    return this.#shared ? this.#shared.memory.buffer.byteLength : 0;
  }

  /**
   * Ends the workers. Safe to call twice; a broken pool can (and should) be closed.
   * @returns when every worker has been terminated
   * @example
   * await pool.close();
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#entries.clear();
    await this.#repair?.catch(() => undefined);
    await Promise.all(this.#channels.map((c) => c.close()));
  }
}

/** Builds a pool of `count` workers made by `make` (used by the Node and Web Worker entries). @internal */
export async function poolOver(
  make: (index: number) => Transport,
  count: number,
  settings: PoolSettings,
): Promise<EstimatorPool> {
  if (!isInitialized()) await init();
  const shared = settings.sharedMemory ? await prepareSharedWasm(settings.sharedWasm) : undefined;
  if (shared) {
    try {
      return new EstimatorPool(
        await startChannels(makeTransports(make, count), shared),
        make,
        settings,
        shared,
      );
    } catch {
      // the runtime could not give its workers the shared memory (or could not start them):
      // start again with a memory per worker; an error there is the one reported
    }
  }
  return new EstimatorPool(await startChannels(makeTransports(make, count)), make, settings);
}

/**
 * Validates createEstimatorPool's options: `workers` (a positive integer, default
 * `defaultWorkers`), `sharedMemory` (a boolean; default: where the runtime can), and no
 * key outside `known`. @internal
 */
export function checkPoolOptions(
  options: unknown,
  defaultWorkers: number,
  known: readonly string[],
): { workers: number; sharedMemory: boolean } {
  const o = checkOptions('options', options, known);
  const workers = o.workers === undefined ? defaultWorkers : checkPositiveInteger('workers', o.workers, 256);
  const can = canShareMemory();
  const sharedMemory = o.sharedMemory === undefined ? can : checkBoolean('sharedMemory', o.sharedMemory);
  if (sharedMemory && !can) {
    throw new RangeError(
      'invalid argument: `sharedMemory` is true but this runtime cannot share memory with workers (SharedArrayBuffer needs a cross-origin-isolated page: COOP and COEP headers). Value: `true`.',
    );
  }
  return { workers, sharedMemory };
}
