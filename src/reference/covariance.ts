// Plain-TS references for the covariance kernels.

/** Two-pass sample covariance of rows x dim data (f64 or f32), divided by rows - 1. */
export function covariance(
  G: ArrayLike<number>,
  rows: number,
  dim: number,
): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) mean[c]! += G[r * dim + c]!;
  for (let c = 0; c < dim; c++) mean[c]! /= rows;
  const cov = new Float64Array(dim * dim);
  const d = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < dim; c++) d[c] = G[r * dim + c]! - mean[c]!;
    for (let i = 0; i < dim; i++) {
      const di = d[i]!;
      for (let j = i; j < dim; j++) cov[i * dim + j]! += di * d[j]!;
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      const v = cov[i * dim + j]! / (rows - 1);
      cov[i * dim + j] = v;
      cov[j * dim + i] = v;
    }
  }
  return { mean, cov };
}

/** The naive G'G (rows x dim -> dim x dim), the loop a user would write: the bench baseline. */
export function gramNaive(
  G: Float64Array,
  rows: number,
  dim: number,
  out = new Float64Array(dim * dim),
): Float64Array {
  out.fill(0);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let i = 0; i < dim; i++) {
      const gi = G[o + i]!;
      const row = i * dim;
      for (let j = 0; j < dim; j++) out[row + j]! += gi * G[o + j]!;
    }
  }
  return out;
}

/** Welford/Chan streaming update in plain TS: the straightforward streaming baseline. */
export class StreamingCovariance {
  count = 0;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  constructor(readonly dim: number) {
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dim * dim);
  }
  add(g: ArrayLike<number>, offset = 0): void {
    const d = this.dim;
    this.count++;
    const delta = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      delta[i] = g[offset + i]! - this.mean[i]!;
      this.mean[i]! += delta[i]! / this.count;
    }
    for (let i = 0; i < d; i++) {
      const a = g[offset + i]! - this.mean[i]!;
      for (let j = i; j < d; j++) this.m2[i * d + j]! += delta[j]! * a;
    }
  }
  covariance(): Float64Array {
    const d = this.dim,
      out = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = i; j < d; j++) {
        const v = this.m2[i * d + j]! / (this.count - 1);
        out[i * d + j] = v;
        out[j * d + i] = v;
      }
    return out;
  }
}

/** x * 2^e for any integer e (reference copy: two steps where 2^e is not a double). */
function ldexp(x: number, e: number): number {
  while (e > 1000) {
    x *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    x *= 2 ** -1000;
    e += 1000;
  }
  return x * 2 ** e;
}

/**
 * The plain-TS model of a GradientCovariance's state for model-based tests: it keeps every
 * gradient and computes mean and covariance in two passes on the gradients divided by a
 * power of two 2^e >= max |g| (so no square overflows), reporting them as (scaled value,
 * exponent) so that a result beyond float64 is still known exactly enough to say so.
 */
export class CovarianceModel {
  readonly rows: number[][] = [];
  constructor(readonly dim: number) {}

  get count(): number {
    return this.rows.length;
  }

  /** Scaled statistics: mean = 2^e meanS, C = 2^(2e) covS, M = 2^(2e) comS; A = max |g| / 2^e, D = max |g - mean| / 2^e. */
  stats(): { e: number; meanS: Float64Array; covS: Float64Array; comS: Float64Array; A: number; D: number } {
    const d = this.dim,
      n = this.rows.length;
    let max = 0;
    for (const r of this.rows) for (const v of r) max = Math.max(max, Math.abs(v));
    let e = max > 0 ? Math.ceil(Math.log2(max)) : 0;
    while (max > 0 && ldexp(max, -e) > 1) e++;
    const h = this.rows.map((r) => r.map((v) => ldexp(v, -e)));
    const meanS = new Float64Array(d);
    for (const r of h) for (let j = 0; j < d; j++) meanS[j]! += r[j]! / n;
    const comS = new Float64Array(d * d);
    let D = 0;
    for (const r of h) {
      for (let i = 0; i < d; i++) {
        const di = r[i]! - meanS[i]!;
        D = Math.max(D, Math.abs(di));
        for (let j = 0; j < d; j++) comS[i * d + j]! += di * (r[j]! - meanS[j]!);
      }
    }
    const covS = comS.map((v) => (n > 1 ? v / (n - 1) : NaN));
    let A = 0;
    for (const r of h) for (const v of r) A = Math.max(A, Math.abs(v));
    return { e, meanS, covS, comS, A, D };
  }

