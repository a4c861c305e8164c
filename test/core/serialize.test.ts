// GradientCovariance.toBytes / fromBytes: the version-1 format byte by byte, exact round
// trips (state and behaviour after further add/merge), and a clear error for every kind of
// damaged blob, with nothing allocated or half-built.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { crc32, serializedBytes } from '../../src/core/serialize.js';
import { setup, normals } from '../helpers/helpers.js';

test.before(setup);

function filled(dim: number, rows: number, seed: number): g.GradientCovariance {
  const acc = new g.GradientCovariance(dim);
  if (rows > 0) acc.addBatch(normals(rows * dim, seed));
  return acc;
}

const same = (a: Float64Array, b: Float64Array) =>
  a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

test('crc32 matches the standard check value ("123456789" -> 0xcbf43926)', () => {
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.is(crc32(new Uint8Array(0)), 0);
});

test('the layout: magic, version, dim, reserved, count, mean, upper triangle, CRC-32, little-endian', () => {
  const acc = filled(3, 10, 1);
  const b = acc.toBytes();
  assert.is(b.length, 28 + 8 * 3 + 4 * 3 * 4);
  assert.is(b.length, serializedBytes(3));
  const v = new DataView(b.buffer);
  assert.equal([...b.subarray(0, 4)], [0x47, 0x43, 0x4f, 0x56]);
  assert.is(v.getUint32(4, true), 1);
  assert.is(v.getUint32(8, true), 3);
  assert.is(v.getUint32(12, true), 0);
  assert.is(v.getBigInt64(16, true), 10n);
  const mean = acc.mean(),
    M = acc.comoment();
  for (let j = 0; j < 3; j++) assert.is(v.getFloat64(24 + 8 * j, true), mean[j]);
  const upper = [M[0], M[1], M[2], M[4], M[5], M[8]];
  upper.forEach((x, k) => assert.is(v.getFloat64(48 + 8 * k, true), x));
  assert.is(v.getUint32(b.length - 4, true), crc32(b, 0, b.length - 4));
  acc.dispose();
});

for (const dim of [1, 2, 3, 4, 5, 7, 8, 9, 33]) {
  for (const rows of [0, 1, 2, 300]) {
    test(`round trip dim ${dim}, ${rows} gradients: same count, mean, covariance, bytes, and same results after add + merge`, () => {
      const a = filled(dim, rows, dim * 100 + rows);
      const b = g.GradientCovariance.fromBytes(a.toBytes());
      assert.is(b.dim, dim);
      assert.is(b.count, rows);
      assert.ok(same(a.mean(), b.mean()));
      assert.ok(same(a.comoment(), b.comoment()));
      assert.equal(b.toBytes(), a.toBytes());
      // behaviour afterwards is bit-identical: more gradients, then a merge
      const more = normals(257 * dim, 7),
        other = filled(dim, 100, 8);
      a.addBatch(more).merge(other);
      b.addBatch(more).merge(other);
      assert.ok(same(a.comoment(), b.comoment()), 'co-moment after add + merge');
      assert.ok(same(a.mean(), b.mean()), 'mean after add + merge');
      assert.is(a.count, b.count);
      a.dispose();
      b.dispose();
      other.dispose();
    });
  }
}

test('fromBytes honours byteOffset (a blob inside a larger buffer) and accepts a Node Buffer', () => {
  const a = filled(4, 50, 3);
  const blob = a.toBytes();
  const big = new Uint8Array(blob.length + 11);
  big.set(blob, 5);
  const b = g.GradientCovariance.fromBytes(big.subarray(5, 5 + blob.length));
  assert.equal(b.toBytes(), blob);
  const c = g.GradientCovariance.fromBytes(Buffer.from(blob));
  assert.equal(c.toBytes(), blob);
  a.dispose();
  b.dispose();
  c.dispose();
});

test('merging deserialized accumulators equals merging the originals (the reduce use)', () => {
  const parts = [1, 2, 3].map((s) => filled(6, 100 * s, s));
  const direct = new g.GradientCovariance(6),
    viaBytes = new g.GradientCovariance(6);
  for (const p of parts) {
    direct.merge(p);
    const q = g.GradientCovariance.fromBytes(p.toBytes());
    viaBytes.merge(q);
    q.dispose();
  }
  assert.ok(same(direct.covariance(), viaBytes.covariance()));
  for (const x of [...parts, direct, viaBytes]) x.dispose();
});

/** Returns a copy of blob with the checksum recomputed after `edit`. */
function edited(blob: Uint8Array, edit: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const b = blob.slice();
  edit(new DataView(b.buffer), b);
  new DataView(b.buffer).setUint32(b.length - 4, crc32(b, 0, b.length - 4), true);
  return b;
}

