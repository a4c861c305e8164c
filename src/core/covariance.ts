import {
  wasm,
  alloc,
  free,
  f64,
  copyIn,
  checkBlocks,
  byteCount,
  trackBlocks,
  releaseBlocks,
  withBlocks,
  checkDenseDim,
  USE_THE_SKETCH,
} from './wasm.js';
import {
  checkPositiveInteger,
  checkFloatArray,
  checkInteger,
  checkOptions,
  checkNumber,
  checkLive,
  checkLength,
  finiteMaxAbs,
  checkOneOf,
  type FloatArray,
} from './validate.js';
import { decodeHeader, encode, copyBytes } from './serialize.js';

/** Largest dim of a GradientCovariance: its co-moment (8 dp^2 bytes, dp = dim rounded up to 4) is one heap block. */
export const MAX_COVARIANCE_DIM = 11584;

/** Rows per packed block of the rank-k kernel (assembly/covariance.ts KC). */
const KC = 256;

/** dim rounded up to the kernel's 4-wide tiles (assembly/covariance.ts covPaddedDim). */
export function paddedDim(dim: number): number {
  return Math.ceil(dim / 4) * 4;
}

/** Scratch bytes of covAddRows (assembly/covariance.ts covScratchBytes), computed in 53-bit JS. */
export function covarianceScratchBytes(dim: number): number {
  const dp = paddedDim(dim);
  return (KC * dp + dp) * 8;
}

/**
 * Overflow guard of the scaled representation: stored values (gradients, mean) are kept at
 * most 2^480 in magnitude, so the stored co-moment stays below 8 * 2^53 * 2^960 < 2^1017
 * for any count up to 2^53: no intermediate of the kernels can overflow. Gradients larger
 * than this (true units) move the accumulator to a power-of-two scale 2^e (values stored
 * divided by 2^e, the co-moment by 2^2e), like LAPACK's dnrm2 scales before squaring.
 * Ordinary data (|g| <= 2^480 ~ 3e144) never triggers it and takes the unscaled path.
 */
const STORED_MAX = 2 ** 480;
/** Largest scale exponent a state can reach (values up to 2^1024 give e <= 1024; fromBytes may normalise further). */
export const MAX_SCALE_EXPONENT = 2048;

/** x * 2^e for any integer e (two steps where 2^e itself is not a double). */
export function ldexp(x: number, e: number): number {
  while (e > 1000) {
    x *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    x *= 2 ** -1000;
    e += 1000;
  }
  return x * 2 ** e;
}

/** Multiplies a[0..n) by 2^e in place. */
function scaleInPlace(a: Float64Array, e: number): void {
  if (e === 0) return;
  if (Math.abs(e) <= 1000) {
    const f = 2 ** e;
    for (let i = 0; i < a.length; i++) a[i]! *= f;
  } else {
    for (let i = 0; i < a.length; i++) a[i] = ldexp(a[i]!, e);
  }
}

/** The exponent e >= 0 with a / 2^e <= 1 (0 when a <= 1). */
function exponentFor(a: number): number {
  if (!(a > 1)) return 0;
  let e = Math.ceil(Math.log2(a));
  while (ldexp(a, -e) > 1) e++;
  return e;
}

/** Ridge added to the unit diagonal of the correlation matrix in fromBytes' PSD check (docs/guarantees.md). */
export const PSD_RIDGE = 1e-9;
/**
 * Largest dim whose decoded co-moment fromBytes factorises to check positive
 * semi-definiteness: the Cholesky is O(dim^3) (measured 2-3.5x the cost of copying and
 * validating the blob at dim 1024, ~10x at 2048). Above it only the 2 x 2 minors are checked
 * (|M_ij| <= sqrt(M_ii M_jj), necessary but not sufficient for dim >= 3).
 */
export const PSD_CHECK_MAX_DIM = 1024;

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i]! - a[i]! !== 0) return false;
  return true;
}

function notRepresentable(what: string, e: number, hint: string): RangeError {
  return new RangeError(
    `${what} is not representable in float64: its entries overflow (they are of the order of 2^${e}, above the largest double ~1.8e308). ${hint}`,
  );
}

