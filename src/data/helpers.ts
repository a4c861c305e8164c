// Small data utilities for evaluating the estimator: standardisation, the data's own
// second-moment matrix (the Hessian of the mean half-squared loss) and the least-squares
// fit. Plain TS: they run once per data set, not in the hot loop.
import type { RegressionData } from './dataset.js';
import {
  checkRegressionData,
  checkFloat64Array,
  checkLength,
  checkFinite,
  checkNonNegative,
} from '../core/validate.js';

const checkDataShape = (data: unknown): RegressionData => checkRegressionData(data);

/** Largest data.dim of the functions that build a dim x dim matrix (8 dim^2 bytes below 1 GiB, as in wasm). */
const MAX_MATRIX_DIM = 11585;

function checkMatrixDim(dim: number): void {
  if (dim > MAX_MATRIX_DIM) {
    throw new RangeError(
      `invalid argument: \`data.dim\` must be at most ${MAX_MATRIX_DIM} to form the dim x dim matrix X'X / rows (8 dim^2 bytes). Value: \`${dim}\`.`,
    );
  }
}

/** Relative sd below which standardize() treats a column as constant (sd <= 1e-12 (1 + |mean|)). */
const CONSTANT_SD = 1e-12;

/** What standardize() returns: the standardised data and the statistics it used. */
export interface Standardized extends RegressionData {
  /** Column means of X. */
  xMean: Float64Array;
  /** Column standard deviations of X (population sd; 1 for a constant column, which standardises to 0). */
  xScale: Float64Array;
  /** Mean of the target. */
  yMean: number;
  /** Standard deviation of the target (population sd). */
  yScale: number;
}

/**
 * Centres and scales every feature and the target to mean 0, variance 1. The calibration
 * rule compares the target-noise variance with the batch size, so the target's units
 * matter: standardise real data before using the default calibration.
 * @example
 * const std = standardize({ X, y, rows, dim });
 */
export function standardize(data: RegressionData): Standardized {
  const { X, y, rows, dim } = checkDataShape(data);
  const xMean = new Float64Array(dim),
    xScale = new Float64Array(dim);
  const Xs = new Float64Array(rows * dim);
  const col = new Float64Array(rows);
  for (let c = 0; c < dim; c++) {
    for (let r = 0; r < rows; r++) col[r] = X[r * dim + c]!;
    const s = standardizeColumn(col, `column ${c} of \`data.X\``);
    xMean[c] = s.mean;
    xScale[c] = s.scale;
    for (let r = 0; r < rows; r++) Xs[r * dim + c] = col[r]!;
  }
  const ys = y.slice();
  const t = standardizeColumn(ys, '`data.y`');
  return { X: Xs, y: ys, rows, dim, xMean, xScale, yMean: t.mean, yScale: t.scale };
}

/**
 * Standardises v in place; returns its mean and population sd (1 for a constant column,
 * which becomes 0). Computed on v / max|v| (a power of two), so that no square overflows
 * or underflows: any finite column gets its true mean and sd, up to rounding (a column
 * holding 1e300 standardises as well as one holding 1). A column whose standardised
 * values would still not be finite is refused with a RangeError naming it.
 */
function standardizeColumn(v: Float64Array, name: string): { mean: number; scale: number } {
  const n = v.length;
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(v[i]!));
  // a power of two near max (dividing by it is exact unless values fall below 2^-1022 of
  // it); 1, the plain computation, for the ordinary range where no square can overflow
  const e = max > 0 ? Math.floor(Math.log2(max)) : 0;
  const p = max > 2 ** -400 && max < 2 ** 400 ? 1 : max > 0 ? 2 ** Math.max(-1022, Math.min(1023, e)) : 1;
  let m = 0;
  for (let i = 0; i < n; i++) m += v[i]! / p / n;
  let q = 0;
  for (let i = 0; i < n; i++) q += (v[i]! / p - m) ** 2 / n;
  const sdScaled = Math.sqrt(q);
  const mean = m * p,
    sd = sdScaled * p;
  // A constant column whose mean is not exact in floating point has an sd of rounding
  // noise; dividing by it would turn that noise into +-1 values. Such a column (sd at the
  // rounding level of its mean) is constant: scale 1, standardised to exactly 0.
  if (sd <= CONSTANT_SD * (1 + Math.abs(mean)) || sdScaled <= CONSTANT_SD * Math.abs(m)) {
    v.fill(0);
    return { mean, scale: 1 };
  }
  for (let i = 0; i < n; i++) v[i] = (v[i]! / p - m) / sdScaled;
  if (!(Number.isFinite(mean) && Number.isFinite(sd) && sd > 0) || v.some((x) => x - x !== 0)) {
    throw new RangeError(
      `invalid argument: ${name} must have a scale representable in float64 to be standardised. Value: mean ${mean}, sd ${sd}.`,
    );
  }
  return { mean, scale: sd };
}

/**
 * H = X'X / rows, the data's second-moment matrix: the Hessian of the mean half-squared
 * loss and the matrix the gradient covariance estimates (dim x dim row-major).
 */
