// Symmetric matrix-vector products and power iteration for the operator norm.

import { dot, dot4, scale, axpy } from './linalg';

/**
 * y = A x for a dim x dim row-major matrix. Four rows per pass share each load of x
 * (PERF-NOTES: the d = 512 matrix lives in L3, so the loop is bound by reading A).
 */
export function matvec(aPtr: usize, xPtr: usize, yPtr: usize, dim: i32): void {
  let rowBytes = <usize>dim << 3;
  let i = 0;
  for (; i + 4 <= dim; i += 4) {
    let r0 = aPtr + <usize>i * rowBytes;
    let out = yPtr + (<usize>i << 3);
    store<f64>(out, dot4(r0, r0 + rowBytes, r0 + 2 * rowBytes, r0 + 3 * rowBytes, xPtr, dim, out), 24);
  }
  for (; i < dim; i++) {
    store<f64>(yPtr + (<usize>i << 3), dot(aPtr + <usize>i * rowBytes, xPtr, dim));
  }
}

/** y = (A - B) x without forming A - B. */
export function matvecDiff(aPtr: usize, bPtr: usize, xPtr: usize, yPtr: usize, dim: i32): void {
  let rowBytes = <usize>dim << 3;
  for (let i = 0; i < dim; i++) {
    let a = aPtr + <usize>i * rowBytes;
    let b = bPtr + <usize>i * rowBytes;
    let acc = f64x2.splat(0);
    let j = 0;
    for (; j + 2 <= dim; j += 2) {
      let o = <usize>j << 3;
      acc = f64x2.add(acc, f64x2.mul(f64x2.sub(v128.load(a + o), v128.load(b + o)), v128.load(xPtr + o)));
    }
    let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
    if (j < dim) {
      let o = <usize>j << 3;
      s += (load<f64>(a + o) - load<f64>(b + o)) * load<f64>(xPtr + o);
    }
    store<f64>(yPtr + (<usize>i << 3), s);
  }
}

/**
 * Power iteration for ||S||_2 = max |lambda(S)| of a symmetric S = A (bPtr == 0) or
 * S = A - B. v (dim doubles) holds the start vector and is overwritten with the last
 * iterate; w is 2 dim doubles of scratch (S v, then the previous iterate). Writes
 * [value, iterations, converged] to outPtr.
 *
 * Estimate theta_k = ||S v_k|| with v_k a unit vector: the square root of the Rayleigh
 * quotient of S^2, which converges at the rate (lambda_2 / lambda_1)^2 per step.
 * Stopping rule: with successive changes D_k = |theta_k - theta_{k-1}| and observed rate
 * q = D_k / D_{k-1}, the remaining error of a geometric sequence is about D_k q / (1 - q);
 * from the third iterate on, the iteration stops when max(D_k, D_k q / (1 - q)) <= tol * theta_k.
 * When the changes do not shrink (q >= 1) it stops only once D_k itself is within
 * tol * theta_k; D_k = 0 (a fixed point) stops at once.
 * Either way it also needs the residual bound: with v_k = S v_{k-1} / theta_{k-1},
 * res = ||S v_k - theta_{k-1} v_{k-1}|| = ||S^2 v_{k-1} - theta_{k-1}^2 v_{k-1}|| / theta_{k-1},
 * so some eigenvalue of S^2 lies within theta_{k-1} res of theta_{k-1}^2, and so some |lambda|
 * within res of theta_{k-1}; it must be <= tol * theta_{k-1} (plus a rounding floor of
 * 8 dim eps theta). The rate alone is fooled by a near-degenerate top: eigenvalues 5 and
 * 5 - 1e-6 stopped at 4.9999995 with tol 1e-9 (issue 7); the residual is not.
 */
