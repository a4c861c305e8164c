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
  else throw new TypeError(`invalid argument: \`connection\` must be a Redis URL or ioredis options. Value: \`${String(connection)}\`.`);
  // connection errors while Redis is away are retried by ioredis (commands wait for the
  // reconnect); without a listener ioredis would print each one as unhandled
  redis.on('error', () => {});
  return redis;
}

/** Validates a queue name (BullMQ forbids ':' in names). @internal */
export function checkQueue(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.includes(':')) {
    throw new TypeError(`invalid argument: \`${name}\` must be a non-empty string without ':'. Value: \`${String(value)}\`.`);
  }
  return value;
}

export const dataKey = (hash: string) => `${PREFIX}:data:${hash}`;
export const resultKey = (queue: string, run: string, block: number) => `${PREFIX}:${queue}:result:${run}:${block}`;
export const gradientKey = (queue: string, run: string, round: number) => `${PREFIX}:${queue}:grad:${run}:${round}`;
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
  if (blob.byteLength < HEADER) throw new Error(`${what} is not a gradcov data set (${blob.byteLength} bytes)`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const rows = view.getUint32(4, true), dim = view.getUint32(8, true);
  if (view.getUint32(0, true) !== MAGIC || blob.byteLength !== HEADER + (rows * dim + rows) * 8) {
    throw new Error(`${what} is not a gradcov data set (bad header or length ${blob.byteLength})`);
  }
  return { X: bytesF64(blob, HEADER, rows * dim), y: bytesF64(blob, HEADER + rows * dim * 8, rows), rows, dim };
}

/** A seed as it travels in JSON (bigints as decimal strings). @internal */
export type WireSeed = number | { bigint: string };
export const toWireSeed = (s: number | bigint): WireSeed => (typeof s === 'bigint' ? { bigint: s.toString() } : s);
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
export interface InfoJob { kind: 'info'; run: string }

export type GradcovJob = BlockJob | RoundJob | InfoJob;
