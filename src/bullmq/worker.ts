// The worker side of gradcov/bullmq: a BullMQ Worker whose processor only does I/O (reads
// the registered data once per content hash, writes each result blob with ioredis' buffer
// commands) and hands the computation to worker threads, one per concurrency slot, so a
// long block never delays the renewal of the job's lock.
import { Worker, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  connect,
  checkQueue,
  dataKey,
  resultKey,
  gradientKey,
  decodeData,
  fromWireSeed,
  f64Bytes,
  contentHash,
  checkBlockJob,
  checkRoundJob,
  encodeResult,
  resultHeader,
  DEFAULT_RESULT_TTL,
  type Connection,
  type GradcovJob,
  type BlockJob,
  type RoundJob,
} from './common.js';
import { checkOptions, checkPositiveInteger, checkRegressionData } from '../core/validate.js';
import type { RegressionData } from '../data/dataset.js';
import { Channel } from '../parallel/channel.js';
import { startThread, threadTransport } from '../node/thread-transport.js';

// dist/bullmq/thread.js in the package; src/bullmq/thread.ts when run from sources under tsx.
const fromSources = import.meta.url.endsWith('.ts');

/** Milliseconds since the epoch, with sub-millisecond precision (comparable across processes on one machine). */
const now = (): number => performance.timeOrigin + performance.now();

/**
 * When a block job went through a worker (ms since the epoch): picked up (BullMQ's
 * processedOn), processor entered, computation started and ended (its compute thread),
 * result written to Redis. A block job's return value is `{ key, bytes, timeline }`.
 */
export interface BlockTimeline {
  /** The worker's process id. */
  pid: number;
  /** Moved to active by BullMQ (the job's processedOn). */
  picked: number;
  /** The processor was entered. */
  begin: number;
  /** The block was handed to a compute thread (data already loaded). */
  start: number;
  /** The compute thread returned the block's bytes. */
  end: number;
  /** The bytes were written to Redis. */
  written: number;
  /** CPU time of the worker process (all its threads) from start to end, in ms. */
  cpu: number;
}

/** Lock and stall settings (milliseconds), passed to BullMQ's Worker. */
export interface StallSettings {
  /**
   * How long a job's lock lasts without renewal (default 30000). The worker renews it every
   * lockDuration / 2 from its main thread, which the computation never blocks; a worker
   * that dies (kill -9, lost machine) stops renewing, and the job counts as stalled once
   * the lock has expired.
   */
  lockDuration?: number;
  /** How often this worker looks for stalled jobs and moves them back to the queue (default 30000). */
  stalledInterval?: number;
  /** How many times a job may stall before it fails (default 3: a block survives three lost workers). */
  maxStalledCount?: number;
}

export interface WorkerOptions extends StallSettings {
  /** Redis URL or ioredis options. */
  connection: Connection;
  /** Queue name (the coordinator's `queue`). */
  queue: string;
  /** Jobs in parallel, each on its own compute thread (default 1). */
  concurrency?: number;
  /** Called before a job computes (with the block index or training round); a test hook: throwing fails the attempt. */
  beforeJob?: (job: { kind: string; run: string; index: number }) => void | Promise<void>;
}

export interface HolderOptions extends StallSettings {
  /** Redis URL or ioredis options. */
  connection: Connection;
  /** This holder's own queue: the coordinator lists it in `queues`. */
  queue: string;
  /** This holder's data: it stays in this process; only gradients leave it. */
  shard: RegressionData;
  /** Called before each round (see WorkerOptions.beforeJob). */
  beforeJob?: WorkerOptions['beforeJob'];
}

/** A running gradcov/bullmq worker; `close()` lets active jobs finish, then ends the threads. */
export interface GradcovWorker {
  /** The BullMQ Worker (for its events: 'completed', 'failed', 'error'). */
  readonly worker: Worker;
  /** Stops taking jobs, waits for the active ones, closes the connection and the threads. */
  close(): Promise<void>;
}

