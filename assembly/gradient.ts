// Linear-regression batch gradients with fused target-noise injection:
//   g_b = (1/n) X_B'(X_B w - y_B - xi),  xi ~ N(0, tau2) fresh per sample and batch,
// and (paired.ts) the pair differences (noiseStd/n) X_B'(z2 - z1) on the same machinery.
//
// Summation order (what makes every path give the same bits). X is cut into buckets of
// 2^S consecutive rows, S = lrBucketShift(rows, dim): about 16 KiB of X per bucket (at
// most 2^18 buckets), or one bucket when X is below 2 MiB. Sample j of batch b has the
// row i_j, the residual r_j = x_{i_j}.w - y_{i_j} (one dot-product order: residual()),
// and the coefficient c_j = r_j - sigma z_j (r_j without noise; z2_j - z1_j for pairs).
// The batch gradient is
//   g_b = 0;  g_b += c_j x_{i_j} for the samples in order of (bucket of i_j, j);  g_b *= 1/n
// (pairs: *= noiseStd/n), one multiply and one add per element and sample, in that order.
// Two paths compute it:
// - sorted (a sort area is given, X is large, >= 2 batches): the batches of a sub-chunk
//   (about 1 MiB of gradients, which stays in L2) are counting-sorted by bucket; then X is
//   read bucket by bucket in address order, each touched row once per sub-chunk (its
//   residual computed once), and c_j x_i is added into the gradient of every batch that
//   drew it. The random row gathers (cache misses on a large X) become a sequential read:
//   2.0-2.4x at 100,000 x 64 (n = 256, m = 4096) in same-process A/B runs.
// - per batch (small X, no sort area, one batch): each batch's samples are radix-sorted
//   by bucket (nothing to sort with one bucket), then gathered eight rows at a time.
// Both add the same products in the same order, so the bits depend on neither the path
// nor the chunking (kernel calls, sub-chunks, worker blocks); the random draws (Philox
// counters per batch and domain) are those of the kernels before the sorted path.

import { philoxFill, MODE_UNIFORM, MODE_NORMAL } from './rng';
import { scale, dot4 } from './linalg';

/** Philox domains (counter word c2) of the oracle's random sequences (pairs: paired.ts). */
export const DOMAIN_BATCH_INDEX: u32 = 0x80000001;
export const DOMAIN_BATCH_NOISE: u32 = 0x80000002;
export const DOMAIN_PAIR_NOISE: u32 = 0x80000003;

// Tuning constants, measured on a 2-core Zen 5 (1 MiB L2) at 100,000 x 64, n = 256:
// - BUCKET_BYTES: X per bucket; the rows of a bucket stay in L1 while its samples are added.
// - SORT_MIN_X_BYTES: a smaller X is one bucket (S = 31, the samples in drawing order): it
//   stays in cache, gathering its rows is cheap, and sorting would only cost.
// - PAIRED_SORT_MIN_X_BYTES: the paired kernel takes the sorted path from here on (per
//   sample it does one multiply-add per element and no residual, so gathering from an X
//   in L3 is cheaper than sorting; measured crossover 4-8 MiB). Not part of the order.
// - BLOCK_BYTES: gradients per sub-chunk of the sorted path (L2-sized; 512 KiB to 2 MiB
//   measured within noise; each sub-chunk reads the X rows it touches once).
// - MAX_SAMPLES, AREA_PER_X: samples per sub-chunk at most; the sort area (20 bytes a
//   sample) stays below AREA_PER_X of the bytes of X (a worker holds X plus little more).
// S, and so the summation order, depends on the first two; lrGradientsTuning changes them
// for tests (small shapes through the sorted path, many buckets).
// @ts-ignore: decorator
@inline const BUCKET_BYTES: f64 = 16384;
// @ts-ignore: decorator
@inline const SORT_MIN_X_BYTES: f64 = 2097152; // 2 MiB
// @ts-ignore: decorator
@inline const PAIRED_SORT_MIN_X_BYTES: f64 = 8388608; // 8 MiB
// @ts-ignore: decorator
@inline const BLOCK_BYTES: i32 = 1 << 20;
// @ts-ignore: decorator
@inline const MAX_SAMPLES: i32 = 1 << 20;
// @ts-ignore: decorator
@inline const AREA_PER_X: f64 = 0.25;
/** At most 2^MAX_BUCKETS_LOG2 buckets (the counting sort's histogram). */
// @ts-ignore: decorator
@inline const MAX_BUCKETS_LOG2: i32 = 18;
/** Bytes per sample in the sort area: its row (i32) and a record {row, batch, noise term} (16). */
// @ts-ignore: decorator
@inline const SAMPLE_BYTES: usize = 20;

