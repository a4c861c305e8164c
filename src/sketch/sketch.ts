// CurvatureSketch: a Frequent Directions sketch (Liberty 2013; Ghashami et al. 2016) of a
// stream of rows a_i (the scaled paired gradient differences, MATH.md "Past dense d^2"),
// with exact running sums of the diagonal and the trace. State in WebAssembly memory: a
// buffer B of 2l rows of length dim (f64, or f32 with precision 'f32': half the memory, each
// stored value rounded to f32, every product and sum still f64), the diagonal (f64), a few
// scalars; O(dim l), never
// O(dim^2). Kernels: assembly/sketch.ts (Gram matrix, rotation, row copy + diagonal);
// the 2l x 2l eigenproblem: Householder + implicit QL in TS (src/spectral/symeig.ts).
//
// Shrink (when the buffer is full, 2l rows): G = B B' = V S V' (S descending), rho = S_l
// (the l-th largest), B <- diag(sqrt(max(S_i - rho, 0) / S_i)) V' B on the first l - 1 rows
// (rows with S_i <= rho vanish), Delta += rho. Then A'A - B'B is PSD with norm <= Delta and
// Delta <= ||A - A_k||_F^2 / (l - k) for every k < l. Results are scaled by 1/rows: the
// estimate is B'B / m, its eigenvalues lambda_i lie in [lambda_i, lambda_i + Delta / m].
import {
  wasm,
  alloc,
  free,
  f64,
  f32,
  copyIn,
  checkBlocks,
  byteCount,
  trackBlocks,
  releaseBlocks,
  withBlocks,
  formatBytes,
} from '../core/wasm.js';
import {
  checkPositiveInteger,
  checkInteger,
  checkFloatArray,
  checkOptions,
  checkLive,
  checkLength,
  finiteMaxAbs,
  show,
} from '../core/validate.js';
import { crc32 } from '../core/serialize.js';
import { symmetricEigen } from '../spectral/symeig.js';

/** Options of `new CurvatureSketch(dim, options)`. */
export interface SketchOptions {
  /** The sketch size l, an integer in [2, 256]: the buffer holds 2l rows. */
  size: number;
  /**
   * Storage of the buffer: 'f64' (the default) or 'f32' (half the buffer's memory: each value
   * stored into the buffer is rounded to f32, relative error 2^-24; the Gram matrix, the
   * rotations, the diagonal and the trace stay f64; docs/sketch.md gives the measured cost).
   */
  precision?: 'f64' | 'f32';
}
/** The top eigenpairs of a sketch's estimate with their certified intervals. */
export interface SketchEigenpairs {
  /** The top k eigenvalues of B'B / rows, descending (zero past the buffer's rank). */
  eigenvalues: Float64Array;
  /** Unit eigenvectors, row-major k x dim (a zero row for a zero eigenvalue). */
  eigenvectors: Float64Array;
  /** eigenvalues + shrinkage: each true eigenvalue of the estimate lies in [eigenvalues[i], upper[i]]. */
  upper: Float64Array;
  /** Delta / rows, the width of every interval. */
  shrinkage: number;
}

/** Largest sketch size l (the buffer's 2l = 512 rows keep the eigenproblem small). */
export const MAX_SKETCH_SIZE = 256;
/** Rows copied per kernel call are staged in about this many bytes of wasm memory (at least one row). */
const STAGE_BYTES = 8 * 2 ** 20;
/** Largest |value| a row may hold (after `scale`): squares and Gram entries stay far from overflow. */
export const SKETCH_MAX_ABS = 2 ** 480;
/**
 * The same with f32 storage: a stored value (a rotated row's entry is at most sqrt(rows) times
 * the largest added) stays far below f32's 2^128 (2^100 x 2^26.5 for 2^53 rows).
 */
export const SKETCH_MAX_ABS_F32 = 2 ** 100;
/** Gram kernel column block (assembly/covariance.ts KC) and rotation strip width (assembly/sketch.ts CW). */
const KC = 256,
  CW = 64;

