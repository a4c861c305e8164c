// Plain-TS references for the spectral kernels: matrix-vector product, power iteration
// (same stopping rule as assembly/spectral.ts) and cyclic Jacobi eigenvalues (the oracle).

export function matvec(A: Float64Array, x: Float64Array, dim: number, y = new Float64Array(dim)): Float64Array {
  for (let i = 0; i < dim; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += A[i * dim + j]! * x[j]!;
    y[i] = s;
  }
  return y;
}

/** Power iteration for max |lambda| of symmetric A (or A - B), from start vector v0. */
export function powerIteration(A: Float64Array, B: Float64Array | undefined, dim: number, v0: Float64Array,
  tol: number, maxIter: number): { value: number; iterations: number; converged: boolean } {
  let v = Float64Array.from(v0);
  let norm = Math.hypot(...v);
  for (let i = 0; i < dim; i++) v[i]! /= norm;
  let theta = 0, prevTheta = 0, prevDelta = Infinity, it = 0;
  const w = new Float64Array(dim);
  let prev = new Float64Array(dim);
  const floor = 8 * dim * Number.EPSILON;
  while (it < maxIter) {
    it++;
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += (A[i * dim + j]! - (B ? B[i * dim + j]! : 0)) * v[j]!;
      w[i] = s;
    }
    norm = 0;
    for (let i = 0; i < dim; i++) norm += w[i]! * w[i]!;
    theta = Math.sqrt(norm);
    if (theta === 0) return { value: 0, iterations: it, converged: true };
    // residual bound: some |lambda| lies within ||S v_k - theta_{k-1} v_{k-1}|| of theta_{k-1}
    let resOk = false;
    if (it > 1) {
      let r2 = 0;
      for (let i = 0; i < dim; i++) r2 += (w[i]! - prevTheta * prev[i]!) ** 2;
      resOk = Math.sqrt(r2) <= tol * prevTheta + floor * theta;
    }
    prev = v.slice();
    for (let i = 0; i < dim; i++) v[i] = w[i]! / theta;
    if (it > 1) {
      const delta = Math.abs(theta - prevTheta);
      if (delta === 0 && resOk) return { value: theta, iterations: it, converged: true };
      if (prevDelta < Infinity && delta > 0) {
        let err = delta;
        if (delta < prevDelta) {
          const q = delta / prevDelta;
          err = Math.max(delta, (delta * q) / (1 - q));
        }
        if (err <= tol * theta && resOk) return { value: theta, iterations: it, converged: true };
      }
      if (delta > 0) prevDelta = delta;
    }
    prevTheta = theta;
  }
  return { value: theta, iterations: it, converged: false };
}

/** All eigenvalues of a symmetric matrix by cyclic Jacobi rotations, ascending. */
export function jacobiEigenvalues(A: Float64Array, dim: number, sweeps = 100): Float64Array {
  const a = Float64Array.from(A);
  for (let s = 0; s < sweeps; s++) {
    let off = 0;
    for (let p = 0; p < dim; p++) for (let q = p + 1; q < dim; q++) off += a[p * dim + q]! ** 2;
    if (off < 1e-30 * (1 + frob(a))) break;
    for (let p = 0; p < dim; p++) {
      for (let q = p + 1; q < dim; q++) {
        const apq = a[p * dim + q]!;
        if (apq === 0) continue;
        const app = a[p * dim + p]!, aqq = a[q * dim + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), sn = t * c;
        for (let k = 0; k < dim; k++) {
          const akp = a[k * dim + p]!, akq = a[k * dim + q]!;
          a[k * dim + p] = c * akp - sn * akq;
          a[k * dim + q] = sn * akp + c * akq;
        }
        for (let k = 0; k < dim; k++) {
          const apk = a[p * dim + k]!, aqk = a[q * dim + k]!;
          a[p * dim + k] = c * apk - sn * aqk;
          a[q * dim + k] = sn * apk + c * aqk;
        }
      }
    }
  }
  const ev = new Float64Array(dim);
  for (let i = 0; i < dim; i++) ev[i] = a[i * dim + i]!;
  return ev.sort();
}

function frob(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return s;
}

/** ||A||_2 of a symmetric matrix from its Jacobi eigenvalues. */
export function operatorNormExact(A: Float64Array, dim: number): number {
  const ev = jacobiEigenvalues(A, dim);
  return Math.max(Math.abs(ev[0]!), Math.abs(ev[dim - 1]!));
}

/**
 * Lanczos with full reorthogonalisation (the plain-TS twin of assembly lanczosStep plus the
 * driver in src/spectral.ts): returns the extreme Ritz values after each step until both
 * error estimates are within tol * max(|lo|, |hi|).
 */
export function lanczos(A: Float64Array, B: Float64Array | undefined, dim: number, v0: Float64Array, tol: number, maxSteps: number,
  ritz: (alpha: number[], beta: number[], k: number, betaK: number) => [{ value: number; error: number }, { value: number; error: number }]) {
  const S = B ? A.map((v, i) => v - B[i]!) : A;
  const basis: Float64Array[] = [];
  let n0 = 0;
  for (const v of v0) n0 += v * v;
  basis.push(v0.map((v) => v / Math.sqrt(n0)));
  const alpha: number[] = [], beta: number[] = [];
  let lo = 0, hi = 0, it = 0, converged = false;
  const steps = Math.min(maxSteps, dim);
  while (it < steps) {
    const vk = basis[it]!;
    const w = matvec(S, vk, dim);
    let a = 0;
    for (let i = 0; i < dim; i++) a += vk[i]! * w[i]!;
    for (let pass = 0; pass < 2; pass++) {
      for (let j = it; j >= 0; j--) {
        const vj = basis[j]!;
        let c = 0;
        for (let i = 0; i < dim; i++) c += vj[i]! * w[i]!;
        for (let i = 0; i < dim; i++) w[i]! -= c * vj[i]!;
      }
    }
    let b = 0;
    for (let i = 0; i < dim; i++) b += w[i]! * w[i]!;
    b = Math.sqrt(b);
    basis.push(b > 0 ? w.map((v) => v / b) : w);
    alpha.push(a);
    it++;
    if (it > 16 && it % 4 !== 0 && it < steps && b > 0) {
      beta.push(b);
      continue;
    }
    const [e0, e1] = ritz(alpha, beta, it, b);
    lo = e0.value; hi = e1.value;
    const norm = Math.max(Math.abs(lo), Math.abs(hi));
    if (b <= 8 * Number.EPSILON * norm || (e0.error <= tol * norm && e1.error <= tol * norm)) { converged = true; break; }
    beta.push(b);
  }
  return { lo, hi, iterations: it, converged };
}