let bucketBytes: f64 = BUCKET_BYTES;
let sortMinXBytes: f64 = SORT_MIN_X_BYTES;
let pairedSortMinXBytes: f64 = PAIRED_SORT_MIN_X_BYTES;
let blockBytes: i32 = BLOCK_BYTES;

/**
 * Test hook: sets the tuning constants above (a negative value restores the default).
 * Changing bucket or sortMinX bytes changes S and so the bits; the block and the paired
 * threshold only choose the path.
 */
export function lrGradientsTuning(bucket: f64, sortMinX: f64, pairedSortMinX: f64, block: i32): void {
  bucketBytes = bucket < 0 ? BUCKET_BYTES : bucket;
  sortMinXBytes = sortMinX < 0 ? SORT_MIN_X_BYTES : sortMinX;
  pairedSortMinXBytes = pairedSortMinX < 0 ? PAIRED_SORT_MIN_X_BYTES : pairedSortMinX;
  blockBytes = block < 0 ? BLOCK_BYTES : block;
}

/** Histogram of one radix digit, and the coefficients of eight samples (per-batch path). */
const DIGITS: usize = memory.data(256 * 4, 16);
const COEFS: usize = memory.data(8 * 8, 16);

/**
 * S: log2 of the rows per bucket. One bucket (S = 31: the samples in drawing order) when
 * X is below SORT_MIN_X_BYTES (it stays in cache and gathering its rows is cheap);
 * otherwise the largest S with 2^S rows of X within BUCKET_BYTES, raised until there are
 * at most 2^18 buckets. Depends only on the data's shape.
 */
export function lrBucketShift(rows: i32, dim: i32): i32 {
  if (<f64>rows * <f64>dim * 8 < sortMinXBytes) return 31;
  let s = 0;
  while (s < 30 && <f64>dim * 8 * <f64>(1 << (s + 1)) <= bucketBytes) s++;
  while (((rows - 1) >> s) >= (1 << MAX_BUCKETS_LOG2)) s++;
  return s;
}

/**
 * Scratch bytes lrGradients needs: n uniforms + n normals (f64), n indices and n swap
 * records (i32), plus a permutation of the rows (i32) when sampling without replacement.
 */
export function lrGradientsScratchBytes(rows: i32, batchSize: i32, replacement: i32): usize {
  return (<usize>batchSize << 4) + (<usize>batchSize << 3) + (replacement ? 0 : <usize>rows << 2);
}

/**
 * Batches per sub-chunk of the sorted path for this shape (< 2: the per-batch path). Pairs
 * take it from PAIRED_SORT_MIN_X_BYTES of X on (their per-sample work is one multiply-add
 * per element with no residual, so gathering from an X in L3 costs less than sorting).
 */
function sortBatches(rows: i32, dim: i32, batchSize: i32, batches: i32, paired: bool): i32 {
  if (lrBucketShift(rows, dim) == 31) return 0;
  if (paired && <f64>rows * <f64>dim * 8 < pairedSortMinXBytes) return 0;
  let k = blockBytes / max(1, dim << 3);
  // the area (20 bytes a sample) stays below AREA_PER_X of X
  let samples = min(<f64>MAX_SAMPLES, <f64>rows * <f64>dim * 8 * AREA_PER_X / <f64>SAMPLE_BYTES);
  k = min(k, <i32>(samples / <f64>batchSize));
  return min(k, batches);
}

/** Bytes of the sort area for sub-chunks of `samples` samples (S < 31). */
function areaBytesFor(samples: i32, rows: i32, dim: i32): usize {
  let s = lrBucketShift(rows, dim);
  let buckets = <usize>((rows - 1) >> s) + 1;
  return <usize>samples * SAMPLE_BYTES + ((buckets + 1) << 2) + ((<usize>1 << s) * 12);
}

/**
 * Bytes of the sort area that lets lrGradients and lrPairedDiffs take the sorted path for
 * calls of up to `batches` batches (0: the per-batch path is all there is, e.g. one batch
 * or more than 2^19 samples per batch). Any smaller area (or none) gives the same bits.
 */
