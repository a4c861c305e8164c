// Gradient-only training over BullMQ: each data holder is a worker on its own queue with
// its own shard (startHolder); the coordinator sends only w (in each round's job) and reads
// only gradients (binary, from Redis). The update is the in-process DistributedTrainer's,
// operation for operation, so for the same shards and options the result is bit-identical.
import { Queue, QueueEvents, Job } from 'bullmq';
import { init, isInitialized } from '../core/wasm.js';
import { TRAIN_OPTION_KEYS, checkTrainSettings, type TrainOptions } from '../parallel/trainer.js';
import { TrainingRounds, type TrainResult } from '../parallel/round.js';
import {
  checkFloat64Array,
  checkLength,
  checkFinite,
  checkOptions,
  checkPositiveInteger,
} from '../core/validate.js';
import {
  connect,
  checkQueue,
  gradientKey,
  roundJobId,
  bytesF64,
  toWireSeed,
  type Connection,
  type GradcovJob,
  type RoundJob,
} from './common.js';

/** The trainer's options plus where the holders are. */
export interface QueueTrainOptions extends TrainOptions {
  /** Redis URL or ioredis options. */
  connection: Connection;
  /** The holders' queues (one per holder; holder k uses noise stream k). */
  queues: string[];
  /** Run id prefix (default: a new random one); each run adds a fresh nonce: `<runId>.<nonce>`. */
  runId?: string;
  /** Attempts per round job (default 3). */
  attempts?: number;
  /** How H_hat is estimated, as createDistributedTrainer: 'paired' (default) or 'calibrated'. */
  hessianEstimator?: 'paired' | 'calibrated';
  /** Keep the round jobs and gradient blobs in Redis after reading them (default false; for audits). */
  keep?: boolean;
  /** Timeout for each round, in ms (default: none). */
  roundTimeout?: number;
}

const RUN_ID = /^[A-Za-z0-9_.]{1,64}$/;

/**
 * Gradient-only training with the data holders as BullMQ workers (see startHolder): the
 * same rounds, update and result as createDistributedTrainer's trainer for the same shards
 * and options (bit-identical), but the holders run anywhere that reaches Redis and never
 * send X or y: the coordinator asks each holder for its size (rows, dim), then each round
 * adds one job per holder carrying w and reads back that holder's batch gradients.
 *
 * @param options - connection, queues, and the trainer's options (rounds, batchSize, batchesPerRound, seed, ...)
 * @returns the trainer's result (w, last, hessian, gradientNorms, rounds, roundsMs)
 * @throws {TypeError|RangeError} for malformed options, before any job is added
 * @throws {Error} naming the holder and round when a round fails after its attempts
 * @example
 * import { trainOnQueues } from 'gradcov/bullmq';
 * const { w } = await trainOnQueues({ connection: 'redis://127.0.0.1:6379', queues: ['holder-a', 'holder-b'],
 *   rounds: 10, batchSize: 64, batchesPerRound: 4096, seed: 1 });
 */
