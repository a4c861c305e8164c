// Streaming gradient covariance: running count, mean and co-moment M = sum (g - mu)(g - mu)'.
//
// State (owned by the TS wrapper): mean[dp] and M[dp x dp], dp = dim rounded up to the
// register tile (4), zero padded; only the upper triangle of M (j >= i) is meaningful.
// Rows are taken in blocks of at most KC. For each block (k rows, mean mu_b):
//   1. pack the centred block G_b - mu_b into column panels of width 4 (BLIS packing);
//   2. M += (G_b - mu_b)'(G_b - mu_b) on upper-triangle tiles (rank-k update, SYRK);
//   3. merge (Chan et al.): delta = mu_b - mu, M += delta delta' * m k / (m + k),
//      mu += delta * k / (m + k), m += k.
// Centring each block on its own mean keeps the update stable for large common offsets.

import { axpy } from './linalg';

/** Rows per packed block: a 256 x 4 panel is 8 KiB, two of them sit in L1. */
// @ts-ignore: decorator
@inline export const KC: i32 = 256;
/** Register tile: 4 x 4 doubles = 8 f64x2 accumulators (the most V8 keeps without spilling). */
// @ts-ignore: decorator
@inline export const TILE: i32 = 4;

/** Padded dimension: dim rounded up to the tile. */
export function covPaddedDim(dim: i32): i32 {
  return (dim + TILE - 1) & ~(TILE - 1);
}

/** Bytes of scratch covAddRows needs: a packed block (KC x dp) and a block mean (dp). */
export function covScratchBytes(dim: i32): usize {
  let dp = <usize>covPaddedDim(dim);
  return (<usize>KC * dp + dp) << 3;
}