export function secondMomentMatrix(data: RegressionData): Float64Array {
  const { X, rows, dim } = checkDataShape(data);
  checkMatrixDim(dim);
  const H = new Float64Array(dim * dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let i = 0; i < dim; i++) {
      const a = X[o + i]! / rows;
      for (let j = i; j < dim; j++) H[i * dim + j]! += a * X[o + j]!;
    }
  }
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) H[i * dim + j] = H[j * dim + i]!;
  const bad = H.findIndex((v) => v - v !== 0);
  if (bad >= 0) {
    throw new RangeError(
      `secondMomentMatrix: X'X / rows overflows float64 at row ${Math.floor(bad / dim)}, column ${bad % dim} (\`data.X\` holds values too large to square); standardize the data (standardize()) or scale them down.`,
    );
  }
  return H;
}

/**
 * The least-squares fit w = argmin sum (x'w - y)^2 by the normal equations (Cholesky),
 * and the residual variance s2 = mean (x'w - y)^2 at it.
 * @throws {RangeError} when X'X is singular (collinear or constant features)
 */
export function leastSquares(data: RegressionData): {
  /** The least-squares weights. */
  w: Float64Array;
  /** Mean squared residual at w (divides by rows). */
  residualVariance: number;
} {
  const d = checkDataShape(data);
  const { X, y, rows, dim } = d;
  checkMatrixDim(dim);
  const H = secondMomentMatrix(d);
  const b = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) b[c]! += (X[r * dim + c]! * y[r]!) / rows;
  const L = new Float64Array(dim * dim);
  for (let j = 0; j < dim; j++) {
    let s = H[j * dim + j]!;
    for (let k = 0; k < j; k++) s -= L[j * dim + k]! ** 2;
    if (!(s > 1e-12 * H[j * dim + j]!)) {
      throw new RangeError(`leastSquares: X'X is singular at column ${j} (collinear or constant features).`);
    }
    L[j * dim + j] = Math.sqrt(s);
    for (let i = j + 1; i < dim; i++) {
      let t = H[i * dim + j]!;
      for (let k = 0; k < j; k++) t -= L[i * dim + k]! * L[j * dim + k]!;
      L[i * dim + j] = t / L[j * dim + j]!;
    }
  }
  const z = new Float64Array(dim),
    w = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    let t = b[i]!;
    for (let k = 0; k < i; k++) t -= L[i * dim + k]! * z[k]!;
    z[i] = t / L[i * dim + i]!;
  }
  for (let i = dim - 1; i >= 0; i--) {
    let t = z[i]!;
    for (let k = i + 1; k < dim; k++) t -= L[k * dim + i]! * w[k]!;
    w[i] = t / L[i * dim + i]!;
  }
  let s2 = 0;
  for (let r = 0; r < rows; r++) {
    let res = -y[r]!;
    for (let c = 0; c < dim; c++) res += X[r * dim + c]! * w[c]!;
    s2 += (res * res) / rows;
  }
  if (w.some((v) => v - v !== 0) || s2 - s2 !== 0) {
    throw new RangeError(
      'leastSquares: the fit overflows float64 (`data.y` or `data.X` holds values too large for the normal equations); standardize the data (standardize()) or scale them down.',
    );
  }
  return { w, residualVariance: s2 };
}

/**
 * w + d with d along `direction` scaled so that the misfit d'Hd equals `misfit`.
 * @throws {TypeError|RangeError} for malformed arrays, a negative misfit, or a direction with
 * d'Hd <= 0 when misfit > 0 (no multiple of it reaches the misfit)
 */
export function pointAtMisfit(
  H: Float64Array,
  w: Float64Array,
  direction: Float64Array,
  misfit: number,
): Float64Array {
  w = checkFloat64Array('w', w);
  const dim = w.length;
  if (dim === 0) throw new RangeError('invalid argument: `w` must not be empty. Value: length 0.');
  H = checkFloat64Array('H', H);
  checkLength('H', H, dim * dim, 'w.length squared');
  direction = checkFloat64Array('direction', direction);
  checkLength('direction', direction, dim, 'w.length');
  const m = checkNonNegative('misfit', misfit);
  checkFinite('H', H, H.length, dim);
  checkFinite('w', w);
  checkFinite('direction', direction);
  let q = 0;
  for (let i = 0; i < dim; i++)
    for (let j = 0; j < dim; j++) q += direction[i]! * H[i * dim + j]! * direction[j]!;
  if (m === 0) return w.slice();
  if (!(q > 0) || !Number.isFinite(q)) {
    throw new RangeError(
      `invalid argument: \`direction\` must have direction'H direction > 0 (finite) to reach misfit ${m}. Value: \`${q}\`.`,
    );
  }
  const s = Math.sqrt(m / q);
  const out = w.map((v, i) => v + s * direction[i]!);
  if (out.some((v) => v - v !== 0)) {
    throw new RangeError(
      `invalid argument: \`misfit\` is too large: w + d overflows float64. Value: \`${m}\`.`,
    );
  }
  return out;
}
