// A TensorFlow.js model as a gradient oracle for gradcov: an MLP inputs -> hidden -> 1
// (tanh) trained with the mean half-squared loss. gradcov hands the oracle a batch index and
// the noise to add to that batch's targets; the oracle answers with tf.variableGrads of the
// batch loss, flattened in a fixed variable order. The exact Gauss–Newton matrix
// G = (1/rows) sum_i J_i' J_i (per-sample Jacobians) is here only to check the estimate.
//
// `tf` is passed in (the caller imports @tensorflow/tfjs-core with its gradients registered
// and a backend), so this file has no runtime dependency of its own.
import type * as TF from '@tensorflow/tfjs-core';

/** What estimateCurvature hands the oracle (the fields used here). */
export interface NoiseRequest {
  batch: number;
  noise: Float64Array;
}

export interface MlpOptions {
  /** Hidden units (default 16). */
  hidden?: number;
  /** Samples per batch n. */
  batchSize: number;
  /** Seed of the initial weights and of the batches' rows. */
  seed: number;
  /** Standard deviation of the output weights (default 1): larger puts w further from the optimum. */
  outputScale?: number;
}

export interface MlpProblem {
  /** Number of parameters p. */
  dim: number;
  /** The gradient oracle: batch `batch` (fixed rows), targets + noise. */
  oracle(request: NoiseRequest): Float32Array;
  /** The exact G = (1/rows) sum_i J_i' J_i over the whole data (p x p). */
  exactG(): Float64Array;
  /** Mean squared residual of the model on the data (how far w is from a fit). */
  meanSquaredResidual(): number;
  dispose(): void;
}

/** splitmix32: a small seeded generator for the initial weights and the batch rows. */
function splitmix(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

/** Builds the model at a random (untrained) w on standardised data { X, y, rows, dim }. */
export function mlpProblem(
  tf: typeof TF,
  data: { X: Float64Array; y: Float64Array; rows: number; dim: number },
  o: MlpOptions,
): MlpProblem {
  const hidden = o.hidden ?? 16,
    n = o.batchSize,
    inputs = data.dim;
  const rnd = splitmix(o.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const variable = (shape: number[], sd: number) =>
    tf.variable(
      tf.tensor(
        Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => sd * gauss()),
        shape,
      ),
    );
  // fixed variable order: W1, b1, W2, b2
  const vars = [
    variable([inputs, hidden], 1 / Math.sqrt(inputs)),
    variable([hidden], 0.1),
    variable([hidden, 1], o.outputScale ?? 1),
    variable([1], 0.1),
  ];
  const dim = vars.reduce((s, v) => s + v.size, 0);
  const X = tf.tensor2d(Float32Array.from(data.X), [data.rows, inputs]);
  const Y = tf.tensor2d(Float32Array.from(data.y), [data.rows, 1]);
  const f = (x: TF.Tensor2D) =>
    tf.add(
      tf.matMul(tf.tanh(tf.add(tf.matMul(x, vars[0] as TF.Tensor2D), vars[1]!)), vars[2] as TF.Tensor2D),
      vars[3]!,
    ) as TF.Tensor2D;
  const flatten = (grads: Record<string, TF.Tensor>): Float32Array => {
    const out = new Float32Array(dim);
    let off = 0;
    for (const v of vars) {
      out.set(grads[v.name]!.dataSync() as Float32Array, off);
      off += v.size;
    }
    return out;
  };
  /** Rows of batch b: n uniform draws with replacement, a function of (seed, b) only. */
  const rowsOf = (b: number): Int32Array => {
    const r = splitmix((o.seed * 0x9e3779b1 + b * 0x85ebca6b) >>> 0);
    return Int32Array.from({ length: n }, () => Math.floor(r() * data.rows));
  };
  return {
    dim,
    oracle: ({ batch, noise }) =>
      tf.tidy(() => {
        const idx = tf.tensor1d(rowsOf(batch), 'int32');
        const target = tf.add(tf.gather(Y, idx), tf.tensor2d(Float32Array.from(noise), [n, 1]));
        const loss = () =>
          tf.div(tf.sum(tf.square(tf.sub(f(tf.gather(X, idx) as TF.Tensor2D), target))), 2 * n) as TF.Scalar;
        return flatten(tf.variableGrads(loss, vars).grads);
      }),
    exactG: () => {
      const G = new Float64Array(dim * dim);
      for (let i = 0; i < data.rows; i++) {
        const J = tf.tidy(() =>
          flatten(
            tf.variableGrads(() => tf.sum(f(tf.slice(X, [i, 0], [1, inputs]))) as TF.Scalar, vars).grads,
          ),
        );
        for (let a = 0; a < dim; a++) {
          const ja = J[a]! / data.rows;
          if (ja !== 0) for (let b = 0; b < dim; b++) G[a * dim + b]! += ja * J[b]!;
        }
      }
      return G;
    },
    meanSquaredResidual: () => tf.tidy(() => tf.mean(tf.square(tf.sub(f(X), Y))).dataSync()[0]!),
    dispose: () => {
      for (const v of vars) v.dispose();
      X.dispose();
      Y.dispose();
    },
  };
}
