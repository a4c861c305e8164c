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
import { init, isInitialized, wasmModule, type WasmModule } from './wasm.js';
import { GradientCovariance } from './covariance.js';
import { estimateBlocks, prepareEstimate, RegressionDataset, type EstimateOptions, type HessianEstimate, type RegressionData } from './gradients.js';
import { checkInteger, checkOptions, checkPositiveInteger, show } from './validate.js';
import { HolderState, type HolderMessage } from './distributed.js';

/** Buffers moved (not copied) by postMessage: only ArrayBuffers are transferred here. */
export type TransferList = ArrayBuffer[];

/** What the coordinator needs of a worker: post, listen, terminate. */
export interface Transport {
  postMessage(message: unknown, transfer?: TransferList): void;
  /** Registers the handlers for messages from the worker and for its failure. */
  listen(onMessage: (message: unknown) => void, onError: (error: Error) => void): void;
  terminate(): unknown;
}

/** Default batches per block: large enough that a block's toBytes and merge cost little. */
export const DEFAULT_BLOCK_BATCHES = 2048;

/** A data set copied once into every worker by `pool.share(data)`. */
export interface SharedData {
  readonly id: number;
  readonly rows: number;
  readonly dim: number;
}

export interface PoolEstimateOptions extends EstimateOptions {
  /** Batches per block (default 2048). Results depend on it, not on the number of workers. */
  blockBatches?: number;
}

type Reply = { type: 'ok'; id: number; value?: unknown } | { type: 'error'; id: number; name: string; message: string };

/** Makes a Transport's request/response pairs awaitable. @internal */
export class Channel {
  #next = 1;
  #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #failed: Error | undefined;
  constructor(readonly transport: Transport) {
    transport.listen((msg) => {
      const r = msg as Reply;
      const p = this.#pending.get(r.id);
      if (!p) return;
      this.#pending.delete(r.id);
      if (r.type === 'ok') p.resolve(r.value);
      else {
        const Kind = r.name === 'TypeError' ? TypeError : r.name === 'RangeError' ? RangeError : Error;
        p.reject(new Kind(r.message));
      }
    }, (err) => {
      this.#failed = err;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    });
  }

  request<T>(message: Record<string, unknown>, transfer?: TransferList): Promise<T> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.transport.postMessage({ ...message, id }, transfer);
    });
  }
}

/** Starts the workers: hands each the compiled module and waits until all have loaded it. @internal */
export async function startChannels(transports: Transport[]): Promise<Channel[]> {
  if (!isInitialized()) await init();
  const module = wasmModule();
  const channels = transports.map((t) => new Channel(t));
  try {
    await Promise.all(channels.map((c) => c.request({ type: 'init', module })));
  } catch (err) {
    for (const t of transports) t.terminate();
    throw err;
  }
  return channels;
}

/** Splits [0, items) into `parts` contiguous ranges of near-equal size. @internal */
export function contiguous(items: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < parts; i++) out.push([Math.floor((i * items) / parts), Math.floor(((i + 1) * items) / parts)]);
  return out;
}

/**
 * A pool of workers that estimate the Hessian together. Make one with
 * `createEstimatorPool` from `gradcov/node-workers` (worker_threads) or
 * `gradcov/web-workers` (Web Workers); `close()` ends the workers.
 */
export class EstimatorPool {
  readonly #channels: Channel[];
  #closed = false;
  #nextData = 1;
  readonly #shared = new Map<number, RegressionData>();

  /** @internal use createEstimatorPool */
  constructor(channels: Channel[]) {
    this.#channels = channels;
  }

  /** Number of workers. */
  get size(): number {
    return this.#channels.length;
  }

  #live(): void {
    if (this.#closed) throw new Error('gradcov: this EstimatorPool has been closed.');
  }

