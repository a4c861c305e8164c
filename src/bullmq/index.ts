/**
 * `import { ... } from 'gradcov/bullmq'`: estimation and gradient-only training on BullMQ and Redis across processes and machines (Node; `bullmq` and `ioredis` as optional peer dependencies).
 *
 * @module gradcov/bullmq
 */
// gradcov/bullmq: estimation and gradient-only training past one machine, on BullMQ and
// Redis. Node-only; `bullmq` and `ioredis` are optional peer dependencies of gradcov,
// needed only by this entry.
import '../node.js'; // registers the default loader, so init() reads the bundled .wasm

export {
  createCoordinator,
  Coordinator,
  type CoordinatorOptions,
  type BullmqEstimateOptions,
  type DataHandle,
} from './coordinator.js';
export {
  startWorker,
  startHolder,
  type WorkerOptions,
  type HolderOptions,
  type StallSettings,
  type GradcovWorker,
  type BlockTimeline,
} from './worker.js';
export { trainOnQueues, type QueueTrainOptions } from './train.js';
export type { Connection } from './common.js';
