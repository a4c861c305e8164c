// INTERIM stand-in for the sketch accumulator of issue 19 part 1 (helper B1's CurvatureSketch,
// not yet on this branch): a plain-TS Frequent Directions with the same API, so the wiring
// (src/estimators/sketched.ts, its one importer), the runners and their tests build and run.
// When the real accumulator lands, point sketched.ts's import at it and delete this file.
// Plain TS (no wasm kernels): O(l^2 d) per shrink in JS, Jacobi for the small eigenproblem;
// `precision` is accepted and ignored (f64); the byte format is unversioned and internal.
import { checkPositiveInteger, checkInteger, checkFloatArray, checkFinite, checkOptions } from '../core/validate.js';

export interface SketchOptions { size: number; precision?: 'f64' | 'f32' }
export interface SketchEigenpairs { eigenvalues: Float64Array; eigenvectors: Float64Array; upper: Float64Array; shrinkage: number }
function jacobi(A: Float64Array, n: number): { w: Float64Array; V: Float64Array } {
  const V = new Float64Array(n * n); for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0; for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += A[i * n + j]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) {
      const apq = A[p * n + q]!; if (Math.abs(apq) < 1e-300) continue;
      const th = (A[q * n + q]! - A[p * n + p]!) / (2 * apq);
      const t = Math.sign(th || 1) / (Math.abs(th) + Math.sqrt(th * th + 1)); const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < n; k++) { const akp = A[k * n + p]!, akq = A[k * n + q]!; A[k * n + p] = c * akp - s * akq; A[k * n + q] = s * akp + c * akq; }
      for (let k = 0; k < n; k++) { const apk = A[p * n + k]!, aqk = A[q * n + k]!; A[p * n + k] = c * apk - s * aqk; A[q * n + k] = s * apk + c * aqk; }
      for (let k = 0; k < n; k++) { const vkp = V[k * n + p]!, vkq = V[k * n + q]!; V[k * n + p] = c * vkp - s * vkq; V[k * n + q] = s * vkp + c * vkq; }
    }
  }
  const w = new Float64Array(n); for (let i = 0; i < n; i++) w[i] = A[i * n + i]!;
  return { w, V };
}
export class CurvatureSketch {
  readonly dim: number; readonly size: number;
  #B: Float64Array; #used = 0; #delta = 0; #diag: Float64Array; #trace = 0; #rows = 0;
  constructor(dim: number, options: SketchOptions) {
    this.dim = checkPositiveInteger('dim', dim);
    const o = checkOptions('options', options, ['size', 'precision']);
    const l = checkInteger('size', o.size, 2, 256);
    if (2 * l * this.dim > 2 ** 28) throw new RangeError(`invalid argument: \`dim\` x \`size\` must keep the 2 size dim buffer below 2^28 values (2 GiB). Value: \`${this.dim} x ${l}\`.`);
    this.size = l; this.#B = new Float64Array(2 * l * this.dim); this.#diag = new Float64Array(this.dim);
  }
  get rows(): number { return this.#rows; }
  get shrinkage(): number { return this.#rows ? this.#delta / this.#rows : 0; }
  addRows(rows: Float32Array | Float64Array, options: { scale?: number } = {}): this {
    const r = checkFloatArray('rows', rows);
    const s = options.scale ?? 1, d = this.dim, k = r.length / d;
    if (!Number.isInteger(k)) throw new RangeError(`invalid argument: \`rows\` must hold whole rows of length dim (${d}). Value: length ${r.length}.`);
    checkFinite('rows', r);
    rows = r;
    for (let r = 0; r < k; r++) {
      if (this.#used === 2 * this.size) this.#shrink();
      const o = this.#used * d;
      for (let j = 0; j < d; j++) { const v = s * rows[r * d + j]!; this.#B[o + j] = v; this.#diag[j] += v * v; this.#trace += v * v; }
      this.#used++; this.#rows++;
    }
    return this;
  }
  #shrink(): void {
    const n = this.#used, d = this.dim, l = this.size;
    const G = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { let t = 0; for (let c = 0; c < d; c++) t += this.#B[i * d + c]! * this.#B[j * d + c]!; G[i * n + j] = t; }
    const { w, V } = jacobi(G, n);
    const order = [...w.keys()].sort((a, b) => w[b]! - w[a]!);
    const rho = n >= l ? Math.max(0, w[order[l - 1]!]!) : 0;
    const out = new Float64Array(this.#B.length);
    let used = 0;
    for (let t = 0; t < Math.min(n, l - 1); t++) {
      const i = order[t]!; const s2 = w[i]!; if (!(s2 > rho)) break;
      const f = Math.sqrt(s2 - rho) / Math.sqrt(s2);
      for (let c = 0; c < d; c++) { let v = 0; for (let r = 0; r < n; r++) v += V[r * n + i]! * this.#B[r * d + c]!; out[used * d + c] = f * v; }
      used++;
    }
    this.#B = out; this.#used = used; this.#delta += rho;
  }
  merge(other: CurvatureSketch): this {
    const d = this.dim;
    for (let r = 0; r < other.#used; r++) { if (this.#used === 2 * this.size) this.#shrink(); this.#B.set(other.#B.subarray(r * d, (r + 1) * d), this.#used * d); this.#used++; }
    for (let j = 0; j < d; j++) this.#diag[j] += other.#diag[j]!;
    this.#trace += other.#trace; this.#delta += other.#delta; this.#rows += other.#rows;
    return this;
  }
  toBytes(): Uint8Array {
    const head = new Float64Array([this.dim, this.size, this.#used, this.#delta, this.#trace, this.#rows]);
    const out = new Float64Array(6 + this.dim + this.#used * this.dim);
    out.set(head); out.set(this.#diag, 6); out.set(this.#B.subarray(0, this.#used * this.dim), 6 + this.dim);
    return new Uint8Array(out.buffer);
  }
  static fromBytes(bytes: Uint8Array): CurvatureSketch {
    if (!(bytes instanceof Uint8Array) || bytes.byteLength % 8 !== 0 || bytes.byteLength < 48) throw new RangeError('invalid argument: `bytes` must be a sketch\'s toBytes() form. Value: a malformed buffer.');
    const f = new Float64Array(bytes.slice().buffer);
    checkFinite('bytes', f);
    const s = new CurvatureSketch(f[0]!, { size: f[1]! });
    if (!Number.isInteger(f[2]) || f[2]! < 0 || f[2]! > 2 * s.size || f.length !== 6 + s.dim + f[2]! * s.dim || !(f[3]! >= 0) || !(f[5]! >= 0)) {
      throw new RangeError('invalid argument: `bytes` must be a sketch\'s toBytes() form. Value: an inconsistent header.');
    }
    s.#used = f[2]!; s.#delta = f[3]!; s.#trace = f[4]!; s.#rows = f[5]!;
    s.#diag.set(f.subarray(6, 6 + s.dim)); s.#B.set(f.subarray(6 + s.dim));
    return s;
  }
  eigenpairs(k = this.size - 1): SketchEigenpairs {
    if (!Number.isInteger(k) || k < 1 || k > this.size) throw new RangeError(`invalid argument: \`k\` must be an integer in [1, size]. Value: \`${k}\`.`);
    const n = this.#used, d = this.dim, m = this.#rows || 1;
    const G = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { let t = 0; for (let c = 0; c < d; c++) t += this.#B[i * d + c]! * this.#B[j * d + c]!; G[i * n + j] = t; }
    const { w, V } = jacobi(G, n);
    const order = [...w.keys()].sort((a, b) => w[b]! - w[a]!);
    const eigenvalues = new Float64Array(k), eigenvectors = new Float64Array(k * d);
    for (let t = 0; t < Math.min(k, n); t++) {
      const i = order[t]!; const s2 = Math.max(0, w[i]!); eigenvalues[t] = s2 / m;
      if (s2 > 0) for (let c = 0; c < d; c++) { let v = 0; for (let r = 0; r < n; r++) v += V[r * n + i]! * this.#B[r * d + c]!; eigenvectors[t * d + c] = v / Math.sqrt(s2); }
    }
    const shrinkage = this.shrinkage;
    return { eigenvalues, eigenvectors, upper: eigenvalues.map((v) => v + shrinkage), shrinkage };
  }
  diagonal(): Float64Array { return this.#diag.map((v) => v / (this.#rows || 1)); }
  trace(): number { return this.#trace / (this.#rows || 1); }
  apply(v: Float64Array): Float64Array {
    const d = this.dim, out = new Float64Array(d);
    for (let r = 0; r < this.#used; r++) { let t = 0; for (let c = 0; c < d; c++) t += this.#B[r * d + c]! * v[c]!; for (let c = 0; c < d; c++) out[c] += t * this.#B[r * d + c]! / (this.#rows || 1); }
    return out;
  }
  dispose(): void { /* stub */ }
}
