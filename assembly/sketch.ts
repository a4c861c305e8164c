// Frequent Directions sketch kernels: the Gram matrix of the row buffer, the rotation of
// the buffer by a small matrix, and the copy of incoming rows with the diagonal update.
//
// Layout (owned by the TS wrapper, src/sketch/sketch.ts): the buffer B holds 2l rows of dp
// doubles, row-major, dp = dim rounded up to 4, the padding columns zero (rotations keep
// them zero: they are linear). Only rows [0, n) are in use, and only those are read or
// written (the kernels pad partial 4-row tiles in their scratch, not in B). The diagonal is dim doubles, the sum of squares of every row added (exact running
// sums, not from B).
//
// Algorithm: sketchGram forms G = B[0:n] B[0:n]' (n x n, upper 4 x 4 tiles meaningful) by
// packing KC-column slices of B transposed into panels of 4 rows and running the
// covariance kernel's 4 x 4 micro-kernel (assembly/covariance.ts microKernel4x4: B' is the
// "rows x dim" matrix whose co-moment tiles it accumulates) over the upper tiles.
// sketchRotate forms B[0:r] <- W B[0:n] (W: r x n, given packed as panels of 4 output rows,
// wp[rb][t][0..3] = W[4 rb + 0..3][t]) one CW-column strip at a time, after copying the
// strip of B into scratch, so it can write straight back: in place with
// O(n CW) extra memory, rows [r, n) zeroed.
// The 4 x 4 register tile is the micro-kernel's shape (4 output rows x 4 columns, eight
// f64x2 accumulators), with the roles of the broadcast and vector operands swapped, and its
// madd (a fused relaxed_madd in the relaxed build, mul then add otherwise: the plain build
// stays bit-identical to src/reference/sketch.ts rotate).
// Measured (issue 19 item 7, interleaved variants in one process, 2l = 128, d = 1e5 and
// 1024): this loop runs at the same rate whether the strip is in L2 or streamed from
// memory, and 32 or 128-column strips, j-outer loop order, or lane-swapped W vectors
// instead of broadcasts all measure the same within 3%: without FMA the loop is bound by
// its 8 mul + 8 add per step, the micro-kernel's own ceiling. A larger tile (4 x 8, 16
// accumulators) does not fit V8's 15 XMM registers. The relaxed build's fused madd gains
// ~1.25x here (docs/benchmarks.md, the sketch section).
//
// f32 storage (CurvatureSketch precision 'f32'): the same kernels with the buffer's rows of
// dp floats (the *F32 exports; one body each, specialised by a constant flag). Every product
// and sum stays f64: the Gram and rotation kernels promote B's values exactly as they pack
// them, and only what is stored into B (an added row, a rotated row) is rounded to f32; the
// diagonal is summed from the f64 rows before rounding, so it stays exact. src/reference/
// sketch.ts reproduces it bit for bit by rounding (Math.fround) at the same two points.

import { microKernel4x4, madd, load2, load1, PANEL_ROW, KC } from './covariance';

/** Columns per rotation strip: 64 doubles, 2l rows of them (<= 256 KiB at 2l = 512) in L2. */
// @ts-ignore: decorator
@inline export const CW: i32 = 64;

/** Scratch bytes of sketchGram: packed panels of np rows x KC columns, plus 4 zeros. */
export function sketchGramScratchBytes(np: i32): usize {
  return ((<usize>np * <usize>KC) << 3) + 32;
}

/**
 * G (n x n, row stride ldg >= n rounded up to 4, rows/cols padded to a multiple of 4) =
 * B[0:n] B[0:n]' on the upper 4 x 4 tiles. B: rows of dp doubles (dp a multiple of 4).
 */
export function sketchGram(bPtr: usize, n: i32, dp: i32, gPtr: usize, ldg: i32, scratchPtr: usize): void {
  gram(bPtr, n, dp, gPtr, ldg, scratchPtr, false);
}

/** sketchGram of a buffer of f32 rows (dp floats each); G in f64, products of the promoted values. */
export function sketchGramF32(bPtr: usize, n: i32, dp: i32, gPtr: usize, ldg: i32, scratchPtr: usize): void {
  gram(bPtr, n, dp, gPtr, ldg, scratchPtr, true);
}

