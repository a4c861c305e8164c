// The sketch kernels (assembly/sketch.ts) against their plain-TS references
// (src/reference/sketch.ts) at edge sizes: d = 1, 2, 3, 7, tile and block remainders
// (d = 255, 257, 300), n = used buffer rows 1..9 (odd, partial 4-row tiles). The release
// and debug builds add in the references' order: bit for bit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { wasm, withBlocks, copyIn, f64 } from '../../src/core/wasm.js';
import * as ref from '../../src/reference/sketch.js';
import { symmetricEigen } from '../../src/spectral/symeig.js';
import { setup, normals, assertSameValues, maxAbsDiff } from '../helpers/helpers.js';

test.before(setup);

const pad4 = (x: number) => Math.ceil(x / 4) * 4;
const DIMS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 63, 65, 255, 257, 300];
const ROWS = [1, 2, 3, 4, 5, 6, 7, 9, 10];

type Storage = 'f64' | 'f32';
const STORAGES: Storage[] = ['f64', 'f32'];
const f32view = (ptr: number, n: number) => new Float32Array(wasm().memory.buffer, ptr, n);
/** The buffer's element view and size for a storage. */
const viewOf = (storage: Storage) => (storage === 'f32' ? f32view : f64);
const bytesOf = (storage: Storage) => (storage === 'f32' ? 4 : 8);
/** Values as a storage holds them (rounded to f32 for 'f32'), as doubles. */
const stored = (a: Float64Array, storage: Storage) =>
  storage === 'f32' ? Float64Array.from(Float32Array.from(a)) : a;

/** B (n x d) laid out as the kernels want it: np x dp, zero padded, in the storage's type. */
function padded(
  B: Float64Array,
  n: number,
  d: number,
  np: number,
  storage: Storage = 'f64',
): Float64Array | Float32Array {
  const dp = pad4(d),
    P = storage === 'f32' ? new Float32Array(np * dp) : new Float64Array(np * dp);
  for (let i = 0; i < n; i++) P.set(B.subarray(i * d, i * d + d), i * dp);
  return P;
}

test('sketchGram (f64 storage) and sketchGramF32 (f32 storage, products in f64) = reference Gram of the stored values, upper triangle, bit for bit', () => {
  for (const storage of STORAGES)
    for (const d of DIMS)
      for (const n of ROWS) {
        const np = pad4(n),
          dp = pad4(d);
        const B = stored(normals(n * d, 100 * d + n), storage);
        const kernel = storage === 'f32' ? wasm().sketchGramF32 : wasm().sketchGram;
        const got = withBlocks(
          [np * dp * bytesOf(storage), np * np * 8, wasm().sketchGramScratchBytes(np)],
          'test',
          (b, g, s) => {
            copyIn(b!, padded(B, n, d, np, storage));
            kernel(b!, n, dp, g!, np, s!);
            return f64(g!, np * np).slice();
          },
        );
        const want = ref.gram(B, n, d);
        const up = [],
          wantUp = [];
        for (let i = 0; i < n; i++)
          for (let j = i; j < n; j++) {
            up.push(got[i * np + j]!);
            wantUp.push(want[i * n + j]!);
          }
        assertSameValues(up, wantUp, `Gram ${storage} d ${d} n ${n}`);
      }
});

test('sketchRotate and sketchRotateF32 = reference W B: in place in the storage (f32: rounded as stored; rows past r zeroed), into another block in f64 (row stride dp or d), bit for bit', () => {
  for (const storage of STORAGES)
    for (const d of DIMS)
      for (const n of ROWS)
        for (const r of [1, Math.max(1, n - 1), n]) {
          const np = pad4(n),
            dp = pad4(d),
            rp = pad4(r),
            view = viewOf(storage),
            kernel = storage === 'f32' ? wasm().sketchRotateF32 : wasm().sketchRotate;
          const B = stored(normals(n * d, 7 * d + n), storage),
            W = normals(r * n, 11 * r + n);
          const pack = new Float64Array(rp * n);
          for (let i = 0; i < r; i++)
            for (let t = 0; t < n; t++) pack[(i >> 2) * n * 4 + t * 4 + (i & 3)] = W[i * n + t]!;
          const want = ref.rotate(W, r, B, n, d);
          const wantStored = stored(want, storage);
          const what = `${storage} d ${d} n ${n} r ${r}`;
          const [inPlace, out, after, tight] = withBlocks(
            [
              np * dp * bytesOf(storage),
              rp * n * 8,
              wasm().sketchRotateScratchBytes(n),
              r * dp * 8,
              r * d * 8 + 8,
            ],
            'test',
            (b, w, s, o, o2) => {
              copyIn(b!, padded(B, n, d, np, storage));
              copyIn(w!, pack);
              kernel(b!, n, dp, w!, r, o!, dp, s!);
              const out = f64(o!, r * dp).slice();
              f64(o2!, r * d + 1).fill(-1);
              kernel(b!, n, dp, w!, r, o2!, d, s!); // rows of exactly d: the 1-3 column tail
              const tight = f64(o2!, r * d + 1).slice();
              const unchanged = view(b!, np * dp).slice();
              kernel(b!, n, dp, w!, r, b!, dp, s!);
              return [view(b!, np * dp).slice(), out, unchanged, tight] as const;
            },
          );
          assertSameValues(tight.subarray(0, r * d), want, `out of place, ldo = d (${what})`);
          assert.is(tight[r * d], -1, 'nothing written past r rows of d');
          assertSameValues(
            after,
            padded(B, n, d, np, storage),
            `B unchanged by an out-of-place rotation (${what})`,
          );
          for (let i = 0; i < np; i++)
            for (let c = 0; c < dp; c++) {
              const inside = i < r && c < d;
              const w = inside ? wantStored[i * d + c]! : 0;
              if (inPlace[i * dp + c] !== w)
                assert.unreachable(`in place ${what}: [${i}][${c}] ${inPlace[i * dp + c]} != ${w}`);
              if (i < r && out[i * dp + c] !== (inside ? want[i * d + c]! : 0))
                assert.unreachable(`out of place ${what}: [${i}][${c}] ${out[i * dp + c]}`);
            }
        }
});

