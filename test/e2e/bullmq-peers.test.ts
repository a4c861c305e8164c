// gradcov/bullmq against state that went stale or was forged (issue 20 classes 3 and 4), with
// a real redis-server (test/e2e/redis.ts; skipped without it, a failure under CI=true):
// data changed in place after an estimate is hashed again; a handle means the registered
// bytes; an explicit runId reused for another request never meets the old run's jobs; every
// result blob is checked against the plan before it is merged (forged blobs written into
// Redis directly); every job field is checked by the worker (forged jobs added directly);
// result keys expire.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import {
  init,
  syntheticRegression,
  estimateHessian,
  GradientCovariance,
  CurvatureSketch,
  type RegressionData,
} from '../../src/node.ts';
import { createCoordinator, startWorker, startHolder } from '../../src/bullmq/index.ts';
import { encodeResult, resultKey, dataKey, DEFAULT_RESULT_TTL } from '../../src/bullmq/common.ts';
import { redisSuite, startRedis, type RedisServer } from './redis.ts';

const test = suite('gradcov/bullmq peers');
await init();

const dim = 4;
const fresh = (seed: number): RegressionData => {
  const d = syntheticRegression({ rows: 400, dim, seed }).data;
  return { X: d.X.slice(), y: d.y.slice(), rows: d.rows, dim };
};
const w = new Float64Array(dim);
const opts = { batchSize: 8, batches: 40, seed: 3 };
const hex = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
let queueNo = 0;
const queueName = () => `p${process.pid}x${queueNo++}`;

async function withRedis(fn: (r: RedisServer) => Promise<void>): Promise<void> {
  const r = await startRedis();
  try {
    await fn(r);
  } finally {
    await r.close();
  }
}
/**
 * Starts a one-block estimate (no worker: its job waits), writes `blob(run)` as its block's
 * result, and checks the estimate rejects naming the key and matching `pattern`; then clears
 * the queue and the key.
 */
async function refusesForged(
  coordinator: Awaited<ReturnType<typeof createCoordinator>>,
  client: Redis,
  label: string,
  start: (runId: string) => Promise<unknown>,
  runId: string,
  blob: (run: string) => Buffer,
  pattern: RegExp,
): Promise<void> {
  const p = settled(start(runId));
  let job: { data: { run: string } } | undefined;
  await until(async () => {
    [job] = (await coordinator.queue.getJobs(['waiting'])) as never[];
    return job !== undefined;
  }, `${label}: the job`);
  const run = job!.data.run;
  const key = resultKey(coordinator.queue.name, run, 0);
  await client.set(key, blob(run));
  const got = await p;
  assert.ok(
    got instanceof Error && got.message.includes(key) && pattern.test(got.message),
    `${label}: ${String(got)}`,
  );
  await coordinator.queue.obliterate({ force: true });
  await client.del(key);
}

