// Two classes swept over the public API:
// 1. No silent non-finite result: every public function, given valid (finite) but extreme
//    inputs, returns only finite numbers or throws a RangeError that says why.
// 2. Inputs in shared memory: a Float64Array/Float32Array on a SharedArrayBuffer gives the
//    same results as an ordinary one, every input is read through the validated value (a
//    private copy when shared; a source scan checks no input is re-read from the caller's
//    array), and a thread writing NaN into a shared batch while addBatch runs never gets a
//    non-finite value into the accumulator.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import * as g from '../../src/node.js';
import { stableInput, isShared } from '../../src/core/validate.js';
import { setup } from '../helpers/helpers.js';

test.before(setup);

const normals = (n: number, seed: number) => new g.Rng(seed).normals(new Float64Array(n));

/** Every number reachable in a result (arrays, typed arrays, plain objects). */
function numbers(x: unknown, out: number[] = []): number[] {
  if (typeof x === 'number') out.push(x);
  else if (ArrayBuffer.isView(x)) out.push(...Array.from(x as Float64Array, Number));
  else if (Array.isArray(x)) for (const v of x) numbers(v, out);
  else if (typeof x === 'object' && x !== null && !(x instanceof g.GradientCovariance))
    for (const v of Object.values(x)) numbers(v, out);
  return out;
}

