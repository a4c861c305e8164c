// Model-based fuzzing of GradientCovariance (fast-check, fixed seeds): random sequences of
// create / add / addBatch / merge / toBytes+fromBytes / reset / dispose / estimate over
// random sizes and values (ordinary, huge up to 1.8e308, tiny, subnormal, and non-finite),
// run against the plain-TS model in src/reference/covariance.ts (every gradient kept, two
// passes on power-of-two-scaled values). Any divergence, trap, silent non-finite result or
// broken round trip fails.
//
// Tolerances (why): the accumulator streams (Chan's update in blocks) where the model makes
// two passes, so they differ by rounding: entries are compared within
// 1e-12 * 2^(2e) * (D^2 + D * A) (+ 64 (count + 1) subnormal units), with 2^e >= max |g|,
// A = max |g| / 2^e and D = max |g - mean| / 2^e: the streaming error bound
// O(count * eps) * (D^2 + D A) (the mean's rounding times the spread) with a factor ~100
// over count <= 80 rows and eps = 2.2e-16. Representability: a result whose model value is
// above 1.8e308 by more than 1e-9 (relative) must be a RangeError, one below by as much
// must be finite; the band between may be either.
//
// GRADCOV_FUZZ_RUNS overrides the number of sequences (default 10^4).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as g from '../../src/node.js';
import { setup } from '../helpers/helpers.js';
import { CovarianceModel, referenceLdexp as ldexp } from '../../src/reference/covariance.js';

test.before(setup);

const RUNS = Number(process.env.GRADCOV_FUZZ_RUNS ?? 1e4);
const MAX = Number.MAX_VALUE;
const SUB = 2 ** -1074;

const magnitudes = [1, 1, 1, 1e-3, 1e8, 1e-160, 1e-300, 1e-310, 1e150, 1e154, 1e200, 1e300, 1e308] as const;
const specials = [0, -0, 5e-324, -5e-324, MAX, -MAX, 1.5e308, 2 ** -1022] as const;
const nonFinite = [NaN, Infinity, -Infinity] as const;

type Values = {
  mag: number;
  raw: number[];
  special: [number, number] | null;
  poison: [number, number] | null;
  f32: boolean;
};
const valuesArb = (maxLen: number) =>
  fc.record({
    mag: fc.constantFrom(...magnitudes),
    raw: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: maxLen, maxLength: maxLen }),
    special: fc.option(fc.tuple(fc.nat(), fc.constantFrom(...specials)), { freq: 4 }),
    poison: fc.option(fc.tuple(fc.nat(), fc.constantFrom(...nonFinite)), { freq: 8 }),
    f32: fc.boolean(),
  });

type Op =
  | { k: 'create'; dim: number }
  | { k: 'add'; i: number; v: Values }
  | { k: 'addBatch'; i: number; rows: number; v: Values; explicitRows: boolean }
  | { k: 'merge'; i: number; j: number }
  | { k: 'roundtrip'; i: number }
  | { k: 'reset'; i: number }
  | { k: 'dispose'; i: number }
  | { k: 'estimate'; i: number; scale: number };

const MAXROWS = 20,
  MAXDIM = 5;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant('create' as const), dim: fc.constantFrom(1, 2, 3, 5) }),
  },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('add' as const), i: fc.nat(), v: valuesArb(MAXDIM) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('addBatch' as const),
      i: fc.nat(),
      rows: fc.nat({ max: MAXROWS }),
      v: valuesArb(MAXROWS * MAXDIM),
      explicitRows: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('merge' as const), i: fc.nat(), j: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('roundtrip' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('reset' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('dispose' as const), i: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('estimate' as const),
      i: fc.nat(),
      scale: fc.constantFrom(1, 1, 1e-300, 1e300, 0.5),
    }),
  },
);

