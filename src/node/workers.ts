/**
 * `import { createEstimatorPool } from 'gradcov/node-workers'`: estimator pools and the distributed trainer on Node worker threads.
 *
 * @module gradcov/node-workers
 */
// gradcov/node-workers: the worker pool and the distributed trainer on Node worker_threads
// (also Deno and Bun, which implement node:worker_threads). The coordinators are the core's
// (src/parallel/pool.ts, src/parallel/trainer.ts); this file only makes workers and wires them to a Transport.
// Data reaches the workers through one shared WebAssembly memory that all their kernels
// use (one copy for the whole pool; gradcov.shared.wasm, read from disk here).
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import { poolOver, checkPoolOptions, type EstimatorPool } from '../parallel/pool.js';
import type { Transport } from '../parallel/channel.js';
import { startThread, threadTransport } from './thread-transport.js';
import {
  trainerOver,
  TRAIN_OPTION_KEYS,
  type DistributedTrainer,
  type TrainOptions,
} from '../parallel/trainer.js';
import type { RegressionData } from '../data/dataset.js';
import type { WasmBuild } from '../core/wasm.js';
import { checkOptions, show } from '../core/validate.js';
import '../node.js'; // registers the default loader, so init() reads the bundled .wasm

export {
  EstimatorPool,
  type SharedData,
  type PoolEstimateOptions,
  DEFAULT_BLOCK_BATCHES,
} from '../parallel/pool.js';
export { type Transport, type TransferList } from '../parallel/channel.js';
export { DistributedTrainer, type TrainOptions, type TrainResult } from '../parallel/trainer.js';

// dist/node/worker.js in the package; src/node/worker.ts when run from sources under tsx.
const fromSources = import.meta.url.endsWith('.ts');
const script = new URL(fromSources ? './worker.ts' : './worker.js', import.meta.url);

// The shared-memory kernels, by the build init() loaded ('../../dist/' works from
// dist/node/workers.js and from src/node/workers.ts).
const sharedFiles: Record<WasmBuild, URL> = {
  simd: new URL('../../dist/gradcov.shared.wasm', import.meta.url),
  'relaxed-simd': new URL('../../dist/gradcov.shared.relaxed.wasm', import.meta.url),
};
const sharedWasm = (build: WasmBuild) => readFile(sharedFiles[build]);

/** Optional hook to watch every message (tests use it to check what crosses the channel). */
export type MessageTap = (direction: 'to-worker' | 'from-worker', worker: number, message: unknown) => void;

/** Options of createEstimatorPool (gradcov/node-workers). */
export interface NodePoolOptions {
  /** Number of threads (default: os.availableParallelism()). */
  workers?: number;
  /**
   * Share data with the workers (default true here): one copy of X in one WebAssembly
   * memory that all workers' kernels use, instead of a copy in each worker's memory.
   * false gives each worker its own copy.
   */
  sharedMemory?: boolean;
  /** Watches every message (for tests and debugging). */
  tap?: MessageTap;
}

function checkTap(tap: unknown): MessageTap | undefined {
  if (tap !== undefined && typeof tap !== 'function')
    throw new TypeError(`invalid argument: \`tap\` must be a function. Value: \`${show(tap)}\`.`);
  return tap as MessageTap | undefined;
}

/** A Transport over a new worker thread (`index` names it to the tap). @internal */
export function nodeTransport(index: number, tap?: MessageTap): Transport {
  // from sources (tests under tsx), the worker registers tsx before loading worker.ts
  return threadTransport(startThread(script), index, tap);
}

/**
 * Starts a pool of worker threads that share the compiled kernels (init() runs first if
 * needed; each worker gets wasmModule() by postMessage, no recompilation).
 *
 * @param options - `workers` (default: os.availableParallelism()), `sharedMemory`
 *   (default true: the workers share one WebAssembly memory holding X once), `tap`
 * @returns a pool; call `close()` when done
 * @throws {TypeError|RangeError} for a bad or unknown option
 * @example
 * import { createEstimatorPool } from 'gradcov/node-workers';
 * const pool = await createEstimatorPool({ workers: 2 });
 * const data = await pool.share({ X, y, rows, dim });
 * const { hessian } = await pool.estimateHessian(data, w, { batchSize: 64, batches: 20000, seed: 1 });
 * await pool.close();
 */
export async function createEstimatorPool(options?: NodePoolOptions): Promise<EstimatorPool> {
  const { workers, sharedMemory } = checkPoolOptions(options, availableParallelism(), [
    'workers',
    'sharedMemory',
    'tap',
  ]);
  const tap = checkTap(options?.tap);
  return poolOver((i) => nodeTransport(i, tap), workers, { sharedMemory, sharedWasm });
}

/**
 * Starts the data holders of gradient-only training on at most `workers` threads (default:
 * the number of cores; several holders share a thread when there are more shards): each
 * holder gets its shard once at set-up; then every round the coordinator sends w and the
 * holders answer with batch gradients (calibrated target noise) only.
 *
 * @param shards - the holders' data, one { X, y, rows, dim } each
 * @param options - TrainOptions (`rounds`, `batchSize`, `batchesPerRound`, `seed`, ...), `workers`, `tap`
 * @returns a trainer; `await trainer.train()`, then `close()`
 * @throws {TypeError|RangeError} for malformed shards, a bad or unknown option, or sizes a
 *   worker's wasm memory cannot hold (all before any worker starts)
 * @example
 * const trainer = await createDistributedTrainer([shardA, shardB], { rounds: 30, batchSize: 64, batchesPerRound: 8192, seed: 1 });
 * const { w } = await trainer.train();
 * await trainer.close();
 */
export async function createDistributedTrainer(
  shards: RegressionData[],
  options: TrainOptions & { tap?: MessageTap },
): Promise<DistributedTrainer> {
  const o = checkOptions('options', options, [...TRAIN_OPTION_KEYS, 'tap']);
  const { tap, ...rest } = o as unknown as TrainOptions & { tap?: MessageTap };
  const watch = checkTap(tap);
  return trainerOver((t) => nodeTransport(t, watch), shards, rest, availableParallelism());
}
