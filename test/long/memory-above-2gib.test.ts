// Live objects above 2 GiB of wasm memory: pointers are unsigned (a block above 2^31 used to
// come back negative, fail, and leak on every attempt). Fills wasm memory to ~2.3 GiB, uses
// objects placed at the top (accumulators, datasets, the generator's and the oracle's
// scratch, Cholesky, serialization), frees, and reuses the memory; also the two
// routes there: ~70,000 live dim-64 accumulators, and 43 create/drop cycles of a 120 MB
// RegressionDataset. Results at the top must equal the same work done at the bottom, bit
// for bit. Needs ~2.5 GiB of RAM for the wasm memory plus the JS copies.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { alloc, free, wasmLiveBytes } from '../../src/core/wasm.js';

const GiB = 2 ** 30,
  MiB = 2 ** 20;

await g.init(undefined, { build: 'simd' }); // at import, not in a hook: uvu 0.5 drops a hook's error message

const normals = (n: number, seed: number) => new g.Rng(seed).normals(new Float64Array(n));

/** A fixed workload touching every kind of block; returns a fingerprint of its results. */
function workload(): string {
  const d = { X: normals(500 * 16, 1), y: normals(500, 2), rows: 500, dim: 16 };
  const ds = new g.RegressionDataset(d);
  const acc = new g.GradientCovariance(64).addBatch(normals(64 * 300, 3)).add(normals(64, 4));
  const blob = acc.toBytes();
  const back = g.GradientCovariance.fromBytes(blob);
  const est = g.estimateHessian(ds, new Float64Array(16), { batchSize: 32, batches: 300, seed: 5 });
  const G = g.linearRegressionGradients(ds, new Float64Array(16), {
    batchSize: 8,
    batches: 10,
    noiseVariance: 8,
    seed: 6,
  });
  const L = g.choleskyFactor(g.secondMomentMatrix(d), 16);
  const z = new g.Rng(7).normals(new Float64Array(50000));
  const op = g.operatorNorm(est.hessian, 16).value;
  const out = [
    est.hessian.join(),
    G.join(),
    L.join(),
    z[49999],
    back.covariance().slice(0, 64).join(),
    op,
  ].join('|');
  ds.dispose();
  acc.dispose();
  back.dispose();
  return out;
}

test('objects at the top of ~2.3 GiB of wasm memory work and give the same bits; freed memory is reused', () => {
  const baseline = workload();
  const fill: g.RegressionDataset[] = [];
  const rows = Math.floor((100 * MiB) / (64 * 8));
  const X = new Float64Array(rows * 64).fill(0.25),
    y = new Float64Array(rows).fill(1);
  while (wasmLiveBytes() < 2.3 * GiB) fill.push(new g.RegressionDataset({ X, y, rows, dim: 64 }));
  assert.ok(g.wasmMemoryBytes() > 2 * GiB, `memory ${g.wasmMemoryBytes()}`);
  const probe = alloc(1 * MiB, 'a probe block');
  assert.ok(probe >= 2 ** 31, `a new block lands above 2 GiB (at ${probe})`);
  free(probe);
  assert.is(workload(), baseline, 'the same work at the top of memory gives the same bits');
  // a dataset at the top, used by the oracle
  const top = fill[fill.length - 1]!;
  const e1 = g.estimateHessian(top, new Float64Array(64), { batchSize: 16, batches: 20, seed: 1 });
  assert.ok(e1.hessian.every(Number.isFinite));
  const reserved = g.wasmMemoryBytes();
  for (const d of fill) d.dispose();
  // reuse: the same fill again does not grow memory
  const again: g.RegressionDataset[] = [];
  for (let i = 0; i < fill.length; i++) again.push(new g.RegressionDataset({ X, y, rows, dim: 64 }));
  assert.is(g.wasmMemoryBytes(), reserved, 'freed blocks were reused');
  assert.is(workload(), baseline);
  for (const d of again) d.dispose();
});

test("the issue's routes: ~70,000 live dim-64 accumulators, and 43 create/drop cycles of a 120 MB RegressionDataset", () => {
  const live0 = wasmLiveBytes();
  const accs: g.GradientCovariance[] = [];
  const gvec = normals(64 * 2, 9);
  while (wasmLiveBytes() - live0 < 2.2 * GiB) accs.push(new g.GradientCovariance(64).addBatch(gvec));
  assert.ok(accs.length > 64458, `${accs.length} accumulators`);
  const first = accs[0]!.toBytes();
  for (const i of [0, accs.length >> 1, accs.length - 1])
    assert.equal(accs[i]!.toBytes(), first, `accumulator ${i}`);
  const z = new g.Rng(3).normals(new Float64Array(10)); // the generator's scratch still works
  assert.ok(z.every(Number.isFinite));
  for (const a of accs) a.dispose();
  const rows = Math.floor(120e6 / (64 * 8));
  const X = new Float64Array(rows * 64).fill(0.5),
    y = new Float64Array(rows).fill(1);
  let afterFirst = 0;
  for (let i = 0; i < 43; i++) {
    const ds = new g.RegressionDataset({ X, y, rows, dim: 64 });
    ds.dispose();
    if (i === 0) afterFirst = g.wasmMemoryBytes();
  }
  assert.is(
    g.wasmMemoryBytes(),
    afterFirst,
    "the 42 later cycles reuse the first one's block: nothing leaks",
  );
  assert.is(wasmLiveBytes(), live0, 'everything freed');
});

test.run();
