// Small dense vector helpers shared by the kernels: f64x2 main loop, scalar tail.

/** sum_i a[i] * b[i] over n doubles. Two accumulators; lanes combined once at the end. */
// @ts-ignore: decorator
@inline export function dot(aPtr: usize, bPtr: usize, n: i32): f64 {
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let o = <usize>i << 3;
    acc0 = f64x2.add(acc0, f64x2.mul(v128.load(aPtr + o), v128.load(bPtr + o)));
    acc1 = f64x2.add(acc1, f64x2.mul(v128.load(aPtr + o, 16), v128.load(bPtr + o, 16)));
  }
  if (i + 2 <= n) {
    let o = <usize>i << 3;
    acc0 = f64x2.add(acc0, f64x2.mul(v128.load(aPtr + o), v128.load(bPtr + o)));
    i += 2;
  }
  acc0 = f64x2.add(acc0, acc1);
  let s = f64x2.extract_lane(acc0, 0) + f64x2.extract_lane(acc0, 1);
  if (i < n) s += load<f64>(aPtr + (<usize>i << 3)) * load<f64>(bPtr + (<usize>i << 3));
  return s;
}

/**
 * Four dot products a_k . b (k = 0..3) sharing the loads of b: out[0..2] = the first
 * three, the fourth is returned (one f64x2 accumulator per row).
 */
// @ts-ignore: decorator
@inline export function dot4(a0: usize, a1: usize, a2: usize, a3: usize, bPtr: usize, n: i32, outPtr: usize): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    let o = <usize>i << 3;
    let b = v128.load(bPtr + o);
    s0 = f64x2.add(s0, f64x2.mul(v128.load(a0 + o), b));
    s1 = f64x2.add(s1, f64x2.mul(v128.load(a1 + o), b));
    s2 = f64x2.add(s2, f64x2.mul(v128.load(a2 + o), b));
    s3 = f64x2.add(s3, f64x2.mul(v128.load(a3 + o), b));
  }
  let r0 = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
  let r1 = f64x2.extract_lane(s1, 0) + f64x2.extract_lane(s1, 1);
  let r2 = f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1);
  let r3 = f64x2.extract_lane(s3, 0) + f64x2.extract_lane(s3, 1);
  if (i < n) {
    let o = <usize>i << 3;
    let b = load<f64>(bPtr + o);
    r0 += load<f64>(a0 + o) * b;
    r1 += load<f64>(a1 + o) * b;
    r2 += load<f64>(a2 + o) * b;
    r3 += load<f64>(a3 + o) * b;
  }
  store<f64>(outPtr, r0);
  store<f64>(outPtr, r1, 8);
  store<f64>(outPtr, r2, 16);
  return r3;
}

/** y[i] += a * x[i] over n doubles. */
// @ts-ignore: decorator
@inline export function axpy(a: f64, xPtr: usize, yPtr: usize, n: i32): void {
  let av = f64x2.splat(a);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    let o = <usize>i << 3;
    v128.store(yPtr + o, f64x2.add(v128.load(yPtr + o), f64x2.mul(av, v128.load(xPtr + o))));
  }
  if (i < n) {
    let o = <usize>i << 3;
    store<f64>(yPtr + o, load<f64>(yPtr + o) + a * load<f64>(xPtr + o));
  }
}

/** x[i] *= a over n doubles. */
// @ts-ignore: decorator
@inline export function scale(a: f64, xPtr: usize, n: i32): void {
  let av = f64x2.splat(a);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    let o = <usize>i << 3;
    v128.store(xPtr + o, f64x2.mul(av, v128.load(xPtr + o)));
  }
  if (i < n) {
    let o = <usize>i << 3;
    store<f64>(xPtr + o, a * load<f64>(xPtr + o));
  }
}

/**
 * Index of the first non-finite value (NaN or +-Infinity) among n doubles at xPtr, or -1.
 * x - x is 0 for finite x and NaN otherwise; eight values per pass (four f64x2 masks or-ed),
 * so the scan runs at memory bandwidth.
 */
export function firstNonFinite(xPtr: usize, n: i32): i32 {
  let zero = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    let p = xPtr + (<usize>i << 3);
    let a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    let bad = v128.or(v128.or(f64x2.ne(f64x2.sub(a, a), zero), f64x2.ne(f64x2.sub(b, b), zero)),
      v128.or(f64x2.ne(f64x2.sub(c, c), zero), f64x2.ne(f64x2.sub(d, d), zero)));
    if (v128.any_true(bad)) break;
  }
  for (; i < n; i++) {
    let v = load<f64>(xPtr + (<usize>i << 3));
    if (v - v != 0) return i;
  }
  return -1;
}
