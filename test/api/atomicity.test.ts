// Issue 7, atomicity: every rejected call leaves an accumulator's count, mean and co-moment
// bit-identical (also the accumulator passed as `other`, and a generator's position); a
// trap inside the wasm (out-of-bounds pointers through the raw kernels, a heap abort, a
// debug-build assertion) leaves the module usable, with the same results as before it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { wasm } from '../../src/core/wasm.js';
import { setup, normals, BUILD } from '../helpers/helpers.js';

const { Rng, GradientCovariance } = g;

test.before(setup);

const bytes = (a: Float64Array) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const snap = (acc: InstanceType<typeof GradientCovariance>) => ({
  count: acc.count,
  mean: bytes(acc.mean()),
  M: bytes(acc.comoment()),
});

test('every rejected call on an accumulator leaves count, mean and co-moment bit-identical', () => {
  for (const rows of [0, 1, 5, 300]) {
    // empty, one row, one block, two blocks
    const acc = new GradientCovariance(3);
    if (rows) acc.addBatch(normals(3 * rows, 4 + rows).map((v) => 1e6 + v));
    const other = new GradientCovariance(3).addBatch(normals(30, 9));
    const other4 = new GradientCovariance(4).addBatch(normals(40, 10));
    const disposed = new GradientCovariance(3);
    disposed.dispose();
    const before = snap(acc),
      otherBefore = snap(other);
    const late = normals(3 * 5000, 5);
    late[3 * 4999 + 2] = NaN; // the last element: nothing may be merged before it is seen
    const late32 = new Float32Array(3 * 700).fill(1);
    late32[3 * 700 - 1] = -Infinity; // past the first staged chunk and block
    const calls: [string, () => unknown][] = [
      ['addBatch NaN at the very end', () => acc.addBatch(late)],
      ['addBatch Float32 -Infinity at the end', () => acc.addBatch(late32)],
      ['addBatch with rows covering the NaN', () => acc.addBatch(late, 5000)],
      ['add Infinity', () => acc.add(new Float64Array([0, 0, Infinity]))],
      ['add wrong length', () => acc.add(new Float64Array(4))],
      ['add Int32Array', () => acc.add(new Int32Array(3) as never)],
      ['addBatch not a multiple', () => acc.addBatch(new Float64Array(4))],
      ['addBatch rows too many', () => acc.addBatch(new Float64Array(6), 3)],
      ['addBatch rows -1', () => acc.addBatch(new Float64Array(6), -1)],
      ['addBatch rows string', () => acc.addBatch(new Float64Array(6), '1' as never)],
      ['addBatch null', () => acc.addBatch(null as never)],
      ['merge other dim', () => acc.merge(other4)],
      ['merge a disposed one', () => acc.merge(disposed)],
      ['merge a plain object', () => acc.merge({ dim: 3, count: 5 } as never)],
      ['merge into a different dim (acc as other)', () => other4.merge(acc)],
      ['covariance NaN scale', () => acc.covariance({ scale: NaN })],
      ['covariance bad options', () => acc.covariance('x' as never)],
      ['merge into a disposed one', () => disposed.merge(acc)],
    ];
    for (const [label, call] of calls) {
      assert.throws(call, undefined, label);
      assert.equal(snap(acc), before, `rows ${rows}: ${label}`);
      assert.equal(snap(other), otherBefore, `rows ${rows}: ${label} (other)`);
    }
    if (rows < 2) assert.throws(() => acc.covariance(), /at least 2/);
    assert.equal(snap(acc), before);
    // and it still accumulates exactly as a fresh one fed the same rows
    const G = normals(3 * 20, 77);
    const fresh = new GradientCovariance(3);
    if (rows) fresh.addBatch(normals(3 * rows, 4 + rows).map((v) => 1e6 + v));
    assert.equal(snap(acc.addBatch(G)), snap(fresh.addBatch(G)));
    for (const a of [acc, other, other4, fresh]) a.dispose();
  }
});

