// gradcov/web-workers: the estimator pool and the distributed trainer on module Web Workers
// (browsers, Deno). The coordinators are the core's (pool.ts, distributed.ts); this file
// makes the workers from web-worker.js next to it (`new URL(..., import.meta.url)`, the
// pattern bundlers recognise) and hands each the compiled module by postMessage.
import { poolOver, checkWorkers, type Transport, type EstimatorPool, type TransferList } from './pool.js';
import { trainerOver, type DistributedTrainer, type TrainOptions } from './distributed.js';
import type { RegressionData } from './gradients.js';

export { EstimatorPool, type SharedData, type PoolEstimateOptions, type Transport, DEFAULT_BLOCK_BATCHES } from './pool.js';
export { DistributedTrainer, type TrainOptions, type TrainResult } from './distributed.js';

interface WebWorker {
  postMessage(message: unknown, transfer?: TransferList): void;
  addEventListener(type: 'message' | 'error' | 'messageerror', fn: (e: { data?: unknown; message?: string }) => void): void;
  terminate(): void;
}
type WorkerCtor = new (url: URL | string, options?: { type?: 'module' }) => WebWorker;

/** Where the pool's workers load their script from. */
export interface WebWorkerOptions {
  /** Where web-worker.js is (default: next to this module). */
  workerUrl?: URL | string;
}

// The global constructor, typed here so the published types need no lib.dom.
declare const Worker: WorkerCtor;

function webTransport(url: URL | string | undefined): Transport {
  if (typeof Worker !== 'function') throw new Error('gradcov/web-workers: this runtime has no Web Worker constructor');
  // Written out literally so Vite and webpack 5 find the worker and build it as its own
  // chunk (with pool.js inside it); a URL held in a variable they would copy as a bare
  // asset whose own imports no longer resolve.
  const worker = url === undefined
    ? new Worker(new URL('./web-worker.js', import.meta.url), { type: 'module' })
    : new Worker(url, { type: 'module' });
  return {
    postMessage: (message, transfer) => worker.postMessage(message, transfer ?? []),
    listen(onMessage, onError) {
      worker.addEventListener('message', (e) => onMessage(e.data));
      // a script that does not load fires an error event with no message: say which one
      worker.addEventListener('error', (e) => onError(new Error(e.message !== undefined ? `gradcov worker failed: ${e.message}`
        : `gradcov worker failed to start: its script did not load (${String(url ?? 'web-worker.js next to gradcov/web-workers')}); a bundler that does not emit it needs the set-up in docs/runtimes.md, or pass \`workerUrl\``)));
      worker.addEventListener('messageerror', () => onError(new Error('gradcov worker: a message could not be deserialized')));
    },
    terminate: () => worker.terminate(),
  };
}

/**
 * Starts a pool of module Web Workers sharing the compiled kernels (call `init()` first
 * or let this call it). Same API as gradcov/node-workers.
 * @param options.workers - default navigator.hardwareConcurrency (or 2)
 * @example
 * import { init } from 'gradcov';
 * import { createEstimatorPool } from 'gradcov/web-workers';
 * await init();
 * const pool = await createEstimatorPool({ workers: 4 });
 * const { hessian } = await pool.estimateHessian(data, w, { batchSize: 64, batches: 20000, seed: 1 });
 * await pool.close();
 */
export async function createEstimatorPool(options?: { workers?: number } & WebWorkerOptions): Promise<EstimatorPool> {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;
  const workers = checkWorkers(options, cores);
  return poolOver(Array.from({ length: workers }, () => webTransport(options?.workerUrl)));
}

/** Gradient-only training with one module Web Worker per shard (see gradcov/node-workers). */
export async function createDistributedTrainer(shards: RegressionData[], options: TrainOptions & WebWorkerOptions): Promise<DistributedTrainer> {
  const { workerUrl, ...rest } = options ?? ({} as TrainOptions);
  return trainerOver(() => webTransport(workerUrl), shards, rest as TrainOptions);
}