export function lrSortAreaBytes(rows: i32, dim: i32, batchSize: i32, batches: i32, paired: i32): usize {
  let k = sortBatches(rows, dim, batchSize, batches, paired != 0);
  return k < 2 ? 0 : areaBytesFor(k * batchSize, rows, dim);
}

/**
 * Writes `batches` gradients (row-major, batches x dim) to out. Batch b (global index
 * firstBatch + t) draws its n rows and its n noise values from outputs b * 2^32 + j,
 * j < n, of two Philox sequences (domains above), so batch b is the same whichever call
 * or worker computes it. Rows: uniform with replacement (index = floor(u * rows)), or
 * without replacement within the batch (partial Fisher–Yates on a permutation that is
 * undone after the batch, so the batch does not depend on earlier batches).
 * The floor(u * k) draw has a relative bias below k * 2^-52, far below sampling error.
 * areaPtr/areaBytes: an optional sort area (lrSortAreaBytes; 0, 0 for none): faster on
 * a large X, the same bits.
 */
export function lrGradients(
  xPtr: usize, yPtr: usize, rows: i32, dim: i32, wPtr: usize,
  batchSize: i32, batches: i32, firstBatch: u32, noiseStd: f64,
  k0: u32, k1: u32, stream: u32, replacement: i32,
  outPtr: usize, scratchPtr: usize, areaPtr: usize, areaBytes: usize,
): void {
  assert(rows > 0 && dim > 0 && batchSize > 0 && batchSize <= (replacement ? 0x7FFFFFFF : rows));
  beginJob(xPtr, yPtr, rows, dim, wPtr, batchSize, noiseStd, k0, k1, stream, replacement, scratchPtr, false);
  runJob(batches, firstBatch, outPtr, areaPtr, areaBytes);
}

// What the current oracle call computes (set by beginJob; the kernels run one call at a
// time): the data, the random sequences and the scratch areas. Globals instead of fifteen
// parameters through every helper; the hot loops copy what they use into locals.
let jX: usize = 0, jY: usize = 0, jW: usize = 0, jRows: i32 = 0, jDim: i32 = 0, jN: i32 = 0;
let jStd: f64 = 0, jK0: u32 = 0, jK1: u32 = 0, jStream: u32 = 0, jReplacement: i32 = 0;
let jU: usize = 0, jZ: usize = 0, jZ2: usize = 0, jIdx: usize = 0, jSwap: usize = 0, jPerm: usize = 0;
/** The pair-difference kernel (paired.ts): coefficient z2_j - z1_j, no residual. */
let jPaired = false;

/**
 * Sets the call's globals. Scratch: u (8n, the uniforms), z (8n) [, z2 (8n)], idx (4n),
 * swap (4n), perm (4 rows, without replacement).
 */
export function beginJob(
  xPtr: usize, yPtr: usize, rows: i32, dim: i32, wPtr: usize, n: i32, noiseStd: f64,
  k0: u32, k1: u32, stream: u32, replacement: i32, scratchPtr: usize, paired: bool,
): void {
  jX = xPtr; jY = yPtr; jRows = rows; jDim = dim; jW = wPtr; jN = n; jStd = noiseStd;
  jK0 = k0; jK1 = k1; jStream = stream; jReplacement = replacement; jPaired = paired;
  jU = scratchPtr;
  jZ = jU + (<usize>n << 3);
  jZ2 = paired ? jZ + (<usize>n << 3) : 0;
  jIdx = (paired ? jZ2 : jZ) + (<usize>n << 3);
  jSwap = jIdx + (<usize>n << 2);
  jPerm = jSwap + (<usize>n << 2);
}

