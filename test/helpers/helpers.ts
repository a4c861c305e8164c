// Shared test helpers: loads the release or the debug build (GRADCOV_WASM=debug), and
// small linear-algebra and data utilities used as ground truth.
import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';

export const BUILD = process.env.GRADCOV_WASM === 'debug' ? 'debug' : 'release';

// one bytes object for every test file of a run: init() refuses a second call with another source
let debugBytes: Uint8Array | undefined;

/**
 * Loads the kernels; used as `test.before(setup)`. uvu 0.5 counts a suite whose before hook
 * throws as failed but prints no message, so the error is printed here first.
 */
export async function setup(): Promise<void> {
  try {
    if (BUILD === 'debug')
      await g.init((debugBytes ??= readFileSync(new URL('../../dist/gradcov.debug.wasm', import.meta.url))));
    else await g.init();
  } catch (err) {
    console.error('test setup failed (the suite is counted as failed):', err);
    throw err;
  }
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * Asserts two arrays hold the same values (=== or both NaN, as uvu's assert.equal), naming the
 * length or the first differing index: uvu's assert.equal diffs whole arrays, which takes
 * minutes on thousands of mostly different elements (a failing test that looks like a hang).
 */
export function assertSameValues<T>(got: ArrayLike<T>, want: ArrayLike<T>, what = 'values'): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length}, expected ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const a = got[i],
      b = want[i];
    if (!(a === b || (a !== a && b !== b))) {
      throw new Error(
        `${what}: index ${i} is ${String(got[i])}, expected ${String(want[i])} (first of the differences)`,
      );
    }
  }
}

/** The same values in a Float64Array that starts 8 bytes into its buffer. */
export function offsetView(a: Float64Array): Float64Array {
  const v = new Float64Array(new ArrayBuffer((a.length + 2) * 8), 8, a.length);
  v.set(a);
  return v;
}

export function normals(n: number, seed: number, stream = 0): Float64Array {
  return new g.Rng(seed, stream).normals(new Float64Array(n));
}

export { randomOrthogonal, matrixWithSpectrum as withSpectrum, secondMomentMatrix } from '../../src/node.js';

/** Spacing between a and the next double: for ulp distances. */
export function ulpDistance(a: number, b: number): number {
  if (a === b) return 0;
  const buf = new DataView(new ArrayBuffer(16));
  buf.setFloat64(0, a);
  buf.setFloat64(8, b);
  const ia = buf.getBigInt64(0),
    ib = buf.getBigInt64(8);
  const ka = ia < 0n ? -(ia & 0x7fffffffffffffffn) : ia;
  const kb = ib < 0n ? -(ib & 0x7fffffffffffffffn) : ib;
  return Number(ka > kb ? ka - kb : kb - ka);
}

/** Standard normal CDF (erfc by Numerical Recipes' Chebyshev fit, |error| < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Kolmogorov–Smirnov statistic of a sample against a CDF. */
export function ksStatistic(sample: Float64Array, cdf: (x: number) => number): number {
  const s = Float64Array.from(sample).sort();
  const n = s.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(s[i]!);
    d = Math.max(d, f - i / n, (i + 1) / n - f);
  }
  return d;
}

/**
 * `suite.before(fn)` whose error is printed: uvu 0.5 counts a suite whose before hook throws
 * as failed (0 / N) but prints no message.
 */
export function beforeAll(
  suite: { before(fn: () => Promise<void> | void): void },
  fn: () => Promise<void> | void,
): void {
  suite.before(async () => {
    try {
      await fn();
    } catch (err) {
      console.error('test set-up failed (the suite is counted as failed):', err);
      throw err;
    }
  });
}

/** An error class a bad-input row expects. */
export type ErrorKind = typeof TypeError | typeof RangeError;
/** [label, call, error type, parameter named, value shown (string or regex), extra pattern] */
export type BadInputRow = [string, () => unknown, ErrorKind, string, string | RegExp, RegExp?];

/**
 * The bad-input table check: every row throws the stated error type, names the parameter in
 * backticks, states a rule ("must ...") and shows the value (and matches `extra` if given).
 */
export function checkBadInputs(fn: string, rows: BadInputRow[]): void {
  for (const [label, call, Kind, param, value, extra] of rows) {
    const where = `${fn}: ${label}`;
    let caught: unknown;
    try {
      call();
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof Kind, `${where}: expected ${Kind.name}, got ${String(caught)}`);
    const msg = (caught as Error).message;
    assert.ok(msg.includes('`' + param + '`'), `${where}: message does not name \`${param}\`: ${msg}`);
    assert.ok(/must/.test(msg), `${where}: message states no rule: ${msg}`);
    if (typeof value === 'string')
      assert.ok(msg.includes(value), `${where}: message does not show ${value}: ${msg}`);
    else assert.match(msg, value, where);
    if (extra) assert.match(msg, extra, where);
  }
}

/** A seeded regression problem with Gaussian X, y and w (streams 1, 2, 3 of `seed`). */
export function regressionProblem(
  rows: number,
  dim: number,
  seed: number,
): { data: { X: Float64Array; y: Float64Array; rows: number; dim: number }; w: Float64Array } {
  const X = normals(rows * dim, seed, 1);
  const y = normals(rows, seed, 2);
  const w = normals(dim, seed, 3);
  return { data: { X, y, rows, dim }, w };
}

/** The bytes of a Float64Array as hex (so -0 and 0, and NaN payloads, differ). */
export const hex = (a: Float64Array): string =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

/** Every field of a result, sorted by name, its Float64Arrays as their bytes: for bit-for-bit comparisons. */
export function fields(r: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(r)
      .map(([k, v]) => [k, v instanceof Float64Array ? hex(v) : v])
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}