async function settled(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => 'resolved',
    (e: unknown) => e,
  );
}
const until = async (cond: () => Promise<boolean>, what: string, ms = 30_000) => {
  const t = Date.now();
  while (!(await cond())) {
    if (Date.now() - t > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

redisSuite(test, [
  [
    "stale caches: data changed in place is estimated on its new bytes; a handle means the registered bytes; a reused runId never merges another request's jobs",
    async () =>
      withRedis(async (redis) => {
        const queue = queueName();
        const coordinator = await createCoordinator({ connection: redis.url, queue, pollInterval: 100 });
        const worker = await startWorker({ connection: redis.url, queue });
        try {
          const data = fresh(1);
          const before = { X: data.X.slice(), y: data.y.slice(), rows: data.rows, dim };
          const a = await coordinator.estimateHessian(data, w, opts);
          assert.is(hex(a.hessian), hex(estimateHessian(before, w, opts).hessian), 'first estimate');
          const handle = await coordinator.register(data);
          for (const [i, step] of [7, 5, 3].entries()) {
            for (let j = i; j < data.X.length; j += step) data.X[j] = data.X[j]! + 1; // in place: same object, other bytes
            const b = await coordinator.estimateHessian(data, w, opts);
            assert.is(
              hex(b.hessian),
              hex(estimateHessian(data, w, opts).hessian),
              `changed in place (${i}): the new bytes are estimated`,
            );
            assert.ok(hex(b.hessian) !== hex(a.hessian), `changed in place (${i}): not the old estimate`);
          }
          // the handle was registered before the changes: it still means those bytes
          const viaHandle = await coordinator.estimateHessian(handle, w, opts);
          assert.is(
            hex(viaHandle.hessian),
            hex(estimateHessian(before, w, opts).hessian),
            'a handle estimates the bytes it registered',
          );
          // an interrupted run under an explicit runId: jobs queued (no worker took them), coordinator gone
          await worker.close();
          const other = fresh(2);
          const interrupted = await createCoordinator({ connection: redis.url, queue, pollInterval: 100 });
          void settled(interrupted.estimateHessian(other, w, { ...opts, runId: 'nightly' }));
          await until(
            async () => (await interrupted.queue.getJobCounts('waiting')).waiting > 0,
            "the interrupted run's jobs",
          );
          await interrupted.close();
          // the same runId for another request (other data): computed on its own data, not the old jobs'
          const worker2 = await startWorker({ connection: redis.url, queue });
          try {
            const again = await coordinator.estimateHessian(data, w, { ...opts, runId: 'nightly' });
            assert.is(
              hex(again.hessian),
              hex(estimateHessian(data, w, opts).hessian),
              'a reused runId estimates the request given',
            );
            // and the same request under the same runId resumes the queued run (same result as fresh)
            const resumed = await coordinator.estimateHessian(other, w, { ...opts, runId: 'nightly' });
            assert.is(
              hex(resumed.hessian),
              hex(estimateHessian(other, w, opts).hessian),
              'the same request resumes',
            );
          } finally {
            await worker2.close();
          }
        } finally {
          await coordinator.close();
          await worker.close();
        }
      }),
  ],

  [
    'forged result blobs are refused before merging, naming the key and what differs',
    async () =>
      withRedis(async (redis) => {
        const queue = queueName();
        const client = new Redis(redis.url);
        const data = fresh(3);
        // the bytes of a 3-gradient accumulator, and of one of another dim
        const small = new GradientCovariance(dim);
        small.addBatch(
          new Float64Array(3 * dim).map((_, i) => Math.sin(i)),
          3,
        );
        const three = small.toBytes();
        small.dispose();
        const wide = new GradientCovariance(dim + 1);
        wide.addBatch(
          new Float64Array(40 * (dim + 1)).map((_, i) => Math.cos(i)),
          40,
        );
        const wrongDim = wide.toBytes();
        wide.dispose();
        const single = new GradientCovariance(dim, { precision: 'f32' });
        single.addBatch(
          new Float32Array(40 * dim).map((_, i) => Math.sin(2 * i)),
          40,
        );
        const f32 = single.toBytes();
        single.dispose();
        type H = {
          run: string;
          block: number;
          first: number;
          count: number;
          level: number;
          draw: string;
          dim: number;
        };
        const rows: [string, (h: H) => Buffer, RegExp][] = [
          ['raw accumulator bytes, no header', () => Buffer.from(three), /no gradcov result header/],
          [
            '3 gradients for a 40-batch block',
            (h) => encodeResult(h, three),
            /it holds 3 gradients, the block has 40 batches/,
          ],
          [
            "another block's header",
            (h) => encodeResult({ ...h, block: 5 }, three),
            /its block is 5, the plan's is 0/,
          ],
          [
            "another run's header",
            (h) => encodeResult({ ...h, run: 'someone.else' }, three),
            /its run is "someone.else"/,
          ],
          [
            'another count in the header',
            (h) => encodeResult({ ...h, count: 3 }, three),
            /its count is 3, the plan's is 40/,
          ],
          [
            'another dim',
            (h) => encodeResult({ ...h, dim: dim + 1 }, wrongDim),
            /its dim is 5, the plan's is 4/,
          ],
          [
            'a dim-5 accumulator under a dim-4 header',
            (h) => encodeResult(h, wrongDim),
            /its dim is 5, the plan's 4/,
          ],
          [
            'an f32 accumulator for an f64 plan',
            (h) => encodeResult(h, f32),
            /its precision is 'f32', the plan's 'f64'/,
          ],
          [
            'garbage after a right header',
            (h) => encodeResult(h, new Uint8Array(64).fill(7)),
            /must be a gradcov accumulator/,
          ],
          [
            'a header that is not JSON',
            () => Buffer.concat([Buffer.from([0x47, 0x43, 0x52, 0x31, 3, 0, 0, 0]), Buffer.from('{{{')]),
            /a header that is not JSON/,
          ],
          [
            'a header longer than the blob',
            () => Buffer.from([0x47, 0x43, 0x52, 0x31, 200, 0, 0, 0, 1]),
            /a header of 200 bytes/,
          ],
          ['3 bytes', () => Buffer.from([1, 2, 3]), /3 bytes/],
        ];
        const coordinator = await createCoordinator({ connection: redis.url, queue, pollInterval: 50 });
        try {
          for (const [i, [label, forge, pattern]] of rows.entries()) {
            await refusesForged(
              coordinator,
              client,
              label,
              (runId) => coordinator.estimateHessian(data, w, { ...opts, runId }),
              `forged${i}`,
              (run) => forge({ run, block: 0, first: 0, count: 40, level: 0, draw: 'gradients', dim }),
              pattern,
            );
          }
        } finally {
          await coordinator.close();
          client.disconnect();
        }
      }),
  ],

  [
    'forged sketch blobs (a sketched plan) are refused before merging: another size, precision or row count',
    async () =>
      withRedis(async (redis) => {
        const queue = queueName();
        const client = new Redis(redis.url);
        const data = fresh(4);
        const sketchOf = (size: number, precision: 'f64' | 'f32', rows: number) => {
          const s = new CurvatureSketch(dim, { size, precision });
          s.addRows(new Float64Array(rows * dim).map((_, i) => Math.sin(i)));
          const b = s.toBytes();
          s.dispose();
          return b;
        };
        const rows: [string, Uint8Array, RegExp][] = [
          [
            'an f64 sketch for an f32 plan',
            sketchOf(3, 'f64', 40),
            /its sketch precision is 'f64', the plan's 'f32'/,
          ],
          ['a sketch of size 4 for size 3', sketchOf(4, 'f32', 40), /its sketch size is 4, the plan's 3/],
          ['3 rows for a 40-batch block', sketchOf(3, 'f32', 3), /it holds 3 rows, the block has 40 batches/],
        ];
        const coordinator = await createCoordinator({ connection: redis.url, queue, pollInterval: 50 });
        try {
          for (const [i, [label, bytes, pattern]] of rows.entries()) {
            await refusesForged(
              coordinator,
              client,
              label,
              (runId) =>
                coordinator.estimateHessian(data, w, {
                  ...opts,
                  method: 'paired',
                  sketch: { size: 3, precision: 'f32' },
                  runId,
                }),
              `forgedsketch${i}`,
              (run) =>
                encodeResult({ run, block: 0, first: 0, count: 40, level: 0, draw: 'pairs', dim }, bytes),
              pattern,
            );
          }
        } finally {
          await coordinator.close();
          client.disconnect();
        }
      }),
  ],

  [
    'forged job fields are refused by the worker (not truncated, not retried), forged data bytes are refused, result keys expire',
    async () =>
      withRedis(async (redis) => {
        const queue = queueName();
        const client = new Redis(redis.url);
        const coordinator = await createCoordinator({ connection: redis.url, queue });
        const q = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } });
        const worker = await startWorker({ connection: redis.url, queue });
        try {
          const data = fresh(4);
          const handle = await coordinator.register(data);
          const good = {
            kind: 'block',
            run: 'forge.1',
            block: 0,
            data: handle.hash,
            w: Array.from(w),
            options: { batchSize: 8, batches: 40, seed: 3, noiseVariance: 8 },
            first: 0,
            count: 40,
            level: 0,
            draw: 'gradients',
            tau2: 8,
          };
          const rows: [string, Record<string, unknown>, RegExp][] = [
            [
              'count 2.5',
              { count: 2.5 },
              /bad field `count`: it must be an integer in \[1, 2\^31\)\. Value: `2\.5`/,
            ],
            ['count 0', { count: 0 }, /bad field `count`/],
            ['count as a string', { count: '40' }, /bad field `count`.*Value: `"40"`/],
            ['first -1', { first: -1 }, /bad field `first`/],
            ['first 1.5', { first: 1.5 }, /bad field `first`/],
            ['first + count past 2^32', { first: 2 ** 32 - 1, count: 2 }, /bad field `first \+ count`/],
            ['block 0.5', { block: 0.5 }, /bad field `block`/],
            ['level 2', { level: 2 }, /bad field `level`/],
            ['draw "all"', { draw: 'all' }, /bad field `draw`/],
            ['tau2 -1', { tau2: -1 }, /bad field `tau2`/],
            ['w with null (NaN in JSON)', { w: [0, null, 0, 0] }, /bad field `w`/],
            ['w of another length', { w: [0, 0] }, /bad field `w`: it must have the data's dim \(4\) values/],
            ['data not a hash', { data: '../../etc' }, /bad field `data`/],
            ['run with a colon', { run: 'a:b' }, /bad field `run`/],
            ['seed 1.5', { options: { ...good.options, seed: 1.5 } }, /bad field `options\.seed`/],
            ['batchSize 2.5', { options: { ...good.options, batchSize: 2.5 } }, /`batchSize`/],
            ['sketch size 1.5', { sketch: { size: 1.5, k: 1 } }, /bad field `sketch\.size`/],
            ['ttl 0.5', { ttl: 0.5 }, /bad field `ttl`/],
            ['kind missing', { kind: undefined }, /unexpected job kind/],
          ];
          for (const [i, [label, change, pattern]] of rows.entries()) {
            const job = await q.add(
              'block',
              { ...good, ...change, run: change.run ?? `forge.${i}` },
              { jobId: `forge${i}`, attempts: 3 },
            );
            await until(
              async () => ['failed', 'completed'].includes(await job.getState()),
              `${label}: settled`,
            );
            const state = await job.getState();
            const j = await q.getJob(job.id!);
            assert.is(state, 'failed', `${label}: refused`);
            assert.ok(pattern.test(j!.failedReason), `${label}: ${j!.failedReason}`);
            if (!/batchSize/.test(label))
              assert.is(j!.attemptsMade, 1, `${label}: not retried (${j!.attemptsMade} attempts)`);
          }
          assert.is(
            (await client.keys(`gradcov:${queue}:result:*`)).length,
            0,
            'no forged job wrote a result',
          );
          // a good job: its result key expires (ttl from the job; the default when absent)
          for (const [i, ttl] of [
            [0, 77],
            [1, undefined],
          ] as const) {
            const job = await q.add(
              'block',
              { ...good, run: `ttl.${i}`, ...(ttl ? { ttl } : {}) },
              { jobId: `ttl${i}` },
            );
            await until(async () => (await job.getState()) === 'completed', 'a good job');
            const left = await client.ttl(resultKey(queue, `ttl.${i}`, 0));
            const want = ttl ?? DEFAULT_RESULT_TTL;
            assert.ok(left > 0 && left <= want, `result TTL ${left} s, wanted at most ${want}`);
          }
          // forged data bytes under a registered hash (a fresh worker: nothing cached)
          await worker.close();
          const worker2 = await startWorker({ connection: redis.url, queue });
          try {
            const blob = await client.getBuffer(dataKey(handle.hash));
            blob![100] ^= 1;
            await client.set(dataKey(handle.hash), blob!);
            const job = await q.add(
              'block',
              { ...good, run: 'forged.data' },
              { jobId: 'forgeddata', attempts: 3 },
            );
            await until(async () => (await job.getState()) === 'failed', 'the forged-data job');
            const j = await q.getJob(job.id!);
            assert.ok(
              /does not hold the data of hash/.test(j!.failedReason) && j!.attemptsMade === 1,
              j!.failedReason,
            );
          } finally {
            await worker2.close();
          }
        } finally {
          await q.close();
          await coordinator.close();
          await worker.close();
          client.disconnect();
        }
      }),
  ],

  [
    'a result that expires (resultTtl) before the merge is computed again: the estimate is still bit-identical',
    async () =>
      withRedis(async (redis) => {
        const queue = queueName();
        const starts = new Map<number, number>();
        // block 2 starts 2.5 s late, so blocks 0 and 1 (TTL 1 s) expire before the merge
        const worker = await startWorker({
          connection: redis.url,
          queue,
          beforeJob: async ({ index }) => {
            starts.set(index, (starts.get(index) ?? 0) + 1);
            if (index === 2 && starts.get(2) === 1) await new Promise((r) => setTimeout(r, 2500));
          },
        });
        const coordinator = await createCoordinator({
          connection: redis.url,
          queue,
          pollInterval: 100,
          resultTtl: 1,
        });
        try {
          const data = fresh(5);
          const o = { ...opts, batches: 60, blockBatches: 20 };
          const got = await coordinator.estimateHessian(data, w, o);
          const pool = await (await import('../../src/node/workers.ts')).createEstimatorPool({ workers: 1 });
          try {
            const want = await pool.estimateHessian(data, w, o);
            assert.is(hex(got.hessian), hex(want.hessian), 'bit-identical to the pool');
          } finally {
            await pool.close();
          }
          assert.ok(
            (starts.get(0) ?? 0) >= 2 && (starts.get(1) ?? 0) >= 2,
            `the expired blocks ran again: ${JSON.stringify([...starts])}`,
          );
        } finally {
          await coordinator.close();
          await worker.close();
        }
      }),
  ],

  [
    'a holder refuses forged round jobs (not truncated, not retried) and serves the shard it was started with',
    async () =>
      withRedis(async (redis) => {
        const queue = queueName();
        const shard = fresh(6);
        const holder = await startHolder({ connection: redis.url, queue, shard });
        const q = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } });
        const client = new Redis(redis.url);
        try {
          const good = {
            kind: 'round',
            run: 'r.1',
            round: 0,
            w: Array.from(w),
            batchSize: 8,
            batches: 10,
            noiseVariance: 8,
            seed: 3,
            stream: 0,
            paired: false,
          };
          const rows: [string, Record<string, unknown>, RegExp][] = [
            ['batches 2.5', { batches: 2.5 }, /bad field `batches`.*Value: `2\.5`/],
            ['batchSize 0', { batchSize: 0 }, /bad field `batchSize`/],
            ['round -1', { round: -1 }, /bad field `round`/],
            [
              'w of another length',
              { w: [0, 0] },
              /bad field `w`: it must be an array of the shard's dim \(4\)/,
            ],
            ['w with null', { w: [0, null, 0, 0] }, /bad field `w`/],
            ['noiseVariance "8"', { noiseVariance: '8' }, /bad field `noiseVariance`/],
            ['stream 1.5', { stream: 1.5 }, /bad field `stream`/],
            ['paired "yes"', { paired: 'yes' }, /bad field `paired`/],
            ['seed -1', { seed: -1 }, /bad field `seed`/],
          ];
          for (const [i, [label, change, pattern]] of rows.entries()) {
            const job = await q.add(
              'round',
              { ...good, ...change, run: `r.${i}` },
              { jobId: `round${i}`, attempts: 3 },
            );
            await until(
              async () => ['failed', 'completed'].includes(await job.getState()),
              `${label}: settled`,
            );
            const j = await q.getJob(job.id!);
            assert.is(await job.getState(), 'failed', `${label}: refused`);
            assert.ok(pattern.test(j!.failedReason), `${label}: ${j!.failedReason}`);
            assert.is(j!.attemptsMade, 1, `${label}: not retried`);
          }
          // the caller's arrays changed after the start (before any round): the holder serves its
          // snapshot, the same gradients as a holder started on pristine data
          shard.X.fill(0);
          const job = await q.add('round', good, { jobId: 'good0' });
          await until(async () => (await job.getState()) === 'completed', 'a good round');
          const mine = await client.getBuffer('gradcov:' + queue + ':grad:r.1:0');
          const queue2 = queueName();
          const pristine = await startHolder({ connection: redis.url, queue: queue2, shard: fresh(6) });
          const q2 = new Queue(queue2, { connection: { host: '127.0.0.1', port: redis.port } });
          try {
            const j2 = await q2.add('round', good, { jobId: 'good0' });
            await until(async () => (await j2.getState()) === 'completed', 'the pristine round');
            const want = await client.getBuffer('gradcov:' + queue2 + ':grad:r.1:0');
            assert.ok(mine && want && mine.equals(want), 'the gradients of the shard as it was at the start');
          } finally {
            await q2.close();
            await pristine.close();
          }
          assert.ok((await client.ttl('gradcov:' + queue + ':grad:r.1:0')) > 0, 'gradient keys expire');
        } finally {
          client.disconnect();
          await q.close();
          await holder.close();
        }
      }),
  ],
]);

test.run();
