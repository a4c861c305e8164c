// The coordinator's side of a worker: a minimal Transport (post, listen, terminate) that
// src/node/workers.ts implements with worker_threads and src/web-workers.ts with Web Workers,
// and the Channel that makes its request/response pairs awaitable. No Node API here.
import { init, isInitialized, wasmModule } from '../core/wasm.js';
import type { SharedWasm } from './shared-memory.js';

/** Buffers moved (not copied) by postMessage: only ArrayBuffers are transferred here. */
export type TransferList = ArrayBuffer[];

/** What the coordinator needs of a worker: post, listen, terminate. */
export interface Transport {
  /** Sends a message to the worker, moving the buffers in `transfer`. */
  postMessage(message: unknown, transfer?: TransferList): void;
  /** Registers the handlers for messages from the worker and for its failure (an error, or its exit). */
  listen(onMessage: (message: unknown) => void, onError: (error: Error) => void): void;
  /** Ends the worker (may return a promise). */
  terminate(): unknown;
}

type Reply =
  { type: 'ok'; id: number; value?: unknown } | { type: 'error'; id: number; name: string; message: string };

/** Error classes a worker's error is rebuilt as on this side (by name). */
function errorKind(name: string): new (message: string) => Error {
  if (name === 'TypeError') return TypeError;
  if (name === 'RangeError') return RangeError;
  if (name === 'RuntimeError' && typeof WebAssembly !== 'undefined') return WebAssembly.RuntimeError;
  return Error;
}

/**
 * Makes a Transport's request/response pairs awaitable. A worker that fails (its error or
 * exit event) or traps in the wasm (a RuntimeError reply: its memory may be corrupt) marks
 * the channel failed: the pending requests are rejected, the worker is terminated, and the
 * owner replaces the channel. @internal
 */
export class Channel {
  #next = 1;
  #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #failed: Error | undefined;
  #closing = false;
  constructor(readonly transport: Transport) {
    transport.listen(
      (msg) => {
        const r = msg as Reply;
        const p = this.#pending.get(r.id);
        this.#pending.delete(r.id);
        if (r.type === 'ok') {
          p?.resolve(r.value);
          return;
        }
        const err = new (errorKind(r.name))(r.message);
        p?.reject(err);
        // a trap may have left the worker's wasm memory corrupt: retire the worker
        if (r.name === 'RuntimeError' || /^abort: /.test(r.message))
          this.#fail(new Error(`its WebAssembly trapped: ${r.message}`), true);
      },
      (err) => this.#fail(err, false),
    );
  }

  #fail(err: Error, terminate: boolean): void {
    if (this.#closing || this.#failed) return;
    this.#failed = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    if (terminate) this.close();
  }

  /** Why this channel's worker can no longer be used, or undefined while it is healthy. */
  get failed(): Error | undefined {
    return this.#failed;
  }

  request<T>(message: Record<string, unknown>, transfer?: TransferList): Promise<T> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#closing) return Promise.reject(new Error('gradcov: the worker has been terminated.'));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        this.transport.postMessage({ ...message, id }, transfer);
      } catch (err) {
        this.#pending.delete(id);
        reject(err);
      }
    });
  }

  /** Terminates the worker on purpose (its exit is then not a failure). Safe to call twice. */
  close(): unknown {
    if (this.#closing) return undefined;
    this.#closing = true;
    return this.transport.terminate();
  }
}

/** Makes `count` transports; if one cannot be made, terminates those made before. @internal */
export function makeTransports(make: (index: number) => Transport, count: number): Transport[] {
  const out: Transport[] = [];
  try {
    for (let i = 0; i < count; i++) out.push(make(i));
  } catch (err) {
    for (const t of out) t.terminate();
    throw err;
  }
  return out;
}

/**
 * Starts the workers: hands each the compiled module (or, for a shared-memory pool, the
 * shared build and the memory) and waits until all have loaded it. @internal
 */
export async function startChannels(transports: Transport[], shared?: SharedWasm): Promise<Channel[]> {
  if (!isInitialized()) await init();
  const module = wasmModule();
  const channels = transports.map((t) => new Channel(t));
  try {
    await Promise.all(
      channels.map((c) =>
        c.request(
          shared ? { type: 'init', module: shared.module, memory: shared.memory } : { type: 'init', module },
        ),
      ),
    );
  } catch (err) {
    await Promise.all(channels.map((c) => c.close()));
    throw err;
  }
  return channels;
}

/** Splits [0, items) into `parts` contiguous ranges of near-equal size. @internal */
export function contiguous(items: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < parts; i++)
    out.push([Math.floor((i * items) / parts), Math.floor(((i + 1) * items) / parts)]);
  return out;
}