// @ts-ignore: decorator
@inline function gram(bPtr: usize, n: i32, dp: i32, gPtr: usize, ldg: i32, scratchPtr: usize, f32b: bool): void {
  let np = (n + 3) & ~3;
  let nb = np >> 2;
  let ld = <usize>ldg;
  let zeros = scratchPtr + ((<usize>np * <usize>KC) << 3);
  memory.fill(zeros, 0, 32);
  for (let i = 0; i < np; i++) memory.fill(gPtr + ((<usize>i * ld) << 3), 0, <usize>np << 3);
  let row = <usize>dp << (f32b ? 2 : 3);
  for (let c0 = 0; c0 < dp; c0 += KC) {
    let k = min(KC, dp - c0);
    let panelBytes = <usize>k << 5;
    // pack: panel ib, per column kk, the values of rows 4ib..4ib+3 (rows >= n zero)
    for (let ib = 0; ib < nb; ib++) {
      let dst = scratchPtr + <usize>ib * panelBytes;
      let r0 = ib << 2;
      let src = bPtr + <usize>r0 * row + (<usize>c0 << (f32b ? 2 : 3));
      if (r0 + 4 <= n) {
        for (let kk = 0; kk < k; kk += 2) {
          let x0 = load2(src, kk, f32b), x1 = load2(src + row, kk, f32b);
          let x2 = load2(src + 2 * row, kk, f32b), x3 = load2(src + 3 * row, kk, f32b);
          let d = dst + (<usize>kk << 5);
          v128.store(d, i64x2.shuffle(x0, x1, 0, 2));
          v128.store(d, i64x2.shuffle(x2, x3, 0, 2), 16);
          v128.store(d, i64x2.shuffle(x0, x1, 1, 3), 32);
          v128.store(d, i64x2.shuffle(x2, x3, 1, 3), 48);
        }
      } else {
        for (let kk = 0; kk < k; kk++) {
          let d = dst + (<usize>kk << 5);
          for (let q = 0; q < 4; q++) {
            let v = r0 + q < n ? load1(src + <usize>q * row, kk, f32b) : 0.0;
            store<f64>(d + (<usize>q << 3), v);
          }
        }
      }
    }
    for (let jb = 0; jb < nb; jb++) {
      let bPanel = scratchPtr + <usize>jb * panelBytes;
      for (let ib = 0; ib <= jb; ib++) {
        let cPtr = gPtr + ((<usize>(ib << 2) * ld + <usize>(jb << 2)) << 3);
        microKernel4x4(scratchPtr + <usize>ib * panelBytes, bPanel, k, cPtr, ld, zeros, zeros, 0.0);
      }
    }
  }
}

/** Stores the first k (1 to 3) of the four doubles [v0, v1] at p. */
// @ts-ignore: decorator
@inline function storeTail(p: usize, v0: v128, v1: v128, k: i32): void {
  store<f64>(p, f64x2.extract_lane(v0, 0));
  if (k > 1) store<f64>(p, f64x2.extract_lane(v0, 1), 8);
  if (k > 2) store<f64>(p, f64x2.extract_lane(v1, 0), 16);
}

/** Scratch bytes of sketchRotate over n input rows: one strip of n x CW doubles, packed as CW / 4 panels. */
export function sketchRotateScratchBytes(n: i32): usize {
  return (<usize>n * <usize>CW) << 3;
}

/**
 * B[0:r] <- W B[0:n], rows [r, n) set to zero. wpPtr: W packed as panels of 4 output rows
 * (ceil(r / 4) panels of n entries of 4 doubles each, rows >= r zero). B: rows of dp doubles
 * (dp a multiple of 4). scratchPtr: sketchRotateScratchBytes(n). When outPtr != bPtr the
 * product goes to outPtr (r rows of ldo >= dim doubles; columns past ldo are not written)
 * and B is unchanged.
 *
 * Each CW-column strip of B[0:n] is first copied into the scratch as panels of 4 columns
 * (n rows of 32 bytes each): the t loop then reads sequentially, where reading B itself
 * strode a whole buffer row (a page per load at d = 1e5), and the products can be written
 * straight back into B. Measured at 2l = 128, d = 1e5: 5.1 GFLOP/s reading B, 11.5 with
 * rows of the strip contiguous (512-byte stride), and the panel layout after that.
 */
export function sketchRotate(bPtr: usize, n: i32, dp: i32, wpPtr: usize, r: i32, outPtr: usize, ldo: i32, scratchPtr: usize): void {
  rotate(bPtr, n, dp, wpPtr, r, outPtr, ldo, scratchPtr, false);
}