const blob5 = () => {
  const a = filled(5, 40, 9);
  const b = a.toBytes();
  a.dispose();
  return b;
};
const bad: [string, () => unknown, RegExp, typeof Error][] = [
  ['not a Uint8Array (plain array)', () => [...blob5()], /must be a Uint8Array/, TypeError],
  ['not a Uint8Array (ArrayBuffer)', () => blob5().buffer, /must be a Uint8Array/, TypeError],
  ['not a Uint8Array (Float64Array)', () => new Float64Array(30), /must be a Uint8Array/, TypeError],
  ['empty', () => new Uint8Array(0), /at least 44 bytes.*0 bytes/, RangeError],
  ['truncated', () => blob5().subarray(0, 100), /bytes long for dim 5.*100 bytes/, RangeError],
  [
    'extended',
    () => {
      const b = blob5();
      const c = new Uint8Array(b.length + 8);
      c.set(b);
      return c;
    },
    /bytes long for dim 5/,
    RangeError,
  ],
  [
    'wrong magic',
    () =>
      edited(blob5(), (_, b) => {
        b[0] = 0x46;
      }),
    /magic "GCOV"/,
    RangeError,
  ],
  [
    'wrong version',
    () => edited(blob5(), (v) => v.setUint32(4, 4, true)),
    /format version 1, 2 or 3.*version 4/,
    RangeError,
  ],
  [
    'version 2 with scale exponent 0',
    () => edited(blob5(), (v) => v.setUint32(4, 2, true)),
    /scale exponent.*\[1, 2048\]/,
    RangeError,
  ],
  ['dim 0', () => edited(blob5(), (v) => v.setUint32(8, 0, true)), /dim in \[1, 46340\].*dim 0/, RangeError],
  [
    'dim huge',
    () => edited(blob5(), (v) => v.setUint32(8, 0xffffffff, true)),
    /dim in \[1, 46340\]/,
    RangeError,
  ],
  [
    'dim inconsistent with the length',
    () => edited(blob5(), (v) => v.setUint32(8, 4, true)),
    /bytes long for dim 4/,
    RangeError,
  ],
  ['reserved field set', () => edited(blob5(), (v) => v.setUint32(12, 1, true)), /reserved/, RangeError],
  [
    'negative count',
    () => edited(blob5(), (v) => v.setBigInt64(16, -3n, true)),
    /count in \[0, 2\^53 - 1\].*count -3/,
    RangeError,
  ],
  [
    'count beyond 2^53',
    () => edited(blob5(), (v) => v.setBigInt64(16, 2n ** 60n, true)),
    /count in/,
    RangeError,
  ],
  [
    'count 0 with a nonzero mean',
    () => edited(blob5(), (v) => v.setBigInt64(16, 0n, true)),
    /zero when count is 0/,
    RangeError,
  ],
  [
    'count 1 with a nonzero co-moment',
    () => edited(blob5(), (v) => v.setBigInt64(16, 1n, true)),
    /zero when count is 1/,
    RangeError,
  ],
  [
    'NaN in the mean',
    () => edited(blob5(), (v) => v.setFloat64(24 + 16, NaN, true)),
    /finite.*mean\[2\] is NaN/,
    RangeError,
  ],
  [
    'Infinity in the co-moment',
    () => edited(blob5(), (v) => v.setFloat64(64 + 8, Infinity, true)),
    /finite.*co-moment value 1 is Infinity/,
    RangeError,
  ],
  [
    'negative diagonal',
    () => edited(blob5(), (v) => v.setFloat64(64, -1, true)),
    /diagonal is >= 0.*M\[0\]\[0\] = -1/,
    RangeError,
  ],
  [
    'checksum mismatch (one bit of the mean)',
    () => {
      const b = blob5();
      b[30]! ^= 1;
      return b;
    },
    /CRC-32 does not match/,
    RangeError,
  ],
  [
    'checksum field damaged',
    () => {
      const b = blob5();
      b[b.length - 1]! ^= 0x80;
      return b;
    },
    /CRC-32/,
    RangeError,
  ],
];
for (const [name, make, msg, Kind] of bad) {
  test(`fromBytes rejects: ${name}, with a ${Kind.name} saying why, allocating nothing`, () => {
    const input = make();
    const before = g.wasmMemoryBytes();
    try {
      g.GradientCovariance.fromBytes(input as Uint8Array);
      assert.unreachable('accepted');
    } catch (err) {
      assert.instance(err, Kind);
      assert.match((err as Error).message, msg);
      assert.match((err as Error).message, /`bytes`/);
    }
    assert.is(g.wasmMemoryBytes(), before);
  });
}

test('toBytes on a disposed accumulator throws', () => {
  const a = filled(2, 3, 1);
  a.dispose();
  assert.throws(() => a.toBytes(), /dispose/i);
});

test.run();
