// CurvatureSketch's serialised form (docs/serialization.md, "GSKT" version 1): round trip bit
// for bit; hostile bytes (truncation, wrong magic/version/precision, counts out of range,
// NaN or negative values under a correct CRC, bit flips) refused with a RangeError naming
// `bytes`, before any wasm memory is allocated; bad sizes refused naming the parameter.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { CurvatureSketch, SKETCH_HEADER_BYTES } from '../../src/sketch/sketch.js';
import { crc32 } from '../../src/core/serialize.js';
import { wasmLiveBytes } from '../../src/core/wasm.js';
import { setup, normals, assertSameValues } from '../helpers/helpers.js';

test.before(setup);

function sample(d = 7, l = 3, m = 20): CurvatureSketch {
  return new CurvatureSketch(d, { size: l }).addRows(normals(m * d, d + l + m));
}

/** bytes with a field rewritten and the CRC recomputed. */
function forge(blob: Uint8Array, edit: (v: DataView) => void): Uint8Array {
  const b = blob.slice(),
    v = new DataView(b.buffer);
  edit(v);
  v.setUint32(b.length - 4, crc32(b, 0, b.length - 4), true);
  return b;
}

function rejects(
  bytes: unknown,
  pattern: RegExp,
  what: string,
  type: typeof TypeError | typeof RangeError = RangeError,
): void {
  const before = wasmLiveBytes();
  assert.throws(
    () => CurvatureSketch.fromBytes(bytes as Uint8Array),
    (e: Error) => e instanceof type && pattern.test(e.message) && /`bytes`/.test(e.message),
    what,
  );
  assert.is(wasmLiveBytes(), before, `${what}: nothing allocated`);
}

test('round trip bit for bit: bytes, eigenpairs, diagonal, trace, rows, and a sketch that then keeps growing identically', () => {
  for (const [d, l, m] of [
    [1, 2, 0],
    [1, 2, 5],
    [7, 3, 20],
    [130, 4, 9],
  ] as const) {
    const s = sample(d, l, m),
      blob = s.toBytes(),
      t = CurvatureSketch.fromBytes(blob);
    assertSameValues(t.toBytes(), blob, `d ${d} l ${l} m ${m}: bytes`);
    assert.is(t.rows, s.rows);
    assert.is(t.trace(), s.trace());
    assert.is(t.shrinkage, s.shrinkage);
    assertSameValues(t.diagonal(), s.diagonal(), 'diagonal');
    const e1 = s.eigenpairs(l),
      e2 = t.eigenpairs(l);
    assertSameValues(e2.eigenvalues, e1.eigenvalues, 'eigenvalues');
    assertSameValues(e2.eigenvectors, e1.eigenvectors, 'eigenvectors');
    const more = normals(11 * d, 99);
    assertSameValues(t.addRows(more).toBytes(), s.addRows(more).toBytes(), 'after more rows');
    s.dispose();
    t.dispose();
  }
});

test('the layout: magic GSKT, version 1, precision 0, dim, size, used, delta, trace, rows, little-endian', () => {
  const s = sample(5, 2, 9),
    b = s.toBytes(),
    v = new DataView(b.buffer);
  assert.is(String.fromCharCode(...b.subarray(0, 4)), 'GSKT');
  assert.equal(
    [
      v.getUint32(4, true),
      v.getUint32(8, true),
      v.getUint32(12, true),
      v.getUint32(16, true),
      v.getUint32(20, true),
    ],
    [1, 0, 5, 2, s.bufferRows],
  );
  assert.is(v.getFloat64(24, true), s.shrinkage * s.rows);
  assert.is(v.getFloat64(32, true) / 9, s.trace());
  assert.is(v.getFloat64(40, true), 9);
  assert.is(b.length, SKETCH_HEADER_BYTES + 8 * 5 + 8 * s.bufferRows * 5 + 4);
  s.dispose();
});

test('hostile bytes: not a Uint8Array, truncation, wrong magic, version, precision', () => {
  const s = sample(),
    b = s.toBytes();
  s.dispose();
  rejects(new Float64Array(8), /Uint8Array/, 'a Float64Array', TypeError);
  rejects(undefined, /Uint8Array/, 'undefined', TypeError);
  for (const n of [0, 3, 51, SKETCH_HEADER_BYTES + 4, b.length - 5, b.length - 1])
    rejects(b.subarray(0, n), /length|CRC/, `truncated to ${n}`);
  rejects(new Uint8Array([...b, 0]), /length/, 'one byte more');
  rejects(
    forge(b, (v) => v.setUint32(0, 0x564f4347, true)),
    /magic/,
    'the covariance magic',
  );
  rejects(
    forge(b, (v) => v.setUint32(4, 2, true)),
    /version 2/,
    'version 2',
  );
  rejects(
    forge(b, (v) => v.setUint32(8, 1, true)),
    /rows of precision f32 need/,
    'precision 1 (f32) over f64 rows: the length does not match',
  );
  rejects(
    forge(b, (v) => v.setUint32(8, 2, true)),
    /precision code 2/,
    'precision 2',
  );
});

