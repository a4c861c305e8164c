// Issue 7, numerical stability. The covariance reference is exact: every input double is
// an integer times a power of two, so sums and products are exact in BigInt and the
// two-pass covariance (n Q - S S') / (n (n - 1)) is an exact rational, rounded once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { setup, normals, randomOrthogonal, withSpectrum } from '../helpers/helpers.js';

const { GradientCovariance, Rng } = g;

test.before(setup);

/** x = m 2^e exactly (m an integer BigInt). */
function decompose(x: number): [bigint, number] {
  if (x === 0) return [0n, 0];
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const bits = dv.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const ex = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  return ex === 0 ? [sign * frac, -1074] : [sign * (frac | (1n << 52n)), ex - 1075];
}

/** num / den * 2^pow, rounded to a double (through a 64-bit quotient: error ~ 2^-63). */
function ratio(num: bigint, den: bigint, pow: number): number {
  if (num === 0n) return 0;
  const neg = num < 0n !== den < 0n;
  let a = num < 0n ? -num : num;
  const b = den < 0n ? -den : den;
  const shift = 64 - (a.toString(2).length - b.toString(2).length);
  a = shift >= 0 ? a << BigInt(shift) : a >> BigInt(-shift);
  const q = Number(a / b) * 2 ** (pow - shift);
  return neg ? -q : q;
}

/** Exact mean and sample covariance (rounded once) of rows x dim doubles. */
function exactMoments(G: Float64Array, rows: number, dim: number): { mean: Float64Array; cov: Float64Array } {
  const parts = Array.from(G, decompose);
  const E = Math.min(...parts.filter(([m]) => m !== 0n).map(([, e]) => e));
  const N = parts.map(([m, e]) => m << BigInt(e - E));
  const S = new Array<bigint>(dim).fill(0n);
  const Q = new Array<bigint>(dim * dim).fill(0n);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < dim; i++) {
      const a = N[r * dim + i]!;
      S[i] += a;
      for (let j = i; j < dim; j++) Q[i * dim + j] += a * N[r * dim + j]!;
    }
  }
  const n = BigInt(rows);
  const mean = Float64Array.from(S, (s) => ratio(s, n, E));
  const cov = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      cov[i * dim + j] = cov[j * dim + i] = ratio(n * Q[i * dim + j]! - S[i]! * S[j]!, n * (n - 1n), 2 * E);
    }
  }
  return { mean, cov };
}

function relErr(C: Float64Array, ref: Float64Array): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < C.length; i++) {
    num = Math.max(num, Math.abs(C[i]! - ref[i]!));
    den = Math.max(den, Math.abs(ref[i]!));
  }
  return num / den;
}

/** Exactly representable gradients: offset_j + (correlated normal draw, rounded to a grid of 2^-grid) * spread. */
function gradients(
  rows: number,
  dim: number,
  offset: number,
  spread: number,
  gridBits: number,
  seed: number,
): Float64Array {
  const z = normals(rows * dim, seed);
  const G = new Float64Array(rows * dim);
  const step = 2 ** -gridBits;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < dim; j++) {
      const v = spread * (z[r * dim + j]! + 0.5 * z[r * dim]!); // correlated with column 0
      G[r * dim + j] = offset * (1 + j / 8) + Math.round(v / step) * step;
      if (G[r * dim + j]! - offset * (1 + j / 8) !== Math.round(v / step) * step)
        throw new Error('not exact');
    }
  }
  return G;
}

/** Feeds rows into accumulators in several orders; returns [label, covariance, mean] per order. */
function orders(
  G: Float64Array,
  rows: number,
  dim: number,
  seed: number,
): [string, Float64Array, Float64Array][] {
  const out: [string, Float64Array, Float64Array][] = [];
  const take = (label: string, acc: InstanceType<typeof GradientCovariance>) => {
    out.push([label, acc.covariance(), acc.mean()]);
    acc.dispose();
  };
  take('one addBatch', new GradientCovariance(dim).addBatch(G));
  const one = new GradientCovariance(dim);
  for (let r = 0; r < rows; r++) one.add(G.subarray(r * dim, (r + 1) * dim));
  take('one by one', one);
  const u = new Rng(seed, 1).uniforms(new Float64Array(4 * rows));
  const chunks: [number, number][] = [];
  for (let r = 0, i = 0; r < rows; i++) {
    const n = Math.min(rows - r, 1 + Math.floor(u[i]! * 700));
    chunks.push([r, n]);
    r += n;
  }
  const chunked = new GradientCovariance(dim);
  for (const [r, n] of chunks) chunked.addBatch(G.subarray(r * dim, (r + n) * dim));
  take('random chunks', chunked);
  // every chunk in its own accumulator, merged in a random order, and as a random tree
  const parts = () =>
    chunks.map(([r, n]) => new GradientCovariance(dim).addBatch(G.subarray(r * dim, (r + n) * dim)));
  const perm = (k: number, s: number) => {
    const p = Array.from({ length: k }, (_, i) => i);
    const v = new Rng(s, 2).uniforms(new Float64Array(k));
    p.sort((a, b) => v[a]! - v[b]!);
    return p;
  };
  let ps = parts();
  const seq = new GradientCovariance(dim);
  for (const i of perm(ps.length, seed)) seq.merge(ps[i]!);
  ps.forEach((p) => p.dispose());
  take('merged in a random order', seq);
  ps = parts();
  const v = new Rng(seed, 3).uniforms(new Float64Array(4 * ps.length));
  let t = 0;
  while (ps.length > 1) {
    // merge two random ones
    const i = Math.floor(v[t++ % v.length]! * ps.length);
    const [a] = ps.splice(i, 1);
    const j = Math.floor(v[t++ % v.length]! * ps.length);
    ps[j]!.merge(a!);
    a!.dispose();
  }
  take('merged as a random tree', ps[0]!);
  return out;
}

