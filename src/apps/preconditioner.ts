// Preconditioning with a Hessian estimate: the Cholesky factor of H_hat + lambda I kept in
// wasm memory, applied to gradients (the fitter that uses it: src/apps/fit.ts).
import {
  wasm,
  alloc,
  free,
  f64,
  copyIn,
  trackBlocks,
  releaseBlocks,
  checkBlocks,
  byteCount,
} from '../core/wasm.js';
import { checkSquare, checkRidge, notPositiveDefinite } from '../core/cholesky.js';
import {
  checkPositiveInteger,
  checkFloat64Array,
  checkLength,
  checkFinite,
  checkLive,
} from '../core/validate.js';

interface State {
  lPtr: number;
  xPtr: number;
}

/**
 * Applies (H + lambda I)^-1 to gradients, for preconditioned steps w <- w - eta P^-1 g.
 * The constructor factorises H + lambda I = L L' once (wasm Cholesky); `apply` does the two
 * triangular solves (O(dim^2)). The factor lives in WebAssembly memory: call `dispose()`
 * (a FinalizationRegistry frees collected instances, at an unpredictable time).
 *
 * @example
 * const { hessian } = estimateHessian(data, w, { batchSize: 64, batches: 4000, seed: 1 });
 * const P = new Preconditioner(hessian, dim, { ridge: 1e-8 });
 * const step = P.apply(gradient);          // (H_hat + 1e-8 I)^-1 gradient
 * P.dispose();
 */
export class Preconditioner {
  /** The dimension of H. */
  readonly dim: number;
  /** The lambda added to the diagonal. */
  readonly ridge: number;
  #state: State;
  #disposed = false;

  /**
   * @param hessian - symmetric positive-definite dim x dim row-major matrix (only its lower triangle is read)
   * @param dim - the dimension
   * @param options - `{ ridge }`: lambda >= 0 added to the diagonal (default 0)
   * @throws {TypeError|RangeError} for malformed input; RangeError naming the failing pivot and suggesting a ridge when H + lambda I is not positive definite
   */
  constructor(hessian: Float64Array, dim: number, options?: { ridge?: number }) {
    this.dim = checkPositiveInteger('dim', dim, 46340);
    checkBlocks(
      [byteCount(this.dim * this.dim + 1, 8), byteCount(this.dim, 8)],
      `\`dim\` = ${this.dim}`,
      'the Cholesky factor (8 dim^2 bytes; dim at most 11585)',
    );
    const H = checkSquare('hessian', hessian, this.dim);
    this.ridge = checkRidge(options);
    const d = this.dim;
    const lPtr = alloc(d * d * 8 + 8, `Preconditioner(${d})`);
    let xPtr = 0;
    try {
      xPtr = alloc(d * 8, `Preconditioner(${d})`);
      copyIn(lPtr, H);
      const pivot = wasm().choleskyFactor(lPtr, d, this.ridge, lPtr + d * d * 8);
      if (pivot >= 0)
        throw notPositiveDefinite('hessian', pivot, f64(lPtr + d * d * 8, 1)[0]!, this.ridge, H, d);
    } catch (err) {
      free(lPtr);
      free(xPtr);
      throw err;
    }
    this.#state = { lPtr, xPtr };
    trackBlocks(this, [lPtr, xPtr]);
  }

  /**
   * out = (H + lambda I)^-1 g.
   * @param g - gradient (length dim, Float64Array)
   * @param out - optional Float64Array of length dim to write into (may be g itself)
   * @returns out, or a new Float64Array
   * @throws {TypeError|RangeError} for a wrong type, length or non-finite element
   */
  apply(g: Float64Array, out?: Float64Array): Float64Array {
    checkLive('Preconditioner', this.#disposed);
    const v = checkFloat64Array('g', g);
    checkLength('g', v, this.dim, 'dim');
    checkFinite('g', v);
    if (out !== undefined) {
      checkFloat64Array('out', out);
      checkLength('out', out, this.dim, 'dim');
    }
    copyIn(this.#state.xPtr, v);
    wasm().choleskySolve(this.#state.lPtr, this.dim, this.#state.xPtr);
    const x = f64(this.#state.xPtr, this.dim);
    if (x.some((t) => t - t !== 0)) {
      throw new RangeError(
        'invalid argument: `g` is too large for this preconditioner: (H + ridge I)^-1 g overflows float64. Scale `g` down or use a larger ridge.',
      );
    }
    if (out === undefined) return x.slice();
    out.set(x);
    return out;
  }

  /** Frees the factor's wasm memory. Further calls to apply() throw. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    releaseBlocks(this, [this.#state.lPtr, this.#state.xPtr]);
  }
}

// ---------------------------------------------------------------------------------------
// fitLinearRegression