/** Two consecutive elements of row data as f64x2, from f64 or f32 storage. */
// @ts-ignore: decorator
@inline function load2(p: usize, i: i32, isF32: bool): v128 {
  return isF32
    ? f64x2.promote_low_f32x4(v128.load64_zero(p + (<usize>i << 2)))
    : v128.load(p + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline function load1(p: usize, i: i32, isF32: bool): f64 {
  return isF32 ? <f64>load<f32>(p + (<usize>i << 2)) : load<f64>(p + (<usize>i << 3));
}

/**
 * Micro-kernel: C[0..3][0..3] += sum_k a[k][0..3]' b[k][0..3] for packed panels a, b
 * (k rows of 4 doubles each). C has row stride ldc doubles.
 */
// @ts-ignore: decorator
@inline function microKernel4x4(aPtr: usize, bPtr: usize, k: i32, cPtr: usize, ldc: usize): void {
  let c00 = f64x2.splat(0), c01 = f64x2.splat(0);
  let c10 = f64x2.splat(0), c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0), c21 = f64x2.splat(0);
  let c30 = f64x2.splat(0), c31 = f64x2.splat(0);
  for (let kk = 0; kk < k; kk++) {
    let o = <usize>kk << 5;
    let b0 = v128.load(bPtr + o);
    let b1 = v128.load(bPtr + o, 16);
    let a0 = v128.load64_splat(aPtr + o);
    c00 = f64x2.add(c00, f64x2.mul(a0, b0));
    c01 = f64x2.add(c01, f64x2.mul(a0, b1));
    let a1 = v128.load64_splat(aPtr + o, 8);
    c10 = f64x2.add(c10, f64x2.mul(a1, b0));
    c11 = f64x2.add(c11, f64x2.mul(a1, b1));
    let a2 = v128.load64_splat(aPtr + o, 16);
    c20 = f64x2.add(c20, f64x2.mul(a2, b0));
    c21 = f64x2.add(c21, f64x2.mul(a2, b1));
    let a3 = v128.load64_splat(aPtr + o, 24);
    c30 = f64x2.add(c30, f64x2.mul(a3, b0));
    c31 = f64x2.add(c31, f64x2.mul(a3, b1));
  }
  let row = ldc << 3;
  let p = cPtr;
  v128.store(p, f64x2.add(v128.load(p), c00));
  v128.store(p, f64x2.add(v128.load(p, 16), c01), 16);
  p += row;
  v128.store(p, f64x2.add(v128.load(p), c10));
  v128.store(p, f64x2.add(v128.load(p, 16), c11), 16);
  p += row;
  v128.store(p, f64x2.add(v128.load(p), c20));
  v128.store(p, f64x2.add(v128.load(p, 16), c21), 16);
  p += row;
  v128.store(p, f64x2.add(v128.load(p), c30));
  v128.store(p, f64x2.add(v128.load(p, 16), c31), 16);
}

/**
 * M (upper tiles) += delta delta' * coef, then, when addPtr != 0, M += A (another
 * accumulator's co-moment, same padded layout). Rows are updated from the start of
 * their diagonal tile, so whole upper tiles stay consistent.
 */
export function covMergeMoments(mPtr: usize, dp: i32, deltaPtr: usize, coef: f64, addPtr: usize): void {
  let ld = <usize>dp;
  for (let i = 0; i < dp; i++) {
    let j0 = i & ~(TILE - 1);
    let rowOff = (<usize>i * ld + <usize>j0) << 3;
    if (addPtr != 0) axpy(1.0, addPtr + rowOff, mPtr + rowOff, dp - j0);
    let s = coef * load<f64>(deltaPtr + (<usize>i << 3));
    if (s != 0) axpy(s, deltaPtr + (<usize>j0 << 3), mPtr + rowOff, dp - j0);
  }
}

/**
 * Adds `rows` gradients (row-major rows x dim; f64, or f32 when isF32) to the state
 * (count, mean, M) and returns the new count. scratchPtr: covScratchBytes(dim) bytes.
 */
export function covAddRows(
  gPtr: usize, rows: i32, dim: i32, isF32: i32, count: f64,
  meanPtr: usize, mPtr: usize, scratchPtr: usize,
): f64 {
  assert(dim > 0 && rows >= 0 && count >= 0);
  let f32in = isF32 != 0;
  let dp = covPaddedDim(dim);
  let ld = <usize>dp;
  let nb = dp / TILE;
  let packPtr = scratchPtr;
  let muPtr = scratchPtr + ((<usize>KC * ld) << 3);
  let rowStride = <usize>dim << (f32in ? 2 : 3);
  for (let r0 = 0; r0 < rows; r0 += KC) {
    let k = min(KC, rows - r0);
    let blk = gPtr + <usize>r0 * rowStride;
    // block mean (padding stays zero)
    memory.fill(muPtr, 0, ld << 3);
    for (let kk = 0; kk < k; kk++) {
      let g = blk + <usize>kk * rowStride;
      let j = 0;
      for (; j + 2 <= dim; j += 2) {
        let p = muPtr + (<usize>j << 3);
        v128.store(p, f64x2.add(v128.load(p), load2(g, j, f32in)));
      }
      if (j < dim) store<f64>(muPtr + (<usize>j << 3), load<f64>(muPtr + (<usize>j << 3)) + load1(g, j, f32in));
    }
    let invK = f64x2.splat(1.0 / <f64>k);
    for (let j = 0; j < dp; j += 2) {
      let p = muPtr + (<usize>j << 3);
      v128.store(p, f64x2.mul(v128.load(p), invK));
    }
    if (k > 1) {
      // pack: panel jb holds rows kk of columns 4jb..4jb+3, centred; padded columns are 0
      let panelBytes = <usize>k << 5;
      for (let kk = 0; kk < k; kk++) {
        let g = blk + <usize>kk * rowStride;
        let dst = packPtr + (<usize>kk << 5);
        let j = 0;
        for (; j + 2 <= dim; j += 2) {
          let d = dst + <usize>(j >> 2) * panelBytes + (<usize>(j & 3) << 3);
          v128.store(d, f64x2.sub(load2(g, j, f32in), v128.load(muPtr + (<usize>j << 3))));
        }
        for (; j < dp; j++) {
          let d = dst + <usize>(j >> 2) * panelBytes + (<usize>(j & 3) << 3);
          store<f64>(d, j < dim ? load1(g, j, f32in) - load<f64>(muPtr + (<usize>j << 3)) : 0.0);
        }
      }
      // rank-k update of the upper tiles: loop over column panels, then row panels up to the diagonal
      for (let jb = 0; jb < nb; jb++) {
        let bPanel = packPtr + <usize>jb * panelBytes;
        for (let ib = 0; ib <= jb; ib++) {
          let cPtr = mPtr + ((<usize>(ib * TILE) * ld + <usize>(jb * TILE)) << 3);
          microKernel4x4(packPtr + <usize>ib * panelBytes, bPanel, k, cPtr, ld);
        }
      }
    }
    // merge the block into the running state; mu_b - mean is written over mu_b
    let total = count + <f64>k;
    let coef = count * <f64>k / total;
    let w = <f64>k / total;
    for (let j = 0; j < dp; j += 2) {
      let p = muPtr + (<usize>j << 3);
      let q = meanPtr + (<usize>j << 3);
      let delta = f64x2.sub(v128.load(p), v128.load(q));
      v128.store(p, delta);
      v128.store(q, f64x2.add(v128.load(q), f64x2.mul(delta, f64x2.splat(w))));
    }
    covMergeMoments(mPtr, dp, muPtr, coef, 0);
    count = total;
  }
  return count;
}

/**
 * Merges accumulator B (countB, meanB, MB) into A (countA, meanA, MA); both padded to dp.
 * deltaPtr: dp doubles of scratch. Returns the new count.
 */
export function covMerge(
  countA: f64, meanAPtr: usize, mAPtr: usize,
  countB: f64, meanBPtr: usize, mBPtr: usize, dp: i32, deltaPtr: usize,
): f64 {
  let total = countA + countB;
  if (countB == 0) return countA;
  let coef = countA * countB / total;
  let w = countB / total;
  for (let j = 0; j < dp; j++) {
    let d = load<f64>(meanBPtr + (<usize>j << 3)) - load<f64>(meanAPtr + (<usize>j << 3));
    store<f64>(deltaPtr + (<usize>j << 3), d);
    store<f64>(meanAPtr + (<usize>j << 3), load<f64>(meanAPtr + (<usize>j << 3)) + d * w);
  }
  covMergeMoments(mAPtr, dp, deltaPtr, coef, mBPtr);
  return total;
}

/** out (dim x dim, row-major) = scale * M, mirrored from the upper triangle. */
export function covWrite(mPtr: usize, dp: i32, dim: i32, scaleBy: f64, outPtr: usize): void {
  let ld = <usize>dp;
  let n = <usize>dim;
  for (let i: usize = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let v = load<f64>(mPtr + ((i * ld + j) << 3)) * scaleBy;
      store<f64>(outPtr + ((i * n + j) << 3), v);
      store<f64>(outPtr + ((j * n + i) << 3), v);
    }
  }
}