/**
 * sketchRotate of a buffer of f32 rows: the products in f64 from the promoted values; in
 * place the result is rounded to f32 as it is stored, out of place (outPtr != bPtr) it is
 * written as f64 rows of ldo doubles.
 */
export function sketchRotateF32(bPtr: usize, n: i32, dp: i32, wpPtr: usize, r: i32, outPtr: usize, ldo: i32, scratchPtr: usize): void {
  rotate(bPtr, n, dp, wpPtr, r, outPtr, ldo, scratchPtr, true);
}

/** Four f64 results (two f64x2) rounded to f32 and stored as four floats at p. */
// @ts-ignore: decorator
@inline function store4F32(p: usize, c0: v128, c1: v128): void {
  v128.store(p, i64x2.shuffle(f32x4.demote_f64x2_zero(c0), f32x4.demote_f64x2_zero(c1), 0, 2));
}

// @ts-ignore: decorator
@inline function rotate(bPtr: usize, n: i32, dp: i32, wpPtr: usize, r: i32, outPtr: usize, ldo: i32, scratchPtr: usize, f32b: bool): void {
  let rb = (r + 3) >> 2;
  let row = <usize>dp << (f32b ? 2 : 3);
  let panelBytes = <usize>n << 5;
  let inPlace = outPtr == bPtr;
  let f32out = f32b && inPlace;
  let lo = inPlace ? row : <usize>ldo << 3;
  for (let c0 = 0; c0 < dp; c0 += CW) {
    let w = min(CW, dp - c0);
    let bytes = <usize>w << (f32b ? 2 : 3);
    // pack the strip as panels of 4 columns (panel jb: n rows of 32 bytes, as the covariance
    // kernel packs), so the t loop below reads sequentially
    for (let t = 0; t < n; t++) {
      let src = bPtr + <usize>t * row + (<usize>c0 << (f32b ? 2 : 3));
      let dst = scratchPtr + (<usize>t << 5);
      for (let j = 0; j < w; j += 4) {
        if (f32b) {
          let x = v128.load(src);
          v128.store(dst, f64x2.promote_low_f32x4(x));
          v128.store(dst, f64x2.promote_low_f32x4(i64x2.shuffle(x, x, 1, 1)), 16);
          src += 16;
        } else {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          src += 32;
        }
        dst += panelBytes;
      }
    }
    let cols = inPlace ? w : min(w, ldo - c0); // columns written (a multiple of 4 in place)
    for (let ib = 0; ib < rb; ib++) {
      let wp = wpPtr + <usize>ib * panelBytes;
      let i0 = ib << 2;
      for (let j = 0; j < w; j += 4) {
        let c00 = f64x2.splat(0), c01 = f64x2.splat(0), c10 = f64x2.splat(0), c11 = f64x2.splat(0);
        let c20 = f64x2.splat(0), c21 = f64x2.splat(0), c30 = f64x2.splat(0), c31 = f64x2.splat(0);
        let bp = scratchPtr + <usize>(j >> 2) * panelBytes;
        let a = wp;
        let end = wp + panelBytes;
        while (a < end) {
          let x0 = v128.load(bp), x1 = v128.load(bp, 16);
          let s = v128.load64_splat(a);
          c00 = madd(s, x0, c00); c01 = madd(s, x1, c01);
          s = v128.load64_splat(a, 8);
          c10 = madd(s, x0, c10); c11 = madd(s, x1, c11);
          s = v128.load64_splat(a, 16);
          c20 = madd(s, x0, c20); c21 = madd(s, x1, c21);
          s = v128.load64_splat(a, 24);
          c30 = madd(s, x0, c30); c31 = madd(s, x1, c31);
          bp += PANEL_ROW;
          a += PANEL_ROW;
        }
        if (f32out) { // in place in f32 storage: w, and so cols, is a multiple of 4
          let d = outPtr + <usize>i0 * lo + (<usize>(c0 + j) << 2);
          store4F32(d, c00, c01); d += lo;
          if (i0 + 1 < r) store4F32(d, c10, c11); d += lo;
          if (i0 + 2 < r) store4F32(d, c20, c21); d += lo;
          if (i0 + 3 < r) store4F32(d, c30, c31);
        } else if (j + 4 <= cols) {
          let d = outPtr + <usize>i0 * lo + (<usize>(c0 + j) << 3);
          v128.store(d, c00); v128.store(d, c01, 16); d += lo;
          if (i0 + 1 < r) { v128.store(d, c10); v128.store(d, c11, 16); } d += lo;
          if (i0 + 2 < r) { v128.store(d, c20); v128.store(d, c21, 16); } d += lo;
          if (i0 + 3 < r) { v128.store(d, c30); v128.store(d, c31, 16); }
        } else if (j < cols) { // the last 1 to 3 columns of an out-of-place product
          let k = cols - j;
          let d = outPtr + <usize>i0 * lo + (<usize>(c0 + j) << 3);
          storeTail(d, c00, c01, k); d += lo;
          if (i0 + 1 < r) storeTail(d, c10, c11, k); d += lo;
          if (i0 + 2 < r) storeTail(d, c20, c21, k); d += lo;
          if (i0 + 3 < r) storeTail(d, c30, c31, k);
        }
      }
    }
    if (inPlace) for (let i = r; i < n; i++) memory.fill(bPtr + <usize>i * row + (<usize>c0 << (f32b ? 2 : 3)), 0, bytes);
  }
}

