// Streaming gradient covariance: running count, mean and co-moment M = sum (g - mu)(g - mu)'.
//
// State (owned by the TS wrapper): mean[dp] and M[dp x dp], dp = dim rounded up to the
// register tile (4), zero padded; only the upper triangle of M (j >= i) is meaningful.
// Rows are taken in blocks of at most KC. For each block (k rows, mean mu_b):
//   1. pack the centred block G_b - mu_b into column panels of width 4 (BLIS packing);
//   2. M += (G_b - mu_b)'(G_b - mu_b) + delta delta' * m k / (m + k) on upper-triangle
//      tiles (rank-k update, SYRK, with the merge term of Chan et al. added by the
//      micro-kernel, so that M is read and written once per block), delta = mu_b - mu;
//   3. mu += delta * k / (m + k), m += k.
// Centring each block on its own mean keeps the update stable for large common offsets.

import { axpy } from './linalg';

/** Rows per packed block: a 256 x 4 panel is 8 KiB, two of them sit in L1. */
// @ts-ignore: decorator
@inline export const KC: i32 = 256;
/** Row panels per L2 block: 16 x (256 rows x 4 doubles) = 128 KiB of packed A. */
// @ts-ignore: decorator
@inline export const MB: i32 = 16;
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

/** Bytes per k in a packed panel: 4 values. */
// @ts-ignore: decorator
@inline export const PANEL_ROW: usize = 32;

// @ts-ignore: decorator
@inline function storePanelRow(dst: usize, c01: v128, c23: v128): void {
  v128.store(dst, c01);
  v128.store(dst, c23, 16);
}

/**
 * a * b + c. In the relaxed-SIMD build (ASC_FEATURE_RELAXED_SIMD) this is
 * f64x2.relaxed_madd, which engines may fuse (one rounding instead of two): results of
 * that build can differ from the plain build in the last bits. The plain build is
 * bit-reproducible on every engine.
 */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(c, f64x2.mul(a, b));
}

