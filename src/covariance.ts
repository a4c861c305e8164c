import { wasm, alloc, free, f64, copyIn, checkFits, trackBlocks, releaseBlocks } from './wasm.js';
import {
  checkPositiveInteger, checkFloatArray, checkFinite, checkInteger, checkOptions, checkNumber, checkLive, checkLength,
  type FloatArray,
} from './validate.js';
import { decodeHeader, encode } from './serialize.js';

/** Bytes of staged gradients per kernel call: keeps wasm memory O(dim^2) for any batch. */
const STAGE_BYTES = 4 * 2 ** 20;

let scratchPtr = 0;
let scratchBytes = 0;

/** Shared scratch for staging rows and packing blocks (single-threaded, not re-entrant). */
function scratch(bytes: number): number {
  if (bytes > scratchBytes) {
    const p = alloc(bytes, 'the covariance scratch buffer');
    free(scratchPtr);
    scratchPtr = p;
    scratchBytes = bytes;
  }
  return scratchPtr;
}

interface State { meanPtr: number; mPtr: number }

/**
 * Streaming, mergeable covariance of gradients: count, mean and co-moment
 * M = sum (g - mean)(g - mean)', updated block by block with Chan et al.'s merge formula
 * (no sum of squares) and a SIMD rank-k kernel on the upper triangle. Memory: about
 * 8 dim^2 bytes of wasm memory per accumulator, whatever the number of gradients.
 *
 * Call `dispose()` when done: the state lives in WebAssembly memory. Accumulators that
 * are garbage collected without it are freed by a FinalizationRegistry where the runtime
 * has one, but only dispose() frees memory at a predictable time.
 *
 * @example
 * const acc = new GradientCovariance(3);
 * acc.add(new Float64Array([1, 2, 3])).addBatch(gradients);   // gradients: rows x 3
 * const C = acc.covariance();                                  // 3 x 3, divides by count - 1
 * acc.dispose();
 */
export class GradientCovariance {
  /** Dimension of the gradients. */
  readonly dim: number;
  readonly #dp: number;
  #count = 0;
  #state: State;
  #disposed = false;