  /**
   * Copies a data set into every worker once, for repeated estimates without copying X
   * each call. The workers keep their copy until `forget(handle)`; changing `data` later
   * does not change theirs.
   * @throws {TypeError|RangeError} for malformed data
   */
  async share(data: RegressionData): Promise<SharedData> {
    this.#live();
    if (data instanceof RegressionDataset) {
      throw new TypeError('invalid argument: `data` must be plain { X, y, rows, dim } (a RegressionDataset lives in this thread\'s wasm memory). Value: `RegressionDataset`.');
    }
    const d = prepareEstimate(data, new Float64Array(data?.dim ?? 0), { batchSize: 1, batches: 2, seed: 0 }).data as RegressionData;
    const id = this.#nextData++;
    await Promise.all(this.#channels.map((c) => c.request({ type: 'share', dataId: id, data: d })));
    this.#shared.set(id, d);
    return { id, rows: d.rows, dim: d.dim };
  }

  /** Frees the workers' copy of a shared data set. */
  async forget(handle: SharedData): Promise<void> {
    this.#live();
    if (!this.#shared.delete(handle?.id)) return;
    await Promise.all(this.#channels.map((c) => c.request({ type: 'forget', dataId: handle.id })));
  }

  /**
   * estimateHessian on all workers: the same arguments and result, plus `blockBatches`.
   * Batch b is computed exactly as in a single-thread run (its rows and noise depend only
   * on seed, stream and b); the result for a seed does not depend on the number of
   * workers (bit-identical), and equals estimateHessian within merge rounding
   * (bit-identical when batches <= blockBatches).
   *
   * @param data - the data, copied to the workers on each call, or a handle from share()
   * @throws {TypeError|RangeError} for malformed arguments, before any worker is asked
   * @example
   * const pool = await createEstimatorPool({ workers: 2 });
   * const { hessian } = await pool.estimateHessian(data, w, { batchSize: 64, batches: 20000, seed: 1 });
   * await pool.close();
   */
  async estimateHessian(data: RegressionData | SharedData, w: Float64Array, options: PoolEstimateOptions): Promise<HessianEstimate> {
    this.#live();
    const opts = checkOptions('options', options);
    const blockBatches = opts.blockBatches === undefined ? DEFAULT_BLOCK_BATCHES : checkPositiveInteger('blockBatches', opts.blockBatches, 0x7fffffff);
    let dataId: number | undefined;
    let full: RegressionData;
    if (typeof data === 'object' && data !== null && 'id' in data && !('X' in data)) {
      dataId = checkInteger('data.id', data.id, 1);
      const d = this.#shared.get(dataId);
      if (!d) throw new RangeError(`invalid argument: \`data\` must be a handle from this pool's share() that was not forgotten. Value: \`id ${show(data.id)}\`.`);
      full = d;
    } else {
      if (data instanceof RegressionDataset) {
        throw new TypeError('invalid argument: `data` must be plain { X, y, rows, dim } or a handle from share() (a RegressionDataset lives in this thread\'s wasm memory). Value: `RegressionDataset`.');
      }
      full = data as RegressionData;
    }
    const { blockBatches: _, ...rest } = opts;
    const job = prepareEstimate(full, w, rest as unknown as EstimateOptions);
    const { m, firstBatch, dim, tau2 } = job.p;
    const blocks: [number, number][] = [];
    for (let b = 0; b < m; b += blockBatches) blocks.push([firstBatch + b, Math.min(blockBatches, m - b)]);
    const ranges = contiguous(blocks.length, this.#channels.length);
    const options1 = { ...rest, noiseVariance: tau2, baseNoiseVariance: undefined };
    const parts = await Promise.all(ranges.map(([a, b], i) => (a === b ? Promise.resolve([] as Uint8Array[])
      : this.#channels[i]!.request<Uint8Array[]>({
        type: 'estimate', blocks: blocks.slice(a, b), w: job.w, options: options1,
        ...(dataId === undefined ? { data: job.data } : { dataId }),
      }))));
    const total = new GradientCovariance(dim);
    try {
      for (const blob of parts.flat()) { // block order
        const acc = GradientCovariance.fromBytes(blob);
        try { total.merge(acc); } finally { acc.dispose(); }
      }
      return { hessian: total.covariance(), mean: total.mean(), batches: m, noiseVariance: tau2 };
    } finally {
      total.dispose();
    }
  }

  /** Ends the workers. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#channels.map((c) => c.transport.terminate()));
  }
}

/** Builds a pool over transports (used by the Node and Web Worker entries). @internal */
export async function poolOver(transports: Transport[]): Promise<EstimatorPool> {
  return new EstimatorPool(await startChannels(transports));
}

/** Validates `{ workers }`: a positive integer, default `defaultWorkers`. @internal */
export function checkWorkers(options: unknown, defaultWorkers: number): number {
  const o = checkOptions('options', options);
  return o.workers === undefined ? defaultWorkers : checkPositiveInteger('workers', o.workers, 256);
}

/**
 * The worker's side: returns the message handler a worker script installs. It answers
 * every request { id, type, ... } with { type: 'ok', id, value } or { type: 'error', id,
 * name, message }; blobs and gradients are transferred, not copied. @internal
 */
export function serveWorker(post: (message: unknown, transfer?: TransferList) => void): (message: unknown) => Promise<void> {
  const shared = new Map<number, RegressionDataset>();
  let holder: HolderState | undefined;
  return async (raw) => {
    const msg = raw as { id: number; type: string } & Record<string, unknown>;
    try {
      let value: unknown;
      let transfer: TransferList = [];
      switch (msg.type) {
        case 'init':
          await init(msg.module as WasmModule);
          break;
        case 'share':
          // resident in this worker's wasm memory: estimates need not copy X again
          shared.set(msg.dataId as number, new RegressionDataset(msg.data as RegressionData));
          break;
        case 'forget':
          shared.get(msg.dataId as number)?.dispose();
          shared.delete(msg.dataId as number);
          break;
        case 'estimate': {
          const data: RegressionData | RegressionDataset | undefined = msg.data as RegressionData | undefined ?? shared.get(msg.dataId as number);
          if (!data) throw new Error(`no shared data with id ${String(msg.dataId)}`);
          const job = prepareEstimate(data, msg.w as Float64Array, msg.options as EstimateOptions);
          const blobs = estimateBlocks(job, msg.blocks as [number, number][]);
          value = blobs;
          transfer = blobs.map((b) => b.buffer as ArrayBuffer);
          break;
        }
        default:
          if (msg.type.startsWith('holder:')) {
            if (msg.type === 'holder:init') holder = new HolderState(msg as unknown as HolderMessage);
            else if (!holder) throw new Error('this worker holds no shard');
            else {
              const out = holder.handle(msg as unknown as HolderMessage);
              value = out;
              if (out instanceof Float64Array) transfer = [out.buffer as ArrayBuffer];
            }
            break;
          }
          throw new Error(`unknown message type ${JSON.stringify(msg.type)}`);
      }
      post({ type: 'ok', id: msg.id, value }, transfer);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      post({ type: 'error', id: msg.id, name: e.name, message: e.message });
    }
  };
}
