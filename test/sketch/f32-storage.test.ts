// CurvatureSketch with precision 'f32' (the buffer stored in f32, everything else f64):
// - the *F32 kernels: in kernels.test.ts (each kernel's test runs over both storages);
//   bit for bit (the reference rounds with Math.fround where the kernels store into B);
// - the whole accumulator against the reference FrequentDirections(dim, l, f32 = true): the
//   same Delta, trace, diagonal and buffer, through shrinks and merges;
// - its accuracy against the f64 sketch (stated bound: eigenvalues within 1e-6 relative,
//   Delta within 1e-6 relative, diagonal and trace identical), half the buffer's memory;
// - its format (precision code 1, f32 rows) round-trips bit for bit; hostile f32 blobs and a
//   merge of another precision are refused before any state changes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { wasmLiveBytes } from '../../src/core/wasm.js';
import { crc32 } from '../../src/core/serialize.js';
import * as ref from '../../src/reference/sketch.js';
import { CurvatureSketch, sketchBlockBytes, SKETCH_HEADER_BYTES } from '../../src/sketch/sketch.js';
import { setup, normals, assertSameValues } from '../helpers/helpers.js';

test.before(setup);

// The *F32 kernels (Gram, rotation, row copy) are tested with their f64 twins in
// kernels.test.ts, one test per kernel over both storages.

/** The buffer rows of a sketch, read from its serialised form (f32 or f64 by its precision code). */
function bufferRows(s: CurvatureSketch): Float64Array {
  const b = s.toBytes(),
    v = new DataView(b.buffer),
    d = s.dim,
    n = s.bufferRows,
    be = v.getUint32(8, true) === 1 ? 4 : 8;
  const out = new Float64Array(n * d);
  let p = SKETCH_HEADER_BYTES + 8 * d;
  for (let i = 0; i < n * d; i++, p += be) out[i] = be === 4 ? v.getFloat32(p, true) : v.getFloat64(p, true);
  return out;
}

test("the accumulator with precision 'f32' = reference FrequentDirections(f32): Delta, trace, diagonal, buffer, through shrinks and a merge", () => {
  for (const [d, l, m] of [
    [1, 2, 9],
    [7, 3, 40],
    [65, 4, 37],
    [257, 8, 70],
  ] as const) {
    const A = normals(m * d, d * 31 + l);
    const s = new CurvatureSketch(d, { size: l, precision: 'f32' });
    assert.is(s.precision, 'f32');
    const r = new ref.FrequentDirections(d, l, true);
    for (let i = 0; i < m; i += 5) {
      const rows = A.subarray(i * d, Math.min(m, i + 5) * d);
      s.addRows(rows, { scale: 0.5 });
      r.add(rows, 0.5);
    }
    const near = (x: number, y: number) => Math.abs(x - y) <= 1e-14 * Math.abs(y); // (Delta / rows) * rows
    assert.ok(near(s.shrinkage * s.rows, r.delta), `Delta d ${d} l ${l}`);
    assert.ok(near(s.trace() * s.rows, r.trace), `trace d ${d}`);
    for (let j = 0; j < d; j++)
      assert.ok(near(s.diagonal()[j]! * s.rows, r.diag[j]!), `diagonal d ${d} [${j}]`);
    assert.is(s.bufferRows, r.used);
    assertSameValues(bufferRows(s), r.B.subarray(0, r.used * d), `buffer d ${d} l ${l}`);
    // a merge: the other sketch's rows stacked, then the same shrinks as the reference
    const t = new CurvatureSketch(d, { size: l, precision: 'f32' }).addRows(A.subarray(0, 6 * d));
    s.merge(t);
    r.add(Float64Array.from(bufferRows(t)), 1);
    r.delta += t.shrinkage * t.rows;
    assert.ok(near(s.shrinkage * s.rows, r.delta), `merged Delta d ${d}`);
    assertSameValues(bufferRows(s), r.B.subarray(0, r.used * d), `merged buffer d ${d}`);
    s.dispose();
    t.dispose();
  }
});

