/**
 * `gradcov/standalone` (dist/standalone.js): the core as one self-contained file, for a page without a bundler or import map.
 *
 * @module gradcov/standalone
 */
// `gradcov/standalone`: one self-contained ES module for a page with no bundler and no
// import map. The build (src/build/standalone.mjs) bundles this file with esbuild into
// dist/standalone.js, inlining @assemblyscript/loader and, through `gradcov/inline`, the
// .wasm as base64; it also bundles the worker script into dist/standalone-worker.js, which
// the pool below starts. A page imports it by URL:
//   import { init, estimateHessian } from './node_modules/gradcov/dist/standalone.js';
// Not for bundled apps (they resolve the package's own entries, which share the wasm instance
// with gradcov/web-workers); its module state is its own, so use one entry or the other.
import {
  createEstimatorPool as createWebPool,
  createDistributedTrainer as createWebTrainer,
  type WebWorkerOptions,
  type WebPoolOptions,
} from './web-workers.js';
import type { EstimatorPool } from './parallel/pool.js';
import type { DistributedTrainer, TrainOptions } from './parallel/trainer.js';
import type { RegressionData } from './data/dataset.js';

export * from './inline.js';
export {
  EstimatorPool,
  type SharedData,
  type PoolEstimateOptions,
  DEFAULT_BLOCK_BATCHES,
} from './parallel/pool.js';
export { type Transport } from './parallel/channel.js';
export type { WebWorkerOptions, WebPoolOptions } from './web-workers.js';

/**
 * The options with `workerUrl` defaulting to the self-contained worker script next to this
 * file; anything but a plain options object goes through unchanged, for gradcov/web-workers
 * to reject with its own message.
 */
function withWorker<T>(options: T): T {
  if (options === undefined) return { workerUrl: new URL('./standalone-worker.js', import.meta.url) } as T;
  if (
    typeof options !== 'object' ||
    options === null ||
    Array.isArray(options) ||
    (options as WebWorkerOptions).workerUrl !== undefined
  )
    return options;
  return { ...options, workerUrl: new URL('./standalone-worker.js', import.meta.url) };
}

/**
 * Starts a pool of module Web Workers sharing the compiled kernels, as `gradcov/web-workers`
 * does, with workers from the self-contained dist/standalone-worker.js next to this module.
 *
 * @param options - as gradcov/web-workers' (`workers`, `sharedMemory`), with `workerUrl`
 *   defaulting to standalone-worker.js next to this module
 * @returns the pool; `close()` it when done
 * @throws {TypeError|RangeError} for a bad or unknown option; Error where there are no Web Workers
 * @example
 * import { init, Rng } from './node_modules/gradcov/dist/standalone.js';
 * import { createEstimatorPool } from './node_modules/gradcov/dist/standalone.js';
 * await init();
 * const rows = 1000, dim = 4;
 * const X = new Rng(1).normals(new Float64Array(rows * dim));
 * const y = new Float64Array(rows);
 * const pool = await createEstimatorPool({ workers: 2 });
 * const { hessian } = await pool.estimateHessian({ X, y, rows, dim }, new Float64Array(dim), { batchSize: 32, batches: 2000, seed: 1 });
 * await pool.close();
 */
export function createEstimatorPool(options?: WebPoolOptions): Promise<EstimatorPool> {
  return createWebPool(withWorker(options));
}

/**
 * Gradient-only training with one module Web Worker per shard, as `gradcov/web-workers`
 * does, with workers from the self-contained dist/standalone-worker.js next to this module.
 *
 * @param shards - each worker's rows
 * @param options - the trainer's options (see `gradcov/web-workers`) and `workerUrl`
 * @returns the trainer; `close()` it when done
 * @throws {TypeError|RangeError} for malformed shards or a bad or unknown option, before any worker starts
 * @example
 * import { init, createDistributedTrainer } from './node_modules/gradcov/dist/standalone.js';
 * await init();
 * const trainer = await createDistributedTrainer(shards, { rounds: 10, batchSize: 32, batchesPerRound: 2000, seed: 1 });
 * const { w } = await trainer.train();
 * await trainer.close();
 */
export function createDistributedTrainer(
  shards: RegressionData[],
  options: TrainOptions & WebWorkerOptions,
): Promise<DistributedTrainer> {
  return createWebTrainer(shards, withWorker(options));
}
