// gradcov core: runs in any JavaScript runtime with WebAssembly SIMD (no Node-only APIs).
export {
  init, isInitialized, wasmModule, wasmMemoryBytes, wasmBuild, relaxedSimdSupported,
  type WasmSource, type WasmModule, type WasmResponse, type WasmBuild, type BuildPreference, type InitOptions,
} from './wasm.js';
export { Rng } from './rng.js';
export { calibratedNoiseVariance, injectTargetNoise, LOSS_CONVENTIONS, type LossConvention, type CalibrationOptions } from './noise.js';
export { GradientCovariance } from './covariance.js';
export type { FloatArray } from './validate.js';
export {
  linearRegressionGradients, estimateHessian, RegressionDataset,
  type RegressionData, type GradientOptions, type EstimateOptions, type HessianEstimate,
} from './gradients.js';
export { ESTIMATOR_METHODS, type EstimatorMethod, type CurvatureEstimate } from './estimators.js';
export {
  estimateCurvature, targetNoise,
  type GradientOracle, type GradientRequest, type CurvatureOptions, type TargetNoiseOptions,
} from './curvature.js';
export { PairedGradients } from './pairs.js';
export {
  operatorNorm, operatorNormDiff, relativeError, extremeEigenvalues,
  type SpectralOptions, type SpectralResult, type SpectralMethod, type ExtremeEigenvalues,
} from './spectral.js';
export { standardize, secondMomentMatrix, leastSquares, pointAtMisfit, type Standardized } from './data.js';
export {
  syntheticRegression, randomOrthogonal, matrixWithSpectrum, INPUT_DISTRIBUTIONS,
  type SyntheticOptions, type SyntheticProblem, type InputDistribution,
} from './synthetic.js';
export { choleskyFactor, choleskySolve, type CholeskyOptions } from './cholesky.js';
export { Preconditioner, fitLinearRegression, type FitOptions, type FitResult } from './preconditioner.js';
export { estimateRisk, type RiskInput, type RiskOptions, type RiskEstimate, type AdversarialRisk } from './risk.js';
export { riskOnData, dualNorm, type PerturbationNorm } from './risk-on-data.js';
export {
  EstimatorPool, DEFAULT_BLOCK_BATCHES,
  type Transport, type TransferList, type SharedData, type PoolEstimateOptions,
} from './pool.js';
export { DistributedTrainer, type TrainOptions, type TrainResult } from './distributed.js';