/** Two consecutive elements of row data as f64x2, from f64 or f32 storage. */
// @ts-ignore: decorator
@inline export function load2(p: usize, i: i32, isF32: bool): v128 {
  return isF32
    ? f64x2.promote_low_f32x4(v128.load64_zero(p + (<usize>i << 2)))
    : v128.load(p + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline export function load1(p: usize, i: i32, isF32: bool): f64 {
  return isF32 ? <f64>load<f32>(p + (<usize>i << 2)) : load<f64>(p + (<usize>i << 3));
}

/**
 * Micro-kernel: C[0..3][0..3] += sum_k a[k][0..3]' b[k][0..3] + coef di[0..3]' dj[0..3]
 * for packed panels a, b (k rows of 4 doubles each); C has row stride ldc doubles.
 *
 * Per k it loads a = [a0 a1], a' = [a2 a3] and broadcasts b0..b3 (v128.load64_splat):
 * eight products into eight accumulators, two rows of one tile column each, which V8
 * keeps in registers with the operands (14 of its 15 usable XMM registers). Measured on Zen 5 / V8 11.3
 * against the lane-swapped form (two b vectors and their shuffled copies, the kernel
 * before): the shuffles run on the FP pipes the multiplies and adds need, the broadcasts
 * on the load ports; 4096 x 256 went 1.00-1.10x faster in the plain build. The fused
 * multiply-add (relaxed_madd) is no faster than separate multiplies and adds here: Zen 5
 * issues two multiplies (or FMAs) and two adds per cycle, and eight FMA accumulators
 * just cover the FMA latency; V8 has no registers for more (4 x 6 and 6 x 4 tiles spill
 * and run at 0.55-0.8x the speed per multiply-add).
 */
// @ts-ignore: decorator
@inline export function microKernel4x4(aPtr: usize, bPtr: usize, k: i32, cPtr: usize, ldc: usize, diPtr: usize, djPtr: usize, coef: f64): void {
  let c00 = f64x2.splat(0), c01 = f64x2.splat(0), c02 = f64x2.splat(0), c03 = f64x2.splat(0); // rows 0-1, col j
  let c10 = f64x2.splat(0), c11 = f64x2.splat(0), c12 = f64x2.splat(0), c13 = f64x2.splat(0); // rows 2-3, col j
  let end = aPtr + (<usize>k << 5);
  while (aPtr < end) {
    let a0 = v128.load(aPtr);
    let a1 = v128.load(aPtr, 16);
    let b = v128.load64_splat(bPtr);
    c00 = madd(a0, b, c00);
    c10 = madd(a1, b, c10);
    b = v128.load64_splat(bPtr, 8);
    c01 = madd(a0, b, c01);
    c11 = madd(a1, b, c11);
    b = v128.load64_splat(bPtr, 16);
    c02 = madd(a0, b, c02);
    c12 = madd(a1, b, c12);
    b = v128.load64_splat(bPtr, 24);
    c03 = madd(a0, b, c03);
    c13 = madd(a1, b, c13);
    aPtr += PANEL_ROW;
    bPtr += PANEL_ROW;
  }
  // C[r][0..3] += tile row r + coef delta_r delta[0..3] (the block's merge term, fused so
  // that M is read and written once per block)
  let dj01 = v128.load(djPtr), dj23 = v128.load(djPtr, 16);
  let row = ldc << 3;
  let p = cPtr;
  let s = f64x2.splat(coef * load<f64>(diPtr));
  v128.store(p, f64x2.add(v128.load(p), madd(s, dj01, i64x2.shuffle(c00, c01, 0, 2))));
  v128.store(p, f64x2.add(v128.load(p, 16), madd(s, dj23, i64x2.shuffle(c02, c03, 0, 2))), 16);
  p += row;
  s = f64x2.splat(coef * load<f64>(diPtr, 8));
  v128.store(p, f64x2.add(v128.load(p), madd(s, dj01, i64x2.shuffle(c00, c01, 1, 3))));
  v128.store(p, f64x2.add(v128.load(p, 16), madd(s, dj23, i64x2.shuffle(c02, c03, 1, 3))), 16);
  p += row;
  s = f64x2.splat(coef * load<f64>(diPtr, 16));
  v128.store(p, f64x2.add(v128.load(p), madd(s, dj01, i64x2.shuffle(c10, c11, 0, 2))));
  v128.store(p, f64x2.add(v128.load(p, 16), madd(s, dj23, i64x2.shuffle(c12, c13, 0, 2))), 16);
  p += row;
  s = f64x2.splat(coef * load<f64>(diPtr, 24));
  v128.store(p, f64x2.add(v128.load(p), madd(s, dj01, i64x2.shuffle(c10, c11, 1, 3))));
  v128.store(p, f64x2.add(v128.load(p, 16), madd(s, dj23, i64x2.shuffle(c12, c13, 1, 3))), 16);
}

/** a[0..n) -= b[0..n), n even. */
// @ts-ignore: decorator
@inline function subtractInPlace(aPtr: usize, bPtr: usize, n: i32): void {
  for (let j = 0; j < n; j += 2) {
    let p = aPtr + (<usize>j << 3);
    v128.store(p, f64x2.sub(v128.load(p), v128.load(bPtr + (<usize>j << 3))));
  }
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

/** mu[0..dp) = the mean of the k rows at blk (padding zero); both covAddRows kernels use it. */
// @ts-ignore: decorator
@inline function blockMean(blk: usize, k: i32, dim: i32, dp: i32, rowStride: usize, f32in: bool, muPtr: usize): void {
  let ld = <usize>dp;
  memory.fill(muPtr, 0, ld << 3);
  let kk = 0;
  for (; kk + 4 <= k; kk += 4) { // four rows per pass over the mean
    let g0 = blk + <usize>kk * rowStride, g1 = g0 + rowStride, g2 = g1 + rowStride, g3 = g2 + rowStride;
    let j = 0;
    for (; j + 2 <= dim; j += 2) {
      let p = muPtr + (<usize>j << 3);
      let s = f64x2.add(f64x2.add(load2(g0, j, f32in), load2(g1, j, f32in)), f64x2.add(load2(g2, j, f32in), load2(g3, j, f32in)));
      v128.store(p, f64x2.add(v128.load(p), s));
    }
    if (j < dim) store<f64>(muPtr + (<usize>j << 3), load<f64>(muPtr + (<usize>j << 3))
      + ((load1(g0, j, f32in) + load1(g1, j, f32in)) + (load1(g2, j, f32in) + load1(g3, j, f32in))));
  }
  for (; kk < k; kk++) {
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
}

/**
 * Packs the block's k rows, centred on its mean mu, into column panels: panel jb holds, per
 * row kk, columns 4jb..4jb+3 (columns past dim are 0), as 4 doubles (a PANEL_ROW) or, with
 * f32out, rounded to 4 floats (a PANEL_ROW_F32). Shared by covAddRows and covAddRowsF32;
 * inlined with a constant f32out, so each kernel keeps its own branch-free loop.
 */
// @ts-ignore: decorator
@inline function packCentred(blk: usize, k: i32, dim: i32, nb: i32, rowStride: usize, f32in: bool, muPtr: usize, packPtr: usize, f32out: bool): void {
  let rowBytes: usize = f32out ? PANEL_ROW_F32 : PANEL_ROW;
  let panelBytes = <usize>k * rowBytes;
  let full = dim >> 2; // panels with four real columns
  // panel by panel, so that the packed stores are sequential (row reads hit L2)
  for (let jb = 0; jb < full; jb++) {
    let j = jb << 2;
    let mu01 = v128.load(muPtr + (<usize>j << 3));
    let mu23 = v128.load(muPtr + (<usize>j << 3), 16);
    let g = blk + (<usize>j << (f32in ? 2 : 3));
    let dst = packPtr + <usize>jb * panelBytes;
    for (let kk = 0; kk < k; kk++) {
      let c01 = f64x2.sub(load2(g, 0, f32in), mu01);
      let c23 = f64x2.sub(load2(g, 2, f32in), mu23);
      if (f32out) storePanelRowF32(dst, c01, c23);
      else storePanelRow(dst, c01, c23);
      g += rowStride;
      dst += rowBytes;
    }
  }
  if (full < nb) { // the last panel: 1 to 3 real columns, zero padded
    let j = full << 2;
    let dst = packPtr + <usize>full * panelBytes;
    for (let kk = 0; kk < k; kk++) {
      let g = blk + <usize>kk * rowStride;
      let v0 = load1(g, j, f32in) - load<f64>(muPtr + (<usize>j << 3));
      let v1 = j + 1 < dim ? load1(g, j + 1, f32in) - load<f64>(muPtr + (<usize>(j + 1) << 3)) : 0.0;
      let v2 = j + 2 < dim ? load1(g, j + 2, f32in) - load<f64>(muPtr + (<usize>(j + 2) << 3)) : 0.0;
      let c01 = f64x2.replace_lane(f64x2.splat(v0), 1, v1), c23 = f64x2.replace_lane(f64x2.splat(v2), 1, 0.0);
      if (f32out) storePanelRowF32(dst + <usize>kk * rowBytes, c01, c23);
      else storePanelRow(dst + <usize>kk * rowBytes, c01, c23);
    }
  }
}

/** x[0..dp) += y[0..dp) * w (dp even). */
// @ts-ignore: decorator
@inline function addScaled(xPtr: usize, yPtr: usize, dp: i32, w: f64): void {
  let wv = f64x2.splat(w);
  for (let j = 0; j < dp; j += 2) {
    let q = xPtr + (<usize>j << 3);
    v128.store(q, f64x2.add(v128.load(q), f64x2.mul(v128.load(yPtr + (<usize>j << 3)), wv)));
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
    blockMean(blk, k, dim, dp, rowStride, f32in, muPtr);
    // the merge of the block into the running state (Chan et al.): coef delta delta' with
    // delta = mu_b - mean, added by the micro-kernel with the block's product (k > 1) or
    // here (k = 1: the centred block is zero); delta is written over mu_b after packing
    let total = count + <f64>k;
    let coef = count * <f64>k / total;
    if (k > 1) {
      let panelBytes = <usize>k << 5;
      packCentred(blk, k, dim, nb, rowStride, f32in, muPtr, packPtr, false);
      subtractInPlace(muPtr, meanPtr, dp); // delta
      // rank-k update of the upper tiles (BLIS order): 3rd loop over blocks of MB row
      // panels (an L2-sized block of A), 2nd loop over column panels jb (one B panel in L1),
      // 1st loop over the row panels of the block up to the diagonal
      for (let ib0 = 0; ib0 < nb; ib0 += MB) {
        let ibEnd = min(ib0 + MB, nb);
        for (let jb = ib0; jb < nb; jb++) {
          let bPanel = packPtr + <usize>jb * panelBytes;
          let last = min(ibEnd - 1, jb);
          for (let ib = ib0; ib <= last; ib++) {
            let cPtr = mPtr + ((<usize>(ib * TILE) * ld + <usize>(jb * TILE)) << 3);
            microKernel4x4(packPtr + <usize>ib * panelBytes, bPanel, k, cPtr, ld, muPtr + (<usize>(ib * TILE) << 3), muPtr + (<usize>(jb * TILE) << 3), coef);
          }
        }
      }
    } else {
      subtractInPlace(muPtr, meanPtr, dp); // delta
      covMergeMoments(mPtr, dp, muPtr, coef, 0);
    }
    addScaled(meanPtr, muPtr, dp, <f64>k / total); // mean += delta k / total
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

// ---------------------------------------------------------------------------------------
// The f32 path (GradientCovariance precision 'f32'): the same blocks, block means, merge
// terms and state (count, mean, M all f64) as covAddRows; only the products differ. The
// centred block (computed in f64) is rounded to f32 and packed into panels of 4 floats
// per row; a 4 x 8 register tile of f32x4 accumulators (8 of them, as many as the f64
// kernel keeps) sums f32 products over sub-blocks of KB rows, and each sub-block's sums
// are promoted to f64 and added to M, so rounding error grows with KB, not with the
// number of gradients. The products are plain f32x4 mul then add in every build (no
// relaxed madd), so src/reference/covariance.ts covarianceF32 reproduces the result bit
// for bit.

/**
 * Rows of f32 products summed before they are carried into the f64 co-moment: one block (KC).
 * 256 rather than 64 measured 3-4% faster (the carries cost about that) for a relative error
 * of 8.8e-9 instead of 2.6e-9 in the bound test (docs/guarantees.md, precision 'f32').
 */
// @ts-ignore: decorator
@inline export const KB: i32 = 256;

/** Bytes per k in an f32 panel: 4 floats. */
// @ts-ignore: decorator
@inline const PANEL_ROW_F32: usize = 16;

/** C[r][0..3] += f64(acc) for one row r of a tile; acc holds four f32 columns. */
// @ts-ignore: decorator
@inline function carryRow4(p: usize, acc: v128): void {
  v128.store(p, f64x2.add(v128.load(p), f64x2.promote_low_f32x4(acc)));
  v128.store(p, f64x2.add(v128.load(p, 16), f64x2.promote_low_f32x4(i64x2.shuffle(acc, acc, 1, 1))), 16);
}

/**
 * C[0..3][0..7] += sum over k of a[k][0..3]' [b0[k][0..3] b1[k][0..3]], the sums in f32
 * over runs of KB rows, each run carried into C (f64, row stride ldc doubles). Per k: the
 * b vectors of two column panels are loaded, a0..a3 broadcast (v128.load32_splat): eight
 * f32x4 products into eight accumulators, each one row of the tile in one column panel.
 */
// @ts-ignore: decorator
@inline function microKernelF32x4x8(aPtr: usize, b0Ptr: usize, b1Ptr: usize, k: i32, cPtr: usize, ldc: usize): void {
  let row = ldc << 3;
  for (let k0 = 0; k0 < k; k0 += KB) {
    let n = min(KB, k - k0);
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    let end = aPtr + (<usize>n << 4);
    while (aPtr < end) {
      let b0 = v128.load(b0Ptr);
      let b1 = v128.load(b1Ptr);
      let a = v128.load32_splat(aPtr);
      c00 = f32x4.add(c00, f32x4.mul(a, b0));
      c01 = f32x4.add(c01, f32x4.mul(a, b1));
      a = v128.load32_splat(aPtr, 4);
      c10 = f32x4.add(c10, f32x4.mul(a, b0));
      c11 = f32x4.add(c11, f32x4.mul(a, b1));
      a = v128.load32_splat(aPtr, 8);
      c20 = f32x4.add(c20, f32x4.mul(a, b0));
      c21 = f32x4.add(c21, f32x4.mul(a, b1));
      a = v128.load32_splat(aPtr, 12);
      c30 = f32x4.add(c30, f32x4.mul(a, b0));
      c31 = f32x4.add(c31, f32x4.mul(a, b1));
      aPtr += PANEL_ROW_F32;
      b0Ptr += PANEL_ROW_F32;
      b1Ptr += PANEL_ROW_F32;
    }
    let p = cPtr;
    carryRow4(p, c00); carryRow4(p + 32, c01); p += row;
    carryRow4(p, c10); carryRow4(p + 32, c11); p += row;
    carryRow4(p, c20); carryRow4(p + 32, c21); p += row;
    carryRow4(p, c30); carryRow4(p + 32, c31);
  }
}

/** The 4 x 4 tile of microKernelF32x4x8 (one column panel): diagonal and last tiles. */
// @ts-ignore: decorator
@inline function microKernelF32x4x4(aPtr: usize, bPtr: usize, k: i32, cPtr: usize, ldc: usize): void {
  let row = ldc << 3;
  for (let k0 = 0; k0 < k; k0 += KB) {
    let n = min(KB, k - k0);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    let end = aPtr + (<usize>n << 4);
    while (aPtr < end) {
      let b = v128.load(bPtr);
      c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(aPtr), b));
      c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(aPtr, 4), b));
      c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(aPtr, 8), b));
      c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(aPtr, 12), b));
      aPtr += PANEL_ROW_F32;
      bPtr += PANEL_ROW_F32;
    }
    let p = cPtr;
    carryRow4(p, c0); p += row;
    carryRow4(p, c1); p += row;
    carryRow4(p, c2); p += row;
    carryRow4(p, c3);
  }
}

