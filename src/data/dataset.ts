// Regression data: the plain { X, y, rows, dim } shape and RegressionDataset, the same data kept
// resident in WebAssembly memory.
import { alloc, free, copyIn, checkBlocks, trackBlocks, releaseBlocks, wasm } from '../core/wasm.js';
import { checkLive, checkRegressionData, checkRegressionShape, rejectNonFinite } from '../core/validate.js';

/** Regression data: X is rows x dim row-major, y has `rows` targets. */
export interface RegressionData {
  /** The features, rows x dim, row-major (finite). */
  X: Float64Array;
  /** The targets, one per row (finite). */
  y: Float64Array;
  /** Number of samples. */
  rows: number;
  /** Number of features. */
  dim: number;
}

/** Validates regression data (or a live RegressionDataset). @internal */
export function checkData(data: unknown): RegressionData | RegressionDataset {
  if (data instanceof RegressionDataset) {
    data.checkLive();
    return data;
  }
  return checkRegressionData(data, ' or a RegressionDataset');
}

/**
 * checkData for one call that reads X in wasm memory: a RegressionDataset passes through
 * (`owned` false); plain data has its shape checked, is copied into wasm memory (one
 * memcpy) and its finiteness checked there by a SIMD scan of the copy, so the call costs
 * the resident path plus about one pass over X. The copy is the caller's to dispose
 * (`owned` true) and lives for this call only: nothing is kept between calls, so data
 * changed in place is always read afresh. Errors are checkData's, with the same messages.
 * @internal
 */
export function residentData(data: unknown): { ds: RegressionDataset; owned: boolean } {
  if (data instanceof RegressionDataset) {
    data.checkLive();
    return { ds: data, owned: false };
  }
  const d = checkRegressionShape(data, ' or a RegressionDataset');
  loadingChecked = true;
  let ds: RegressionDataset;
  try {
    ds = new RegressionDataset(d);
  } finally {
    loadingChecked = false;
  }
  const [xPtr, yPtr] = ds.pointers;
  const k = wasm();
  if (k.firstNonFinite(xPtr, d.X.length) >= 0 || k.firstNonFinite(yPtr, d.y.length) >= 0) {
    ds.dispose();
    rejectNonFinite(d); // throws checkData's message, naming the first bad value
  }
  return { ds, owned: true };
}

let loadingChecked = false; // set only inside RegressionDataset.fromChecked and residentData
let placing: [number, number] | undefined; // set only inside RegressionDataset.inPlace

/**
 * Regression data kept in WebAssembly memory: validated and copied once, then used by any
 * number of `linearRegressionGradients` / `estimateHessian` calls without copying X again
 * (a 100,000 x 64 X is 51 MB: checking and copying it costs more than many estimates).
 * Call `dispose()` when done (a FinalizationRegistry frees forgotten ones eventually).
 *
 * @example
 * const ds = new RegressionDataset({ X, y, rows, dim });
 * for (const tau2 of [0, 32, 64]) estimateHessian(ds, w, { batchSize: 64, batches: 4000, noiseVariance: tau2, seed: 1 });
 * ds.dispose();
 */
export class RegressionDataset {
  /** Number of samples. */
  readonly rows: number;
  /** Number of features. */
  readonly dim: number;
  #ptrs: [number, number] | undefined;
  #borrowed = false;

  /** @throws {TypeError|RangeError} for malformed data, or when it does not fit in wasm memory */
  constructor(data: RegressionData) {
    if (placing) {
      // inPlace(): borrowed pointers, nothing to check or copy
      this.rows = data.rows;
      this.dim = data.dim;
      this.#ptrs = placing;
      this.#borrowed = true;
      return;
    }
    const d = (loadingChecked ? data : checkData(data)) as RegressionData;
    if (d instanceof RegressionDataset)
      throw new TypeError('invalid argument: `data` is already a RegressionDataset.');
    this.rows = d.rows;
    this.dim = d.dim;
    checkBlocks(
      [d.X.byteLength, d.y.byteLength],
      `\`data\` (${d.rows} x ${d.dim})`,
      'a RegressionDataset (X holds 8 rows dim bytes)',
    );
    const xPtr = alloc(d.X.byteLength, `a RegressionDataset of ${d.rows} x ${d.dim}`);
    let yPtr: number;
    try {
      yPtr = alloc(d.y.byteLength, `a RegressionDataset of ${d.rows} x ${d.dim}`);
    } catch (err) {
      free(xPtr);
      throw err;
    }
    copyIn(xPtr, d.X);
    copyIn(yPtr, d.y);
    this.#ptrs = [xPtr, yPtr];
    trackBlocks(this, this.#ptrs);
  }

  /**
   * Loads data that was already validated and cannot change (the worker pool's own copy,
   * checked by the coordinator): no second check, and no private copy of a shared buffer,
   * so a worker holds X only in its wasm memory. @internal
   */
  static fromChecked(data: RegressionData): RegressionDataset {
    loadingChecked = true;
    try {
      return new RegressionDataset(data);
    } finally {
      loadingChecked = false;
    }
  }

  /**
   * Data already in this thread's wasm memory, validated, and owned by someone else (a
   * worker pool's shared memory, placed and freed by the pool): no copy, and dispose()
   * only forgets the pointers. @internal
   */
  static inPlace(rows: number, dim: number, xPtr: number, yPtr: number): RegressionDataset {
    placing = [xPtr, yPtr];
    try {
      return new RegressionDataset({ rows, dim } as RegressionData);
    } finally {
      placing = undefined;
    }
  }

  /** Pointers of X and y in wasm memory. @internal */
  get pointers(): [number, number] {
    this.checkLive();
    return this.#ptrs!;
  }

  /** @internal */
  checkLive(): void {
    checkLive('RegressionDataset', this.#ptrs === undefined);
  }

  /** Frees the wasm copy. Further use throws. Safe to call twice. */
  dispose(): void {
    if (!this.#ptrs) return;
    if (!this.#borrowed) releaseBlocks(this, this.#ptrs);
    this.#ptrs = undefined;
  }
}
