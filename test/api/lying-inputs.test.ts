// Inputs that lie (issue 20 class 2), as a class: every public function taking typed arrays
// or option bags gets lying subclasses, own getters, Proxies and lookalikes in each array
// position, and counting/inherited/Proxy option bags. Each call either returns what the
// honest input gives or throws a TypeError/RangeError naming the parameter; wasm memory is
// never corrupted (a sentinel accumulator's bytes stay the same) and the module keeps
// working. Getters of option bags run at most once, inherited keys are never read, and a
// `then` getter is never triggered. The export list of src/index.ts is enumerated: every
// function export is in the table or named as taking neither arrays nor options.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/index.js';
import { setup } from '../helpers/helpers.js';

await setup();

const normals = (n: number, seed: number) => new g.Rng(seed).normals(new Float64Array(n));
const dim = 4,
  rows = 12;
const X = normals(rows * dim, 1),
  y = normals(rows, 2),
  w = normals(dim, 3);
const data = () => ({ X: X.slice(), y: y.slice(), rows, dim });
const spd = g.secondMomentMatrix(data());

/** Lying versions of a Float64Array (each a fresh object). Honest ones hold the same numbers. */
/** float32: the position takes Float32Array too (its rounding aside, covered by the function's own tests). */
function liars(a: Float64Array, float32 = false): { name: string; value: unknown; honest: boolean }[] {
  class LongSub extends Float64Array {
    override get length() {
      return 1e9;
    }
  }
  class BufferSub extends Float64Array {
    override get buffer(): ArrayBuffer {
      return new ArrayBuffer(2 ** 20);
    }
    override get byteOffset() {
      return 1 << 19;
    }
  }
  const withOwn = (key: string, get: () => unknown) => {
    const c = a.slice();
    Object.defineProperty(c, key, { get });
    return c;
  };
  return [
    { name: 'subclass with length 1e9', value: LongSub.from(a), honest: true },
    { name: 'subclass with another buffer and byteOffset', value: BufferSub.from(a), honest: true },
    { name: 'own length getter (1e9)', value: withOwn('length', () => 1e9), honest: true },
    { name: 'own length getter (0)', value: withOwn('length', () => 0), honest: true },
    { name: 'own buffer getter', value: withOwn('buffer', () => new ArrayBuffer(8)), honest: true },
    { name: 'own byteLength getter', value: withOwn('byteLength', () => 2 ** 31), honest: true },
    {
      name: 'Proxy of a Float64Array',
      value: new Proxy(a.slice(), { get: (t, k) => (k === 'length' ? 1e9 : Reflect.get(t, k)) }),
      honest: false,
    },
    {
      name: 'Float64Array lookalike',
      value: Object.defineProperties(Object.create(Float64Array.prototype), {
        length: { value: a.length },
        0: { value: 1 },
      }),
      honest: false,
    },
  ].concat(
    float32
      ? []
      : [
          {
            name: 'Float32Array where only Float64Array is taken',
            value: new Float32Array(a),
            honest: false,
          },
        ],
  );
}

/** An accumulator whose bytes must not change whatever the calls do. */
const sentinel = new g.GradientCovariance(5).addBatch(normals(5 * 7, 9));
const sentinelBytes = sentinel.toBytes();

interface Entry {
  name: string;
  args: () => unknown[];
  call: (...args: unknown[]) => unknown;
  float32?: boolean;
}
/** Typed-array results compared element by element through the engine's iterator (a returned liar's own getters aside). */
const norm = (r: unknown) => (ArrayBuffer.isView(r) ? Array.from(r as Float64Array) : r);
const cov = (dimension: number, n: number) =>
  new g.GradientCovariance(dimension).addBatch(normals(dimension * n, 5));
