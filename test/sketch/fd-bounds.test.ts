// Frequent Directions guarantees of CurvatureSketch (MATH.md "Past dense d^2"), on the
// unscaled sketch S = rows * (the estimate) = B'B against A'A of the rows added:
//   l > rank(A) (MATH.md's shrink by s_l^2 keeps l - 1 rows, so rank l - 1 is the most it
//   holds exactly; with rank = l every shrink removes s_l^2 > 0): S = A'A to rounding, Delta 0;
//   0 <= A'A - S <= Delta I (eigenvalues, tolerance 1e-10 of ||A||_F^2);
//   Delta <= ||A - A_k||_F^2 / (l - k) for every k < l;
// both merge orders satisfy them; the diagonal and trace are the exact sums of squares
// (1e-14 relative); the wasm sketch equals the plain-TS Frequent Directions
// (src/reference/sketch.ts) bit for bit. Fixed seeds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { CurvatureSketch } from '../../src/sketch/sketch.js';
import { FrequentDirections } from '../../src/reference/sketch.js';
import { symmetricEigen } from '../../src/spectral/symeig.js';
import { setup, normals, assertSameValues } from '../helpers/helpers.js';

test.before(setup);

/** m x d rows with a decaying spectrum: A = Z diag(decay^j) (Z standard normal). */
function rows(m: number, d: number, seed: number, decay = 0.8, rank = d): Float64Array {
  const Z = normals(m * rank, seed),
    A = new Float64Array(m * d),
    Q = normals(rank * d, seed + 1);
  for (let i = 0; i < m; i++)
    for (let t = 0; t < rank; t++) {
      const z = Z[i * rank + t]! * decay ** t;
      for (let j = 0; j < d; j++) A[i * d + j] = A[i * d + j]! + z * Q[t * d + j]!;
    }
  return A;
}

function gramOf(A: Float64Array, d: number): Float64Array {
  const m = A.length / d,
    G = new Float64Array(d * d);
  for (let r = 0; r < m; r++)
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) G[i * d + j] = G[i * d + j]! + A[r * d + i]! * A[r * d + j]!;
  return G;
}

/** The sketch's unscaled matrix S = rows * estimate, column by column through apply(). */
function sketchMatrix(s: CurvatureSketch): Float64Array {
  const d = s.dim,
    S = new Float64Array(d * d),
    e = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    e.fill(0);
    e[j] = 1;
    const c = s.apply(e);
    for (let i = 0; i < d; i++) S[i * d + j] = c[i]! * s.rows;
  }
  return S;
}

function checkBounds(s: CurvatureSketch, A: Float64Array, what: string): void {
  const d = s.dim,
    l = s.size,
    AA = gramOf(A, d),
    S = sketchMatrix(s);
  const delta = s.shrinkage * s.rows;
  const fro = AA.reduce((t, _, i) => (i % (d + 1) === 0 ? t + AA[i]! : t), 0);
  const tol = 1e-10 * fro;
  const D = AA.map((v, i) => v - S[i]!);
  const w = symmetricEigen(D, d).values;
  assert.ok(w[d - 1]! >= -tol, `${what}: A'A - B'B >= 0 (smallest eigenvalue ${w[d - 1]})`);
  assert.ok(w[0]! <= delta + tol, `${what}: A'A - B'B <= Delta I (largest ${w[0]}, Delta ${delta})`);
  const sv = symmetricEigen(AA, d).values;
  for (let k = 0; k < l; k++) {
    let tail = 0;
    for (let i = k; i < d; i++) tail += Math.max(0, sv[i]!);
    assert.ok(
      delta <= tail / (l - k) + tol,
      `${what}: Delta ${delta} <= ||A - A_${k}||_F^2 / (l - ${k}) = ${tail / (l - k)}`,
    );
  }
  // exact diagonal and trace
  const m = A.length / d,
    diag = s.diagonal();
  for (let j = 0; j < d; j++)
    assert.ok(
      Math.abs(diag[j]! * s.rows - AA[j * d + j]!) <= 1e-14 * 4 * AA[j * d + j]!,
      `${what}: diagonal ${j}`,
    );
  assert.ok(Math.abs(s.trace() * s.rows - fro) <= 1e-14 * 4 * fro, `${what}: trace`);
  assert.is(s.rows, m, `${what}: rows`);
}

