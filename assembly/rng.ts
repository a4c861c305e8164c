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

import { storeBoxMuller2 } from './vmath';

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

/** The two Philox multipliers as splat vectors. */
const MULTIPLIERS: usize = memory.data<u32>([
  PHILOX_M0, PHILOX_M0, PHILOX_M0, PHILOX_M0, PHILOX_M1, PHILOX_M1, PHILOX_M1, PHILOX_M1,
], 16);
/** Round keys, each a splat vector: [k0 round 0, k1 round 0, k0 round 1, ...]. */
const ROUND_KEYS: usize = memory.data(320, 16) // 32 bytes x PHILOX_ROUNDS;

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

/** Counters per chunk: the Philox pass writes their uniforms here, the Box–Muller pass reads them. */
// @ts-ignore: decorator
@inline const CHUNK_CTRS: i32 = 64;
/** u_a (even outputs) and u_b (odd outputs) of a chunk, CHUNK_CTRS doubles each. */
const UA: usize = memory.data(CHUNK_CTRS * 8, 16);
const UB: usize = memory.data(CHUNK_CTRS * 8, 16);
/** The 2 * CHUNK_CTRS outputs of a chunk that straddles the requested range. */
const EDGE: usize = memory.data(CHUNK_CTRS * 16, 16);

/**
 * Writes outputs start .. start+count-1 of the sequence (key, domain, stream) to out,
 * as uniforms (mode 0) or standard normals (mode 1). Works in chunks of 64 counters: a
 * Philox pass (sixteen counters per step) stores the chunk's uniforms in UA/UB, then a
 * Box–Muller pass (four counters per step) turns them into normals. Splitting the two
 * keeps each loop's live values near the 16 XMM registers (fused, V8 spilled heavily). Chunks that straddle
 * the range go through EDGE, so every output is computed by the same vector code
 * whatever the alignment.
 */
export function philoxFill(
  outPtr: usize, count: i32, k0: u32, k1: u32, startLo: u32, startHi: u32,
  domain: u32, stream: u32, mode: i32,
): void {
  if (count <= 0) return;
  setKeys(k0, k1);
  let start: u64 = (<u64>startHi << 32) | <u64>startLo;
  let end: u64 = start + <u64>count;
  let i: u64 = start & ~(<u64>1); // first output of the counter holding `start`
  let normal = mode == MODE_NORMAL;
  let chunkOut = <u64>(CHUNK_CTRS * 2);
  while (i < end) {
    philoxChunk(i >> 1, domain, stream);
    let inside = i >= start && i + chunkOut <= end;
    let dst = inside ? outPtr + (<usize>(i - start) << 3) : EDGE;
    if (normal) {
      for (let t: usize = 0; t < <usize>CHUNK_CTRS; t += 4) {
        storeBoxMuller2(v128.load(UA + (t << 3)), v128.load(UB + (t << 3)),
          v128.load(UA + (t << 3), 16), v128.load(UB + (t << 3), 16), dst + (t << 4));
      }
    } else {
      for (let t: usize = 0; t < <usize>CHUNK_CTRS; t += 2) {
        let ua = v128.load(UA + (t << 3));
        let ub = v128.load(UB + (t << 3));
        v128.store(dst + (t << 4), i64x2.shuffle(ua, ub, 0, 2));
        v128.store(dst + (t << 4), i64x2.shuffle(ua, ub, 1, 3), 16);
      }
    }
    if (!inside) {
      for (let t: u64 = 0; t < chunkOut; t++) {
        let j = i + t;
        if (j >= start && j < end) store<f64>(outPtr + (<usize>(j - start) << 3), load<f64>(EDGE + (<usize>t << 3)));
      }
    }
    i += chunkOut;
  }
}

/** High 32 bits of the four 32 x 32 -> 64-bit products x_i * m_i. */
// @ts-ignore: decorator
@inline function mulhi(x: v128, m: v128): v128 {
  return i32x4.shuffle(i64x2.extmul_low_i32x4_u(x, m), i64x2.extmul_high_i32x4_u(x, m), 1, 3, 5, 7);
}

/**
 * Philox4x32-10 on counters ctr .. ctr+CHUNK_CTRS-1 (c2 = domain, c3 = stream) -> UA, UB.
 *
 * Each round is a chain of dependent multiplies, so one block of four counters leaves the
 * vector units idle most of the time: four blocks (16 counters, groups a-d) go through the
 * rounds side by side, which measured 1.6x faster than one block per step (same bits).
 */
