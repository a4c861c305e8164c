// estimateHessian from plain arrays (issue 22 item 3): X is copied into wasm memory and its
// finiteness checked there for each call (no cache of any kind), so the result equals the
// RegressionDataset path bit for bit, data changed in place between calls is read afresh,
// bad values are rejected with the same messages as before, and nothing stays allocated.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { wasmLiveBytes, wasm, withBlocks, copyIn } from '../../src/core/wasm.js';
import { firstNonFinite } from '../../src/reference/scan.js';
import { setup, regressionProblem, assertSameValues } from '../helpers/helpers.js';

test.before(setup);

const OPTS = { batchSize: 16, batches: 40, seed: 3 };

test('plain arrays give the RegressionDataset result bit for bit, every method', () => {
  const { data, w } = regressionProblem(300, 5, 7);
  const ds = new g.RegressionDataset(data);
  for (const method of ['calibrated', 'paired', 'debiased', 'two-level'] as const) {
    const opts = method === 'two-level' ? { ...OPTS, method, noiseLevels: [16, 0] } : { ...OPTS, method };
    const a = g.estimateHessian(data, w, opts),
      b = g.estimateHessian(ds, w, opts);
    assertSameValues(a.hessian, b.hessian, `${method} hessian`);
  }
  ds.dispose();
});

test('no stale state: X and y changed in place between calls are read afresh', () => {
  const { data, w } = regressionProblem(200, 4, 8);
  const first = g.estimateHessian(data, w, OPTS).hessian;
  data.X[5] = data.X[5]! * 3 + 1;
  data.y[7] = -data.y[7]!;
  const second = g.estimateHessian(data, w, OPTS).hessian;
  const ds = new g.RegressionDataset(data);
  assertSameValues(second, g.estimateHessian(ds, w, OPTS).hessian, 'the changed data');
  ds.dispose();
  assert.ok(
    first.some((v, i) => v !== second[i]),
    'the change shows in the result',
  );
});

test('a non-finite X or y is refused with the message naming it, nothing left allocated', () => {
  const { data, w } = regressionProblem(100, 3, 9);
  g.estimateHessian(data, w, OPTS); // warm: the scratch blocks that persist are made
  const live = wasmLiveBytes();
  for (const [where, i, v, msg] of [
    ['X', 0, Number.NaN, /data\.X.*row 0/],
    ['X', 299, Number.POSITIVE_INFINITY, /data\.X.*row 99/],
    ['X', 17, Number.NEGATIVE_INFINITY, /data\.X/],
    ['y', 42, Number.NaN, /data\.y/],
  ] as const) {
    const arr = where === 'X' ? data.X : data.y;
    const keep = arr[i]!;
    arr[i] = v;
    assert.throws(
      () => g.estimateHessian(data, w, OPTS),
      (e: Error) => e instanceof RangeError && msg.test(e.message),
      `${where}[${i}] = ${v}`,
    );
    assert.is(wasmLiveBytes(), live, `${where}[${i}]: nothing left allocated`);
    arr[i] = keep;
  }
  // errors after the copy (a bad w) free it as well
  assert.throws(() => g.estimateHessian(data, new Float64Array(2), OPTS), RangeError);
  assert.is(wasmLiveBytes(), live, 'bad w: nothing left allocated');
  assert.throws(() => g.estimateHessian(data, w, { ...OPTS, batches: 1 }), RangeError);
  assert.is(wasmLiveBytes(), live, 'bad batches: nothing left allocated');
});

test('wasm firstNonFinite equals the plain scan at edge lengths and positions', () => {
  for (const n of [0, 1, 2, 7, 8, 9, 15, 16, 17, 63]) {
    for (let bad = -1; bad < n; bad++) {
      const a = new Float64Array(n).map((_, i) => i - 3.5);
      if (bad >= 0) a[bad] = bad % 3 === 0 ? Number.NaN : bad % 3 === 1 ? Infinity : -Infinity;
      assert.is(wasmFirstNonFinite(a), firstNonFinite(a), `n ${n} bad ${bad}`);
      if (bad >= 0 && bad + 1 < n) {
        a[n - 1] = Number.NaN;
        assert.is(wasmFirstNonFinite(a), bad, `n ${n}: the first of two`);
      }
    }
  }
});

function wasmFirstNonFinite(a: Float64Array): number {
  return withBlocks([Math.max(8, a.byteLength)], 'test', (p) => {
    copyIn(p!, a);
    return wasm().firstNonFinite(p!, a.length);
  });
}

test.run();
