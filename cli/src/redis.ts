// `gradcov worker --redis URL --queue NAME` and the `--redis` path of `gradcov estimate`:
// the CLI side of gradcov/bullmq (loaded only when used, so bullmq stays out of other commands).
import type { RegressionData, EstimateOptions, CurvatureEstimate } from 'gradcov';
import type { Progress } from './progress.js';
import { UserError } from './errors.js';

export interface RedisFlags {
  redis: string;
  queue: string;
  redisTimeout?: number;
  quiet?: boolean;
}

/** Seconds `--redis-timeout` waits for Redis by default (docs/cli.md). */
export const DEFAULT_REDIS_TIMEOUT = 30;
/** Seconds without a finished block before the estimate says it is waiting for workers. */
const WORKER_HINT_AFTER = 3;

const say = (line: string) => {
  process.stderr.write(`gradcov: ${line}\n`);
};

/** A short reason of a connection error: its code (ECONNREFUSED, ...) and message. */
function reason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const text = (code && !message.includes(code) ? `${code}: ${message}` : message).replace(/\.+$/, '');
  return text.replace(/\/\/[^@/\s]*@/g, '//***@'); // a message that quotes the URL
}

/** Errors that waiting does not cure: a wrong or missing password, a bad URL. */
const isFatal = (err: unknown) =>
  /WRONGPASS|NOAUTH|invalid (username-)?password|ERR AUTH|Client sent AUTH|invalid URL|ERR_INVALID_URL/i.test(
    reason(err),
  );

/**
 * Waits until Redis at `url` answers PING: prints at once what it waits for when the first
 * try fails, retries every second with a visible line (every 5 s), fails with a UserError
 * after `timeout` seconds, and at once for a wrong or missing password.
 */
export async function reachRedis(url: string, timeout: number): Promise<void> {
  const { Redis } = await import('ioredis');
  const deadline = Date.now() + timeout * 1000;
  let last: unknown,
    tries = 0,
    lastSaid = 0;
  for (;;) {
    const left = deadline - Date.now();
    const r = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: Math.max(200, Math.min(5000, left)),
      enableReadyCheck: false,
    });
    let socketError: unknown; // the cause (ECONNREFUSED, ...): connect() itself only says the connection closed
    r.on('error', (err) => {
      socketError ??= err;
    });
    try {
      await r.connect();
      await r.ping();
      if (tries > 0) say(`Redis at ${redact(url)} answers`);
      return;
    } catch (err) {
      last = socketError ?? err;
    } finally {
      r.disconnect();
    }
    if (isFatal(last))
      throw new UserError(
        `Redis at ${redact(url)} refused the connection: ${reason(last)} (check the password in the URL, redis://:PASSWORD@host:port)`,
      );
    tries++;
    const now = Date.now();
    if (now >= deadline) {
      throw new UserError(
        `could not reach Redis at ${redact(url)} within ${timeout} s: ${reason(last)}. Is redis-server running on that host and port? (--redis-timeout SECONDS waits longer)`,
      );
    }
    if (tries === 1)
      say(
        `waiting for Redis at ${redact(url)} (${reason(last)}); retrying every second for up to ${timeout} s (--redis-timeout)`,
      );
    else if (now - lastSaid >= 5000)
      say(
        `still waiting for Redis at ${redact(url)} (${reason(last)}; ${Math.ceil((deadline - now) / 1000)} s left)`,
      );
    if (tries === 1 || now - lastSaid >= 5000) lastSaid = now;
    await new Promise((res) => setTimeout(res, Math.min(1000, Math.max(0, deadline - Date.now()))));
  }
}

/** Runs a gradcov/bullmq worker until SIGINT or SIGTERM. */
export async function runWorker(flags: RedisFlags & { concurrency: number; quiet?: boolean }): Promise<void> {
  await reachRedis(flags.redis, flags.redisTimeout ?? DEFAULT_REDIS_TIMEOUT);
  const { startWorker } = await import('gradcov/bullmq');
  const worker = await startWorker({
    connection: flags.redis,
    queue: flags.queue,
    concurrency: flags.concurrency,
  });
  await worker.worker.waitUntilReady();
  let done = 0;
  worker.worker.on('completed', () => {
    done++;
  });
  // later outages: the worker reconnects by itself (waiting is right for a worker); say so, at most every 10 s
  let lastOutage = 0;
  worker.worker.on('error', (err) => {
    if (Date.now() - lastOutage < 10_000) return;
    lastOutage = Date.now();
    say(
      `worker: Redis at ${redact(flags.redis)} is unreachable (${reason(err)}); reconnecting (Ctrl-C to stop)`,
    );
  });
  if (!flags.quiet)
    process.stderr.write(
      `gradcov worker: queue "${flags.queue}" at ${redact(flags.redis)}, concurrency ${flags.concurrency}; Ctrl-C to stop\n`,
    );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await worker.close();
  if (!flags.quiet) process.stderr.write(`gradcov worker: stopped after ${done} jobs\n`);
}

/** The estimate's covariance computed by the queue's workers (same blocks and bits as blockwiseCovariance). */
export async function redisCovariance(
  flags: RedisFlags,
  data: RegressionData,
  w: Float64Array,
  n: number,
  m: number,
  tau2: number,
  seed: number,
  progress: Progress,
): Promise<Float64Array> {
  const { createCoordinator } = await import('gradcov/bullmq');
  const { DEFAULT_BLOCK_BATCHES } = await import('gradcov');
  const coordinator = await connectCoordinator(flags, createCoordinator);
  const hint = workerHint(flags);
  try {
    progress.start('estimate', Math.ceil(m / DEFAULT_BLOCK_BATCHES), 'blocks');
    const r = await guarded(flags, coordinator, () =>
      coordinator.estimateHessian(data, w, {
        batchSize: n,
        batches: m,
        noiseVariance: tau2,
        seed,
        onBlock: () => {
          hint.seen();
          void progress.tick();
        },
      }),
    );
    progress.stop();
    return r.hessian;
  } finally {
    hint.seen();
  }
}