/**
 * One compute thread (thread.ts) behind the pool's Channel (src/parallel/channel.ts: the one
 * request/response protocol of every worker kind), with the data keys it holds resident.
 */
class ComputeThread {
  readonly #channel = new Channel(
    threadTransport(startThread(new URL(fromSources ? './thread.ts' : './thread.js', import.meta.url))),
  );
  /** Data keys resident in the thread, oldest first (the thread evicts the same way). */
  readonly #loaded = new Set<string>();

  /** Why the thread can no longer be used (it died or trapped), or undefined. */
  get failed(): Error | undefined {
    return this.#channel.failed;
  }

  has(key: string): boolean {
    return this.#loaded.has(key);
  }

  loaded(key: string): void {
    this.#loaded.delete(key);
    this.#loaded.add(key);
    if (this.#loaded.size > 2) this.#loaded.delete(this.#loaded.values().next().value!);
  }

  request<T>(msg: Record<string, unknown>): Promise<T> {
    return this.#channel.request<T>(msg);
  }

  terminate(): Promise<unknown> {
    return Promise.resolve(this.#channel.close());
  }
}

/** Threads handed out one per active job. */
class ThreadPool {
  readonly #free: ComputeThread[];
  readonly #all: ComputeThread[];
  constructor(size: number) {
    this.#all = Array.from({ length: size }, () => new ComputeThread());
    this.#free = [...this.#all];
  }
  async with<T>(fn: (t: ComputeThread) => Promise<T>): Promise<T> {
    let t = this.#free.pop();
    if (!t) throw new Error('gradcov: no free compute thread (concurrency exceeded)');
    if (t.failed) {
      // a thread that died or trapped is replaced (its resident data with it)
      const dead = t;
      t = new ComputeThread();
      this.#all[this.#all.indexOf(dead)] = t;
      void dead.terminate();
    }
    try {
      return await fn(t);
    } finally {
      this.#free.push(t);
    }
  }
  async close(): Promise<void> {
    await Promise.all(this.#all.map((t) => t.terminate()));
  }
}

function checkStall(o: Record<string, unknown>): Required<StallSettings> {
  return {
    lockDuration:
      o.lockDuration === undefined ? 30_000 : checkPositiveInteger('lockDuration', o.lockDuration),
    stalledInterval:
      o.stalledInterval === undefined ? 30_000 : checkPositiveInteger('stalledInterval', o.stalledInterval),
    maxStalledCount:
      o.maxStalledCount === undefined ? 3 : checkPositiveInteger('maxStalledCount', o.maxStalledCount),
  };
}

function startBullWorker(
  queue: string,
  redis: Redis,
  concurrency: number,
  stall: Required<StallSettings>,
  processor: (job: Job<GradcovJob>) => Promise<unknown>,
  threads: ThreadPool,
): GradcovWorker {
  const worker = new Worker<GradcovJob>(queue, processor, {
    connection: redis,
    concurrency,
    ...stall,
    autorun: true,
  });
  worker.on('error', () => {
    /* reconnects are ioredis' job; errors also reach the job's attempts */
  });
  let closed: Promise<void> | undefined;
  return {
    worker,
    close() {
      closed ??= (async () => {
        await worker.close();
        await threads.close();
        redis.disconnect();
      })();
      return closed;
    },
  };
}

/**
 * Starts a worker that computes the estimation blocks of a gradcov/bullmq coordinator's
 * queue. Each block's accumulator is written to Redis as its binary toBytes() form under the
 * block's own key (a retried block writes the same bytes again), so the job's JSON return
 * value stays a few bytes. Data sets are fetched from Redis once per content hash.
 *
 * @param options - connection, queue, concurrency (threads) and lock/stall settings
 * @returns the running worker; `close()` it to stop
 * @throws {TypeError|RangeError} for a bad queue name, concurrency or stall setting
 * @example
 * import { startWorker } from 'gradcov/bullmq';
 * const worker = await startWorker({ connection: 'redis://127.0.0.1:6379', queue: 'hessian', concurrency: 2 });
 * process.on('SIGTERM', () => { void worker.close(); });
 */
export async function startWorker(options: WorkerOptions): Promise<GradcovWorker> {
  const o = checkOptions(
    'options',
    options,
    ['connection', 'queue', 'concurrency', 'beforeJob', 'lockDuration', 'stalledInterval', 'maxStalledCount'],
    '`options` of startWorker',
  );
  const queue = checkQueue('queue', o.queue);
  const concurrency =
    o.concurrency === undefined ? 1 : checkPositiveInteger('concurrency', o.concurrency, 256);
  const stall = checkStall(o);
  const beforeJob = options.beforeJob;
  const redis = connect(options.connection);
  const threads = new ThreadPool(concurrency);
  const cache = new Map<string, Promise<RegressionData>>();
  const load = (hash: string): Promise<RegressionData> => {
    let p = cache.get(hash);
    if (!p) {
      p = (async () => {
        const blob = await redis.getBuffer(dataKey(hash));
        if (!blob)
          throw new Error(`data ${hash} is not registered in Redis (key ${dataKey(hash)} is missing)`);
        // the key names the content: bytes that do not hash to it were changed or forged
        if (contentHash(blob) !== hash)
          throw new UnrecoverableError(
            `key ${dataKey(hash)} does not hold the data of hash ${hash} (its bytes hash to ${contentHash(blob)}): it was changed or forged; register the data again`,
          );
        return decodeData(blob, `key ${dataKey(hash)}`);
      })();
      p.catch(() => cache.delete(hash));
      cache.set(hash, p);
      if (cache.size > 2) cache.delete(cache.keys().next().value!);
    }
    return p;
  };
  const processor = async (job: Job<GradcovJob>): Promise<unknown> => {
    const d = job.data;
    if (d?.kind !== 'block')
      throw new UnrecoverableError(
        `gradcov worker on queue ${queue}: unexpected job kind ${JSON.stringify(d?.kind)}`,
      );
    let b: BlockJob;
    try {
      b = checkBlockJob(d, `${job.id ?? '?'} on queue ${queue}`); // forged or corrupt fields: refused, never retried
    } catch (err) {
      throw new UnrecoverableError((err as Error).message);
    }
    const begin = now();
    await beforeJob?.({ kind: 'block', run: b.run, index: b.block });
    const key = resultKey(queue, b.run, b.block);
    const data = await load(b.data);
    if (b.w.length !== data.dim)
      throw new UnrecoverableError(
        `gradcov: block job ${job.id ?? '?'} on queue ${queue} has a bad field \`w\`: it must have the data's dim (${data.dim}) values. Value: \`Array(${b.w.length})\`.`,
      );
    const start = now(),
      cpu0 = process.cpuUsage();
    const [blob] = await threads.with(async (t) => {
      const first = !t.has(b.data);
      const out = await t.request<Uint8Array[]>({
        type: 'blocks',
        key: b.data,
        ...(first ? { data } : {}),
        w: Float64Array.from(b.w),
        options: { ...b.options, seed: fromWireSeed(b.options.seed) },
        blocks: [
          {
            level: b.level ?? 0,
            first: b.first,
            count: b.count,
            draw: b.draw ?? 'gradients',
            tau2: b.tau2 ?? b.options.noiseVariance,
            ...(b.sketch ? { sketch: b.sketch } : {}),
          },
        ],
      });
      t.loaded(b.data);
      return out;
    });
    const end = now(),
      cpu = process.cpuUsage(cpu0);
    // the result says what it is the result of (checked by the coordinator before merging),
    // and expires: a coordinator that never comes back leaves nothing in Redis for ever
    await redis.set(key, encodeResult(resultHeader(b, data.dim), blob!), 'EX', b.ttl ?? DEFAULT_RESULT_TTL);
    // the job's return value (a few numbers) is its timeline, for benchmarks and audits
    const timeline: BlockTimeline = {
      pid: process.pid,
      picked: job.processedOn ?? begin,
      begin,
      start,
      end,
      written: now(),
      cpu: (cpu.user + cpu.system) / 1000,
    };
    return { key, bytes: blob!.byteLength, timeline };
  };
  return startBullWorker(queue, redis, concurrency, stall, processor, threads);
}

/**
 * Starts a data holder for gradient-only training: a worker on the holder's own queue that
 * keeps its shard in this process. For each round job it computes batch gradients of its
 * shard at the w in the job (calibrated target noise, fresh batches per round) and writes
 * them as binary to Redis; it never sends X or y anywhere.
 *
 * @param options - connection, the holder's queue, its shard, lock/stall settings
 * @returns the running holder; `close()` it to stop
 * @throws {TypeError|RangeError} for a bad queue name, shard or stall setting
 * @example
 * import { startHolder } from 'gradcov/bullmq';
 * const holder = await startHolder({ connection: 'redis://127.0.0.1:6379', queue: 'holder-a', shard: { X, y, rows, dim } });
 */
export async function startHolder(options: HolderOptions): Promise<GradcovWorker> {
  const o = checkOptions(
    'options',
    options,
    ['connection', 'queue', 'shard', 'beforeJob', 'lockDuration', 'stalledInterval', 'maxStalledCount'],
    '`options` of startHolder',
  );
  const queue = checkQueue('queue', o.queue);
  let shard: RegressionData;
  try {
    const d = checkRegressionData(o.shard) as RegressionData;
    // a snapshot: the holder serves the bytes it was started with, whatever happens to the caller's arrays later
    shard = { X: d.X.slice(), y: d.y.slice(), rows: d.rows, dim: d.dim };
  } catch (err) {
    // name the user's parameter: `shard`, not `data`
    if (err instanceof Error) err.message = err.message.replace(/`data(?=[.`])/g, '`shard');
    throw err;
  }
  const stall = checkStall(o);
  const beforeJob = options.beforeJob;
  const redis = connect(options.connection);
  const threads = new ThreadPool(1);
  const localKey = `shard:${queue}`;
  const processor = async (job: Job<GradcovJob>): Promise<unknown> => {
    const d = job.data;
    if (d.kind === 'info') return { rows: shard.rows, dim: shard.dim };
    if (d.kind !== 'round')
      throw new UnrecoverableError(
        `gradcov holder on queue ${queue}: unexpected job kind ${JSON.stringify(d.kind)}`,
      );
    let r: RoundJob;
    try {
      r = checkRoundJob(d, `${job.id ?? '?'} on queue ${queue}`, shard.dim); // forged or corrupt fields: refused, never retried
    } catch (err) {
      throw new UnrecoverableError((err as Error).message);
    }
    await beforeJob?.({ kind: 'round', run: r.run, index: r.round });
    const g = await threads.with(async (t) => {
      const first = !t.has(localKey);
      const out = await t.request<Float64Array>({
        type: 'gradients',
        key: localKey,
        ...(first ? { data: shard } : {}),
        w: Float64Array.from(r.w),
        options: {
          batchSize: r.batchSize,
          batches: r.batches,
          noiseVariance: r.noiseVariance,
          seed: fromWireSeed(r.seed),
          stream: r.stream,
          firstBatch: r.round * r.batches,
          replacement: true,
        },
        paired: r.paired === true,
      });
      t.loaded(localKey);
      return out;
    });
    const key = gradientKey(queue, r.run, r.round);
    await redis.set(key, f64Bytes(g), 'EX', DEFAULT_RESULT_TTL); // expires if no trainer reads it
    return { key, bytes: g.byteLength };
  };
  return startBullWorker(queue, redis, 1, stall, processor, threads);
}
