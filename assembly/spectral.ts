// Symmetric matrix-vector products, power iteration and Lanczos for the operator norm and
// the extreme eigenvalues. The TS wrapper (src/spectral/spectral.ts) copies the matrix in, checks
// symmetry and finiteness with matrixInfo, scales it by a power of two and, for A - B,
// forms the difference once (matSub); the iterations then read only the upper triangle.

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

/**
 * y = S x for a symmetric S given by its upper triangle (row-major dim x dim; entries below
 * the diagonal are never read). Each entry a_ij (j > i) is read once and used twice:
 * y_i += a_ij x_j and y_j += a_ij x_i, so the loop reads half the matrix that matvec reads
 * (the d = 512 matrix is bound by memory traffic, PERF-NOTES). Four rows per pass share
 * the loads and stores of y_j: 4 accumulators, 4 broadcasts of x_i, 4 loads of a, x_j and
 * y_j = 14 XMM registers.
 */
export function symMatvec(aPtr: usize, xPtr: usize, yPtr: usize, dim: i32): void {
  let rowBytes = <usize>dim << 3;
  memory.fill(yPtr, 0, rowBytes);
  let i = 0;
  for (; i + 4 <= dim; i += 4) {
    let r0 = aPtr + <usize>i * rowBytes;
    let r1 = r0 + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes;
    let xi = xPtr + (<usize>i << 3);
    let x0 = load<f64>(xi), x1 = load<f64>(xi, 8), x2 = load<f64>(xi, 16), x3 = load<f64>(xi, 24);
    // the 4 x 4 diagonal block (upper part mirrored), scalar
    let a01 = load<f64>(r0 + (<usize>(i + 1) << 3)), a02 = load<f64>(r0 + (<usize>(i + 2) << 3)), a03 = load<f64>(r0 + (<usize>(i + 3) << 3));
    let a12 = load<f64>(r1 + (<usize>(i + 2) << 3)), a13 = load<f64>(r1 + (<usize>(i + 3) << 3));
    let a23 = load<f64>(r2 + (<usize>(i + 3) << 3));
    let y0 = load<f64>(r0 + (<usize>i << 3)) * x0 + a01 * x1 + a02 * x2 + a03 * x3;
    let y1 = a01 * x0 + load<f64>(r1 + (<usize>(i + 1) << 3)) * x1 + a12 * x2 + a13 * x3;
    let y2 = a02 * x0 + a12 * x1 + load<f64>(r2 + (<usize>(i + 2) << 3)) * x2 + a23 * x3;
    let y3 = a03 * x0 + a13 * x1 + a23 * x2 + load<f64>(r3 + (<usize>(i + 3) << 3)) * x3;
    // columns j >= i + 4: two at a time, then one
    let b0 = f64x2.splat(x0), b1 = f64x2.splat(x1), b2 = f64x2.splat(x2), b3 = f64x2.splat(x3);
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
    let j = i + 4;
    for (; j + 2 <= dim; j += 2) {
      let o = <usize>j << 3;
      let xj = v128.load(xPtr + o);
      let c0 = v128.load(r0 + o), c1 = v128.load(r1 + o), c2 = v128.load(r2 + o), c3 = v128.load(r3 + o);
      s0 = f64x2.add(s0, f64x2.mul(c0, xj));
      s1 = f64x2.add(s1, f64x2.mul(c1, xj));
      s2 = f64x2.add(s2, f64x2.mul(c2, xj));
      s3 = f64x2.add(s3, f64x2.mul(c3, xj));
      let yj = v128.load(yPtr + o);
      yj = f64x2.add(yj, f64x2.add(f64x2.add(f64x2.mul(c0, b0), f64x2.mul(c1, b1)), f64x2.add(f64x2.mul(c2, b2), f64x2.mul(c3, b3))));
      v128.store(yPtr + o, yj);
    }
    if (j < dim) {
      let o = <usize>j << 3;
      let xj = load<f64>(xPtr + o);
      let c0 = load<f64>(r0 + o), c1 = load<f64>(r1 + o), c2 = load<f64>(r2 + o), c3 = load<f64>(r3 + o);
      y0 += c0 * xj; y1 += c1 * xj; y2 += c2 * xj; y3 += c3 * xj;
      store<f64>(yPtr + o, load<f64>(yPtr + o) + ((c0 * x0 + c1 * x1) + (c2 * x2 + c3 * x3)));
    }
    let yi = yPtr + (<usize>i << 3);
    store<f64>(yi, load<f64>(yi) + y0 + f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1));
    store<f64>(yi, load<f64>(yi, 8) + y1 + f64x2.extract_lane(s1, 0) + f64x2.extract_lane(s1, 1), 8);
    store<f64>(yi, load<f64>(yi, 16) + y2 + f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1), 16);
    store<f64>(yi, load<f64>(yi, 24) + y3 + f64x2.extract_lane(s3, 0) + f64x2.extract_lane(s3, 1), 24);
  }
  // the last dim % 4 rows: at most 3, scalar
  for (; i < dim; i++) {
    let r = aPtr + <usize>i * rowBytes;
    let xi = load<f64>(xPtr + (<usize>i << 3));
    let s = load<f64>(r + (<usize>i << 3)) * xi;
    for (let j = i + 1; j < dim; j++) {
      let o = <usize>j << 3;
      let a = load<f64>(r + o);
      s += a * load<f64>(xPtr + o);
      store<f64>(yPtr + o, load<f64>(yPtr + o) + a * xi);
    }
    store<f64>(yPtr + (<usize>i << 3), load<f64>(yPtr + (<usize>i << 3)) + s);
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
 * Checks a dim x dim matrix in one pass over 4 x 4 blocks of its upper triangle and their
 * mirror blocks (transposed in registers). Writes [max |a_ij|, max |a_ij - a_ji|] to
 * outPtr; both are NaN when any entry is NaN or infinite (x - x is NaN exactly for those).
 * O(dim^2).
 */
export function matrixInfo(aPtr: usize, dim: i32, outPtr: usize): void {
  let n = <usize>dim;
  let n4 = n & ~(<usize>3);
  let row = n << 3;
  let mx = f64x2.splat(0), asym = f64x2.splat(0), bad = f64x2.splat(0);
  for (let ib: usize = 0; ib < n4; ib += 4) {
    for (let jb = ib; jb < n4; jb += 4) {
      let u = aPtr + ib * row + (jb << 3); // rows ib.., columns jb..
      let l = aPtr + jb * row + (ib << 3); // rows jb.., columns ib..
      for (let h: usize = 0; h < 2; h++) { // column pairs jb + 2h, jb + 2h + 1 of the upper block
        let l0 = v128.load(l + (2 * h) * row), l1 = v128.load(l + (2 * h + 1) * row);
        let l0b = v128.load(l + (2 * h) * row, 16), l1b = v128.load(l + (2 * h + 1) * row, 16);
        let u0 = v128.load(u + (h << 4)), u1 = v128.load(u + row + (h << 4));
        let u2 = v128.load(u + 2 * row + (h << 4)), u3 = v128.load(u + 3 * row + (h << 4));
        // mirror of upper row r, columns jb+2h..+1 = lower rows jb+2h..+1, column ib + r
        let d0 = f64x2.sub(u0, i64x2.shuffle(l0, l1, 0, 2));
        let d1 = f64x2.sub(u1, i64x2.shuffle(l0, l1, 1, 3));
        let d2 = f64x2.sub(u2, i64x2.shuffle(l0b, l1b, 0, 2));
        let d3 = f64x2.sub(u3, i64x2.shuffle(l0b, l1b, 1, 3));
        asym = f64x2.pmax(asym, f64x2.pmax(f64x2.pmax(f64x2.abs(d0), f64x2.abs(d1)), f64x2.pmax(f64x2.abs(d2), f64x2.abs(d3))));
        mx = f64x2.pmax(mx, f64x2.pmax(f64x2.pmax(f64x2.abs(u0), f64x2.abs(u1)), f64x2.pmax(f64x2.abs(u2), f64x2.abs(u3))));
        mx = f64x2.pmax(mx, f64x2.pmax(f64x2.pmax(f64x2.abs(l0), f64x2.abs(l1)), f64x2.pmax(f64x2.abs(l0b), f64x2.abs(l1b))));
        bad = f64x2.add(bad, f64x2.add(f64x2.add(f64x2.sub(u0, u0), f64x2.sub(u1, u1)), f64x2.add(f64x2.sub(u2, u2), f64x2.sub(u3, u3))));
        bad = f64x2.add(bad, f64x2.add(f64x2.add(f64x2.sub(l0, l0), f64x2.sub(l1, l1)), f64x2.add(f64x2.sub(l0b, l0b), f64x2.sub(l1b, l1b))));
      }
    }
  }
  let maxAbs = max(f64x2.extract_lane(mx, 0), f64x2.extract_lane(mx, 1));
  let maxAsym = max(f64x2.extract_lane(asym, 0), f64x2.extract_lane(asym, 1));
  let sum = f64x2.extract_lane(bad, 0) + f64x2.extract_lane(bad, 1);
  // the last n - n4 rows (and with them their mirror columns), scalar
  for (let i = n4; i < n; i++) {
    for (let j: usize = 0; j < n; j++) {
      let a = load<f64>(aPtr + ((i * n + j) << 3));
      let b = load<f64>(aPtr + ((j * n + i) << 3));
      sum += (a - a) + (b - b);
      maxAbs = max(maxAbs, max(abs(a), abs(b)));
      maxAsym = max(maxAsym, abs(a - b));
    }
  }
  if (sum != 0 || !isFinite(maxAbs)) { maxAbs = NaN; maxAsym = NaN; } // sum is 0 or NaN
  store<f64>(outPtr, maxAbs);
  store<f64>(outPtr, maxAsym, 8);
}

/**
 * Prepares a checked matrix for the iterations: every entry times f1 then f2 (a power of
 * two, exact), and each off-diagonal pair replaced by its mean (the symmetric part
 * (A + A')/2; the halves are taken after scaling, so the sum cannot overflow). In 4 x 4
 * blocks of the upper triangle and their mirrors, transposed in registers. O(dim^2).
 */
export function symPrepare(aPtr: usize, dim: i32, f1: f64, f2: f64): void {
  let n = <usize>dim;
  let n4 = n & ~(<usize>3);
  let row = n << 3;
  let v1 = f64x2.splat(f1), v2 = f64x2.splat(f2 * 0.5);
  for (let ib: usize = 0; ib < n4; ib += 4) {
    // the diagonal block: scalar (its mirror is itself, so the vector path would scale twice)
    for (let i = ib; i < ib + 4; i++) {
      for (let j = i; j < ib + 4; j++) {
        let pij = aPtr + ((i * n + j) << 3);
        let pji = aPtr + ((j * n + i) << 3);
        let v = i == j ? (load<f64>(pij) * f1) * f2 : (load<f64>(pij) * f1) * (f2 * 0.5) + (load<f64>(pji) * f1) * (f2 * 0.5);
        store<f64>(pij, v);
        store<f64>(pji, v);
      }
    }
    for (let jb = ib + 4; jb < n4; jb += 4) {
      let u = aPtr + ib * row + (jb << 3);
      let l = aPtr + jb * row + (ib << 3);
      for (let h: usize = 0; h < 2; h++) {
        let pl0 = l + (2 * h) * row, pl1 = pl0 + row;
        let l0 = v128.load(pl0), l1 = v128.load(pl1), l0b = v128.load(pl0, 16), l1b = v128.load(pl1, 16);
        let pu = u + (h << 4);
        let u0 = v128.load(pu), u1 = v128.load(pu + row), u2 = v128.load(pu + 2 * row), u3 = v128.load(pu + 3 * row);
        // (x f1) (f2 / 2) for both halves, then the mean: exact scaling, one rounding
        let m0 = f64x2.add(f64x2.mul(f64x2.mul(u0, v1), v2), f64x2.mul(f64x2.mul(i64x2.shuffle(l0, l1, 0, 2), v1), v2));
        let m1 = f64x2.add(f64x2.mul(f64x2.mul(u1, v1), v2), f64x2.mul(f64x2.mul(i64x2.shuffle(l0, l1, 1, 3), v1), v2));
        let m2 = f64x2.add(f64x2.mul(f64x2.mul(u2, v1), v2), f64x2.mul(f64x2.mul(i64x2.shuffle(l0b, l1b, 0, 2), v1), v2));
        let m3 = f64x2.add(f64x2.mul(f64x2.mul(u3, v1), v2), f64x2.mul(f64x2.mul(i64x2.shuffle(l0b, l1b, 1, 3), v1), v2));
        v128.store(pu, m0); v128.store(pu + row, m1); v128.store(pu + 2 * row, m2); v128.store(pu + 3 * row, m3);
        // transpose back into the lower block: lower row jb+2h (+1) = column jb+2h (+1) of m
        v128.store(pl0, i64x2.shuffle(m0, m1, 0, 2)); v128.store(pl0, i64x2.shuffle(m2, m3, 0, 2), 16);
        v128.store(pl1, i64x2.shuffle(m0, m1, 1, 3)); v128.store(pl1, i64x2.shuffle(m2, m3, 1, 3), 16);
      }
    }
  }
  // the last n - n4 rows and their mirror columns, scalar
  let h2 = f2 * 0.5;
  for (let i = n4; i < n; i++) {
    for (let j: usize = 0; j <= i; j++) {
      let pij = aPtr + ((i * n + j) << 3);
      let pji = aPtr + ((j * n + i) << 3);
      let v = i == j ? (load<f64>(pij) * f1) * f2 : (load<f64>(pij) * f1) * h2 + (load<f64>(pji) * f1) * h2;
      store<f64>(pij, v);
      store<f64>(pji, v);
    }
  }
}

/** a[i] -= b[i] over n doubles. */
export function matSub(aPtr: usize, bPtr: usize, n: usize): void {
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    let o = i << 3;
    v128.store(aPtr + o, f64x2.sub(v128.load(aPtr + o), v128.load(bPtr + o)));
  }
  if (i < n) store<f64>(aPtr + (i << 3), load<f64>(aPtr + (i << 3)) - load<f64>(bPtr + (i << 3)));
}

