// Plain-TS reference of the paired-noise kernel (assembly/paired.ts): the same rows as the
// gradient oracle's batch b, draw 1 from the oracle's noise domain, draw 2 from the pair
// domain, Math-based normals; d_b = g_b(xi1) - g_b(xi2) = (1/n) X_B'(xi2 - xi1), summed in
// the oracle's order (reference/gradients.ts sampleOrder).

import { fillNormal } from './philox.js';
import {
  batchIndices,
  bucketShift,
  sampleOrder,
  DOMAIN_BATCH_NOISE,
  type ReferenceOrder,
} from './gradients.js';

export const DOMAIN_PAIR_NOISE = 0x80000003;

export interface ReferencePairOptions extends ReferenceOrder {
  batchSize: number;
  batches: number;
  noiseVariance: number;
  k0: number;
  k1: number;
  stream?: number;
  replacement?: boolean;
  firstBatch?: number;
}

/** batches x dim pair differences (1/n) X_B'(xi2 - xi1). */
export function lrPairedDiffs(
  X: Float64Array,
  rows: number,
  dim: number,
  o: ReferencePairOptions,
): Float64Array {
  const n = o.batchSize,
    m = o.batches,
    stream = o.stream ?? 0,
    first = o.firstBatch ?? 0;
  const std = Math.sqrt(o.noiseVariance);
  const out = new Float64Array(m * dim);
  const z1 = new Float64Array(n),
    z2 = new Float64Array(n);
  const shift = bucketShift(rows, dim, o);
  for (let t = 0; t < m; t++) {
    const b = first + t;
    const idx = batchIndices(rows, n, b, o.k0, o.k1, stream, o.replacement ?? true);
    fillNormal(z1, { k0: o.k0, k1: o.k1, domain: DOMAIN_BATCH_NOISE, stream }, b * 2 ** 32);
    fillNormal(z2, { k0: o.k0, k1: o.k1, domain: DOMAIN_PAIR_NOISE, stream }, b * 2 ** 32);
    for (const j of sampleOrder(idx, shift)) {
      const e = z2[j]! - z1[j]!,
        row = idx[j]!;
      for (let c = 0; c < dim; c++) out[t * dim + c]! += e * X[row * dim + c]!;
    }
    for (let c = 0; c < dim; c++) out[t * dim + c]! *= std / n;
  }
  return out;
}
