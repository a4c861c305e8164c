import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GradientCovariance } from '../../src/node.js';
import * as ref from '../../src/reference/covariance.js';
import { setup, maxAbs, maxAbsDiff, normals, offsetView } from '../helpers/helpers.js';
import { covarianceSweep } from '../helpers/covariance-sweep.js';

test.before(setup);

const EPS = 2.220446049250313e-16;

/** Tolerance for a covariance of `rows` rows: k * eps * rows * (largest |entry| of the centred data)^2. */
function close(got: Float64Array, want: Float64Array, scale: number, what: string): void {
  const err = maxAbsDiff(got, want);
  assert.ok(err <= 64 * EPS * scale, `${what}: max error ${err} > ${64 * EPS * scale}`);
}

function gradients(rows: number, dim: number, seed: number, offset = 0): Float64Array {
  const G = normals(rows * dim, seed);
  for (let i = 0; i < G.length; i++) G[i] = offset + G[i]! * (1 + (i % dim) / 3);
  return G;
}

// dims around the SIMD width (2) and the register tile (4), odd and larger; rows around
// the 256-row block
const DIMS = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 64];
const ROWS = [2, 3, 255, 256, 257, 600];

test('addBatch equals the two-pass reference (mean and covariance), edge dims and rows', () => {
  for (const dim of DIMS) {
    for (const rows of ROWS) {
      const G = gradients(rows, dim, dim * 1000 + rows, 0.5);
      const want = ref.covariance(G, rows, dim);
      const acc = new GradientCovariance(dim).addBatch(G);
      assert.is(acc.count, rows);
      close(acc.covariance(), want.cov, maxAbs(want.cov) + 1, `dim ${dim} rows ${rows}`);
      close(acc.mean(), want.mean, 1, `mean dim ${dim} rows ${rows}`);
      acc.dispose();
    }
  }
});

test('kernel edge sweep (tile and block boundaries, two-call merges, offsets, float32) equals the reference', () => {
  const { cases, failures } = covarianceSweep();
  assert.ok(cases > 200, `only ${cases} cases ran`);
  assert.equal(failures, []);
});

test('covariance is symmetric bit for bit; scale option multiplies it', () => {
  const dim = 13,
    G = gradients(300, dim, 1);
  const acc = new GradientCovariance(dim).addBatch(G);
  const C = acc.covariance();
  for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) assert.is(C[i * dim + j], C[j * dim + i]);
  const C2 = acc.covariance({ scale: 3 });
  for (let i = 0; i < C.length; i++) assert.ok(Math.abs(C2[i]! - 3 * C[i]!) <= 4 * EPS * Math.abs(C2[i]!));
  acc.dispose();
});

test('Float32 gradients are read as float32 by the kernel (no JS conversion) and match', () => {
  for (const dim of [1, 3, 4, 9, 31]) {
    const G64 = gradients(259, dim, 5);
    const G32 = Float32Array.from(G64);
    const want = ref.covariance(G32, 259, dim);
    const acc = new GradientCovariance(dim).addBatch(G32);
    close(acc.covariance(), want.cov, maxAbs(want.cov) + 1, `f32 dim ${dim}`);
    acc.dispose();
  }
});

test('view offsets and the rows argument: only rows x dim leading values are read', () => {
  const dim = 5,
    G = gradients(40, dim, 9);
  const acc = new GradientCovariance(dim).addBatch(offsetView(G));
  const want = ref.covariance(G, 40, dim);
  close(acc.covariance(), want.cov, maxAbs(want.cov) + 1, 'offset view');
  const acc2 = new GradientCovariance(dim).addBatch(G, 17);
  close(acc2.covariance(), ref.covariance(G, 17, dim).cov, 10, 'rows = 17');
  const sub = G.subarray(3 * dim, 20 * dim); // a view with byteOffset into a shared buffer
  const acc3 = new GradientCovariance(dim).addBatch(sub);
  close(acc3.covariance(), ref.covariance(G.slice(3 * dim, 20 * dim), 17, dim).cov, 10, 'subarray');
  acc.dispose();
  acc2.dispose();
  acc3.dispose();
});

