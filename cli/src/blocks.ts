// The estimate's gradients in the block structure every gradcov runner shares (the worker
// pool, gradcov/bullmq): blocks of DEFAULT_BLOCK_BATCHES batches, each a fresh accumulator,
// merged in block order. So `gradcov estimate` gives the same bits with or without --redis.
import {
  DEFAULT_BLOCK_BATCHES,
  GradientCovariance,
  linearRegressionGradients,
  type RegressionData,
  type RegressionDataset,
} from 'gradcov';
import type { Progress } from './progress.js';

export async function blockwiseCovariance(
  data: RegressionData | RegressionDataset,
  w: Float64Array,
  n: number,
  m: number,
  tau2: number,
  seed: number,
  progress: Progress,
): Promise<Float64Array> {
  const total = new GradientCovariance(data.dim);
  try {
    progress.start('estimate', Math.ceil(m / DEFAULT_BLOCK_BATCHES), 'blocks');
    for (let b = 0; b < m; b += DEFAULT_BLOCK_BATCHES) {
      const count = Math.min(DEFAULT_BLOCK_BATCHES, m - b);
      const block = new GradientCovariance(data.dim);
      try {
        block.addBatch(
          linearRegressionGradients(data, w, {
            batchSize: n,
            batches: count,
            noiseVariance: tau2,
            seed,
            firstBatch: b,
          }),
        );
        total.merge(block);
      } finally {
        block.dispose();
      }
      await progress.tick();
    }
    progress.stop();
    return total.covariance();
  } finally {
    total.dispose();
  }
}