test('large common offset (1e8, unit variance) and tiny variance (1e-12): <= 1e-8 of the exact covariance, in five orders', () => {
  // The stated bound: relative error <= max(1e-8, 8 eps offset / sd). The running mean is
  // one double, so it carries a rounding of eps |offset|, and Chan's merge term is first
  // order in it: 1e-8 holds to offset / sd ~ 1e7..1e8; beyond, the error grows with the ratio
  // (the last case, offset / sd = 1e10, measures ~1e-7; a two-pass in doubles would not).
  const cases: [string, Float64Array, number, number, number][] = [
    ['offset 1e8, variance 1', gradients(3000, 6, 1e8, 1, 10, 1), 3000, 6, 1e-8],
    ['offset 1e8, variance 1, dim 9 (padded tile)', gradients(1100, 9, 1e8, 1, 10, 2), 1100, 9, 1e-8],
    ['offset 1, variance 1e-12', gradients(3000, 6, 1, 1e-6, 40, 3), 3000, 6, 1e-8],
    ['offset 0, variance 1e-12', gradients(2000, 5, 0, 1e-6, 80, 4), 2000, 5, 1e-8],
    [
      'offset 1e4, variance 1e-12 (offset / sd = 1e10)',
      gradients(2000, 5, 1e4, 1e-6, 36, 5),
      2000,
      5,
      8 * Number.EPSILON * 1e10 * 1.5,
    ],
  ];
  for (const [label, G, rows, dim, tol] of cases) {
    const ref = exactMoments(G, rows, dim);
    for (const [order, C, mean] of orders(G, rows, dim, rows + dim)) {
      const e = relErr(C, ref.cov);
      assert.ok(e <= tol, `${label}, ${order}: relative error ${e}`);
      for (let i = 0; i < dim; i++) {
        const d = Math.abs(C[i * dim + i]! - ref.cov[i * dim + i]!) / ref.cov[i * dim + i]!;
        assert.ok(d <= tol, `${label}, ${order}: diagonal ${i} off by ${d}`);
        const m = Math.abs(mean[i]! - ref.mean[i]!);
        // the running mean rounds once per update (one by one: 3000 roundings): 1e-13 relative
        assert.ok(
          m <= 1e-13 * Math.abs(ref.mean[i]!) + 1e-8 * Math.sqrt(ref.cov[i * dim + i]!),
          `${label}, ${order}: mean ${i} off by ${m}`,
        );
      }
    }
  }
});

test('merging 10^4 accumulators of 1..10 rows equals one accumulation to 1e-12 relative', () => {
  const dim = 8;
  const sizes = new Rng(21).uniforms(new Float64Array(10000)).map((u) => 1 + Math.floor(u * 10));
  const rows = sizes.reduce((a, b) => a + b, 0);
  for (const offset of [0, 1e3]) {
    const G = normals(rows * dim, 22).map((v, i) => v + offset * (1 + (i % dim)));
    const big = new GradientCovariance(dim).addBatch(G);
    const C = big.covariance(),
      mu = big.mean();
    big.dispose();
    const total = new GradientCovariance(dim);
    const parts: InstanceType<typeof GradientCovariance>[] = [];
    for (let i = 0, r = 0; i < sizes.length; r += sizes[i]!, i++) {
      const p = new GradientCovariance(dim).addBatch(G.subarray(r * dim, (r + sizes[i]!) * dim));
      total.merge(p);
      parts.push(p);
    }
    assert.is(total.count, rows);
    const e = relErr(total.covariance(), C);
    assert.ok(e <= 1e-12, `offset ${offset}: sequential merge off by ${e}`);
    assert.ok(relErr(total.mean(), mu) <= 1e-12, `offset ${offset}: mean`);
    // pairwise tree of the same parts
    let level = parts;
    while (level.length > 1) {
      const next: typeof parts = [];
      for (let i = 0; i < level.length; i += 2) {
        if (i + 1 < level.length) {
          level[i]!.merge(level[i + 1]!);
          level[i + 1]!.dispose();
        }
        next.push(level[i]!);
      }
      level = next;
    }
    const et = relErr(level[0]!.covariance(), C);
    assert.ok(et <= 1e-12, `offset ${offset}: tree merge off by ${et}`);
    level[0]!.dispose();
    total.dispose();
  }
});

