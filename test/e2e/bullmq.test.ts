// gradcov/bullmq against a real redis-server (started here on a free loopback port, with a
// temporary directory; skipped with the install command when redis-server is missing,
// failing under CI=true). Workers and holders run in separate processes. Every estimate is
// compared bit for bit with the in-process pool (same blocks), and every fault test also
// checks that each block ran once, except the one whose worker was killed (run again).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Redis } from 'ioredis';
import {
  init,
  syntheticRegression,
  estimateHessian,
  type RegressionData,
  type EstimateOptions,
} from '../../src/node.ts';
import { createEstimatorPool, createDistributedTrainer } from '../../src/node/workers.ts';
import { createCoordinator, startWorker, startHolder } from '../../src/bullmq/index.ts';
import { trainOnQueues } from '../../src/bullmq/index.ts';
import {
  redisSuite,
  startRedis,
  startWorkerProcess,
  startCoordinatorProcess,
  starts,
  type Proc,
  type RedisServer,
} from './redis.ts';

const test = suite('gradcov/bullmq');
await init();

// the problem of every estimate: 9 blocks of 512 batches (the last of 4)
const P = {
  rows: 3000,
  dim: 12,
  problemSeed: 3,
  batchSize: 32,
  batches: 8 * 512 + 4,
  seed: 7,
  blockBatches: 512,
};
const problem = syntheticRegression({ rows: P.rows, dim: P.dim, seed: P.problemSeed }).data;
const w0 = new Float64Array(P.dim);
const opts = { batchSize: P.batchSize, batches: P.batches, seed: P.seed, blockBatches: P.blockBatches };
const BLOCKS = Math.ceil(P.batches / P.blockBatches);
// fast stall detection for the fault tests: a dead worker's lock expires after 2 s
const FAST = { LOCK: 2000, STALL: 1000, MAX_STALLED: 5 };

let reference: { hessian: Float64Array; mean: Float64Array } | undefined;
async function pooled() {
  if (!reference) {
    const pool = await createEstimatorPool({ workers: 1 });
    try {
      reference = await pool.estimateHessian(problem, w0, opts);
    } finally {
      await pool.close();
    }
  }
  return reference;
}
const hex = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
function same(
  a: { hessian: Float64Array; mean: Float64Array },
  b: { hessian: Float64Array; mean: Float64Array },
  what: string,
) {
  assert.ok(hex(a.hessian) === hex(b.hessian), `${what}: hessian bits differ`);
  assert.ok(hex(a.mean) === hex(b.mean), `${what}: mean bits differ`);
}
async function rejects(fn: () => Promise<unknown>, check: (e: Error) => boolean, what = ''): Promise<void> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof Error, `expected a rejection ${what}`);
  assert.ok(check(error as Error), `unexpected error ${what}: ${(error as Error).message}`);
}
let queueNo = 0;
const queueName = () => `q${process.pid}x${queueNo++}`;

async function withRedis(
  fn: (r: RedisServer) => Promise<void>,
  options: { appendonly?: boolean } = {},
): Promise<void> {
  const r = await startRedis(options);
  try {
    await fn(r);
  } finally {
    await r.close();
  }
}
async function stopAll(procs: Proc[]) {
  await Promise.all(procs.map((p) => p.stop()));
}
function eachBlockOnce(procs: Proc[], except: number[] = []) {
  const s = starts(procs);
  for (let b = 0; b < BLOCKS; b++) {
    const n = s.get(b) ?? 0;
    if (except.includes(b)) assert.ok(n >= 1, `block ${b} never ran`);
    else assert.is(n, 1, `block ${b} ran ${n} times`);
  }
}