/** Runs a job over batches firstBatch .. firstBatch + batches - 1 into out (batches x dim). */
export function runJob(batches: i32, firstBatch: u32, outPtr: usize, areaPtr: usize, areaBytes: usize): void {
  if (batches <= 0) return;
  if (!jReplacement) {
    for (let r = 0; r < jRows; r++) store<i32>(jPerm + (<usize>r << 2), r);
  }
  let shift = lrBucketShift(jRows, jDim);
  let k = sortBatches(jRows, jDim, jN, batches, jPaired);
  if (k >= 2 && areaPtr != 0) {
    // the largest sub-chunk the area holds
    let fixed = areaBytesFor(0, jRows, jDim);
    let fit = areaBytes > fixed ? (areaBytes - fixed) / (SAMPLE_BYTES * <usize>jN) : 0;
    k = <i32>min(<usize>k, fit);
  }
  let rowBytes = <usize>jDim << 3;
  if (k < 2 || areaPtr == 0) {
    for (let t = 0; t < batches; t++) batchGradient(firstBatch + <u32>t, shift, outPtr + <usize>t * rowBytes);
    return;
  }
  for (let t0 = 0; t0 < batches; t0 += k) {
    let kc = min(k, batches - t0);
    sortedBlock(firstBatch + <u32>t0, kc, shift, outPtr + <usize>t0 * rowBytes, areaPtr);
  }
}

/** The batch's rows (idxPtr) and noise (zPtr, z2Ptr) from its Philox outputs. */
// @ts-ignore: decorator
@inline function drawBatch(b: u32, idxPtr: usize): void {
  drawRows(b, idxPtr);
  drawNoise(b); // counter-based: the same numbers in either order
}

/**
 * The noise term of sample j added to its residual: -sigma z_j (gradients; 0 without
 * noise), or the whole coefficient z2_j - z1_j (pairs, computed as -(z1_j - z2_j)).
 */
// @ts-ignore: decorator
@inline function noiseTerm(j: i32): f64 {
  let o = <usize>j << 3;
  if (jPaired) return -(load<f64>(jZ + o) - load<f64>(jZ2 + o));
  return jStd != 0 ? -jStd * load<f64>(jZ + o) : 0;
}

/** The coefficient c of a sample from its row's residual r and its noise term v. */
// @ts-ignore: decorator
@inline function coefficient(r: f64, v: f64): f64 {
  return jPaired ? v : jStd != 0 ? r + v : r;
}

/** r = x_row . w - y_row: one f64x2 accumulator, its lanes summed, then the odd tail. */
// @ts-ignore: decorator
@inline function residual(row: usize): f64 {
  let a = jX + row * (<usize>jDim << 3);
  let s = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= jDim; i += 2) {
    let o = <usize>i << 3;
    s = f64x2.add(s, f64x2.mul(v128.load(a + o), v128.load(jW + o)));
  }
  let d = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  if (i < jDim) d += load<f64>(a + (<usize>i << 3)) * load<f64>(jW + (<usize>i << 3));
  return d - load<f64>(jY + (row << 3));
}

// ---- per-batch path ----------------------------------------------------------------

/**
 * One batch: its samples radix-sorted by bucket (stable, so ties stay in j order), then
 * gathered eight rows at a time (eight independent cache misses in flight), each group
 * added into g one sample after another while its rows are in L1.
 */
function batchGradient(b: u32, shift: i32, gPtr: usize): void {
  let n = jN;
  let idxPtr = jIdx;
  drawBatch(b, idxPtr);
  // the sorted sample order goes where the uniforms were (first 4n bytes), the radix
  // temporary after it (next 4n bytes)
  let ordPtr = jU;
  sortSamples(idxPtr, ordPtr, ordPtr + (<usize>n << 2), n, shift, jRows);
  let rowBytes = <usize>jDim << 3;
  memory.fill(gPtr, 0, rowBytes);
  let cPtr = COEFS;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    let op = ordPtr + (<usize>j << 2);
    if (!jPaired) residuals8(rowBytes, idxPtr, op, cPtr);
    for (let q: usize = 0; q < 8; q++) {
      let s = load<i32>(op + (q << 2));
      store<f64>(cPtr + (q << 3), coefficient(load<f64>(cPtr + (q << 3)), noiseTerm(s)));
    }
    addRows8(jX, rowBytes, idxPtr, op, cPtr, gPtr, jDim);
  }
  for (; j < n; j++) {
    let s = load<i32>(ordPtr + (<usize>j << 2));
    let row = <usize>load<i32>(idxPtr + (<usize>s << 2));
    let c = coefficient(jPaired ? 0 : residual(row), noiseTerm(s));
    addRow(c, jX + row * rowBytes, gPtr, jDim);
  }
  scale(gradientScale(), gPtr, jDim);
}

