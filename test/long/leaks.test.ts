// Issue 7, long runs: 10^5 create/use/dispose cycles of every object and 10^4 large
// addBatch calls. The bound: after a warm-up, WebAssembly memory does not grow at all
// (freed blocks are reused exactly), and it stays below the stated footprint.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import * as refCov from '../../src/reference/covariance.js';
import { maxAbsDiff, maxAbs } from '../helpers/helpers.js';

const { GradientCovariance, Rng } = g;
const MiB = 2 ** 20;

await g.init(undefined, { build: 'simd' }); // at import, not in a hook: uvu 0.5 drops a hook's error message

test('10^5 GradientCovariance create/add/addBatch/merge/covariance/dispose cycles: memory does not grow after warm-up', () => {
  const G = new Rng(1).normals(new Float64Array(20 * 8));
  const G32 = Float32Array.from(G);
  const other = new GradientCovariance(8).addBatch(G);
  const cycle = (i: number) => {
    const acc = new GradientCovariance(1 + (i % 8)); // dims 1..8: several block sizes in the heap
    if (acc.dim === 8)
      acc
        .addBatch(i % 2 ? G : G32)
        .merge(other)
        .add(G.subarray(0, 8));
    else acc.addBatch(G.subarray(0, acc.dim * 20));
    acc.covariance();
    acc.mean();
    acc.comoment();
    acc.reset().add(new Float64Array(acc.dim));
    acc.dispose();
  };
  for (let i = 0; i < 1000; i++) cycle(i);
  const warm = g.wasmMemoryBytes();
  for (let i = 0; i < 100000; i++) cycle(i);
  assert.is(g.wasmMemoryBytes(), warm, `grew from ${warm} to ${g.wasmMemoryBytes()}`);
  assert.ok(warm <= 8 * MiB, `footprint ${warm}`);
  other.dispose();
});

test('10^5 Rng create/normals/uniforms/seek cycles and 10^4 estimates: memory does not grow after warm-up', () => {
  const out = new Float64Array(100),
    big = new Float64Array(70000); // big: more than one 65536-value chunk
  const cycle = (i: number) => {
    const r = new Rng(i, i % 7);
    r.normals(out);
    r.uniforms(out);
    r.seek(i * 1000).normals(out, 1, 2);
    if (i % 1000 === 0) r.normals(big);
  };
  for (let i = 0; i < 1000; i++) cycle(i);
  const data = {
    X: new Rng(2).normals(new Float64Array(200 * 6)),
    y: new Rng(3).normals(new Float64Array(200)),
    rows: 200,
    dim: 6,
  };
  const est = (i: number) =>
    g.estimateHessian(data, new Float64Array(6), { batchSize: 8, batches: 20, seed: i });
  for (let i = 0; i < 100; i++) est(i);
  g.operatorNorm(new Float64Array(36).fill(1), 6);
  const warm = g.wasmMemoryBytes();
  for (let i = 0; i < 100000; i++) cycle(i);
  for (let i = 0; i < 10000; i++) {
    est(i);
    if (i % 100 === 0) g.relativeError(new Float64Array(36).fill(1), new Float64Array(36).fill(2), 6);
  }
  assert.is(g.wasmMemoryBytes(), warm, `grew from ${warm} to ${g.wasmMemoryBytes()}`);
  assert.ok(warm <= 8 * MiB, `footprint ${warm}`);
});

test('10^4 large addBatch calls (1024 x 32 doubles, 256 KiB each): memory bounded by the state plus the staging (whole 256-row blocks, about 512 KiB)', () => {
  const dim = 32,
    rows = 1024;
  const G = new Rng(5).normals(new Float64Array(rows * dim)).map((v, i) => v + (i % dim));
  const G32 = Float32Array.from(G);
  const acc = new GradientCovariance(dim);
  acc.addBatch(G);
  const warm = g.wasmMemoryBytes();
  for (let i = 1; i < 10000; i++) acc.addBatch(i % 10 === 0 ? Float32Array.from(G32) : G);
  assert.is(g.wasmMemoryBytes(), warm, `grew from ${warm} to ${g.wasmMemoryBytes()}`);
  // state 8 (dp^2 + dp) bytes, scratch 512 KiB staging + 256 x dp x 8 packing, plus the heap's start
  assert.ok(warm <= 4 * MiB, `footprint ${warm}`);
  assert.is(acc.count, 10000 * rows);
  // 9000 copies of G and 1000 of G as float32: compare with the exact mixture of the two blocks
  const one = refCov.covariance(G, rows, dim),
    one32 = refCov.covariance(Float64Array.from(G32), rows, dim);
  const M = new Float64Array(dim * dim),
    mu = new Float64Array(dim);
  const N = 10000 * rows;
  for (let j = 0; j < dim; j++) mu[j] = (9000 * one.mean[j]! + 1000 * one32.mean[j]!) / 10000;
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) {
      const within = (rows - 1) * (9000 * one.cov[i * dim + j]! + 1000 * one32.cov[i * dim + j]!);
      const between =
        rows *
        (9000 * (one.mean[i]! - mu[i]!) * (one.mean[j]! - mu[j]!) +
          1000 * (one32.mean[i]! - mu[i]!) * (one32.mean[j]! - mu[j]!));
      M[i * dim + j] = (within + between) / (N - 1);
    }
  }
  const C = acc.covariance();
  assert.ok(maxAbsDiff(C, M) <= 1e-10 * maxAbs(M), `${maxAbsDiff(C, M)}`);
  acc.dispose();
});

test.run();
