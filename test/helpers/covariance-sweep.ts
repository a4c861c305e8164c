// The covariance kernel's edge sweep, shared by the plain build (covariance.test.ts, in the
// test process) and the relaxed-SIMD build (covariance-relaxed.test.ts, in a child Node
// with --experimental-wasm-relaxed-simd): every size class the kernel branches on, against
// the two-pass plain-TS reference in src/reference/covariance.ts.
import * as g from '../../src/node.js';
import * as ref from '../../src/reference/covariance.js';

const EPS = 2.220446049250313e-16;

/**
 * dims: 1, the SIMD width (2) and the 4-wide tile +/- 1, odd, a partial last panel after
 * several full ones, and more than 16 panels (the MB block of row panels, 64 dims) +/- 1.
 * rows: 0, 1 (a block with no rank-k update), a few, the 256-row block KC +/- 1 and
 * 2 KC +/- 1 (a second block merged into a non-empty state), and large.
 */
export const SWEEP_DIMS = [1, 2, 3, 4, 5, 7, 8, 9, 13, 63, 64, 65, 130];
export const SWEEP_ROWS = [0, 1, 2, 3, 5, 255, 256, 257, 511, 512, 513, 1100];

function data(rows: number, dim: number, seed: number, offset: number): Float64Array {
  const G = new g.Rng(seed).normals(new Float64Array(rows * dim));
  for (let i = 0; i < G.length; i++) G[i] = offset + G[i]! * (1 + (i % dim) / 3);
  return G;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** The largest error of got against want, in units of 64 eps * scale (<= 1 passes). */
function errorUnits(got: ArrayLike<number>, want: ArrayLike<number>, scale: number): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i]! - want[i]!));
  return e / (64 * EPS * scale);
}

/**
 * Runs the sweep on the loaded build: one addBatch of all rows; the same rows in two calls
 * (split after 1, 3 and 300 rows: the merge term the micro-kernel adds to a non-empty
 * state); Float32 input. Returns the cases run and a message per failing case.
 */
export function covarianceSweep(): { cases: number; failures: string[] } {
  const failures: string[] = [];
  let cases = 0;
  const check = (
    what: string,
    acc: g.GradientCovariance,
    G: ArrayLike<number>,
    rows: number,
    dim: number,
  ): void => {
    cases++;
    if (acc.count !== rows) {
      failures.push(`${what}: count ${acc.count}, want ${rows}`);
      return;
    }
    if (rows < 2) {
      // no covariance yet; the mean must still be exact to rounding
      const want = rows === 0 ? new Float64Array(dim) : Float64Array.from({ length: dim }, (_, c) => G[c]!);
      const u = errorUnits(acc.mean(), want, maxAbs(want) + 1);
      if (!(u <= 1)) failures.push(`${what}: mean off by ${u.toFixed(2)} units`);
      return;
    }
    const want = ref.covariance(G, rows, dim);
    const uc = errorUnits(acc.covariance(), want.cov, maxAbs(want.cov) + 1);
    const um = errorUnits(acc.mean(), want.mean, maxAbs(want.mean) + 1);
    if (!(uc <= 1 && um <= 1))
      failures.push(`${what}: covariance off by ${uc.toFixed(2)}, mean by ${um.toFixed(2)} units of 64 eps`);
  };
  for (const dim of SWEEP_DIMS) {
    for (const rows of SWEEP_ROWS) {
      const G = data(rows, dim, dim * 1009 + rows, 0.5);
      const one = new g.GradientCovariance(dim).addBatch(G);
      check(`dim ${dim} rows ${rows}`, one, G, rows, dim);
      one.dispose();
      for (const split of [1, 3, 300]) {
        if (split >= rows || (dim > 9 && split !== 300)) continue;
        const two = new g.GradientCovariance(dim)
          .addBatch(G.subarray(0, split * dim))
          .addBatch(G.subarray(split * dim));
        check(`dim ${dim} rows ${rows} in two calls split at ${split}`, two, G, rows, dim);
        two.dispose();
      }
    }
    // a common offset much larger than the spread (block centring plus the merge term)
    const rows = 600,
      G = data(rows, dim, dim, 1e3);
    const off = new g.GradientCovariance(dim)
      .addBatch(G.subarray(0, 100 * dim))
      .addBatch(G.subarray(100 * dim));
    check(`dim ${dim} rows ${rows} offset 1e3`, off, G, rows, dim);
    off.dispose();
    // f32 input: the kernel reads float32 rows
    if (dim <= 65) {
      const G32 = Float32Array.from(data(257, dim, dim + 7, 0.25));
      const f = new g.GradientCovariance(dim).addBatch(G32);
      check(`dim ${dim} rows 257 float32`, f, G32, 257, dim);
      f.dispose();
    }
  }
  return { cases, failures };
}
