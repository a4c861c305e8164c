// The curvature of a TensorFlow.js MLP with 100,131 parameters (10 -> 310 -> 310 -> 1, tanh,
// untrained) on the diabetes data, from gradients alone, sketched, against the exact answer:
//
//   npm run build && npx tsx examples/tfjs/scale.mts [pairs] [size]
//
// prints each of the top 10 exact eigenvalues of G beside the sketch's certified interval and
// the sampling error m predicts, the diagonal's relative error, the trace, the largest angle
// between the top-5 eigenvector spans, and the wall time split between TF.js and gradcov.
// examples/tfjs/scale-run.mjs does the work (test/e2e/tfjs-scale.test.ts runs it too).
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import * as g from 'gradcov';
import { tfjsOracle } from 'gradcov/tfjs';
import { parseRows, runScale } from './scale-run.mjs';

tf.env().set('PROD', true); // no "install tfjs-node" banner
await tf.setBackend('cpu');
await g.init();
const read = (f: string) =>
  parseRows(readFileSync(new URL(`../../cli/data/diabetes/${f}`, import.meta.url), 'utf8'));
const pairs = Number(process.argv[2] ?? 2000),
  size = Number(process.argv[3] ?? 32);
const r = await runScale(
  { tf, g, tfjsOracle },
  {
    features: read('features.txt'),
    target: read('target.txt'),
    pairs,
    size,
    onProgress: (done: number, total: number) => process.stderr.write(`\r${done} / ${total} gradients`),
  },
);
process.stderr.write('\n');
console.log(
  `p = ${r.dim} parameters, N = ${r.rows} samples, n = ${r.batchSize}, m = ${r.pairs} pairs (${r.gradients} gradients), sketch size l = ${r.size}`,
);
console.log(' i   exact      sketch interval          +- 3 sd   inside');
for (let i = 0; i < r.exact.length; i++) {
  const tol = 3 * r.relativeSd * r.exact[i]!;
  const inside = r.exact[i]! > r.eigenvalues[i]! - tol && r.exact[i]! < r.upper[i]! + tol;
  console.log(
    `${String(i + 1).padStart(2)}  ${r.exact[i]!.toFixed(4).padStart(8)}  [${r.eigenvalues[i]!.toFixed(4)}, ${r.upper[i]!.toFixed(4)}]  ${tol.toFixed(4).padStart(8)}   ${inside ? 'yes' : 'NO'}`,
  );
}
console.log(
  `shrinkage ${r.shrinkage.toFixed(4)}; diagonal relative error ${r.diagonalError.toFixed(4)}; trace ${r.trace.toFixed(3)} (exact ${r.exactTrace.toFixed(3)}); top-${r.angleVectors} subspace angle ${r.angleDegrees.toFixed(1)} deg`,
);
console.log(
  `wall ${(r.wallMs / 1000).toFixed(1)} s: TF.js ${(r.tfMs / 1000).toFixed(1)} s (${(r.tfMs / r.gradients).toFixed(1)} ms per gradient), gradcov ${(r.gradcovMs / 1000).toFixed(2)} s (${((100 * r.gradcovMs) / r.wallMs).toFixed(1)}%); exact truth ${(r.truthMs / 1000).toFixed(1)} s`,
);
