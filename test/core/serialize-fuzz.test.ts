// Fuzzing fromBytes (issue 7): mutated blobs from a fixed seed (bit flips, truncations,
// extensions, byte overwrites, and header/value edits with the checksum recomputed so the
// semantic checks are reached). Each must be rejected with a TypeError/RangeError, or decode
// to exactly the original state (its toBytes() equals the original blob). GRADCOV_FUZZ sets
// the number of blobs (default 10^5, about 1.5 s per wasm build, so it runs in `npm test`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { crc32 } from '../../src/core/serialize.js';
import { setup, normals } from '../helpers/helpers.js';

test.before(setup);

const N = Number(process.env.GRADCOV_FUZZ ?? 100_000);

/** mulberry32: a small fixed-seed generator for the mutations (not the library's Philox). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS = [
  'bit flips',
  'truncation',
  'extension',
  'byte overwrites',
  'header edit (checksum fixed)',
  'value edit (checksum fixed)',
  'truncate + fixed checksum',
] as const;

test(`fuzz: ${N} mutated blobs are each rejected cleanly or decode to exactly the original`, () => {
  const rand = rng(20240607);
  const int = (n: number) => Math.floor(rand() * n);
  const originals = [1, 3, 5, 8].map((dim, i) => {
    const acc = new g.GradientCovariance(dim).addBatch(normals(50 * dim, 11 + i));
    const blob = acc.toBytes();
    acc.dispose();
    return blob;
  });
  const fix = (b: Uint8Array) => {
    if (b.length >= 4)
      new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32(b, 0, b.length - 4), true);
  };
  const stats = Object.fromEntries(KINDS.map((k) => [k, { rejected: 0, identical: 0 }]));
  const memory = g.wasmMemoryBytes();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const orig = originals[i % originals.length]!;
    const kind = KINDS[int(KINDS.length)]!;
    let b: Uint8Array;
    switch (kind) {
      case 'bit flips': {
        b = orig.slice();
        for (let k = 1 + int(4); k > 0; k--) {
          const bit = int(b.length * 8);
          b[bit >> 3]! ^= 1 << (bit & 7);
        }
        break;
      }
      case 'truncation':
        b = orig.slice(0, int(orig.length));
        break;
      case 'extension': {
        b = new Uint8Array(orig.length + 1 + int(64));
        b.set(orig);
        for (let k = orig.length; k < b.length; k++) b[k] = int(256);
        break;
      }
      case 'byte overwrites': {
        b = orig.slice();
        for (let k = 1 + int(8); k > 0; k--) b[int(b.length)] = int(256);
        break;
      }
      case 'header edit (checksum fixed)': {
        b = orig.slice();
        const v = new DataView(b.buffer);
        const field = int(5);
        if (field === 0) v.setUint32(0, (v.getUint32(0, true) ^ (1 + int(0xffffffff))) >>> 0, true);
        else if (field === 1)
          v.setUint32(4, (1 + 1 + int(0xfffffffe)) >>> 0, true); // any version but 1
        else if (field === 2) {
          const d = v.getUint32(8, true);
          let e = int(2) ? int(64) : int(0xffffffff);
          if (e === d) e = d + 1;
          v.setUint32(8, e >>> 0, true);
        } else if (field === 3) v.setUint32(12, 1 + int(0xfffffffe), true);
        else v.setBigInt64(16, [-1n - BigInt(int(1e9)), 2n ** 53n + BigInt(int(1e9)), 0n, 1n][int(4)]!, true);
        fix(b);
        break;
      }
      case 'value edit (checksum fixed)': {
        b = orig.slice();
        const v = new DataView(b.buffer);
        const slots = (b.length - 28) / 8;
        v.setFloat64(24 + 8 * int(slots), [NaN, Infinity, -Infinity][int(3)]!, true);
        fix(b);
        break;
      }
      default: {
        // a truncated blob whose last 4 bytes are a valid CRC of what precedes them
        b = orig.slice(0, 4 + int(orig.length - 4));
        fix(b);
      }
    }
    let acc: g.GradientCovariance | undefined;
    try {
      acc = g.GradientCovariance.fromBytes(b);
    } catch (err) {
      if (!(err instanceof RangeError || err instanceof TypeError))
        throw new Error(`blob ${i} (${kind}): unexpected ${String(err)}`, { cause: err });
      stats[kind]!.rejected++;
      continue;
    }
    const back = acc.toBytes();
    acc.dispose();
    if (back.length !== orig.length || !back.every((x, k) => x === orig[k])) {
      assert.unreachable(`blob ${i} (${kind}) was accepted but decodes to a different state`);
    }
    stats[kind]!.identical++;
  }
  const seconds = (performance.now() - t0) / 1000;
  assert.is(g.wasmMemoryBytes(), memory, 'no wasm memory growth from rejected blobs');
  const total = Object.values(stats).reduce((s, x) => s + x.rejected + x.identical, 0);
  assert.is(total, N);
  // the checksum-fixed edits are all invalid by construction: none may be accepted
  for (const k of [
    'header edit (checksum fixed)',
    'value edit (checksum fixed)',
    'truncate + fixed checksum',
  ] as const) {
    assert.is(stats[k]!.identical, 0, k);
    assert.ok(stats[k]!.rejected > N / 20, `${k} exercised`);
  }
  console.log(`\n  fuzz: ${N} blobs in ${seconds.toFixed(2)} s; ${JSON.stringify(stats)}`);
});

test.run();