test('rejected generator calls do not advance it; rejected estimates leave no allocation behind', () => {
  const rng = new Rng(3).seek(10);
  for (const call of [
    () => rng.normals(new Float32Array(4) as never),
    () => rng.normals(new Float64Array(4), 0, -1),
    () => rng.uniforms([] as never),
    () => rng.seek(-1),
    () => g.injectTargetNoise(new Float64Array([NaN]), 1, rng),
    () => new Rng(3).seek(2 ** 53 - 1).normals(new Float64Array(3)),
  ]) {
    assert.throws(call);
    assert.is(rng.position, 10);
  }
  const mem = g.wasmMemoryBytes();
  const data = { X: normals(40, 1), y: normals(10, 2), rows: 10, dim: 4 };
  for (let i = 0; i < 50; i++) {
    assert.throws(() =>
      g.estimateHessian(data, new Float64Array(4), {
        batchSize: 4,
        batches: 2,
        seed: 1,
        firstBatch: 2 ** 32 - 1,
      }),
    );
    assert.throws(() =>
      g.linearRegressionGradients(data, new Float64Array(4), {
        batchSize: 4,
        batches: 2 ** 30,
        noiseVariance: 1,
        seed: 1,
      }),
    );
  }
  assert.is(g.wasmMemoryBytes(), mem);
});

/** A fixed workload through every kernel family; its bytes must not change after a trap. */
function workload(): number[][] {
  const z = new Rng(5, 2).normals(new Float64Array(1001));
  const u = new Rng(6).uniforms(new Float64Array(33));
  const acc = new GradientCovariance(7)
    .addBatch(normals(7 * 300, 8).map((v) => 100 + v))
    .addBatch(new Float32Array(7 * 5).fill(0.5));
  const C = acc.covariance();
  acc.dispose();
  const data = { X: normals(200, 9), y: normals(40, 10), rows: 40, dim: 5 };
  const G = g.linearRegressionGradients(data, new Float64Array(5).fill(0.1), {
    batchSize: 8,
    batches: 30,
    noiseVariance: 8,
    seed: 11,
  });
  const est = g.estimateHessian(data, new Float64Array(5), { batchSize: 8, batches: 300, seed: 12 });
  const A = new Float64Array([4, 1, 0, 1, 3, 1, 0, 1, 2]);
  return [
    bytes(z),
    bytes(u),
    bytes(C),
    bytes(G),
    bytes(est.hessian),
    [
      g.operatorNorm(A, 3).value,
      g.operatorNorm(A, 3, { method: 'power' }).value,
      g.extremeEigenvalues(A, 3).min,
    ],
  ];
}

test(`a trap inside the wasm leaves the module usable with the same results (${BUILD} build)`, () => {
  const before = workload();
  const mem = g.wasmMemoryBytes();
  const k = wasm();
  const OOB = 0xfffff000; // far past the memory in use: every access traps
  const traps: [string, () => unknown, RegExp][] = [
    [
      'covAddRows reading out of bounds',
      () => k.covAddRows(OOB, 300, 4, 0, 0, OOB, OOB, OOB),
      /out of bounds/i,
    ],
    [
      'philoxFill writing out of bounds',
      () => k.philoxFill(OOB, 4096, 1, 2, 0, 0, 0, 0, 1),
      /out of bounds/i,
    ],
    ['matvec out of bounds', () => k.matvec(OOB, OOB, OOB, 64), /out of bounds/i],
    [
      'lrGradients out of bounds',
      () => k.lrGradients(OOB, OOB, 10, 4, OOB, 4, 3, 0, 1, 1, 0, 0, 1, OOB, OOB),
      /out of bounds/i,
    ],
    ['covMerge out of bounds', () => k.covMerge(3, OOB, OOB, 4, OOB, OOB, 4, OOB), /out of bounds/i],
    [
      'the heap refusing a 2 GiB block (abort)',
      () => k.alloc(2 ** 31),
      /abort|allocation too large|unreachable/i,
    ],
  ];
  if (BUILD === 'debug')
    traps.push([
      'a kernel assertion (rows = -1)',
      () => k.covAddRows(0, -1, 4, 0, 0, 0, 0, 0),
      /abort|assert/i,
    ]);
  for (const [label, call, message] of traps) {
    let caught: unknown;
    try {
      call();
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof Error, `${label}: expected a trap, got ${String(caught)}`);
    assert.match((caught as Error).message, message, label);
    assert.equal(workload(), before, `results changed after: ${label}`);
  }
  assert.is(g.wasmMemoryBytes(), mem, 'no memory grown by the traps');
  // objects created before a trap still work after it
  const acc = new GradientCovariance(4).addBatch(normals(40, 3));
  const c0 = bytes(acc.covariance());
  assert.throws(() => k.covAddRows(OOB, 10, 4, 0, 0, OOB, OOB, OOB));
  assert.equal(bytes(acc.covariance()), c0);
  acc.addBatch(normals(40, 4));
  const ref = new GradientCovariance(4).addBatch(normals(40, 3)).addBatch(normals(40, 4));
  assert.equal(snap(acc), snap(ref));
  acc.dispose();
  ref.dispose();
});

test.run();
