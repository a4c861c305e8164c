// Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel
// random numbers: as easy as 1, 2, 3", SC'11; the Random123 library).
//
// Why Philox rather than a sequential generator such as xoshiro256++:
// - Output i is a pure function of (key, counter), so any slice of the stream can be
//   produced directly. Streams are prefix-stable whatever the chunking, batch b of the
//   gradient oracle does not depend on batches before it, and a worker pool can split
//   the batches among any number of workers and still produce the same numbers.
// - Independent streams need no jump polynomials: the stream id is a counter word, so
//   streams are disjoint by construction (distinct counters under one key are distinct
//   inputs of a bijection), not merely unlikely to overlap.
// - It passes TestU01 BigCrush with a margin (10 rounds; 7 already pass), is the
//   generator of cuRAND, JAX, TensorFlow and numpy's Philox, and has published
//   known-answer vectors that the tests check.
// - Its 32x32 -> 64 multiplies map onto wasm SIMD (i64x2.extmul_*_i32x4_u), so four
//   counters are processed per step.
//
// Counter layout (c0, c1, c2, c3) for output index i of a sequence:
//   c0 = lo32(i >> 1), c1 = hi32(i >> 1), c2 = domain, c3 = stream
// and the output takes 64 bits of the block: words (c0', c1') for even i, (c2', c3') for odd.
// Uniforms: the top 52 bits b of the 64-bit word give u = (b + 1/2) * 2^-52, in (0, 1).
// Normals (Box–Muller): the block's two words give u1 (even) and u2 (odd); output 2j is
// sqrt(-2 log u1) cos(2 pi u2), output 2j+1 the same with sin.

import { storeBoxMuller } from './vmath';

// @ts-ignore: decorator
@inline const PHILOX_M0: u32 = 0xD2511F53;
// @ts-ignore: decorator
@inline const PHILOX_M1: u32 = 0xCD9E8D57;
// @ts-ignore: decorator
@inline const PHILOX_W0: u32 = 0x9E3779B9;
// @ts-ignore: decorator
@inline const PHILOX_W1: u32 = 0xBB67AE85;
// @ts-ignore: decorator
@inline const PHILOX_ROUNDS: usize = 10;

export const MODE_UNIFORM: i32 = 0;
export const MODE_NORMAL: i32 = 1;

/** Round keys, each a splat vector: [k0 round 0, k1 round 0, k0 round 1, ...]. */
const ROUND_KEYS: usize = memory.data(320, 16) // 32 bytes x PHILOX_ROUNDS;
/** Eight outputs of a block that straddles the requested range. */
const EDGE: usize = memory.data(64, 16);