export async function trainOnQueues(options: QueueTrainOptions): Promise<TrainResult> {
  const o = checkOptions(
    'options',
    options,
    [...TRAIN_OPTION_KEYS, 'connection', 'queues', 'runId', 'attempts', 'keep', 'roundTimeout'],
    '`options` of trainOnQueues',
  );
  if (!Array.isArray(o.queues) || o.queues.length === 0)
    throw new TypeError(
      `invalid argument: \`queues\` must be a non-empty array of queue names. Value: \`${String(o.queues)}\`.`,
    );
  const names = (o.queues as unknown[]).map((q, k) => checkQueue(`queues[${k}]`, q));
  const { rounds, batchSize, batchesPerRound, noiseVariance, paired, learningRate, ridge, averageLast } =
    checkTrainSettings(o);
  const attempts = o.attempts === undefined ? 3 : checkPositiveInteger('attempts', o.attempts, 1000);
  const roundTimeout =
    o.roundTimeout === undefined ? undefined : checkPositiveInteger('roundTimeout', o.roundTimeout);
  if (o.runId !== undefined && (typeof o.runId !== 'string' || !RUN_ID.test(o.runId))) {
    throw new TypeError(
      `invalid argument: \`runId\` must be 1 to 64 letters, digits, '_' or '.'. Value: \`${String(o.runId)}\`.`,
    );
  }
  // every training run is fresh (w moves each round: nothing to resume), so an explicit runId
  // gets a nonce: a reused one never meets an earlier run's round jobs or gradients
  const nonce = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
  const runId = o.runId === undefined ? `t${nonce}` : `${o.runId as string}.${nonce}`;
  const keep = o.keep === true;
  if (!isInitialized()) await init();
  const redis = connect(options.connection);
  const queues = names.map((n) => new Queue<GradcovJob>(n, { connection: redis }));
  const eventsConn = names.map(() => connect(options.connection));
  const events = names.map((n, k) => new QueueEvents(n, { connection: eventsConn[k]! }));
  for (const q of queues) q.on('error', () => {}); // connection errors: commands wait for the reconnect
  for (const e of events) e.on('error', () => {});
  // completed jobs are read (and removed) here; kept a while so that a missed completion event is still seen by the poll
  const jobOpts = {
    attempts,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: keep ? false : { age: 3600 },
    removeOnFail: false,
  };
  // A completion event published before QueueEvents' blocking read starts is missed by
  // waitUntilFinished (it then waits forever): the job's own state is also polled, so a
  // finished job is seen within POLL_MS whatever the events did.
  const POLL_MS = 250;
  const polled = async (k: number, job: Job<GradcovJob>, stop: { done: boolean }): Promise<unknown> => {
    while (!stop.done) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (stop.done) break;
      const state = await queues[k]!.getJobState(job.id!);
      if (state === 'completed') return (await Job.fromId(queues[k]!, job.id!))?.returnvalue;
      if (state === 'failed')
        throw new Error((await Job.fromId(queues[k]!, job.id!))?.failedReason ?? 'the job failed');
    }
    return undefined;
  };
  const finish = async (k: number, job: Job<GradcovJob>, what: string): Promise<unknown> => {
    const stop = { done: false };
    try {
      const waits: Promise<unknown>[] = [
        job.waitUntilFinished(events[k]!, roundTimeout),
        polled(k, job, stop),
      ];
      for (const w of waits) w.catch(() => {}); // the loser's later rejection is not unhandled
      const value = await Promise.race(waits);
      if (!keep) await job.remove().catch(() => {});
      return value;
    } catch (err) {
      throw new Error(
        `gradcov: ${what} on holder queue ${names[k]} failed: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    } finally {
      stop.done = true;
    }
  };
  try {
    await Promise.all(events.map((e) => e.waitUntilReady()));
    const info = await Promise.all(
      queues.map(
        async (q, k) =>
          finish(
            k,
            await q.add('info', { kind: 'info', run: runId }, { ...jobOpts, jobId: `${runId}-info` }),
            'the size request',
          ) as Promise<{ rows: number; dim: number }>,
      ),
    );
    info.forEach((i, k) => {
      // a holder's reply is a peer's word: checked before it sizes anything
      const ok =
        typeof i === 'object' &&
        i !== null &&
        Number.isInteger(i.rows) &&
        i.rows >= 1 &&
        i.rows < 2 ** 32 &&
        Number.isInteger(i.dim) &&
        i.dim >= 1 &&
        i.dim <= 11584;
      if (!ok)
        throw new Error(
          `gradcov: holder queue ${names[k]} answered the size request with ${JSON.stringify(i)}, not { rows, dim } integers (rows >= 1, 1 <= dim <= 11584)`,
        );
    });
    const rows = info.map((i) => i.rows);
    const dim = info[0]!.dim;
    info.forEach((i, k) => {
      if (i.dim !== dim)
        throw new RangeError(
          `gradcov: holder queue ${names[k]} has dim ${i.dim}, holder queue ${names[0]} has ${dim}`,
        );
    });
    let w0: Float64Array = new Float64Array(dim);
    if (o.w0 !== undefined) {
      w0 = checkFloat64Array('w0', o.w0);
      checkLength('w0', w0, dim, 'dim');
      checkFinite('w0', w0);
    }
    const total = rows.reduce((a, b) => a + b, 0);
    const batches = rows.map((r) => Math.max(2, Math.round((batchesPerRound * r) / total)));
    if (batches.some((b) => b * (rounds + 1) > 2 ** 32))
      throw new RangeError('invalid argument: `rounds` x batches per holder must stay below 2^32.');
    // the DistributedTrainer's rounds (src/parallel/round.ts: one update, its divergence checks),
    // with the holders behind queues
    const training = new TrainingRounds(
      dim,
      { rounds, batchSize, noiseVariance, paired, learningRate, ridge, averageLast },
      rows,
      batches,
      w0,
    );
    for (let r = 0; r < rounds; r++) {
      const replies = await Promise.all(
        queues.map(async (q, k) => {
          const data: RoundJob = {
            kind: 'round',
            run: runId,
            round: r,
            w: Array.from(training.w),
            batchSize,
            batches: batches[k]!,
            noiseVariance,
            seed: toWireSeed(o.seed as number | bigint),
            stream: k,
            paired,
          };
          const job = await q.add('round', data, { ...jobOpts, jobId: roundJobId(runId, r) });
          await finish(k, job, `round ${r}`);
          const key = gradientKey(names[k]!, runId, r);
          const blob = await redis.getBuffer(key);
          const values = training.replyLength(k);
          if (!blob || blob.byteLength !== values * 8)
            throw new Error(
              `gradcov: round ${r} of holder queue ${names[k]} left no gradients of the expected size under ${key}`,
            );
          if (!keep) await redis.del(key);
          return bytesF64(blob, 0, values);
        }),
      );
      training.update(r, replies);
    }
    return training.result();
  } finally {
    await Promise.all(events.map((e) => e.close()));
    await Promise.all(queues.map((q) => q.close()));
    for (const c of eventsConn) c.disconnect();
    redis.disconnect();
  }
}
