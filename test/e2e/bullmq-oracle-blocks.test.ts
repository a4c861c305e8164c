// estimateCurvature's blocks through a BullMQ queue, with a real redis-server
// (test/e2e/redis.ts; skipped without it, a failure under CI=true): the coordinator adds one
// job { index } per block of curvatureBlocks(options); bullmq Workers (two, concurrency 2)
// answer each with computeCurvatureBlock's bytes as base64, a processor failing the first
// attempt of some blocks (retried by BullMQ); the coordinator collects the return values by
// index and finishCurvature gives estimateCurvature's bits in process, dense and sketched.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import * as g from '../../src/node.js';
import { redisSuite, startRedis } from './redis.js';
// @ts-expect-error: a plain .mjs helper shared with the worker tests
import { tanhOracle } from '../helpers/tanh-oracle.mjs';
import { fields } from '../helpers/helpers.js';

const test = suite('oracle blocks on BullMQ');
type Oracle = (req: g.GradientRequest) => Float64Array;
let queueNo = 0;

/** Runs every block of `options` through a fresh queue; blocks in `failFirst` fail their first attempt. */
async function onQueue(port: number, options: g.CurvatureOptions, failFirst: Set<number>) {
  const connection = { host: '127.0.0.1', port };
  const name = `oracle-blocks-${process.pid}-${queueNo++}`;
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  const attempts = new Map<number, number>();
  // each worker builds its own oracle, as a separate machine would
  const processor = (oracle: Oracle) => async (job: Job<{ index: number }>) => {
    const { index } = job.data;
    attempts.set(index, (attempts.get(index) ?? 0) + 1);
    if (failFirst.has(index) && job.attemptsMade === 0)
      throw new Error(`block ${index}: a failed first attempt`);
    const bytes = await g.computeCurvatureBlock(oracle, options, index);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  };
  const make = () => tanhOracle({ rows: 500, dim: options.dim, batchSize: options.batchSize }) as Oracle;
  const workers = [0, 1].map(() => new Worker(name, processor(make()), { connection, concurrency: 2 }));
  try {
    await events.waitUntilReady();
    const jobs = await queue.addBulk(
      g.curvatureBlocks(options).map((b) => ({
        name: 'curvature-block',
        data: { index: b.index },
        opts: { attempts: 3, backoff: { type: 'fixed', delay: 20 } },
      })),
    );
    const values = (await Promise.all(jobs.map((j) => j.waitUntilFinished(events, 60_000)))) as string[];
    // collected by the job's index (not by completion order)
    const blocks: Uint8Array[] = [];
    jobs.forEach((j, k) => {
      blocks[j.data.index] = new Uint8Array(Buffer.from(values[k]!, 'base64'));
    });
    return { blocks, attempts };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await events.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

redisSuite(test, [
  [
    'blocks as BullMQ jobs, some retried after a failed first attempt, finish to the in-process bits (dense and sketched)',
    async () => {
      await g.init();
      const redis = await startRedis();
      try {
        const base = { dim: 6, batchSize: 8, batches: 301, seed: 9, stream: 2, blockBatches: 40 };
        for (const options of [
          { ...base, method: 'paired' as const },
          { ...base, method: 'paired' as const, sketch: { size: 4, k: 3 } },
          { ...base, method: 'calibrated' as const },
        ] as g.CurvatureOptions[]) {
          const oracle = tanhOracle({ rows: 500, dim: 6, batchSize: 8 }) as Oracle;
          const want = fields(await g.estimateCurvature(oracle, options));
          const { blocks, attempts } = await onQueue(redis.port, options, new Set([0, 3, 7]));
          assert.is(blocks.length, g.curvatureBlocks(options).length);
          assert.is(attempts.get(3), 2, 'block 3 ran twice (its first attempt failed)');
          assert.is(attempts.get(1), 1);
          assert.equal(
            fields(g.finishCurvature(options, blocks)),
            want,
            `${options.method}${options.sketch ? ' sketched' : ''}`,
          );
        }
      } finally {
        await redis.close();
      }
    },
  ],
]);

test.run();
