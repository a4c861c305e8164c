// The one module that owns WebAssembly memory: it compiles the kernels once (caching the
// WebAssembly.Module), instantiates them, allocates and frees, and hands out fresh
// typed-array views. Views are made after every allocation, since memory growth detaches
// the old ones. Where the bundled .wasm comes from is up to the entry file (node.ts reads
// it from disk, browser.ts fetches it, workerd.ts and edge.ts import it as a module,
// inline.ts decodes base64); this module only picks which build to ask for.
import { instantiate as asInstantiate } from '@assemblyscript/loader';
import { show, checkOptionKeys } from './validate.js';

/** The sketch kernels' signatures (assembly/sketch.ts), shared by their f64- and f32-storage exports. @internal */
export type SketchGram = (
  bPtr: number,
  n: number,
  dp: number,
  gPtr: number,
  ldg: number,
  scratchPtr: number,
) => void;
/** @internal */
export type SketchRotate = (
  bPtr: number,
  n: number,
  dp: number,
  wpPtr: number,
  r: number,
  outPtr: number,
  ldo: number,
  scratchPtr: number,
) => void;
/** @internal */
export type SketchAddRows = (
  rPtr: number,
  rows: number,
  dim: number,
  isF32: number,
  scale: number,
  bPtr: number,
  at: number,
  dp: number,
  diagPtr: number,
) => number;

/** The raw kernel exports (numbers and pointers only). */
export interface Kernels {
  /** The exported WebAssembly.Memory (typed by what we use, so the .d.ts needs no lib.dom). */
  readonly memory: { readonly buffer: ArrayBuffer };
  alloc(size: number): number;
  free(ptr: number): void;
  philoxFill(
    outPtr: number,
    count: number,
    k0: number,
    k1: number,
    startLo: number,
    startHi: number,
    domain: number,
    stream: number,
    mode: number,
  ): void;
  philoxBlock(ctrPtr: number, k0: number, k1: number, outPtr: number): void;
  mathLog(xPtr: number, outPtr: number, n: number): void;
  mathCosSin2Pi(uPtr: number, outPtr: number, n: number): void;
  mathBoxMuller(u1Ptr: number, u2Ptr: number, outPtr: number, n: number, dual: number): void;
  /** The last two arguments: the optional sort area (0, 0 for none; the same bits either way). */
  lrGradients(
    xPtr: number,
    yPtr: number,
    rows: number,
    dim: number,
    wPtr: number,
    batchSize: number,
    batches: number,
    firstBatch: number,
    noiseStd: number,
    k0: number,
    k1: number,
    stream: number,
    replacement: number,
    outPtr: number,
    scratchPtr: number,
    areaPtr: number,
    areaBytes: number,
  ): void;
  lrGradientsScratchBytes(rows: number, batchSize: number, replacement: number): number;
  lrPairedDiffs(
    xPtr: number,
    rows: number,
    dim: number,
    batchSize: number,
    batches: number,
    firstBatch: number,
    noiseStd: number,
    k0: number,
    k1: number,
    stream: number,
    replacement: number,
    outPtr: number,
    scratchPtr: number,
    areaPtr: number,
    areaBytes: number,
  ): void;
  /** Bytes of the sort area for calls of up to `batches` batches (0: it would not be used); paired: 1 for lrPairedDiffs. */
  lrSortAreaBytes(rows: number, dim: number, batchSize: number, batches: number, paired: number): number;
  /** log2 of the rows per bucket of the summation order (31: one bucket). */
  lrBucketShift(rows: number, dim: number): number;
  /** Test hook: the order's and the paths' tuning constants (negative: the default). */
  lrGradientsTuning(
    bucketBytes: number,
    sortMinXBytes: number,
    pairedSortMinXBytes: number,
    blockBytes: number,
  ): void;
  /** Extreme Ritz values of T_k and their residual bounds into statePtr (5 doubles, in and out). */
  ritzEnds(
    alphaPtr: number,
    betaPtr: number,
    k: number,
    betaK: number,
    ends: number,
    statePtr: number,
    scratchPtr: number,
  ): void;
  lrPairedDiffsScratchBytes(rows: number, batchSize: number, replacement: number): number;
  covAddRows(
    gPtr: number,
    rows: number,
    dim: number,
    isF32: number,
    count: number,
    meanPtr: number,
    mPtr: number,
    scratchPtr: number,
  ): number;
  /** covAddRows with f32 products summed over 64-row runs, carried in f64 (precision 'f32'). */
  covAddRowsF32(
    gPtr: number,
    rows: number,
    dim: number,
    isF32: number,
    count: number,
    meanPtr: number,
    mPtr: number,
    scratchPtr: number,
  ): number;
  covMerge(
    countA: number,
    meanAPtr: number,
    mAPtr: number,
    countB: number,
    meanBPtr: number,
    mBPtr: number,
    dp: number,
    deltaPtr: number,
  ): number;
  covWrite(mPtr: number, dp: number, dim: number, scale: number, outPtr: number): void;
  /** Index of the first NaN or infinity among n doubles at xPtr, or -1. */
  firstNonFinite(xPtr: number, n: number): number;
  covPaddedDim(dim: number): number;
  covScratchBytes(dim: number): number;
  matvec(aPtr: number, xPtr: number, yPtr: number, dim: number): void;
  symMatvec(aPtr: number, xPtr: number, yPtr: number, dim: number): void;
  matvecDiff(aPtr: number, bPtr: number, xPtr: number, yPtr: number, dim: number): void;
  matrixInfo(aPtr: number, dim: number, outPtr: number): void;
  symPrepare(aPtr: number, dim: number, f1: number, f2: number): void;
  matSub(aPtr: number, bPtr: number, n: number): void;
  powerIteration(
    aPtr: number,
    bPtr: number,
    dim: number,
    vPtr: number,
    wPtr: number,
    tol: number,
    maxIter: number,
    outPtr: number,
  ): void;
  lanczosSteps(
    aPtr: number,
    dim: number,
    basisPtr: number,
    from: number,
    to: number,
    alphaPtr: number,
    betaPtr: number,
    hPtr: number,
  ): number;
  /** G = B[0:n] B[0:n]' on upper 4 x 4 tiles (assembly/sketch.ts). */
  sketchGram: SketchGram;
  /** sketchGram of a buffer of f32 rows (precision 'f32'). */
  sketchGramF32: SketchGram;
  sketchGramScratchBytes(np: number): number;
  /** B[0:r] <- W B[0:n] in place (outPtr = bPtr) or into outPtr (rows of ldo doubles). */
  sketchRotate: SketchRotate;
  /** sketchRotate of a buffer of f32 rows: in place rounded to f32, out of place as f64 rows. */
  sketchRotateF32: SketchRotate;
  sketchRotateScratchBytes(r: number): number;
  /** Copies scaled rows into the buffer from row `at`, adds their squares to diag; returns the sum of squares. */
  sketchAddRows: SketchAddRows;
  /** sketchAddRows into a buffer of f32 rows (each scaled value rounded as stored; squares from the f64 values). */
  sketchAddRowsF32: SketchAddRows;
  /** Returns -1, or the index of the first non-positive pivot (its value stored at pivotPtr). */
  choleskyFactor(aPtr: number, dim: number, ridge: number, pivotPtr: number): number;
  choleskyForward(lPtr: number, dim: number, xPtr: number): void;
  choleskyBackward(lPtr: number, dim: number, xPtr: number): void;
  choleskySolve(lPtr: number, dim: number, xPtr: number): void;
}

