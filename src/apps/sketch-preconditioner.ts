// Low-rank-plus-diagonal preconditioning from a sketched curvature estimate (docs/sketch.md):
// P = V L V' + D + lambda I with the sketch's top-k eigenpairs (V, L) and the exact diagonal,
// D = max(diag(G_hat) - diag(V L V'), 0), applied and inverted in O(dim k) per vector by the
// Woodbury identity; the k x k capacitance matrix L^-1 + V' D'^-1 V is factorised once (the
// Preconditioner's wasm Cholesky). Memory O(dim k), never O(dim^2).
import { Preconditioner } from './preconditioner.js';
import {
  checkOptions,
  checkFloat64Array,
  checkLength,
  checkFinite,
  checkNonNegative,
  checkLive,
  checkPositiveInteger,
  checkInteger,
  isObject,
  show,
} from '../core/validate.js';

/** What LowRankPreconditioner reads from an estimate (a SketchedCurvature has them all). */
export interface LowRankCurvature {
  /** Top eigenvalues, descending (those <= 0 are not used). */
  eigenvalues: Float64Array;
  /** Their eigenvectors, row-major (one row of length dim per eigenvalue), orthonormal. */
  eigenvectors: Float64Array;
  /** The exact diagonal of the estimate (length dim). */
  diagonal: Float64Array;
}

/** Options of LowRankPreconditioner. */
export interface LowRankOptions {
  /** lambda >= 0 added to the diagonal (default 0; needed when a diagonal entry is not above the low-rank part). */
  damping?: number;
  /** Use only the first k eigenpairs (default: all given). */
  k?: number;
}

/**
 * The preconditioner P = V L V' + D + damping I of a sketched estimate: `solve(g)` = P^-1 g and
 * `apply(v)` = P v, each O(dim k). D = max(diag - diag(V L V'), 0) puts the part of the exact
 * diagonal that the top-k directions miss back on the diagonal, so P has the estimate's
 * diagonal (up to the clamp) and its top eigenpairs. Call `dispose()` when done (the k x k
 * factor lives in wasm memory).
 *
 * @example
 * const est = await estimateCurvature(oracle, { dim, batchSize: 64, batches: 500, seed: 1, method: 'paired', sketch: { size: 32 } });
 * const P = new LowRankPreconditioner(est, { damping: 1e-3 });
 * const step = P.solve(gradient);   // (V L V' + D + 1e-3 I)^-1 gradient
 * P.dispose();
 */
export class LowRankPreconditioner {
  /** The dimension. */
  readonly dim: number;
  /** The eigenpairs used (those with a positive eigenvalue, at most `k`). */
  readonly rank: number;
  /** The damping lambda. */
  readonly damping: number;
  readonly #V: Float64Array;
  readonly #L: Float64Array;
  /** 1 / (D + damping), per coordinate. */
  readonly #dinv: Float64Array;
  readonly #dplus: Float64Array;
  readonly #capacitance: Preconditioner | undefined;
  #disposed = false;