export function powerIteration(
  aPtr: usize, bPtr: usize, dim: i32, vPtr: usize, wPtr: usize,
  tol: f64, maxIter: i32, outPtr: usize,
): void {
  let norm = Math.sqrt(dot(vPtr, vPtr, dim));
  let theta = 0.0;
  let prevTheta = 0.0;
  let prevDelta = Infinity;
  let converged = 0;
  let it = 0;
  if (norm == 0) {
    converged = 1; // only a zero start vector: the caller never passes one
  } else {
    scale(1.0 / norm, vPtr, dim);
    let prevPtr = wPtr + (<usize>dim << 3); // v_{k-1}
    let floor = 8.0 * <f64>dim * f64.EPSILON;
    while (it < maxIter) {
      it++;
      if (bPtr == 0) matvec(aPtr, vPtr, wPtr, dim);
      else matvecDiff(aPtr, bPtr, vPtr, wPtr, dim);
      theta = Math.sqrt(dot(wPtr, wPtr, dim));
      if (theta == 0) { converged = 1; break; } // S v = 0 for a random v: S = 0
      let resOk = false;
      if (it > 1) { // res = ||S v_k - theta_{k-1} v_{k-1}||
        let r2 = 0.0;
        for (let i = 0; i < dim; i++) {
          let e = load<f64>(wPtr + (<usize>i << 3)) - prevTheta * load<f64>(prevPtr + (<usize>i << 3));
          r2 += e * e;
        }
        resOk = Math.sqrt(r2) <= tol * prevTheta + floor * theta;
      }
      memory.copy(prevPtr, vPtr, <usize>dim << 3);
      scale(1.0 / theta, wPtr, dim);
      memory.copy(vPtr, wPtr, <usize>dim << 3);
      if (it > 1) {
        let delta = Math.abs(theta - prevTheta);
        if (delta == 0 && resOk) { converged = 1; break; } // a fixed point (e.g. an eigenvector start)
        if (prevDelta < Infinity && delta > 0) { // the rate needs two changes: from the third iterate on
          let err = delta;
          if (delta < prevDelta) {
            let q = delta / prevDelta;
            err = max(delta, delta * q / (1.0 - q));
          }
          if (err <= tol * theta && resOk) { converged = 1; break; }
        }
        if (delta > 0) prevDelta = delta;
      }
      prevTheta = theta;
    }
  }
  store<f64>(outPtr, theta);
  store<f64>(outPtr, <f64>it, 8);
  store<f64>(outPtr, <f64>converged, 16);
}

/**
 * One Lanczos step with full reorthogonalisation on S = A (bPtr == 0) or A - B.
 * basis: rows v_0 .. v_k (dim doubles each, orthonormal); writes v_{k+1} after them.
 * w = S v_k; alpha = v_k' w; w is orthogonalised against v_0 .. v_k twice (modified
 * Gram–Schmidt, "twice is enough"); beta = ||w||; v_{k+1} = w / beta (left as 0 when
 * beta = 0: the Krylov space is invariant). Writes [alpha, beta] to outPtr.
 */
export function lanczosStep(aPtr: usize, bPtr: usize, dim: i32, basisPtr: usize, k: i32, outPtr: usize): void {
  let rowBytes = <usize>dim << 3;
  let vk = basisPtr + <usize>k * rowBytes;
  let w = vk + rowBytes;
  if (bPtr == 0) matvec(aPtr, vk, w, dim);
  else matvecDiff(aPtr, bPtr, vk, w, dim);
  let alpha = dot(vk, w, dim);
  for (let pass = 0; pass < 2; pass++) {
    for (let j = k; j >= 0; j--) { // newest first: removes the large components early
      let vj = basisPtr + <usize>j * rowBytes;
      axpy(-dot(vj, w, dim), vj, w, dim);
    }
  }
  let beta = Math.sqrt(dot(w, w, dim));
  if (beta > 0) scale(1.0 / beta, w, dim);
  store<f64>(outPtr, alpha);
  store<f64>(outPtr, beta, 8);
}