/** Serialised form (docs/serialization.md): magic "GSKT", version 1. */
export const SKETCH_MAGIC = 0x544b5347; // "GSKT" read as a little-endian uint32
export const SKETCH_FORMAT_VERSION = 1;
export const SKETCH_HEADER_BYTES = 48;

const pad4 = (x: number): number => Math.ceil(x / 4) * 4;

/** Bytes of every block a sketch of this shape holds (buffer, diagonal) and its kernels' scratch. @internal */
export function sketchBlockBytes(
  dim: number,
  size: number,
  precision: 'f64' | 'f32' = 'f64',
): { buffer: number; diagonal: number; scratch: number; total: number } {
  const np = pad4(2 * size),
    dp = pad4(dim);
  const buffer = byteCount(2 * size * dp, precision === 'f32' ? 4 : 8),
    diagonal = byteCount(dim, 8);
  const scratch =
    byteCount(np * KC + 4 + np * np + np * np + np * CW, 8) +
    Math.min(byteCount(dim, 8) * 2 * size, Math.max(STAGE_BYTES, byteCount(dim, 8)));
  return { buffer, diagonal, scratch, total: buffer + diagonal + scratch };
}

/**
 * Frequent Directions sketch of a stream of rows of length `dim`: mergeable, serialisable,
 * O(dim size) memory. Results (eigenpairs, diagonal, trace, apply) are of the estimate
 * (1/rows) sum a_i a_i'; the diagonal and the trace are exact running sums.
 *
 * Call `dispose()` when done: the buffer lives in WebAssembly memory (a FinalizationRegistry
 * frees it where the runtime has one, at an unpredictable time).
 */
export class CurvatureSketch {
  /** Length of the rows. */
  readonly dim: number;
  /** The sketch size l: the buffer holds up to 2l rows, l - 1 after a shrink. */
  readonly size: number;
  /** Storage of the buffer: 'f64' or 'f32'. */
  readonly precision: 'f64' | 'f32';
  readonly #dp: number;
  readonly #np: number;
  #bPtr: number;
  #diagPtr: number;
  #used = 0;
  #delta = 0;
  #trace = 0;
  #rows = 0;
  #disposed = false;

