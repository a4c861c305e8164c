// Child process of bench/covariance.js: the same addBatch cases on the relaxed-SIMD build
// (f64x2.relaxed_madd), which Node 20 runs only with --experimental-wasm-relaxed-simd.
// Prints { dim: { ms, cpuMs } } as JSON; the parent validates nothing here because
// test/core/covariance-relaxed.test.ts checks the relaxed build against the reference.
import * as g from '../dist/node.js';
import { timeIt } from './common.js';

await g.init(undefined, { build: 'relaxed-simd' });
const out = {};
for (const dim of process.argv.slice(2).map(Number)) {
  const n = dim === 1024 ? 512 : 4096;
  const G = new g.Rng(1).normals(new Float64Array(n * dim));
  const acc = new g.GradientCovariance(dim);
  const reps =
    process.env.BENCH_QUICK === '1' ? 3 : Math.max(5, Math.min(200, Math.floor(2e9 / (2 * n * dim * dim))));
  out[dim] = timeIt(() => {
    acc.reset();
    acc.addBatch(G);
  }, reps);
  acc.dispose();
}
console.log(JSON.stringify({ build: g.wasmBuild(), results: out }));
