// A TF.js user's TypeScript file for gradcov/tfjs, type-checked (strict) against the types in
// the packed tarball with the optional peer @tensorflow/tfjs-core installed.
import * as tf from '@tensorflow/tfjs-core';
import { init, estimateCurvature, type CurvatureEstimate } from 'gradcov';
import { tfjsOracle, type TfjsOracle, type NamedValues, type TfjsOracleOptions } from 'gradcov/tfjs';

export async function curvature(xs: tf.Tensor2D, ys: tf.Tensor2D): Promise<number> {
  await init();
  const w = tf.variable(tf.zeros([xs.shape[1], ys.shape[1]]));
  const options: TfjsOracleOptions = { batchSize: 8, variables: [w], seed: 1 };
  const t: TfjsOracle = tfjsOracle((x) => tf.matMul(x, w), xs, ys, options);
  const { oracle, dim } = t;
  const est: CurvatureEstimate = await estimateCurvature(oracle, {
    dim,
    outputs: t.outputs,
    batchSize: 8,
    batches: 100,
    seed: 1,
    method: 'paired',
  });
  const parts: NamedValues[] = t.unflatten(est.hessian.subarray(0, dim));
  // @ts-expect-error batchSize is required
  tfjsOracle((x) => x, xs, ys, {});
  // @ts-expect-error 'sum' is not a loss convention of this version
  tfjsOracle((x) => x, xs, ys, { batchSize: 8, loss: 'sum' });
  return parts[0]!.values[0]! + est.gradientEvaluations;
}