/**
 * Power iteration for ||S||_2 = max |lambda(S)| of a symmetric S = A (bPtr == 0) or
 * S = A - B. v (dim doubles) holds the start vector and is overwritten with the last
 * iterate; w is 2 dim doubles of scratch (S v, then the previous iterate). Writes
 * [value, iterations, converged] to outPtr. With bPtr == 0 the product reads only the
 * upper triangle of A (symMatvec; the wrapper has checked symmetry).
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
      if (bPtr == 0) symMatvec(aPtr, vPtr, wPtr, dim);
      else matvecDiff(aPtr, bPtr, vPtr, wPtr, dim);
      theta = Math.sqrt(dot(wPtr, wPtr, dim));
      if (theta == 0) { converged = 1; break; } // S v = 0 for a random v: S = 0
      if (!isFinite(theta)) break; // never reported as converged (the wrapper scales first)
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
 * Lanczos steps from..to-1 with full reorthogonalisation on the symmetric S given by the
 * upper triangle of aPtr. basis: rows v_0 .. v_from (dim doubles each, orthonormal; at
 * least to + 1 rows of room). Step k: w = S v_k, alpha_k = v_k' w, w -= alpha_k v_k +
 * beta_{k-1} v_{k-1} (the three-term recurrence), then w is orthogonalised against
 * v_0 .. v_k by classical Gram–Schmidt (coefficients h = V' w for four basis rows per pass,
 * then w -= V h), and a second pass runs only when that removed most of the norm (||w||
 * below 1/sqrt(2) of its value before: the DGKS test of ARPACK and Spectra);
 * beta_k = ||w||, v_{k+1} = w / beta_k. alpha_k and beta_k go to
 * alphaPtr[k], betaPtr[k]; hPtr is `to` doubles of scratch.
 *
 * Returns the step count reached: `to`, or k + 1 after a step whose beta_k is at
 * rounding level (<= 8 eps times the largest |alpha|, beta seen): the Krylov space is
 * invariant and T's eigenvalues are exact, so the caller stops (v_{k+1} is left as is).
 */