/** The gradients an op passes: magnitude * raw, a special value and a non-finite one placed by index. */
function materialise(
  v: Values,
  length: number,
): { array: Float64Array | Float32Array; finite: boolean; values: number[] } {
  const a = new Float64Array(length);
  for (let i = 0; i < length; i++) a[i] = v.raw[i]! * v.mag;
  if (v.special && length > 0) a[v.special[0] % length] = v.special[1];
  if (v.poison && length > 0) a[v.poison[0] % length] = v.poison[1];
  const array = v.f32 ? Float32Array.from(a) : a;
  const values = Array.from(array, Number);
  return { array, finite: values.every(Number.isFinite), values };
}

interface Live {
  acc: g.GradientCovariance;
  model: CovarianceModel;
}

function state(acc: g.GradientCovariance): Uint8Array {
  return acc.toBytes();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function expectRange(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, RangeError, `${what}: ${String(err)}`);
    return;
  }
  assert.unreachable(`${what}: accepted`);
}

/** Compares acc's mean and covariance (or its refusal) with the model. */
function compare(l: Live, scale: number, where: string): void {
  const { acc, model } = l;
  assert.is(acc.count, model.count, `${where}: count`);
  if (model.count === 0) {
    assert.ok(
      acc.mean().every((v) => v === 0),
      `${where}: empty mean`,
    );
    expectRange(() => acc.covariance(), `${where}: covariance of 0`);
    return;
  }
  const s = model.stats();
  const floor = 64 * (model.count + 1) * SUB;
  const mean = acc.mean();
  for (let j = 0; j < model.dim; j++) {
    const want = ldexp(s.meanS[j]!, s.e);
    const tol = ldexp(1e-12 * s.A, s.e) + floor;
    assert.ok(
      Number.isFinite(mean[j]!) && Math.abs(mean[j]! - want) <= tol,
      `${where}: mean[${j}] ${mean[j]} vs model ${want} (tol ${tol})`,
    );
  }
  if (model.count < 2) {
    expectRange(() => acc.covariance(), `${where}: covariance of 1`);
    return;
  }
  let maxS = 0;
  for (const v of s.covS) maxS = Math.max(maxS, Math.abs(v));
  const log2Max = maxS > 0 ? Math.log2(maxS) + 2 * s.e + Math.log2(scale) : -Infinity;
  const limit = Math.log2(MAX);
  if (log2Max > limit + 1e-9) {
    expectRange(
      () => acc.covariance({ scale }),
      `${where}: covariance beyond float64 (2^${log2Max.toFixed(3)})`,
    );
    return;
  }
  let C: Float64Array;
  try {
    C = acc.covariance({ scale });
  } catch (err) {
    assert.ok(
      err instanceof RangeError && log2Max > limit - 1e-9,
      `${where}: covariance refused at 2^${log2Max.toFixed(3)}: ${String(err)}`,
    );
    return;
  }
  const tol = ldexp(1e-12 * scale * (s.D * s.D + s.D * s.A), 2 * s.e) + floor * Math.max(1, scale);
  for (let i = 0; i < C.length; i++) {
    const want = ldexp(s.covS[i]! * scale, 2 * s.e);
    assert.ok(Number.isFinite(C[i]!), `${where}: covariance entry ${i} is ${C[i]} (model ${want})`);
    assert.ok(
      Math.abs(C[i]! - want) <= tol,
      `${where}: covariance entry ${i} ${C[i]} vs model ${want} (tol ${tol})`,
    );
  }
}