  /** The covariance in true units (entries beyond float64 come out infinite). */
  covariance(): { value: Float64Array; maxLog2: number } {
    const s = this.stats();
    let m = 0;
    for (const v of s.covS) m = Math.max(m, Math.abs(v));
    return {
      value: s.covS.map((v) => ldexp(v, 2 * s.e)),
      maxLog2: m > 0 ? Math.log2(m) + 2 * s.e : -Infinity,
    };
  }
}

export { ldexp as referenceLdexp };

/**
 * The f32 path of GradientCovariance (assembly/covariance.ts covAddRowsF32) in plain TS,
 * operation for operation, so that its count, mean and co-moment match the kernel's bit
 * for bit: blocks of 256 rows centred on their own mean (the kernel's summation order),
 * centred values rounded to float32, f32 products summed in f32 (Math.fround after every
 * operation: exact emulation, a double holds the exact product and rounds sums correctly)
 * over runs of 256 rows (KB, one block), each run added to the float64 co-moment; then the merge term
 * coef delta delta' on whole upper 4 x 4 tiles and the mean update.
 */
export class ReferenceCovarianceF32 {
  count = 0;
  readonly dp: number;
  /** Mean, padded to dp. */
  readonly mean: Float64Array;
  /** Co-moment, dp x dp; upper 4 x 4 tiles meaningful. */
  readonly M: Float64Array;
  static readonly KC = 256;
  static readonly KB = 256;

  constructor(readonly dim: number) {
    this.dp = Math.ceil(dim / 4) * 4;
    this.mean = new Float64Array(this.dp);
    this.M = new Float64Array(this.dp * this.dp);
  }

  addRows(G: ArrayLike<number>, rows: number): this {
    const { dim, dp, M, mean } = this;
    const { KC, KB } = ReferenceCovarianceF32;
    const fr = Math.fround;
    const mu = new Float64Array(dp);
    const c = new Float32Array(KC * dp); // the packed block, row-major here
    for (let r0 = 0; r0 < rows; r0 += KC) {
      const k = Math.min(KC, rows - r0);
      const at = (kk: number, j: number): number => G[(r0 + kk) * dim + j]!;
      mu.fill(0);
      let kk = 0;
      for (; kk + 4 <= k; kk += 4) {
        for (let j = 0; j < dim; j++) mu[j]! += at(kk, j) + at(kk + 1, j) + (at(kk + 2, j) + at(kk + 3, j));
      }
      for (; kk < k; kk++) for (let j = 0; j < dim; j++) mu[j]! += at(kk, j);
      const invK = 1 / k;
      for (let j = 0; j < dp; j++) mu[j]! *= invK;
      const total = this.count + k;
      const coef = (this.count * k) / total;
      if (k > 1) {
        c.fill(0);
        for (let q = 0; q < k; q++) for (let j = 0; j < dim; j++) c[q * dp + j] = at(q, j) - mu[j]!;
        for (let i = 0; i < dp; i++) {
          for (let j = i & ~3; j < dp; j++) {
            for (let k0 = 0; k0 < k; k0 += KB) {
              let acc = 0;
              const end = Math.min(k, k0 + KB);
              for (let q = k0; q < end; q++) acc = fr(acc + fr(c[q * dp + i]! * c[q * dp + j]!));
              M[i * dp + j]! += acc;
            }
          }
        }
      }
      for (let j = 0; j < dp; j++) mu[j]! -= mean[j]!; // delta
      for (let i = 0; i < dp; i++) {
        const s = coef * mu[i]!;
        if (s !== 0) for (let j = i & ~3; j < dp; j++) M[i * dp + j]! += s * mu[j]!;
      }
      const w = k / total;
      for (let j = 0; j < dp; j++) mean[j]! += mu[j]! * w;
      this.count = total;
    }
    return this;
  }

  /** The co-moment, dim x dim, mirrored from the upper triangle. */
  comoment(): Float64Array {
    const { dim, dp } = this;
    const out = new Float64Array(dim * dim);
    for (let i = 0; i < dim; i++) {
      for (let j = i; j < dim; j++) {
        out[i * dim + j] = this.M[i * dp + j]!;
        out[j * dim + i] = this.M[i * dp + j]!;
      }
    }
    return out;
  }
}
