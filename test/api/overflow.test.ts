// Overflow is never silent, and huge values give the right answer where it is representable:
// the accumulator's scaled representation (add and addBatch agree, every state round-trips
// through toBytes/fromBytes, format version 2 for scaled states), estimateHessian and the
// gradient oracle on huge data, standardize on columns with huge values, and the other
// plain-TS paths (secondMomentMatrix, leastSquares, estimateRisk, solves) that used to
// return Infinity or NaN without an error. Error messages name the user's parameter.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { CovarianceModel } from '../../src/reference/covariance.js';
import { crc32 } from '../../src/core/serialize.js';
import { setup } from '../helpers/helpers.js';

test.before(setup);

const normals = (n: number, seed: number) => new g.Rng(seed).normals(new Float64Array(n));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), Number.MIN_VALUE);

test('issue example: addBatch of [1.5e308, 1.6e308, 1.7e308] gives the mean 1.6e308 as add does; the covariance refuses, naming why; the state round-trips', () => {
  const v = new Float64Array([1.5e308, 1.6e308, 1.7e308]);
  const batch = new g.GradientCovariance(1).addBatch(v);
  const one = new g.GradientCovariance(1);
  for (const x of v) one.add(new Float64Array([x]));
  for (const acc of [batch, one]) {
    const m = acc.mean()[0]!;
    assert.ok(Number.isFinite(m) && rel(m, 1.6e308) < 1e-15, `mean ${m}`);
    assert.throws(
      () => acc.covariance(),
      (e: Error) => e instanceof RangeError && /not representable in float64/.test(e.message),
    );
    assert.throws(() => acc.comoment(), RangeError);
    const blob = acc.toBytes();
    assert.is(new DataView(blob.buffer).getUint32(4, true), 2, 'a scaled state is format version 2');
    const back = g.GradientCovariance.fromBytes(blob);
    assert.equal(back.toBytes(), blob);
    assert.equal(back.mean(), acc.mean());
    // and the covariance scaled into range is right: var = ((0.1e308)^2 + 0 + (0.1e308)^2) / 2 = 1e614,
    // times 1e-310 (within 1e-13: the deviations lose ~16 eps to cancellation, the inputs are rounded)
    const C = back.covariance({ scale: 1e-310 })[0]!;
    assert.ok(rel(C, 1e304) < 1e-13, `scaled covariance ${C}`);
    back.dispose();
  }
  batch.dispose();
  one.dispose();
});

test('gradients around 1e154 and above give their (representable) covariance, add and addBatch alike; beyond float64 a RangeError', () => {
  for (const scale of [1e140, 1e150, 1e154, 1e200, 1e300, 1e307]) {
    const G = normals(3 * 400, 7).map((x) => x * scale);
    const model = new CovarianceModel(3);
    for (let r = 0; r < 400; r++) model.rows.push(Array.from(G.subarray(3 * r, 3 * r + 3)));
    const want = model.covariance();
    const a = new g.GradientCovariance(3).addBatch(G);
    const b = new g.GradientCovariance(3);
    for (let r = 0; r < 400; r++) b.add(G.subarray(3 * r, 3 * r + 3));
    for (const acc of [a, b]) {
      if (want.maxLog2 < 1023.9) {
        const C = acc.covariance();
        for (let i = 0; i < 9; i++)
          assert.ok(
            Math.abs(C[i]! - want.value[i]!) <= 1e-12 * Math.abs(want.value[0]!),
            `scale ${scale}: C[${i}] ${C[i]} vs ${want.value[i]}`,
          );
      } else {
        assert.throws(() => acc.covariance(), RangeError, `scale ${scale}`);
        // representable again once scaled down, and equal to the model there
        const s = 2 ** -(Math.ceil(want.maxLog2) - 1000);
        const C = acc.covariance({ scale: s });
        assert.ok(
          rel(C[0]!, want.value[0]! * s) < 1e-12 || !Number.isFinite(want.value[0]!),
          `scale ${scale}: scaled C ${C[0]}`,
        );
      }
      const back = g.GradientCovariance.fromBytes(acc.toBytes());
      assert.equal(back.toBytes(), acc.toBytes());
      back.dispose();
    }
    a.dispose();
    b.dispose();
  }
});