/** Four f64 values (two f64x2) rounded to f32 and stored as one panel row. */
// @ts-ignore: decorator
@inline function storePanelRowF32(dst: usize, c01: v128, c23: v128): void {
  v128.store(dst, i64x2.shuffle(f32x4.demote_f64x2_zero(c01), f32x4.demote_f64x2_zero(c23), 0, 2));
}

/**
 * covAddRows with f32 products (precision 'f32'): same arguments, same state, same
 * scratch (covScratchBytes). Returns the new count.
 */
export function covAddRowsF32(
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
    blockMean(blk, k, dim, dp, rowStride, f32in, muPtr);
    let total = count + <f64>k;
    let coef = count * <f64>k / total;
    if (k > 1) {
      let panelBytes = <usize>k << 4;
      packCentred(blk, k, dim, nb, rowStride, f32in, muPtr, packPtr, true);
      subtractInPlace(muPtr, meanPtr, dp); // delta
      // rank-k update of the upper tiles: column panels in pairs (jb, jb + 1), jb even;
      // row panels up to the pair's diagonal take the 4 x 8 tile, the one row panel
      // between (ib = jb + 1) and a last unpaired column panel the 4 x 4 tile
      for (let ib0 = 0; ib0 < nb; ib0 += MB) {
        let ibEnd = min(ib0 + MB, nb);
        for (let jb = ib0 & ~1; jb < nb; jb += 2) {
          let b0 = packPtr + <usize>jb * panelBytes;
          let last = min(ibEnd - 1, jb + 1);
          for (let ib = ib0; ib <= last; ib++) {
            let a = packPtr + <usize>ib * panelBytes;
            if (ib > jb) {
              microKernelF32x4x4(a, b0 + panelBytes, k, mPtr + ((<usize>(ib * TILE) * ld + <usize>((jb + 1) * TILE)) << 3), ld);
            } else if (jb + 1 < nb) {
              microKernelF32x4x8(a, b0, b0 + panelBytes, k, mPtr + ((<usize>(ib * TILE) * ld + <usize>(jb * TILE)) << 3), ld);
            } else {
              microKernelF32x4x4(a, b0, k, mPtr + ((<usize>(ib * TILE) * ld + <usize>(jb * TILE)) << 3), ld);
            }
          }
        }
      }
    } else {
      subtractInPlace(muPtr, meanPtr, dp); // delta
    }
    covMergeMoments(mPtr, dp, muPtr, coef, 0); // the merge term, after the products
    addScaled(meanPtr, muPtr, dp, <f64>k / total); // mean += delta k / total
    count = total;
  }
  return count;
}
