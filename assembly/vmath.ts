// Vectorised elementary functions on f64x2, written out so that every engine computes
// the same bits (no host Math imports). Each function is a lane-wise transcription of
// the musl/fdlibm scalar routine cited beside it, so its accuracy is that routine's.

// @ts-ignore: decorator
@inline const LN2_HI = reinterpret<f64>(0x3FE62E42FEE00000); //  6.93147180369123816490e-01
// @ts-ignore: decorator
@inline const LN2_LO = reinterpret<f64>(0x3DEA39EF35793C76); //  1.90821492927058770002e-10
// @ts-ignore: decorator
@inline const LG1 = reinterpret<f64>(0x3FE5555555555593); // 6.666666666666735130e-01
// @ts-ignore: decorator
@inline const LG2 = reinterpret<f64>(0x3FD999999997FA04); // 3.999999999940941908e-01
// @ts-ignore: decorator
@inline const LG3 = reinterpret<f64>(0x3FD2492494229359); // 2.857142874366239149e-01
// @ts-ignore: decorator
@inline const LG4 = reinterpret<f64>(0x3FCC71C51D8E78AF); // 2.222219843214978396e-01
// @ts-ignore: decorator
@inline const LG5 = reinterpret<f64>(0x3FC7466496CB03DE); // 1.818357216161805012e-01
// @ts-ignore: decorator
@inline const LG6 = reinterpret<f64>(0x3FC39A09D078C69F); // 1.531383769920937332e-01
// @ts-ignore: decorator
@inline const LG7 = reinterpret<f64>(0x3FC2F112DF3E5244); // 1.479819860511658591e-01

// @ts-ignore: decorator
@inline const S1 = reinterpret<f64>(0xBFC5555555555549); // -1.66666666666666324348e-01
// @ts-ignore: decorator
@inline const S2 = reinterpret<f64>(0x3F8111111110F8A6); //  8.33333333332248946124e-03
// @ts-ignore: decorator
@inline const S3 = reinterpret<f64>(0xBF2A01A019C161D5); // -1.98412698298579493134e-04
// @ts-ignore: decorator
@inline const S4 = reinterpret<f64>(0x3EC71DE357B1FE7D); //  2.75573137070700676789e-06
// @ts-ignore: decorator
@inline const S5 = reinterpret<f64>(0xBE5AE5E68A2B9CEB); // -2.50507602534068634195e-08
// @ts-ignore: decorator
@inline const S6 = reinterpret<f64>(0x3DE5D93A5ACFD57C); //  1.58969099521155010221e-10

// @ts-ignore: decorator
@inline const C1 = reinterpret<f64>(0x3FA555555555554C); //  4.16666666666666019037e-02
// @ts-ignore: decorator
@inline const C2 = reinterpret<f64>(0xBF56C16C16C15177); // -1.38888888888741095749e-03
// @ts-ignore: decorator
@inline const C3 = reinterpret<f64>(0x3EFA01A019CB1590); //  2.48015872894767294178e-05
// @ts-ignore: decorator
@inline const C4 = reinterpret<f64>(0xBE927E4F809C52AD); // -2.75573143513906633035e-07
// @ts-ignore: decorator
@inline const C5 = reinterpret<f64>(0x3E21EE9EBDB4B1C4); //  2.08757232129817482790e-09
// @ts-ignore: decorator
@inline const C6 = reinterpret<f64>(0xBDA8FAE9BE8838D4); // -1.13596475577881948265e-11

// @ts-ignore: decorator
@inline const TWO_PI = reinterpret<f64>(0x401921FB54442D18); // 6.28318530717958647692
// @ts-ignore: decorator
@inline const SIGN_BIT: u64 = 0x8000000000000000;