test('hostile bytes: counts out of range and bad values under a correct CRC', () => {
  const s = sample(),
    b = s.toBytes(),
    d = s.dim,
    used = s.bufferRows;
  s.dispose();
  rejects(
    forge(b, (v) => v.setUint32(12, 0, true)),
    /dim 0/,
    'dim 0',
  );
  rejects(
    forge(b, (v) => v.setUint32(12, 0xffffffff, true)),
    /length/,
    'dim 2^32 - 1',
  );
  rejects(
    forge(b, (v) => v.setUint32(16, 1, true)),
    /size 1/,
    'size 1',
  );
  rejects(
    forge(b, (v) => v.setUint32(16, 257, true)),
    /size 257/,
    'size 257',
  );
  rejects(
    forge(b, (v) => v.setUint32(20, 7, true)),
    /exceed 2 size/,
    'used 7 > 2l',
  );
  rejects(
    forge(b, (v) => v.setUint32(20, used + 1, true)),
    /length/,
    'used + 1 with the same length',
  );
  rejects(
    forge(b, (v) => v.setFloat64(40, 2.5, true)),
    /row count/,
    'rows 2.5',
  );
  rejects(
    forge(b, (v) => v.setFloat64(40, 2 ** 53, true)),
    /row count/,
    'rows 2^53',
  );
  rejects(
    forge(b, (v) => v.setFloat64(40, used - 1, true)),
    /exceed the/,
    'rows below the buffer rows',
  );
  rejects(
    forge(b, (v) => v.setFloat64(24, -1, true)),
    /shrinkage/,
    'negative Delta',
  );
  rejects(
    forge(b, (v) => v.setFloat64(24, NaN, true)),
    /shrinkage/,
    'NaN Delta',
  );
  rejects(
    forge(b, (v) => v.setFloat64(32, Infinity, true)),
    /trace/,
    'infinite trace',
  );
  rejects(
    forge(b, (v) => v.setFloat64(32, v.getFloat64(32, true) * 2, true)),
    /sum of the diagonal/,
    'trace not the diagonal sum',
  );
  rejects(
    forge(b, (v) => v.setFloat64(SKETCH_HEADER_BYTES + 8, NaN, true)),
    /diagonal entry 1/,
    'NaN diagonal',
  );
  rejects(
    forge(b, (v) => v.setFloat64(SKETCH_HEADER_BYTES, -v.getFloat64(SKETCH_HEADER_BYTES, true), true)),
    /diagonal entry 0/,
    'negative diagonal',
  );
  rejects(
    forge(b, (v) => v.setFloat64(SKETCH_HEADER_BYTES + 8 * d + 8 * (d + 2), NaN, true)),
    /buffer row 1, column 2/,
    'NaN in the buffer',
  );
});

test('hostile bytes: every single-bit flip of a small blob is refused (the CRC, or a field check)', () => {
  const s = sample(3, 2, 6),
    b = s.toBytes();
  s.dispose();
  for (let bit = 0; bit < 8 * b.length; bit++) {
    const f = b.slice();
    f[bit >> 3] ^= 1 << (bit & 7);
    rejects(f, /./, `bit ${bit}`);
  }
});

test('bad sizes: RangeError naming the parameter (and the bytes needed vs the limit) before anything is allocated', () => {
  const before = wasmLiveBytes();
  assert.throws(() => new CurvatureSketch(10, { size: 1 }), /`size`.*\[2, 256\]|`size` must/, 'l = 1');
  assert.throws(() => new CurvatureSketch(10, { size: 257 }), /`size`/, 'l = 257');
  assert.throws(() => new CurvatureSketch(10, { size: 2.5 }), /`size`/, 'l = 2.5');
  assert.throws(
    () => new CurvatureSketch(10, {} as never),
    (e: Error) => e instanceof TypeError && /`size`/.test(e.message),
    'no size',
  );
  assert.throws(() => new CurvatureSketch(0, { size: 2 }), /`dim`/, 'dim 0');
  assert.throws(
    () => new CurvatureSketch(10, { size: 2, precision: 'f16' as never }),
    (e: Error) =>
      e instanceof RangeError && /`precision` must be 'f64' or 'f32'. Value: `"f16"`/.test(e.message),
    'f16',
  );
  assert.throws(
    () => new CurvatureSketch(10_000_000, { size: 64 }),
    (e: Error) =>
      e instanceof RangeError &&
      /`dim` x `size` = 10000000 x 64 is too large/.test(e.message) &&
      /9\.54 GiB/.test(e.message) &&
      /largest block is 1024\.0 MiB \(1073741760 B/.test(e.message),
    'a buffer above the heap block',
  );
  assert.is(wasmLiveBytes(), before, 'nothing allocated');
  const s = sample(4, 3, 10);
  const snap = s.toBytes();
  assert.throws(() => s.eigenpairs(4), /`k` must be an integer in \[1, size\]/, 'k > l');
  assert.throws(() => s.eigenpairs(0), /`k`/, 'k = 0');
  assert.throws(() => s.addRows(new Float64Array(5)), /whole rows/, 'partial row');
  assert.throws(() => s.addRows(Float64Array.of(1, 2, NaN, 4)), /`rows`.*NaN/, 'NaN row');
  assert.throws(() => s.addRows(Float64Array.of(1, 2, 3, 1e300)), /2\^480/, 'overflowing row');
  assert.throws(() => s.addRows(new Float64Array(4), { scale: NaN }), /`scale`/, 'NaN scale');
  assert.throws(() => s.merge(new CurvatureSketch(5, { size: 3 })), /`other`/, 'another dim');
  assertSameValues(s.toBytes(), snap, 'state unchanged by every refusal');
  s.dispose();
  assert.throws(() => s.trace(), /disposed/);
  void g;
});

test.run();
