// The distributed trainer's H_hat far from the optimum: with paired noise (the default) the
// holders' pair differences give H at every iterate, so starting far away no longer inflates
// H_hat; the calibrated covariance (hessianEstimator 'calibrated') is inflated by the misfit
// of the early rounds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { createDistributedTrainer } from '../../src/node/workers.js';

await g.init(undefined, { build: 'simd' }); // at import, not in a hook: uvu 0.5 drops a hook's error message

test('trainer from a far start: paired H_hat stays within sampling error of H; calibrated is inflated', async () => {
  const p = g.syntheticRegression({ dim: 5, rows: 6000, condition: 10, seed: 3, noiseVariance: 1 });
  const H = g.secondMomentMatrix(p.data);
  const shards = [0, 1].map((k) => {
    const a = k * 3000,
      b = a + 3000;
    return { X: p.data.X.slice(a * 5, b * 5), y: p.data.y.slice(a, b), rows: 3000, dim: 5 };
  });
  // w0 with misfit d'Hd = 20 n: the first rounds' calibrated covariance is ~ (1 + 20) H + ...
  const n = 32;
  const w0 = g.pointAtMisfit(H, p.wStar, new Float64Array([1, -1, 1, 0, 0]), 20 * n);
  const errors: Record<string, number> = {};
  for (const hessianEstimator of ['paired', 'calibrated'] as const) {
    const trainer = await createDistributedTrainer(shards, {
      rounds: 4,
      batchSize: n,
      batchesPerRound: 2000,
      seed: 2,
      w0,
      hessianEstimator,
      learningRate: 0.5,
    });
    try {
      const r = await trainer.train();
      errors[hessianEstimator] = g.relativeError(r.hessian, H, 5);
    } finally {
      await trainer.close();
    }
  }
  console.log(
    `  H_hat relative error: paired ${errors.paired!.toFixed(4)}, calibrated ${errors.calibrated!.toFixed(3)}`,
  );
  // 4 rounds x 2000 pairs: seeds 2-7 gave 0.015-0.033 (calibrated: 38.7 at seed 2); bound 0.12
  assert.ok(errors.paired! < 0.12, `paired H_hat error ${errors.paired}`);
  assert.ok(errors.calibrated! > 1, `calibrated H_hat should be inflated: ${errors.calibrated}`);
});

test.run();
