// Paired target noise on the built-in linear-regression oracle: two gradients of the same
// batch with independent noise draws differ only by the noise term,
//   g_b(xi1) - g_b(xi2) = (1/n) X_B'(xi2 - xi1),
// so the difference needs neither w, nor y, nor a residual: one multiply-add per element and
// sample (the two gradients would need two dots and two axpys per row). It runs on
// lrGradients' machinery (gradient.ts: the same sampling, order and sorted path).
//
// Random numbers (Philox domains, counter b * 2^32 + j for sample j of batch b):
//   rows      DOMAIN_BATCH_INDEX  (0x80000001, the same rows as lrGradients' batch b)
//   draw 1    DOMAIN_BATCH_NOISE  (0x80000002, the noise lrGradients adds to batch b)
//   draw 2    DOMAIN_PAIR_NOISE   (0x80000003, new: the independent second draw)
// so the first gradient of pair b is exactly lrGradients' batch b, and pair b depends only
// on (seed, stream, b), whichever call or worker computes it.

import { beginJob, runJob } from './gradient';

/** Philox domain (counter word c2) of the second noise draw of a pair. */
export { DOMAIN_PAIR_NOISE } from './gradient';

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
 * replacement, or a partial Fisher–Yates without replacement that is undone after the batch),
 * and summed in its order (gradient.ts): d_b = (noiseStd / n) sum_j (z2_j - z1_j) x_{i_j} in
 * order of (bucket of i_j, j). areaPtr/areaBytes: lrGradients' optional sort area.
 */
export function lrPairedDiffs(
  xPtr: usize, rows: i32, dim: i32,
  batchSize: i32, batches: i32, firstBatch: u32, noiseStd: f64,
  k0: u32, k1: u32, stream: u32, replacement: i32,
  outPtr: usize, scratchPtr: usize, areaPtr: usize, areaBytes: usize,
): void {
  assert(rows > 0 && dim > 0 && batchSize > 0 && batchSize <= (replacement ? 0x7FFFFFFF : rows));
  beginJob(xPtr, 0, rows, dim, 0, batchSize, noiseStd, k0, k1, stream, replacement, scratchPtr, true);
  runJob(batches, firstBatch, outPtr, areaPtr, areaBytes);
}
