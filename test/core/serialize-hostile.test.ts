// Hostile bytes for GradientCovariance.fromBytes: a blob on a SharedArrayBuffer that another
// thread rewrites while it is decoded (copy, then validate, then decode from the copy), and
// blobs with a correct CRC whose co-moment is not positive semi-definite (a Cholesky of the
// correlation matrix plus 1e-9 I, for dim <= 1024; above, the 2 x 2 minors).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import * as g from '../../src/node.js';
import { crc32, HEADER_BYTES, HEADER_BYTES_V3 } from '../../src/core/serialize.js';
import { PSD_RIDGE, PSD_CHECK_MAX_DIM } from '../../src/core/covariance.js';
import { setup } from '../helpers/helpers.js';

test.before(setup);

const normals = (n: number, seed: number) => new g.Rng(seed).normals(new Float64Array(n));

/** A blob of dim `dim` with co-moment M (full dim x dim, upper triangle used), mean 0, count. */
function forge(dim: number, M: ArrayLike<number>, count = 10): Uint8Array {
  const acc = new g.GradientCovariance(dim).addBatch(normals(dim * count, 1));
  const blob = acc.toBytes();
  acc.dispose();
  const v = new DataView(blob.buffer);
  for (let j = 0; j < dim; j++) v.setFloat64(HEADER_BYTES + 8 * j, 0, true);
  let p = HEADER_BYTES + 8 * dim;
  for (let i = 0; i < dim; i++) for (let j = i; j < dim; j++, p += 8) v.setFloat64(p, M[i * dim + j]!, true);
  v.setUint32(blob.length - 4, crc32(blob, 0, blob.length - 4), true);
  return blob;
}

function rejects(blob: Uint8Array, pattern: RegExp, what: string): void {
  const before = g.wasmMemoryBytes();
  assert.throws(
    () => g.GradientCovariance.fromBytes(blob),
    (e: Error) => e instanceof RangeError && pattern.test(e.message) && /`bytes`/.test(e.message),
    what,
  );
  assert.is(g.wasmMemoryBytes(), before, `${what}: nothing left allocated`);
}

/** An f32 accumulator's version-3 blob with `edit` applied to it, CRC recomputed. */
function forgeV3(edit: (v: DataView, blob: Uint8Array) => void, dim = 3, count = 10): Uint8Array {
  const acc = new g.GradientCovariance(dim, { precision: 'f32' }).addBatch(normals(dim * count, 2));
  const blob = acc.toBytes();
  acc.dispose();
  const v = new DataView(blob.buffer);
  edit(v, blob);
  v.setUint32(blob.length - 4, crc32(blob, 0, blob.length - 4), true);
  return blob;
}