/**
 * Bytes of staged gradients per kernel call: keeps wasm memory O(dim^2) for any batch, and
 * the staged rows in a 1 MiB L2 cache while the kernel's mean and packing passes read them
 * (4 MiB pieces measured 3-4% slower at 4096 x 256).
 */
const STAGE_BYTES = 512 * 1024;

/** Rows per staged piece: whole KC-row blocks (at least one), about STAGE_BYTES. */
function stageRows(rowBytes: number): number {
  return Math.max(1, Math.floor(STAGE_BYTES / rowBytes / KC)) * KC;
}

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

interface State {
  meanPtr: number;
  mPtr: number;
}

/**
 * Arithmetic of the co-moment update: 'f64' (the default) multiplies in float64; 'f32'
 * rounds the centred gradients to float32 and multiplies in f32x4 (twice the lanes), summing
 * the products in f32 over runs of 256 rows (one block) and carrying the sums in float64. Count, mean and
 * co-moment are float64 either way (docs/guarantees.md, "Precision 'f32'", states the bound).
 */
export type Precision = 'f64' | 'f32';
const PRECISIONS: readonly Precision[] = ['f64', 'f32'];

/** Options of `new GradientCovariance(dim, options)`. */
export interface GradientCovarianceOptions {
  /** 'f64' (default) or 'f32' (see Precision). */
  precision?: Precision;
}

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
  /** Scale exponent: the true mean is 2^exp * stored, the true co-moment 2^(2 exp) * stored. */
  #exp = 0;
  #state: State;
  #disposed = false;
  /** Arithmetic of the co-moment update ('f64' or 'f32'). */
  readonly precision: Precision;

  /**
   * @param dim positive integer, the gradient dimension, at most 11584 (the co-moment,
   *   8 dim^2 bytes, is one block of the wasm heap, which serves blocks below 1 GiB of the
   *   4 GiB WebAssembly memory); for a larger dim use the sketch of estimateCurvature /
   *   estimateHessian (`sketch: { size }`, docs/sketch.md)
   * @throws {TypeError|RangeError} for a bad dim (a RangeError above 11584 saying the bytes
   *   needed), a bad option, or when the state would not fit in wasm memory
   * @param options - `precision`: 'f64' (default) or 'f32' (f32x4 products carried in f64;
   *   about 1.7-2x faster at dim >= 256, relative error ~1e-7, see Precision)
   */
  constructor(dim: number, options?: GradientCovarianceOptions) {
    this.dim = checkPositiveInteger('dim', dim);
    checkDenseDim(
      'dim',
      dim,
      MAX_COVARIANCE_DIM,
      'a GradientCovariance (its co-moment, 8 dim^2 bytes)',
      USE_THE_SKETCH,
      byteCount(paddedDim(dim) ** 2, 8),
    );
    const opts = checkOptions('options', options, ['precision'], '`options` of GradientCovariance');
    this.precision =
      opts.precision === undefined ? 'f64' : checkOneOf('precision', opts.precision, PRECISIONS);
    // the co-moment (dp x dp doubles, dp = dim padded to 4) is one heap block: refuse up
    // front, with the size, a dim whose state the wasm heap cannot hold (dim > 11584)
    const dp = paddedDim(dim);
    checkBlocks(
      [byteCount(dp, 8), byteCount(dp * dp, 8), covarianceScratchBytes(dim)],
      `\`dim\` = ${dim}`,
      `GradientCovariance(${dim}) (its co-moment, mean and kernel scratch)`,
    );
    this.#dp = dp;
    const meanPtr = alloc(this.#dp * 8, `GradientCovariance(${dim})`);
    let mPtr: number;
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
    f64(this.#state.meanPtr, this.#dp).fill(0);
    f64(this.#state.mPtr, this.#dp * this.#dp).fill(0);
    this.#count = 0;
    this.#exp = 0;
  }

  /** Throws before any change when `rows` more gradients would take count past 2^53 - 1. */
  #checkCount(rows: number, name: string): void {
    if (this.#count + rows > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(
        `invalid argument: \`${name}\` would take the count of gradients past 2^53 - 1 (where counts stop being exact). Value: ${rows} more after ${this.#count}.`,
      );
    }
  }

  /**
   * Makes room for incoming values of magnitude up to `maxAbs` (true units): when they
   * exceed the stored bound at the current scale, moves the state to a larger power-of-two
   * scale (a change of representation; the values it stands for change by rounding only
   * where entries underflow).
   */
  #makeRoom(maxAbs: number): void {
    if (!(maxAbs > ldexp(STORED_MAX, this.#exp))) return;
    this.#rescaleTo(Math.max(this.#exp, exponentFor(maxAbs)));
  }

  #rescaleTo(e: number): void {
    if (e === this.#exp) return;
    const d = this.#exp - e;
    scaleInPlace(f64(this.#state.meanPtr, this.#dp), d);
    scaleInPlace(f64(this.#state.mPtr, this.#dp * this.#dp), 2 * d);
    this.#exp = e;
  }

  /**
   * Adds one gradient (length dim). Returns this.
   * @throws {TypeError|RangeError} for a wrong type, length or a non-finite element (state unchanged)
   */
  add(g: Float64Array | Float32Array): this {
    checkLive('GradientCovariance', this.#disposed);
    const v = checkFloatArray('g', g);
    checkLength('g', v, this.dim, 'dim');
    const maxAbs = finiteMaxAbs('g', v);
    this.#checkCount(1, 'g');
    scratch(this.#scratchBytes(v.BYTES_PER_ELEMENT, 1)); // allocate before any change (a rescale is one)
    this.#makeRoom(maxAbs);
    this.#addRows(v, 1);
    return this;
  }

  /**
   * Adds `rows` gradients stored row-major in G (rows x dim; Float64Array, or Float32Array
   * read as float32 by the kernel without a conversion copy). `rows` defaults to
   * G.length / dim. Returns this.
   * @throws {TypeError|RangeError} for a wrong type, a length that does not fit rows x dim, or a non-finite element (state unchanged)
   */
  addBatch(G0: Float64Array | Float32Array, rows?: number): this {
    checkLive('GradientCovariance', this.#disposed);
    const G = checkFloatArray('G', G0);
    let r: number;
    if (rows === undefined) {
      if (G.length % this.dim !== 0) {
        throw new RangeError(
          `invalid argument: \`G\` must have a length that is a multiple of dim (${this.dim}). Value: length ${G.length}.`,
        );
      }
      r = G.length / this.dim;
    } else {
      r = checkInteger('rows', rows, 0);
      if (r * this.dim > G.length) {
        throw new RangeError(
          `invalid argument: \`rows\` x dim must not exceed G.length (${G.length}). Value: \`${rows}\` (needs ${r * this.dim}).`,
        );
      }
    }
    const maxAbs = finiteMaxAbs('G', G, r * this.dim, this.dim);
    this.#checkCount(r, rows === undefined ? 'G' : 'rows');
    checkBlocks(
      [this.#scratchBytes(G.BYTES_PER_ELEMENT, r)],
      `\`G\` (${r} rows of dim ${this.dim})`,
      'staging the rows',
    );
    if (r > 0) scratch(this.#scratchBytes(G.BYTES_PER_ELEMENT, r)); // allocate before any change (a rescale is one)
    this.#makeRoom(maxAbs);
    this.#addRows(G, r);
    return this;
  }

  /** Bytes of the shared scratch #addRows uses for `rows` rows of elements of `elt` bytes. */
  #scratchBytes(elt: number, rows: number): number {
    const stageElt = this.#exp > 0 ? 8 : elt; // scaled f32 rows are staged as f64
    const rowBytes = this.dim * stageElt;
    return Math.min(rows, stageRows(rowBytes)) * rowBytes + covarianceScratchBytes(this.dim);
  }

  #addRows(G: FloatArray, rows: number): void {
    if (rows === 0) return;
    const k = wasm();
    const scaled = this.#exp > 0;
    const elt = scaled ? 8 : G.BYTES_PER_ELEMENT; // scaled rows are staged as f64
    const rowBytes = this.dim * elt;
    const chunk = stageRows(rowBytes);
    const stageBytes = Math.min(rows, chunk) * rowBytes;
    const base = scratch(stageBytes + covarianceScratchBytes(this.dim)); // the only allocation; done before any update
    const isF32 = elt === 4 ? 1 : 0;
    let count = this.#count;
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const n = Math.min(chunk, rows - r0);
      const start = r0 * this.dim;
      const part = G.subarray(start, start + n * this.dim);
      if (scaled) {
        const stage = f64(base, n * this.dim);
        stage.set(part);
        scaleInPlace(stage, -this.#exp);
      } else {
        copyIn(base, part);
      }
      count = this.#kernel(k)(
        base,
        n,
        this.dim,
        isF32,
        count,
        this.#state.meanPtr,
        this.#state.mPtr,
        base + stageBytes,
      );
    }
    this.#count = count;
  }

  /** The update kernel of this accumulator's precision. */
  #kernel(k: ReturnType<typeof wasm>): typeof k.covAddRows {
    return this.precision === 'f32' ? k.covAddRowsF32 : k.covAddRows;
  }

  /**
   * Adds gradients already in wasm memory (rows x dim f64 at ptr; scaled in place when the
   * state is scaled). Returns false, adding nothing, when one of them is not finite. @internal
   */
  addFromWasm(ptr: number, rows: number): boolean {
    const k = wasm();
    const G = f64(ptr, rows * this.dim);
    let maxAbs = 0;
    for (let i = 0; i < G.length; i++) {
      const a = Math.abs(G[i]!);
      if (!(a <= maxAbs)) {
        if (a - a !== 0) return false;
        maxAbs = a;
      }
    }
    this.#checkCount(rows, 'batches');
    const base = scratch(covarianceScratchBytes(this.dim));
    this.#makeRoom(maxAbs);
    scaleInPlace(f64(ptr, rows * this.dim), -this.#exp); // a fresh view: the allocation above may have grown memory
    this.#count = this.#kernel(k)(
      ptr,
      rows,
      this.dim,
      0,
      this.#count,
      this.#state.meanPtr,
      this.#state.mPtr,
      base,
    );
    return true;
  }

  /**
   * Merges another accumulator of the same dim into this one (Chan et al.); `other` is
   * unchanged. Returns this.
   * @throws {TypeError|RangeError} for a non-accumulator or a different dim
   */
  merge(other: GradientCovariance): this {
    checkLive('GradientCovariance', this.#disposed);
    if (!(other instanceof GradientCovariance)) {
      throw new TypeError(
        `invalid argument: \`other\` must be a GradientCovariance. Value: \`${String(other)}\`.`,
      );
    }
    checkLive('`other` GradientCovariance', other.#disposed);
    if (other.dim !== this.dim) {
      throw new RangeError(`invalid argument: \`other\` must have dim ${this.dim}. Value: dim ${other.dim}.`);
    }
    if (other.precision !== this.precision) {
      throw new RangeError(
        `invalid argument: \`other\` must have precision '${this.precision}' (an f32 and an f64 accumulator are not merged: the result would claim an accuracy one of them lacks). Value: precision '${other.precision}'.`,
      );
    }
    if (this.#count + other.#count > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(
        `invalid argument: \`other\` would take the count of gradients past 2^53 - 1 (where counts stop being exact). Value: count ${other.#count} merged into ${this.#count}.`,
      );
    }
    const k = wasm();
    const dp = this.#dp;
    if (other.#count === 0) return this;
    const e = Math.max(this.#exp, other.#exp);
    if (other.#exp === e || other === this) {
      const delta = scratch(dp * 8);
      this.#rescaleTo(e);
      this.#count = k.covMerge(
        this.#count,
        this.#state.meanPtr,
        this.#state.mPtr,
        other.#count,
        other.#state.meanPtr,
        other.#state.mPtr,
        dp,
        delta,
      );
      return this;
    }
    // other is at a smaller scale: merge a copy of it at this one's scale (other is unchanged)
    withBlocks(
      [dp * 8, dp * dp * 8, dp * 8],
      `merging a GradientCovariance(${this.dim})`,
      (meanPtr, mPtr, delta) => {
        const mean = f64(meanPtr!, dp),
          M = f64(mPtr!, dp * dp);
        mean.set(f64(other.#state.meanPtr, dp));
        M.set(f64(other.#state.mPtr, dp * dp));
        scaleInPlace(mean, other.#exp - e);
        scaleInPlace(M, 2 * (other.#exp - e));
        this.#count = k.covMerge(
          this.#count,
          this.#state.meanPtr,
          this.#state.mPtr,
          other.#count,
          meanPtr!,
          mPtr!,
          dp,
          delta!,
        );
      },
    );
    return this;
  }

  /**
   * The mean gradient (a new Float64Array of length dim; zeros when count is 0).
   * @throws {RangeError} when an entry is not representable in float64 (only possible for gradients within rounding of 1.8e308)
   */
  mean(): Float64Array {
    checkLive('GradientCovariance', this.#disposed);
    const out = f64(this.#state.meanPtr, this.dim).slice();
    scaleInPlace(out, this.#exp);
    if (!allFinite(out)) throw notRepresentable('the mean gradient', this.#exp, 'Scale the gradients down.');
    return out;
  }

  /**
   * The sample covariance M / (count - 1) times `scale` (default 1), as a new dim x dim
   * row-major Float64Array.
   * @throws {RangeError} when fewer than 2 gradients have been added, or when the result is
   *   not representable in float64 (an entry would overflow; pass a smaller `scale`)
   */
  covariance(options?: { scale?: number }): Float64Array {
    checkLive('GradientCovariance', this.#disposed);
    const opts = checkOptions('options', options, ['scale'], '`options` of covariance()');
    const s = opts.scale === undefined ? 1 : checkNumber('scale', opts.scale);
    if (!Number.isFinite(s))
      throw new RangeError(`invalid argument: \`scale\` must be a finite number. Value: \`${s}\`.`);
    if (this.#count < 2) {
      throw new RangeError(`covariance() needs at least 2 gradients. Value: count ${this.#count}.`);
    }
    const C = this.#write(s / (this.#count - 1));
    if (!allFinite(C))
      throw notRepresentable(
        'the covariance',
        this.#magnitude(s / (this.#count - 1)),
        'Pass a smaller `scale` to covariance(), or scale the gradients down.',
      );
    return C;
  }

  /**
   * The co-moment M = sum (g - mean)(g - mean)' (dim x dim).
   * @throws {RangeError} when an entry is not representable in float64 (covariance() may still be)
   */
  comoment(): Float64Array {
    checkLive('GradientCovariance', this.#disposed);
    const M = this.#write(1);
    if (!allFinite(M))
      throw notRepresentable(
        'the co-moment',
        this.#magnitude(1),
        'covariance() divides it by count - 1 and may be representable.',
      );
    return M;
  }

  /** log2 of the largest |entry| of scale * (true co-moment), for messages. */
  #magnitude(scale: number): number {
    const M = f64(this.#state.mPtr, this.#dp * this.#dp);
    let m = 0;
    for (let i = 0; i < M.length; i++) m = Math.max(m, Math.abs(M[i]!));
    return Math.round(Math.log2(m) + Math.log2(Math.abs(scale)) + 2 * this.#exp);
  }

  /** scale * (true co-moment), mirrored; entries that overflow come out infinite. */
  #write(scale: number): Float64Array {
    const k = wasm();
    const n = this.dim * this.dim;
    const out = alloc(n * 8, 'covariance output');
    try {
      // one product where scale * 2^(2 exp) is a normal double (exact: a power of two), else two steps
      const f = ldexp(scale, 2 * this.#exp);
      const direct = this.#exp === 0 || f === 0 || (Number.isFinite(f) && Math.abs(f) >= 2 ** -1022);
      k.covWrite(this.#state.mPtr, this.#dp, this.dim, direct ? f : scale, out);
      const C = f64(out, n).slice();
      if (!direct) scaleInPlace(C, 2 * this.#exp);
      return C;
    } finally {
      free(out);
    }
  }

  /**
   * The accumulator's state as bytes, little-endian: magic "GCOV", format version, dim,
   * count, mean, the upper triangle of the co-moment, CRC-32. An
   * ordinary state is format version 1; a state holding gradients above ~3e144, kept in
   * a power-of-two scale to avoid overflow, is version 2, which stores that scale exponent;
   * an accumulator of precision 'f32' is version 3, which stores the precision and the
   * exponent (8 bytes more; earlier releases reject it rather than misread it).
   * The blob can cross any transport (postMessage, a queue, a file) and `fromBytes`
   * restores an accumulator that behaves exactly like this one (same count, mean,
   * covariance, and the same results after further add/merge): every state round-trips.
   *
   * @returns a new Uint8Array of 28 + 8 dim + 4 dim (dim + 1) bytes (36 + ... for version 3)
   * @throws {Error} when the accumulator has been disposed
   * @example
   * const blob = acc.toBytes();                       // send it anywhere
   * const copy = GradientCovariance.fromBytes(blob);  // identical state
   * total.merge(copy); copy.dispose();
   */
  toBytes(): Uint8Array {
    checkLive('GradientCovariance', this.#disposed);
    const dim = this.dim,
      dp = this.#dp;
    const mean = f64(this.#state.meanPtr, dim);
    const M = f64(this.#state.mPtr, dp * dp);
    return encode(
      dim,
      this.#count,
      this.#exp,
      (view, meanOffset, upperOffset) => {
        for (let j = 0; j < dim; j++) view.setFloat64(meanOffset + 8 * j, mean[j]!, true);
        let p = upperOffset;
        for (let i = 0; i < dim; i++) {
          for (let j = i; j < dim; j++, p += 8) view.setFloat64(p, M[i * dp + j]!, true);
        }
      },
      this.precision,
    );
  }

  /**
   * Restores an accumulator from `toBytes()` output. The bytes are first copied (so a
   * SharedArrayBuffer that another thread rewrites cannot change them between checking
   * and decoding), then validated completely from the copy (type, length for its dim,
   * magic, version, checksum, finite values, count in [0, 2^53 - 1], zero moments for
   * counts 0 and 1, non-negative diagonal, |M_ij| <= sqrt(M_ii M_jj), and, for dim <= 1024,
   * positive semi-definiteness of the co-moment up to rounding: a Cholesky factorisation of
   * its correlation matrix plus 1e-9 I must succeed), then decoded from the copy. A
   * rejected blob leaves nothing behind.
   *
   * @param bytes - a Uint8Array (any byteOffset, also on a SharedArrayBuffer; Node.js buffers are Uint8Arrays too)
   * @returns a new accumulator; call dispose() when done
   * @throws {TypeError} when bytes is not a Uint8Array
   * @throws {RangeError} naming the rule the blob breaks (or when wasm memory cannot hold it)
   * @example
   * const acc = GradientCovariance.fromBytes(await readFile('worker-3.gcov'));
   */
  static fromBytes(bytes: Uint8Array): GradientCovariance {
    return GradientCovariance.#decode(bytes, true);
  }

  /**
   * fromBytes for blobs this package wrote itself in another thread (the worker pools'
   * blocks): the same checks except the O(dim^3) positive-semi-definiteness check, which
   * would otherwise make the coordinator's merge the pool's bottleneck at large dims.
   * @internal
   */
  static fromOwnBytes(bytes: Uint8Array): GradientCovariance {
    return GradientCovariance.#decode(bytes, false);
  }

  static #decode(bytes: Uint8Array, checkPsd: boolean): GradientCovariance {
    const h = decodeHeader(copyBytes(bytes));
    const dim = h.dim;
    const acc = new GradientCovariance(dim, { precision: h.precision });
    try {
      const dp = acc.#dp;
      const view = h.view;
      if (checkPsd) GradientCovariance.#checkPsd(acc, h);
      // decode from the copy
      acc.#zero();
      const mean = f64(acc.#state.meanPtr, dim);
      for (let j = 0; j < dim; j++) mean[j] = view.getFloat64(h.meanOffset + 8 * j, true);
      const M = f64(acc.#state.mPtr, dp * dp);
      let p = h.upperOffset;
      for (let i = 0; i < dim; i++) {
        for (let j = i; j < dim; j++, p += 8) M[i * dp + j] = view.getFloat64(p, true);
      }
      acc.#count = h.count;
      acc.#exp = h.exponent;
      acc.#normalise();
      return acc;
    } catch (err) {
      acc.dispose();
      throw err;
    }
  }

  /** Throws unless the blob's co-moment is positive semi-definite (uses acc's blocks as scratch). */
  static #checkPsd(acc: GradientCovariance, h: ReturnType<typeof decodeHeader>): void {
    const dim = h.dim;
    const view = h.view;
    // positive semi-definiteness: Cholesky of the correlation matrix R + PSD_RIDGE I,
    // computed in the accumulator's own co-moment block (dim x dim fits in dp x dp), which
    // is then overwritten with the decoded values
    // sqrt(M_ii + slack): the slack, (count + 1) 2^-1000, covers products that underflowed
    // in a scaled state (an entry of 5e-324 beside a zero diagonal), nothing more
    const slack = (h.count + 1) * 2 ** -1000;
    const root = new Float64Array(dim);
    for (let i = 0, p = h.upperOffset; i < dim; p += 8 * (dim - i), i++)
      root[i] = Math.sqrt(view.getFloat64(p, true) + slack);
    const R = f64(acc.#state.mPtr, dim * dim);
    let p = h.upperOffset;
    for (let i = 0; i < dim; i++) {
      for (let j = i; j < dim; j++, p += 8) {
        const v = view.getFloat64(p, true);
        if (j === i) {
          R[i * dim + i] = 1;
          continue;
        }
        const r = v / root[i]! / root[j]!;
        if (!(Math.abs(r) <= 1 + 2 ** -40)) {
          throw new RangeError(
            `invalid argument: \`bytes\` must hold a positive semi-definite co-moment. Value: |M[${i}][${j}]| = ${Math.abs(v)} exceeds sqrt(M[${i}][${i}] M[${j}][${j}]) = ${root[i]! * root[j]!}.`,
          );
        }
        R[j * dim + i] = r;
      }
    }
    const pivot =
      dim <= PSD_CHECK_MAX_DIM
        ? wasm().choleskyFactor(acc.#state.mPtr, dim, PSD_RIDGE, acc.#state.meanPtr)
        : -1;
    if (pivot >= 0) {
      throw new RangeError(
        `invalid argument: \`bytes\` must hold a positive semi-definite co-moment. Value: the Cholesky factorisation of its correlation matrix + ${PSD_RIDGE} I fails at row ${pivot} (pivot ${f64(acc.#state.meanPtr, 1)[0]}).`,
      );
    }
  }

  /**
   * Restores the stored-value bound (|mean| <= 2^480, M_jj <= 4 count 2^960) on a decoded
   * state (blobs from other writers may hold larger values), by raising the scale.
   */
  #normalise(): void {
    const dp = this.#dp;
    const mean = f64(this.#state.meanPtr, dp),
      M = f64(this.#state.mPtr, dp * dp);
    let a = 0;
    for (let j = 0; j < this.dim; j++) a = Math.max(a, Math.abs(mean[j]!));
    let d = 0;
    for (let j = 0; j < this.dim; j++) d = Math.max(d, M[j * dp + j]!);
    const fromDiag = Math.sqrt(d / (4 * Math.max(this.#count, 1)));
    const need = Math.max(a, fromDiag);
    if (need > STORED_MAX) {
      const e = this.#exp + exponentFor(need / STORED_MAX);
      if (e > MAX_SCALE_EXPONENT) {
        throw new RangeError(
          `invalid argument: \`bytes\` must hold a state within 2^${MAX_SCALE_EXPONENT} of the float64 range. Value: scale exponent ${e}.`,
        );
      }
      this.#rescaleTo(e);
    }
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