export function lanczosSteps(aPtr: usize, dim: i32, basisPtr: usize, from: i32, to: i32,
  alphaPtr: usize, betaPtr: usize, hPtr: usize): i32 {
  let rowBytes = <usize>dim << 3;
  let tnorm = 0.0;
  for (let j = 0; j < from; j++) {
    tnorm = max(tnorm, max(abs(load<f64>(alphaPtr + (<usize>j << 3))), load<f64>(betaPtr + (<usize>j << 3))));
  }
  for (let k = from; k < to; k++) {
    let vk = basisPtr + <usize>k * rowBytes;
    let w = vk + rowBytes;
    symMatvec(aPtr, vk, w, dim);
    let alpha = dot(vk, w, dim);
    // the three-term recurrence first, so that the DGKS test sees only what full
    // reorthogonalisation removes (measured against ||S v_k|| it fired at every other step)
    axpy(-alpha, vk, w, dim);
    if (k > 0) axpy(-load<f64>(betaPtr + (<usize>(k - 1) << 3)), vk - rowBytes, w, dim);
    let before = Math.sqrt(dot(w, w, dim));
    let after = gramSchmidt(basisPtr, k + 1, w, dim, hPtr);
    if (after < 0.7071067811865476 * before) after = gramSchmidt(basisPtr, k + 1, w, dim, hPtr);
    let beta = after;
    if (beta > 0) scale(1.0 / beta, w, dim);
    store<f64>(alphaPtr + (<usize>k << 3), alpha);
    store<f64>(betaPtr + (<usize>k << 3), beta);
    tnorm = max(tnorm, max(abs(alpha), beta));
    if (beta <= 8.0 * f64.EPSILON * tnorm) return k + 1;
  }
  return to;
}

