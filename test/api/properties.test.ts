// Issue 7, property tests (fast-check, fixed seed so a failure reproduces): the wasm
// kernels equal their plain-TS references over random shapes and values; the covariance is
// symmetric bit for bit and positive semi-definite; merge is commutative and associative
// within rounding; the normals of a seed are one prefix-stable stream however it is cut.
// Tolerances scale with the problem (k eps times the norms involved).
import { test } from 'uvu';
import fc from 'fast-check';
import * as g from '../../src/node.js';
import { wasm, withBlocks, copyIn, f64 } from '../../src/core/wasm.js';
import * as refCov from '../../src/reference/covariance.js';
import * as refGrad from '../../src/reference/gradients.js';
import * as refSpec from '../../src/reference/spectral.js';
import * as refRng from '../../src/reference/philox.js';
import { setup, maxAbs, maxAbsDiff, BUILD } from '../helpers/helpers.js';

const { GradientCovariance, Rng } = g;
const EPS = Number.EPSILON;
// the debug build is unoptimised: fewer runs there, same properties
const RUNS = BUILD === 'debug' ? 40 : 120;
const params = (seed: number) => ({ seed, numRuns: RUNS, endOnFailure: true });

test.before(setup);

/** rows x dim values: a random offset per problem plus a random spread, from a seeded Rng. */
const matrixArb = (maxRows: number, maxDim: number) =>
  fc.record({
    rows: fc.integer({ min: 0, max: maxRows }),
    dim: fc.integer({ min: 1, max: maxDim }),
    offset: fc.oneof(fc.constant(0), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
    spread: fc.oneof(fc.constant(1), fc.double({ min: 1e-3, max: 1e3, noNaN: true })),
    seed: fc.nat(),
    f32: fc.boolean(),
  });

function values(
  rows: number,
  dim: number,
  offset: number,
  spread: number,
  seed: number,
  f32: boolean,
): Float64Array | Float32Array {
  const z = new Rng(seed)
    .normals(new Float64Array(rows * dim), 0, spread)
    .map((v, i) => v + offset * (1 + (i % dim) / dim));
  return f32 ? Float32Array.from(z) : z;
}

test('covariance kernel == two-pass reference; symmetric bit for bit; PSD', () => {
  fc.assert(
    fc.property(matrixArb(600, 13), ({ rows, dim, offset, spread, seed, f32 }) => {
      rows = Math.max(rows, 2);
      const G = values(rows, dim, offset, spread, seed, f32);
      const want = refCov.covariance(Float64Array.from(G), rows, dim);
      const acc = new GradientCovariance(dim).addBatch(G);
      const C = acc.covariance(),
        mu = acc.mean();
      acc.dispose();
      // error ~ eps (|offset| spread + spread^2) per term, growing like sqrt(rows) at most linearly
      const scale = spread * spread + Math.abs(offset) * spread * 4 + maxAbs(want.cov);
      if (maxAbsDiff(C, want.cov) > 64 * EPS * Math.sqrt(rows) * dim * scale) return false;
      if (maxAbsDiff(mu, want.mean) > 16 * EPS * Math.sqrt(rows) * (Math.abs(offset) * 2 + spread))
        return false;
      for (let i = 0; i < dim; i++)
        for (let j = 0; j < i; j++) if (!Object.is(C[i * dim + j], C[j * dim + i])) return false;
      const ev = refSpec.jacobiEigenvalues(C, dim);
      return ev[0]! >= -64 * EPS * dim * Math.max(ev[dim - 1]!, maxAbs(C)) - 1e-300;
    }),
    params(701),
  );
});

test('merge is commutative and associative within rounding, and equals one accumulation', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 3, maxLength: 3 }),
      fc.nat(),
      fc.double({ min: -1e4, max: 1e4, noNaN: true }),
      (dim, sizes, seed, offset) => {
        const parts = sizes.map((n, i) => values(n, dim, offset, 1, seed + i, false) as Float64Array);
        const acc = (...ps: Float64Array[]) => {
          const a = new GradientCovariance(dim);
          for (const p of ps) a.addBatch(p);
          return a;
        };
        const [a, b, c] = parts as [Float64Array, Float64Array, Float64Array];
        const total = sizes[0]! + sizes[1]! + sizes[2]!;
        if (total < 2) return true;
        const results: { C: Float64Array; mu: Float64Array; count: number }[] = [];
        const take = (x: InstanceType<typeof GradientCovariance>) => {
          results.push({ C: x.covariance(), mu: x.mean(), count: x.count });
          x.dispose();
        };
        const A = () => acc(a),
          B = () => acc(b),
          Cc = () => acc(c);
        take(A().merge(B()).merge(Cc())); // (a b) c
        {
          const bc = B().merge(Cc());
          take(A().merge(bc));
          bc.dispose();
        } // a (b c)
        take(Cc().merge(B()).merge(A())); // (c b) a
        take(B().merge(A()).merge(Cc())); // (b a) c
        take(acc(a, b, c)); // one accumulation
        const base = results[4]!;
        const tol = 64 * EPS * (1 + Math.abs(offset)) * Math.sqrt(total) * (1 + maxAbs(base.C));
        return results.every(
          (r) =>
            r.count === total &&
            maxAbsDiff(r.C, base.C) <= tol &&
            maxAbsDiff(r.mu, base.mu) <= 16 * EPS * (1 + Math.abs(offset)) * Math.sqrt(total),
        );
      },
    ),
    params(702),
  );
});