test('no public function returns Inf or NaN for finite inputs: a finite result or a RangeError', () => {
  const d = { X: normals(60 * 2, 1), y: normals(60, 2), rows: 60, dim: 2 };
  const big = (s: number) => ({ ...d, X: d.X.map((v) => v * s), y: d.y.map((v) => v * s) });
  const est = g.estimateHessian(d, new Float64Array(2), {
    batchSize: 8,
    batches: 200,
    seed: 1,
    noiseVariance: 7,
  });
  const input = {
    mean: est.mean,
    covariance: est.hessian,
    batchSize: 8,
    noiseVariance: 7,
    labelNoiseVariance: 1,
  };
  const tiny = new Float64Array([1e-300, 0, 0, 1e-300]);
  const rows: [string, () => unknown][] = [
    ['Rng.normals huge mean/std', () => new g.Rng(1).normals(new Float64Array(1000), 1e308, 1e307)],
    ['Rng.normals std 1e307', () => new g.Rng(1).normals(new Float64Array(1000), 0, 1e307)],
    [
      'injectTargetNoise near MAX',
      () => g.injectTargetNoise(new Float64Array([1.7e308, -1.7e308]), 1e307, new g.Rng(2)),
    ],
    [
      'injectTargetNoise huge variance',
      () => g.injectTargetNoise(new Float64Array(3), 1.7e308, new g.Rng(2)),
    ],
    [
      'GradientCovariance 1.7e308 covariance',
      () => new g.GradientCovariance(2).addBatch(new Float64Array([1.7e308, 0, -1.7e308, 1])).covariance(),
    ],
    [
      'GradientCovariance 1.7e308 comoment',
      () => new g.GradientCovariance(1).addBatch(new Float64Array([1.7e308, -1.7e308])).comoment(),
    ],
    [
      'GradientCovariance scale 1e300',
      () =>
        new g.GradientCovariance(1).addBatch(new Float64Array([1e10, -1e10])).covariance({ scale: 1e300 }),
    ],
    [
      'linearRegressionGradients 1e160',
      () =>
        g.linearRegressionGradients(big(1e160), new Float64Array([1e150, 1e150]), {
          batchSize: 4,
          batches: 3,
          noiseVariance: 1,
          seed: 1,
        }),
    ],
    [
      'linearRegressionGradients huge noise',
      () =>
        g.linearRegressionGradients(big(1e150), new Float64Array(2), {
          batchSize: 4,
          batches: 3,
          noiseVariance: 1.7e308,
          seed: 1,
        }),
    ],
    [
      'estimateHessian 1e80',
      () => g.estimateHessian(big(1e80), new Float64Array(2), { batchSize: 8, batches: 50, seed: 1 }),
    ],
    [
      'estimateHessian huge noise',
      () =>
        g.estimateHessian(d, new Float64Array(2), {
          batchSize: 8,
          batches: 50,
          seed: 1,
          noiseVariance: 1e308,
        }),
    ],
    ['standardize 1e308', () => g.standardize({ ...d, X: d.X.map((v, i) => (i % 7 ? v : (v * 1e308) / 4)) })],
    ['secondMomentMatrix 1e200', () => g.secondMomentMatrix(big(1e200))],
    ['leastSquares 1e200', () => g.leastSquares(big(1e200))],
    ['leastSquares huge y', () => g.leastSquares({ ...d, y: d.y.map((v) => v * 1e307) })],
    [
      'pointAtMisfit huge misfit',
      () =>
        g.pointAtMisfit(
          new Float64Array([1e-300, 0, 0, 1e-300]),
          new Float64Array(2),
          new Float64Array([1, 1]),
          1e300,
        ),
    ],
    ['choleskySolve tiny pivots', () => g.choleskySolve(tiny, 2, new Float64Array([1e300, 1e300]))],
    [
      'Preconditioner.apply tiny pivots',
      () => {
        const P = new g.Preconditioner(tiny, 2);
        try {
          return P.apply(new Float64Array([1e300, 1]));
        } finally {
          P.dispose();
        }
      },
    ],
    ['estimateRisk huge eps', () => g.estimateRisk(new Float64Array([1, 1]), input, { eps: [1e300] })],
    ['estimateRisk huge w', () => g.estimateRisk(new Float64Array([1e300, 1e300]), input, { eps: [1] })],
    ['matrixWithSpectrum 1e308', () => g.matrixWithSpectrum([1e308, 1e308], g.randomOrthogonal(2, 1))],
    [
      'fitLinearRegression diverging gd',
      () => g.fitLinearRegression(d, { method: 'gd', steps: 5000, batchSize: 8, seed: 1, learningRate: 1e6 }),
    ],
    [
      'calibratedNoiseVariance 2^53 - 1',
      () => g.calibratedNoiseVariance(Number.MAX_SAFE_INTEGER, { baseNoiseVariance: 1.7e308 }),
    ],
    [
      'syntheticRegression condition 1e300',
      () => g.syntheticRegression({ dim: 3, rows: 20, condition: 1e300, seed: 1 }),
    ],
  ];
  let refused = 0;
  for (const [name, call] of rows) {
    let result: unknown;
    try {
      result = call();
    } catch (err) {
      assert.instance(err, RangeError, `${name}: ${String(err)}`);
      assert.ok(
        /float64|too large|overflow|diverged|finite/.test((err as Error).message),
        `${name}: the message does not say why: ${(err as Error).message}`,
      );
      refused++;
      continue;
    }
    const bad = numbers(result).filter((v) => !Number.isFinite(v));
    assert.is(bad.length, 0, `${name}: returned ${bad.slice(0, 3).join(', ')}`);
  }
  assert.ok(refused >= 12, `only ${refused} refusals: the table lost its extreme cases`);
});

test('inputs on a SharedArrayBuffer give the same results as ordinary arrays', () => {
  const share = <T extends Float64Array | Float32Array>(a: T): T => {
    const s = new (a.constructor as new (b: SharedArrayBuffer, o: number, n: number) => T)(
      new SharedArrayBuffer(a.byteLength + 16),
      8,
      a.length,
    );
    s.set(a);
    return s;
  };
  const d = { X: normals(80 * 3, 1), y: normals(80, 2), rows: 80, dim: 3 };
  const ds = { ...d, X: share(d.X), y: share(d.y) };
  const w = normals(3, 3),
    ws = share(w);
  const o = { batchSize: 8, batches: 100, seed: 1 };
  assert.equal(g.estimateHessian(ds, ws, o), g.estimateHessian(d, w, o));
  assert.equal(
    g.linearRegressionGradients(ds, ws, { ...o, noiseVariance: 1 }),
    g.linearRegressionGradients(d, w, { ...o, noiseVariance: 1 }),
  );
  const G = normals(3 * 50, 4);
  const a = new g.GradientCovariance(3)
    .addBatch(share(G))
    .add(share(G.subarray(0, 3)))
    .addBatch(share(Float32Array.from(G)));
  const b = new g.GradientCovariance(3).addBatch(G).add(G.subarray(0, 3)).addBatch(Float32Array.from(G));
  assert.equal(a.toBytes(), b.toBytes());
  a.dispose();
  b.dispose();
  const A = new Float64Array([4, 1, 1, 3]);
  assert.equal(
    g.choleskySolve(share(A), 2, share(new Float64Array([1, 2]))),
    g.choleskySolve(A, 2, new Float64Array([1, 2])),
  );
  const P = new g.Preconditioner(share(A), 2);
  assert.equal(P.apply(share(new Float64Array([1, 2]))), P.apply(new Float64Array([1, 2])));
  P.dispose();
  assert.equal(g.standardize(ds), g.standardize(d));
  const v = share(new Float64Array([1, 2]));
  assert.ok(
    isShared(v) && stableInput(v) !== v && !isShared(stableInput(v)),
    'a shared input is read from a private copy',
  );
  const plain = new Float64Array(2);
  assert.is(stableInput(plain), plain, 'an ordinary input is not copied');
});

