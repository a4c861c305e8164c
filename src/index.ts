// gradcov core: runs in any JavaScript runtime with WebAssembly SIMD (no Node-only APIs).
export {
  init,
  isInitialized,
  wasmModule,
  wasmMemoryBytes,
  wasmBuild,
  relaxedSimdSupported,
  type WasmSource,
  type WasmModule,
  type WasmResponse,
  type WasmBuild,
  type BuildPreference,
  type InitOptions,
} from './core/wasm.js';
export { Rng } from './core/rng.js';
export {
  calibratedNoiseVariance,
  injectTargetNoise,
  LOSS_CONVENTIONS,
  type LossConvention,
  type CalibrationOptions,
} from './estimators/noise.js';
export { GradientCovariance, type GradientCovarianceOptions, type Precision } from './core/covariance.js';
export { CurvatureSketch, type SketchOptions, type SketchEigenpairs } from './sketch/sketch.js';
export type { FloatArray } from './core/validate.js';
export {
  linearRegressionGradients,
  type GradientOptions,
  type EstimateOptions,
  type HessianEstimate,
} from './estimators/oracle.js';
export { estimateHessian } from './estimators/plan.js';
export { RegressionDataset, type RegressionData } from './data/dataset.js';
export { ESTIMATOR_METHODS, type EstimatorMethod, type CurvatureEstimate } from './estimators/methods.js';
export {
  estimateCurvature,
  curvatureBlocks,
  computeCurvatureBlock,
  finishCurvature,
  targetNoise,
  type CurvatureBlock,
  type GradientOracle,
  type GradientRequest,
  type CurvatureOptions,
  type TargetNoiseOptions,
} from './estimators/curvature.js';
export type { SketchEstimateOptions, SketchedCurvature } from './estimators/sketched.js';
export { PairedGradients } from './estimators/pairs.js';
export {
  operatorNorm,
  operatorNormDiff,
  relativeError,
  extremeEigenvalues,
  type SpectralOptions,
  type SpectralResult,
  type SpectralMethod,
  type ExtremeEigenvalues,
} from './spectral/spectral.js';
export {
  standardize,
  secondMomentMatrix,
  leastSquares,
  pointAtMisfit,
  type Standardized,
} from './data/helpers.js';
export {
  syntheticRegression,
  randomOrthogonal,
  matrixWithSpectrum,
  INPUT_DISTRIBUTIONS,
  type SyntheticOptions,
  type SyntheticProblem,
  type InputDistribution,
} from './data/synthetic.js';
export {
  plantedSpectrum,
  walshHadamard,
  type PlantedSpectrum,
  type PlantedSpectrumOptions,
} from './data/planted.js';
export { choleskyFactor, choleskySolve, type CholeskyOptions } from './core/cholesky.js';
export { Preconditioner } from './apps/preconditioner.js';
export { fitLinearRegression, type FitOptions, type FitResult } from './apps/fit.js';
export {
  LowRankPreconditioner,
  type LowRankCurvature,
  type LowRankOptions,
} from './apps/sketch-preconditioner.js';
export {
  estimateRisk,
  type RiskInput,
  type RiskOptions,
  type RiskEstimate,
  type AdversarialRisk,
} from './apps/risk.js';
export { riskOnData, dualNorm, type PerturbationNorm } from './apps/risk-on-data.js';
export {
  EstimatorPool,
  DEFAULT_BLOCK_BATCHES,
  type SharedData,
  type PoolEstimateOptions,
} from './parallel/pool.js';
export { type Transport, type TransferList } from './parallel/channel.js';
export { DistributedTrainer, type TrainOptions, type TrainResult } from './parallel/trainer.js';