/**
 * One classical Gram–Schmidt pass: w -= V h with h = V' w over the first `rows` basis
 * rows; four rows per pass share the loads of w. Returns ||w|| afterwards.
 */
function gramSchmidt(basisPtr: usize, rows: i32, w: usize, dim: i32, hPtr: usize): f64 {
  let rowBytes = <usize>dim << 3;
  let j = 0;
  for (; j + 4 <= rows; j += 4) {
    let v0 = basisPtr + <usize>j * rowBytes;
    let out = hPtr + (<usize>j << 3);
    store<f64>(out, dot4(v0, v0 + rowBytes, v0 + 2 * rowBytes, v0 + 3 * rowBytes, w, dim, out), 24);
  }
  for (; j < rows; j++) store<f64>(hPtr + (<usize>j << 3), dot(basisPtr + <usize>j * rowBytes, w, dim));
  j = 0;
  for (; j + 4 <= rows; j += 4) {
    let v0 = basisPtr + <usize>j * rowBytes;
    let hp = hPtr + (<usize>j << 3);
    axpy4(-load<f64>(hp), -load<f64>(hp, 8), -load<f64>(hp, 16), -load<f64>(hp, 24),
      v0, v0 + rowBytes, v0 + 2 * rowBytes, v0 + 3 * rowBytes, w, dim);
  }
  for (; j < rows; j++) axpy(-load<f64>(hPtr + (<usize>j << 3)), basisPtr + <usize>j * rowBytes, w, dim);
  return Math.sqrt(dot(w, w, dim));
}