test('source scan: every checked input array is read through the checked value (outputs excepted)', () => {
  // a bare `checkFloat64Array(name, x);` statement validates x but then reads the caller's
  // array, which another thread may change in between; only outputs (`out`) may do that
  const dir = new URL('../../src/', import.meta.url);
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter(
    (f) => f.endsWith('.ts') && !f.startsWith('reference'),
  );
  let checked = 0;
  for (const f of files) {
    const text = readFileSync(new URL(f, dir), 'utf8');
    for (const m of text.matchAll(/^\s*check(Float64Array|FloatArray)\('([^']+)'/gm)) {
      assert.is(
        m[2],
        'out',
        `${f}: \`${m[2]}\` is validated by a bare checkFloat${m[1]}() call and then read from the caller's array`,
      );
    }
    checked += (text.match(/check(Float64Array|FloatArray)\(/g) ?? []).length;
  }
  assert.ok(checked >= 12, `found ${checked} checks`);
});

test('a thread writing NaN into a shared batch while addBatch runs never gets it into the accumulator', async () => {
  const rows = 4000,
    dim = 8;
  const G = normals(rows * dim, 5);
  const sab = new SharedArrayBuffer(G.byteLength);
  const shared = new Float64Array(sab);
  shared.set(G);
  const stop = new Int32Array(new SharedArrayBuffer(8)); // [0]: stop, [1]: the writer is running
  const worker = new Worker(
    `
    const { workerData } = require('node:worker_threads');
    const a = new BigInt64Array(workerData.sab); // Atomics: stores the JIT cannot merge away
    const stop = new Int32Array(workerData.stop);
    const i = a.length - 3, keep = a[i];
    const nan = new BigInt64Array(new Float64Array([NaN]).buffer)[0];
    Atomics.store(stop, 1, 1);
    while (Atomics.load(stop, 0) === 0) { Atomics.store(a, i, nan); Atomics.store(a, i, keep); }
  `,
    { eval: true, workerData: { sab, stop: stop.buffer } },
  );
  for (let waited = 0; Atomics.load(stop, 1) === 0 && waited < 20000; waited += 10)
    await new Promise((r) => setTimeout(r, 10));
  assert.is(Atomics.load(stop, 1), 1, 'the writer thread started');
  const clean = new g.GradientCovariance(dim).addBatch(G).toBytes();
  let exact = 0,
    refused = 0;
  const t0 = performance.now();
  try {
    while (performance.now() - t0 < 600) {
      const acc = new g.GradientCovariance(dim);
      try {
        acc.addBatch(shared);
        const s = acc.toBytes(); // stored state, not re-validated
        assert.ok(
          s.every((b, k) => b === clean[k]),
          'the accumulator took a value the validation did not see',
        );
        exact++;
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        refused++;
      } finally {
        acc.dispose();
      }
    }
  } finally {
    Atomics.store(stop, 0, 1);
    await worker.terminate();
  }
  assert.ok(exact + refused > 10, 'the race ran');
});

test.run();