test('version 3 (precision): hostile headers with a correct CRC are refused, naming the field', () => {
  assert.is(g.GradientCovariance.fromBytes(forgeV3(() => {})).precision, 'f32');
  const f64blob = forgeV3((v) => v.setUint32(16, 0, true)); // code 0: a legal f64 state in version 3
  const f = g.GradientCovariance.fromBytes(f64blob);
  assert.is(f.precision, 'f64');
  f.dispose();
  rejects(
    forgeV3((v) => v.setUint32(16, 2, true)),
    /precision code \(bytes 16-19\)/,
    'precision code 2',
  );
  rejects(
    forgeV3((v) => v.setUint32(16, 0xffffffff, true)),
    /precision code/,
    'precision code 2^32 - 1',
  );
  rejects(
    forgeV3((v) => v.setUint32(20, 1, true)),
    /reserved field \(bytes 20-23\)/,
    'reserved nonzero',
  );
  rejects(
    forgeV3((v) => v.setUint32(12, 2049, true)),
    /scale exponent \(bytes 12-15\) is in \[0, 2048\]/,
    'exponent 2049',
  );
  rejects(
    forgeV3((v) => v.setUint32(4, 4, true)),
    /format version 1, 2 or 3/,
    'version 4',
  );
  // a version-3 blob relabelled as version 1 (or the reverse) has the wrong length
  rejects(
    forgeV3((v) => {
      v.setUint32(4, 1, true);
      v.setUint32(12, 0, true);
    }),
    /bytes long for dim 3/,
    'v3 read as v1',
  );
  const v1 = new g.GradientCovariance(3).addBatch(normals(30, 3)).toBytes();
  new DataView(v1.buffer).setUint32(4, 3, true);
  new DataView(v1.buffer).setUint32(v1.length - 4, crc32(v1, 0, v1.length - 4), true);
  rejects(v1, /bytes long for dim 3 \(36/, 'v1 read as v3');
  // a count whose moments break the invariants, at the version-3 offsets
  rejects(
    forgeV3((v) => v.setBigInt64(24, 0n, true)),
    /zero when count is 0/,
    'count 0 with moments',
  );
  rejects(
    forgeV3((v) => v.setFloat64(HEADER_BYTES_V3 + 8 * 3, -1, true)),
    /diagonal is >= 0/,
    'negative diagonal',
  );
  rejects(
    forgeV3((v) => v.setFloat64(HEADER_BYTES_V3, Number.NaN, true)),
    /finite values.*mean\[0\]/,
    'NaN mean',
  );
});

test('issue example: an off-diagonal far above sqrt(M_ii M_jj) with a correct CRC is refused', () => {
  rejects(forge(2, [1, 1e14, 1e14, 1]), /positive semi-definite.*exceeds sqrt/, 'off-diagonal 1e14');
  rejects(forge(3, [1, 0, 1e14, 0, 1, 0, 1e14, 0, 1]), /positive semi-definite/, 'dim 3');
  rejects(
    forge(2, [0, 1e-100, 1e-100, 1]),
    /positive semi-definite/,
    'a nonzero entry beside a zero diagonal',
  );
});

test('a co-moment whose 2 x 2 minors are fine but which is indefinite is refused (Cholesky of the correlation matrix)', () => {
  // R = [[1, .9, -.9], [.9, 1, .9], [-.9, .9, 1]]: every |R_ij| <= 1, eigenvalue 1 - 1.8 = -0.8
  const s = [2, 3e10, 5e-3];
  const R = [1, 0.9, -0.9, 0.9, 1, 0.9, -0.9, 0.9, 1];
  rejects(
    forge(
      3,
      R.map((r, k) => r * s[Math.floor(k / 3)]! * s[k % 3]!),
    ),
    /Cholesky factorisation of its correlation matrix/,
    'indefinite 3 x 3',
  );
  // the least negative eigenvalue caught: -1e-6 relative (well above the 1e-9 ridge) at dim 64
  const dim = 64,
    eps = 1e-6;
  const M = new Float64Array(dim * dim).fill(1 - eps); // (1 - eps) 1 1' + eps I has eigenvalues eps and 1 + ...
  for (let i = 0; i < dim; i++) M[i * dim + i] = 1;
  M[1] = M[dim] = 1; // one pair made perfectly correlated while the rest is not: a 3 x 3 minor goes indefinite
  M[2] = M[2 * dim] = 1 - 3 * eps;
  rejects(forge(dim, M), /Cholesky/, 'eigenvalue -O(1e-6)');
});

test('legitimate co-moments are accepted: rank-deficient, exactly collinear, scaled, at dims 1 .. 1024 (timed)', () => {
  for (const [dim, count, kind] of [
    [1, 2, 'full'],
    [3, 2, 'full'],
    [64, 10, 'full'],
    [64, 500, 'collinear'],
    [300, 2000, 'rank 4'],
    [1024, 5, 'full'],
    [1024, 3000, 'rank 8'],
  ] as const) {
    let G = normals(dim * count, dim + count);
    if (kind === 'collinear')
      for (let r = 0; r < count; r++) {
        G[r * dim + 1] = 2 * G[r * dim]!;
        G[r * dim + 2] = -G[r * dim]! * 1e-3;
      }
    if (kind.startsWith('rank')) {
      const k = Number(kind.slice(5)),
        B = normals(k * dim, 3),
        Z = normals(count * k, 4);
      G = new Float64Array(count * dim);
      for (let r = 0; r < count; r++)
        for (let q = 0; q < k; q++)
          for (let j = 0; j < dim; j++) G[r * dim + j]! += Z[r * k + q]! * B[q * dim + j]!;
    }
    for (const scale of [1, 1e250]) {
      const acc = new g.GradientCovariance(dim).addBatch(scale === 1 ? G : G.map((x) => x * scale));
      const blob = acc.toBytes();
      const t0 = performance.now();
      const back = g.GradientCovariance.fromBytes(blob);
      const ms = performance.now() - t0;
      assert.equal(back.toBytes(), blob, `dim ${dim} ${kind} x${scale}`);
      if (dim === 1024 && scale === 1)
        console.log(
          `  fromBytes at dim 1024 (${kind}, ${count} gradients; with the PSD Cholesky): ${ms.toFixed(0)} ms`,
        );
      back.dispose();
      acc.dispose();
    }
  }
  assert.is(PSD_RIDGE, 1e-9);
  assert.is(PSD_CHECK_MAX_DIM, 1024);
});

test('above dim 1024 the 2 x 2 minors are still checked (the Cholesky is skipped there, as documented)', () => {
  const dim = 1025;
  const M = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) M[i * dim + i] = 1;
  M[5 * dim + 700] = 2; // |M_5,700| = 2 > sqrt(1 * 1)
  rejects(forge(dim, M, 3), /exceeds sqrt/, 'dim 1025 minor');
});

