// Plain-TS references for the sketch kernels (assembly/sketch.ts) and a plain-TS Frequent
// Directions (the oracle of test/sketch and the baseline of bench/sketch.js). The kernel
// references add in the kernels' order, so the plain wasm build matches them bit for bit
// (the relaxed build may fuse multiply-adds: last-bit differences).
import { symmetricEigen } from '../spectral/symeig.js';

/** Columns per Gram block (assembly/covariance.ts KC). */
const KC = 256;

/**
 * G = B B' (n x n, full) for B n x d row-major, summed per 256-column block (within a block
 * in column order from 0, blocks added to G in turn): the Gram kernel's order. dp: the
 * kernel's padded width (d rounded up to 4; the padding adds zeros).
 */
export function gram(B: ArrayLike<number>, n: number, d: number): Float64Array {
  const G = new Float64Array(n * n);
  const dp = Math.ceil(d / 4) * 4;
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let g = 0;
      for (let c0 = 0; c0 < dp; c0 += KC) {
        let s = 0;
        const end = Math.min(c0 + KC, dp);
        for (let c = c0; c < end; c++) s += c < d ? B[i * d + c]! * B[j * d + c]! : 0;
        g += s;
      }
      G[i * n + j] = g;
      G[j * n + i] = g;
    }
  return G;
}

/** W B (W: r x n, B: n x d, both row-major), each entry summed over t = 0..n-1 in order. */
export function rotate(
  W: ArrayLike<number>,
  r: number,
  B: ArrayLike<number>,
  n: number,
  d: number,
): Float64Array {
  const out = new Float64Array(r * d);
  for (let i = 0; i < r; i++)
    for (let c = 0; c < d; c++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += W[i * n + t]! * B[t * d + c]!;
      out[i * d + c] = s;
    }
  return out;
}

/**
 * The row copy: returns scale * rows (k x d) and adds the squares to diag in place; the
 * returned trace increment sums the squares in two lanes (even and odd columns; an odd d's
 * last column in the even lane), lane 0 + lane 1 at the end, as the kernel does.
 */
export function addRows(
  rows: ArrayLike<number>,
  k: number,
  d: number,
  scale: number,
  diag: Float64Array,
): { scaled: Float64Array; trace: number } {
  const scaled = new Float64Array(k * d);
  let t0 = 0,
    t1 = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < d; j++) {
      const x = rows[i * d + j]! * scale,
        sq = x * x;
      scaled[i * d + j] = x;
      diag[j] = diag[j]! + sq;
      if (j % 2 === 1) t1 += sq;
      else t0 += sq;
    }
  }
  return { scaled, trace: t0 + t1 };
}

/**
 * Plain-TS Frequent Directions with the accumulator's algorithm (2l-row buffer, shrink by the
 * l-th squared singular value, exact diagonal and trace). Unscaled: `gram()`, `delta`. With
 * `f32` the buffer's values are rounded to f32 where the accumulator's f32 storage rounds them
 * (an added row as it is stored, a rotated row as it is written back); everything else is f64.
 */
export class FrequentDirections {
  readonly B: Float64Array;
  used = 0;
  delta = 0;
  rows = 0;
  trace = 0;
  readonly diag: Float64Array;
  constructor(
    readonly dim: number,
    readonly size: number,
    readonly f32 = false,
  ) {
    this.B = new Float64Array(2 * size * dim);
    this.diag = new Float64Array(dim);
  }
  add(rows: ArrayLike<number>, scale = 1): this {
    const d = this.dim,
      k = rows.length / d;
    for (let i = 0; i < k; i++) {
      if (this.used === 2 * this.size) this.shrink();
      for (let j = 0; j < d; j++) {
        const x = rows[i * d + j]! * scale;
        this.B[this.used * d + j] = this.f32 ? Math.fround(x) : x;
        this.diag[j] = this.diag[j]! + x * x;
        this.trace += x * x;
      }
      this.used++;
      this.rows++;
    }
    return this;
  }
  shrink(): void {
    const n = this.used,
      d = this.dim,
      l = this.size;
    const { values, vectors } = symmetricEigen(gram(this.B, n, d), n);
    const rho = n >= l ? Math.max(0, values[l - 1]!) : 0;
    let r = 0;
    while (r < Math.min(n, l - 1) && values[r]! > rho) r++;
    const W = new Float64Array(r * n);
    for (let t = 0; t < r; t++) {
      const f = Math.sqrt((values[t]! - rho) / values[t]!);
      for (let q = 0; q < n; q++) W[t * n + q] = f * vectors[t * n + q]!;
    }
    const out = rotate(W, r, this.B, n, d);
    if (this.f32) for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i]!);
    this.B.fill(0);
    this.B.set(out);
    this.used = r;
    this.delta += rho;
  }
  /** B'B (d x d), the unscaled sketch of A'A. */
  sketchMatrix(): Float64Array {
    const d = this.dim,
      S = new Float64Array(d * d);
    for (let r = 0; r < this.used; r++)
      for (let i = 0; i < d; i++) {
        const a = this.B[r * d + i]!;
        for (let j = 0; j < d; j++) S[i * d + j] = S[i * d + j]! + a * this.B[r * d + j]!;
      }
    return S;
  }
}