// ---- spectral: a correct value, or an honest converged = false at the cap ----

function matrix(ev: number[], seed: number): Float64Array {
  return withSpectrum(ev, randomOrthogonal(ev.length, seed));
}

test('operatorNorm and extremeEigenvalues on hard spectra: correct within tol, or converged = false at the cap', () => {
  const fill = (head: number[], dim: number) => [
    ...head,
    ...Array.from({ length: dim - head.length }, (_, i) => 0.5 + i / dim),
  ];
  const spectra: [string, number[]][] = [
    ['repeated largest (x3)', fill([5, 5, 5], 20)],
    ['nearly equal largest (gap 1e-9)', fill([5, 5 - 1e-9], 20)],
    ['nearly equal largest (gap 1e-6)', fill([5, 5 - 1e-6], 30)],
    ['largest magnitude negative', fill([-7, 3], 20)],
    ['+/- pair of the largest magnitude', fill([6, -6], 20)],
    ['nearly +/- pair (6, -(6 - 1e-7))', fill([6, -(6 - 1e-7)], 20)],
    ['negative definite, repeated', Array.from({ length: 12 }, (_, i) => (i < 4 ? -3 : -1 - i / 12))],
    ['zero', new Array(10).fill(0)],
    ['identity', new Array(10).fill(1)],
    ['-2 identity', new Array(7).fill(-2)],
    ['rank one', [4, ...new Array(15).fill(0)]],
    ['dim 1', [-3.5]],
    ['tiny scale (1e-200)', fill([5, 5, 5], 10).map((v) => v * 1e-200)],
    ['huge scale (1e150)', fill([-7, 3], 10).map((v) => v * 1e150)],
  ];
  for (const [label, ev] of spectra) {
    const dim = ev.length;
    const A = matrix(ev, 3);
    const truth = Math.max(...ev.map(Math.abs));
    const lo = Math.min(...ev),
      hi = Math.max(...ev);
    for (const method of ['lanczos', 'power'] as const) {
      for (const [tol, maxIter] of [
        [1e-9, 10000],
        [1e-6, 10000],
        [1e-9, 8],
      ] as const) {
        for (const seed of [0, 1, 2]) {
          const r = g.operatorNorm(A, dim, { method, tol, maxIter, seed });
          const where = `${label}, ${method}, tol ${tol}, cap ${maxIter}, seed ${seed}: value ${r.value} vs ${truth}, ${r.iterations} it`;
          // an estimate never exceeds the norm (beyond rounding of the matrix itself)
          assert.ok(r.value <= truth * (1 + 1e-12), where);
          if (r.converged) {
            // the rounding of the rotated matrix (~dim eps ||A||) bounds what any method can see
            assert.ok(
              Math.abs(r.value - truth) <= 10 * tol * truth + 100 * dim * Number.EPSILON * truth,
              `${where}: claims convergence`,
            );
          } else {
            assert.is(
              r.iterations,
              method === 'power' ? maxIter : Math.min(maxIter, dim, 1000),
              `${where}: not converged before the cap`,
            );
          }
        }
      }
      const e = g.extremeEigenvalues(A, dim, { seed: 4 });
      if (e.converged) {
        const scale = (x: number) => Math.max(Math.abs(x), 1e-8 * truth);
        const slack = 100 * dim * Number.EPSILON * truth;
        assert.ok(Math.abs(e.max - hi) <= 10 * 1e-9 * scale(hi) + slack, `${label}: max ${e.max} vs ${hi}`);
        assert.ok(Math.abs(e.min - lo) <= 10 * 1e-9 * scale(lo) + slack, `${label}: min ${e.min} vs ${lo}`);
      } else {
        assert.is(
          e.iterations,
          Math.min(dim, 1000),
          `${label}: extremeEigenvalues stopped early without converging`,
        );
      }
    }
  }
  // exact answers where the answer is exact
  for (const method of ['lanczos', 'power'] as const) {
    assert.equal(g.operatorNorm(new Float64Array(25), 5, { method }), {
      value: 0,
      iterations: 1,
      converged: true,
      method,
    });
    const I = matrix(new Array(6).fill(1), 1);
    const r = g.operatorNorm(I, 6, { method });
    assert.ok(r.converged && Math.abs(r.value - 1) < 1e-14, `${method}: identity ${r.value}`);
  }
});

test.run();