test("accuracy: precision 'f32' against 'f64' on a decaying spectrum (eigenvalues and Delta within 1e-6 relative; diagonal and trace identical), half the buffer", () => {
  const d = 2000,
    l = 16,
    m = 400;
  // four outliers 64, 32, 16, 8 over a decaying bulk, in a random basis (rows a = z' S^(1/2) Q)
  const Z = normals(m * d, 77);
  const scale = Float64Array.from({ length: d }, (_, i) =>
    Math.sqrt(i < 4 ? 64 / 2 ** i : 2 / (1 + i / 4) ** 2),
  );
  for (let r = 0; r < m; r++) for (let c = 0; c < d; c++) Z[r * d + c]! *= scale[c]!;
  const a = new CurvatureSketch(d, { size: l }),
    b = new CurvatureSketch(d, { size: l, precision: 'f32' });
  for (let i = 0; i < m; i += 50) {
    a.addRows(Z.subarray(i * d, (i + 50) * d));
    b.addRows(Z.subarray(i * d, (i + 50) * d));
  }
  const ea = a.eigenpairs(l - 1),
    eb = b.eigenpairs(l - 1);
  let worst = 0;
  for (let i = 0; i < l - 1; i++)
    worst = Math.max(worst, Math.abs(ea.eigenvalues[i]! - eb.eigenvalues[i]!) / ea.eigenvalues[0]!);
  const dDelta = Math.abs(ea.shrinkage - eb.shrinkage) / ea.shrinkage;
  console.log(
    `  f32 storage, d ${d}, l ${l}, m ${m}: eigenvalues within ${worst.toExponential(2)} of lambda_1, Delta within ${dDelta.toExponential(2)}`,
  );
  assert.ok(worst < 1e-6, `eigenvalues moved by ${worst} of lambda_1`);
  assert.ok(dDelta < 1e-6, `Delta moved by ${dDelta}`);
  assertSameValues(b.diagonal(), a.diagonal(), 'diagonal: exact running sums in both');
  assert.is(b.trace(), a.trace());
  // apply() reads the f32 buffer
  const v = normals(d, 3),
    ya = a.apply(v),
    yb = b.apply(v);
  let num = 0,
    den = 0;
  for (let i = 0; i < d; i++) {
    num += (ya[i]! - yb[i]!) ** 2;
    den += ya[i]! ** 2;
  }
  assert.ok(Math.sqrt(num / den) < 1e-6, `apply differs by ${Math.sqrt(num / den)}`);
  const f = sketchBlockBytes(d, l, 'f32'),
    g = sketchBlockBytes(d, l, 'f64');
  assert.is(f.buffer * 2, g.buffer, 'the f32 buffer is half the f64 one');
  a.dispose();
  b.dispose();
});

test('memory: d = 10^6 at l = 128 fits one heap block in f32 (1.02 GB), refused in f64 naming the sizes', () => {
  assert.ok(sketchBlockBytes(1e6, 128, 'f32').buffer < 2 ** 30);
  assert.ok(sketchBlockBytes(1e6, 128, 'f64').buffer > 2 ** 30);
  assert.throws(
    () => new CurvatureSketch(1e6, { size: 128 }),
    (e: Error) => e instanceof RangeError && /`dim` x `size` = 1000000 x 128/.test(e.message),
  );
});

test('f32 blobs: precision code 1 and f32 rows round-trip bit for bit; hostile f32 blobs refused', () => {
  const s = new CurvatureSketch(9, { size: 3, precision: 'f32' }).addRows(normals(9 * 20, 4));
  const b = s.toBytes(),
    v = new DataView(b.buffer);
  assert.is(v.getUint32(8, true), 1, 'precision code 1');
  assert.is(b.length, SKETCH_HEADER_BYTES + 8 * 9 + 4 * s.bufferRows * 9 + 4, 'f32 rows: 4 bytes each');
  const c = CurvatureSketch.fromBytes(b);
  assert.is(c.precision, 'f32');
  assertSameValues(c.toBytes(), b, 'round trip');
  const before = wasmLiveBytes();
  const forge = (edit: (v: DataView) => void) => {
    const x = b.slice(),
      w = new DataView(x.buffer);
    edit(w);
    w.setUint32(x.length - 4, crc32(x, 0, x.length - 4), true);
    return x;
  };
  assert.throws(
    () => CurvatureSketch.fromBytes(forge((w) => w.setUint32(8, 0, true))),
    /rows of precision f64 need/,
    'f32 rows declared f64',
  );
  assert.throws(
    () =>
      CurvatureSketch.fromBytes(
        forge((w) => w.setFloat32(SKETCH_HEADER_BYTES + 8 * 9 + 4 * 5, Infinity, true)),
      ),
    /buffer row 0, column 5 is Infinity/,
    'an infinite f32 entry',
  );
  assert.is(wasmLiveBytes(), before, 'nothing allocated by a refused blob');
  // a merge of another precision: refused, naming it, this sketch unchanged
  const g = new CurvatureSketch(9, { size: 3 }).addRows(normals(9 * 4, 5));
  const snapshot = s.toBytes();
  assert.throws(
    () => s.merge(g),
    (e: Error) => e instanceof RangeError && /precision \('f32'\). Value: precision 'f64'/.test(e.message),
  );
  assertSameValues(s.toBytes(), snapshot, 'unchanged');
  // values an f32 buffer cannot hold: refused before anything is stored
  assert.throws(
    () => s.addRows(new Float64Array(9).fill(2 ** 101)),
    (e: Error) => e instanceof RangeError && /below 2\^100 in magnitude with precision 'f32'/.test(e.message),
  );
  assertSameValues(s.toBytes(), snapshot, 'unchanged after a refused row');
  s.merge(s); // itself, through its own bytes: the precision is kept
  assert.is(s.rows, 40);
  for (const x of [s, c, g]) x.dispose();
});

test.run();