/** y += c0 x0 + c1 x1 + c2 x2 + c3 x3 over n doubles (one load and store of y per pair). */
// @ts-ignore: decorator
@inline function axpy4(c0: f64, c1: f64, c2: f64, c3: f64, x0: usize, x1: usize, x2: usize, x3: usize, yPtr: usize, n: i32): void {
  let b0 = f64x2.splat(c0), b1 = f64x2.splat(c1), b2 = f64x2.splat(c2), b3 = f64x2.splat(c3);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    let o = <usize>i << 3;
    let s = f64x2.add(f64x2.add(f64x2.mul(b0, v128.load(x0 + o)), f64x2.mul(b1, v128.load(x1 + o))),
      f64x2.add(f64x2.mul(b2, v128.load(x2 + o)), f64x2.mul(b3, v128.load(x3 + o))));
    v128.store(yPtr + o, f64x2.add(v128.load(yPtr + o), s));
  }
  if (i < n) {
    let o = <usize>i << 3;
    store<f64>(yPtr + o, load<f64>(yPtr + o) + ((c0 * load<f64>(x0 + o) + c1 * load<f64>(x1 + o)) + (c2 * load<f64>(x2 + o) + c3 * load<f64>(x3 + o))));
  }
}

// ---- extreme Ritz values of the Lanczos tridiagonal T_k, in wasm (called between runs of steps) ----

