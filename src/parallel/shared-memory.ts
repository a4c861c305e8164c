// Memory shared with workers: the shared-memory build of the kernels on one
// WebAssembly.Memory, and data packed once into a buffer the workers read.
import {
  wasmBuild,
  makeSharedMemory,
  importsMemory,
  compile,
  RegionAllocator,
  formatBytes,
  type WasmModule,
  type WasmBuild,
  type WasmSource,
} from '../core/wasm.js';
import { checkFinite, type RegressionShape } from '../core/validate.js';

/**
 * The memory a shared-memory pool's workers have in common: the compiled shared build,
 * the WebAssembly.Memory all their instances import, and the main thread's allocator for
 * the data sets placed in it. @internal
 */
export interface SharedWasm {
  module: WasmModule;
  memory: WebAssembly.Memory;
  regions: RegionAllocator;
}

/** Where an entry finds the shared-memory build of the kernels, for the build init() loaded. @internal */
export type SharedWasmLoader = (build: WasmBuild) => WasmSource | Promise<WasmSource>;

/** Compiled shared builds, by loader and build: each compiled once. */
const sharedModules = new WeakMap<SharedWasmLoader, Map<WasmBuild, Promise<WasmModule | undefined>>>();

/**
 * The shared build matching the build init() loaded, compiled once per build, and a fresh
 * shared memory; undefined where any of it is unavailable: the kernels came from the caller
 * (no bundled build to match, so no guarantee of the same bits), the runtime has no
 * shared WebAssembly memory, or the file does not load. @internal
 */
export async function prepareSharedWasm(load: SharedWasmLoader | undefined): Promise<SharedWasm | undefined> {
  const build = wasmBuild();
  if (!load || build === undefined) return undefined;
  let byBuild = sharedModules.get(load);
  if (!byBuild) sharedModules.set(load, (byBuild = new Map()));
  let pending = byBuild.get(build);
  if (!pending) {
    pending = (async () => {
      try {
        return (await compile(await load(build))) as WasmModule;
      } catch {
        return undefined;
      }
    })();
    byBuild.set(build, pending);
  }
  const module = await pending;
  const memory = module === undefined || !importsMemory(module) ? undefined : makeSharedMemory();
  if (!module || !memory) return undefined;
  return { module, memory, regions: new RegionAllocator(memory) };
}

/**
 * Whether this runtime can share memory with its workers: SharedArrayBuffer exists and,
 * in a browser, the page is cross-origin isolated (COOP/COEP headers). Node's
 * worker_threads, Deno and Bun can; a page that is not cross-origin isolated cannot.
 * @internal
 */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
}

/**
 * X and y in one buffer the pool owns (shared with the workers, or copied to them); `at`:
 * their addresses when the buffer is the workers' shared WebAssembly memory. @internal
 */
export interface PackedData {
  X: Float64Array;
  y: Float64Array;
  rows: number;
  dim: number;
  at?: [number, number];
}

function isSharedBuffer(view: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer === 'function' && view.buffer instanceof SharedArrayBuffer;
}

/**
 * Copies validated data once into a buffer of its own (a SharedArrayBuffer when `shared`).
 * Where the caller's arrays live in shared memory, another thread could change them after
 * they were checked: then the copy is checked again, so what the workers get is exactly
 * what passed validation. @internal
 */
export function packData(
  d: RegressionShape,
  shared: boolean,
  name = 'data',
  wasmShared?: SharedWasm,
): PackedData {
  const n = d.rows * d.dim;
  const bytes = (n + d.rows) * 8;
  let at: [number, number] | undefined;
  let buffer: ArrayBufferLike;
  let base = 0;
  if (wasmShared) {
    // in the workers' shared WebAssembly memory: they read it there, nobody copies it
    try {
      base = wasmShared.regions.alloc(bytes);
    } catch (err) {
      throw new RangeError(
        `${name} needs ${formatBytes(bytes)} of the workers' shared WebAssembly memory and the engine refused to grow it (${formatBytes(wasmShared.memory.buffer.byteLength)} reserved, 4 GiB at most).`,
        { cause: err },
      );
    }
    buffer = wasmShared.memory.buffer;
    at = [base, base + n * 8];
  } else {
    buffer = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  }
  const X = new Float64Array(buffer, base, n);
  const y = new Float64Array(buffer, base + n * 8, d.rows);
  try {
    X.set(d.X);
    y.set(d.y);
    if (isSharedBuffer(d.X)) checkFinite(`${name}.X`, X);
    if (isSharedBuffer(d.y)) checkFinite(`${name}.y`, y);
  } catch (err) {
    if (at) wasmShared!.regions.free(base);
    throw err;
  }
  return at ? { X, y, rows: d.rows, dim: d.dim, at } : { X, y, rows: d.rows, dim: d.dim };
}