function philoxChunk(ctr: u64, domain: u32, stream: u32): void {
  // the multipliers come from memory: as v128 constants V8 rematerialises them at each use
  let m0 = v128.load(MULTIPLIERS);
  let m1 = v128.load(MULTIPLIERS, 16);
  // round 1 multiplies c2 = domain, the same in every counter: its products are constants
  let pd = <u64>PHILOX_M1 * <u64>domain;
  let hiD = i32x4.splat(<u32>(pd >> 32) ^ load<u32>(ROUND_KEYS)); // hi(M1 c2) ^ round-1 k0
  let loD = i32x4.splat(<u32>pd);
  let s3 = v128.xor(i32x4.splat(stream), v128.load(ROUND_KEYS, 16)); // c3 ^ round-1 k1
  for (let t: usize = 0; t < <usize>CHUNK_CTRS; t += 16) {
    let c = ctr + <u64>t;
    let hi = i32x4.splat(<u32>(c >> 32));
    let lo = i32x4.splat(<u32>c);
    // counter words (c0, c1) of the four blocks; c1 takes the carry out of c0
    let x0a = i32x4.add(lo, i32x4(0, 1, 2, 3)), x0b = i32x4.add(lo, i32x4(4, 5, 6, 7));
    let x0c = i32x4.add(lo, i32x4(8, 9, 10, 11)), x0d = i32x4.add(lo, i32x4(12, 13, 14, 15));
    let x1a = i32x4.sub(hi, i32x4.lt_u(x0a, lo)), x1b = i32x4.sub(hi, i32x4.lt_u(x0b, lo));
    let x1c = i32x4.sub(hi, i32x4.lt_u(x0c, lo)), x1d = i32x4.sub(hi, i32x4.lt_u(x0d, lo));
    // round 1: (x0, x1, x2, x3) = (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0))
    let x2a = v128.xor(mulhi(x0a, m0), s3), x2b = v128.xor(mulhi(x0b, m0), s3);
    let x2c = v128.xor(mulhi(x0c, m0), s3), x2d = v128.xor(mulhi(x0d, m0), s3);
    let x3a = i32x4.mul(x0a, m0), x3b = i32x4.mul(x0b, m0), x3c = i32x4.mul(x0c, m0), x3d = i32x4.mul(x0d, m0);
    x0a = v128.xor(hiD, x1a); x0b = v128.xor(hiD, x1b); x0c = v128.xor(hiD, x1c); x0d = v128.xor(hiD, x1d);
    x1a = loD; x1b = loD; x1c = loD; x1d = loD;
    // rounds 2..10
    for (let r: usize = 1; r < PHILOX_ROUNDS; r++) {
      let k0 = v128.load(ROUND_KEYS + (r << 5));
      let k1 = v128.load(ROUND_KEYS + (r << 5), 16);
      let y0a = v128.xor(v128.xor(mulhi(x2a, m1), x1a), k0); x1a = i32x4.mul(x2a, m1);
      let y0b = v128.xor(v128.xor(mulhi(x2b, m1), x1b), k0); x1b = i32x4.mul(x2b, m1);
      let y0c = v128.xor(v128.xor(mulhi(x2c, m1), x1c), k0); x1c = i32x4.mul(x2c, m1);
      let y0d = v128.xor(v128.xor(mulhi(x2d, m1), x1d), k0); x1d = i32x4.mul(x2d, m1);
      x2a = v128.xor(v128.xor(mulhi(x0a, m0), x3a), k1); x3a = i32x4.mul(x0a, m0); x0a = y0a;
      x2b = v128.xor(v128.xor(mulhi(x0b, m0), x3b), k1); x3b = i32x4.mul(x0b, m0); x0b = y0b;
      x2c = v128.xor(v128.xor(mulhi(x0c, m0), x3c), k1); x3c = i32x4.mul(x0c, m0); x0c = y0c;
      x2d = v128.xor(v128.xor(mulhi(x0d, m0), x3d), k1); x3d = i32x4.mul(x0d, m0); x0d = y0d;
    }
    // 64-bit words: a = c1':c0' (even outputs), b = c3':c2' (odd outputs), counters t..t+15
    storeUniforms(UA + (t << 3), x0a, x1a, x2a, x3a, UB + (t << 3));
    storeUniforms(UA + (t << 3) + 32, x0b, x1b, x2b, x3b, UB + (t << 3) + 32);
    storeUniforms(UA + (t << 3) + 64, x0c, x1c, x2c, x3c, UB + (t << 3) + 64);
    storeUniforms(UA + (t << 3) + 96, x0d, x1d, x2d, x3d, UB + (t << 3) + 96);
  }
}

/** The uniforms of one Philox block of four counters: words (x0, x1) to ua, (x2, x3) to ub. */
// @ts-ignore: decorator
@inline function storeUniforms(ua: usize, x0: v128, x1: v128, x2: v128, x3: v128, ub: usize): void {
  v128.store(ua, toUniform(i32x4.shuffle(x0, x1, 0, 4, 1, 5)));
  v128.store(ua, toUniform(i32x4.shuffle(x0, x1, 2, 6, 3, 7)), 16);
  v128.store(ub, toUniform(i32x4.shuffle(x2, x3, 0, 4, 1, 5)));
  v128.store(ub, toUniform(i32x4.shuffle(x2, x3, 2, 6, 3, 7)), 16);
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