  /**
   * @param estimate - `{ eigenvalues, eigenvectors, diagonal }` (a SketchedCurvature)
   * @param options - damping (>= 0, default 0), k (eigenpairs to use, default all)
   * @throws {TypeError|RangeError} for malformed input (naming the field); RangeError when a
   *   coordinate's D + damping is 0 (pass a damping > 0)
   */
  constructor(estimate: LowRankCurvature, options: LowRankOptions = {}) {
    if (!isObject(estimate))
      throw new TypeError(
        `invalid argument: \`estimate\` must be an object { eigenvalues, eigenvectors, diagonal }. Value: \`${show(estimate)}\`.`,
      );
    const o = checkOptions('options', options, ['damping', 'k'], '`options` of LowRankPreconditioner');
    const damping = o.damping === undefined ? 0 : checkNonNegative('damping', o.damping);
    const diag = checkFloat64Array('estimate.diagonal', estimate.diagonal).slice();
    const dim = checkPositiveInteger('estimate.diagonal.length', diag.length);
    checkFinite('estimate.diagonal', diag);
    const ev = checkFloat64Array('estimate.eigenvalues', estimate.eigenvalues).slice();
    checkFinite('estimate.eigenvalues', ev);
    const vecs = checkFloat64Array('estimate.eigenvectors', estimate.eigenvectors);
    checkLength('estimate.eigenvectors', vecs, ev.length * dim, 'eigenvalues.length x dim');
    checkFinite('estimate.eigenvectors', vecs);
    const kMax = o.k === undefined ? ev.length : checkInteger('k', o.k, 0, ev.length);
    let k = 0;
    while (k < kMax && ev[k]! > 0) k++; // descending: the positive ones come first
    const V = vecs.slice(0, k * dim),
      L = ev.slice(0, k);
    // D = max(diag - diag(V L V'), 0) + damping
    const dplus = new Float64Array(dim);
    for (let j = 0; j < dim; j++) {
      let low = 0;
      for (let i = 0; i < k; i++) low += L[i]! * V[i * dim + j]! ** 2;
      dplus[j] = Math.max(diag[j]! - low, 0) + damping;
      if (!(dplus[j]! > 0)) {
        throw new RangeError(
          `invalid argument: \`damping\` must be > 0 here: coordinate ${j} of the diagonal (${diag[j]}) is not above the low-rank part (${low}), so P would be singular. Value: \`${damping}\`.`,
        );
      }
    }
    const dinv = dplus.map((v) => 1 / v);
    let capacitance: Preconditioner | undefined;
    if (k > 0) {
      // M = L^-1 + V' D'^-1 V (k x k, symmetric positive definite)
      const M = new Float64Array(k * k);
      for (let a = 0; a < k; a++) {
        for (let b = 0; b <= a; b++) {
          let s = 0;
          for (let j = 0; j < dim; j++) s += V[a * dim + j]! * dinv[j]! * V[b * dim + j]!;
          M[a * k + b] = s;
          M[b * k + a] = s;
        }
        M[a * k + a]! += 1 / L[a]!;
      }
      capacitance = new Preconditioner(M, k);
    }
    this.dim = dim;
    this.rank = k;
    this.damping = damping;
    this.#V = V;
    this.#L = L;
    this.#dinv = dinv;
    this.#dplus = dplus;
    this.#capacitance = capacitance;
  }

  #check(name: string, v: unknown, out: unknown): Float64Array {
    checkLive('LowRankPreconditioner', this.#disposed);
    const x = checkFloat64Array(name, v);
    checkLength(name, x, this.dim, 'dim');
    checkFinite(name, x);
    if (out !== undefined) {
      checkFloat64Array('out', out);
      checkLength('out', out as Float64Array, this.dim, 'dim');
    }
    return x;
  }

  /** t = V' x (k values). */
  #project(x: ArrayLike<number>): Float64Array {
    const { dim } = this;
    const t = new Float64Array(this.rank);
    for (let i = 0; i < this.rank; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += this.#V[i * dim + j]! * x[j]!;
      t[i] = s;
    }
    return t;
  }

  /**
   * P^-1 g by Woodbury: D'^-1 g - D'^-1 V (L^-1 + V' D'^-1 V)^-1 V' D'^-1 g, O(dim k).
   * @param g - the vector (Float64Array of length dim)
   * @param out - optional Float64Array of length dim to write into (may be g)
   * @returns out, or a new Float64Array
   * @throws {TypeError|RangeError} for a wrong type, length or a non-finite element
   */
  solve(g: Float64Array, out?: Float64Array): Float64Array {
    const x = this.#check('g', g, out);
    const { dim } = this;
    const y = new Float64Array(dim);
    for (let j = 0; j < dim; j++) y[j] = this.#dinv[j]! * x[j]!;
    if (this.#capacitance) {
      const c = this.#capacitance.apply(this.#project(y));
      for (let i = 0; i < this.rank; i++) {
        const ci = c[i]!;
        for (let j = 0; j < dim; j++) y[j]! -= this.#dinv[j]! * this.#V[i * dim + j]! * ci;
      }
    }
    if (y.some((v) => v - v !== 0))
      throw new RangeError(
        'invalid argument: `g` is too large for this preconditioner: P^-1 g overflows float64. Scale `g` down or use a larger damping.',
      );
    if (out === undefined) return y;
    out.set(y);
    return out;
  }

  /**
   * P v = V L V' v + (D + damping) v, O(dim k).
   * @param v - the vector (Float64Array of length dim)
   * @param out - optional Float64Array of length dim to write into (may be v)
   * @returns out, or a new Float64Array
   */
  apply(v: Float64Array, out?: Float64Array): Float64Array {
    const x = this.#check('v', v, out);
    const { dim } = this;
    const t = this.#project(x);
    const y = new Float64Array(dim);
    for (let j = 0; j < dim; j++) y[j] = this.#dplus[j]! * x[j]!;
    for (let i = 0; i < this.rank; i++) {
      const f = this.#L[i]! * t[i]!;
      for (let j = 0; j < dim; j++) y[j]! += f * this.#V[i * dim + j]!;
    }
    if (out === undefined) return y;
    out.set(y);
    return out;
  }

  /** Frees the k x k factor. Further calls throw. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#capacitance?.dispose();
  }
}
