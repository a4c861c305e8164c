// Shared pieces of gradcov/bullmq: Redis key names, the binary data format, job payloads
// and connections. Node-only (node:crypto, Buffer); never imported by the core.
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { Redis, type RedisOptions } from 'ioredis';
import { checkRegressionData } from '../core/validate.js';
import type { RegressionData } from '../data/dataset.js';

/** A Redis URL (`redis://host:6379/0`) or ioredis options. */
export type Connection = string | RedisOptions;

/** Key prefix of everything gradcov stores besides BullMQ's own keys. */
export const PREFIX = 'gradcov';

/** Magic of a registered data set: 'GCD1', then rows and dim (u32 LE), 4 zero bytes, X, y (f64 LE). */
const MAGIC = 0x31444347; // 'GCD1' read as u32 LE
const HEADER = 16;
const LE = endianness() === 'LE';

/** Opens an ioredis connection suited to BullMQ (commands wait through reconnects). @internal */
export function connect(connection: Connection): Redis {
  const extra = { maxRetriesPerRequest: null, enableReadyCheck: true } as const;
  let redis: Redis;
  if (typeof connection === 'string') redis = new Redis(connection, extra);
  else if (connection && typeof connection === 'object') redis = new Redis({ ...connection, ...extra });
  else
    throw new TypeError(
      `invalid argument: \`connection\` must be a Redis URL or ioredis options. Value: \`${String(connection)}\`.`,
    );
  // connection errors while Redis is away are retried by ioredis (commands wait for the
  // reconnect); without a listener ioredis would print each one as unhandled
  redis.on('error', () => {});
  return redis;
}

/** Validates a queue name (BullMQ forbids ':' in names). @internal */
export function checkQueue(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.includes(':')) {
    throw new TypeError(
      `invalid argument: \`${name}\` must be a non-empty string without ':'. Value: \`${String(value)}\`.`,
    );
  }
  return value;
}

export const dataKey = (hash: string) => `${PREFIX}:data:${hash}`;
export const resultKey = (queue: string, run: string, block: number) =>
  `${PREFIX}:${queue}:result:${run}:${block}`;
export const gradientKey = (queue: string, run: string, round: number) =>
  `${PREFIX}:${queue}:grad:${run}:${round}`;
export const blockJobId = (run: string, block: number) => `${run}-b${block}`;
export const roundJobId = (run: string, round: number) => `${run}-r${round}`;

/** Little-endian bytes of a Float64Array (a copy, independent of the platform). @internal */
export function f64Bytes(a: Float64Array): Buffer {
  if (LE) return Buffer.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)); // copies
  const out = Buffer.allocUnsafe(a.length * 8);
  for (let i = 0; i < a.length; i++) out.writeDoubleLE(a[i]!, i * 8);
  return out;
}