/** An estimate of any method computed by the queue's workers (the library's block plan: the same bits as estimateHessian with blockBatches DEFAULT_BLOCK_BATCHES). */
export async function redisEstimate(
  flags: RedisFlags,
  data: RegressionData,
  w: Float64Array,
  options: EstimateOptions,
  progress: Progress,
): Promise<CurvatureEstimate> {
  const { createCoordinator } = await import('gradcov/bullmq');
  const { DEFAULT_BLOCK_BATCHES } = await import('gradcov');
  const coordinator = await connectCoordinator(flags, createCoordinator);
  const hint = workerHint(flags);
  try {
    let started = false;
    const r = await guarded(flags, coordinator, () =>
      coordinator.estimateHessian(data, w, {
        ...options,
        blockBatches: DEFAULT_BLOCK_BATCHES,
        onBlock: (_block, blocks) => {
          hint.seen();
          if (!started) progress.start('estimate', blocks, 'blocks');
          started = true;
          void progress.tick();
        },
      }),
    );
    if (started) progress.stop();
    return r;
  } finally {
    hint.seen();
  }
}

/**
 * Watches Redis while an estimate waits on it: when the connection drops, says so at once
 * and rejects `lost` if it stays down longer than --redis-timeout (the coordinator's own
 * connection would wait for ever); says when it is back.
 */
async function watchRedis(
  flags: RedisFlags,
): Promise<{ lost: Promise<never>; stop(): void; isLost(): boolean }> {
  const { Redis } = await import('ioredis');
  const timeout = flags.redisTimeout ?? DEFAULT_REDIS_TIMEOUT;
  const r = new Redis(flags.redis, { maxRetriesPerRequest: null, retryStrategy: () => 1000 });
  let down: ReturnType<typeof setTimeout> | undefined;
  let lostFlag = false;
  let fail!: (err: Error) => void;
  const lost = new Promise<never>((_, reject) => {
    fail = reject;
  });
  lost.catch(() => {});
  const dropped = (err?: unknown) => {
    if (down || lostFlag) return;
    say(
      `lost Redis at ${redact(flags.redis)}${err ? ` (${reason(err)})` : ''}; reconnecting, for up to ${timeout} s (--redis-timeout)`,
    );
    down = setTimeout(() => {
      lostFlag = true;
      fail(
        new UserError(
          `lost Redis at ${redact(flags.redis)} for more than ${timeout} s: the estimate is abandoned (its finished blocks stay in Redis for the rerun to collect)`,
        ),
      );
    }, timeout * 1000);
  };
  r.on('error', (err) => dropped(err));
  r.on('close', () => dropped());
  r.on('ready', () => {
    if (!down) return;
    clearTimeout(down);
    down = undefined;
    say(`Redis at ${redact(flags.redis)} is back`);
  });
  return {
    lost,
    isLost: () => lostFlag,
    stop() {
      clearTimeout(down);
      r.removeAllListeners();
      r.on('error', () => {});
      r.disconnect();
    },
  };
}

/**
 * The estimate raced against a lost Redis; the coordinator is closed after. When Redis was
 * lost, its close may wait on the dead connection: the process exits 2 s after the error.
 */
async function guarded<T>(
  flags: RedisFlags,
  coordinator: { close(): Promise<void> },
  work: () => Promise<T>,
): Promise<T> {
  let watch: Awaited<ReturnType<typeof watchRedis>>;
  try {
    watch = await watchRedis(flags);
  } catch (err) {
    await coordinator.close();
    throw err;
  }
  try {
    return await Promise.race([work(), watch.lost]);
  } finally {
    watch.stop();
    if (watch.isLost()) {
      void coordinator.close().catch(() => {});
      setTimeout(() => process.exit(process.exitCode ?? 1), 2000).unref();
    } else await coordinator.close();
  }
}

/** Reaches Redis (bounded by --redis-timeout, with visible retries), then connects the coordinator. */
async function connectCoordinator<C>(
  flags: RedisFlags,
  create: (o: { connection: string; queue: string; pollInterval: number }) => Promise<C>,
): Promise<C> {
  await reachRedis(flags.redis, flags.redisTimeout ?? DEFAULT_REDIS_TIMEOUT);
  return create({ connection: flags.redis, queue: flags.queue, pollInterval: 250 });
}

/**
 * Says once that the estimate waits for workers when no block has finished after a few
 * seconds (waiting is right: workers may start later), with the command that starts one.
 */
function workerHint(flags: RedisFlags): { seen(): void } {
  const t = setTimeout(() => {
    say(
      `no block finished yet: waiting for gradcov workers on queue "${flags.queue}" (start one with: gradcov worker --redis ${redact(flags.redis)} --queue ${flags.queue}); Ctrl-C to stop`,
    );
  }, WORKER_HINT_AFTER * 1000);
  t.unref?.();
  return { seen: () => clearTimeout(t) };
}

/** The command line without --redis/--queue (they do not change the result, so the recorded command leaves them out). */
export function withoutRedisFlags(command: string): string {
  return command.replace(/\s--(redis|queue|redis-timeout)(=|\s+)\S+/g, '');
}

const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');