// Every vector constant is loaded from this table (one load, which V8 may hoist) rather
// than written as a v128 constant, which V8 rematerialises with three instructions at
// every use (PERF-NOTES). Entry i is the constant splatted into both lanes.
const KT: usize = memory.data<f64>([
  reinterpret<f64>(<i64>(0x3FF00000 - 0x3FE6A09E) << 32), reinterpret<f64>(<i64>(0x3FF00000 - 0x3FE6A09E) << 32),
  reinterpret<f64>(0x4330000000000000), reinterpret<f64>(0x4330000000000000),
  4503599627371519.0, 4503599627371519.0,
  reinterpret<f64>(0x000FFFFFFFFFFFFF), reinterpret<f64>(0x000FFFFFFFFFFFFF),
  reinterpret<f64>(<i64>0x3FE6A09E << 32), reinterpret<f64>(<i64>0x3FE6A09E << 32),
  1.0, 1.0,
  0.5, 0.5,
  2.0, 2.0,
  LG1, LG1,
  LG2, LG2,
  LG3, LG3,
  LG4, LG4,
  LG5, LG5,
  LG6, LG6,
  LG7, LG7,
  LN2_LO, LN2_LO,
  LN2_HI, LN2_HI,
  S1, S1,
  S2, S2,
  S3, S3,
  S4, S4,
  S5, S5,
  S6, S6,
  C1, C1,
  C2, C2,
  C3, C3,
  C4, C4,
  C5, C5,
  C6, C6,
  4.0, 4.0,
  0.25, 0.25,
  TWO_PI, TWO_PI,
  3.0, 3.0,
  reinterpret<f64>(SIGN_BIT), reinterpret<f64>(SIGN_BIT),
  -2.0, -2.0,
], 16);
// @ts-ignore: decorator
@inline const K_EXP_SHIFT = 0;
// @ts-ignore: decorator
@inline const K_MAGIC = 1;
// @ts-ignore: decorator
@inline const K_MAGIC_BIAS = 2;
// @ts-ignore: decorator
@inline const K_MANT_MASK = 3;
// @ts-ignore: decorator
@inline const K_SQRT_HALF_HI = 4;
// @ts-ignore: decorator
@inline const K_ONE = 5;
// @ts-ignore: decorator
@inline const K_HALF = 6;
// @ts-ignore: decorator
@inline const K_TWO = 7;
// @ts-ignore: decorator
@inline const K_LG1 = 8;
// @ts-ignore: decorator
@inline const K_LG2 = 9;
// @ts-ignore: decorator
@inline const K_LG3 = 10;
// @ts-ignore: decorator
@inline const K_LG4 = 11;
// @ts-ignore: decorator
@inline const K_LG5 = 12;
// @ts-ignore: decorator
@inline const K_LG6 = 13;
// @ts-ignore: decorator
@inline const K_LG7 = 14;
// @ts-ignore: decorator
@inline const K_LN2_LO = 15;
// @ts-ignore: decorator
@inline const K_LN2_HI = 16;
// @ts-ignore: decorator
@inline const K_S1 = 17;
// @ts-ignore: decorator
@inline const K_S2 = 18;
// @ts-ignore: decorator
@inline const K_S3 = 19;
// @ts-ignore: decorator
@inline const K_S4 = 20;
// @ts-ignore: decorator
@inline const K_S5 = 21;
// @ts-ignore: decorator
@inline const K_S6 = 22;
// @ts-ignore: decorator
@inline const K_C1 = 23;
// @ts-ignore: decorator
@inline const K_C2 = 24;
// @ts-ignore: decorator
@inline const K_C3 = 25;
// @ts-ignore: decorator
@inline const K_C4 = 26;
// @ts-ignore: decorator
@inline const K_C5 = 27;
// @ts-ignore: decorator
@inline const K_C6 = 28;
// @ts-ignore: decorator
@inline const K_FOUR = 29;
// @ts-ignore: decorator
@inline const K_QUARTER = 30;
// @ts-ignore: decorator
@inline const K_TWO_PI = 31;
// @ts-ignore: decorator
@inline const K_THREE = 32;
// @ts-ignore: decorator
@inline const K_SIGN = 33;
// @ts-ignore: decorator
@inline const K_MINUS_TWO = 34;

// @ts-ignore: decorator
@inline function K(i: i32): v128 {
  return v128.load(KT + (<usize>i << 4));
}


/**
 * Natural logarithm of two positive normal doubles (musl src/math/log.c, lane-wise).
 * ULP error: < 1 (musl's bound for this algorithm). Inputs here are uniforms in (0, 1):
 * zero, negative, subnormal, infinite and NaN inputs are outside its contract.
 */