// The public types name WebAssembly.Module and Response through `typeof globalThis`, so a
// program whose lib declares them (DOM, WebWorker, Deno, newer @types/node) gets the real
// types, and one that does not (lib ES2022 with @types/node 20) still type-checks.
/** A compiled `WebAssembly.Module` (an opaque object where the program's lib does not declare WebAssembly). */
export type WasmModule = typeof globalThis extends {
  /** The platform's WebAssembly namespace. */
  WebAssembly: {
    /** Its Module class. */
    Module: {
      /** The instance type of Module. */
      prototype: infer M;
    };
  };
}
  ? M & object
  : object; // & object: lib.dom's Module is an empty interface a string would satisfy

/** A fetch `Response` (or what init() needs of one, where the program's lib does not declare fetch). */
export type WasmResponse = typeof globalThis extends {
  /** The platform's fetch Response class. */
  Response: {
    /** The instance type of Response. */
    prototype: infer R;
  };
}
  ? R
  : {
      /** Whether the status is 2xx. */
      readonly ok: boolean;
      /** The HTTP status. */
      readonly status: number;
      /** The URL fetched (named in error messages). */
      readonly url: string;
      /** The body's bytes. */
      arrayBuffer(): Promise<ArrayBuffer>;
    };

/** What init() accepts: a compiled module, the .wasm bytes, or a fetch Response (or a promise of one). */
export type WasmSource =
  WasmModule | ArrayBuffer | ArrayBufferView | WasmResponse | PromiseLike<WasmResponse>;

/**
 * The bundled builds, by the file each entry ships. One today; a second (relaxed SIMD)
 * joins by adding its name here, a line in each entry's table, and a test in pickBuild().
 */
export type WasmBuild = 'simd' | 'relaxed-simd';

