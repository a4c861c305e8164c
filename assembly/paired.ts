// Paired target noise on the built-in linear-regression oracle: two gradients of the same
// batch with independent noise draws differ only by the noise term,
//   g_b(xi1) - g_b(xi2) = (1/n) X_B'(xi2 - xi1),
// so the difference needs neither w, nor y, nor a residual: one pass over the batch's rows
// with one axpy each (the two gradients would need two dots and two axpys per row).
//
// Random numbers (Philox domains, counter b * 2^32 + j for sample j of batch b):
//   rows      DOMAIN_BATCH_INDEX  (0x80000001, the same rows as lrGradients' batch b)
//   draw 1    DOMAIN_BATCH_NOISE  (0x80000002, the noise lrGradients adds to batch b)
//   draw 2    DOMAIN_PAIR_NOISE   (0x80000003, new: the independent second draw)
// so the first gradient of pair b is exactly lrGradients' batch b, and pair b depends only
// on (seed, stream, b), whichever call or worker computes it.

import { philoxFill, MODE_UNIFORM, MODE_NORMAL } from './rng';
import { axpy, scale } from './linalg';
import { DOMAIN_BATCH_INDEX, DOMAIN_BATCH_NOISE, sampleRows } from './gradient';

/** Philox domain (counter word c2) of the second noise draw of a pair. */
export const DOMAIN_PAIR_NOISE: u32 = 0x80000003;

/**
 * Scratch bytes lrPairedDiffs needs: n uniforms, two n normals (f64), n indices and n
 * swap records (i32), plus a permutation of the rows (i32) when sampling without replacement.
 */
export function lrPairedDiffsScratchBytes(rows: i32, batchSize: i32, replacement: i32): usize {
  return (<usize>batchSize * 24) + (<usize>batchSize << 3) + (replacement ? 0 : <usize>rows << 2);
}

/**
 * Writes `batches` pair differences d_b = g_b(xi1) - g_b(xi2) = (1/n) X_B'(xi2 - xi1)
 * (row-major, batches x dim) to out, for batches firstBatch .. firstBatch + batches - 1,
 * with xi ~ N(0, noiseStd^2) per draw. Rows are drawn by lrGradients' rule (uniform with
 * replacement, or a partial Fisher–Yates without replacement that is undone after the batch).
 */
export function lrPairedDiffs(
  xPtr: usize, rows: i32, dim: i32,
  batchSize: i32, batches: i32, firstBatch: u32, noiseStd: f64,
  k0: u32, k1: u32, stream: u32, replacement: i32,
  outPtr: usize, scratchPtr: usize,
): void {
  assert(rows > 0 && dim > 0 && batchSize > 0 && batchSize <= (replacement ? 0x7FFFFFFF : rows));
  let n = batchSize;
  let uPtr = scratchPtr;
  let z1Ptr = uPtr + (<usize>n << 3);
  let z2Ptr = z1Ptr + (<usize>n << 3);
  let idxPtr = z2Ptr + (<usize>n << 3);
  let swapPtr = idxPtr + (<usize>n << 2);
  let permPtr = swapPtr + (<usize>n << 2);
  let rowBytes = <usize>dim << 3;
  let s = noiseStd / <f64>n;
  if (!replacement) {
    for (let r = 0; r < rows; r++) store<i32>(permPtr + (<usize>r << 2), r);
  }
  for (let t = 0; t < batches; t++) {
    let b = firstBatch + <u32>t;
    philoxFill(uPtr, n, k0, k1, 0, b, DOMAIN_BATCH_INDEX, stream, MODE_UNIFORM);
    philoxFill(z1Ptr, n, k0, k1, 0, b, DOMAIN_BATCH_NOISE, stream, MODE_NORMAL);
    philoxFill(z2Ptr, n, k0, k1, 0, b, DOMAIN_PAIR_NOISE, stream, MODE_NORMAL);
    sampleRows(uPtr, idxPtr, swapPtr, permPtr, n, rows, replacement);
    // z1 <- z1 - z2, then d = (noiseStd / n) sum_j (z2_j - z1_j) x_j
    axpy(-1.0, z2Ptr, z1Ptr, n);
    let gPtr = outPtr + <usize>t * rowBytes;
    memory.fill(gPtr, 0, rowBytes);
    for (let j = 0; j < n; j++) {
      let row = <usize>load<i32>(idxPtr + (<usize>j << 2));
      axpy(-load<f64>(z1Ptr + (<usize>j << 3)), xPtr + row * rowBytes, gPtr, dim);
    }
    scale(s, gPtr, dim);
  }
}