// @ts-ignore: decorator
@inline export function vlog(x: v128): v128 {
  // Shift the exponent so that the mantissa lands in [sqrt(2)/2, sqrt(2)).
  let bits = i64x2.add(x, K(K_EXP_SHIFT));
  let e = i64x2.shr_u(bits, 52); // biased exponent k + 1023, 0 < e < 2047
  let dk = f64x2.sub(v128.or(e, K(K_MAGIC)), K(K_MAGIC_BIAS)); // 2^52 + 1023
  let m = i64x2.add(v128.and(bits, K(K_MANT_MASK)), K(K_SQRT_HALF_HI));
  let f = f64x2.sub(m, K(K_ONE));
  let hfsq = f64x2.mul(f64x2.mul(K(K_HALF), f), f);
  let s = f64x2.div(f, f64x2.add(K(K_TWO), f));
  let z = f64x2.mul(s, s);
  let w = f64x2.mul(z, z);
  let t1 = f64x2.mul(w, f64x2.add(K(K_LG2), f64x2.mul(w, f64x2.add(K(K_LG4), f64x2.mul(w, K(K_LG6))))));
  let t2 = f64x2.mul(z, f64x2.add(K(K_LG1), f64x2.mul(w, f64x2.add(K(K_LG3),
    f64x2.mul(w, f64x2.add(K(K_LG5), f64x2.mul(w, K(K_LG7))))))));
  let r = f64x2.add(t2, t1);
  // s*(hfsq+R) + dk*ln2_lo - hfsq + f + dk*ln2_hi, in musl's order of evaluation
  let acc = f64x2.add(f64x2.mul(s, f64x2.add(hfsq, r)), f64x2.mul(dk, K(K_LN2_LO)));
  acc = f64x2.add(f64x2.sub(acc, hfsq), f);
  return f64x2.add(acc, f64x2.mul(dk, K(K_LN2_HI)));
}

/** sin(x) for |x| <= pi/4 (musl __sin.c with y = 0). ULP error: < 1. */
// @ts-ignore: decorator
@inline function ksin(x: v128): v128 {
  let z = f64x2.mul(x, x);
  let w = f64x2.mul(z, z);
  let r = f64x2.add(
    f64x2.add(K(K_S2), f64x2.mul(z, f64x2.add(K(K_S3), f64x2.mul(z, K(K_S4))))),
    f64x2.mul(f64x2.mul(z, w), f64x2.add(K(K_S5), f64x2.mul(z, K(K_S6)))));
  let v = f64x2.mul(z, x);
  return f64x2.add(x, f64x2.mul(v, f64x2.add(K(K_S1), f64x2.mul(z, r))));
}

/** cos(x) for |x| <= pi/4 (musl __cos.c with y = 0). ULP error: < 1. */
// @ts-ignore: decorator
@inline function kcos(x: v128): v128 {
  let z = f64x2.mul(x, x);
  let w = f64x2.mul(z, z);
  let r = f64x2.add(
    f64x2.mul(z, f64x2.add(K(K_C1), f64x2.mul(z, f64x2.add(K(K_C2), f64x2.mul(z, K(K_C3)))))),
    f64x2.mul(f64x2.mul(w, w), f64x2.add(K(K_C4), f64x2.mul(z, f64x2.add(K(K_C5), f64x2.mul(z, K(K_C6)))))));
  let hz = f64x2.mul(K(K_HALF), z);
  let one_hz = f64x2.sub(K(K_ONE), hz);
  return f64x2.add(one_hz, f64x2.add(f64x2.sub(f64x2.sub(K(K_ONE), one_hz), hz), f64x2.mul(z, r)));
}

/**
 * Stores r*cos(2 pi u) and r*sin(2 pi u) for the two lanes of u in [0, 1], interleaved:
 * dst[0..3] = [r0 cos0, r0 sin0, r1 cos1, r1 sin1].
 *
 * Reduction is exact: q = nearest(4u), t = u - q/4 is computed without rounding for any
 * u that is a multiple of 2^-53 (all our uniforms are), |t| <= 1/8, and x = 2 pi t has
 * one rounding (relative 2^-53) before the |x| <= pi/4 kernels; the quadrant q picks and
 * negates. Error: below 2 ulp of the result plus 1.1e-16 * |2 pi t| absolute.
 */
// @ts-ignore: decorator
@inline export function storeCosSin2Pi(u: v128, r: v128, dst: usize): void {
  let q = f64x2.nearest(f64x2.mul(u, K(K_FOUR)));
  let x = f64x2.mul(f64x2.sub(u, f64x2.mul(q, K(K_QUARTER))), K(K_TWO_PI));
  let s = ksin(x);
  let c = kcos(x);
  let e1 = f64x2.eq(q, K(K_ONE));
  let e2 = f64x2.eq(q, K(K_TWO));
  let e3 = f64x2.eq(q, K(K_THREE));
  let swap = v128.or(e1, e3);
  let sign = K(K_SIGN);
  // theta = x + q pi/2: q=1 -> (-sin, cos), q=2 -> (-cos, -sin), q=3 -> (sin, -cos)
  let cq = v128.xor(v128.bitselect(s, c, swap), v128.and(v128.or(e1, e2), sign));
  let sq = v128.xor(v128.bitselect(c, s, swap), v128.and(v128.or(e2, e3), sign));
  let zc = f64x2.mul(r, cq);
  let zs = f64x2.mul(r, sq);
  v128.store(dst, i64x2.shuffle(zc, zs, 0, 2));
  v128.store(dst, i64x2.shuffle(zc, zs, 1, 3), 16);
}