/** p'/p and -(p'/p)' at the last point passed to pivots() (module globals: no allocation). */
let passG: f64 = 0;
let passH: f64 = 0;

/**
 * The LDL' pivots of sgn T - x I (T: diagonal alpha, off-diagonal beta, order k): returns
 * how many are negative (the Sturm count: eigenvalues of sgn T below x) and leaves, for
 * p = det(sgn T - x I) = prod d_i, G = p'/p = sum d_i'/d_i in passG and
 * H = G^2 - p''/p = sum (d_i'/d_i)^2 - d_i''/d_i in passH (Laguerre's iteration needs both).
 * Recurrences: d_i = sgn alpha_i - x - beta_{i-1}^2 / d_{i-1},
 * d_i' = -1 + beta_{i-1}^2 d_{i-1}' / d_{i-1}^2,
 * d_i'' = beta_{i-1}^2 (d_{i-1}'' / d_{i-1}^2 - 2 d_{i-1}'^2 / d_{i-1}^3). A zero pivot is
 * replaced by -tiny, as in a Sturm count. One division per row.
 */
function pivots(alphaPtr: usize, betaPtr: usize, k: i32, sgn: f64, x: f64, tiny: f64): i32 {
  let d = sgn * load<f64>(alphaPtr) - x;
  if (d == 0) d = -tiny;
  let dp = -1.0, dpp = 0.0;
  let inv = 1.0 / d;
  let r = dp * inv;
  let g = r, h = r * r;
  let count = select<i32>(1, 0, d < 0);
  for (let i = 1; i < k; i++) {
    let b = load<f64>(betaPtr + (<usize>(i - 1) << 3));
    let q = (b * b) * inv;
    let qi = q * inv;
    dpp = qi * (dpp - 2.0 * dp * dp * inv);
    dp = -1.0 + qi * dp;
    d = sgn * load<f64>(alphaPtr + (<usize>i << 3)) - x - q;
    if (d == 0) d = -tiny;
    inv = 1.0 / d;
    r = dp * inv;
    g += r;
    h += r * r - dpp * inv;
    count += select<i32>(1, 0, d < 0);
  }
  passG = g;
  passH = h;
  return count;
}

/**
 * The largest eigenvalue of sgn T (order k >= 2). Safeguarded Laguerre iteration on
 * p = det(sgn T - x I) from the right: p has only real roots, so from above the largest
 * one every Laguerre iterate stays above it and converges to it (cubically; and in a few
 * steps even from the Gershgorin bound, where Newton crawls). A Sturm count at each point
 * keeps the bracket [lo, hi] (hi: no eigenvalue above; lo: at least one above); when
 * rounding puts an iterate just below the root, the next step starts there (exactly one
 * eigenvalue above it: the step moves right). A step that would leave the bracket or move
 * outwards, or a run of slow steps (near-equal top eigenvalues), bisects instead. lo0 must lie at
 * or below the root (the previous check's Ritz value: the eigenvalues of T_k interlace
 * those of T_k', k' < k); hi0 is a guess above it, checked (the Gershgorin bound
 * otherwise). Stops when an inward step is below eps ||T||, or the bracket is. Warm-started
 * near the root: two to four O(k) passes.
 */
