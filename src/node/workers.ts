// gradcov/node-workers: the worker pool and the distributed trainer on Node worker_threads
// (also Deno and Bun, which implement node:worker_threads). The coordinators are the core's
// (pool.ts, distributed.ts); this file only makes workers and wires them to a Transport.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { poolOver, checkWorkers, type Transport, type EstimatorPool } from '../pool.js';
import { trainerOver, type DistributedTrainer, type TrainOptions } from '../distributed.js';
import type { RegressionData } from '../gradients.js';
import '../node.js'; // registers the default loader, so init() reads the bundled .wasm

export { EstimatorPool, type SharedData, type PoolEstimateOptions, type Transport, DEFAULT_BLOCK_BATCHES } from '../pool.js';
export { DistributedTrainer, type TrainOptions, type TrainResult } from '../distributed.js';

// dist/node/worker.js in the package; src/node/worker.ts when run from sources under tsx.
const fromSources = import.meta.url.endsWith('.ts');
const script = new URL(fromSources ? './worker.ts' : './worker.js', import.meta.url);

/** Optional hook to watch every message (tests use it to check what crosses the channel). */
export type MessageTap = (direction: 'to-worker' | 'from-worker', worker: number, message: unknown) => void;

/** A Transport over a new worker thread (`index` names it to the tap). @internal */
export function nodeTransport(index: number, tap?: MessageTap): Transport {
  // from sources (tests under tsx), the worker registers tsx before loading worker.ts
  const worker = fromSources
    ? new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(script.href)}); });`, { eval: true })
    : new Worker(script);
  return {
    postMessage(message, transfer) {
      tap?.('to-worker', index, message);
      worker.postMessage(message, transfer as never);
    },
    listen(onMessage, onError) {
      worker.on('message', (m) => { tap?.('from-worker', index, m); onMessage(m); });
      worker.on('error', onError);
      worker.on('exit', (code) => { if (code !== 0) onError(new Error(`gradcov worker exited with code ${code}`)); });
    },
    terminate: () => worker.terminate(),
  };
}

/**
 * Starts a pool of worker threads that share the compiled kernels (init() runs first if
 * needed; each worker gets wasmModule() by postMessage, no recompilation).
 *
 * @param options.workers - number of threads (default: os.availableParallelism())
 * @returns a pool; call `close()` when done
 * @throws {TypeError|RangeError} for a bad `workers`
 * @example
 * import { createEstimatorPool } from 'gradcov/node-workers';
 * const pool = await createEstimatorPool({ workers: 2 });
 * const data = await pool.share({ X, y, rows, dim });
 * const { hessian } = await pool.estimateHessian(data, w, { batchSize: 64, batches: 20000, seed: 1 });
 * await pool.close();
 */
export async function createEstimatorPool(options?: { workers?: number; tap?: MessageTap }): Promise<EstimatorPool> {
  const workers = checkWorkers(options, availableParallelism());
  return poolOver(Array.from({ length: workers }, (_, i) => nodeTransport(i, options?.tap)));
}

/**
 * Starts one worker thread per shard (a data holder) for gradient-only training: each
 * holder gets its shard once at set-up; then every round the coordinator sends w and the
 * holders answer with batch gradients (calibrated target noise) only.
 *
 * @param shards - the holders' data, one { X, y, rows, dim } each
 * @returns a trainer; `await trainer.train()`, then `close()`
 * @throws {TypeError|RangeError} for malformed shards or options
 * @example
 * const trainer = await createDistributedTrainer([shardA, shardB], { rounds: 30, batchSize: 64, batchesPerRound: 8192, seed: 1 });
 * const { w } = await trainer.train();
 * await trainer.close();
 */
export async function createDistributedTrainer(shards: RegressionData[], options: TrainOptions & { tap?: MessageTap }): Promise<DistributedTrainer> {
  const { tap, ...rest } = options ?? ({} as TrainOptions);
  let k = 0;
  return trainerOver(() => nodeTransport(k++, tap), shards, rest as TrainOptions);
}
