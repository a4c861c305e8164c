// The Web Worker: loads gradcov and sweeps the injected noise variance, posting one point at
// a time. No bundler here, and module workers see no import map, so it imports the
// self-contained build (gradcov/standalone: the loader and the .wasm inside), which any
// static server can serve. In an app with a bundler, import from 'gradcov' instead.
import {
  init,
  syntheticRegression,
  secondMomentMatrix,
  estimateHessian,
  relativeError,
} from '../../dist/standalone.js';

const RATIOS = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4];

self.onmessage = async ({
  data: { dim = 12, rows = 4000, batchSize = 64, batches = 4000, seed = 1 } = {},
}) => {
  try {
    await init();
    const problem = syntheticRegression({ dim, rows, seed, noiseVariance: 1 });
    const H = secondMomentMatrix(problem.data);
    for (const ratio of RATIOS) {
      const { hessian } = estimateHessian(problem.data, problem.wStar, {
        batchSize,
        batches,
        noiseVariance: ratio * batchSize,
        seed,
      });
      self.postMessage({ ratio, error: relativeError(hessian, H, dim) });
    }
    self.postMessage({ done: true, dim, rows, batchSize, batches });
  } catch (err) {
    self.postMessage({ failed: String((err && err.message) || err) });
  }
};
