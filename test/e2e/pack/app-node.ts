// A Node user's TypeScript file for gradcov/bullmq, type-checked (strict, with @types/node and
// the optional peers bullmq and ioredis installed) against the types in the packed tarball.
import { init, syntheticRegression, type CurvatureEstimate } from 'gradcov';
import {
  createCoordinator,
  startWorker,
  startHolder,
  trainOnQueues,
  type Coordinator,
  type BullmqEstimateOptions,
  type DataHandle,
  type BlockTimeline,
  type GradcovWorker,
  type StallSettings,
} from 'gradcov/bullmq';

export async function distributed(url: string): Promise<number> {
  await init();
  const coordinator: Coordinator = await createCoordinator({
    connection: url,
    queue: 'hessian',
    attempts: 2,
  });
  const stall: StallSettings = { lockDuration: 60000, stalledInterval: 30000 };
  const worker: GradcovWorker = await startWorker({
    connection: { host: '127.0.0.1', port: 6379 },
    queue: 'hessian',
    concurrency: 2,
    ...stall,
  });
  const { data, wStar } = syntheticRegression({ dim: 3, rows: 100, seed: 1 });
  const holder = await startHolder({ connection: url, queue: 'holder-a', shard: data });
  const handle: DataHandle = await coordinator.register(data);
  const options: BullmqEstimateOptions = {
    batchSize: 8,
    batches: 50,
    seed: 2,
    method: 'two-level',
    noiseLevels: [8, 1],
    blockBatches: 16,
    onBlock: (b, n) => void (b / n),
  };
  const est: CurvatureEstimate = await coordinator.estimateHessian(handle, wStar, options);
  const counts: Record<string, number> = await coordinator.queue.getJobCounts();
  const timeline: BlockTimeline | undefined = undefined;
  const { w } = await trainOnQueues({
    connection: url,
    queues: ['holder-a'],
    rounds: 2,
    batchSize: 8,
    batchesPerRound: 64,
    seed: 1,
    hessianEstimator: 'paired',
  });
  // @ts-expect-error the queue is required
  await createCoordinator({ connection: url });
  // @ts-expect-error 'pared' is not an estimator
  await coordinator.estimateHessian(handle, wStar, { batchSize: 8, batches: 50, seed: 2, method: 'pared' });
  await Promise.all([worker.close(), holder.close(), coordinator.close()]);
  return est.hessian[0]! + est.gradientEvaluations + w[0]! + (counts.waiting ?? 0) + (timeline ? 1 : 0);
}
