// The coordinator of gradcov/bullmq: registers data once by content hash, cuts an
// estimate into the in-process pool's blocks, adds one BullMQ job per block under a
// deterministic id (run id + block), waits for the blocks' binary results in Redis and
// merges them in block order. A restarted coordinator that asks for the same estimate gets
// the same run id, so it adds only the missing blocks and collects the finished ones.
import { Queue, QueueEvents, Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { init, isInitialized } from '../core/wasm.js';
import { RegressionDataset, type RegressionData } from '../data/dataset.js';
import { ESTIMATE_OPTION_KEYS, type EstimateOptions } from '../estimators/oracle.js';
import {
  planEstimate,
  mergeLevels,
  finishPlan,
  decodeBlock,
  blockBytesInfo,
  blockMismatch,
} from '../estimators/plan.js';
import type { SketchEstimateOptions, SketchedCurvature } from '../estimators/sketched.js';
import type { CurvatureEstimate } from '../estimators/methods.js';
import { DEFAULT_BLOCK_BATCHES } from '../parallel/pool.js';
import { checkOptions, checkPositiveInteger, checkRegressionData } from '../core/validate.js';
import {
  connect,
  checkQueue,
  dataKey,
  resultKey,
  blockJobId,
  encodeData,
  contentHash,
  toWireSeed,
  f64Bytes,
  decodeResult,
  resultHeader,
  DEFAULT_RESULT_TTL,
  RUN_ID,
  type Connection,
  type BlockJob,
} from './common.js';

/** A data set registered in Redis: refer to it by `hash` from any coordinator. */
export interface DataHandle {
  /** SHA-256 (hex) of the registered bytes; the data's key is `gradcov:data:<hash>`. */
  readonly hash: string;
  /** Rows of the data. */
  readonly rows: number;
  /** Features per row. */
  readonly dim: number;
}

/** Settings of createCoordinator. */
export interface CoordinatorOptions {
  /** Redis URL or ioredis options. */
  connection: Connection;
  /** Queue the workers listen on. */
  queue: string;
  /** Attempts per block before the run fails (default 3); a stalled (lost) worker does not use one up. */
  attempts?: number;
  /** Delay before a failed attempt is retried, in ms (default 1000, doubling). */
  backoff?: number;
  /** How often the coordinator also checks the blocks without waiting for an event, in ms (default 1000). */
  pollInterval?: number;
  /**
   * Seconds a block's result (and a failed job) stays in Redis when no coordinator collects
   * it (default 604,800: 7 days). A result that expires before the merge is computed again.
   */
  resultTtl?: number;
}

/** estimateHessian's options plus the block size, the run id and a progress callback. */
export interface BullmqEstimateOptions extends EstimateOptions {
  /** Batches per block (default DEFAULT_BLOCK_BATCHES = 2048, as the in-process pool). */
  blockBatches?: number;
  /**
   * Run id (default: a hash of the data, w and options, so the same request resumes the same
   * run). Its keys and job ids are `<runId>.<16 hex digits of that hash>`, so reusing a runId
   * for another request (other data bytes, w or options) never meets the old run's jobs or
   * results; the same request under the same runId resumes it.
   */
  runId?: string;
  /** Called once per block as its result is found (finished or already there). */
  onBlock?: (block: number, blocks: number) => void;
}

/**
 * Runs estimateHessian as BullMQ jobs. Make one with `createCoordinator`.
 */
export class Coordinator {
  /** The BullMQ Queue the block jobs go to (e.g. for `getJobCounts()`). */
  readonly queue: Queue;
  readonly #redis: Redis;
  readonly #events: QueueEvents;
  readonly #eventsRedis: Redis;
  readonly #name: string;
  readonly #attempts: number;
  readonly #backoff: number;
  readonly #poll: number;
  readonly #ttl: number;
  /** Shapes of the data registered by this coordinator, by content hash (the hash decides the bytes). */
  readonly #data = new Map<string, { rows: number; dim: number }>();
  #closed = false;

  /** @internal use createCoordinator */
  constructor(
    name: string,
    redis: Redis,
    queue: Queue,
    events: QueueEvents,
    eventsRedis: Redis,
    attempts: number,
    backoff: number,
    poll: number,
    ttl = DEFAULT_RESULT_TTL,
  ) {
    this.#ttl = ttl;
    this.#name = name;
    this.#redis = redis;
    this.queue = queue;
    this.#events = events;
    this.#eventsRedis = eventsRedis;
    this.#attempts = attempts;
    this.#backoff = backoff;
    this.#poll = poll;
  }

  #live(): void {
    if (this.#closed) throw new Error('gradcov: this Coordinator has been closed.');
  }

  /**
   * Stores a data set in Redis once, as binary under its SHA-256 content hash
   * (`gradcov:data:<hash>`: a 16-byte header, then X and y as little-endian float64).
   * Registering the same content again (from any process) stores nothing new.
   *
   * @param data - { X, y, rows, dim }
   * @returns the handle (content hash, rows, dim)
   * @throws {TypeError|RangeError} for malformed data
   * @example
   * const handle = await coordinator.register({ X, y, rows, dim });
   */
  async register(data: RegressionData): Promise<DataHandle> {
    this.#live();
    if (data instanceof RegressionDataset) {
      throw new TypeError(
        "invalid argument: `data` must be plain { X, y, rows, dim } (a RegressionDataset lives in this thread's wasm memory). Value: `RegressionDataset`.",
      );
    }
    // hashed every time (no cache by object: data changed in place must get its own hash; SHA-256
    // runs at about 1 GB/s, a small part of an estimate over the same bytes); the bytes are
    // sent only when Redis does not hold that hash yet
    const blob = encodeData(data); // validates
    const hash = contentHash(blob);
    if (!this.#data.has(hash) || (await this.#redis.exists(dataKey(hash))) !== 1)
      await this.#redis.set(dataKey(hash), blob, 'NX');
    const handle = { hash, rows: data.rows, dim: data.dim };
    this.#data.set(hash, { rows: handle.rows, dim: handle.dim });
    return handle;
  }

  /**
   * estimateHessian over the queue's workers, for every `method`: the same arguments,
   * blocks and result as the in-process pool (each of the method's levels cut into blocks
   * of `blockBatches` batches, each block a fresh accumulator, merged in block order, then
   * the method's formula), so for a seed the result is bit-identical to the pool's for any
   * number of workers, machines and retries (and to estimateHessian when every level has
   * at most blockBatches batches).
   *
   * @param data - the data ({ X, y, rows, dim }, registered on first use) or a handle from register()
   * @param w - the weights (length dim)
   * @param options - estimateHessian's options plus blockBatches, runId, onBlock
   * @returns the estimate, as estimateHessian's (method, noiseLevels, gradientEvaluations, misfit for 'debiased')
   * @throws {TypeError|RangeError} for malformed arguments, before any job is added; RangeError from 'debiased' as estimateHessian
   * @throws {Error} naming the block when a block failed after the configured attempts
   * @example
   * const coordinator = await createCoordinator({ connection: 'redis://127.0.0.1:6379', queue: 'hessian' });
   * const { hessian } = await coordinator.estimateHessian({ X, y, rows, dim }, w, { batchSize: 256, batches: 20000, seed: 1 });
   * await coordinator.close();
   */
  async estimateHessian(
    data: RegressionData | DataHandle,
    w: Float64Array,
    options: BullmqEstimateOptions & { sketch: SketchEstimateOptions },
  ): Promise<SketchedCurvature>;
  async estimateHessian(
    data: RegressionData | DataHandle,
    w: Float64Array,
    options: BullmqEstimateOptions,
  ): Promise<CurvatureEstimate>;
  async estimateHessian(
    data: RegressionData | DataHandle,
    w: Float64Array,
    options: BullmqEstimateOptions,
  ): Promise<CurvatureEstimate | SketchedCurvature> {
    this.#live();
    if (!isInitialized()) await init();
    const opts = checkOptions(
      'options',
      options,
      [...ESTIMATE_OPTION_KEYS, 'method', 'noiseLevels', 'blockBatches', 'sketch', 'runId', 'onBlock'],
      '`options` of coordinator.estimateHessian',
    );
    if (opts.runId !== undefined && (typeof opts.runId !== 'string' || !RUN_ID.test(opts.runId))) {
      throw new TypeError(
        `invalid argument: \`runId\` must be 1 to 64 letters, digits, '_' or '.'. Value: \`${String(opts.runId)}\`.`,
      );
    }
    if (opts.onBlock !== undefined && typeof opts.onBlock !== 'function')
      throw new TypeError(
        `invalid argument: \`onBlock\` must be a function. Value: \`${String(opts.onBlock)}\`.`,
      );
    let full: RegressionData;
    let registered: DataHandle | undefined;
    if (typeof data === 'object' && data !== null && 'hash' in data && !('X' in data)) {
      const hash = String(data.hash);
      const d = this.#data.get(hash);
      if (!d)
        throw new RangeError(
          `invalid argument: \`data\` must be a handle from this coordinator's register(). Value: \`hash ${hash}\`.`,
        );
      // a handle means the registered bytes (whatever happened to the object since)
      registered = { hash, rows: d.rows, dim: d.dim };
      full = registered as unknown as RegressionData;
    } else {
      if (data instanceof RegressionDataset) {
        throw new TypeError(
          "invalid argument: `data` must be plain { X, y, rows, dim } or a handle from register() (a RegressionDataset lives in this thread's wasm memory). Value: `RegressionDataset`.",
        );
      }
      full = data as RegressionData;
    }
    const { blockBatches, runId: _r, onBlock, ...rest } = opts;
    // estimateHessian's checks (a registered data set was checked when it was registered),
    // then the method's blocks: the plan the pool and estimateHessian share (src/estimators/plan.ts)
    const plan = planEstimate(
      () =>
        registered
          ? { rows: full.rows, dim: full.dim }
          : checkRegressionData(full, ' or a handle from register()'),
      w,
      rest as unknown as EstimateOptions,
      blockBatches ?? DEFAULT_BLOCK_BATCHES,
      '`options` of coordinator.estimateHessian',
    );
    const handle = registered ?? (await this.register(full));
    if (registered && (await this.#redis.exists(dataKey(handle.hash))) !== 1) {
      throw new Error(
        `gradcov: the data of handle ${handle.hash} is no longer in Redis (key ${dataKey(handle.hash)} is missing): register the data again.`,
      );
    }
    const { method: _m, noiseLevels: _l, baseNoiseVariance: _s2, sketch: _sk, ...passed } = rest;
    // the options of the first level with its noise resolved: what every block's worker parses
    const wireOptions = {
      ...passed,
      noiseVariance: plan.p.tau2,
      seed: toWireSeed(passed.seed as number | bigint),
    };
    // the request's fingerprint: what decides every block's bytes
    const fingerprint = contentHash(
      Buffer.concat([
        Buffer.from(
          JSON.stringify({
            v: 3,
            data: handle.hash,
            options: wireOptions,
            method: plan.method,
            levels: plan.levels,
            blockBatches: blockBatches ?? DEFAULT_BLOCK_BATCHES,
            ...(plan.sketch ? { sketch: plan.sketch } : {}),
          }),
        ),
        f64Bytes(plan.w),
      ]),
    );
    const run =
      opts.runId === undefined
        ? fingerprint.slice(0, 32)
        : `${opts.runId as string}.${fingerprint.slice(0, 16)}`;
    const weights = Array.from(plan.w);
    const blocks: BlockJob[] = plan.blocks.map((b, i) => ({
      kind: 'block',
      run,
      block: i,
      data: handle.hash,
      w: weights,
      options: wireOptions,
      first: b.first,
      count: b.count,
      level: b.level,
      draw: b.draw,
      tau2: b.tau2,
      ...(b.sketch ? { sketch: b.sketch } : {}),
      ttl: this.#ttl,
    }));
    await this.#await(blocks, onBlock as BullmqEstimateOptions['onBlock']);
    let blobs: Uint8Array[] = [];
    for (let round = 0; ; round++) {
      const read = this.#redis.pipeline();
      for (const b of blocks) read.getBuffer(resultKey(this.#name, run, b.block));
      const replies = (await read.exec())!;
      const gone = blocks.filter((_, i) => {
        const [err, blob] = replies[i]! as [Error | null, Buffer | null];
        if (err) throw err;
        return !blob;
      });
      if (gone.length === 0) {
        blobs = blocks.map((_, i) => {
          const blob = (replies[i]! as [null, Buffer])[1];
          return new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength);
        });
        break;
      }
      // results that expired (resultTtl) or were deleted before the merge: computed again
      if (round >= 2)
        throw new Error(
          `gradcov: the results of blocks ${gone.map((b) => b.block).join(', ')} of run ${run} keep disappearing from Redis (deleted, evicted, or a resultTtl shorter than the run)`,
        );
      await this.#await(gone);
    }
    // every blob is checked against the plan (its header: run, block, batches, level, draw,
    // dim; then its bytes, their count, dim, sketch size and precision by blockBytesInfo and
    // blockMismatch; then the decode) before it is merged
    const dim = plan.p.dim;
    const levels = mergeLevels(
      plan,
      blocks.map((b, i) => ({ b, blob: blobs[i]! })),
      ({ b, blob }) => {
        const key = `key ${resultKey(this.#name, run, b.block)}`;
        const bytes = decodeResult(blob, resultHeader(b, dim), key);
        const notIt = (why: string, cause?: unknown) =>
          new Error(
            `gradcov: ${key} is not the result of block ${b.block} of run ${run}: ${why}; it is not merged (delete the key, or let the block run again)`,
            cause === undefined ? undefined : { cause },
          );
        let m: ReturnType<typeof blockMismatch>;
        try {
          // the bytes checked without allocating, against the plan's block (the check finishCurvature runs)
          m = blockMismatch(blockBytesInfo(bytes, plan.sketch !== undefined), {
            dim,
            count: b.count,
            ...(plan.sketch ? { sketch: plan.sketch } : {}),
          });
        } catch (err) {
          throw notIt((err as Error).message, err);
        }
        if (m) {
          const what = { dim: 'dim', rows: '', size: 'sketch size', precision: 'sketch precision' }[m.field];
          throw notIt(
            m.field === 'rows'
              ? `it holds ${m.got} ${plan.sketch ? 'rows' : 'gradients'}, the block has ${m.want} batches`
              : m.field === 'precision'
                ? `its ${plan.sketch ? what : 'precision'} is '${m.got}', the plan's '${m.want}'`
                : `its ${what} is ${m.got}, the plan's ${m.want}`,
          );
        }
        let acc: ReturnType<typeof decodeBlock>;
        try {
          acc = decodeBlock(plan, bytes); // the rest of fromBytes' checks (a covariance's PSD co-moment)
        } catch (err) {
          throw notIt((err as Error).message, err);
        }
        return acc;
      },
    );
    let result: CurvatureEstimate | SketchedCurvature;
    try {
      result = finishPlan(plan, levels); // the same result or the same error as estimateHessian
    } finally {
      for (const l of levels) l.dispose();
    }
    await this.#redis.del(...blocks.map((b) => resultKey(this.#name, run, b.block)));
    return result;
  }

  /** Adds the blocks whose result is missing and waits until every block has its result. */
  async #await(blocks: BlockJob[], onBlock?: (block: number, blocks: number) => void): Promise<void> {
    const outstanding = new Map(blocks.map((b) => [b.block, b]));
    const jobOptions = {
      attempts: this.#attempts,
      backoff: { type: 'exponential', delay: this.#backoff },
      removeOnComplete: true,
      removeOnFail: { age: this.#ttl },
    };
    let wake: (() => void) | undefined;
    // a 'completed' event only needs the results looked up; the job states (added? failed?
    // lost with a restarted Redis?) are read on the first pass, after a 'failed' event and
    // every pollInterval: this keeps the coordinator's Redis calls (and CPU, on a machine
    // whose cores compute blocks) to a few per finished block
    let full = true;
    const onCompleted = () => wake?.();
    const onFailed = () => {
      full = true;
      wake?.();
    };
    this.#events.on('completed', onCompleted);
    this.#events.on('failed', onFailed);
    try {
      let firstPass = true;
      while (outstanding.size > 0) {
        const list = [...outstanding.values()];
        const pipe = this.#redis.pipeline();
        for (const b of list) pipe.exists(resultKey(this.#name, b.run, b.block));
        const found = (await pipe.exec())!.map(([err, v]) => !err && v === 1);
        const missing: BlockJob[] = [];
        list.forEach((b, i) => {
          if (found[i]) {
            outstanding.delete(b.block);
            onBlock?.(b.block, blocks.length);
          } else missing.push(b);
        });
        if (missing.length === 0) break;
        if (!full) {
          await this.#sleep(
            (w) => {
              wake = w;
            },
            () => {
              full = true;
            },
          );
          wake = undefined;
          continue;
        }
        full = false;
        const states = await Promise.all(
          missing.map((b) => this.queue.getJobState(blockJobId(b.run, b.block))),
        );
        // a job leaves the queue only after writing its result: look again for the results
        // of the jobs that are gone, so a block that just finished is not added again
        const gone = missing.filter((_, i) => states[i] === 'unknown' || states[i] === 'completed');
        const pipe2 = this.#redis.pipeline();
        for (const b of gone) pipe2.exists(resultKey(this.#name, b.run, b.block));
        const res2 = gone.length ? (await pipe2.exec())! : [];
        const late = new Set(
          gone
            .filter((_, i) => {
              const r = res2[i];
              return r && !r[0] && r[1] === 1;
            })
            .map((b) => b.block),
        );
        const toAdd: BlockJob[] = [];
        for (let i = 0; i < missing.length; i++) {
          const b = missing[i]!,
            state = states[i];
          if (state === 'failed') {
            const j = await Job.fromId(this.queue, blockJobId(b.run, b.block));
            if (firstPass && j) {
              // a failed job from an earlier attempt at this run: try it again
              await j.retry('failed');
              continue;
            }
            throw new Error(
              `gradcov: block ${b.block} (batches ${b.first} to ${b.first + b.count - 1}) of run ${b.run} failed after ${j?.attemptsMade ?? '?'} attempts: ${j?.failedReason ?? 'unknown reason'}`,
            );
          }
          if (late.has(b.block)) continue; // found on the next pass
          // 'unknown': never added, or completed and removed but its result is gone: (re)add
          if (state === 'unknown' || state === 'completed') {
            if (state === 'completed') await this.queue.remove(blockJobId(b.run, b.block));
            toAdd.push(b);
          }
        }
        if (toAdd.length) {
          await this.queue.addBulk(
            toAdd.map((b) => ({
              name: 'block',
              data: b,
              opts: { ...jobOptions, jobId: blockJobId(b.run, b.block) },
            })),
          );
        }
        firstPass = false;
        await this.#sleep(
          (w) => {
            wake = w;
          },
          () => {
            full = true;
          },
        );
        wake = undefined;
      }
    } finally {
      this.#events.off('completed', onCompleted);
      this.#events.off('failed', onFailed);
    }
  }

  /** Waits for an event (the wake function handed to `setWake`) or pollInterval (then `onTimeout`). */
  #sleep(setWake: (wake: () => void) => void, onTimeout: () => void): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        onTimeout();
        resolve();
      }, this.#poll);
      setWake(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Closes the coordinator's connections (jobs and workers are unaffected). Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#events.close();
    await this.queue.close();
    this.#eventsRedis.disconnect();
    this.#redis.disconnect();
  }
}

/**
 * Connects a coordinator to Redis and a queue.
 *
 * @param options - connection, queue, attempts, backoff, pollInterval
 * @returns a coordinator; `close()` it when done
 * @throws {TypeError|RangeError} for a bad queue name or setting
 * @example
 * import { createCoordinator } from 'gradcov/bullmq';
 * const coordinator = await createCoordinator({ connection: 'redis://127.0.0.1:6379', queue: 'hessian' });
 */
export async function createCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  const o = checkOptions(
    'options',
    options,
    ['connection', 'queue', 'attempts', 'backoff', 'pollInterval', 'resultTtl'],
    '`options` of createCoordinator',
  );
  const name = checkQueue('queue', o.queue);
  const attempts = o.attempts === undefined ? 3 : checkPositiveInteger('attempts', o.attempts, 1000);
  const backoff = o.backoff === undefined ? 1000 : checkPositiveInteger('backoff', o.backoff);
  const poll = o.pollInterval === undefined ? 1000 : checkPositiveInteger('pollInterval', o.pollInterval);
  const ttl =
    o.resultTtl === undefined
      ? DEFAULT_RESULT_TTL
      : checkPositiveInteger('resultTtl', o.resultTtl, 2 ** 31 - 1);
  const redis = connect(options.connection);
  const queue = new Queue(name, { connection: redis });
  const eventsRedis = connect(options.connection);
  const events = new QueueEvents(name, { connection: eventsRedis });
  // while Redis is away, commands wait for ioredis' reconnect; BullMQ would print each
  // connection error without a listener
  queue.on('error', () => {});
  events.on('error', () => {});
  await events.waitUntilReady();
  return new Coordinator(name, redis, queue, events, eventsRedis, attempts, backoff, poll, ttl);
}