test('fromBytes on a SharedArrayBuffer view decodes exactly what a plain copy decodes', () => {
  const acc = new g.GradientCovariance(4).addBatch(normals(4 * 30, 8));
  const blob = acc.toBytes();
  const shared = new Uint8Array(new SharedArrayBuffer(blob.length + 16), 8, blob.length);
  shared.set(blob);
  const a = g.GradientCovariance.fromBytes(shared),
    b = g.GradientCovariance.fromBytes(blob);
  assert.equal(a.toBytes(), b.toBytes());
  a.dispose();
  b.dispose();
  acc.dispose();
});

test('a second thread rewriting the mean while fromBytes runs: every decode is refused or exact, never NaN', async () => {
  const acc = new g.GradientCovariance(64).addBatch(normals(64 * 100, 9));
  const blob = acc.toBytes();
  acc.dispose();
  const sab = new SharedArrayBuffer(blob.length + 8);
  const shared = new Uint8Array(sab, 0, blob.length);
  shared.set(blob);
  const stop = new Int32Array(new SharedArrayBuffer(8)); // [0]: stop, [1]: the writer is running
  // the writer flips mean[5] between its value and NaN as fast as it can
  const worker = new Worker(
    `
    const { workerData } = require('node:worker_threads');
    const bytes = new Uint8Array(workerData.sab, 0, workerData.length);
    const stop = new Int32Array(workerData.stop);
    const off = ${HEADER_BYTES + 8 * 5};
    const good = bytes.slice(off, off + 8);
    const nan = new Uint8Array(new Float64Array([NaN]).buffer);
    Atomics.store(stop, 1, 1);
    while (Atomics.load(stop, 0) === 0) { bytes.set(nan, off); bytes.set(good, off); }
  `,
    { eval: true, workerData: { sab, length: blob.length, stop: stop.buffer } },
  );
  for (let waited = 0; Atomics.load(stop, 1) === 0 && waited < 20000; waited += 10)
    await new Promise((r) => setTimeout(r, 10));
  assert.is(Atomics.load(stop, 1), 1, 'the writer thread started');
  let exact = 0,
    refused = 0;
  const t0 = performance.now();
  try {
    while (performance.now() - t0 < 600) {
      let state: Uint8Array;
      try {
        const a = g.GradientCovariance.fromBytes(shared);
        state = a.toBytes(); // the decoded state as stored (toBytes does not re-validate)
        a.dispose();
      } catch (err) {
        assert.instance(err, RangeError);
        refused++;
        continue;
      }
      assert.ok(
        state.every((b, i) => b === blob[i]),
        'a decode came through with a state that is not the blob (e.g. a NaN mean)',
      );
      exact++;
    }
  } finally {
    Atomics.store(stop, 0, 1);
    await worker.terminate();
  }
  console.log(`  ${exact} exact decodes, ${refused} refused (CRC or finiteness of the copy) in 0.6 s`);
  assert.ok(exact + refused > 20, 'the race ran');
});

test.run();
