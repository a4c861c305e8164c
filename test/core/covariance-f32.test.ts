// GradientCovariance({ precision: 'f32' }): the f32x4 kernel (assembly/covariance.ts
// covAddRowsF32) against its operation-for-operation plain-TS reference (bit for bit, at
// edge dims around the 4-wide panels and the 4 x 8 tile and edge rows around the 64-row
// f32 runs and the 256-row blocks), its accuracy against the f64 path, options, merge and
// serialisation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GradientCovariance } from '../../src/node.js';
import { ReferenceCovarianceF32 } from '../../src/reference/covariance.js';
import { setup, normals, assertSameValues } from '../helpers/helpers.js';

test.before(setup);

function gradients(rows: number, dim: number, seed: number, offset = 0): Float64Array {
  const G = normals(rows * dim, seed);
  for (let i = 0; i < G.length; i++) G[i] = offset + G[i]! * (1 + (i % dim) / 3);
  return G;
}

const DIMS = [1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 33, 68];
const ROWS = [0, 1, 2, 3, 63, 64, 65, 129, 255, 256, 257, 600];

test('f32 path equals its reference bit for bit (Float32Array and Float64Array input, edge sizes)', () => {
  for (const dim of DIMS) {
    for (const rows of ROWS) {
      const G64 = gradients(rows, dim, dim * 7919 + rows, 0.25);
      const G32 = new Float32Array(G64);
      for (const G of [G32, G64]) {
        const what = `dim ${dim} rows ${rows} ${G.constructor.name}`;
        const acc = new GradientCovariance(dim, { precision: 'f32' });
        // two calls: a state with count > 0 takes the merge term
        const half = Math.floor(rows / 2);
        acc.addBatch(G.subarray(0, half * dim)).addBatch(G.subarray(half * dim));
        const want = new ReferenceCovarianceF32(dim)
          .addRows(G.subarray(0, half * dim), half)
          .addRows(G.subarray(half * dim), rows - half);
        assert.is(acc.count, rows, what);
        assertSameValues(acc.mean(), want.mean.subarray(0, dim), `${what} mean`);
        assertSameValues(acc.comoment(), want.comoment(), `${what} co-moment`);
        acc.dispose();
      }
    }
  }
});

test('f32 path: add() one gradient at a time equals the reference', () => {
  const dim = 11,
    rows = 40;
  const G = new Float32Array(gradients(rows, dim, 5, 3));
  const acc = new GradientCovariance(dim, { precision: 'f32' });
  const want = new ReferenceCovarianceF32(dim);
  for (let r = 0; r < rows; r++) {
    acc.add(G.subarray(r * dim, (r + 1) * dim));
    want.addRows(G.subarray(r * dim, (r + 1) * dim), 1);
  }
  assertSameValues(acc.comoment(), want.comoment(), 'co-moment');
  acc.dispose();
});

// The stated bound (docs/guarantees.md, Precision f32): relative Frobenius error of the f32 path's
// covariance against the f64 path's, on the same Float32Array gradients, below 1e-6. Here
// 2e5 gradients of dim 48 with a common offset of 3 and unequal scales (seed 22); measured
// 8.8e-9. Each 256-row run contributes a relative error of about sqrt(256) 2^-24 ~ 1e-6 of its
// own sum (and the f32 rounding of the centred values 2^-24 each); independent across
// runs, these shrink relative to the total as gradients accumulate, so 1e6 gradients give
// a smaller error, not a larger one.
test('f32 path: relative Frobenius error against the f64 path < 1e-6 over 2e5 gradients (seed 22)', () => {
  const dim = 48,
    rows = 200_000;
  const G = new Float32Array(gradients(rows, dim, 22, 3));
  const a = new GradientCovariance(dim, { precision: 'f32' });
  const b = new GradientCovariance(dim);
  for (let r0 = 0; r0 < rows; r0 += 10_000) {
    // a stream of batches
    const part = G.subarray(r0 * dim, (r0 + 10_000) * dim);
    a.addBatch(part);
    b.addBatch(part);
  }
  const ca = a.covariance(),
    cb = b.covariance();
  let num = 0,
    den = 0;
  for (let i = 0; i < ca.length; i++) {
    num += (ca[i]! - cb[i]!) ** 2;
    den += cb[i]! ** 2;
  }
  const rel = Math.sqrt(num / den);
  console.log(
    `  f32 path, 2e5 gradients of dim 48: relative Frobenius error ${rel.toExponential(2)} (bound 1e-6)`,
  );
  assert.ok(rel < 1e-6, `relative Frobenius error ${rel}`);
  assert.ok(rel > 0, 'the f32 path should differ from f64 (it is a different kernel)');
  const ma = a.mean(),
    mb = b.mean();
  for (let j = 0; j < dim; j++) assert.ok(Math.abs(ma[j]! - mb[j]!) <= 1e-12 * 4, `mean[${j}]`);
  a.dispose();
  b.dispose();
});

