/**
 * `import { createEstimatorPool } from 'gradcov/web-workers'`: estimator pools and the distributed trainer on Web Workers (browsers, Deno, Bun).
 *
 * @module gradcov/web-workers
 */
// gradcov/web-workers: the estimator pool and the distributed trainer on module Web Workers
// (browsers, Deno). The coordinators are the core's (src/parallel/pool.ts, src/parallel/trainer.ts); this file
// makes the workers from web-worker.js next to it (`new URL(..., import.meta.url)`, the
// pattern bundlers recognise) and hands each the compiled module by postMessage. On a
// cross-origin-isolated page (and in Deno) the workers' kernels share one WebAssembly
// memory holding X once: the shared build, gradcov.shared.wasm, is fetched next to this
// module when the first such pool starts; if it does not load, each worker gets a copy.
import { poolOver, checkPoolOptions, type EstimatorPool } from './parallel/pool.js';
import type { Transport, TransferList } from './parallel/channel.js';
import {
  trainerOver,
  TRAIN_OPTION_KEYS,
  type DistributedTrainer,
  type TrainOptions,
} from './parallel/trainer.js';
import type { RegressionData } from './data/dataset.js';
import { checkOptions, show } from './core/validate.js';
import type { WasmBuild } from './core/wasm.js';

export {
  EstimatorPool,
  type SharedData,
  type PoolEstimateOptions,
  DEFAULT_BLOCK_BATCHES,
} from './parallel/pool.js';
export { type Transport, type TransferList } from './parallel/channel.js';
export { DistributedTrainer, type TrainOptions, type TrainResult } from './parallel/trainer.js';

interface WebWorker {
  postMessage(message: unknown, transfer?: TransferList): void;
  addEventListener(
    type: 'message' | 'error' | 'messageerror',
    fn: (e: { data?: unknown; message?: string }) => void,
  ): void;
  terminate(): void;
}
type WorkerCtor = new (url: URL | string, options?: { type?: 'module' }) => WebWorker;

/** Where the Web Worker script is (both createEstimatorPool and createDistributedTrainer take it). */
export interface WebWorkerOptions {
  /** Where web-worker.js is (default: next to this module). */
  workerUrl?: URL | string;
}

/** Options of createEstimatorPool (gradcov/web-workers). */
export interface WebPoolOptions extends WebWorkerOptions {
  /** Number of workers (default navigator.hardwareConcurrency, or 2). */
  workers?: number;
  /**
   * Share data with the workers: one copy of X in one WebAssembly memory that all workers'
   * kernels use. Default: true where the page is cross-origin isolated (COOP/COEP headers;
   * also Deno), else false (each worker gets its own copy). true on a page that is not
   * isolated is a RangeError.
   */
  sharedMemory?: boolean;
}

// The global constructor, typed here so the published types need no lib.dom.
declare const Worker: WorkerCtor;

// Written out literally, like the worker's URL, so bundlers emit the files.
const sharedFiles: Record<WasmBuild, () => URL> = {
  simd: () => new URL('./gradcov.shared.wasm', import.meta.url),
  'relaxed-simd': () => new URL('./gradcov.shared.relaxed.wasm', import.meta.url),
};
const sharedWasm = (build: WasmBuild) => fetch(sharedFiles[build]());

/** Starts one worker: from `url`, or (undefined) from web-worker.js next to this module. */
function webTransport(url: URL | string | undefined): Transport {
  if (typeof Worker !== 'function')
    throw new Error('gradcov/web-workers: this runtime has no Web Worker constructor');
  // Written out literally so Vite and webpack 5 find the worker and build it as its own
  // chunk (with pool.js inside it); a URL held in a variable they would copy as a bare
  // asset whose own imports no longer resolve.
  const worker =
    url === undefined
      ? new Worker(new URL('./web-worker.js', import.meta.url), { type: 'module' })
      : new Worker(url, { type: 'module' });
  return {
    postMessage: (message, transfer) => worker.postMessage(message, transfer ?? []),
    listen(onMessage, onError) {
      worker.addEventListener('message', (e) => onMessage(e.data));
      // a script that does not load fires an error event with no message: say which one
      worker.addEventListener('error', (e) =>
        onError(
          new Error(
            e.message !== undefined
              ? `gradcov worker failed: ${e.message}`
              : `gradcov worker failed to start: its script did not load (${String(url ?? 'web-worker.js next to gradcov/web-workers')}); a bundler that does not emit it needs the set-up in docs/runtimes.md, or pass \`workerUrl\``,
          ),
        ),
      );
      worker.addEventListener('messageerror', () =>
        onError(new Error('gradcov worker: a message could not be deserialized')),
      );
    },
    terminate: () => worker.terminate(),
  };
}

/** The caller's worker URL, or undefined for the default (web-worker.js next to this module). */
function checkWorkerUrl(url: unknown): URL | string | undefined {
  if (url === undefined) return undefined;
  if (typeof url !== 'string' && !(url instanceof URL))
    throw new TypeError(
      `invalid argument: \`workerUrl\` must be a URL or a string. Value: \`${show(url)}\`.`,
    );
  return url;
}

const cores = (): number =>
  (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;

/**
 * Starts a pool of module Web Workers sharing the compiled kernels (call `init()` first
 * or let this call it). Same API as gradcov/node-workers.
 * @param options - `workers` (default navigator.hardwareConcurrency or 2), `sharedMemory`
 *   (default: where the page is cross-origin isolated), `workerUrl`
 * @returns a pool; call `close()` when done
 * @throws {TypeError|RangeError} for a bad or unknown option
 * @example
 * import { init } from 'gradcov';
 * import { createEstimatorPool } from 'gradcov/web-workers';
 * await init();
 * const pool = await createEstimatorPool({ workers: 4 });
 * const { hessian } = await pool.estimateHessian(data, w, { batchSize: 64, batches: 20000, seed: 1 });
 * await pool.close();
 */
export async function createEstimatorPool(options?: WebPoolOptions): Promise<EstimatorPool> {
  const { workers, sharedMemory } = checkPoolOptions(options, cores(), [
    'workers',
    'sharedMemory',
    'workerUrl',
  ]);
  const url = checkWorkerUrl(options?.workerUrl);
  return poolOver(() => webTransport(url), workers, { sharedMemory, sharedWasm });
}

/**
 * Gradient-only training on at most `workers` module Web Workers (default
 * navigator.hardwareConcurrency or 2; several holders per worker when there are more
 * shards). See gradcov/node-workers.
 * @param shards - the holders' data, one { X, y, rows, dim } each
 * @param options - TrainOptions, `workers`, `workerUrl`
 * @returns a trainer; `await trainer.train()`, then `close()`
 * @throws {TypeError|RangeError} for malformed shards or a bad or unknown option
 * @example
 * const trainer = await createDistributedTrainer([shardA, shardB], { rounds: 30, batchSize: 64, batchesPerRound: 8192, seed: 1 });
 * const { w } = await trainer.train();
 * await trainer.close();
 */
export async function createDistributedTrainer(
  shards: RegressionData[],
  options: TrainOptions & WebWorkerOptions,
): Promise<DistributedTrainer> {
  const o = checkOptions('options', options, [...TRAIN_OPTION_KEYS, 'workerUrl']);
  const { workerUrl, ...rest } = o as unknown as TrainOptions & WebWorkerOptions;
  const url = checkWorkerUrl(workerUrl);
  return trainerOver(() => webTransport(url), shards, rest, cores());
}
