// Cholesky factorisation of a symmetric positive-definite matrix plus a ridge, A + ridge I = L L',
// in place on a dim x dim row-major matrix, and the triangular solves with L and L'.
// Row-oriented (Cholesky–Banachiewicz): every inner product runs along two rows of L, which
// are contiguous in row-major storage, so the SIMD `dot` of linalg.ts does the work; the
// backward solve with L' is written as axpys along rows of L for the same reason.

import { dot, axpy } from './linalg';

/**
 * Overwrites the lower triangle (diagonal included) of the dim x dim row-major matrix at aPtr
 * with L, where A + ridge I = L L'; reads only the lower triangle of A; leaves the strict
 * upper triangle untouched. Returns -1 on success, or the index of the first pivot that is
 * not positive (or NaN), whose value (A_ii + ridge - sum_k L_ik^2) is stored at pivotPtr;
 * rows from that index on are then partly overwritten.
 */
export function choleskyFactor(aPtr: usize, dim: i32, ridge: f64, pivotPtr: usize): i32 {
  let rowBytes = <usize>dim << 3;
  for (let i = 0; i < dim; i++) {
    let ri = aPtr + <usize>i * rowBytes;
    for (let j = 0; j < i; j++) {
      let rj = aPtr + <usize>j * rowBytes;
      let o = <usize>j << 3;
      let s = load<f64>(ri + o) - dot(ri, rj, j);
      store<f64>(ri + o, s / load<f64>(rj + o));
    }
    let o = <usize>i << 3;
    let p = load<f64>(ri + o) + ridge - dot(ri, ri, i);
    if (!(p > 0)) {
      store<f64>(pivotPtr, p);
      return i;
    }
    store<f64>(ri + o, Math.sqrt(p));
  }
  return -1;
}

/** Forward substitution in place: x <- L^-1 x (L lower triangular, row-major, from choleskyFactor). */
export function choleskyForward(lPtr: usize, dim: i32, xPtr: usize): void {
  let rowBytes = <usize>dim << 3;
  for (let i = 0; i < dim; i++) {
    let ri = lPtr + <usize>i * rowBytes;
    let o = <usize>i << 3;
    store<f64>(xPtr + o, (load<f64>(xPtr + o) - dot(ri, xPtr, i)) / load<f64>(ri + o));
  }
}

/**
 * Backward substitution in place: x <- L'^-1 x. Column i of L' is row i of L, so once x_i is
 * final, x[0..i) -= x_i * L[i, 0..i) is one contiguous axpy.
 */
export function choleskyBackward(lPtr: usize, dim: i32, xPtr: usize): void {
  let rowBytes = <usize>dim << 3;
  for (let i = dim - 1; i >= 0; i--) {
    let ri = lPtr + <usize>i * rowBytes;
    let o = <usize>i << 3;
    let xi = load<f64>(xPtr + o) / load<f64>(ri + o);
    store<f64>(xPtr + o, xi);
    axpy(-xi, ri, xPtr, i);
  }
}

/** x <- (L L')^-1 x: both solves, in place. */
export function choleskySolve(lPtr: usize, dim: i32, xPtr: usize): void {
  choleskyForward(lPtr, dim, xPtr);
  choleskyBackward(lPtr, dim, xPtr);
}