function setKeys(k0: u32, k1: u32): void {
  for (let r: usize = 0; r < PHILOX_ROUNDS; r++) {
    v128.store(ROUND_KEYS + (r << 5), i32x4.splat(k0));
    v128.store(ROUND_KEYS + (r << 5), i32x4.splat(k1), 16);
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
}

/** 64 random bits per lane -> uniform double in (0, 1): (top 52 bits + 1/2) * 2^-52. */
// @ts-ignore: decorator
@inline function toUniform(bits: v128): v128 {
  let m = v128.or(i64x2.shr_u(bits, 12), i64x2.splat(0x3FF0000000000000)); // [1, 2)
  return f64x2.sub(m, f64x2.splat(reinterpret<f64>(0x3FEFFFFFFFFFFFFF))); // 1 - 2^-53; exact
}

/**
 * Writes outputs start .. start+count-1 of the sequence (key, domain, stream) to out,
 * as uniforms (mode 0) or standard normals (mode 1). Four Philox blocks (eight outputs)
 * are computed per step; blocks that straddle the range go through EDGE, so every
 * output is computed by the same vector code whatever the alignment.
 */
export function philoxFill(
  outPtr: usize, count: i32, k0: u32, k1: u32, startLo: u32, startHi: u32,
  domain: u32, stream: u32, mode: i32,
): void {
  if (count <= 0) return;
  setKeys(k0, k1);
  let start: u64 = (<u64>startHi << 32) | <u64>startLo;
  let end: u64 = start + <u64>count;
  let i: u64 = start & ~(<u64>1); // first output of the block holding `start`
  let m0 = i32x4.splat(PHILOX_M0);
  let m1 = i32x4.splat(PHILOX_M1);
  let c2 = i32x4.splat(domain);
  let c3 = i32x4.splat(stream);
  let normal = mode == MODE_NORMAL;
  while (i < end) {
    let ctr = i >> 1;
    let lo = i32x4.splat(<u32>ctr);
    let x0 = i32x4.add(lo, i32x4(0, 1, 2, 3));
    let x1 = i32x4.sub(i32x4.splat(<u32>(ctr >> 32)), i32x4.lt_u(x0, lo)); // carry
    let x2 = c2;
    let x3 = c3;
    // two rounds per pass: no loop-carried register moves (measured a few % faster)
    for (let r: usize = 0; r < PHILOX_ROUNDS; r += 2) {
      let kp = ROUND_KEYS + (r << 5);
      let p0l = i64x2.extmul_low_i32x4_u(x0, m0);
      let p0h = i64x2.extmul_high_i32x4_u(x0, m0);
      let p1l = i64x2.extmul_low_i32x4_u(x2, m1);
      let p1h = i64x2.extmul_high_i32x4_u(x2, m1);
      let y0 = v128.xor(v128.xor(i32x4.shuffle(p1l, p1h, 1, 3, 5, 7), x1), v128.load(kp));
      let y1 = i32x4.shuffle(p1l, p1h, 0, 2, 4, 6);
      let y2 = v128.xor(v128.xor(i32x4.shuffle(p0l, p0h, 1, 3, 5, 7), x3), v128.load(kp, 16));
      let y3 = i32x4.shuffle(p0l, p0h, 0, 2, 4, 6);
      p0l = i64x2.extmul_low_i32x4_u(y0, m0);
      p0h = i64x2.extmul_high_i32x4_u(y0, m0);
      p1l = i64x2.extmul_low_i32x4_u(y2, m1);
      p1h = i64x2.extmul_high_i32x4_u(y2, m1);
      x0 = v128.xor(v128.xor(i32x4.shuffle(p1l, p1h, 1, 3, 5, 7), y1), v128.load(kp, 32));
      x1 = i32x4.shuffle(p1l, p1h, 0, 2, 4, 6);
      x2 = v128.xor(v128.xor(i32x4.shuffle(p0l, p0h, 1, 3, 5, 7), y3), v128.load(kp, 48));
      x3 = i32x4.shuffle(p0l, p0h, 0, 2, 4, 6);
    }
    // 64-bit words: a = c1':c0' (even outputs), b = c3':c2' (odd outputs), blocks 0,1 and 2,3
    let ua01 = toUniform(i32x4.shuffle(x0, x1, 0, 4, 1, 5));
    let ua23 = toUniform(i32x4.shuffle(x0, x1, 2, 6, 3, 7));
    let ub01 = toUniform(i32x4.shuffle(x2, x3, 0, 4, 1, 5));
    let ub23 = toUniform(i32x4.shuffle(x2, x3, 2, 6, 3, 7));
    let inside = i >= start && i + 8 <= end;
    let dst = inside ? outPtr + (<usize>(i - start) << 3) : EDGE;
    if (normal) {
      storeBoxMuller(ua01, ub01, dst);
      storeBoxMuller(ua23, ub23, dst + 32);
    } else {
      v128.store(dst, i64x2.shuffle(ua01, ub01, 0, 2));
      v128.store(dst, i64x2.shuffle(ua01, ub01, 1, 3), 16);
      v128.store(dst, i64x2.shuffle(ua23, ub23, 0, 2), 32);
      v128.store(dst, i64x2.shuffle(ua23, ub23, 1, 3), 48);
    }
    if (!inside) {
      for (let t: u64 = 0; t < 8; t++) {
        let j = i + t;
        if (j >= start && j < end) store<f64>(outPtr + (<usize>(j - start) << 3), load<f64>(EDGE + (<usize>t << 3)));
      }
    }
    i += 8;
  }
}

/** One Philox4x32-10 block, scalar: for known-answer tests. ctrPtr: 4 x u32 in, outPtr: 4 x u32 out. */
export function philoxBlock(ctrPtr: usize, k0: u32, k1: u32, outPtr: usize): void {
  let x0 = load<u32>(ctrPtr), x1 = load<u32>(ctrPtr, 4), x2 = load<u32>(ctrPtr, 8), x3 = load<u32>(ctrPtr, 12);
  for (let r = 0; r < <i32>PHILOX_ROUNDS; r++) {
    let p0 = <u64>PHILOX_M0 * <u64>x0;
    let p1 = <u64>PHILOX_M1 * <u64>x2;
    x0 = <u32>(p1 >> 32) ^ x1 ^ k0;
    x1 = <u32>p1;
    x2 = <u32>(p0 >> 32) ^ x3 ^ k1;
    x3 = <u32>p0;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  store<u32>(outPtr, x0);
  store<u32>(outPtr, x1, 4);
  store<u32>(outPtr, x2, 8);
  store<u32>(outPtr, x3, 12);
}
