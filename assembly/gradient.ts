// Linear-regression batch gradients with fused target-noise injection:
//   g_b = (1/n) X_B'(X_B w - y_B - xi),  xi ~ N(0, tau2) fresh per sample and batch.

import { philoxFill, MODE_UNIFORM, MODE_NORMAL } from './rng';
import { dot, axpy, scale } from './linalg';

/** Philox domains (counter word c2) of the oracle's two random sequences. */
export const DOMAIN_BATCH_INDEX: u32 = 0x80000001;
export const DOMAIN_BATCH_NOISE: u32 = 0x80000002;

/**
 * Scratch bytes lrGradients needs: n uniforms + n normals (f64), n indices and n swap
 * records (i32), plus a permutation of the rows (i32) when sampling without replacement.
 */
export function lrGradientsScratchBytes(rows: i32, batchSize: i32, replacement: i32): usize {
  return (<usize>batchSize << 4) + (<usize>batchSize << 3) + (replacement ? 0 : <usize>rows << 2);
}

/**
 * Writes `batches` gradients (row-major, batches x dim) to out. Batch b (global index
 * firstBatch + t) draws its n rows and its n noise values from outputs b * 2^32 + j,
 * j < n, of two Philox sequences (domains above), so batch b is the same whichever call
 * or worker computes it. Rows: uniform with replacement (index = floor(u * rows)), or
 * without replacement within the batch (partial Fisher–Yates on a permutation that is
 * undone after the batch, so the batch does not depend on earlier batches).
 * The floor(u * k) draw has a relative bias below k * 2^-52, far below sampling error.
 */
export function lrGradients(
  xPtr: usize, yPtr: usize, rows: i32, dim: i32, wPtr: usize,
  batchSize: i32, batches: i32, firstBatch: u32, noiseStd: f64,
  k0: u32, k1: u32, stream: u32, replacement: i32,
  outPtr: usize, scratchPtr: usize,
): void {
  assert(rows > 0 && dim > 0 && batchSize > 0 && batchSize <= (replacement ? 0x7FFFFFFF : rows));
  let n = batchSize;
  let uPtr = scratchPtr;
  let zPtr = uPtr + (<usize>n << 3);
  let idxPtr = zPtr + (<usize>n << 3);
  let swapPtr = idxPtr + (<usize>n << 2);
  let permPtr = swapPtr + (<usize>n << 2);
  let rowBytes = <usize>dim << 3;
  let invN = 1.0 / <f64>n;
  if (!replacement) {
    for (let r = 0; r < rows; r++) store<i32>(permPtr + (<usize>r << 2), r);
  }
  for (let t = 0; t < batches; t++) {
    let b = firstBatch + <u32>t;
    philoxFill(uPtr, n, k0, k1, 0, b, DOMAIN_BATCH_INDEX, stream, MODE_UNIFORM);
    if (noiseStd != 0) philoxFill(zPtr, n, k0, k1, 0, b, DOMAIN_BATCH_NOISE, stream, MODE_NORMAL);
    sampleRows(uPtr, idxPtr, swapPtr, permPtr, n, rows, replacement);
    // One pass over the batch, eight rows at a time: residuals r_t = x_t'w - y_t - sigma z_t
    // (dot8: eight independent rows, mostly cache misses, in flight), then, while the eight
    // rows are still in L1, g += r_0 x_0 + ... + r_7 x_7 (one load and store of g per eight
    // rows; the former second pass re-read every row from L2 and g per row): 1.12-1.19x in
    // A/B runs of the two builds in one process. Touching the next group's rows line by
    // line first (a prefetch by loads; wasm has none) was 0.85-0.90x: not kept.
    let gPtr = outPtr + <usize>t * rowBytes;
    memory.fill(gPtr, 0, rowBytes);
    let mz = -noiseStd;
    let j = 0;
    for (; j + 8 <= n; j += 8) {
      let ip = idxPtr + (<usize>j << 2);
      let op = uPtr + (<usize>j << 3);
      dot8(xPtr, rowBytes, ip, wPtr, dim, op);
      for (let q: usize = 0; q < 8; q++) {
        let r = load<f64>(op + (q << 3)) - load<f64>(yPtr + (<usize>load<i32>(ip + (q << 2)) << 3));
        if (noiseStd != 0) r += mz * load<f64>(zPtr + ((<usize>j + q) << 3));
        store<f64>(op + (q << 3), r);
      }
      axpy8(xPtr, rowBytes, ip, op, gPtr, dim);
    }
    for (; j < n; j++) {
      let row = <usize>load<i32>(idxPtr + (<usize>j << 2));
      let r = dot(xPtr + row * rowBytes, wPtr, dim) - load<f64>(yPtr + (row << 3));
      if (noiseStd != 0) r += mz * load<f64>(zPtr + (<usize>j << 3));
      axpy(r, xPtr + row * rowBytes, gPtr, dim);
    }
    scale(invN, gPtr, dim);
  }
}

