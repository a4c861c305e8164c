// Plain-TS references for the covariance kernels.

/** Two-pass sample covariance of rows x dim data (f64 or f32), divided by rows - 1. */
export function covariance(G: ArrayLike<number>, rows: number, dim: number): { mean: Float64Array; cov: Float64Array } {
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
export function gramNaive(G: Float64Array, rows: number, dim: number, out = new Float64Array(dim * dim)): Float64Array {
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
    const d = this.dim, out = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) {
      const v = this.m2[i * d + j]! / (this.count - 1);
      out[i * d + j] = v;
      out[j * d + i] = v;
    }
    return out;
  }
}