const entries: Entry[] = [
  {
    name: 'GradientCovariance.add',
    args: () => [w.slice()],
    call: (a) =>
      cov(dim, 3)
        .add(a as Float64Array)
        .toBytes(),
    float32: true,
  },
  {
    name: 'GradientCovariance.addBatch',
    args: () => [normals(dim * 3, 6)],
    call: (a) =>
      cov(dim, 3)
        .addBatch(a as Float64Array)
        .toBytes(),
    float32: true,
  },
  {
    name: 'GradientCovariance.fromBytes',
    args: () => [],
    call: () => g.GradientCovariance.fromBytes(cov(dim, 3).toBytes()).toBytes(),
  },
  {
    name: 'estimateHessian data.X',
    args: () => [X.slice()],
    call: (x) =>
      g.estimateHessian({ ...data(), X: x as Float64Array }, w, { batchSize: 4, batches: 8, seed: 1 })
        .hessian,
  },
  {
    name: 'estimateHessian w',
    args: () => [w.slice()],
    call: (v) => g.estimateHessian(data(), v as Float64Array, { batchSize: 4, batches: 8, seed: 1 }).hessian,
  },
  {
    name: 'linearRegressionGradients data.y',
    args: () => [y.slice()],
    call: (v) =>
      g.linearRegressionGradients({ ...data(), y: v as Float64Array }, w, {
        batchSize: 4,
        batches: 3,
        noiseVariance: 0.5,
        seed: 1,
      }),
  },
  {
    name: 'RegressionDataset data.X',
    args: () => [X.slice()],
    call: (x) => {
      const d = new g.RegressionDataset({ ...data(), X: x as Float64Array });
      const r = g.linearRegressionGradients(d, w, { batchSize: 4, batches: 3, noiseVariance: 0.5, seed: 1 });
      d.dispose();
      return r;
    },
  },
  {
    name: 'secondMomentMatrix data.X',
    args: () => [X.slice()],
    call: (x) => g.secondMomentMatrix({ ...data(), X: x as Float64Array }),
  },
  {
    name: 'leastSquares data.y',
    args: () => [y.slice()],
    call: (v) => g.leastSquares({ ...data(), y: v as Float64Array }).w,
  },
  {
    name: 'standardize data.X',
    args: () => [X.slice()],
    call: (x) => g.standardize({ ...data(), X: x as Float64Array }).X,
  },
  {
    name: 'fitLinearRegression data.X',
    args: () => [X.slice()],
    call: (x) =>
      g.fitLinearRegression({ ...data(), X: x as Float64Array }, {
        method: 'gd',
        batchSize: 4,
        batches: 4,
        steps: 2,
        seed: 1,
      } as never).w,
  },
  {
    name: 'choleskyFactor A',
    args: () => [spd.slice()],
    call: (A) => g.choleskyFactor(A as Float64Array, dim),
  },
  {
    name: 'choleskySolve b',
    args: () => [w.slice()],
    call: (b) => g.choleskySolve(spd, dim, b as Float64Array),
  },
  {
    name: 'Preconditioner hessian',
    args: () => [spd.slice()],
    call: (H) => {
      const p = new g.Preconditioner(H as Float64Array, dim);
      const r = p.apply(w);
      p.dispose?.();
      return r;
    },
  },
  {
    name: 'operatorNorm A',
    args: () => [spd.slice()],
    call: (A) => g.operatorNorm(A as Float64Array, dim).value,
  },
  {
    name: 'operatorNormDiff B',
    args: () => [spd.slice()],
    call: (B) => g.operatorNormDiff(spd, B as Float64Array, dim).value,
  },
  {
    name: 'relativeError estimate',
    args: () => [spd.slice()],
    call: (A) => g.relativeError(A as Float64Array, spd, dim),
  },
  {
    name: 'extremeEigenvalues A',
    args: () => [spd.slice()],
    call: (A) => {
      const r = g.extremeEigenvalues(A as Float64Array, dim);
      return [r.min, r.max];
    },
  },
  { name: 'dualNorm w', args: () => [w.slice()], call: (v) => g.dualNorm(v as Float64Array, 'l2') },
  { name: 'walshHadamard v', args: () => [normals(8, 4)], call: (v) => g.walshHadamard(v as Float64Array) },
  {
    name: 'CurvatureSketch.addRows',
    args: () => [normals(dim * 5, 7)],
    call: (a) => {
      const s = new g.CurvatureSketch(dim, { size: 2 });
      try {
        return s.addRows(a as Float64Array).toBytes();
      } finally {
        s.dispose();
      }
    },
    float32: true,
  },
  {
    name: 'CurvatureSketch.fromBytes',
    args: () => [],
    call: () => {
      const s = new g.CurvatureSketch(dim, { size: 2 }).addRows(normals(dim * 5, 7));
      try {
        return g.CurvatureSketch.fromBytes(s.toBytes()).toBytes();
      } finally {
        s.dispose();
      }
    },
  },
  {
    name: 'pointAtMisfit direction',
    args: () => [w.slice()],
    call: (v) => g.pointAtMisfit(spd, w, v as Float64Array, 0.5),
  },
];
/** Exports taking neither typed arrays nor option bags this table drives (or covered elsewhere: see below). */
const exempt = new Set([
  'init',
  'isInitialized',
  'relaxedSimdSupported',
  'wasmBuild',
  'wasmMemoryBytes',
  'wasmModule',
  'calibratedNoiseVariance',
  'Rng',
  'randomOrthogonal',
  'syntheticRegression',
  'plantedSpectrum',
  'targetNoise',
  'injectTargetNoise',
  'matrixWithSpectrum',
  'estimateRisk',
  'riskOnData',
  'EstimatorPool',
  'DistributedTrainer',
  'PairedGradients',
  'LowRankPreconditioner',
  'estimateCurvature',
  // options and bytes only: test/estimators/curvature-blocks.test.ts drives their bad inputs
  'curvatureBlocks',
  'computeCurvatureBlock',
  'finishCurvature',
]);

