// gradcov/tfjs against the exact Gauss–Newton matrix of a small tf.LayersModel (Node,
// @tensorflow/tfjs): dense and sketched paired estimates, the variable order and unflatten,
// no leaked tensors, and the errors on bad input. (test/e2e/tfjs-entry.test.ts runs the same
// checks from the packed tarball, with tfjs and with tfjs-core + backend-cpu, and in Chromium.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import * as g from '../../src/node.js';
import { tfjsOracle } from '../../src/tfjs/index.js';
import { jacobiEigenvalues } from '../../src/reference/spectral.js';
import { exactGaussNewton, frobenius, predictedPairedError } from '../helpers/tfjs-truth.mjs';

tf.env().set('PROD', true);
await tf.setBackend('cpu');
await g.init();

const N = 64,
  F = 3,
  K = 2,
  n = 8,
  PAIRS = 3000;
// fixed data and weights (a seeded tf.randomNormal / glorot initialiser)
const xs = tf.randomNormal([N, F], 0, 1, 'float32', 7) as tf.Tensor2D;
const ys = tf.randomNormal([N, K], 0, 1, 'float32', 8) as tf.Tensor2D;
const model = tf.sequential({
  layers: [
    tf.layers.dense({
      inputShape: [F],
      units: 4,
      activation: 'tanh',
      kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
      biasInitializer: 'zeros',
    }),
    tf.layers.dense({
      units: K,
      kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }),
      biasInitializer: tf.initializers.constant({ value: 0.5 }),
    }),
  ],
});
const dim = F * 4 + 4 + 4 * K + K;
const vars = model.trainableWeights.map((w) => w.read());
const G = exactGaussNewton(tf, (x: tf.Tensor) => model.apply(x) as tf.Tensor, vars, xs);

test('variables flattened in trainableWeights order; unflatten maps a vector back by name and shape', () => {
  const t = tfjsOracle(model, xs, ys, { batchSize: n });
  assert.is(t.dim, dim);
  assert.is(t.outputs, K);
  assert.is(t.batchSize, n);
  assert.equal(
    t.variables.map((v) => [v.name, v.shape, v.offset]),
    model.trainableWeights.map((w, i) => [w.name, w.shape, [0, 12, 16, 24][i]]),
  );
  const flat = new Float64Array(dim);
  let off = 0;
  for (const v of vars) {
    flat.set(v.dataSync(), off);
    off += v.size;
  }
  const parts = t.unflatten(flat);
  parts.forEach((p, i) => {
    assert.is(p.name, model.trainableWeights[i]!.name);
    assert.equal(p.shape, vars[i]!.shape);
    assert.equal(Array.from(p.values), Array.from(vars[i]!.dataSync()));
  });
  assert.throws(
    () => t.unflatten(new Float64Array(dim - 1)),
    (e: Error) => e instanceof RangeError && /`vector` must have length 26.*length 25/.test(e.message),
  );
  assert.throws(
    () => t.unflatten('x' as never),
    (e: Error) => e instanceof TypeError && /`vector`/.test(e.message),
  );
});

test('the oracle: the batch gradient of the mean half-squared loss at targets + noise, same rows per batch index', () => {
  const t = tfjsOracle(model, xs, ys, { batchSize: n, seed: 3 });
  const noise = Float64Array.from({ length: n * K }, (_, i) => Math.sin(i));
  const a = Float32Array.from(t.oracle({ batch: 5, draw: 0, noise, noiseVariance: 1 }) as Float32Array);
  const b = Float32Array.from(t.oracle({ batch: 5, draw: 1, noise, noiseVariance: 1 }) as Float32Array);
  assert.equal(a, b);
  const c = t.oracle({ batch: 6, draw: 0, noise, noiseVariance: 1 }) as Float32Array;
  assert.ok(frobenius(a, c) > 0);
  assert.is(a.length, dim);
  // the noise enters linearly: g(xi) - g(0) = -(1/n) sum_i J_i' xi_i, so doubling it doubles the difference
  const zero = Float32Array.from(
    t.oracle({ batch: 5, draw: 0, noise: new Float64Array(n * K), noiseVariance: 1 }) as Float32Array,
  );
  const twice = t.oracle({
    batch: 5,
    draw: 0,
    noise: noise.map((v) => 2 * v),
    noiseVariance: 1,
  }) as Float32Array;
  for (let i = 0; i < dim; i++)
    assert.ok(Math.abs(twice[i]! - zero[i]! - 2 * (a[i]! - zero[i]!)) < 1e-4, `parameter ${i}`);
});

test(`dense paired estimate (${PAIRS} pairs) within 1.5x its predicted error of the exact G; no tensor leaked`, async () => {
  const before = tf.memory().numTensors;
  const { oracle, dim: p, outputs } = tfjsOracle(model, xs, ys, { batchSize: n });
  const est = await g.estimateCurvature(oracle, {
    dim: p,
    outputs,
    batchSize: n,
    batches: PAIRS,
    seed: 1,
    method: 'paired',
  });
  assert.is(tf.memory().numTensors, before);
  const err = frobenius(est.hessian, G) / frobenius(G),
    predicted = predictedPairedError(G, dim, PAIRS);
  console.log(`  dense: relative error ${err.toFixed(4)}, predicted ${predicted.toFixed(4)}`);
  assert.ok(err < 1.5 * predicted, `error ${err} vs predicted ${predicted}`);
});

