// Plain-TS reference of the linear-regression gradient oracle (assembly/gradient.ts):
// the same batch sampling (same Philox outputs, same index rule), the same summation
// order (samples by bucket of their row, then in drawing order; the residual's dot
// product in two interleaved halves, as the kernel's f64x2 lanes), Math-based noise.
// Without noise the kernel's gradients equal these bit for bit.

import { uniformAt, fillNormal, type Sequence } from './philox.js';

export const DOMAIN_BATCH_INDEX = 0x80000001;
export const DOMAIN_BATCH_NOISE = 0x80000002;

/** The kernel's tuning constants that decide the summation order (lrGradientsTuning). */
export interface ReferenceOrder {
  /** Bytes of X per bucket (default 16384). */
  bucketBytes?: number;
  /** X below this many bytes is one bucket (default 2 MiB). */
  sortMinXBytes?: number;
}

export interface ReferenceGradientOptions extends ReferenceOrder {
  batchSize: number;
  batches: number;
  noiseVariance: number;
  k0: number;
  k1: number;
  stream?: number;
  replacement?: boolean;
  firstBatch?: number;
}

/** S, log2 of the rows per bucket (assembly/gradient.ts lrBucketShift); 31: one bucket. */
export function bucketShift(rows: number, dim: number, o: ReferenceOrder = {}): number {
  if (rows * dim * 8 < (o.sortMinXBytes ?? 2 ** 21)) return 31;
  let s = 0;
  while (s < 30 && dim * 8 * 2 ** (s + 1) <= (o.bucketBytes ?? 16384)) s++;
  while (Math.floor((rows - 1) / 2 ** s) >= 2 ** 18) s++;
  return s;
}

/** The samples 0..n-1 in summation order: by bucket of their row, ties in drawing order. */
export function sampleOrder(idx: Int32Array, shift: number): number[] {
  const bucket = (j: number) => Math.floor(idx[j]! / 2 ** shift);
  return Array.from(idx.keys()).sort((a, b) => bucket(a) - bucket(b) || a - b);
}

/** x_row . w - y_row with the kernel's order: even and odd terms summed apart, then the odd tail. */
export function residual(
  X: Float64Array,
  y: Float64Array,
  dim: number,
  w: Float64Array,
  row: number,
): number {
  let even = 0,
    odd = 0,
    c = 0;
  for (; c + 2 <= dim; c += 2) {
    even += X[row * dim + c]! * w[c]!;
    odd += X[row * dim + c + 1]! * w[c + 1]!;
  }
  let d = even + odd;
  if (c < dim) d += X[row * dim + c]! * w[c]!;
  return d - y[row]!;
}

/** Row indices of batch b (the oracle's sampling rule). */
export function batchIndices(
  rows: number,
  n: number,
  b: number,
  k0: number,
  k1: number,
  stream: number,
  replacement: boolean,
): Int32Array {
  const seq: Sequence = { k0, k1, domain: DOMAIN_BATCH_INDEX, stream };
  const idx = new Int32Array(n);
  const base = b * 2 ** 32;
  if (replacement) {
    for (let j = 0; j < n; j++) idx[j] = Math.min(Math.floor(uniformAt(seq, base + j) * rows), rows - 1);
  } else {
    const perm = new Map<number, number>(); // sparse Fisher–Yates
    const at = (i: number) => perm.get(i) ?? i;
    for (let j = 0; j < n; j++) {
      const k = j + Math.min(Math.floor(uniformAt(seq, base + j) * (rows - j)), rows - j - 1);
      const v = at(k);
      perm.set(k, at(j));
      perm.set(j, v);
      idx[j] = v;
    }
  }
  return idx;
}

/** batches x dim gradients g_b = (1/n) X_B'(X_B w - y_B - xi). */
export function linearRegressionGradients(
  X: Float64Array,
  y: Float64Array,
  rows: number,
  dim: number,
  w: Float64Array,
  o: ReferenceGradientOptions,
): Float64Array {
  const n = o.batchSize,
    m = o.batches,
    stream = o.stream ?? 0,
    first = o.firstBatch ?? 0;
  const out = new Float64Array(m * dim);
  const std = Math.sqrt(o.noiseVariance);
  const noise = new Float64Array(n);
  const shift = bucketShift(rows, dim, o);
  for (let t = 0; t < m; t++) {
    const b = first + t;
    const idx = batchIndices(rows, n, b, o.k0, o.k1, stream, o.replacement ?? true);
    if (std !== 0) fillNormal(noise, { k0: o.k0, k1: o.k1, domain: DOMAIN_BATCH_NOISE, stream }, b * 2 ** 32);
    for (const j of sampleOrder(idx, shift)) {
      const row = idx[j]!;
      let r = residual(X, y, dim, w, row);
      if (std !== 0) r += -std * noise[j]!;
      for (let c = 0; c < dim; c++) out[t * dim + c]! += r * X[row * dim + c]!;
    }
    for (let c = 0; c < dim; c++) out[t * dim + c]! *= 1 / n;
  }
  return out;
}