/** Which build init() loads: 'auto' (default) picks relaxed SIMD where the engine validates it. */
export type BuildPreference = 'auto' | WasmBuild;

/** Options of init(). */
export interface InitOptions {
  /**
   * 'auto' (default): the relaxed-SIMD build (fused multiply-add in the covariance and sketch
   * kernels) where the engine supports it (Chromium, Deno, Bun, Node >= 22), else plain SIMD.
   * 'simd': always the plain build, whose results are bit-identical on every engine.
   * 'relaxed-simd': require the relaxed build (init() fails where the engine lacks it).
   * The random numbers are bit-identical in both builds; covariance and sketch results of
   * the relaxed build may differ from the plain build in the last bits.
   */
  build?: BuildPreference;
}

/** How an entry file finds a bundled build: a description for error messages and a load. @internal */
export interface DefaultLoader {
  where(build: WasmBuild): string;
  load(build: WasmBuild): WasmSource | Promise<WasmSource>;
}

let kernels: Kernels | undefined;
let compiled: WebAssembly.Module | undefined;
let pending: Promise<void> | undefined;
let defaultLoader: DefaultLoader | undefined;
let loadedBuild: WasmBuild | undefined;
/** What the first successful (or running) init() was asked for, to compare later calls with. */
let requested: { source: WasmSource | undefined; build: BuildPreference } | undefined;

/**
 * Which bundled build init() loaded ('simd' or 'relaxed-simd'), or undefined when the
 * module came from the caller (a Module, bytes or a Response).
 */
export function wasmBuild(): WasmBuild | undefined {
  return loadedBuild;
}

/** Entry points (node, browser, workerd, edge, inline) register how to find the bundled .wasm. @internal */
export function setDefaultLoader(loader: DefaultLoader): void {
  defaultLoader = loader;
}

/** The build this engine should run: the place to feature-detect a relaxed-SIMD build. */
function pickBuild(preference: BuildPreference): WasmBuild {
  if (preference !== 'auto') return preference;
  return relaxedSimdSupported() ? 'relaxed-simd' : 'simd';
}

/**
 * A 61-byte module whose one function returns f64x2.relaxed_madd of three v128 constants:
 * it validates exactly where the engine implements relaxed SIMD.
 */
const RELAXED_PROBE = [
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7b, // type: () -> v128
  0x03,
  0x02,
  0x01,
  0x00, // one function of type 0
  0x0a,
  0x3d,
  0x01,
  0x3b,
  0x00, // code: one body of 59 bytes, no locals
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]), // v128.const 0 (x3)
  0xfd,
  0x87,
  0x02, // f64x2.relaxed_madd
  0x0b, // end
];

/** Whether this engine runs relaxed SIMD (checked once, without compiling anything). */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(new Uint8Array(RELAXED_PROBE));
  } catch {
    return false;
  }
}

// Realm-independent checks: a Module or Response made in another realm (a vm context, an
// iframe) fails `instanceof` but works with WebAssembly.instantiate / arrayBuffer().
// (Not a type guard: Module is an empty interface, so a guard would narrow everything else to never.)
function isModule(source: unknown): boolean {
  return Object.prototype.toString.call(source) === '[object WebAssembly.Module]';
}

function isResponse(source: unknown): source is Response {
  return (
    typeof source === 'object' &&
    source !== null &&
    typeof (source as Response).arrayBuffer === 'function' &&
    typeof (source as Response).headers === 'object'
  );
}

function isBytes(source: unknown): source is BufferSource {
  return ArrayBuffer.isView(source) || Object.prototype.toString.call(source) === '[object ArrayBuffer]';
}

function describe(source: unknown): string {
  if (isModule(source)) return 'a WebAssembly.Module';
  if (isBytes(source)) return `${source.byteLength} bytes`;
  if (isResponse(source)) return `a Response from ${source.url || '(no url)'}`;
  if (typeof (source as PromiseLike<unknown> | null)?.then === 'function') return 'a promised Response';
  return `the given source (${Object.prototype.toString.call(source)})`;
}