/**
 * ord = the samples 0..n-1 stably sorted by bucket (idx[j] >> shift): LSD radix sort on
 * 8-bit digits of the bucket, ping-ponging between ord and tmp.
 */
function sortSamples(idxPtr: usize, ordPtr: usize, tmpPtr: usize, n: i32, shift: i32, rows: i32): void {
  for (let j = 0; j < n; j++) store<i32>(ordPtr + (<usize>j << 2), j);
  let top = (rows - 1) >> shift; // the largest bucket
  if (top == 0) return;
  let bits = 32 - clz(top);
  let passes = (bits + 7) >> 3;
  let width = (bits + passes - 1) / passes; // at most 8 bits per digit, as even as possible
  let mask = (1 << width) - 1;
  let src = ordPtr, dst = tmpPtr;
  for (let d = 0; d < bits; d += width) {
    memory.fill(DIGITS, 0, <usize>(mask + 1) << 2);
    for (let j = 0; j < n; j++) {
      let dig = <usize>(((load<i32>(idxPtr + (<usize>load<i32>(src + (<usize>j << 2)) << 2)) >> shift) >> d) & mask);
      store<i32>(DIGITS + (dig << 2), load<i32>(DIGITS + (dig << 2)) + 1);
    }
    let sum = 0;
    for (let k = 0; k <= mask; k++) {
      let dp = DIGITS + (<usize>k << 2);
      let c = load<i32>(dp);
      store<i32>(dp, sum);
      sum += c;
    }
    for (let j = 0; j < n; j++) {
      let s = load<i32>(src + (<usize>j << 2));
      let dig = <usize>(((load<i32>(idxPtr + (<usize>s << 2)) >> shift) >> d) & mask);
      let dp = DIGITS + (dig << 2);
      let p = load<i32>(dp);
      store<i32>(dp, p + 1);
      store<i32>(dst + (<usize>p << 2), s);
    }
    let t = src; src = dst; dst = t;
  }
  if (src != ordPtr) memory.copy(ordPtr, src, <usize>n << 2);
}

/** g += c x over dim doubles (one multiply and one add per element), eight per iteration. */
// @ts-ignore: decorator
@inline function addRow(c: f64, aPtr: usize, gPtr: usize, dim: i32): void {
  let cv = f64x2.splat(c);
  let i = 0;
  for (; i + 8 <= dim; i += 8) {
    let a = aPtr + (<usize>i << 3), g = gPtr + (<usize>i << 3);
    let g0 = f64x2.add(v128.load(g), f64x2.mul(cv, v128.load(a)));
    let g1 = f64x2.add(v128.load(g, 16), f64x2.mul(cv, v128.load(a, 16)));
    let g2 = f64x2.add(v128.load(g, 32), f64x2.mul(cv, v128.load(a, 32)));
    let g3 = f64x2.add(v128.load(g, 48), f64x2.mul(cv, v128.load(a, 48)));
    v128.store(g, g0);
    v128.store(g, g1, 16);
    v128.store(g, g2, 32);
    v128.store(g, g3, 48);
  }
  for (; i + 2 <= dim; i += 2) {
    let o = <usize>i << 3;
    v128.store(gPtr + o, f64x2.add(v128.load(gPtr + o), f64x2.mul(cv, v128.load(aPtr + o))));
  }
  if (i < dim) {
    let o = <usize>i << 3;
    store<f64>(gPtr + o, load<f64>(gPtr + o) + c * load<f64>(aPtr + o));
  }
}

/**
 * out[q] = residual(row q) for the eight samples in ordPtr (rows in idxPtr): eight rows
 * (mostly cache misses) in flight, each with its own f64x2 accumulator, summed in
 * residual()'s order (10 XMM registers live).
 */