test('every function export of src/index.ts is driven here or named as exempt', () => {
  const covered = new Set(entries.map((e) => e.name.split(/[ .]/)[0]));
  for (const [key, value] of Object.entries(g)) {
    if (typeof value !== 'function') continue;
    assert.ok(covered.has(key) || exempt.has(key), `export ${key} is neither in the table nor exempt`);
  }
});

for (const e of entries) {
  test(`${e.name}: lying arrays give the honest result or a named TypeError/RangeError, memory intact`, () => {
    const honestArgs = e.args();
    const want = norm(e.call(...honestArgs));
    if (!honestArgs.length) return; // no array argument of its own: the options table covers it
    for (const liar of liars(e.args()[0] as Float64Array, e.float32)) {
      // fresh: a call may work in place
      let got: unknown, err: unknown;
      try {
        got = norm(e.call(liar.value));
      } catch (x) {
        err = x;
      }
      if (err === undefined) {
        assert.ok(liar.honest, `${liar.name}: accepted, but it is not a Float64Array`);
        assert.equal(got, want, `${liar.name}: the result is the honest one`);
      } else {
        assert.ok(err instanceof TypeError || err instanceof RangeError, `${liar.name}: ${String(err)}`);
        assert.ok(
          /invalid argument|must/.test((err as Error).message),
          `${liar.name}: a clear message: ${(err as Error).message}`,
        );
      }
      assert.equal(sentinel.toBytes(), sentinelBytes, `${liar.name}: the sentinel accumulator is unchanged`);
    }
    assert.equal(norm(e.call(...e.args())), want, 'the module still works');
  });
}

test('option bags: each getter runs once, inherited keys are never read, `then` is never triggered, Proxies fine', async () => {
  const reads = new Map<string, number>();
  const counted = (o: Record<string, unknown>) => {
    const bag: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o))
      Object.defineProperty(bag, k, {
        enumerable: true,
        get: () => {
          reads.set(k, (reads.get(k) ?? 0) + 1);
          return v;
        },
      });
    return bag;
  };
  const opts = { batchSize: 4, batches: 8, seed: 1, method: 'paired' };
  const want = g.estimateHessian(data(), w, opts).hessian;
  reads.clear();
  assert.equal(g.estimateHessian(data(), w, counted(opts) as never).hessian, want);
  for (const [k, n] of reads) assert.is(n, 1, `estimateHessian read option ${k} ${n} times`);
  reads.clear();
  const proxied = new Proxy(
    { ...opts },
    {
      get: (t, k) => {
        reads.set(String(k), (reads.get(String(k)) ?? 0) + 1);
        return Reflect.get(t, k);
      },
    },
  );
  assert.equal(g.estimateHessian(data(), w, proxied as never).hessian, want);
  for (const [k, n] of reads) assert.is(n, 1, `a Proxy's ${k} read ${n} times`);
  reads.clear();
  await g
    .estimateCurvature(
      ({ batch, noise }) =>
        g.linearRegressionGradients(data(), w, {
          batchSize: 4,
          batches: 1,
          firstBatch: batch,
          seed: 1,
          noiseVariance: noise,
        } as never),
      counted({ dim, ...opts }) as never,
    )
    .catch(() => undefined);
  for (const [k, n] of reads) assert.is(n, 1, `estimateCurvature read option ${k} ${n} times`);
  // inherited keys: a required one inherited is missing, a polluted prototype is not read
  const inherited = Object.create({ seed: 1 }) as Record<string, unknown>;
  Object.assign(inherited, { batchSize: 4, batches: 8 });
  assert.throws(() => g.estimateHessian(data(), w, inherited as never), /`seed`/);
  // `then`: an unknown key, refused without calling its getter
  let thenCalls = 0;
  const thenable = {
    ...opts,
    get then() {
      thenCalls++;
      return undefined;
    },
  };
  assert.throws(
    () => g.estimateHessian(data(), w, thenable as never),
    (x: Error) => x instanceof TypeError && /`then`/.test(x.message),
  );
  await g
    .estimateCurvature(
      () => w,
      Object.defineProperty({ dim, ...opts }, 'then', {
        enumerable: true,
        get() {
          thenCalls++;
          return undefined;
        },
      }) as never,
    )
    .then(
      () => assert.unreachable(),
      (x: Error) => assert.ok(/`then`/.test(x.message), x.message),
    );
  assert.is(thenCalls, 0, 'the then getter never ran');
  assert.equal(sentinel.toBytes(), sentinelBytes);
});

test.run();