/**
 * Copies `rows` rows (row-major rows x dim, f64, or f32 when isF32) times `scale` into B
 * from row `at` (rows of dp doubles, padding left zero) and adds their squares to
 * diag[0..dim). Returns the sum of the squares (the trace's increment).
 */
export function sketchAddRows(rPtr: usize, rows: i32, dim: i32, isF32: i32, scale: f64, bPtr: usize, at: i32, dp: i32, diagPtr: usize): f64 {
  return isF32 != 0
    ? addRows(rPtr, rows, dim, true, scale, bPtr, at, dp, diagPtr, false)
    : addRows(rPtr, rows, dim, false, scale, bPtr, at, dp, diagPtr, false);
}

/**
 * sketchAddRows into a buffer of f32 rows (dp floats each): each scaled value is rounded to
 * f32 as it is stored; the diagonal and the trace increment sum the squares of the f64
 * scaled values (before rounding), as sketchAddRows does.
 */
export function sketchAddRowsF32(rPtr: usize, rows: i32, dim: i32, isF32: i32, scale: f64, bPtr: usize, at: i32, dp: i32, diagPtr: usize): f64 {
  return isF32 != 0
    ? addRows(rPtr, rows, dim, true, scale, bPtr, at, dp, diagPtr, true)
    : addRows(rPtr, rows, dim, false, scale, bPtr, at, dp, diagPtr, true);
}

// @ts-ignore: decorator
@inline function addRows(rPtr: usize, rows: i32, dim: i32, f32in: bool, scale: f64, bPtr: usize, at: i32, dp: i32, diagPtr: usize, f32b: bool): f64 {
  let rowIn = <usize>dim << (f32in ? 2 : 3);
  let rowB = <usize>dp << (f32b ? 2 : 3);
  let s2 = f64x2.splat(scale);
  let tr = f64x2.splat(0);
  for (let i = 0; i < rows; i++) {
    let src = rPtr + <usize>i * rowIn;
    let dst = bPtr + <usize>(at + i) * rowB;
    let j = 0;
    for (; j + 2 <= dim; j += 2) {
      let x = f32in
        ? f64x2.promote_low_f32x4(v128.load64_zero(src + (<usize>j << 2)))
        : v128.load(src + (<usize>j << 3));
      x = f64x2.mul(x, s2);
      if (f32b) v128.store64_lane(dst + (<usize>j << 2), f32x4.demote_f64x2_zero(x), 0);
      else v128.store(dst + (<usize>j << 3), x);
      let sq = f64x2.mul(x, x);
      let dp2 = diagPtr + (<usize>j << 3);
      v128.store(dp2, f64x2.add(v128.load(dp2), sq));
      tr = f64x2.add(tr, sq);
    }
    if (j < dim) {
      let x = (f32in ? <f64>load<f32>(src + (<usize>j << 2)) : load<f64>(src + (<usize>j << 3))) * scale;
      if (f32b) store<f32>(dst + (<usize>j << 2), <f32>x);
      else store<f64>(dst + (<usize>j << 3), x);
      let sq = x * x;
      store<f64>(diagPtr + (<usize>j << 3), load<f64>(diagPtr + (<usize>j << 3)) + sq);
      tr = f64x2.add(tr, f64x2.replace_lane(f64x2.splat(0), 0, sq));
    }
  }
  return f64x2.extract_lane(tr, 0) + f64x2.extract_lane(tr, 1);
}
