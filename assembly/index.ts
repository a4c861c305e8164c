// gradcov kernels. Every export takes numbers and pointers into linear memory only:
// no validation, no allocation (the TS wrappers own memory through alloc/free).

export { philoxFill, philoxBlock } from './rng';
export { mathLog, mathCosSin2Pi, mathBoxMuller } from './vmath';
export { lrGradients, lrGradientsScratchBytes, lrSortAreaBytes, lrBucketShift, lrGradientsTuning } from './gradient';
export { lrPairedDiffs, lrPairedDiffsScratchBytes } from './paired';
export { covAddRows, covAddRowsF32, covMerge, covWrite, covPaddedDim, covScratchBytes } from './covariance';
export { firstNonFinite } from './linalg';
export { matvec, symMatvec, matvecDiff, matrixInfo, symPrepare, matSub, powerIteration, lanczosSteps, ritzEnds } from './spectral';
export { sketchGram, sketchGramF32, sketchGramScratchBytes, sketchRotate, sketchRotateF32, sketchRotateScratchBytes, sketchAddRows, sketchAddRowsF32 } from './sketch';
export { choleskyFactor, choleskyForward, choleskyBackward, choleskySolve } from './cholesky';

/** Allocates `size` bytes (16-byte aligned) on the module's heap. */
export function alloc(size: usize): usize {
  return heap.alloc(size);
}

/** Frees a block returned by alloc. */
export function free(ptr: usize): void {
  heap.free(ptr);
}