test('merging accumulators at different scales keeps both; other is unchanged; ordinary states stay format version 1, bit for bit', () => {
  const small = new g.GradientCovariance(2).addBatch(normals(2 * 50, 1));
  const smallBytes = small.toBytes();
  assert.is(new DataView(smallBytes.buffer).getUint32(4, true), 1);
  const huge = new g.GradientCovariance(2).addBatch(normals(2 * 50, 2).map((x) => x * 1e200));
  const a = new g.GradientCovariance(2).merge(small).merge(huge);
  const b = new g.GradientCovariance(2).merge(huge).merge(small);
  assert.equal(small.toBytes(), smallBytes, 'merge leaves `other` unchanged');
  const model = new CovarianceModel(2);
  const G1 = normals(2 * 50, 1),
    G2 = normals(2 * 50, 2).map((x) => x * 1e200);
  for (let r = 0; r < 50; r++) model.rows.push(Array.from(G1.subarray(2 * r, 2 * r + 2)));
  for (let r = 0; r < 50; r++) model.rows.push(Array.from(G2.subarray(2 * r, 2 * r + 2)));
  // covariance ~1e400: not representable; scaled by 1e-200 it is
  for (const acc of [a, b]) {
    assert.throws(() => acc.covariance(), RangeError);
    const C = acc.covariance({ scale: 1e-200 });
    const want = model.covariance().value.map((v) => v * 1e-200);
    for (let i = 0; i < 4; i++)
      assert.ok(Math.abs(C[i]! - want[i]!) <= 1e-12 * Math.abs(want[0]!), `C[${i}] ${C[i]} vs ${want[i]}`);
  }
  for (const x of [small, huge, a, b]) x.dispose();
});

test('count is capped at 2^53 - 1 (a count past it would not round-trip): add, addBatch and merge refuse before any change', () => {
  const blob = new g.GradientCovariance(1).addBatch(new Float64Array([1, 2])).toBytes();
  const view = new DataView(blob.buffer);
  view.setBigInt64(16, BigInt(Number.MAX_SAFE_INTEGER - 1), true);
  view.setUint32(blob.length - 4, crc32(blob, 0, blob.length - 4), true); // re-sign the edited blob
  const acc = g.GradientCovariance.fromBytes(blob);
  const before = acc.toBytes();
  assert.throws(
    () => acc.addBatch(new Float64Array([1, 2])),
    (e: Error) => e instanceof RangeError && /2\^53 - 1/.test(e.message) && /`G`/.test(e.message),
  );
  acc.add(new Float64Array([3]));
  assert.throws(
    () => acc.add(new Float64Array([3])),
    (e: Error) => e instanceof RangeError && /`g`/.test(e.message),
  );
  const full = acc.toBytes();
  assert.throws(
    () => acc.merge(g.GradientCovariance.fromBytes(full)),
    (e: Error) => e instanceof RangeError && /`other`/.test(e.message),
  );
  assert.equal(acc.toBytes(), full);
  assert.not.equal(full, before);
  acc.dispose();
});

test('a version-1 blob from another writer holding huge values is normalised on decode: later adds cannot overflow, and it round-trips', () => {
  // count 2, mean [1e300, -1e300], M = [[2e300^2/2 ...]] is beyond float64, so build it from
  // values a writer could hold: M_00 = 1e307, M_11 = 1e307, M_01 = 0
  const blob = new g.GradientCovariance(2).addBatch(new Float64Array([1, 2, 3, 4])).toBytes();
  const v = new DataView(blob.buffer);
  v.setFloat64(24, 1e300, true);
  v.setFloat64(32, -1e300, true);
  v.setFloat64(40, 1e307, true);
  v.setFloat64(48, 0, true);
  v.setFloat64(56, 1e307, true);
  v.setUint32(blob.length - 4, crc32(blob, 0, blob.length - 4), true);
  const acc = g.GradientCovariance.fromBytes(blob);
  assert.equal(Array.from(acc.mean()), [1e300, -1e300]);
  acc.add(new Float64Array([-1e300, 1e300])); // a delta of 2e300: its square would overflow unscaled
  assert.throws(() => acc.covariance(), RangeError); // ~1e600: beyond float64, said so
  const C = acc.covariance({ scale: 1e-300 });
  assert.ok(C.every(Number.isFinite) && C[0]! > 0, `${C}`);
  const b2 = acc.toBytes();
  assert.is(new DataView(b2.buffer).getUint32(4, true), 2);
  const back = g.GradientCovariance.fromBytes(b2);
  assert.equal(back.toBytes(), b2);
  back.dispose();
  acc.dispose();
});