  /**
   * @param dim positive integer, the gradient dimension
   * @throws {TypeError|RangeError} for a bad dim or when the state would not fit in wasm memory
   */
  constructor(dim: number) {
    this.dim = checkPositiveInteger('dim', dim);
    // the co-moment (dp x dp doubles, dp = dim padded to 4) is one heap block: refuse up
    // front, with the size, a dim whose state the wasm heap cannot hold (dim > 11584)
    const dp = Math.ceil(dim / 4) * 4;
    checkFits(8 * dp * dp, `\`dim\` = ${dim}: the co-moment of GradientCovariance(${dim})`);
    const k = wasm();
    this.#dp = k.covPaddedDim(dim);
    const meanPtr = alloc(this.#dp * 8, `GradientCovariance(${dim})`);
    let mPtr = 0;
    try {
      mPtr = alloc(this.#dp * this.#dp * 8, `GradientCovariance(${dim})`);
    } catch (err) {
      free(meanPtr);
      throw err;
    }
    this.#state = { meanPtr, mPtr };
    this.#zero();
    trackBlocks(this, [meanPtr, mPtr]);
  }

  /** Number of gradients accumulated. */
  get count(): number {
    return this.#count;
  }

  #zero(): void {
    const k = wasm();
    new Uint8Array(k.memory.buffer, this.#state.meanPtr, this.#dp * 8).fill(0);
    new Uint8Array(k.memory.buffer, this.#state.mPtr, this.#dp * this.#dp * 8).fill(0);
    this.#count = 0;
  }

  /**
   * Adds one gradient (length dim). Returns this.
   * @throws {TypeError|RangeError} for a wrong type, length or a non-finite element (state unchanged)
   */
  add(g: FloatArray): this {
    checkLive('GradientCovariance', this.#disposed);
    checkFloatArray('g', g);
    checkLength('g', g, this.dim, 'dim');
    checkFinite('g', g);
    this.#addRows(g, 1);
    return this;
  }

  /**
   * Adds `rows` gradients stored row-major in G (rows x dim; Float64Array, or Float32Array
   * read as float32 by the kernel without a conversion copy). `rows` defaults to
   * G.length / dim. Returns this.
   * @throws {TypeError|RangeError} for a wrong type, a length that does not fit rows x dim, or a non-finite element (state unchanged)
   */
  addBatch(G: FloatArray, rows?: number): this {
    checkLive('GradientCovariance', this.#disposed);
    checkFloatArray('G', G);
    let r: number;
    if (rows === undefined) {
      if (G.length % this.dim !== 0) {
        throw new RangeError(`invalid argument: \`G\` must have a length that is a multiple of dim (${this.dim}). Value: length ${G.length}.`);
      }
      r = G.length / this.dim;
    } else {
      r = checkInteger('rows', rows, 0);
      if (r * this.dim > G.length) {
        throw new RangeError(`invalid argument: \`rows\` x dim must not exceed G.length (${G.length}). Value: \`${rows}\` (needs ${r * this.dim}).`);
      }
    }
    checkFinite('G', G, r * this.dim);
    this.#addRows(G, r);
    return this;
  }

  #addRows(G: FloatArray, rows: number): void {
    if (rows === 0) return;
    const k = wasm();
    const elt = G.BYTES_PER_ELEMENT;
    const rowBytes = this.dim * elt;
    const chunk = Math.max(1, Math.floor(STAGE_BYTES / rowBytes));
    const packBytes = k.covScratchBytes(this.dim);
    const stageBytes = Math.min(rows, chunk) * rowBytes;
    const base = scratch(stageBytes + packBytes); // the only allocation; done before any update
    const isF32 = elt === 4 ? 1 : 0;
    let count = this.#count;
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const n = Math.min(chunk, rows - r0);
      const start = r0 * this.dim;
      copyIn(base, G.subarray(start, start + n * this.dim));
      count = k.covAddRows(base, n, this.dim, isF32, count, this.#state.meanPtr, this.#state.mPtr, base + stageBytes);
    }
    this.#count = count;
  }

  /** Adds gradients already in wasm memory (rows x dim f64 at ptr). @internal */
  addFromWasm(ptr: number, rows: number): void {
    const k = wasm();
    const base = scratch(k.covScratchBytes(this.dim));
    this.#count = k.covAddRows(ptr, rows, this.dim, 0, this.#count, this.#state.meanPtr, this.#state.mPtr, base);
  }

  /**
   * Merges another accumulator of the same dim into this one (Chan et al.); `other` is
   * unchanged. Returns this.
   * @throws {TypeError|RangeError} for a non-accumulator or a different dim
   */
  merge(other: GradientCovariance): this {
    checkLive('GradientCovariance', this.#disposed);
    if (!(other instanceof GradientCovariance)) {
      throw new TypeError(`invalid argument: \`other\` must be a GradientCovariance. Value: \`${String(other)}\`.`);
    }
    checkLive('`other` GradientCovariance', other.#disposed);
    if (other.dim !== this.dim) {
      throw new RangeError(`invalid argument: \`other\` must have dim ${this.dim}. Value: dim ${other.dim}.`);
    }
    const k = wasm();
    const delta = scratch(this.#dp * 8);
    this.#count = k.covMerge(this.#count, this.#state.meanPtr, this.#state.mPtr,
      other.#count, other.#state.meanPtr, other.#state.mPtr, this.#dp, delta);
    return this;
  }

  /** The mean gradient (a new Float64Array of length dim; zeros when count is 0). */
  mean(): Float64Array {
    checkLive('GradientCovariance', this.#disposed);
    return f64(this.#state.meanPtr, this.dim).slice();
  }

  /**
   * The sample covariance M / (count - 1) times `scale` (default 1), as a new dim x dim
   * row-major Float64Array.
   * @throws {RangeError} when fewer than 2 gradients have been added
   */
  covariance(options?: { scale?: number }): Float64Array {
    checkLive('GradientCovariance', this.#disposed);
    const opts = checkOptions('options', options);
    const s = opts.scale === undefined ? 1 : checkNumber('scale', opts.scale);
    if (!Number.isFinite(s)) throw new RangeError(`invalid argument: \`scale\` must be a finite number. Value: \`${s}\`.`);
    if (this.#count < 2) {
      throw new RangeError(`covariance() needs at least 2 gradients. Value: count ${this.#count}.`);
    }
    return this.#write(s / (this.#count - 1));
  }

  /** The co-moment M = sum (g - mean)(g - mean)' (dim x dim). */
  comoment(): Float64Array {
    checkLive('GradientCovariance', this.#disposed);
    return this.#write(1);
  }

  #write(scale: number): Float64Array {
    const k = wasm();
    const n = this.dim * this.dim;
    const out = alloc(n * 8, 'covariance output');
    try {
      k.covWrite(this.#state.mPtr, this.#dp, this.dim, scale, out);
      return f64(out, n).slice();
    } finally {
      free(out);
    }
  }

  /**
   * The accumulator's state as bytes (format version 1, little-endian): magic "GCOV",
   * version, dim, count, mean, the upper triangle of the co-moment, CRC-32. The blob can
   * cross any transport (postMessage, a queue, a file) and `fromBytes` restores an
   * accumulator that behaves exactly like this one (same count, mean, covariance, and the
   * same results after further add/merge). Layout: README "Serialization" and serialize.ts.
   *
   * @returns a new Uint8Array of 28 + 8 dim + 4 dim (dim + 1) bytes
   * @example
   * const blob = acc.toBytes();                       // send it anywhere
   * const copy = GradientCovariance.fromBytes(blob);  // identical state
   * total.merge(copy); copy.dispose();
   */
  toBytes(): Uint8Array {
    checkLive('GradientCovariance', this.#disposed);
    const dim = this.dim, dp = this.#dp;
    const mean = f64(this.#state.meanPtr, dim);
    const M = f64(this.#state.mPtr, dp * dp);
    return encode(dim, this.#count, (view, meanOffset, upperOffset) => {
      for (let j = 0; j < dim; j++) view.setFloat64(meanOffset + 8 * j, mean[j]!, true);
      let p = upperOffset;
      for (let i = 0; i < dim; i++) {
        for (let j = i; j < dim; j++, p += 8) view.setFloat64(p, M[i * dp + j]!, true);
      }
    });
  }

  /**
   * Restores an accumulator from `toBytes()` output. The whole blob is validated first
   * (type, length for its dim, magic, version, checksum, finite values, count in
   * [0, 2^53 - 1], zero moments for counts 0 and 1, non-negative diagonal); only then is
   * wasm memory allocated, so a rejected blob leaves nothing behind.
   *
   * @param bytes - a Uint8Array (any byteOffset; Node.js buffers are Uint8Arrays too)
   * @returns a new accumulator; call dispose() when done
   * @throws {TypeError} when bytes is not a Uint8Array
   * @throws {RangeError} naming the rule the blob breaks (or when wasm memory cannot hold it)
   * @example
   * const acc = GradientCovariance.fromBytes(await readFile('worker-3.gcov'));
   */
  static fromBytes(bytes: Uint8Array): GradientCovariance {
    const h = decodeHeader(bytes);
    const acc = new GradientCovariance(h.dim);
    const dim = h.dim, dp = acc.#dp;
    const mean = f64(acc.#state.meanPtr, dim);
    for (let j = 0; j < dim; j++) mean[j] = h.view.getFloat64(h.meanOffset + 8 * j, true);
    const M = f64(acc.#state.mPtr, dp * dp);
    let p = h.upperOffset;
    for (let i = 0; i < dim; i++) {
      for (let j = i; j < dim; j++, p += 8) M[i * dp + j] = h.view.getFloat64(p, true);
    }
    acc.#count = h.count;
    return acc;
  }

  /** Forgets all gradients (count 0). Returns this. */
  reset(): this {
    checkLive('GradientCovariance', this.#disposed);
    this.#zero();
    return this;
  }

  /** Frees the wasm memory. Further calls throw. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    releaseBlocks(this, [this.#state.meanPtr, this.#state.mPtr]);
  }
}