/** Box–Muller: stores the two normal pairs made from uniforms u1, u2 (lanes) at dst. */
// @ts-ignore: decorator
@inline export function storeBoxMuller(u1: v128, u2: v128, dst: usize): void {
  let r = f64x2.sqrt(f64x2.mul(vlog(u1), K(K_MINUS_TWO)));
  storeCosSin2Pi(u2, r, dst);
}

/**
 * Box–Muller on two vector pairs at once, (u1a, u2a) -> dst[0..3] and (u1b, u2b) ->
 * dst[4..7]: vlog, the radius and storeCosSin2Pi written out with the two pairs'
 * operations side by side, since each pair alone is a long chain of dependent
 * operations (division, polynomials, square root) that leaves the vector units idle.
 * The operations and their order per value are those of vlog, storeCosSin2Pi and
 * storeBoxMuller, so the results are the same bits (test kernel mathBoxMuller compares them).
 *
 * The stores marked "barrier" write values that the last four stores overwrite. They are
 * there for V8: it loads every constant of the loop body (the K() table) at the top of the
 * body and spills most of them, but it cannot move a load above a store. Four stores
 * split the body so that only one stage's constants are live at a time: philoxFill went
 * from 98 to 82 machine instructions per normal (callgrind; 90 with one pair at a time).
 */