/** g += sum_t r[t] x_{idx[t]} over eight rows (r: 8 doubles), one load and store of g per pair. */
// @ts-ignore: decorator
@inline function axpy8(xPtr: usize, rowBytes: usize, idxPtr: usize, rPtr: usize, gPtr: usize, dim: i32): void {
  let a0 = xPtr + <usize>load<i32>(idxPtr) * rowBytes, a1 = xPtr + <usize>load<i32>(idxPtr, 4) * rowBytes;
  let a2 = xPtr + <usize>load<i32>(idxPtr, 8) * rowBytes, a3 = xPtr + <usize>load<i32>(idxPtr, 12) * rowBytes;
  let a4 = xPtr + <usize>load<i32>(idxPtr, 16) * rowBytes, a5 = xPtr + <usize>load<i32>(idxPtr, 20) * rowBytes;
  let a6 = xPtr + <usize>load<i32>(idxPtr, 24) * rowBytes, a7 = xPtr + <usize>load<i32>(idxPtr, 28) * rowBytes;
  let r0 = v128.load64_splat(rPtr), r1 = v128.load64_splat(rPtr, 8), r2 = v128.load64_splat(rPtr, 16), r3 = v128.load64_splat(rPtr, 24);
  let r4 = v128.load64_splat(rPtr, 32), r5 = v128.load64_splat(rPtr, 40), r6 = v128.load64_splat(rPtr, 48), r7 = v128.load64_splat(rPtr, 56);
  let i = 0;
  for (; i + 2 <= dim; i += 2) {
    let o = <usize>i << 3;
    let s = f64x2.add(
      f64x2.add(f64x2.add(f64x2.mul(r0, v128.load(a0 + o)), f64x2.mul(r1, v128.load(a1 + o))),
        f64x2.add(f64x2.mul(r2, v128.load(a2 + o)), f64x2.mul(r3, v128.load(a3 + o)))),
      f64x2.add(f64x2.add(f64x2.mul(r4, v128.load(a4 + o)), f64x2.mul(r5, v128.load(a5 + o))),
        f64x2.add(f64x2.mul(r6, v128.load(a6 + o)), f64x2.mul(r7, v128.load(a7 + o)))));
    v128.store(gPtr + o, f64x2.add(v128.load(gPtr + o), s));
  }
  if (i < dim) {
    let o = <usize>i << 3;
    let s = ((load<f64>(rPtr) * load<f64>(a0 + o) + load<f64>(rPtr, 8) * load<f64>(a1 + o))
      + (load<f64>(rPtr, 16) * load<f64>(a2 + o) + load<f64>(rPtr, 24) * load<f64>(a3 + o)))
      + ((load<f64>(rPtr, 32) * load<f64>(a4 + o) + load<f64>(rPtr, 40) * load<f64>(a5 + o))
      + (load<f64>(rPtr, 48) * load<f64>(a6 + o) + load<f64>(rPtr, 56) * load<f64>(a7 + o)));
    store<f64>(gPtr + o, load<f64>(gPtr + o) + s);
  }
}

/**
 * out[t] = x_{idx[t]} . w for eight rows at once: eight independent rows (mostly cache
 * misses) are in flight, each with its own f64x2 accumulator (10 XMM registers live).
 */