test('estimateHessian on huge data: the right answer where representable, else a RangeError saying so (never Inf or NaN)', () => {
  const rows = 300,
    dim = 2;
  const X0 = normals(rows * dim, 3),
    y0 = normals(rows, 4);
  const base = g.estimateHessian({ X: X0, y: y0, rows, dim }, new Float64Array(dim), {
    batchSize: 8,
    batches: 200,
    seed: 1,
  });
  // x and y scaled by s: gradients scale by s^2 (w = 0), the covariance by s^4, noise std stays batchSize: exact only
  // without noise, so compare with noiseVariance 0
  const plain = g.estimateHessian({ X: X0, y: y0, rows, dim }, new Float64Array(dim), {
    batchSize: 8,
    batches: 200,
    seed: 1,
    noiseVariance: 0,
  });
  for (const s of [1e20, 1e40, 1e70]) {
    const r = g.estimateHessian(
      { X: X0.map((v) => v * s), y: y0.map((v) => v * s), rows, dim },
      new Float64Array(dim),
      { batchSize: 8, batches: 200, seed: 1, noiseVariance: 0 },
    );
    for (let i = 0; i < 4; i++)
      assert.ok(
        rel(r.hessian[i]!, plain.hessian[i]! * s ** 4) < 1e-9,
        `s ${s}: ${r.hessian[i]} vs ${plain.hessian[i]! * s ** 4}`,
      );
  }
  assert.ok(base.hessian.every(Number.isFinite));
  // the 1e80: covariance ~1e320, not representable
  for (const s of [1e80, 1e120]) {
    assert.throws(
      () =>
        g.estimateHessian(
          { X: X0.map((v) => v * s), y: y0.map((v) => v * s), rows, dim },
          new Float64Array(dim),
          { batchSize: 8, batches: 200, seed: 1 },
        ),
      (e: Error) =>
        e instanceof RangeError &&
        /estimateHessian: the Hessian estimate of these data is not representable in float64/.test(
          e.message,
        ) &&
        /standardize/.test(e.message),
      `s ${s}`,
    );
  }
  // gradients that overflow themselves (x'w ~ 1e320)
  assert.throws(
    () =>
      g.estimateHessian({ X: X0.map((v) => v * 1e160), y: y0, rows, dim }, new Float64Array([1e160, 1e160]), {
        batchSize: 8,
        batches: 20,
        seed: 1,
      }),
    (e: Error) =>
      e instanceof RangeError &&
      /gradient of batch \d+ overflows float64/.test(e.message) &&
      /`w`/.test(e.message),
  );
  assert.throws(
    () =>
      g.linearRegressionGradients(
        { X: X0.map((v) => v * 1e160), y: y0, rows, dim },
        new Float64Array([1e160, 1e160]),
        { batchSize: 8, batches: 20, seed: 1, noiseVariance: 0 },
      ),
    (e: Error) => e instanceof RangeError && /gradient of batch \d+ overflows float64/.test(e.message),
  );
  // the module is fine afterwards
  const again = g.estimateHessian({ X: X0, y: y0, rows, dim }, new Float64Array(dim), {
    batchSize: 8,
    batches: 200,
    seed: 1,
  });
  assert.equal(again.hessian, base.hessian);
});

