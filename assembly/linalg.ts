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