// @ts-ignore: decorator
@inline export function storeBoxMuller2(u1a: v128, u2a: v128, u1b: v128, u2b: v128, dst: usize): void {
  let bitsa = i64x2.add(u1a, K(K_EXP_SHIFT));
  let bitsb = i64x2.add(u1b, K(K_EXP_SHIFT));
  let ea = i64x2.shr_u(bitsa, 52);
  let eb = i64x2.shr_u(bitsb, 52);
  let dka = f64x2.sub(v128.or(ea, K(K_MAGIC)), K(K_MAGIC_BIAS));
  let dkb = f64x2.sub(v128.or(eb, K(K_MAGIC)), K(K_MAGIC_BIAS));
  let ma = i64x2.add(v128.and(bitsa, K(K_MANT_MASK)), K(K_SQRT_HALF_HI));
  let mb = i64x2.add(v128.and(bitsb, K(K_MANT_MASK)), K(K_SQRT_HALF_HI));
  let fa = f64x2.sub(ma, K(K_ONE));
  let fb = f64x2.sub(mb, K(K_ONE));
  let hfsqa = f64x2.mul(f64x2.mul(K(K_HALF), fa), fa);
  let hfsqb = f64x2.mul(f64x2.mul(K(K_HALF), fb), fb);
  let sa = f64x2.div(fa, f64x2.add(K(K_TWO), fa));
  let sb = f64x2.div(fb, f64x2.add(K(K_TWO), fb));
  v128.store(dst, sa, 32); // (a barrier: see above)
  v128.store(dst, sb, 48);
  let za = f64x2.mul(sa, sa);
  let zb = f64x2.mul(sb, sb);
  let wa = f64x2.mul(za, za);
  let wb = f64x2.mul(zb, zb);
  let t1a = f64x2.mul(wa, f64x2.add(K(K_LG2), f64x2.mul(wa, f64x2.add(K(K_LG4), f64x2.mul(wa, K(K_LG6))))));
  let t1b = f64x2.mul(wb, f64x2.add(K(K_LG2), f64x2.mul(wb, f64x2.add(K(K_LG4), f64x2.mul(wb, K(K_LG6))))));
  let t2a = f64x2.mul(za, f64x2.add(K(K_LG1), f64x2.mul(wa, f64x2.add(K(K_LG3), f64x2.mul(wa, f64x2.add(K(K_LG5), f64x2.mul(wa, K(K_LG7))))))));
  let t2b = f64x2.mul(zb, f64x2.add(K(K_LG1), f64x2.mul(wb, f64x2.add(K(K_LG3), f64x2.mul(wb, f64x2.add(K(K_LG5), f64x2.mul(wb, K(K_LG7))))))));
  let ra = f64x2.add(t2a, t1a);
  let rb = f64x2.add(t2b, t1b);
  let acca = f64x2.add(f64x2.mul(sa, f64x2.add(hfsqa, ra)), f64x2.mul(dka, K(K_LN2_LO)));
  let accb = f64x2.add(f64x2.mul(sb, f64x2.add(hfsqb, rb)), f64x2.mul(dkb, K(K_LN2_LO)));
  acca = f64x2.add(f64x2.sub(acca, hfsqa), fa);
  accb = f64x2.add(f64x2.sub(accb, hfsqb), fb);
  let lga = f64x2.add(acca, f64x2.mul(dka, K(K_LN2_HI)));
  let lgb = f64x2.add(accb, f64x2.mul(dkb, K(K_LN2_HI)));
  let rada = f64x2.sqrt(f64x2.mul(lga, K(K_MINUS_TWO)));
  let radb = f64x2.sqrt(f64x2.mul(lgb, K(K_MINUS_TWO)));
  v128.store(dst, rada); // (barrier)
  v128.store(dst, radb, 16);
  let qa = f64x2.nearest(f64x2.mul(u2a, K(K_FOUR)));
  let qb = f64x2.nearest(f64x2.mul(u2b, K(K_FOUR)));
  let xa = f64x2.mul(K(K_TWO_PI), f64x2.sub(u2a, f64x2.mul(qa, K(K_QUARTER)))); // (a b = b a exactly)
  let xb = f64x2.mul(K(K_TWO_PI), f64x2.sub(u2b, f64x2.mul(qb, K(K_QUARTER))));
  v128.store(dst, xa, 32); // (barrier)
  v128.store(dst, xb, 48);
  let xza = f64x2.mul(xa, xa);
  let xzb = f64x2.mul(xb, xb);
  let xwa = f64x2.mul(xza, xza);
  let xwb = f64x2.mul(xzb, xzb);
  let sra = f64x2.add(f64x2.add(K(K_S2), f64x2.mul(xza, f64x2.add(K(K_S3), f64x2.mul(xza, K(K_S4))))), f64x2.mul(f64x2.mul(xza, xwa), f64x2.add(K(K_S5), f64x2.mul(xza, K(K_S6)))));
  let srb = f64x2.add(f64x2.add(K(K_S2), f64x2.mul(xzb, f64x2.add(K(K_S3), f64x2.mul(xzb, K(K_S4))))), f64x2.mul(f64x2.mul(xzb, xwb), f64x2.add(K(K_S5), f64x2.mul(xzb, K(K_S6)))));
  let sna = f64x2.add(xa, f64x2.mul(f64x2.mul(xza, xa), f64x2.add(K(K_S1), f64x2.mul(xza, sra))));
  let snb = f64x2.add(xb, f64x2.mul(f64x2.mul(xzb, xb), f64x2.add(K(K_S1), f64x2.mul(xzb, srb))));
  let cra = f64x2.add(f64x2.mul(xza, f64x2.add(K(K_C1), f64x2.mul(xza, f64x2.add(K(K_C2), f64x2.mul(xza, K(K_C3)))))), f64x2.mul(f64x2.mul(xwa, xwa), f64x2.add(K(K_C4), f64x2.mul(xza, f64x2.add(K(K_C5), f64x2.mul(xza, K(K_C6)))))));
  let crb = f64x2.add(f64x2.mul(xzb, f64x2.add(K(K_C1), f64x2.mul(xzb, f64x2.add(K(K_C2), f64x2.mul(xzb, K(K_C3)))))), f64x2.mul(f64x2.mul(xwb, xwb), f64x2.add(K(K_C4), f64x2.mul(xzb, f64x2.add(K(K_C5), f64x2.mul(xzb, K(K_C6)))))));
  let hza = f64x2.mul(K(K_HALF), xza);
  let hzb = f64x2.mul(K(K_HALF), xzb);
  let onehza = f64x2.sub(K(K_ONE), hza);
  let onehzb = f64x2.sub(K(K_ONE), hzb);
  let csa = f64x2.add(onehza, f64x2.add(f64x2.sub(f64x2.sub(K(K_ONE), onehza), hza), f64x2.mul(xza, cra)));
  let csb = f64x2.add(onehzb, f64x2.add(f64x2.sub(f64x2.sub(K(K_ONE), onehzb), hzb), f64x2.mul(xzb, crb)));
  v128.store(dst, csa, 32); // (barrier)
  v128.store(dst, csb, 48);
  let e1a = f64x2.eq(qa, K(K_ONE));
  let e1b = f64x2.eq(qb, K(K_ONE));
  let e2a = f64x2.eq(qa, K(K_TWO));
  let e2b = f64x2.eq(qb, K(K_TWO));
  let e3a = f64x2.eq(qa, K(K_THREE));
  let e3b = f64x2.eq(qb, K(K_THREE));
  let swapa = v128.or(e1a, e3a);
  let swapb = v128.or(e1b, e3b);
  let cqa = v128.xor(v128.bitselect(sna, csa, swapa), v128.and(v128.or(e1a, e2a), K(K_SIGN)));
  let cqb = v128.xor(v128.bitselect(snb, csb, swapb), v128.and(v128.or(e1b, e2b), K(K_SIGN)));
  let sqa = v128.xor(v128.bitselect(csa, sna, swapa), v128.and(v128.or(e2a, e3a), K(K_SIGN)));
  let sqb = v128.xor(v128.bitselect(csb, snb, swapb), v128.and(v128.or(e2b, e3b), K(K_SIGN)));
  let zca = f64x2.mul(rada, cqa);
  let zcb = f64x2.mul(radb, cqb);
  let zsa = f64x2.mul(rada, sqa);
  let zsb = f64x2.mul(radb, sqb);
  v128.store(dst, i64x2.shuffle(zca, zsa, 0, 2));
  v128.store(dst, i64x2.shuffle(zca, zsa, 1, 3), 16);
  v128.store(dst, i64x2.shuffle(zcb, zsb, 0, 2), 32);
  v128.store(dst, i64x2.shuffle(zcb, zsb, 1, 3), 48);
}

