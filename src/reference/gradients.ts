// Plain-TS reference of the linear-regression gradient oracle (assembly/gradient.ts):
// the same batch sampling (same Philox outputs, same index rule), Math-based noise.

import { uniformAt, fillNormal, type Sequence } from './philox.js';

export const DOMAIN_BATCH_INDEX = 0x80000001;
export const DOMAIN_BATCH_NOISE = 0x80000002;

export interface ReferenceGradientOptions {
  batchSize: number; batches: number; noiseVariance: number;
  k0: number; k1: number; stream?: number; replacement?: boolean; firstBatch?: number;
}

/** Row indices of batch b (the oracle's sampling rule). */
export function batchIndices(rows: number, n: number, b: number, k0: number, k1: number, stream: number, replacement: boolean): Int32Array {
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
export function linearRegressionGradients(X: Float64Array, y: Float64Array, rows: number, dim: number,
  w: Float64Array, o: ReferenceGradientOptions): Float64Array {
  const n = o.batchSize, m = o.batches, stream = o.stream ?? 0, first = o.firstBatch ?? 0;
  const out = new Float64Array(m * dim);
  const std = Math.sqrt(o.noiseVariance);
  const noise = new Float64Array(n);
  for (let t = 0; t < m; t++) {
    const b = first + t;
    const idx = batchIndices(rows, n, b, o.k0, o.k1, stream, o.replacement ?? true);
    if (std !== 0) fillNormal(noise, { k0: o.k0, k1: o.k1, domain: DOMAIN_BATCH_NOISE, stream }, b * 2 ** 32);
    for (let j = 0; j < n; j++) {
      const row = idx[j]!;
      let r = -y[row]!;
      for (let c = 0; c < dim; c++) r += X[row * dim + c]! * w[c]!;
      if (std !== 0) r -= std * noise[j]!;
      for (let c = 0; c < dim; c++) out[t * dim + c]! += r * X[row * dim + c]!;
    }
    for (let c = 0; c < dim; c++) out[t * dim + c]! /= n;
  }
  return out;
}