/** Float64Array (aligned, own buffer) from little-endian bytes. @internal */
export function bytesF64(buf: Uint8Array, offset: number, length: number): Float64Array {
  const out = new Float64Array(length);
  if (LE) {
    new Uint8Array(out.buffer).set(buf.subarray(offset, offset + length * 8));
    return out;
  }
  const view = new DataView(buf.buffer, buf.byteOffset + offset, length * 8);
  for (let i = 0; i < length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

/** The registered form of a data set: header, X, y. @internal */
export function encodeData(data: RegressionData): Buffer {
  const d = checkRegressionData(data, '') as RegressionData;
  const head = Buffer.alloc(HEADER);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(d.rows, 4);
  head.writeUInt32LE(d.dim, 8);
  return Buffer.concat([head, f64Bytes(d.X), f64Bytes(d.y)]);
}

/** Content hash (SHA-256 hex) of an encoded data set. @internal */
export const contentHash = (blob: Uint8Array): string => createHash('sha256').update(blob).digest('hex');

/** Decodes a registered data set; `what` names it in errors. @internal */
export function decodeData(blob: Uint8Array, what: string): RegressionData {
  if (blob.byteLength < HEADER)
    throw new Error(`${what} is not a gradcov data set (${blob.byteLength} bytes)`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const rows = view.getUint32(4, true),
    dim = view.getUint32(8, true);
  if (view.getUint32(0, true) !== MAGIC || blob.byteLength !== HEADER + (rows * dim + rows) * 8) {
    throw new Error(`${what} is not a gradcov data set (bad header or length ${blob.byteLength})`);
  }
  return {
    X: bytesF64(blob, HEADER, rows * dim),
    y: bytesF64(blob, HEADER + rows * dim * 8, rows),
    rows,
    dim,
  };
}

/** A seed as it travels in JSON (bigints as decimal strings). @internal */
export type WireSeed = number | { bigint: string };
export const toWireSeed = (s: number | bigint): WireSeed =>
  typeof s === 'bigint' ? { bigint: s.toString() } : s;
export const fromWireSeed = (s: WireSeed): number | bigint => (typeof s === 'number' ? s : BigInt(s.bigint));

/** Payload of one estimation block job (small JSON: never data, never results). @internal */
export interface BlockJob {
  kind: 'block';
  run: string;
  block: number;
  /** Content hash of the registered data. */
  data: string;
  /** w as numbers (JSON round-trips doubles exactly). */
  w: number[];
  /** estimateHessian's options of the plan's first level, noiseVariance resolved (no method: the block says what to draw). */
  options: Record<string, unknown> & { seed: WireSeed };
  first: number;
  count: number;
  /** The block of the estimate's plan (src/estimators/plan.ts): its level, what it draws, its noise variance. */
  level: number;
  draw: 'gradients' | 'pairs';
  tau2: number;
  /** A sketched plan ('paired' with `sketch`): the block is a CurvatureSketch of this size, k and precision. */
  sketch?: { size: number; k: number; precision?: 'f64' | 'f32' };
  /** Seconds the result key lives in Redis (the coordinator's resultTtl; DEFAULT_RESULT_TTL when absent). */
  ttl?: number;
}

/** Payload of one training round job on a holder's queue. @internal */
export interface RoundJob {
  kind: 'round';
  run: string;
  round: number;
  w: number[];
  batchSize: number;
  batches: number;
  noiseVariance: number;
  seed: WireSeed;
  stream: number;
  /** Also the pair differences g(xi1) - g(xi2) of the same batches (hessianEstimator 'paired'). */
  paired: boolean;
}

/** Asks a holder for its shard's size (rows, dim: no data). @internal */
export interface InfoJob {
  kind: 'info';
  run: string;
}

export type GradcovJob = BlockJob | RoundJob | InfoJob;

/** Default lifetime of a block's result key in Redis, in seconds (7 days): a killed coordinator leaves nothing forever. */
export const DEFAULT_RESULT_TTL = 7 * 24 * 3600;

/** Magic of a block result: 'GCR1', a u32 LE header length, the header (JSON), then the accumulator's toBytes(). */
const RESULT_MAGIC = 0x31524347; // 'GCR1' read as u32 LE
const MAX_RESULT_HEADER = 4096;

/** What a result says it is: checked against the plan's block before it is merged. @internal */
export interface ResultHeader {
  run: string;
  block: number;
  first: number;
  count: number;
  level: number;
  draw: string;
  dim: number;
}

/** A block's result blob: its header (what it is the result of) and the accumulator's bytes. @internal */
export function encodeResult(header: ResultHeader, bytes: Uint8Array): Buffer {
  const head = Buffer.from(JSON.stringify(header));
  const pre = Buffer.alloc(8);
  pre.writeUInt32LE(RESULT_MAGIC, 0);
  pre.writeUInt32LE(head.byteLength, 4);
  return Buffer.concat([pre, head, bytes]);
}

/**
 * The accumulator's bytes of a result blob, after checking that its header is exactly the
 * expected block's (run, block, first, count, level, draw, dim); `what` names the key in
 * errors. Throws an Error naming the first field that differs. @internal
 */
export function decodeResult(blob: Uint8Array, expected: ResultHeader, what: string): Uint8Array {
  const bad = (why: string) =>
    new Error(
      `gradcov: ${what} is not the result of block ${expected.block} of run ${expected.run}: ${why}; it is not merged (delete the key, or let the block run again)`,
    );
  if (blob.byteLength < 8) throw bad(`${blob.byteLength} bytes`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (view.getUint32(0, true) !== RESULT_MAGIC) throw bad('no gradcov result header (magic GCR1)');
  const len = view.getUint32(4, true);
  if (len > MAX_RESULT_HEADER || 8 + len > blob.byteLength) throw bad(`a header of ${len} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(blob.buffer, blob.byteOffset + 8, len).toString('utf8'));
  } catch {
    throw bad('a header that is not JSON');
  }
  if (typeof header !== 'object' || header === null) throw bad('a header that is not an object');
  for (const key of Object.keys(expected) as (keyof ResultHeader)[]) {
    const got = (header as Record<string, unknown>)[key];
    if (got !== expected[key])
      throw bad(
        `its ${key} is ${JSON.stringify(got) ?? 'missing'}, the plan's is ${JSON.stringify(expected[key])}`,
      );
  }
  return blob.subarray(8 + len);
}

/** The header a block's result must carry. @internal */
export const resultHeader = (b: BlockJob, dim: number): ResultHeader => ({
  run: b.run,
  block: b.block,
  first: b.first,
  count: b.count,
  level: b.level,
  draw: b.draw,
  dim,
});

const HASH = /^[0-9a-f]{64}$/;
export const RUN_ID = /^[A-Za-z0-9_.]{1,64}$/;

/** A job field's error: the job is refused (not retried), naming the field and its value. */
function badField(job: string, field: string, rule: string, value: unknown): never {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = Object.prototype.toString.call(value);
  }
  throw new RangeError(
    `gradcov: ${job} has a bad field \`${field}\`: it must be ${rule}. Value: \`${shown.length > 80 ? shown.slice(0, 80) + '…' : shown}\`.`,
  );
}

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/**
 * Checks every field of a block job as it comes from Redis (anyone who can write the queue
 * can forge one): integers are integers in range (a count of 2.5 is refused, not
 * truncated), strings match their forms, w is finite numbers. Returns the job. @internal
 */
export function checkBlockJob(value: unknown, where: string): BlockJob {
  const job = `block job ${where}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    badField(job, 'data', 'an object', value);
  const d = value as Record<string, unknown>;
  if (d.kind !== 'block') badField(job, 'kind', '"block"', d.kind);
  if (typeof d.run !== 'string' || !/^[A-Za-z0-9_.]{1,128}$/.test(d.run))
    badField(job, 'run', 'a run id (letters, digits, _ and .)', d.run);
  if (!isInt(d.block, 0, 0xffffffff)) badField(job, 'block', 'an integer in [0, 2^32)', d.block);
  if (typeof d.data !== 'string' || !HASH.test(d.data))
    badField(job, 'data', 'a SHA-256 content hash (64 hex digits)', d.data);
  if (
    !Array.isArray(d.w) ||
    d.w.length === 0 ||
    d.w.length > 11584 ||
    !d.w.every((v) => typeof v === 'number' && Number.isFinite(v))
  )
    badField(
      job,
      'w',
      'an array of 1 to 11,584 finite numbers',
      Array.isArray(d.w) ? `Array(${d.w.length})` : d.w,
    );
  if (typeof d.options !== 'object' || d.options === null || Array.isArray(d.options))
    badField(job, 'options', 'an object', d.options);
  const seed = (d.options as Record<string, unknown>).seed;
  if (!(
    isInt(seed, 0, Number.MAX_SAFE_INTEGER) ||
    (typeof seed === 'object' &&
      seed !== null &&
      typeof (seed as { bigint?: unknown }).bigint === 'string' &&
      /^\d{1,20}$/.test((seed as { bigint: string }).bigint))
  )) {
    badField(job, 'options.seed', 'a non-negative safe integer or { bigint: "<decimal>" }', seed);
  }
  if (!isInt(d.first, 0, 0xffffffff)) badField(job, 'first', 'an integer in [0, 2^32)', d.first);
  if (!isInt(d.count, 1, 0x7fffffff)) badField(job, 'count', 'an integer in [1, 2^31)', d.count);
  if ((d.first as number) + (d.count as number) > 2 ** 32)
    badField(job, 'first + count', 'at most 2^32', (d.first as number) + (d.count as number));
  if (!isInt(d.level, 0, 1)) badField(job, 'level', '0 or 1', d.level);
  if (d.draw !== 'gradients' && d.draw !== 'pairs') badField(job, 'draw', '"gradients" or "pairs"', d.draw);
  if (typeof d.tau2 !== 'number' || !Number.isFinite(d.tau2) || d.tau2 < 0)
    badField(job, 'tau2', 'a finite number >= 0', d.tau2);
  if (d.sketch !== undefined) {
    const s = d.sketch as Record<string, unknown> | null;
    if (typeof s !== 'object' || s === null) badField(job, 'sketch', 'an object', s);
    if (!isInt(s.size, 2, 2 ** 28)) badField(job, 'sketch.size', 'an integer >= 2', s.size);
    if (!isInt(s.k, 1, s.size as number)) badField(job, 'sketch.k', 'an integer in [1, sketch.size]', s.k);
    if (s.precision !== undefined && s.precision !== 'f64' && s.precision !== 'f32')
      badField(job, 'sketch.precision', '"f64" or "f32"', s.precision);
  }
  if (d.ttl !== undefined && !isInt(d.ttl, 1, 2 ** 31 - 1))
    badField(job, 'ttl', 'an integer number of seconds in [1, 2^31)', d.ttl);
  return d as unknown as BlockJob;
}

/** Checks every field of a training round job as it comes from Redis (see checkBlockJob). @internal */
export function checkRoundJob(value: unknown, where: string, dim: number): RoundJob {
  const job = `round job ${where}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    badField(job, 'data', 'an object', value);
  const d = value as Record<string, unknown>;
  if (typeof d.run !== 'string' || !/^[A-Za-z0-9_.]{1,128}$/.test(d.run))
    badField(job, 'run', 'a run id (letters, digits, _ and .)', d.run);
  if (!isInt(d.round, 0, 0xffffffff)) badField(job, 'round', 'an integer in [0, 2^32)', d.round);
  if (
    !Array.isArray(d.w) ||
    d.w.length !== dim ||
    !d.w.every((v) => typeof v === 'number' && Number.isFinite(v))
  )
    badField(
      job,
      'w',
      `an array of the shard's dim (${dim}) finite numbers`,
      Array.isArray(d.w) ? `Array(${d.w.length})` : d.w,
    );
  if (!isInt(d.batchSize, 1, 2 ** 32)) badField(job, 'batchSize', 'an integer >= 1', d.batchSize);
  if (!isInt(d.batches, 1, 0x7fffffff)) badField(job, 'batches', 'an integer in [1, 2^31)', d.batches);
  if ((d.round as number) * (d.batches as number) + (d.batches as number) > 2 ** 32)
    badField(job, 'round x batches', 'below 2^32', (d.round as number) * (d.batches as number));
  if (typeof d.noiseVariance !== 'number' || !Number.isFinite(d.noiseVariance) || d.noiseVariance < 0)
    badField(job, 'noiseVariance', 'a finite number >= 0', d.noiseVariance);
  const seed = d.seed;
  if (!(
    isInt(seed, 0, Number.MAX_SAFE_INTEGER) ||
    (typeof seed === 'object' &&
      seed !== null &&
      typeof (seed as { bigint?: unknown }).bigint === 'string' &&
      /^\d{1,20}$/.test((seed as { bigint: string }).bigint))
  )) {
    badField(job, 'seed', 'a non-negative safe integer or { bigint: "<decimal>" }', seed);
  }
  if (!isInt(d.stream, 0, 0xffffffff)) badField(job, 'stream', 'an integer in [0, 2^32)', d.stream);
  if (typeof d.paired !== 'boolean') badField(job, 'paired', 'true or false', d.paired);
  return d as unknown as RoundJob;
}
