// Pairs of gradients taken at the same w, accumulated as their differences. Two uses
// (docs/estimators.md):
// - trajectory pairs: two independent batches at each iterate w_k of a training run; the
//   iterates differ, so the plain covariance of all gradients would mix in the spread of
//   the means H d_k, but (g_k - g_k')(g_k - g_k')' / 2 is unbiased for Cov(g | w_k), so
//   `covariance()` estimates the average of Cov(g | w_k) over the iterates;
// - paired noise: the same batch with two independent noise draws of variance tau2; then
//   `hessian(n, tau2)` = n / (2 tau2) E[(g1 - g2)(g1 - g2)'] is H (or G) exactly, at any w.
import { GradientCovariance } from '../core/covariance.js';
import {
  checkFloatArray,
  checkLength,
  checkFinite,
  checkLive,
  checkPositiveInteger,
  checkPositive,
  type FloatArray,
} from '../core/validate.js';

/**
 * Streaming accumulator of gradient pairs taken at the same w (memory O(dim^2)): the
 * trajectory-pair and paired-noise estimators over gradients the caller computes.
 * Call `dispose()` when done (the state lives in WebAssembly memory).
 *
 * @example
 * const pairs = new PairedGradients(dim);
 * for (const w of iterates) pairs.add(gradientOfBatch(w, 2 * k), gradientOfBatch(w, 2 * k + 1));
 * const C = pairs.covariance();   // the average Cov(g | w_k), not inflated by the moving w
 * pairs.dispose();
 */
export class PairedGradients {
  /** Gradient dimension. */
  readonly dim: number;
  readonly #acc: GradientCovariance;
  #disposed = false;

  /**
   * @param dim - positive integer, the gradient dimension
   * @throws {TypeError|RangeError} for a bad dim or when the state does not fit in wasm memory
   */
  constructor(dim: number) {
    this.dim = checkPositiveInteger('dim', dim);
    this.#acc = new GradientCovariance(dim);
  }

  /** Number of pairs added. */
  get count(): number {
    return this.#acc.count;
  }

  /**
   * Adds one pair (two gradients of length dim taken at the same w). Returns this.
   * @param g1 - first gradient (Float64Array or Float32Array)
   * @param g2 - second gradient
   * @returns this
   * @throws {TypeError|RangeError} for a wrong type, length or a non-finite element (state unchanged)
   */
  add(g1: FloatArray, g2: FloatArray): this {
    checkLive('PairedGradients', this.#disposed);
    const a = checkFloatArray('g1', g1),
      b = checkFloatArray('g2', g2); // private copies of shared memory
    checkLength('g1', a, this.dim, 'dim');
    checkLength('g2', b, this.dim, 'dim');
    checkFinite('g1', a);
    checkFinite('g2', b);
    const d = new Float64Array(this.dim);
    for (let i = 0; i < this.dim; i++) d[i] = a[i]! - b[i]!;
    this.#acc.add(d);
    return this;
  }

  /**
   * Adds pair differences d = g1 - g2 already formed (rows x dim row-major), e.g. from
   * estimateHessian's paired kernel or a data holder that sends differences. Returns this.
   * @param D - the differences (Float64Array or Float32Array, length a multiple of dim)
   * @returns this
   * @throws {TypeError|RangeError} for a wrong type, length or a non-finite element (state unchanged)
   */
  addDifferences(D: FloatArray): this {
    checkLive('PairedGradients', this.#disposed);
    this.#acc.addBatch(D);
    return this;
  }

  /**
   * Merges another PairedGradients of the same dim (e.g. from another worker). Returns this.
   * @param other - the accumulator to merge (unchanged)
   * @returns this
   * @throws {TypeError|RangeError} for a non-PairedGradients or a different dim
   */
  merge(other: PairedGradients): this {
    checkLive('PairedGradients', this.#disposed);
    if (!(other instanceof PairedGradients)) {
      throw new TypeError(
        `invalid argument: \`other\` must be a PairedGradients. Value: \`${String(other)}\`.`,
      );
    }
    checkLive('`other` PairedGradients', other.#disposed);
    this.#acc.merge(other.#acc);
    return this;
  }

  /**
   * Half the covariance of the differences: unbiased for the average within-pair covariance
   * Cov(g | w_k) (trajectory pairs).
   * @returns dim x dim row-major Float64Array
   * @throws {RangeError} with fewer than 2 pairs
   */
  covariance(): Float64Array {
    checkLive('PairedGradients', this.#disposed);
    return this.#acc.covariance({ scale: 0.5 });
  }

  /**
   * n / (2 tau2) times the covariance of the differences: the Hessian H (Gauss–Newton G
   * for a nonlinear model), exactly in expectation at any w, when every pair is one batch
   * of n samples with two independent target-noise draws of variance tau2.
   * @param batchSize - n, the samples per batch
   * @param noiseVariance - tau2 > 0, the variance of each draw
   * @returns dim x dim row-major Float64Array
   * @throws {TypeError|RangeError} for bad arguments or fewer than 2 pairs
   */
  hessian(batchSize: number, noiseVariance: number): Float64Array {
    checkLive('PairedGradients', this.#disposed);
    const n = checkPositiveInteger('batchSize', batchSize);
    const tau2 = checkPositive('noiseVariance', noiseVariance);
    return this.#acc.covariance({ scale: n / (2 * tau2) });
  }

  /** Forgets all pairs. Returns this. */
  reset(): this {
    checkLive('PairedGradients', this.#disposed);
    this.#acc.reset();
    return this;
  }

  /** Frees the wasm memory. Further calls throw. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#acc.dispose();
  }
}
