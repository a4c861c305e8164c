// What test/e2e/tfjs-entry.test.ts runs inside a project that installed the gradcov tarball
// and TF.js (Node, or bundled for Chromium): a small MLP 3 -> 4 (tanh) -> 2 as a function of
// four tf.variables (tfjs-core alone suffices) and, with @tensorflow/tfjs (tf.sequential
// there), the same weights as a tf.LayersModel; gradcov/tfjs's oracle into estimateCurvature,
// dense and sketched; the exact G from per-sample gradients. Plain JavaScript, every import
// passed in, so the same file runs in each setting. Returns numbers for the test to judge.
import { exactGaussNewton } from '../../helpers/tfjs-truth.mjs';

export async function check({ tf, g, tfjsOracle, pairs = 2000 }) {
  await g.init();
  const N = 48,
    F = 3,
    H = 4,
    K = 2,
    n = 8;
  const before = tf.memory().numTensors;
  const xs = tf.randomNormal([N, F], 0, 1, 'float32', 7);
  const ys = tf.randomNormal([N, K], 0, 1, 'float32', 8);
  // (tf.tidy disposes the initial values; variables outlive it)
  const [W1, b1, W2, b2] = tf.tidy(() => [
    tf.variable(tf.randomNormal([F, H], 0, 0.8, 'float32', 1), true, 'W1'),
    tf.variable(tf.fill([H], 0.1), true, 'b1'),
    tf.variable(tf.randomNormal([H, K], 0, 0.8, 'float32', 2), true, 'W2'),
    tf.variable(tf.fill([K], 0.5), true, 'b2'),
  ]);
  const vars = [W1, b1, W2, b2];
  const forward = (x) => tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, W1), b1)), W2), b2);
  const G = exactGaussNewton(tf, forward, vars, xs);
  const made = tf.memory().numTensors;
  const t = tfjsOracle(forward, xs, ys, { batchSize: n, variables: vars });
  const dense = await g.estimateCurvature(t.oracle, {
    dim: t.dim,
    outputs: t.outputs,
    batchSize: n,
    batches: pairs,
    seed: 1,
    method: 'paired',
  });
  const sketched = await g.estimateCurvature(t.oracle, {
    dim: t.dim,
    outputs: t.outputs,
    batchSize: n,
    batches: pairs,
    seed: 1,
    method: 'paired',
    sketch: { size: 12, k: 3 },
  });
  const leaked = tf.memory().numTensors - made;
  const names = t.unflatten(new Float64Array(t.dim)).map((v) => `${v.name}:${v.shape.join('x')}`);
  let layers = null;
  if (typeof tf.sequential === 'function') {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [F], units: H, activation: 'tanh' }),
        tf.layers.dense({ units: K }),
      ],
    });
    model.setWeights(vars);
    const withMade = tf.memory().numTensors;
    const { oracle, dim } = tfjsOracle(model, xs, ys, { batchSize: n });
    const noise = Float64Array.from({ length: n * K }, (_, i) => Math.cos(i));
    const a = Array.from(oracle({ batch: 3, draw: 0, noise, noiseVariance: 1 }));
    const b = Array.from(t.oracle({ batch: 3, draw: 0, noise, noiseVariance: 1 }));
    const est = await g.estimateCurvature(oracle, {
      dim,
      outputs: K,
      batchSize: n,
      batches: pairs,
      seed: 2,
      method: 'paired',
    });
    layers = {
      dim,
      gradientGap: Math.max(...a.map((v, i) => Math.abs(v - b[i]))),
      hessian: Array.from(est.hessian),
      leaked: tf.memory().numTensors - withMade,
    };
    model.dispose();
    layers.kept = tf.memory().numTensors - withMade + vars.length;
  }
  for (const v of vars) v.dispose();
  xs.dispose();
  ys.dispose();
  // (tfjs-layers keeps a few tensors of its own, e.g. cached scalars, after model.dispose())
  const after = tf.memory().numTensors - before - (layers ? layers.kept : 0);
  return {
    backend: tf.getBackend(),
    layers,
    dim: t.dim,
    outputs: t.outputs,
    names,
    leaked,
    after,
    G: Array.from(G),
    hessian: Array.from(dense.hessian),
    eigenvalues: Array.from(sketched.eigenvalues),
    upper: Array.from(sketched.upper),
    diagonal: Array.from(sketched.diagonal),
  };
}