test('precision option: default f64, bad values rejected naming the option', () => {
  const a = new GradientCovariance(3);
  assert.is(a.precision, 'f64');
  a.dispose();
  const b = new GradientCovariance(3, { precision: 'f64' });
  assert.is(b.precision, 'f64');
  b.dispose();
  assert.throws(
    () => new GradientCovariance(3, { precision: 'f16' as 'f32' }),
    (e: Error) => e instanceof RangeError && /precision/.test(e.message) && /f16/.test(e.message),
  );
  assert.throws(
    () => new GradientCovariance(3, { precision: 32 as unknown as 'f32' }),
    (e: Error) => e instanceof TypeError && /precision/.test(e.message),
  );
  assert.throws(
    () => new GradientCovariance(3, { precison: 'f32' } as never),
    (e: Error) => /precison/.test(e.message),
  );
});

test('merge: f32 with f32 is the f64 merge formula; f32 with f64 refused, state unchanged', () => {
  const dim = 6;
  const G = new Float32Array(gradients(300, dim, 9, 1));
  const a = new GradientCovariance(dim, { precision: 'f32' }).addBatch(G.subarray(0, 100 * dim));
  const b = new GradientCovariance(dim, { precision: 'f32' }).addBatch(G.subarray(100 * dim));
  const whole = new GradientCovariance(dim, { precision: 'f32' }).addBatch(G);
  const c64 = new GradientCovariance(dim).addBatch(G);
  const before = a.toBytes();
  assert.throws(
    () => a.merge(c64),
    (e: Error) => e instanceof RangeError && /precision 'f32'/.test(e.message) && /'f64'/.test(e.message),
  );
  assert.throws(
    () => c64.merge(a),
    (e: Error) => e instanceof RangeError && /precision 'f64'/.test(e.message),
  );
  assertSameValues(a.toBytes(), before, 'unchanged after the refused merge');
  a.merge(b);
  assert.is(a.count, 300);
  const x = a.covariance(),
    y = whole.covariance();
  for (let i = 0; i < x.length; i++)
    assert.ok(Math.abs(x[i]! - y[i]!) <= 1e-6 * (Math.abs(y[i]!) + 1), `entry ${i}`);
  for (const acc of [a, b, whole, c64]) acc.dispose();
});

test('serialisation: an f32 state is format version 3, round-trips with its precision', () => {
  const dim = 5;
  const G = new Float32Array(gradients(70, dim, 4, 2));
  const a = new GradientCovariance(dim, { precision: 'f32' }).addBatch(G);
  const blob = a.toBytes();
  const view = new DataView(blob.buffer);
  assert.is(view.getUint32(4, true), 3);
  assert.is(view.getUint32(16, true), 1);
  assert.is(blob.length, 36 + 8 * dim + 4 * dim * (dim + 1));
  const b = GradientCovariance.fromBytes(blob);
  assert.is(b.precision, 'f32');
  assert.is(b.count, 70);
  assertSameValues(b.comoment(), a.comoment(), 'co-moment');
  // the same further updates give the same state
  a.addBatch(G);
  b.addBatch(G);
  assertSameValues(b.toBytes(), a.toBytes(), 'after further adds');
  // f64 states still write version 1
  const c = new GradientCovariance(dim).addBatch(G);
  assert.is(new DataView(c.toBytes().buffer).getUint32(4, true), 1);
  for (const acc of [a, b, c]) acc.dispose();
});

test.run();