// @ts-ignore: decorator
@inline function residuals8(rowBytes: usize, idxPtr: usize, ordPtr: usize, outPtr: usize): void {
  let xPtr = jX, wPtr = jW, yPtr = jY, dim = jDim;
  let i0 = <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr) << 2)), i1 = <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 4) << 2));
  let i2 = <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 8) << 2)), i3 = <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 12) << 2));
  let i4 = <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 16) << 2)), i5 = <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 20) << 2));
  let i6 = <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 24) << 2)), i7 = <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 28) << 2));
  let a0 = xPtr + i0 * rowBytes, a1 = xPtr + i1 * rowBytes, a2 = xPtr + i2 * rowBytes, a3 = xPtr + i3 * rowBytes;
  let a4 = xPtr + i4 * rowBytes, a5 = xPtr + i5 * rowBytes, a6 = xPtr + i6 * rowBytes, a7 = xPtr + i7 * rowBytes;
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
  // lane sums (lane 0 + lane 1, as residual()), two rows per store
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
  store<f64>(outPtr, load<f64>(outPtr) - load<f64>(yPtr + (i0 << 3)));
  store<f64>(outPtr, load<f64>(outPtr, 8) - load<f64>(yPtr + (i1 << 3)), 8);
  store<f64>(outPtr, load<f64>(outPtr, 16) - load<f64>(yPtr + (i2 << 3)), 16);
  store<f64>(outPtr, load<f64>(outPtr, 24) - load<f64>(yPtr + (i3 << 3)), 24);
  store<f64>(outPtr, load<f64>(outPtr, 32) - load<f64>(yPtr + (i4 << 3)), 32);
  store<f64>(outPtr, load<f64>(outPtr, 40) - load<f64>(yPtr + (i5 << 3)), 40);
  store<f64>(outPtr, load<f64>(outPtr, 48) - load<f64>(yPtr + (i6 << 3)), 48);
  store<f64>(outPtr, load<f64>(outPtr, 56) - load<f64>(yPtr + (i7 << 3)), 56);
}

/**
 * g += c_0 x_0, then += c_1 x_1, ... c_7 x_7 (each product added in turn, as addRow eight
 * times), with one load and store of g per element pair for the eight rows. ordPtr: eight
 * sample numbers, their rows in idxPtr; cPtr: their eight coefficients.
 */
// @ts-ignore: decorator
@inline function addRows8(xPtr: usize, rowBytes: usize, idxPtr: usize, ordPtr: usize, cPtr: usize, gPtr: usize, dim: i32): void {
  let a0 = xPtr + <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr) << 2)) * rowBytes;
  let a1 = xPtr + <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 4) << 2)) * rowBytes;
  let a2 = xPtr + <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 8) << 2)) * rowBytes;
  let a3 = xPtr + <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 12) << 2)) * rowBytes;
  let a4 = xPtr + <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 16) << 2)) * rowBytes;
  let a5 = xPtr + <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 20) << 2)) * rowBytes;
  let a6 = xPtr + <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 24) << 2)) * rowBytes;
  let a7 = xPtr + <usize>load<i32>(idxPtr + (<usize>load<i32>(ordPtr, 28) << 2)) * rowBytes;
  let c0 = v128.load64_splat(cPtr), c1 = v128.load64_splat(cPtr, 8), c2 = v128.load64_splat(cPtr, 16), c3 = v128.load64_splat(cPtr, 24);
  let c4 = v128.load64_splat(cPtr, 32), c5 = v128.load64_splat(cPtr, 40), c6 = v128.load64_splat(cPtr, 48), c7 = v128.load64_splat(cPtr, 56);
  let i = 0;
  for (; i + 2 <= dim; i += 2) {
    let o = <usize>i << 3;
    let g = v128.load(gPtr + o);
    g = f64x2.add(g, f64x2.mul(c0, v128.load(a0 + o)));
    g = f64x2.add(g, f64x2.mul(c1, v128.load(a1 + o)));
    g = f64x2.add(g, f64x2.mul(c2, v128.load(a2 + o)));
    g = f64x2.add(g, f64x2.mul(c3, v128.load(a3 + o)));
    g = f64x2.add(g, f64x2.mul(c4, v128.load(a4 + o)));
    g = f64x2.add(g, f64x2.mul(c5, v128.load(a5 + o)));
    g = f64x2.add(g, f64x2.mul(c6, v128.load(a6 + o)));
    g = f64x2.add(g, f64x2.mul(c7, v128.load(a7 + o)));
    v128.store(gPtr + o, g);
  }
  if (i < dim) {
    let o = <usize>i << 3;
    let g = load<f64>(gPtr + o);
    g += load<f64>(cPtr) * load<f64>(a0 + o);
    g += load<f64>(cPtr, 8) * load<f64>(a1 + o);
    g += load<f64>(cPtr, 16) * load<f64>(a2 + o);
    g += load<f64>(cPtr, 24) * load<f64>(a3 + o);
    g += load<f64>(cPtr, 32) * load<f64>(a4 + o);
    g += load<f64>(cPtr, 40) * load<f64>(a5 + o);
    g += load<f64>(cPtr, 48) * load<f64>(a6 + o);
    g += load<f64>(cPtr, 56) * load<f64>(a7 + o);
    store<f64>(gPtr + o, g);
  }
}

