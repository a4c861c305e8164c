// `gradcov worker --redis URL --queue NAME` and the `--redis` path of `gradcov estimate`:
// the CLI side of gradcov/bullmq (loaded only when used, so bullmq stays out of other commands).
import type { RegressionData, EstimateOptions, CurvatureEstimate } from 'gradcov';
import type { Progress } from './progress.js';

export interface RedisFlags { redis: string; queue: string }

/** Runs a gradcov/bullmq worker until SIGINT or SIGTERM. */
export async function runWorker(flags: RedisFlags & { concurrency: number; quiet?: boolean }): Promise<void> {
  const { startWorker } = await import('gradcov/bullmq');
  const worker = await startWorker({ connection: flags.redis, queue: flags.queue, concurrency: flags.concurrency });
  await worker.worker.waitUntilReady();
  let done = 0;
  worker.worker.on('completed', () => { done++; });
  if (!flags.quiet) process.stderr.write(`gradcov worker: queue "${flags.queue}" at ${redact(flags.redis)}, concurrency ${flags.concurrency}; Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await worker.close();
  if (!flags.quiet) process.stderr.write(`gradcov worker: stopped after ${done} jobs\n`);
}

/** The estimate's covariance computed by the queue's workers (same blocks and bits as blockwiseCovariance). */
export async function redisCovariance(flags: RedisFlags, data: RegressionData, w: Float64Array, n: number, m: number, tau2: number, seed: number, progress: Progress): Promise<Float64Array> {
  const { createCoordinator } = await import('gradcov/bullmq');
  const { DEFAULT_BLOCK_BATCHES } = await import('gradcov');
  const coordinator = await createCoordinator({ connection: flags.redis, queue: flags.queue, pollInterval: 250 });
  try {
    progress.start('estimate', Math.ceil(m / DEFAULT_BLOCK_BATCHES), 'blocks');
    const r = await coordinator.estimateHessian(data, w, {
      batchSize: n, batches: m, noiseVariance: tau2, seed, onBlock: () => { void progress.tick(); },
    });
    progress.stop();
    return r.hessian;
  } finally {
    await coordinator.close();
  }
}

/** An estimate of any method computed by the queue's workers (the library's block plan: the same bits as estimateHessian with blockBatches DEFAULT_BLOCK_BATCHES). */
export async function redisEstimate(flags: RedisFlags, data: RegressionData, w: Float64Array, options: EstimateOptions, progress: Progress): Promise<CurvatureEstimate> {
  const { createCoordinator } = await import('gradcov/bullmq');
  const { DEFAULT_BLOCK_BATCHES } = await import('gradcov');
  const coordinator = await createCoordinator({ connection: flags.redis, queue: flags.queue, pollInterval: 250 });
  try {
    let started = false;
    const r = await coordinator.estimateHessian(data, w, {
      ...options, blockBatches: DEFAULT_BLOCK_BATCHES,
      onBlock: (_block, blocks) => {
        if (!started) progress.start('estimate', blocks, 'blocks');
        started = true;
        void progress.tick();
      },
    });
    if (started) progress.stop();
    return r;
  } finally {
    await coordinator.close();
  }
}

/** The command line without --redis/--queue (they do not change the result, so the recorded command leaves them out). */
export function withoutRedisFlags(command: string): string {
  return command.replace(/\s--(redis|queue)(=|\s+)\S+/g, '');
}

const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');