// @ts-ignore: decorator
@inline function dot8(xPtr: usize, rowBytes: usize, idxPtr: usize, wPtr: usize, dim: i32, outPtr: usize): void {
  let a0 = xPtr + <usize>load<i32>(idxPtr) * rowBytes, a1 = xPtr + <usize>load<i32>(idxPtr, 4) * rowBytes;
  let a2 = xPtr + <usize>load<i32>(idxPtr, 8) * rowBytes, a3 = xPtr + <usize>load<i32>(idxPtr, 12) * rowBytes;
  let a4 = xPtr + <usize>load<i32>(idxPtr, 16) * rowBytes, a5 = xPtr + <usize>load<i32>(idxPtr, 20) * rowBytes;
  let a6 = xPtr + <usize>load<i32>(idxPtr, 24) * rowBytes, a7 = xPtr + <usize>load<i32>(idxPtr, 28) * rowBytes;
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
  let s4 = f64x2.splat(0), s5 = f64x2.splat(0), s6 = f64x2.splat(0), s7 = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= dim; i += 2) {
    let o = <usize>i << 3;
    let b = v128.load(wPtr + o);
    s0 = f64x2.add(s0, f64x2.mul(v128.load(a0 + o), b));
    s1 = f64x2.add(s1, f64x2.mul(v128.load(a1 + o), b));
    s2 = f64x2.add(s2, f64x2.mul(v128.load(a2 + o), b));
    s3 = f64x2.add(s3, f64x2.mul(v128.load(a3 + o), b));
    s4 = f64x2.add(s4, f64x2.mul(v128.load(a4 + o), b));
    s5 = f64x2.add(s5, f64x2.mul(v128.load(a5 + o), b));
    s6 = f64x2.add(s6, f64x2.mul(v128.load(a6 + o), b));
    s7 = f64x2.add(s7, f64x2.mul(v128.load(a7 + o), b));
  }
  // pairwise lane sums, two rows per store
  v128.store(outPtr, f64x2.add(i64x2.shuffle(s0, s1, 0, 2), i64x2.shuffle(s0, s1, 1, 3)));
  v128.store(outPtr, f64x2.add(i64x2.shuffle(s2, s3, 0, 2), i64x2.shuffle(s2, s3, 1, 3)), 16);
  v128.store(outPtr, f64x2.add(i64x2.shuffle(s4, s5, 0, 2), i64x2.shuffle(s4, s5, 1, 3)), 32);
  v128.store(outPtr, f64x2.add(i64x2.shuffle(s6, s7, 0, 2), i64x2.shuffle(s6, s7, 1, 3)), 48);
  if (i < dim) {
    let o = <usize>i << 3;
    let b = load<f64>(wPtr + o);
    store<f64>(outPtr, load<f64>(outPtr) + load<f64>(a0 + o) * b);
    store<f64>(outPtr, load<f64>(outPtr, 8) + load<f64>(a1 + o) * b, 8);
    store<f64>(outPtr, load<f64>(outPtr, 16) + load<f64>(a2 + o) * b, 16);
    store<f64>(outPtr, load<f64>(outPtr, 24) + load<f64>(a3 + o) * b, 24);
    store<f64>(outPtr, load<f64>(outPtr, 32) + load<f64>(a4 + o) * b, 32);
    store<f64>(outPtr, load<f64>(outPtr, 40) + load<f64>(a5 + o) * b, 40);
    store<f64>(outPtr, load<f64>(outPtr, 48) + load<f64>(a6 + o) * b, 48);
    store<f64>(outPtr, load<f64>(outPtr, 56) + load<f64>(a7 + o) * b, 56);
  }
}

/**
 * Row indices of one batch from its n uniforms: with replacement, floor(u rows); without,
 * a partial Fisher-Yates shuffle of the identity permutation in permPtr, undone afterwards
 * (swapPtr records the swaps). Shared by lrGradients and the paired kernel, so a batch's
 * rows are the same in both.
 */
// @ts-ignore: decorator
@inline
export function sampleRows(uPtr: usize, idxPtr: usize, swapPtr: usize, permPtr: usize, n: i32, rows: i32, replacement: i32): void {
  if (replacement) {
    for (let j = 0; j < n; j++) {
      let k = <i32>(load<f64>(uPtr + (<usize>j << 3)) * <f64>rows);
      store<i32>(idxPtr + (<usize>j << 2), min(k, rows - 1));
    }
    return;
  }
  for (let j = 0; j < n; j++) {
    let k = j + min(<i32>(load<f64>(uPtr + (<usize>j << 3)) * <f64>(rows - j)), rows - j - 1);
    let pj = permPtr + (<usize>j << 2);
    let pk = permPtr + (<usize>k << 2);
    let v = load<i32>(pk);
    store<i32>(pk, load<i32>(pj));
    store<i32>(pj, v);
    store<i32>(swapPtr + (<usize>j << 2), k);
    store<i32>(idxPtr + (<usize>j << 2), v);
  }
  for (let j = n - 1; j >= 0; j--) { // undo, restoring the identity permutation
    let pj = permPtr + (<usize>j << 2);
    let pk = permPtr + (<usize>load<i32>(swapPtr + (<usize>j << 2)) << 2);
    let v = load<i32>(pk);
    store<i32>(pk, load<i32>(pj));
    store<i32>(pj, v);
  }
}