function ritzTop(alphaPtr: usize, betaPtr: usize, k: i32, sgn: f64, lo0: f64, hi0: f64, gersh: f64, tnorm: f64): f64 {
  let tiny = f64.EPSILON * tnorm;
  let floor = f64.EPSILON * tnorm;
  let lo = lo0, hi = hi0;
  if (!(hi > lo) || pivots(alphaPtr, betaPtr, k, sgn, hi, tiny) < k) {
    lo = max(lo, hi0);
    if (!(lo < gersh)) lo = -gersh; // a guess above Gershgorin (cannot happen): the whole interval
    hi = gersh;
    pivots(alphaPtr, betaPtr, k, sgn, hi, tiny);
  }
  let kf = <f64>k;
  // the point the next Laguerre step starts from: hi, or lo when exactly one eigenvalue lies above it
  let xc = hi, G = passG, H = passH, usable = true;
  let slow = 0;
  for (let it = 0; it < 300; it++) {
    if (!(hi - lo > floor)) return hi;
    let x = 0.0, laguerre = false;
    if (usable) {
      // Laguerre: xc - k / (G +- sqrt((k - 1)(k H - G^2))), the sign of G (the larger denominator)
      let root = Math.sqrt(max(0.0, (kf - 1) * (kf * H - G * G)));
      let step = kf / (G >= 0 ? G + root : G - root);
      x = xc - step;
      let inward = xc == hi ? step > 0 : step < 0;
      if (inward && abs(step) <= floor) return min(hi, max(lo, x)); // converged to the root in [lo, hi]
      laguerre = inward && x > lo && x < hi && slow < 2;
    }
    if (!laguerre) { x = 0.5 * (lo + hi); slow = 0; }
    let width = hi - lo;
    let c = pivots(alphaPtr, betaPtr, k, sgn, x, tiny);
    if (c == k) hi = x; else lo = x;
    xc = x; G = passG; H = passH;
    usable = c >= k - 1;
    if (laguerre) slow = hi - lo > 0.5 * width ? slow + 1 : 0;
  }
  return hi;
}

/** Inverse-iteration steps for the last eigenvector component (each multiplies the error by about 4 eps ||T|| / gap). */
// @ts-ignore: decorator
@inline const INVERSE_STEPS = 3;

/**
 * |s_k|, the last component of the unit eigenvector of sgn T for its eigenvalue theta, by
 * inverse iteration from the all-ones vector with the shift sigma = theta + 4 eps ||T||
 * just above it: the LDL' pivots of sgn T - sigma I once (their inverses kept in
 * scratchPtr[0..k)), then INVERSE_STEPS solves (forward and back substitution, no
 * division; the iterate in scratchPtr[k..2k), scaled by its largest entry on the next
 * forward pass). Accurate where
 * the pivot formula s_k^2 = -1 / d_k'(theta) is not: once theta has converged it is also an
 * eigenvalue of T_{k-1} to far below rounding, and d_k's root and pole cancel.
 */
function lastComponent(alphaPtr: usize, betaPtr: usize, k: i32, sgn: f64, theta: f64, tnorm: f64, scratchPtr: usize): f64 {
  let sigma = theta + 4 * f64.EPSILON * tnorm;
  let tiny = f64.EPSILON * tnorm;
  let zPtr = scratchPtr + (<usize>k << 3);
  // pivots: d_0 = sgn a_0 - sigma, d_i = sgn a_i - sigma - b_{i-1}^2 / d_{i-1}
  let d = sgn * load<f64>(alphaPtr) - sigma;
  if (d == 0) d = -tiny;
  let inv = 1.0 / d;
  store<f64>(scratchPtr, inv);
  store<f64>(zPtr, 1.0);
  for (let i = 1; i < k; i++) {
    let b = load<f64>(betaPtr + (<usize>(i - 1) << 3));
    d = sgn * load<f64>(alphaPtr + (<usize>i << 3)) - sigma - (b * b) * inv;
    if (d == 0) d = -tiny;
    inv = 1.0 / d;
    store<f64>(scratchPtr + (<usize>i << 3), inv);
    store<f64>(zPtr + (<usize>i << 3), 1.0);
  }
  let last = 0.0, sc = 1.0;
  for (let step = 0; step < INVERSE_STEPS; step++) {
    // forward: g_i = (sc y_i - b_{i-1} g_{i-1}) / d_i in place (sc: the previous iterate's scale)
    let g = sc * load<f64>(zPtr) * load<f64>(scratchPtr);
    store<f64>(zPtr, g);
    for (let i = 1; i < k; i++) {
      let o = <usize>i << 3;
      g = (sc * load<f64>(zPtr + o) - load<f64>(betaPtr + o - 8) * g) * load<f64>(scratchPtr + o);
      store<f64>(zPtr + o, g);
    }
    // back: z_i = g_i - (b_i / d_i) z_{i+1}; its largest entry and sum of squares (no
    // overflow: |z| <= 1 / (4 eps ||T||) with ||T|| >= 2^-260 for a prepared matrix)
    let z = g, mx = abs(g), nrm = g * g;
    for (let i = k - 2; i >= 0; i--) {
      let o = <usize>i << 3;
      z = load<f64>(zPtr + o) - load<f64>(betaPtr + o) * load<f64>(scratchPtr + o) * z;
      store<f64>(zPtr + o, z);
      mx = max(mx, abs(z));
      nrm += z * z;
    }
    if (!(mx > 0) || !isFinite(nrm)) return 1.0; // no information: the bound stays the linear one, |s_k| <= 1
    sc = 1.0 / mx;
    last = abs(load<f64>(zPtr + (<usize>(k - 1) << 3))) / Math.sqrt(nrm);
  }
  return last;
}