/** Compiles a Response: streaming when the server says application/wasm, else from the bytes. */
async function compileResponse(res: Response): Promise<WebAssembly.Module> {
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
  const type = res.headers.get('content-type') ?? '';
  if (typeof WebAssembly.compileStreaming === 'function' && /^application\/wasm\b/i.test(type)) {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

/** Compiles any WasmSource (a Module is returned as it is). @internal */
export async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  const src = await source;
  if (isModule(src)) return src as WebAssembly.Module;
  if (isResponse(src)) return compileResponse(src);
  if (isBytes(src)) return WebAssembly.compile(src);
  throw new TypeError(
    'expected a WebAssembly.Module, an ArrayBuffer or typed array of .wasm bytes, or a Response',
  );
}

/**
 * Instantiates through @assemblyscript/loader (the design card's loader), which supplies
 * the one import the module has, `env.abort`, decoding the assertion message. The loader
 * recognises modules with `instanceof`, so a module compiled in another realm (a host
 * injecting a precompiled module into an edge sandbox) is instantiated directly, with an
 * abort that does the same decoding.
 */
async function instantiate(module: WebAssembly.Module): Promise<Kernels> {
  if (module instanceof WebAssembly.Module) {
    const { exports } = await asInstantiate(module as never, {});
    return exports as unknown as Kernels;
  }
  let memory: WebAssembly.Memory | undefined;
  const text = (ptr: number): string => {
    if (!memory || !ptr) return '';
    const view = new DataView(memory.buffer);
    const units = view.getUint32(ptr - 4, true) >>> 1; // AS strings: UTF-16, byte length before
    let s = '';
    for (let i = 0; i < units; i++) s += String.fromCharCode(view.getUint16(ptr + 2 * i, true));
    return s;
  };
  const env = {
    abort(msg: number, file: number, line: number, column: number): never {
      throw new Error(`abort: ${text(msg)} in ${text(file)}(${line}:${column})`);
    },
  };
  const instance = await WebAssembly.instantiate(module as unknown as WebAssembly.Module, { env }); // a module of another realm
  memory = instance.exports.memory as WebAssembly.Memory;
  return instance.exports as unknown as Kernels;
}

/** Why a load failed, with a hint where the cause is a known runtime restriction. */
function explain(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/code generation|disallowed|not allowed|CompileError: WebAssembly\.compile\(\)/i.test(msg)) {
    return `${msg} (this runtime forbids compiling WebAssembly from bytes: pass a precompiled WebAssembly.Module to init())`;
  }
  return msg;
}

/**
 * Loads the WebAssembly kernels. Call once and await it before anything else.
 * With no argument it loads the bundled `gradcov.wasm` the way the entry your runtime
 * resolved knows (Node: from disk; browsers and workers: fetch next to the module,
 * streaming; Cloudflare workerd and Vercel Edge: imported as a compiled module;
 * `gradcov/inline`: decoded from base64). It also accepts a precompiled
 * `WebAssembly.Module` (for runtimes that forbid compiling bytes), the bytes, or a Response.
 *
 * One module per realm: later calls with no source, or with the same source object, and
 * no `build` or the same one, resolve with the first module. A later call asking for a
 * different source or build rejects with an Error saying what is loaded (objects hold
 * pointers into the first module, so it cannot be swapped under them); load a second
 * configuration in a worker instead. A promise passed as `source` is always observed, so
 * its rejection never goes unhandled.
 * With `build: 'auto'` and no source, a missing or unloadable relaxed-SIMD file falls back
 * to the plain SIMD build.
 *
 * @param source - where to get the kernels; omit for the bundled file
 * @param options - `build`: 'auto' (default), 'simd' or 'relaxed-simd'
 * @returns a promise that resolves once the kernels are ready
 * @throws TypeError or RangeError for a bad argument; Error naming the source tried and
 *   why it failed, or naming the loaded configuration when a different one is asked for
 * @example
 * import { init } from 'gradcov';
 * await init();
 */