  /**
   * @param dim positive integer, the row length
   * @param options `size` l in [2, 256]; `precision` 'f64' (default) or 'f32' (the buffer's storage)
   * @throws {TypeError|RangeError} naming the parameter, before anything is allocated, for bad
   *   values or a buffer (8 * 2l * dim bytes) the wasm heap cannot hold
   */
  constructor(dim: number, options: SketchOptions) {
    this.dim = checkPositiveInteger('dim', dim);
    const o = checkOptions('options', options, ['size', 'precision']);
    if (o.size === undefined)
      throw new TypeError('invalid argument: `size` must be an integer in [2, 256]. Value: `undefined`.');
    const l = checkInteger('size', o.size, 2, MAX_SKETCH_SIZE);
    if (o.precision !== undefined && o.precision !== 'f64' && o.precision !== 'f32')
      throw new RangeError(
        `invalid argument: \`precision\` must be 'f64' or 'f32'. Value: \`${show(o.precision)}\`.`,
      );
    const precision = (o.precision ?? 'f64') as 'f64' | 'f32';
    const b = sketchBlockBytes(this.dim, l, precision);
    const named = `CurvatureSketch(${this.dim}, { size: ${l}${precision === 'f32' ? ", precision: 'f32'" : ''} })`;
    checkBlocks(
      [b.buffer, b.diagonal, b.scratch],
      `\`dim\` x \`size\` = ${this.dim} x ${l}`,
      `${named} (its 2 size x dim buffer of ${formatBytes(b.buffer)}, diagonal and scratch)`,
    );
    this.size = l;
    this.precision = precision;
    this.#dp = pad4(this.dim);
    this.#np = pad4(2 * l);
    this.#bPtr = alloc(b.buffer, named);
    try {
      this.#diagPtr = alloc(b.diagonal, named);
    } catch (err) {
      free(this.#bPtr);
      throw err;
    }
    this.#buffer(0, 2 * l).fill(0);
    f64(this.#diagPtr, this.dim).fill(0);
    trackBlocks(this, [this.#bPtr, this.#diagPtr]);
  }

  /** Rows added (counting merged sketches' rows). */
  get rows(): number {
    return this.#rows;
  }
  /** Rows held in the buffer now (0 to 2 size). */
  get bufferRows(): number {
    return this.#used;
  }
  /** Delta / rows: the certified width of every eigenvalue interval of the estimate. */
  get shrinkage(): number {
    return this.#rows ? this.#delta / this.#rows : 0;
  }

  /** A fresh view of buffer rows [from, from + count) (dp values each, in the storage's type). */
  #buffer(from: number, count: number): Float64Array | Float32Array {
    const dp = this.#dp;
    return this.precision === 'f32'
      ? f32(this.#bPtr + from * dp * 4, count * dp)
      : f64(this.#bPtr + from * dp * 8, count * dp);
  }

  /**
   * Adds the rows (row-major, length a multiple of dim; Float64Array or Float32Array), each
   * multiplied by `scale` (default 1). Returns this.
   * @throws {TypeError|RangeError} for a wrong type or length, a non-finite or overflowing value, a bad scale (state unchanged)
   */
  addRows(rows: Float32Array | Float64Array, options: { scale?: number } = {}): this {
    checkLive('CurvatureSketch', this.#disposed);
    const r = checkFloatArray('rows', rows);
    const o = checkOptions('options', options, ['scale']);
    const s = o.scale === undefined ? 1 : o.scale;
    if (typeof s !== 'number' || !Number.isFinite(s))
      throw new RangeError(`invalid argument: \`scale\` must be a finite number. Value: \`${show(s)}\`.`);
    const d = this.dim,
      k = r.length / d;
    if (!Number.isInteger(k))
      throw new RangeError(
        `invalid argument: \`rows\` must hold whole rows of length dim (${d}). Value: length ${r.length}.`,
      );
    const maxAbs = finiteMaxAbs('rows', r, r.length, d);
    const f32b = this.precision === 'f32';
    if (maxAbs * Math.abs(s) > (f32b ? SKETCH_MAX_ABS_F32 : SKETCH_MAX_ABS))
      throw new RangeError(
        f32b
          ? `invalid argument: \`rows\` times \`scale\` must stay below 2^100 in magnitude with precision 'f32' (the f32 buffer's rotated rows would overflow; use precision 'f64' or scale the rows down). Value: max |row| ${maxAbs} times scale ${s}.`
          : `invalid argument: \`rows\` times \`scale\` must stay below 2^480 in magnitude (the sketch's squares would overflow). Value: max |row| ${maxAbs} times scale ${s}.`,
      );
    if (this.#rows + k > Number.MAX_SAFE_INTEGER)
      throw new RangeError(
        `invalid argument: \`rows\` would take the count of rows past 2^53 - 1. Value: ${k} more after ${this.#rows}.`,
      );
    if (k === 0) return this;
    const bpe = r.BYTES_PER_ELEMENT,
      rowBytes = d * bpe;
    const stageRows = Math.max(1, Math.min(k, 2 * this.size, Math.floor(STAGE_BYTES / rowBytes)));
    const K = wasm();
    withBlocks([stageRows * rowBytes], 'the sketch staging buffer', (stage) => {
      let done = 0;
      while (done < k) {
        if (this.#used === 2 * this.size) this.#shrink();
        const c = Math.min(stageRows, k - done, 2 * this.size - this.#used);
        copyIn(stage!, r.subarray(done * d, (done + c) * d));
        this.#trace += (f32b ? K.sketchAddRowsF32 : K.sketchAddRows)(
          stage!,
          c,
          d,
          bpe === 4 ? 1 : 0,
          s,
          this.#bPtr,
          this.#used,
          this.#dp,
          this.#diagPtr,
        );
        this.#used += c;
        this.#rows += c;
        done += c;
      }
    });
    return this;
  }

  /** The Gram matrix of the used rows (n x n, full, symmetric) and its eigen-decomposition. */
  #eigen(): { values: Float64Array; vectors: Float64Array } {
    const n = this.#used,
      np = this.#np,
      K = wasm();
    return withBlocks([(np * KC + 4) * 8, np * np * 8], 'the sketch Gram matrix', (scr, g) => {
      (this.precision === 'f32' ? K.sketchGramF32 : K.sketchGram)(this.#bPtr, n, this.#dp, g!, np, scr!);
      const G = f64(g!, np * np),
        A = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = i; j < n; j++) {
          const v = G[i * np + j]!;
          A[j * n + i] = v;
          A[i * n + j] = v;
        }
      return symmetricEigen(A, n);
    });
  }

  /** out rows [0, r) = W B (W: r x used, row-major, in JS); in place when outPtr is the buffer. */
  #rotate(W: Float64Array, r: number, outPtr: number, ldo: number): void {
    const n = this.#used,
      rp = pad4(Math.max(r, 1)),
      K = wasm();
    withBlocks([rp * n * 8, n * CW * 8], 'the sketch rotation', (wp, scr) => {
      const P = f64(wp!, rp * n).fill(0);
      for (let i = 0; i < r; i++) {
        const base = (i >> 2) * n * 4 + (i & 3);
        for (let t = 0; t < n; t++) P[base + t * 4] = W[i * n + t]!;
      }
      (this.precision === 'f32' ? K.sketchRotateF32 : K.sketchRotate)(
        this.#bPtr,
        n,
        this.#dp,
        wp!,
        r,
        outPtr,
        ldo,
        scr!,
      );
    });
  }

  #shrink(): void {
    const n = this.#used,
      l = this.size;
    const { values, vectors } = this.#eigen();
    const rho = n >= l ? Math.max(0, values[l - 1]!) : 0;
    let r = 0;
    while (r < Math.min(n, l - 1) && values[r]! > rho) r++;
    const W = new Float64Array(r * n);
    for (let t = 0; t < r; t++) {
      const s2 = values[t]!,
        f = Math.sqrt((s2 - rho) / s2);
      for (let q = 0; q < n; q++) W[t * n + q] = f * vectors[t * n + q]!;
    }
    this.#rotate(W, r, this.#bPtr, this.#dp);
    this.#used = r;
    this.#delta += rho;
  }

  /**
   * Merges another sketch of the same dim, size and precision into this one (stacks its rows,
   * shrinking when the buffer fills); `other` is unchanged. Returns this.
   * @throws {TypeError|RangeError} for another type, dim, size or precision (state unchanged)
   */
  merge(other: CurvatureSketch): this {
    checkLive('CurvatureSketch', this.#disposed);
    if (!(other instanceof CurvatureSketch))
      throw new TypeError(
        `invalid argument: \`other\` must be a CurvatureSketch. Value: \`${show(other)}\`.`,
      );
    checkLive('`other` CurvatureSketch', other.#disposed);
    if (other.dim !== this.dim || other.size !== this.size) {
      throw new RangeError(
        `invalid argument: \`other\` must have this sketch's dim and size (${this.dim}, ${this.size}). Value: dim ${other.dim}, size ${other.size}.`,
      );
    }
    if (other.precision !== this.precision)
      throw new RangeError(
        `invalid argument: \`other\` must have this sketch's precision ('${this.precision}'). Value: precision '${other.precision}'.`,
      );
    if (this.#rows + other.#rows > Number.MAX_SAFE_INTEGER)
      throw new RangeError(
        `invalid argument: \`other\` would take the count of rows past 2^53 - 1. Value: ${other.#rows} more after ${this.#rows}.`,
      );
    if (other === this) {
      const copy = CurvatureSketch.fromBytes(this.toBytes());
      try {
        return this.merge(copy);
      } finally {
        copy.dispose();
      }
    }
    let done = 0;
    while (done < other.#used) {
      if (this.#used === 2 * this.size) this.#shrink();
      const c = Math.min(other.#used - done, 2 * this.size - this.#used);
      this.#buffer(this.#used, c).set(other.#buffer(done, c));
      this.#used += c;
      done += c;
    }
    const a = f64(this.#diagPtr, this.dim),
      b = f64(other.#diagPtr, this.dim);
    for (let j = 0; j < this.dim; j++) a[j] = a[j]! + b[j]!;
    this.#trace += other.#trace;
    this.#delta += other.#delta;
    this.#rows += other.#rows;
    return this;
  }

  /**
   * The top k eigenpairs of the estimate B'B / rows (k in [1, size], default size - 1):
   * eigenvalues descending (zeros past the buffer's rank, with zero eigenvectors), unit
   * eigenvectors row-major (k x dim), `upper` = eigenvalue + shrinkage (the certified
   * interval's top end), and the shrinkage.
   */
  eigenpairs(k = this.size - 1): SketchEigenpairs {
    checkLive('CurvatureSketch', this.#disposed);
    if (!Number.isInteger(k) || k < 1 || k > this.size)
      throw new RangeError(
        `invalid argument: \`k\` must be an integer in [1, size] (size ${this.size}). Value: \`${show(k)}\`.`,
      );
    const d = this.dim,
      m = this.#rows || 1;
    const eigenvalues = new Float64Array(k),
      eigenvectors = new Float64Array(k * d);
    if (this.#used > 0) {
      const n = this.#used;
      const { values, vectors } = this.#eigen();
      let r = 0;
      while (r < Math.min(k, n) && values[r]! > 0) r++;
      const W = new Float64Array(r * n);
      for (let t = 0; t < r; t++) {
        const inv = 1 / Math.sqrt(values[t]!);
        eigenvalues[t] = values[t]! / m;
        for (let q = 0; q < n; q++) W[t * n + q] = inv * vectors[t * n + q]!;
      }
      if (r > 0) {
        withBlocks([r * this.#dp * 8], 'the sketch eigenvectors', (out) => {
          this.#rotate(W, r, out!, this.#dp);
          const V = f64(out!, r * this.#dp);
          for (let t = 0; t < r; t++) eigenvectors.set(V.subarray(t * this.#dp, t * this.#dp + d), t * d);
        });
      }
    }
    const shrinkage = this.shrinkage;
    return { eigenvalues, eigenvectors, upper: eigenvalues.map((v) => v + shrinkage), shrinkage };
  }

  /** The exact diagonal of (1/rows) sum a_i a_i' (zeros before any row). */
  diagonal(): Float64Array {
    checkLive('CurvatureSketch', this.#disposed);
    const m = this.#rows || 1;
    return f64(this.#diagPtr, this.dim).map((v) => v / m);
  }

  /** The exact trace of (1/rows) sum a_i a_i'. */
  trace(): number {
    checkLive('CurvatureSketch', this.#disposed);
    return this.#trace / (this.#rows || 1);
  }

  /** The estimate times v: B'(B v) / rows, O(dim size). */
  apply(v: Float64Array): Float64Array {
    checkLive('CurvatureSketch', this.#disposed);
    const x = checkFloatArray('v', v);
    checkLength('v', x, this.dim, 'dim');
    const d = this.dim,
      dp = this.#dp,
      n = this.#used,
      m = this.#rows || 1,
      out = new Float64Array(d);
    const B = this.#buffer(0, n);
    for (let r = 0; r < n; r++) {
      const o = r * dp;
      let t = 0;
      for (let c = 0; c < d; c++) t += B[o + c]! * x[c]!;
      t /= m;
      for (let c = 0; c < d; c++) out[c] = out[c]! + t * B[o + c]!;
    }
    return out;
  }

  /**
   * The versioned serialised form (docs/serialization.md): header, diagonal, the used buffer
   * rows, CRC-32; little-endian. fromBytes(toBytes()) reproduces the state bit for bit.
   */
  toBytes(): Uint8Array {
    checkLive('CurvatureSketch', this.#disposed);
    const d = this.dim,
      n = this.#used,
      f32b = this.precision === 'f32',
      be = f32b ? 4 : 8,
      len = SKETCH_HEADER_BYTES + 8 * d + be * n * d + 4;
    const out = new Uint8Array(len),
      v = new DataView(out.buffer);
    v.setUint32(0, SKETCH_MAGIC, true);
    v.setUint32(4, SKETCH_FORMAT_VERSION, true);
    v.setUint32(8, f32b ? 1 : 0, true); // precision: 0 = f64, 1 = f32 (the buffer rows' type)
    v.setUint32(12, d, true);
    v.setUint32(16, this.size, true);
    v.setUint32(20, n, true);
    v.setFloat64(24, this.#delta, true);
    v.setFloat64(32, this.#trace, true);
    v.setFloat64(40, this.#rows, true);
    let p = SKETCH_HEADER_BYTES;
    const diag = f64(this.#diagPtr, d);
    for (let j = 0; j < d; j++, p += 8) v.setFloat64(p, diag[j]!, true);
    const B = this.#buffer(0, n);
    for (let r = 0; r < n; r++)
      for (let j = 0; j < d; j++, p += be)
        if (f32b) v.setFloat32(p, B[r * this.#dp + j]!, true);
        else v.setFloat64(p, B[r * this.#dp + j]!, true);
    v.setUint32(p, crc32(out, 0, p), true);
    return out;
  }

  /**
   * A sketch from its toBytes() form. The bytes are copied first, then checked completely
   * (length, magic, version, precision, counts, CRC, finite and non-negative values) before
   * any wasm memory is allocated.
   * @throws {TypeError} when bytes is not a Uint8Array
   * @throws {RangeError} naming `bytes` and the first rule the blob breaks
   */
  static fromBytes(bytes: Uint8Array): CurvatureSketch {
    const { v, d, l, n, be, delta, trace, rows } = checkSketchBytes(bytes);
    // refuses, naming the sizes, what the heap cannot hold
    const s = new CurvatureSketch(d, { size: l, precision: be === 4 ? 'f32' : 'f64' });
    s.#used = n;
    s.#delta = delta;
    s.#trace = trace;
    s.#rows = rows;
    let p = SKETCH_HEADER_BYTES;
    const diag = f64(s.#diagPtr, d);
    for (let j = 0; j < d; j++, p += 8) diag[j] = v.getFloat64(p, true);
    const B = s.#buffer(0, n);
    for (let r = 0; r < n; r++)
      for (let j = 0; j < d; j++, p += be)
        B[r * s.#dp + j] = be === 4 ? v.getFloat32(p, true) : v.getFloat64(p, true);
    return s;
  }

  /** Frees the wasm memory now (idempotent). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    releaseBlocks(this, [this.#bPtr, this.#diagPtr]);
    this.#bPtr = 0;
    this.#diagPtr = 0;
  }
}

/** A sketch blob checked completely (checkSketchBytes): its private copy and header fields. @internal */
export interface SketchBytes {
  v: DataView;
  /** dim */
  d: number;
  /** size */
  l: number;
  /** buffer rows in use */
  n: number;
  /** bytes per buffer value: 8 (precision code 0, f64) or 4 (code 1, f32) */
  be: 4 | 8;
  delta: number;
  trace: number;
  /** rows added */
  rows: number;
}

/**
 * Checks a CurvatureSketch's toBytes() form completely (length, magic, version, precision,
 * counts, CRC, finite and non-negative values) without allocating wasm memory, on a private
 * copy of the bytes; fromBytes decodes what it returns. @internal
 * @throws {TypeError} when bytes is not a Uint8Array
 * @throws {RangeError} naming `bytes` and the first rule the blob breaks
 */
export function checkSketchBytes(bytes: Uint8Array): SketchBytes {
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`invalid argument: \`bytes\` must be a Uint8Array. Value: \`${show(bytes)}\`.`);
  const b = bytes.slice(); // a private copy: nobody can rewrite it while it is decoded
  const bad = (why: string): never => {
    throw new RangeError(`invalid argument: \`bytes\` is not a CurvatureSketch's toBytes() form: ${why}.`);
  };
  if (b.length < SKETCH_HEADER_BYTES + 4)
    bad(`length ${b.length} is below the ${SKETCH_HEADER_BYTES + 4} bytes of the header and checksum`);
  const v = new DataView(b.buffer);
  if (v.getUint32(0, true) !== SKETCH_MAGIC) bad('wrong magic (expected "GSKT")');
  const version = v.getUint32(4, true);
  if (version !== SKETCH_FORMAT_VERSION)
    bad(`unsupported version ${version} (this release reads version ${SKETCH_FORMAT_VERSION})`);
  const precision = v.getUint32(8, true);
  if (precision !== 0 && precision !== 1) bad(`unsupported precision code ${precision} (0 = f64, 1 = f32)`);
  const be = precision === 1 ? 4 : 8;
  const d = v.getUint32(12, true),
    l = v.getUint32(16, true),
    n = v.getUint32(20, true);
  if (d < 1) bad(`dim ${d} is not positive`);
  if (l < 2 || l > MAX_SKETCH_SIZE) bad(`size ${l} is outside [2, ${MAX_SKETCH_SIZE}]`);
  if (n > 2 * l) bad(`${n} buffer rows exceed 2 size = ${2 * l}`);
  const len = SKETCH_HEADER_BYTES + 8 * d + be * n * d + 4;
  if (b.length !== len)
    bad(
      `length ${b.length}, but dim ${d} and ${n} buffer rows of precision ${be === 4 ? 'f32' : 'f64'} need ${len}`,
    );
  const stored = v.getUint32(len - 4, true);
  if (crc32(b, 0, len - 4) !== stored) bad('the CRC-32 does not match (corrupted or truncated)');
  const delta = v.getFloat64(24, true),
    trace = v.getFloat64(32, true),
    rows = v.getFloat64(40, true);
  if (!(Number.isSafeInteger(rows) && rows >= 0))
    bad(`the row count ${rows} is not an integer in [0, 2^53 - 1]`);
  if (n > rows) bad(`${n} buffer rows exceed the ${rows} rows added`);
  if (!(Number.isFinite(delta) && delta >= 0)) bad(`the shrinkage total ${delta} is not finite and >= 0`);
  if (!(Number.isFinite(trace) && trace >= 0)) bad(`the trace ${trace} is not finite and >= 0`);
  let p = SKETCH_HEADER_BYTES;
  let sum = 0;
  for (let j = 0; j < d; j++, p += 8) {
    const x = v.getFloat64(p, true);
    if (!(Number.isFinite(x) && x >= 0)) bad(`diagonal entry ${j} is ${x}, not finite and >= 0`);
    sum += x;
  }
  if (Math.abs(sum - trace) > 1e-9 * Math.max(sum, trace))
    bad(`the trace ${trace} is not the sum of the diagonal (${sum})`);
  if (rows === 0 && (trace !== 0 || delta !== 0)) bad('an empty sketch with a nonzero trace or shrinkage');
  for (let i = 0; i < n * d; i++, p += be) {
    const x = be === 4 ? v.getFloat32(p, true) : v.getFloat64(p, true);
    if (!Number.isFinite(x)) bad(`buffer row ${Math.floor(i / d)}, column ${i % d} is ${x}`);
  }
  return { v, d, l, n, be, delta, trace, rows };
}