function run(ops: Op[]): void {
  const live: Live[] = [];
  const pick = (i: number) => live[i % live.length]!;
  try {
    for (const [step, op] of ops.entries()) {
      const where = `step ${step} (${op.k})`;
      if (op.k === 'create' || live.length === 0) {
        const dim = op.k === 'create' ? op.dim : 2;
        live.push({ acc: new g.GradientCovariance(dim), model: new CovarianceModel(dim) });
        if (op.k === 'create') continue;
      }
      switch (op.k) {
        case 'add': {
          const l = pick(op.i);
          const { array, finite, values } = materialise(op.v, l.model.dim);
          const before = state(l.acc);
          if (!finite) {
            expectRange(() => l.acc.add(array), `${where}: non-finite add`);
            assert.ok(sameBytes(state(l.acc), before), `${where}: rejected add changed the state`);
          } else {
            l.acc.add(array);
            l.model.rows.push(values);
          }
          break;
        }
        case 'addBatch': {
          const l = pick(op.i);
          const d = l.model.dim;
          const { array, finite, values } = materialise(op.v, op.rows * d);
          const before = state(l.acc);
          const call = () => (op.explicitRows ? l.acc.addBatch(array, op.rows) : l.acc.addBatch(array));
          if (!finite) {
            expectRange(call, `${where}: non-finite addBatch`);
            assert.ok(sameBytes(state(l.acc), before), `${where}: rejected addBatch changed the state`);
          } else {
            call();
            for (let r = 0; r < op.rows; r++) l.model.rows.push(values.slice(r * d, (r + 1) * d));
          }
          break;
        }
        case 'merge': {
          const a = pick(op.i),
            b = pick(op.j);
          if (a.model.dim !== b.model.dim) {
            const before = state(a.acc);
            expectRange(() => a.acc.merge(b.acc), `${where}: dim mismatch`);
            assert.ok(sameBytes(state(a.acc), before), `${where}: rejected merge changed the state`);
          } else {
            const other = state(b.acc);
            const add = b.model.rows.slice();
            a.acc.merge(b.acc);
            a.model.rows.push(...add);
            if (a !== b) assert.ok(sameBytes(state(b.acc), other), `${where}: merge changed \`other\``);
          }
          break;
        }
        case 'roundtrip': {
          const l = pick(op.i);
          const blob = l.acc.toBytes();
          const back = g.GradientCovariance.fromBytes(blob);
          assert.ok(sameBytes(back.toBytes(), blob), `${where}: toBytes(fromBytes(b)) != b`);
          l.acc.dispose();
          l.acc = back;
          break;
        }
        case 'reset': {
          const l = pick(op.i);
          l.acc.reset();
          l.model.rows.length = 0;
          break;
        }
        case 'dispose': {
          const idx = op.i % live.length;
          const l = live[idx]!;
          l.acc.dispose();
          assert.throws(() => l.acc.add(new Float64Array(l.model.dim)), /disposed/);
          live.splice(idx, 1);
          break;
        }
        case 'estimate':
          compare(pick(op.i), op.scale, where);
          break;
      }
    }
    for (const [i, l] of live.entries()) compare(l, 1, `final ${i}`);
  } finally {
    for (const l of live) l.acc.dispose();
  }
}

test(`model-based fuzz: ${RUNS} random sequences agree with the plain-TS model (fixed seed)`, () => {
  const live0 = g.wasmMemoryBytes();
  const t0 = performance.now();
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 14 }), (ops) => {
      run(ops);
    }),
    { seed: 20261201, numRuns: RUNS },
  );
  const seconds = (performance.now() - t0) / 1000;
  assert.ok(seconds < 120, `took ${seconds.toFixed(1)} s`);
  assert.ok(g.wasmMemoryBytes() - live0 <= 2 ** 24, 'wasm memory stayed bounded');
});

test('the model fuzz can fail: a model that drops one gradient is caught', () => {
  // guards against a vacuous comparison: the same compare() must reject a wrong model
  const acc = new g.GradientCovariance(2).addBatch(new Float64Array([1, 2, 3, 5, -1, 0.5]));
  const model = new CovarianceModel(2);
  model.rows.push([1, 2], [3, 5]);
  const fails = (fn: () => void) => {
    try {
      fn();
    } catch {
      return true;
    }
    return false;
  };
  assert.ok(
    fails(() => compare({ acc, model }, 1, 'mutant')),
    'a model missing a gradient passed',
  );
  model.rows.push([-1, 0.5]);
  compare({ acc, model }, 1, 'right'); // and accepts the right one
  model.rows[2] = [-1, 0.5 * (1 + 1e-9)]; // a relative change of 1e-9 in one value is caught
  assert.ok(
    fails(() => compare({ acc, model }, 1, 'perturbed')),
    'a perturbed model passed',
  );
  acc.dispose();
});

test.run();