// ---- sorted path -------------------------------------------------------------------

/**
 * kc batches (first global index b0) into out, through the sort area:
 *   idx   kc n   i32   the rows of sample j of batch t at t n + j
 *   rec   kc n x 16   {row i32, t i32, noise term f64}, counting-sorted by bucket
 *   hist  buckets + 1 i32
 *   memo  2^S f64 residuals and 2^S u32 stamps of the current bucket's rows
 */
function sortedBlock(b0: u32, kc: i32, shift: i32, outPtr: usize, areaPtr: usize): void {
  let n = jN;
  let total = kc * n;
  let buckets = ((jRows - 1) >> shift) + 1;
  let window = 1 << shift;
  let idxPtr = areaPtr;
  let recPtr = idxPtr + (<usize>total << 2);
  let histPtr = recPtr + (<usize>total << 4);
  let memoPtr = histPtr + (<usize>(buckets + 1) << 2);
  let stampPtr = memoPtr + (<usize>window << 3);
  sortPass1(b0, kc, shift, idxPtr, histPtr, buckets);
  sortPass2(b0, kc, shift, idxPtr, histPtr, recPtr);
  sortPass3(kc, shift, outPtr, histPtr, recPtr, memoPtr, stampPtr, buckets, window);
}

/** Pass 1: the rows of every batch of the sub-chunk, and the start of every bucket. */
function sortPass1(b0: u32, kc: i32, shift: i32, idxPtr: usize, histPtr: usize, buckets: i32): void {
  let n = jN;
  // 1. rows of every batch; histogram of their buckets (shifted by one for the prefix sum)
  memory.fill(histPtr, 0, <usize>(buckets + 1) << 2);
  for (let t = 0; t < kc; t++) {
    let ip = idxPtr + (<usize>(t * n) << 2);
    drawRows(b0 + <u32>t, ip);
    for (let j = 0; j < n; j++) {
      let hp = histPtr + ((<usize>(load<i32>(ip + (<usize>j << 2)) >> shift) + 1) << 2);
      store<i32>(hp, load<i32>(hp) + 1);
    }
  }
  for (let k = 1; k <= buckets; k++) {
    let hp = histPtr + (<usize>k << 2);
    store<i32>(hp, load<i32>(hp) + load<i32>(hp - 4));
  }
}

/** Pass 2: the noise of every batch; each sample's record placed in its bucket. */
function sortPass2(b0: u32, kc: i32, shift: i32, idxPtr: usize, histPtr: usize, recPtr: usize): void {
  let n = jN;
  // 2. noise of every batch; records scattered to their bucket's slots, in (t, j) order
  for (let t = 0; t < kc; t++) {
    drawNoise(b0 + <u32>t);
    let ip = idxPtr + (<usize>(t * n) << 2);
    for (let j = 0; j < n; j++) {
      let row = load<i32>(ip + (<usize>j << 2));
      let hp = histPtr + (<usize>(row >> shift) << 2);
      let p = load<i32>(hp);
      store<i32>(hp, p + 1);
      let rp = recPtr + (<usize>p << 4);
      store<i32>(rp, row);
      store<i32>(rp, t, 4);
      store<f64>(rp, noiseTerm(j), 8);
    }
  }
}

/**
 * Pass 3: bucket by bucket, the residuals of its rows (streamed in address order when
 * the bucket is dense, else on first use), then g_t += c x_row for each of its records.
 */