// ---- test kernels: expose the vector functions so their accuracy can be measured ----

const EDGE2: usize = memory.data(32, 16);

/** out[i] = log(x[i]) with the vector routine; a scalar tail goes through the same lanes. */
export function mathLog(xPtr: usize, outPtr: usize, n: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    v128.store(outPtr + (<usize>i << 3), vlog(v128.load(xPtr + (<usize>i << 3))));
  }
  if (i < n) {
    let x = load<f64>(xPtr + (<usize>i << 3));
    store<f64>(outPtr + (<usize>i << 3), f64x2.extract_lane(vlog(f64x2.splat(x)), 0));
  }
}

/**
 * Box–Muller on n pairs (u1[i], u2[i]) -> out[2i] (cos), out[2i+1] (sin): with pairs of
 * vectors through storeBoxMuller2 (dual = 1, what philoxFill runs) or one vector at a time
 * through storeBoxMuller (dual = 0), so a test can check that both give the same bits.
 */
export function mathBoxMuller(u1Ptr: usize, u2Ptr: usize, outPtr: usize, n: i32, dual: i32): void {
  let i = 0;
  if (dual != 0) {
    for (; i + 4 <= n; i += 4) {
      let p = <usize>i << 3;
      storeBoxMuller2(v128.load(u1Ptr + p), v128.load(u2Ptr + p), v128.load(u1Ptr + p, 16), v128.load(u2Ptr + p, 16),
        outPtr + (<usize>i << 4));
    }
  }
  for (; i + 2 <= n; i += 2) {
    storeBoxMuller(v128.load(u1Ptr + (<usize>i << 3)), v128.load(u2Ptr + (<usize>i << 3)), outPtr + (<usize>i << 4));
  }
  if (i < n) {
    storeBoxMuller(f64x2.splat(load<f64>(u1Ptr + (<usize>i << 3))), f64x2.splat(load<f64>(u2Ptr + (<usize>i << 3))), EDGE2);
    store<f64>(outPtr + (<usize>i << 4), load<f64>(EDGE2));
    store<f64>(outPtr + (<usize>i << 4) + 8, load<f64>(EDGE2 + 8));
  }
}

/** out[2i] = cos(2 pi u[i]), out[2i+1] = sin(2 pi u[i]) for u in [0, 1]. */
export function mathCosSin2Pi(uPtr: usize, outPtr: usize, n: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    storeCosSin2Pi(v128.load(uPtr + (<usize>i << 3)), K(K_ONE), outPtr + (<usize>i << 4));
  }
  if (i < n) {
    storeCosSin2Pi(f64x2.splat(load<f64>(uPtr + (<usize>i << 3))), K(K_ONE), EDGE2);
    store<f64>(outPtr + (<usize>i << 4), load<f64>(EDGE2));
    store<f64>(outPtr + (<usize>i << 4) + 8, load<f64>(EDGE2 + 8));
  }
}