test('sketched paired estimate: top eigenvalues and the diagonal of the exact G within the sampling error', async () => {
  const before = tf.memory().numTensors;
  const { oracle } = tfjsOracle(model, xs, ys, { batchSize: n });
  const est = await g.estimateCurvature(oracle, {
    dim,
    outputs: K,
    batchSize: n,
    batches: PAIRS,
    seed: 1,
    method: 'paired',
    sketch: { size: 12, k: 3 },
  });
  assert.is(tf.memory().numTensors, before);
  const truth = jacobiEigenvalues(G, dim).reverse(); // descending
  // Weyl: |lambda_i(G_hat) - lambda_i(G)| <= ||G_hat - G||_F, bounded as in the dense test by
  // 1.5x its prediction; the sketch's interval [eigenvalue, upper] holds lambda_i(G_hat).
  // Measured (seed 1): every exact eigenvalue within 0.04 of its interval, tolerance 0.25
  const tol = 1.5 * predictedPairedError(G, dim, PAIRS) * frobenius(G);
  for (let i = 0; i < 3; i++) {
    console.log(
      `  lambda_${i + 1}: [${est.eigenvalues[i]!.toFixed(4)}, ${est.upper[i]!.toFixed(4)}] vs exact ${truth[i]!.toFixed(4)} (tolerance ${tol.toFixed(4)})`,
    );
    assert.ok(truth[i]! > est.eigenvalues[i]! - tol && truth[i]! < est.upper[i]! + tol, `eigenvalue ${i}`);
  }
  let dErr = 0,
    dNorm = 0;
  for (let i = 0; i < dim; i++) {
    dErr += (est.diagonal[i]! - G[i * dim + i]!) ** 2;
    dNorm += G[i * dim + i]! ** 2;
  }
  console.log(`  diagonal: relative error ${Math.sqrt(dErr / dNorm).toFixed(4)}`);
  assert.ok(
    Math.sqrt(dErr / dNorm) < 1.5 * predictedPairedError(G, dim, PAIRS),
    `diagonal relative error ${Math.sqrt(dErr / dNorm)}`,
  );
});

test('a model function with its variables gives the same gradients as the LayersModel', () => {
  const t1 = tfjsOracle(model, xs, ys, { batchSize: n });
  const t2 = tfjsOracle((x) => model.apply(x) as tf.Tensor, xs, ys, { batchSize: n, variables: vars });
  const noise = new Float64Array(n * K).fill(0.3);
  assert.equal(
    Array.from(t1.oracle({ batch: 2, draw: 0, noise, noiseVariance: 1 }) as Float32Array),
    Array.from(t2.oracle({ batch: 2, draw: 0, noise, noiseVariance: 1 }) as Float32Array),
  );
});

test('bad input: TypeError/RangeError naming the parameter, no tensor left behind', () => {
  const frozen = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [F], units: K, trainable: false })],
  });
  const before = tf.memory().numTensors;
  const cases: [() => unknown, typeof TypeError, RegExp][] = [
    [() => tfjsOracle(frozen, xs, ys, { batchSize: n }), TypeError, /`model` must have trainable variables/],
    [
      () => tfjsOracle(model, xs, tf.zeros([N - 1, K]) as tf.Tensor2D, { batchSize: n }),
      RangeError,
      /`ys` must have as many rows as `xs` \(64\)\. Value: 63 rows/,
    ],
    [() => tfjsOracle(model, xs, ys, { batchSize: 0 }), RangeError, /`batchSize`.*\[1, 64\].*0/],
    [() => tfjsOracle(model, xs, ys, { batchSize: N + 1 }), RangeError, /`batchSize`.*65/],
    [() => tfjsOracle(model, xs, ys, { batchSize: 2.5 }), RangeError, /`batchSize`/],
    [() => tfjsOracle(model, xs, ys, { batchSize: n, lss: 'sum' } as never), TypeError, /unknown key `lss`/],
    [() => tfjsOracle(model, xs, ys, { batchSize: n, loss: 'sum' } as never), RangeError, /`loss`/],
    [
      () => tfjsOracle(model, tf.zeros([N]) as never, ys, { batchSize: n }),
      RangeError,
      /`xs` must be a tf.Tensor2D \(rank 2\)/,
    ],
    [() => tfjsOracle(model, [[1]] as never, ys, { batchSize: n }), TypeError, /`xs` must be a tf.Tensor2D/],
    [
      () => tfjsOracle(model, xs, tf.zeros([N, 3]) as tf.Tensor2D, { batchSize: n }),
      RangeError,
      /`model` must map one row of xs to \[1, 3\]/,
    ],
    [() => tfjsOracle((x) => x, xs, ys, { batchSize: n }), TypeError, /`variables`/],
    [() => tfjsOracle(42 as never, xs, ys, { batchSize: n }), TypeError, /`model` must be a tf.LayersModel/],
  ];
  for (const [f, type, re] of cases)
    assert.throws(f, (e: Error) => e instanceof type && re.test(e.message), String(re));
  // the two tensors the cases made (the short ys, the rank-1 xs, the 3-column ys) are the caller's
  assert.is(tf.memory().numTensors, before + 3);
});

test.run();