function sortPass3(kc: i32, shift: i32, outPtr: usize, histPtr: usize, recPtr: usize, memoPtr: usize, stampPtr: usize, buckets: i32, window: i32): void {
  let n = jN, dim = jDim, xPtr = jX, rows = jRows, paired = jPaired;
  // now hist[k] is the end of bucket k (the start of k + 1)
  // 3. bucket by bucket: residuals of the touched rows (memo), then g_t += c x_row
  let rowBytes = <usize>dim << 3;
  memory.fill(outPtr, 0, <usize>kc * rowBytes);
  memory.fill(stampPtr, 0, <usize>window << 2);
  let lo = 0;
  for (let k = 0; k < buckets; k++) {
    let hi = load<i32>(histPtr + (<usize>k << 2));
    if (hi == lo) continue;
    let stamp = k + 1;
    let base = k << shift;
    let count = min(window, rows - base);
    // a bucket with at least half as many samples as rows: read all its rows in address
    // order first (the hardware prefetcher streams them), computing their residuals
    let dense = (hi - lo) * 2 >= count;
    if (dense) {
      if (paired) touchRows(xPtr + <usize>base * rowBytes, rowBytes, count);
      else residuals(<usize>base, count, memoPtr);
    }
    for (let p = lo; p < hi; p++) {
      let rp = recPtr + (<usize>p << 4);
      let row = <usize>load<i32>(rp);
      let r: f64 = 0;
      if (!paired) {
        let slot = row & <usize>(window - 1);
        if (!dense) {
          let sp = stampPtr + (slot << 2);
          if (load<i32>(sp) != stamp) {
            store<f64>(memoPtr + (slot << 3), residual(row));
            store<i32>(sp, stamp);
          }
        }
        r = load<f64>(memoPtr + (slot << 3));
      }
      let c = coefficient(r, load<f64>(rp, 8));
      addRow(c, xPtr + row * rowBytes, outPtr + <usize>load<i32>(rp, 4) * rowBytes, dim);
    }
    lo = hi;
  }
  scale(gradientScale(), outPtr, kc * dim);
}

/** Reads one double of every cache line of `count` rows (into a sink), in address order. */
function touchRows(aPtr: usize, rowBytes: usize, count: i32): void {
  let end = aPtr + <usize>count * rowBytes;
  let s: f64 = 0;
  for (let p = aPtr; p < end; p += 64) s += load<f64>(p);
  store<f64>(COEFS, s);
}

/**
 * memo[i] = residual(base + i) for i < count, four rows at a time (four independent
 * accumulators; each row's sum in residual()'s order).
 */
function residuals(base: usize, count: i32, memoPtr: usize): void {
  let dim = jDim, wPtr = jW, yPtr = jY;
  let rowBytes = <usize>dim << 3;
  let a = jX + base * rowBytes;
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    let a0 = a + <usize>i * rowBytes, a1 = a0 + rowBytes, a2 = a1 + rowBytes, a3 = a2 + rowBytes;
    let yp = yPtr + ((base + <usize>i) << 3), mp = memoPtr + (<usize>i << 3);
    // the four dot products (the first three into mp), then minus y
    let d3 = dot4(a0, a1, a2, a3, wPtr, dim, mp);
    store<f64>(mp, load<f64>(mp) - load<f64>(yp));
    store<f64>(mp, load<f64>(mp, 8) - load<f64>(yp, 8), 8);
    store<f64>(mp, load<f64>(mp, 16) - load<f64>(yp, 16), 16);
    store<f64>(mp, d3 - load<f64>(yp, 24), 24);
  }
  for (; i < count; i++) store<f64>(memoPtr + (<usize>i << 3), residual(base + <usize>i));
}

/** The factor every batch's sum is scaled by last: 1/n (pairs: noiseStd/n). */
// @ts-ignore: decorator
@inline function gradientScale(): f64 {
  return jPaired ? jStd / <f64>jN : 1.0 / <f64>jN;
}

/** The rows of batch b (its uniforms, then sampleRows) into idxPtr. */
// @ts-ignore: decorator
@inline function drawRows(b: u32, idxPtr: usize): void {
  let n = jN;
  philoxFill(jU, n, jK0, jK1, 0, b, DOMAIN_BATCH_INDEX, jStream, MODE_UNIFORM);
  sampleRows(jU, idxPtr, jSwap, jPerm, n, jRows, jReplacement);
}

/** The noise of batch b into zPtr (and z2Ptr for pairs). */
// @ts-ignore: decorator
@inline function drawNoise(b: u32): void {
  let n = jN;
  if (jStd != 0 || jPaired) philoxFill(jZ, n, jK0, jK1, 0, b, DOMAIN_BATCH_NOISE, jStream, MODE_NORMAL);
  if (jPaired) philoxFill(jZ2, n, jK0, jK1, 0, b, DOMAIN_PAIR_NOISE, jStream, MODE_NORMAL);
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
