// The Gauss–Newton matrix of a TensorFlow.js MLP (10 -> 16 -> 1, tanh) on the diabetes data
// from its gradients alone, at an untrained w far from any fit:
//
//   npm run build && npx tsx examples/tfjs/curvature.mts [pairs]
//
// prints the paired estimate's relative error against the exact G (from per-sample
// Jacobians), the error the method predicts, and the calibrated estimate's error at the
// same number of gradient evaluations.
import { readFileSync } from 'node:fs';
import { init, estimateCurvature, standardize } from 'gradcov';
import { loadTf } from './load-tf.js';
import { mlpProblem } from './mlp.js';

const pairs = Number(process.argv[2] ?? 2000);
const tf = await loadTf();
await init();
const read = (f: string) =>
  readFileSync(new URL(`../../cli/data/diabetes/${f}`, import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
const feats = read('features.txt');
const data = standardize({
  X: Float64Array.from(feats.flat()),
  y: Float64Array.from(read('target.txt').flat()),
  rows: feats.length,
  dim: 10,
});

const n = 32;
const model = mlpProblem(tf, data, { batchSize: n, seed: 1, outputScale: 3 });
const { dim, oracle } = model;
let t0 = performance.now();
const paired = await estimateCurvature(oracle, {
  dim,
  batchSize: n,
  batches: pairs,
  seed: 1,
  method: 'paired',
});
const pairedMs = performance.now() - t0;
t0 = performance.now();
const calibrated = await estimateCurvature(oracle, { dim, batchSize: n, batches: 2 * pairs, seed: 2 });
const calibratedMs = performance.now() - t0;

const G = model.exactG();
const fro = (a: Float64Array, b?: Float64Array) =>
  Math.sqrt(a.reduce((s, v, i) => s + (v - (b ? b[i]! : 0)) ** 2, 0));
let tr = 0;
for (let i = 0; i < dim; i++) tr += G[i * dim + i]!;
const predicted = Math.sqrt((tr * tr + fro(G) ** 2) / pairs) / fro(G);
console.log(
  `p = ${dim} parameters, n = ${n}, mean squared residual ${model.meanSquaredResidual().toFixed(1)}`,
);
console.log(
  `paired, ${paired.gradientEvaluations} gradients (${(pairedMs / 1000).toFixed(1)} s): relative Frobenius error ${(fro(paired.hessian, G) / fro(G)).toFixed(4)} (predicted ${predicted.toFixed(4)})`,
);
console.log(
  `calibrated, ${calibrated.gradientEvaluations} gradients (${(calibratedMs / 1000).toFixed(1)} s): relative Frobenius error ${(fro(calibrated.hessian, G) / fro(G)).toFixed(4)}`,
);
model.dispose();
