// The CLI's documented bounds (docs/cli.md, "Limits"), in one place. Options are checked
// against them when parsed, data when read, before anything large is allocated: a value
// beyond a bound is an error that names the option or the file and the bound.

/** `--batch-size`: rows per batch. Batches sample rows with replacement, so n may exceed the rows (with a warning). */
export const MAX_BATCH_SIZE = 1_048_576; // 2^20

/** `--batches`: batch gradients per estimate. */
export const MAX_BATCHES = 10_000_000;

/**
 * Feature columns (`estimate`) and `--dim`/`--dims` (experiments). The estimate keeps about
 * MATRICES dim x dim matrices of doubles (the second-moment matrix, the fit's Gram matrix
 * and factor, the covariance and its accumulator, the error's work space): 2048 features
 * take about 270 MB; 10^5 would take 640 GB.
 */
export const MAX_FEATURES = 2048;
export const MATRICES = 8;

/** Largest magnitude of a cell: squares of larger values overflow double precision (1.8e308). */
export const MAX_ABS_VALUE = 1e150;

/** `--noise`: injected target-noise variance (the calibrated value is about the batch size). */
export const MAX_NOISE = 1e150;

/** The data kept in memory (rows x (features + 1) doubles; a second copy lives in WebAssembly memory, whose address space is 4 GiB). */
export const MAX_DATA_BYTES = 2 ** 31;

/** `--rows` of the synthetic experiments. */
export const MAX_ROWS = 100_000_000;

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let u = 0;
  while (bytes >= 1000 && u < units.length - 1) {
    bytes /= 1000;
    u++;
  }
  return `${bytes < 10 && u > 0 ? bytes.toFixed(1) : Math.round(bytes)} ${units[u]}`;
}

/** Bytes of the dim x dim matrices an estimate keeps. */
export const matrixBytes = (dim: number): number => MATRICES * 8 * dim * dim;