test('streaming equals one-shot: one by one, uneven blocks, and merges, to 1e-12 relative', () => {
  for (const dim of [1, 6, 21]) {
    const rows = 700;
    const G = gradients(rows, dim, 77, 3);
    const oneShot = new GradientCovariance(dim).addBatch(G);
    const C = oneShot.covariance();
    const tol = 1e-12 * maxAbs(C);
    const single = new GradientCovariance(dim);
    for (let r = 0; r < rows; r++) single.add(G.subarray(r * dim, (r + 1) * dim));
    assert.ok(maxAbsDiff(single.covariance(), C) <= tol, `one by one dim ${dim}`);
    const blocks = new GradientCovariance(dim);
    for (const [a, b] of [
      [0, 1],
      [1, 4],
      [4, 300],
      [300, 301],
      [301, 700],
    ])
      blocks.addBatch(G.subarray(a! * dim, b! * dim));
    assert.ok(maxAbsDiff(blocks.covariance(), C) <= tol, `blocks dim ${dim}`);
    const left = new GradientCovariance(dim).addBatch(G.subarray(0, 123 * dim));
    const right = new GradientCovariance(dim).addBatch(G.subarray(123 * dim));
    const empty = new GradientCovariance(dim);
    left.merge(empty).merge(right);
    assert.is(left.count, rows);
    assert.ok(maxAbsDiff(left.covariance(), C) <= tol, `merge dim ${dim}`);
    assert.ok(maxAbsDiff(left.mean(), oneShot.mean()) <= 1e-12 * (1 + maxAbs(oneShot.mean())), 'merged mean');
    const other = new GradientCovariance(dim).merge(right); // merge into an empty one
    assert.ok(maxAbsDiff(other.covariance(), right.covariance()) <= tol, 'merge into empty');
    assert.is(right.count, rows - 123, 'merge leaves the other unchanged');
    for (const a of [oneShot, single, blocks, left, right, empty, other]) a.dispose();
  }
});

test('large common offset (1e6) and tiny spread (1e-6): stays accurate (block centring)', () => {
  const dim = 7,
    rows = 1000;
  for (const [offset, spread] of [
    [1e6, 1],
    [1, 1e-6],
  ] as [number, number][]) {
    const Z = gradients(rows, dim, 4);
    const G = Z.map((v) => offset + spread * v);
    // truth from the exactly representable centred values: G - offset is computed exactly here
    const centred = G.map((v) => v - offset);
    const want = ref.covariance(centred, rows, dim).cov;
    const acc = new GradientCovariance(dim);
    for (let r = 0; r < rows; r += 100) acc.addBatch(G.subarray(r * dim, (r + 100) * dim));
    const rel = maxAbsDiff(acc.covariance(), want) / maxAbs(want);
    assert.ok(rel <= 1e-8, `offset ${offset} spread ${spread}: relative error ${rel}`);
  }
});

test('reset forgets everything; count < 2 has no covariance; dispose is final', () => {
  const acc = new GradientCovariance(3).addBatch(gradients(10, 3, 1));
  acc.reset();
  assert.is(acc.count, 0);
  assert.equal(Array.from(acc.mean()), [0, 0, 0]);
  assert.throws(() => acc.covariance(), RangeError);
  acc.add(new Float64Array([1, 2, 3]));
  assert.throws(() => acc.covariance(), /at least 2/);
  acc.add(new Float64Array([3, 2, 1]));
  assert.equal(Array.from(acc.covariance()), [2, 0, -2, 0, 0, 0, -2, 0, 2]);
  acc.dispose();
  acc.dispose();
  assert.throws(() => acc.add(new Float64Array(3)), /disposed/);
});

test.run();