/**
 * Extreme Ritz values of the Lanczos tridiagonal T_k (diagonal alpha[0..k), off-diagonal
 * beta[0..k-1)) with their residual bounds |beta_k| |s_k| (an eigenvalue of the matrix lies
 * within it: the Ritz pair's residual ||S y - theta y||), for the ends in the mask `ends`
 * (1: lowest, 2: highest, 3: both); scratchPtr: 2k doubles. statePtr holds 5
 * doubles, in and out: [lowest value, its bound, highest value, its bound, k of that result
 * (0: none)]; a previous result (k' <= k) warm-starts the iteration: each end moves outwards
 * from it (interlacing), a few O(k) passes. O(k) memory reads, no allocation.
 */
export function ritzEnds(alphaPtr: usize, betaPtr: usize, k: i32, betaK: f64, ends: i32, statePtr: usize, scratchPtr: usize): void {
  if (k == 1) {
    let a = load<f64>(alphaPtr);
    store<f64>(statePtr, a); store<f64>(statePtr, abs(betaK), 8);
    store<f64>(statePtr, a, 16); store<f64>(statePtr, abs(betaK), 24);
    store<f64>(statePtr, 1, 32);
    return;
  }
  // ||T||_inf and the Gershgorin interval
  let tnorm = 0.0, gl = Infinity, gh = -Infinity;
  let prevB = 0.0;
  for (let i = 0; i < k; i++) {
    let b = i < k - 1 ? abs(load<f64>(betaPtr + (<usize>i << 3))) : 0.0;
    let a = load<f64>(alphaPtr + (<usize>i << 3));
    let r = prevB + b;
    tnorm = max(tnorm, abs(a) + r);
    gl = min(gl, a - r);
    gh = max(gh, a + r);
    prevB = b;
  }
  let pad = 4 * f64.EPSILON * tnorm + f64.MIN_VALUE;
  gl -= pad; gh += pad;
  let prevK = load<f64>(statePtr, 32);
  let warm = prevK >= 1 && prevK <= <f64>k;
  let eps4 = 4 * f64.EPSILON * tnorm;
  for (let end = 0; end < 2; end++) {
    if ((ends & (1 << end)) == 0) continue; // this end is not needed: its previous result stays
    let sgn = end == 0 ? -1.0 : 1.0; // the lowest eigenvalue of T is the highest of -T
    let o: usize = end == 0 ? 0 : 16;
    let lo = sgn * (end == 0 ? gh : gl), hi = sgn * (end == 0 ? gl : gh); // Gershgorin, in sgn T
    let g = hi;
    if (warm) {
      let prev = sgn * load<f64>(statePtr + o), r = load<f64>(statePtr + o, 8);
      lo = prev - eps4;
      hi = prev + r + eps4;
    }
    let theta = ritzTop(alphaPtr, betaPtr, k, sgn, lo, hi, g, tnorm);
    store<f64>(statePtr + o, sgn * theta);
    store<f64>(statePtr + o, abs(betaK) * lastComponent(alphaPtr, betaPtr, k, sgn, theta, tnorm, scratchPtr), 8);
  }
  store<f64>(statePtr, <f64>k, 32);
}