test('sketchAddRows (f64 storage) and sketchAddRowsF32 (f32 storage: rounded as stored) = reference copy, diagonal and trace increment from the f64 values (f64 and f32 rows, scale), bit for bit', () => {
  for (const storage of STORAGES)
    for (const d of DIMS)
      for (const k of [1, 2, 3])
        for (const f32 of [false, true]) {
          const dp = pad4(d),
            at = 1,
            scale = 0.75,
            be = bytesOf(storage),
            view = viewOf(storage),
            kernel = storage === 'f32' ? wasm().sketchAddRowsF32 : wasm().sketchAddRows;
          const rows64 = normals(k * d, 3 * d + k),
            rows = f32 ? Float32Array.from(rows64) : rows64;
          const diag0 = normals(d, 5).map(Math.abs);
          const [buf, diag, tr] = withBlocks(
            [(at + k) * dp * be, d * 8, rows.byteLength],
            'test',
            (b, g, r) => {
              view(b!, (at + k) * dp).fill(0);
              copyIn(g!, diag0);
              copyIn(r!, rows);
              const tr = kernel(r!, k, d, f32 ? 1 : 0, scale, b!, at, dp, g!);
              return [view(b!, (at + k) * dp).slice(), f64(g!, d).slice(), tr] as const;
            },
          );
          const wantDiag = diag0.slice();
          const want = ref.addRows(rows, k, d, scale, wantDiag);
          const what = `${storage} storage, d ${d} k ${k} f32 rows ${f32}`;
          assertSameValues(diag, wantDiag, `diag ${what}`);
          assert.is(tr, want.trace, `trace increment ${what}`);
          for (let i = 0; i < k; i++) {
            const row = want.scaled.subarray(i * d, i * d + d);
            assertSameValues(
              buf.subarray((at + i) * dp, (at + i) * dp + d),
              storage === 'f32' ? Float32Array.from(row) : row,
              `row ${i} (${what})`,
            );
          }
          assert.ok(
            buf.subarray(0, dp).every((v) => v === 0),
            'rows before `at` untouched',
          );
          for (let i = 0; i < k; i++)
            assert.ok(
              buf.subarray((at + i) * dp + d, (at + i + 1) * dp).every((v) => v === 0),
              'padding stays zero',
            );
        }
});

test('symmetricEigen: A V = V diag(w) and V orthonormal to 1e-12 relative (n = 0, 1, 2, 3, 7, 64, repeated and zero eigenvalues)', () => {
  const cases: [number, Float64Array][] = [];
  for (const n of [1, 2, 3, 7, 64]) {
    const a = normals(n * n, n),
      A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = a[i * n + j]! + a[j * n + i]!;
    cases.push([n, A]);
  }
  const I4 = new Float64Array(16);
  for (let i = 0; i < 4; i++) I4[i * 5] = 2;
  cases.push([4, I4]);
  cases.push([5, new Float64Array(25)]);
  const R = normals(3 * 6, 9),
    L = new Float64Array(36); // rank 3, size 6
  for (let i = 0; i < 6; i++)
    for (let j = 0; j < 6; j++) for (let t = 0; t < 3; t++) L[i * 6 + j] += R[t * 6 + i]! * R[t * 6 + j]!;
  cases.push([6, L]);
  assert.is(symmetricEigen(new Float64Array(0), 0).values.length, 0);
  for (const [n, A] of cases) {
    const { values, vectors } = symmetricEigen(A, n);
    const scale = Math.max(1e-300, ...A.map(Math.abs));
    for (let t = 0; t < n; t++) {
      if (t > 0) assert.ok(values[t]! <= values[t - 1]!, 'descending');
      const v = vectors.subarray(t * n, t * n + n);
      const Av = Array.from({ length: n }, (_, i) => v.reduce((s, x, j) => s + A[i * n + j]! * x, 0));
      assert.ok(
        maxAbsDiff(
          Av,
          v.map((x) => values[t]! * x),
        ) <=
          1e-12 * scale * n,
        `n ${n}: residual of pair ${t}`,
      );
      for (let u = 0; u <= t; u++) {
        const dot = v.reduce((s, x, j) => s + x * vectors[u * n + j]!, 0);
        assert.ok(Math.abs(dot - (u === t ? 1 : 0)) < 1e-12 * n, `n ${n}: V'V at ${t}, ${u}`);
      }
    }
  }
});

test.run();
