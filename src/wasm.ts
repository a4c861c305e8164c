// The one module that owns WebAssembly memory: it instantiates the kernels (through
// @assemblyscript/loader), allocates and frees, and hands out fresh typed-array views.
// Views are made after every allocation, since memory growth detaches the old ones.

import { instantiate } from '@assemblyscript/loader';

/** The raw kernel exports (numbers and pointers only). */
export interface Kernels {
  readonly memory: WebAssembly.Memory;
  alloc(size: number): number;
  free(ptr: number): void;
  philoxFill(outPtr: number, count: number, k0: number, k1: number, startLo: number, startHi: number,
    domain: number, stream: number, mode: number): void;
  philoxBlock(ctrPtr: number, k0: number, k1: number, outPtr: number): void;
  mathLog(xPtr: number, outPtr: number, n: number): void;
  mathCosSin2Pi(uPtr: number, outPtr: number, n: number): void;
  lrGradients(xPtr: number, yPtr: number, rows: number, dim: number, wPtr: number, batchSize: number,
    batches: number, firstBatch: number, noiseStd: number, k0: number, k1: number, stream: number,
    replacement: number, outPtr: number, scratchPtr: number): void;
  lrGradientsScratchBytes(rows: number, batchSize: number, replacement: number): number;
  covAddRows(gPtr: number, rows: number, dim: number, isF32: number, count: number,
    meanPtr: number, mPtr: number, scratchPtr: number): number;
  covMerge(countA: number, meanAPtr: number, mAPtr: number, countB: number, meanBPtr: number,
    mBPtr: number, dp: number, deltaPtr: number): number;
  covWrite(mPtr: number, dp: number, dim: number, scale: number, outPtr: number): void;
  covPaddedDim(dim: number): number;
  covScratchBytes(dim: number): number;
  matvec(aPtr: number, xPtr: number, yPtr: number, dim: number): void;
  matvecDiff(aPtr: number, bPtr: number, xPtr: number, yPtr: number, dim: number): void;
  powerIteration(aPtr: number, bPtr: number, dim: number, vPtr: number, wPtr: number,
    tol: number, maxIter: number, outPtr: number): void;
  lanczosStep(aPtr: number, bPtr: number, dim: number, basisPtr: number, k: number, outPtr: number): void;
}

/** What init() accepts: a compiled module, the .wasm bytes, or a fetch Response (or a promise of one). */
export type WasmSource = WebAssembly.Module | BufferSource | Response | PromiseLike<Response>;

let kernels: Kernels | undefined;
let pending: Promise<void> | undefined;
let defaultSource: (() => Promise<WasmSource>) | undefined;
let defaultSourceName = 'the bundled gradcov.wasm';

/** Entry points (node, browser) register how to find the bundled .wasm. @internal */
export function setDefaultSource(name: string, load: () => Promise<WasmSource>): void {
  defaultSourceName = name;
  defaultSource = load;
}

function describe(source: unknown): string {
  if (source instanceof WebAssembly.Module) return 'a WebAssembly.Module';
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) return `${source.byteLength} bytes`;
  if (typeof Response !== 'undefined' && source instanceof Response) return `a Response from ${source.url || '(no url)'}`;
  return 'the given source';
}

/**
 * Loads the WebAssembly kernels. Call once and await it before anything else.
 * With no argument it loads the bundled `gradcov.wasm`; it also accepts a precompiled
 * `WebAssembly.Module` (for runtimes that forbid compiling bytes), the bytes, or a Response.
 * Later calls resolve at once and keep the first module (objects hold pointers into it).
 *
 * @example
 * import { init } from 'gradcov';
 * await init();
 */
export function init(source?: WasmSource): Promise<void> {
  if (kernels) return Promise.resolve();
  if (pending) return pending;
  const what = source === undefined ? defaultSourceName : describe(source);
  pending = (async () => {
    let src: WasmSource;
    if (source === undefined) {
      if (!defaultSource) throw new Error('gradcov: no default wasm location in this build; pass the module or bytes to init().');
      src = await defaultSource();
    } else {
      src = source;
    }
    const { exports } = await instantiate(src as never, {});
    kernels = exports as unknown as Kernels;
  })().catch((err: unknown) => {
    pending = undefined;
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`gradcov: failed to load the WebAssembly module from ${what}: ${msg}`, { cause: err });
  });
  return pending;
}

/** True once init() has completed. */
export function isInitialized(): boolean {
  return kernels !== undefined;
}

/** The kernels, or a clear error when init() has not completed. @internal */
export function wasm(): Kernels {
  if (!kernels) throw new Error('gradcov: the WebAssembly module is not loaded; call `await init()` first.');
  return kernels;
}

/** Largest single allocation we attempt (wasm32 memory tops out at 4 GiB). */
const MAX_BYTES = 2 ** 32 - 2 ** 26;

/** Allocates bytes on the wasm heap, or throws a RangeError saying what was needed. @internal */
export function alloc(bytes: number, what: string): number {
  const k = wasm();
  const inUse = k.memory.buffer.byteLength;
  if (!(bytes <= MAX_BYTES) || inUse + bytes > 2 ** 32) {
    throw new RangeError(`${what} needs ${formatBytes(bytes)} of WebAssembly memory, more than a wasm32 module can hold (4 GiB, ${formatBytes(inUse)} in use).`);
  }
  try {
    return k.alloc(Math.max(bytes, 8));
  } catch (err) {
    throw new RangeError(`${what} needs ${formatBytes(bytes)} of WebAssembly memory and the engine refused to grow it (${formatBytes(inUse)} in use).`, { cause: err });
  }
}

export function free(ptr: number): void {
  if (ptr) wasm().free(ptr);
}

/** Runs fn with freshly allocated blocks, freeing them afterwards whatever happens. @internal */
export function withBlocks<T>(sizes: readonly number[], what: string, fn: (...ptrs: number[]) => T): T {
  const ptrs: number[] = [];
  try {
    for (const s of sizes) ptrs.push(alloc(s, what));
    return fn(...ptrs);
  } finally {
    for (const p of ptrs) free(p);
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** A fresh Float64Array view of wasm memory. @internal */
export function f64(ptr: number, length: number): Float64Array {
  return new Float64Array(wasm().memory.buffer, ptr, length);
}

/** Copies a typed array (any byteOffset) into wasm memory at ptr. @internal */
export function copyIn(ptr: number, src: ArrayBufferView, bytes = src.byteLength): void {
  new Uint8Array(wasm().memory.buffer, ptr, bytes).set(new Uint8Array(src.buffer, src.byteOffset, bytes));
}

/** Bytes of wasm linear memory currently reserved (grows, never shrinks). */
export function wasmMemoryBytes(): number {
  return wasm().memory.buffer.byteLength;
}