export function init(source?: WasmSource, options?: InitOptions): Promise<void> {
  // the arguments are checked even when the kernels are already loaded: a wrong call is
  // reported the same way on the first and on later calls
  if (
    source !== undefined &&
    !isModule(source) &&
    !isBytes(source) &&
    !isResponse(source) &&
    typeof (source as PromiseLike<unknown> | null)?.then !== 'function'
  ) {
    return Promise.reject(
      new TypeError(
        `invalid argument: \`source\` must be a WebAssembly.Module, an ArrayBuffer or typed array of .wasm bytes, a Response or a promise of one. Value: \`${show(source)}\`.`,
      ),
    );
  }
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    return Promise.reject(
      new TypeError(`invalid argument: \`options\` must be an object. Value: \`${show(options)}\`.`),
    );
  }
  try {
    if (options !== undefined) checkOptionKeys(options, ['build'], '`options` of init()');
  } catch (err) {
    return Promise.reject(err);
  }
  const preference: unknown = options?.build ?? 'auto';
  if (typeof preference !== 'string' || !['auto', 'simd', 'relaxed-simd'].includes(preference)) {
    const Kind = typeof preference === 'string' ? RangeError : TypeError;
    return Promise.reject(
      new Kind(
        `invalid argument: \`build\` must be one of 'auto', 'simd', 'relaxed-simd'. Value: \`${show(preference)}\`.`,
      ),
    );
  }
  // observe a promised source at once, so a call that does not use it (or rejects before
  // awaiting it) never leaves its rejection unhandled
  if (source !== undefined && typeof (source as PromiseLike<unknown>).then === 'function') {
    Promise.resolve(source).catch(() => {});
  }
  if (requested) {
    const sameSource = source === undefined || source === requested.source;
    // the same build: asked for the same way, or resolving to the build that is loaded
    // ('auto' and 'simd' are the same request on an engine without relaxed SIMD)
    const sameBuild =
      options?.build === undefined ||
      preference === requested.build ||
      (loadedBuild !== undefined && pickBuild(preference as BuildPreference) === loadedBuild);
    if (!sameSource || !sameBuild) {
      const loaded = `${requested.source === undefined ? 'the bundled .wasm' : describe(requested.source)}, build '${loadedBuild ?? requested.build}'`;
      const asked = [
        !sameSource ? `source ${describe(source)}` : '',
        !sameBuild ? `build '${String(preference)}'` : '',
      ]
        .filter(Boolean)
        .join(' and ');
      return Promise.reject(
        new Error(
          `gradcov: init() was already called (${loaded}); a second call asking for ${asked} is refused: objects hold pointers into the loaded module, so it cannot be swapped. Call init() with no arguments to reuse it, or load another configuration in a Web Worker or worker thread.`,
        ),
      );
    }
  }
  if (kernels) return Promise.resolve();
  if (pending) return pending;
  const build = pickBuild(preference as BuildPreference);
  if (source === undefined && build === 'relaxed-simd' && !relaxedSimdSupported()) {
    return Promise.reject(
      new Error(
        "gradcov: build 'relaxed-simd' was requested but this engine does not support relaxed SIMD; use 'auto' or 'simd'.",
      ),
    );
  }
  let what = describe(source);
  requested = { source, build: preference as BuildPreference };
  pending = (async () => {
    let module: WebAssembly.Module;
    let used = build;
    if (source === undefined) {
      if (!defaultLoader)
        throw new Error(
          'this entry has no default location for the .wasm; pass a WebAssembly.Module, the bytes or a Response to init()',
        );
      const loader = defaultLoader;
      const load = async (b: WasmBuild) => {
        what = loader.where(b);
        return compile(await loader.load(b));
      };
      try {
        module = await load(build);
      } catch (err) {
        // 'auto' chose relaxed SIMD, but its file is missing or broken: the plain build runs everywhere
        if (preference !== 'auto' || build === 'simd') throw err;
        used = 'simd';
        module = await load(used);
      }
    } else {
      module = await compile(source);
    }
    kernels = await instantiate(module);
    compiled = module;
    loadedBuild = source === undefined ? used : undefined;
  })().catch((err: unknown) => {
    pending = undefined;
    requested = undefined;
    throw new Error(`gradcov: failed to load the WebAssembly module from ${what}: ${explain(err)}`, {
      cause: err,
    });
  });
  return pending;
}

/**
 * The compiled kernels, to hand to a Web Worker or worker thread (`postMessage(wasmModule())`,
 * then `init(module)` there) so they are not fetched and compiled again.
 *
 * @returns the WebAssembly.Module that init() loaded
 * @throws Error when init() has not completed
 * @example
 * await init();
 * worker.postMessage({ module: wasmModule() });
 */