test('l > rank (l - 1 >= rank): the dense answer to rounding, Delta 0 to rounding', () => {
  for (const [d, rank, l] of [
    [12, 4, 5],
    [7, 3, 4],
    [33, 6, 8],
    [5, 1, 2],
  ] as const) {
    const A = rows(100, d, d, 0.9, rank);
    const s = new CurvatureSketch(d, { size: l }).addRows(A);
    const AA = gramOf(A, d),
      S = sketchMatrix(s),
      fro = AA.reduce((t, _, i) => (i % (d + 1) === 0 ? t + AA[i]! : t), 0);
    assert.ok(
      AA.every((v, i) => Math.abs(v - S[i]!) <= 1e-12 * fro),
      `d ${d} rank ${rank} l ${l}: B'B = A'A`,
    );
    assert.ok(s.shrinkage * s.rows <= 1e-12 * fro, `Delta ${s.shrinkage * s.rows} ~ 0`);
    const e = s.eigenpairs(rank);
    const exact = symmetricEigen(AA, d).values;
    for (let i = 0; i < rank; i++)
      assert.ok(Math.abs(e.eigenvalues[i]! * s.rows - exact[i]!) <= 1e-11 * fro, `eigenvalue ${i}`);
    s.dispose();
  }
});

test("0 <= A'A - B'B <= Delta I and Delta <= ||A - A_k||_F^2 / (l - k) for every k < l (d 1, 2, 3, 20, 41; l 2, 3, 5; rows in odd blocks)", () => {
  for (const [d, l, m] of [
    [1, 2, 9],
    [2, 2, 31],
    [3, 3, 40],
    [20, 5, 203],
    [41, 3, 150],
    [20, 2, 77],
  ] as const) {
    const A = rows(m, d, 10 * d + l);
    const s = new CurvatureSketch(d, { size: l });
    for (let r = 0; r < m; r += 13) s.addRows(A.subarray(r * d, Math.min(m, r + 13) * d));
    checkBounds(s, A, `d ${d} l ${l} m ${m}`);
    s.dispose();
  }
});

test('both merge orders satisfy the bounds; the merged diagonal and trace are exact', () => {
  const d = 25,
    l = 4,
    A = rows(300, d, 5),
    B = rows(170, d, 6, 0.6);
  const a = () => new CurvatureSketch(d, { size: l }).addRows(A),
    b = () => new CurvatureSketch(d, { size: l }).addRows(B);
  const both = new Float64Array(A.length + B.length);
  both.set(A);
  both.set(B, A.length);
  const ab = a().merge(b()),
    ba = b().merge(a());
  checkBounds(ab, both, 'a.merge(b)');
  checkBounds(ba, both, 'b.merge(a)');
  const self = a();
  self.merge(self);
  const twice = new Float64Array(2 * A.length);
  twice.set(A);
  twice.set(A, A.length);
  checkBounds(self, twice, 'a.merge(a)');
  for (const s of [ab, ba, self]) s.dispose();
});

test('the wasm sketch equals the plain-TS Frequent Directions bit for bit (buffer through eigenpairs, Delta)', () => {
  for (const [d, l, m] of [
    [3, 2, 11],
    [7, 3, 50],
    [301, 4, 37],
  ] as const) {
    const A = rows(m, d, d + l);
    const s = new CurvatureSketch(d, { size: l }).addRows(A, { scale: 0.5 });
    const r = new FrequentDirections(d, l).add(A, 0.5);
    assert.is(s.shrinkage * s.rows, r.delta, `d ${d} l ${l}: Delta`);
    assert.is(s.bufferRows, r.used, 'buffer rows');
    const blob = s.toBytes(),
      v = new DataView(blob.buffer),
      p = 48 + 8 * d;
    const B = Float64Array.from({ length: r.used * d }, (_, i) => v.getFloat64(p + 8 * i, true));
    assertSameValues(B, r.B.subarray(0, r.used * d), `d ${d} l ${l}: buffer`);
    s.dispose();
  }
});

test('eigenpairs: unit orthogonal eigenvectors, upper = eigenvalue + shrinkage, zeros past the rank; an empty sketch', () => {
  const d = 30,
    s = new CurvatureSketch(d, { size: 6 }).addRows(rows(3, d, 2));
  const e = s.eigenpairs(6);
  for (let i = 0; i < 6; i++) {
    const v = e.eigenvectors.subarray(i * d, i * d + d);
    const nn = v.reduce((t, x) => t + x * x, 0);
    if (i < 3) assert.ok(Math.abs(nn - 1) < 1e-12, `vector ${i} unit`);
    else {
      assert.is(e.eigenvalues[i], 0);
      assert.is(nn, 0);
    }
    assert.is(e.upper[i], e.eigenvalues[i]! + e.shrinkage);
  }
  s.dispose();
  const z = new CurvatureSketch(4, { size: 2 });
  assert.equal(Array.from(z.eigenpairs(2).eigenvalues), [0, 0]);
  assert.is(z.trace(), 0);
  assert.equal(Array.from(z.diagonal()), [0, 0, 0, 0]);
  z.dispose();
  void g;
});

test.run();