test('gradient kernel == reference over random shapes, batch sizes, replacement and noise', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 11 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1, max: 20 }),
      fc.boolean(),
      fc.double({ min: 0, max: 100, noNaN: true }),
      fc.nat({ max: 2 ** 32 - 1 }),
      fc.nat({ max: 1000 }),
      (rows, dim, n0, m, replacement, tau2, seed, firstBatch) => {
        const n = replacement ? n0 : Math.min(n0, rows);
        const X = new Rng(seed, 1).normals(new Float64Array(rows * dim));
        const y = new Rng(seed, 2).normals(new Float64Array(rows));
        const w = new Rng(seed, 3).normals(new Float64Array(dim));
        const got = g.linearRegressionGradients({ X, y, rows, dim }, w, {
          batchSize: n,
          batches: m,
          noiseVariance: tau2,
          seed,
          replacement,
          firstBatch,
        });
        const want = refGrad.linearRegressionGradients(X, y, rows, dim, w, {
          batchSize: n,
          batches: m,
          noiseVariance: tau2,
          k0: seed,
          k1: 0,
          replacement,
          firstBatch,
        });
        const tol = 1e-13 * (1 + maxAbs(want)) * Math.sqrt(dim) * (1 + Math.sqrt(tau2));
        return maxAbsDiff(got, want) <= tol;
      },
    ),
    params(703),
  );
});

test('matvec kernel == reference over random dims and values', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 70 }),
      fc.nat(),
      fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
      (dim, seed, s) => {
        const A = new Rng(seed).normals(new Float64Array(dim * dim), 0, s);
        const B = new Rng(seed, 1).normals(new Float64Array(dim * dim), 0, s);
        const x = new Rng(seed, 2).normals(new Float64Array(dim));
        const k = wasm();
        return withBlocks(
          [dim * dim * 8, dim * dim * 8, dim * 8, dim * 8],
          'test',
          (aPtr, bPtr, xPtr, yPtr) => {
            copyIn(aPtr!, A);
            copyIn(bPtr!, B);
            copyIn(xPtr!, x);
            k.matvec(aPtr!, xPtr!, yPtr!, dim);
            const y = f64(yPtr!, dim).slice();
            k.matvecDiff(aPtr!, bPtr!, xPtr!, yPtr!, dim);
            const yd = f64(yPtr!, dim).slice();
            const want = refSpec.matvec(A, x, dim);
            const wantD = refSpec.matvec(
              A.map((v, i) => v - B[i]!),
              x,
              dim,
            );
            const tol = 4 * EPS * dim * s * maxAbs(x) * 4;
            return maxAbsDiff(y, want) <= tol && maxAbsDiff(yd, wantD) <= 2 * tol;
          },
        );
      },
    ),
    params(704),
  );
});

test('normals: == Math-based Box–Muller within 8 ulp of max(r, 1); one prefix-stable stream however it is cut', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
      fc.nat({ max: 2 ** 32 - 1 }),
      fc.oneof(fc.nat({ max: 1000 }), fc.integer({ min: 0, max: 2 ** 53 - 5000 })),
      fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 6 }),
      (seed, stream, start, cuts) => {
        const total = cuts.reduce((a, b) => a + b, 0);
        const whole = new Rng(seed, stream).seek(start).normals(new Float64Array(total));
        const rng = new Rng(seed, stream).seek(start);
        let at = 0;
        for (const c of cuts) {
          const part = rng.normals(new Float64Array(c));
          for (let i = 0; i < c; i++) if (!Object.is(part[i], whole[at + i])) return false;
          at += c;
        }
        if (rng.position !== start + total) return false;
        // a prefix of a longer draw is the shorter draw
        const longer = new Rng(seed, stream).seek(start).normals(new Float64Array(total + 3));
        for (let i = 0; i < total; i++) if (!Object.is(longer[i], whole[i])) return false;
        const s = typeof seed === 'bigint' ? seed : BigInt(seed);
        const seq = { k0: Number(s & 0xffffffffn), k1: Number(s >> 32n), domain: 0, stream };
        const want = refRng.fillNormal(new Float64Array(Math.min(total, 64)), seq, start);
        for (let i = 0; i < want.length; i++) {
          const j = start + i;
          const r = Math.sqrt(-2 * Math.log(refRng.uniformAt(seq, j - (j % 2))));
          if (Math.abs(whole[i]! - want[i]!) > 8 * EPS * Math.max(1, r)) return false;
        }
        return true;
      },
    ),
    params(705),
  );
});

test.run();