export function wasmModule(): WasmModule {
  if (!compiled) throw new Error('gradcov: the WebAssembly module is not loaded; call `await init()` first.');
  return compiled as WasmModule;
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

// ---------------------------------------------------------------------------------------
// Size arithmetic: the one place where byte counts that reach wasm are computed and checked.
//
// Every byte count is computed here in JS doubles (exact integers below 2^53, so a product
// such as 24 * batchSize cannot wrap as it would in 32-bit wasm arithmetic) and checked,
// before any wasm call, against the heap's largest block and the 4 GiB address space of
// wasm32. Pointers coming back from wasm are read as unsigned (`>>> 0`): a block above
// 2 GiB has an address >= 2^31, which an i32 result would make negative.

/**
 * Largest single allocation: AssemblyScript's TLSF heap serves blocks below 1 GiB
 * (BLOCK_MAXSIZE = 2^30 minus its block overhead) and aborts on larger requests. The heap
 * is the patched copy in assembly/rt/tlsf.ts (upstream handed out too-small blocks for
 * requests >= 512 MiB); every size up to this one is served whole.
 */
export const MAX_BLOCK_BYTES = 2 ** 30 - 64;

/** wasm32 linear memory: 2^32 bytes (65536 pages), also V8's limit for one memory. */
export const ADDRESS_SPACE_BYTES = 2 ** 32;

/** Bytes held by live blocks (what alloc handed out and free has not taken back). */
let liveBytes = 0;
const blockSizes = new Map<number, number>();

/**
 * `count` elements of `elementBytes` bytes each, as an exact byte count (53-bit), or
 * Infinity when the product is not a safe integer. @internal
 */
export function byteCount(count: number, elementBytes: number): number {
  const b = count * elementBytes;
  return Number.isSafeInteger(b) && b >= 0 ? b : Infinity;
}

/**
 * Checks that blocks of the given sizes (bytes, all to be held at once) can be allocated:
 * each below the heap's largest block, together within the 4 GiB address space beside the
 * blocks already live. Throws a RangeError that names `blame` (the user's parameter and
 * its value, e.g. "`batchSize` = 89478486"; undefined for internal sizes) and what needed
 * the memory. Call it before
 * copying anything or calling a kernel. @internal
 */
export function checkBlocks(sizes: readonly number[], blame: string | undefined, what: string): void {
  const lead =
    blame === undefined ? `${what} needs` : `invalid argument: ${blame} is too large: ${what} needs`;
  let total = 0;
  for (const bytes of sizes) {
    if (!(Number.isSafeInteger(bytes) && bytes >= 0 && bytes <= MAX_BLOCK_BYTES)) {
      throw new RangeError(
        `${lead} ${formatBytes(bytes)} of WebAssembly memory in one block, ` +
          `and the wasm heap's largest block is ${formatBytes(MAX_BLOCK_BYTES)} (${MAX_BLOCK_BYTES} B; 4 GiB in all). See the size limits in docs/guarantees.md.`,
      );
    }
    total += bytes;
  }
  if (isInitialized() && liveBytes + total > ADDRESS_SPACE_BYTES - 2 ** 20) {
    throw new RangeError(
      `${lead} ${formatBytes(total)} of WebAssembly memory beside the ` +
        `${formatBytes(liveBytes)} held by live objects, more than the 4 GiB wasm32 address space. Dispose of objects you no longer need.`,
    );
  }
}

/** What a dense estimator's refusal of a large dim suggests instead. @internal */
export const USE_THE_SKETCH =
  "For a larger dim use the sketch instead: `sketch: { size }` with method 'paired' " +
  '(O(dim size) memory, no dense limit; docs/sketch.md).';

/**
 * The one refusal of a dim above a dense limit (a dim x dim matrix of doubles in one heap
 * block): says the bytes that matrix needs against the heap's largest block and the 4 GiB
 * WebAssembly memory, and what to use instead (`instead`, e.g. USE_THE_SKETCH). `name` is
 * the user's parameter, `dim` its (already validated integer) value, `bytes` the matrix's
 * size (8 dim^2 unless padded). @internal
 */
export function checkDenseDim(
  name: string,
  dim: number,
  max: number,
  what: string,
  instead: string,
  bytes = byteCount(dim * dim, 8),
): void {
  if (dim <= max) return;
  throw new RangeError(
    `invalid argument: \`${name}\` must be at most ${max} for ${what}: at dim ${dim} it needs ` +
      `${formatBytes(bytes)} (${bytes} B) of WebAssembly memory in one block, and the wasm heap's largest block is ` +
      `${formatBytes(MAX_BLOCK_BYTES)} (${MAX_BLOCK_BYTES} B) of the 4 GiB of WebAssembly memory. ${instead} Value: \`${dim}\`.`,
  );
}

/**
 * Throws a RangeError saying how much memory `what` needs when `bytes` cannot be one heap
 * block beside what is live. @internal
 */
export function checkFits(bytes: number, what: string): void {
  checkBlocks([bytes], undefined, what);
}

/** Allocates bytes on the wasm heap (address unsigned), or throws a RangeError saying what was needed. @internal */
export function alloc(bytes: number, what: string): number {
  const k = wasm();
  checkBlocks([bytes], undefined, what);
  const reserved = k.memory.buffer.byteLength;
  let ptr: number;
  try {
    ptr = regions ? regions.alloc(bytes) : k.alloc(Math.max(bytes, 8)) >>> 0;
  } catch (err) {
    throw new RangeError(
      `${what} needs ${formatBytes(bytes)} of WebAssembly memory and the engine refused to grow it ` +
        `(${formatBytes(liveBytes)} held by live objects, ${formatBytes(reserved)} reserved).`,
      { cause: err },
    );
  }
  blockSizes.set(ptr, bytes);
  liveBytes += bytes;
  return ptr;
}

export function free(ptr: number): void {
  if (!ptr) return;
  const p = ptr >>> 0;
  const bytes = blockSizes.get(p);
  if (bytes !== undefined) {
    blockSizes.delete(p);
    liveBytes -= bytes;
  }
  if (regions) regions.free(p);
  else wasm().free(p);
}

/** Bytes held by live wasm blocks (allocated and not yet freed). @internal */
export function wasmLiveBytes(): number {
  return liveBytes;
}

/**
 * Frees the wasm blocks of objects that are garbage collected without dispose(), where
 * the runtime has FinalizationRegistry (at an unpredictable time; dispose() is prompt).
 */
const finalizer =
  typeof FinalizationRegistry === 'undefined'
    ? undefined
    : new FinalizationRegistry<readonly number[]>((ptrs) => {
        for (const p of ptrs) free(p);
      });

/** Frees `ptrs` when `owner` is collected undisposed. @internal */
export function trackBlocks(owner: object, ptrs: readonly number[]): void {
  finalizer?.register(owner, ptrs, owner);
}

/** Frees an owner's blocks now (its dispose()) and forgets them. @internal */
export function releaseBlocks(owner: object, ptrs: readonly number[]): void {
  finalizer?.unregister(owner);
  for (const p of ptrs) free(p);
}

/** Runs fn with freshly allocated blocks, freeing them afterwards whatever happens. @internal */
export function withBlocks<T>(sizes: readonly number[], what: string, fn: (...ptrs: number[]) => T): T {
  checkBlocks(sizes, undefined, what); // all of them, before the first allocation
  const ptrs: number[] = [];
  try {
    for (const s of sizes) ptrs.push(alloc(s, what));
    return fn(...ptrs);
  } finally {
    for (const p of ptrs) free(p);
  }
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'more than 2^53 B';
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** A fresh Float64Array view of wasm memory. @internal */
export function f64(ptr: number, length: number): Float64Array {
  return new Float64Array(wasm().memory.buffer, ptr >>> 0, length);
}

/** A fresh Float32Array view of wasm memory. @internal */
export function f32(ptr: number, length: number): Float32Array {
  return new Float32Array(wasm().memory.buffer, ptr >>> 0, length);
}

/** Copies a typed array (any byteOffset) into wasm memory at ptr. @internal */
export function copyIn(ptr: number, src: ArrayBufferView, bytes = src.byteLength): void {
  new Uint8Array(wasm().memory.buffer, ptr >>> 0, bytes).set(
    new Uint8Array(src.buffer, src.byteOffset, bytes),
  );
}

/** Bytes of wasm linear memory currently reserved (grows, never shrinks). */
export function wasmMemoryBytes(): number {
  return wasm().memory.buffer.byteLength;
}

// ---------------------------------------------------------------------------------------
// Shared memory (the worker pool): instances of the shared-memory build (gradcov.shared.wasm,
// compiled with --importMemory --sharedMemory) in several threads import one
// WebAssembly.Memory, so a data set written there once is read by every worker. The build
// has no heap of its own that JS calls: each thread places its blocks in pages it claimed
// with memory.grow, which is atomic on shared memory, so two threads never hand out the same
// bytes and no lock is needed. The kernels' static scratch is per instance too (claimed the
// same way while the instance starts; see assembly/shared/scratch-transform.mjs). The
// single-thread path above never uses any of this.

/** Bytes in a WebAssembly page. */
const PAGE_BYTES = 65536;

/** Pages the shared build declares as its memory's minimum (asconfig.json targets shared*: initialMemory). @internal */
export const SHARED_INITIAL_PAGES = 2;

/** Pages the shared build declares as its maximum (4 GiB, the wasm32 address space). @internal */
export const SHARED_MAXIMUM_PAGES = 65536;

/** The minimal view of a WebAssembly.Memory the allocator needs (the public .d.ts needs no lib.dom). */
interface GrowableMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

/**
 * This thread's blocks in a shared memory: pages claimed with memory.grow, handed out
 * best-fit from a free list of this thread's own ranges (freed neighbours merge). Blocks
 * are 16-byte aligned, like the heap's. @internal
 */
export class RegionAllocator {
  /** Free ranges [start, end), sorted by start. */
  #free: [number, number][] = [];
  #sizes = new Map<number, number>();
  #owned = 0;

  constructor(readonly memory: GrowableMemory) {}

  /** Bytes of the pages this thread claimed (its share of the memory). */
  get ownedBytes(): number {
    return this.#owned;
  }

  /** A block of at least `bytes` bytes; throws (RangeError) when the memory cannot grow. */
  alloc(bytes: number): number {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const [a, b] = this.#free[i]!;
      if (b - a >= size && (best < 0 || b - a < this.#free[best]![1] - this.#free[best]![0])) best = i;
    }
    if (best < 0) {
      const pages = Math.ceil(size / PAGE_BYTES);
      const old = this.memory.grow(pages); // atomic: these pages are this thread's alone
      this.#owned += pages * PAGE_BYTES;
      this.#insert(old * PAGE_BYTES, (old + pages) * PAGE_BYTES);
      return this.alloc(bytes);
    }
    const [a, b] = this.#free[best]!;
    if (b - a === size) this.#free.splice(best, 1);
    else this.#free[best] = [a + size, b];
    this.#sizes.set(a, size);
    return a;
  }

  /** Returns a block to this thread's free list (a pointer it did not hand out is ignored). */
  free(ptr: number): void {
    const size = this.#sizes.get(ptr);
    if (size === undefined) return;
    this.#sizes.delete(ptr);
    this.#insert(ptr, ptr + size);
  }

  #insert(a: number, b: number): void {
    const f = this.#free;
    let i = 0;
    while (i < f.length && f[i]![0] < a) i++;
    f.splice(i, 0, [a, b]);
    if (i + 1 < f.length && f[i]![1] === f[i + 1]![0]) {
      f[i]![1] = f[i + 1]![1];
      f.splice(i + 1, 1);
    }
    if (i > 0 && f[i - 1]![1] === f[i]![0]) {
      f[i - 1]![1] = f[i]![1];
      f.splice(i, 1);
    }
  }
}

/** This thread's allocator when its kernels run on a shared memory (a pool worker). */
let regions: RegionAllocator | undefined;

/**
 * Whether this runtime can make a shared WebAssembly.Memory as large as the shared build
 * declares (SharedArrayBuffer, wasm threads). @internal
 */
export function makeSharedMemory(): WebAssembly.Memory | undefined {
  if (typeof SharedArrayBuffer !== 'function') return undefined;
  try {
    const memory = new WebAssembly.Memory({
      initial: SHARED_INITIAL_PAGES,
      maximum: SHARED_MAXIMUM_PAGES,
      shared: true,
    } as WebAssembly.MemoryDescriptor);
    return memory.buffer instanceof SharedArrayBuffer ? memory : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a module imports its memory as `env.memory` (the shared build does; the plain builds own theirs). @internal */
export function importsMemory(module: WasmModule): boolean {
  return WebAssembly.Module.imports(module as unknown as WebAssembly.Module).some(
    (i) => i.module === 'env' && i.name === 'memory' && i.kind === 'memory',
  );
}

/**
 * Loads this thread's kernels from the shared-memory build on `memory` (a pool worker,
 * instead of init()). Blocks are then placed with a RegionAllocator in pages this thread
 * claims. @internal
 */
export async function initShared(module: WasmModule, memory: WebAssembly.Memory): Promise<void> {
  if (kernels)
    throw new Error(
      'gradcov: the kernels of this thread are already loaded; a shared-memory worker loads them once.',
    );
  if (!(memory.buffer instanceof SharedArrayBuffer))
    throw new Error('gradcov: the memory given to a shared-memory worker is not shared');
  if (!importsMemory(module))
    throw new Error(
      'gradcov: the module given to a shared-memory worker expects no memory from outside (it is not the shared build)',
    );
  const text = (ptr: number): string => {
    if (!ptr) return '';
    const view = new DataView(memory.buffer);
    const units = view.getUint32(ptr - 4, true) >>> 1;
    let s = '';
    for (let i = 0; i < units; i++) s += String.fromCharCode(view.getUint16(ptr + 2 * i, true));
    return s;
  };
  const env = {
    memory,
    abort(msg: number, file: number, line: number, column: number): never {
      throw new Error(`abort: ${text(msg)} in ${text(file)}(${line}:${column})`);
    },
  };
  const bytes = (): number => (memory.buffer as ArrayBufferLike).byteLength;
  const before = bytes();
  const instance = await WebAssembly.instantiate(module as unknown as WebAssembly.Module, { env });
  // the build's start function claims this instance's static scratch with memory.grow: a
  // build made without the scratch transform would share it with every other instance
  if (bytes() === before)
    throw new Error(
      'gradcov: the shared build claimed no scratch of its own at start (built without scripts/build-shared-wasm.mjs?); refusing to share its static memory',
    );
  regions = new RegionAllocator(memory);
  kernels = { ...(instance.exports as unknown as Kernels), memory };
  compiled = module as unknown as WebAssembly.Module;
  requested = { source: module, build: 'auto' };
}

/** Bytes of wasm memory this thread holds alone: its claimed pages on a shared memory, else all of its memory. @internal */
export function ownWasmMemoryBytes(): number {
  return regions ? regions.ownedBytes : wasmMemoryBytes();
}