redisSuite(test, [
  [
    'two worker processes: bit-identical to the in-process pool; data stored once by content hash; results removed after the merge',
    async () =>
      withRedis(async (redis) => {
        const queue = queueName();
        const procs = await Promise.all([
          startWorkerProcess({ REDIS_URL: redis.url, QUEUE: queue }, 'A'),
          startWorkerProcess({ REDIS_URL: redis.url, QUEUE: queue, CONCURRENCY: 2 }, 'B'),
        ]);
        const coordinator = await createCoordinator({ connection: redis.url, queue, pollInterval: 250 });
        try {
          const r = await coordinator.estimateHessian(problem, w0, opts);
          same(r, await pooled(), 'bullmq vs pool');
          eachBlockOnce(procs);
          // one block (batches <= blockBatches): equals single-thread estimateHessian
          const small = { batchSize: 16, batches: 300, seed: 5, method: 'calibrated' as const }; // `method` travels with the job
          same(
            await coordinator.estimateHessian(problem, w0, small),
            estimateHessian(problem, w0, small),
            'one block vs estimateHessian',
          );
          const client = new Redis(redis.url);
          try {
            assert.is((await client.keys('gradcov:data:*')).length, 1, 'one data set stored');
            assert.is((await client.keys('gradcov:*:result:*')).length, 0, 'results removed after the merge');
            const [key] = await client.keys('gradcov:data:*');
            assert.is(
              await client.strlen(key!),
              16 + (P.rows * P.dim + P.rows) * 8,
              'binary data: header + X + y',
            );
          } finally {
            client.disconnect();
          }
        } finally {
          await coordinator.close();
          await stopAll(procs);
        }
      }),
  ],

  [
    'every estimator method through block jobs: bit-identical to estimateHessian in one block per level, to the pool with several',
    async () =>
      withRedis(async (redis) => {
        const queue = queueName();
        const procs = await Promise.all([
          startWorkerProcess({ REDIS_URL: redis.url, QUEUE: queue }, 'A'),
          startWorkerProcess({ REDIS_URL: redis.url, QUEUE: queue }, 'B'),
        ]);
        const coordinator = await createCoordinator({ connection: redis.url, queue, pollInterval: 100 });
        const pool = await createEstimatorPool({ workers: 2 });
        const fields = (r: object) =>
          Object.fromEntries(
            Object.entries(r)
              .map(([k, v]) => [k, v instanceof Float64Array ? hex(v) : v])
              .sort(([a], [b]) => (a < b ? -1 : 1)),
          );
        const sp = syntheticRegression({ dim: 5, rows: 1500, seed: 2, noiseVariance: 1 });
        const w = sp.wStar.map((v, i) => v + (i === 0 ? 0.3 : 0));
        const handle = await coordinator.register(sp.data);
        try {
          const base = { batchSize: 24, seed: 3, baseNoiseVariance: 1 };
          for (const extra of [
            {},
            { method: 'paired', noiseVariance: 8, stream: 2 },
            { method: 'two-level', noiseLevels: [24, 2], firstBatch: 5 },
            { method: 'debiased', replacement: false },
          ] as Record<string, unknown>[]) {
            const name = String(extra.method ?? 'calibrated');
            const one = { ...base, ...extra, batches: 1024 } as never as EstimateOptions;
            const bb = extra.method === 'two-level' ? 512 : 1024; // each level one block
            assert.equal(
              fields(await coordinator.estimateHessian(handle, w, { ...one, blockBatches: bb })),
              fields(estimateHessian(sp.data, w, one)),
              `${name}: one block per level vs estimateHessian`,
            );
            const several = { ...one, batches: 1003, blockBatches: 128 };
            assert.equal(
              fields(await coordinator.estimateHessian(sp.data, w, several)),
              fields(await pool.estimateHessian(sp.data, w, several)),
              `${name}: several blocks vs the pool`,
            );
          }
          // both processes computed blocks
          assert.ok(
            procs.every((p) => p.lines.some((l) => l.startsWith('START block'))),
            'every worker process took blocks',
          );
        } finally {
          await pool.close();
          await coordinator.close();
          await stopAll(procs);
        }
      }),
  ],

  [
    'bad options of every entry (coordinator, estimate, worker, holder, training) are refused with the parameter named, before anything is added',
    async () =>
      withRedis(async (redis) => {
        const queue = queueName();
        await rejects(
          () => createCoordinator({ connection: redis.url, queue: 'a:b' }),
          (e: Error) => e instanceof TypeError && /`queue`/.test(e.message),
        );
        await rejects(
          () => createCoordinator({ connection: redis.url, queue, attempts: 0 }),
          (e: Error) => e instanceof RangeError && /`attempts`/.test(e.message),
        );
        await rejects(
          () => startWorker({ connection: redis.url, queue, concurrency: 1.5 }),
          (e: Error) => /`concurrency`/.test(e.message),
        );
        await rejects(
          () => startWorker({ connection: redis.url, queue, lockDuration: -1 }),
          (e: Error) => /`lockDuration`/.test(e.message),
        );
        await rejects(
          () => startHolder({ connection: redis.url, queue, shard: { ...problem, rows: 7 } }),
          (e: Error) => e instanceof RangeError && /`shard.X`/.test(e.message),
        );
        await rejects(
          () => startHolder({ connection: redis.url, queue, shard: undefined as never }),
          (e: Error) => e instanceof TypeError && /`shard`/.test(e.message),
        );
        await rejects(
          () => createCoordinator({ connection: 42 as never, queue }),
          (e: Error) => e instanceof TypeError && /`connection`/.test(e.message),
        );
        const to = {
          connection: redis.url,
          queues: [queue],
          rounds: 2,
          batchSize: 8,
          batchesPerRound: 10,
          seed: 1,
        };
        for (const [o, re] of [
          [{ queues: [] }, /`queues`/],
          [{ queues: ['a:b'] }, /`queues\[0\]`/],
          [{ rounds: 0 }, /`rounds`/],
          [{ batchSize: -1 }, /`batchSize`/],
          [{ seed: undefined }, /`seed`/],
          [{ learningRate: -1 }, /`learningRate`/],
          [{ runId: 'x y' }, /`runId`/],
        ] as [object, RegExp][]) {
          await rejects(
            () => trainOnQueues({ ...to, ...o }),
            (e: Error) => re.test(e.message),
            String(re),
          );
        }
        const coordinator = await createCoordinator({ connection: redis.url, queue });
        try {
          const cases: [Record<string, unknown>, RegExp][] = [
            [{ ...opts, blockBatches: 0 }, /`blockBatches`/],
            [{ ...opts, batches: 1 }, /`batches`/],
            [{ ...opts, runId: 'a:b' }, /`runId`/],
            [{ ...opts, seed: -1 }, /`seed`/],
            [{ ...opts, batchSize: 0 }, /`batchSize`/],
            // every method's own checks, as estimateHessian's, before any job
            [{ ...opts, method: 'pared' }, /`method`/],
            [{ ...opts, bogus: 1 }, /bogus/],
            [{ ...opts, noiseLevels: [2, 1] }, /`noiseLevels`/],
            [{ ...opts, method: 'two-level', noiseVariance: 2 }, /`noiseVariance`/],
            [{ ...opts, method: 'two-level', batches: 3 }, /`batches`/],
            [{ ...opts, method: 'two-level', noiseLevels: [1, 2] }, /`noiseLevels`/],
            [{ ...opts, method: 'paired', noiseVariance: 0 }, /`noiseVariance`/],
            [{ ...opts, method: 'debiased', baseNoiseVariance: -1 }, /`baseNoiseVariance`/],
          ];
          for (const [o, re] of cases)
            await rejects(
              () => coordinator.estimateHessian(problem, w0, o as never),
              (e: Error) => re.test(e.message),
              String(re),
            );
          await rejects(
            () => coordinator.estimateHessian(problem, new Float64Array(3), opts),
            (e: Error) => /`w`/.test(e.message),
          );
          assert.is(await coordinator.queue.count(), 0, 'no job added');
        } finally {
          await coordinator.close();
        }
      }),
  ],

  [
    'kill -9 of a worker in the middle of a block: another worker takes the block after the stall interval; result bit-identical',
    async () =>
      withRedis(async (redis) => {
        const queue = queueName();
        const a = await startWorkerProcess({ REDIS_URL: redis.url, QUEUE: queue, HANG_AT: 2, ...FAST }, 'A');
        const coordinator = await createCoordinator({ connection: redis.url, queue, pollInterval: 250 });
        const procs = [a];
        try {
          const run = coordinator.estimateHessian(problem, w0, opts);
          await a.waitFor(/^HANG block 2$/);
          await a.kill9();
          procs.push(await startWorkerProcess({ REDIS_URL: redis.url, QUEUE: queue, ...FAST }, 'B'));
          same(await run, await pooled(), 'after kill -9');
          eachBlockOnce(procs, [2]);
          assert.is(starts(procs).get(2), 2, 'block 2: once on A (killed), once on B');
        } finally {
          await coordinator.close();
          await stopAll(procs);
        }
      }),
  ],

  [
    'two workers, one killed mid-run and restarted: result bit-identical, no block lost or counted twice',
    async () =>
      withRedis(async (redis) => {
        const queue = queueName();
        const env = { REDIS_URL: redis.url, QUEUE: queue, DELAY_MS: 100, ...FAST };
        const a = await startWorkerProcess({ ...env, HANG_AFTER: 1 }, 'A');
        const b = await startWorkerProcess(env, 'B');
        const procs = [a, b];
        const coordinator = await createCoordinator({ connection: redis.url, queue, pollInterval: 250 });
        try {
          const run = coordinator.estimateHessian(problem, w0, opts);
          const [, , hung] = await a.waitFor(/^HANG (block) (\d+)$/);
          await a.kill9();
          procs.push(await startWorkerProcess(env, 'A restarted'));
          same(await run, await pooled(), 'after a worker restart');
          eachBlockOnce(procs, [Number(hung)]);
        } finally {
          await coordinator.close();
          await stopAll(procs);
        }
      }),
  ],

  [
    'coordinator killed and restarted: the new one resumes the run (same run id), collects the finished blocks, adds nothing twice',
    async () =>
      withRedis(async (redis) => {
        const queue = queueName();
        const w = await startWorkerProcess({ REDIS_URL: redis.url, QUEUE: queue, DELAY_MS: 150 }, 'W');
        const env = {
          REDIS_URL: redis.url,
          QUEUE: queue,
          ROWS: P.rows,
          DIM: P.dim,
          PROBLEM_SEED: P.problemSeed,
          BATCH_SIZE: P.batchSize,
          BATCHES: P.batches,
          SEED: P.seed,
          BLOCK_BATCHES: P.blockBatches,
        };
        const c1 = startCoordinatorProcess(env, 'coordinator 1');
        const procs = [w, c1];
        try {
          await c1.waitFor(/^BLOCK 2$/, 90_000);
          await c1.kill9();
          const c2 = startCoordinatorProcess(env, 'coordinator 2');
          procs.push(c2);
          const [, h, m] = await c2.waitFor(/^RESULT (\w+) (\w+)$/, 90_000);
          const ref = await pooled();
          assert.ok(h === hex(ref.hessian) && m === hex(ref.mean), 'resumed result bit-identical');
          eachBlockOnce([w]);
          assert.ok(
            c2.lines.filter((l) => l.startsWith('BLOCK')).length === BLOCKS,
            'the new coordinator collected every block',
          );
        } finally {
          await stopAll(procs);
        }
      }),
  ],

  [
    'Redis restarted mid-run (appendonly yes): the run completes, bit-identical',
    async () =>
      withRedis(
        async (redis) => {
          const queue = queueName();
          const w = await startWorkerProcess({ REDIS_URL: redis.url, QUEUE: queue, DELAY_MS: 150 }, 'W');
          const coordinator = await createCoordinator({ connection: redis.url, queue, pollInterval: 250 });
          try {
            const run = coordinator.estimateHessian(problem, w0, opts);
            await w.waitFor(/^START block 3$/);
            await redis.restart();
            same(await run, await pooled(), 'after a Redis restart');
            const s = starts([w]);
            for (let b = 0; b < BLOCKS; b++) assert.ok((s.get(b) ?? 0) >= 1, `block ${b} ran`);
          } finally {
            await coordinator.close();
            await w.stop();
          }
        },
        { appendonly: true },
      ),
  ],

  [
    'a poisoned block fails the run after the configured attempts with an error naming the block',
    async () =>
      withRedis(async (redis) => {
        const queue = queueName();
        const w = await startWorkerProcess({ REDIS_URL: redis.url, QUEUE: queue, POISON_AT: 4 }, 'W');
        const coordinator = await createCoordinator({
          connection: redis.url,
          queue,
          attempts: 2,
          backoff: 50,
          pollInterval: 250,
        });
        try {
          await rejects(
            () => coordinator.estimateHessian(problem, w0, opts),
            (e: Error) =>
              /block 4 \(batches 2048 to 2559\) of run \w+ failed after 2 attempts: poisoned block 4/.test(
                e.message,
              ),
          );
          assert.is(starts([w]).get(4), 2, 'two attempts');
        } finally {
          await coordinator.close();
          await w.stop();
        }
      }),
  ],

  [
    'gradient-only training on two holder processes: bit-identical to the in-process trainer; Redis only ever holds w and gradients',
    async () =>
      withRedis(async (redis) => {
        const shards = [
          { rows: 1500, seed: 11 },
          { rows: 1000, seed: 12 },
        ];
        const dim = 6;
        const qs = [queueName(), queueName()];
        const holders = await Promise.all(
          shards.map((s, k) =>
            startWorkerProcess(
              {
                REDIS_URL: redis.url,
                QUEUE: qs[k]!,
                HOLDER_ROWS: s.rows,
                HOLDER_DIM: dim,
                HOLDER_SEED: s.seed,
              },
              `holder ${k}`,
            ),
          ),
        );
        const local: RegressionData[] = shards.map(
          (s) => syntheticRegression({ rows: s.rows, dim, seed: s.seed }).data,
        );
        const to = { rounds: 4, batchSize: 32, batchesPerRound: 400, seed: 9 };
        try {
          // both ways of estimating H_hat: 'paired' (the default) and 'calibrated'
          for (const hessianEstimator of ['paired', 'calibrated'] as const) {
            const r = await trainOnQueues({
              connection: redis.url,
              queues: qs,
              runId: `train${hessianEstimator}`,
              keep: true,
              hessianEstimator,
              ...to,
            });
            const trainer = await createDistributedTrainer(local, { ...to, hessianEstimator });
            let ref;
            try {
              ref = await trainer.train();
            } finally {
              await trainer.close();
            }
            assert.ok(
              hex(r.w) === hex(ref.w) && hex(r.last) === hex(ref.last) && hex(r.hessian) === hex(ref.hessian),
              `${hessianEstimator}: bit-identical to createDistributedTrainer`,
            );
          }
          // what Redis holds: no byte run and no printed value of any shard
          const client = new Redis(redis.url);
          try {
            const values: Buffer[] = [];
            for (const key of await client.keys('*')) {
              const type = await client.type(key);
              if (type === 'string') values.push((await client.getBuffer(key))!);
              else if (type === 'hash') values.push(...Object.values(await client.hgetallBuffer(key)));
              else if (type === 'list') values.push(...(await client.lrangeBuffer(key, 0, -1)));
              else if (type === 'zset' || type === 'set')
                values.push(
                  ...(type === 'zset'
                    ? await client.zrangeBuffer(key, 0, -1)
                    : await client.smembersBuffer(key)),
                );
              else if (type === 'stream')
                for (const [, fields] of await client.xrangeBuffer(key, '-', '+')) values.push(...fields);
              values.push(Buffer.from(key));
            }
            const all = Buffer.concat(values);
            for (const s of local) {
              for (let i = 0; i < s.rows; i += 97) {
                const row = Buffer.from(s.X.buffer, s.X.byteOffset + i * dim * 8, 16);
                assert.is(all.indexOf(row), -1, 'a row of X in binary');
                assert.is(all.indexOf(Buffer.from(String(s.X[i * dim]))), -1, 'a value of X as text');
                assert.is(all.indexOf(Buffer.from(String(s.y[i]))), -1, 'a value of y as text');
              }
            }
            // the gradient blobs are exactly batches x dim doubles, and the round jobs carry w and settings only
            const grads = await client.keys('gradcov:*:grad:train*');
            assert.is(grads.length, 2 * 2 * to.rounds);
            const jobKeys = (await client.keys('bull:*:train*-r*')).filter((k) =>
              /train[\w.]+-r\d+$/.test(k),
            ); // run ids are <runId>.<nonce>
            assert.is(jobKeys.length, 2 * 2 * to.rounds);
            for (const k of jobKeys) {
              const data = JSON.parse((await client.hget(k, 'data'))!);
              assert.equal(Object.keys(data).sort(), [
                'batchSize',
                'batches',
                'kind',
                'noiseVariance',
                'paired',
                'round',
                'run',
                'seed',
                'stream',
                'w',
              ]);
              assert.is(data.w.length, dim);
            }
          } finally {
            client.disconnect();
          }
        } finally {
          await stopAll(holders);
        }
      }),
  ],
  [
    "a diverging training run on BullMQ stops with the in-process trainer's error (round, cause, options to change), never sends a non-finite w",
    async () =>
      withRedis(async (redis) => {
        const shards = [
          { rows: 600, seed: 21 },
          { rows: 400, seed: 22 },
        ];
        const dim = 4;
        const qs = [queueName(), queueName()];
        const holders = await Promise.all(
          shards.map((s, k) =>
            startWorkerProcess(
              {
                REDIS_URL: redis.url,
                QUEUE: qs[k]!,
                HOLDER_ROWS: s.rows,
                HOLDER_DIM: dim,
                HOLDER_SEED: s.seed,
              },
              `holder ${k}`,
            ),
          ),
        );
        const local: RegressionData[] = shards.map(
          (s) => syntheticRegression({ rows: s.rows, dim, seed: s.seed }).data,
        );
        try {
          for (const [what, extra] of [
            ['noiseVariance 1e308 (the covariance overflows)', { noiseVariance: 1e308 }],
            ['learningRate 1e150 (w overflows)', { learningRate: 1e150 }],
            [
              'learningRate 1e200, calibrated (round 2: the covariance overflows)',
              { learningRate: 1e200, hessianEstimator: 'calibrated' },
            ],
          ] as const) {
            const to = { rounds: 6, batchSize: 16, batchesPerRound: 64, seed: 5, ...extra };
            const trainer = await createDistributedTrainer(local, to);
            let expected: Error | undefined;
            try {
              await trainer.train();
            } catch (e) {
              expected = e as Error;
            } finally {
              await trainer.close();
            }
            assert.ok(expected instanceof RangeError, `${what}: the in-process trainer stops`);
            assert.match(expected!.message, /training stopped at round \d+ of 6/, what);
            const run = `div${queueNo++}`;
            await rejects(
              () => trainOnQueues({ connection: redis.url, queues: qs, runId: run, keep: true, ...to }),
              (e) => e instanceof RangeError && e.message === expected!.message,
              `${what}: the same error as in process (${expected!.message})`,
            );
            // no round job after the failing one carried a w with null (a NaN through JSON)
            const client = new Redis(redis.url);
            try {
              for (const k of (await client.keys(`bull:*:${run}-r*`)).filter((k) => /-r\d+$/.test(k))) {
                const data = JSON.parse((await client.hget(k, 'data'))!);
                assert.ok(
                  data.w.every((v: unknown) => typeof v === 'number' && Number.isFinite(v)),
                  `${what}: job ${k} carries a finite w`,
                );
              }
            } finally {
              client.disconnect();
            }
          }
        } finally {
          await stopAll(holders);
        }
      }),
  ],
]);

test.run();