test('standardize: a column or target holding a huge (or tiny) finite value standardises correctly instead of turning into zeros', () => {
  const rows = 5;
  const X = new Float64Array([1, 1e300, 2, 3, 3, -1e300, 4, 5, 5, 2e300]);
  const y = new Float64Array([1, 2, 3, 1e300, 5]);
  const s = g.standardize({ X, y, rows, dim: 2 });
  const col1 = [1e300, 3, -1e300, 5, 2e300];
  const mean1 = col1.reduce((a, b) => a + b / rows, 0);
  assert.ok(rel(s.xMean[1]!, mean1) < 1e-12 && Number.isFinite(s.xScale[1]!), `${s.xMean[1]} ${s.xScale[1]}`);
  for (let r = 0; r < rows; r++) {
    assert.ok(Math.abs(s.X[r * 2 + 1]! - (col1[r]! - mean1) / s.xScale[1]!) < 1e-12, `row ${r}`);
  }
  let m = 0,
    v = 0;
  for (let r = 0; r < rows; r++) m += s.X[r * 2 + 1]! / rows;
  for (let r = 0; r < rows; r++) v += s.X[r * 2 + 1]! ** 2 / rows;
  assert.ok(Math.abs(m) < 1e-12 && Math.abs(v - 1) < 1e-12, `standardised column mean ${m}, variance ${v}`);
  assert.ok(s.y.some((t) => t !== 0) && Number.isFinite(s.yScale), 'the target is not zeroed');
  // ordinary columns are unchanged by the scaled path (bit for bit the plain formula)
  const d = { X: normals(50 * 3, 5), y: normals(50, 6), rows: 50, dim: 3 };
  const t = g.standardize(d);
  for (let c = 0; c < 3; c++) {
    let mean = 0,
      vr = 0;
    for (let r = 0; r < 50; r++) mean += d.X[r * 3 + c]! / 50;
    for (let r = 0; r < 50; r++) vr += (d.X[r * 3 + c]! - mean) ** 2 / 50;
    assert.is(t.xMean[c], mean);
    assert.is(t.xScale[c], Math.sqrt(vr));
  }
});

test('plain-TS paths refuse overflow instead of returning Inf/NaN, naming what to change', () => {
  const X = new Float64Array([1e200, 1, 2, 3]),
    y = new Float64Array([1, 2]);
  assert.throws(
    () => g.secondMomentMatrix({ X, y, rows: 2, dim: 2 }),
    (e: Error) => e instanceof RangeError && /`data.X`/.test(e.message) && /row 0, column 0/.test(e.message),
  );
  assert.throws(() => g.leastSquares({ X, y, rows: 2, dim: 2 }), RangeError);
  assert.throws(
    () =>
      g.leastSquares({
        X: new Float64Array([1, 0, 0, 1, 1, 1]),
        y: new Float64Array([1e308, -1e308, 1e308]),
        rows: 3,
        dim: 2,
      }),
    (e: Error) => e instanceof RangeError && /leastSquares/.test(e.message),
  );
});

test("messages name the user's parameter and position: row and column, never a flattened index or an internal name", () => {
  const d = { X: normals(40, 1), y: normals(10, 2), rows: 10, dim: 4 };
  const bad = d.X.slice();
  bad[13] = Infinity;
  assert.throws(
    () => g.estimateHessian({ ...d, X: bad }, new Float64Array(4), { batchSize: 4, batches: 3, seed: 1 }),
    (e: Error) => /`data.X`.*Infinity.*row 3, column 1/.test(e.message),
  );
  const H = new Float64Array([1, 2, 2, 1]); // indefinite
  const est = g.estimateHessian(d, new Float64Array(4), { batchSize: 4, batches: 30, seed: 1 });
  const Hbad = new Float64Array(16);
  Hbad[0] = -1;
  assert.throws(
    () =>
      g.estimateRisk(new Float64Array(4), {
        mean: est.mean,
        covariance: est.hessian,
        batchSize: 4,
        noiseVariance: 3,
        hessian: Hbad,
      }),
    (e: Error) =>
      e instanceof RangeError && e.message.includes('`input.hessian`') && !e.message.includes('`A`'),
  );
  assert.throws(
    () => g.choleskySolve(H, 2, new Float64Array(2)),
    (e: Error) => e.message.includes('`A`'),
  ); // the user's own `A` here
  assert.throws(
    () => new g.Preconditioner(H, 2),
    (e: Error) => e.message.includes('`hessian`'),
  );
});

test.run();
