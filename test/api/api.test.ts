import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as g from '../../src/node.js';
import { setup, normals, BUILD } from '../helpers/helpers.js';
import { wasm } from '../../src/core/wasm.js';

const { Rng, GradientCovariance } = g;

test.before(setup);

test('calibratedNoiseVariance: the rule for each loss convention, clamped at 0', () => {
  assert.is(g.calibratedNoiseVariance(256), 256);
  assert.is(g.calibratedNoiseVariance(256, { baseNoiseVariance: 6 }), 250);
  assert.is(g.calibratedNoiseVariance(256, { loss: 'mean-squared' }), 128);
  assert.is(g.calibratedNoiseVariance(256, { loss: 'sum-half-squared' }), 1);
  assert.is(g.calibratedNoiseVariance(256, { loss: 'sum-squared', baseNoiseVariance: 0.2 }), 0.3);
  assert.is(g.calibratedNoiseVariance(8, { baseNoiseVariance: 100 }), 0);
});

test('injectTargetNoise: y + sqrt(v) z from the generator; new array; rng advances', () => {
  const y = new Float64Array([1, 2, 3, 4, 5]);
  const rng = new Rng(3);
  const out = g.injectTargetNoise(y, 4, rng);
  const z = new Rng(3).normals(new Float64Array(5));
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(out[i]! - (y[i]! + 2 * z[i]!)) < 1e-15 * 10);
  assert.is(rng.position, 5);
  assert.equal(Array.from(y), [1, 2, 3, 4, 5]);
  assert.equal(Array.from(g.injectTargetNoise(y, 0, new Rng(1))), [1, 2, 3, 4, 5]);
});

// ---- the table of bad inputs: [label, call, error type, message fragment] ----
type Case = [string, () => unknown, typeof TypeError | typeof RangeError, RegExp];

function cases(): Case[] {
  const data = { X: normals(40, 1), y: normals(10, 2), rows: 10, dim: 4 };
  const w = new Float64Array(4);
  const opts = { batchSize: 4, batches: 3, noiseVariance: 1, seed: 1 };
  const eopts = { batchSize: 4, batches: 3, seed: 1 };
  const A = new Float64Array([2, 1, 1, 3]);
  const withNaN = (a: Float64Array, i: number, v = NaN) => {
    const b = a.slice();
    b[i] = v;
    return b;
  };
  const acc = new GradientCovariance(3);
  return [
    ['calibrated: string n', () => g.calibratedNoiseVariance('8' as never), TypeError, /`batchSize`.*"8"/],
    [
      'calibrated: n = 0',
      () => g.calibratedNoiseVariance(0),
      RangeError,
      /`batchSize` must be a positive integer. Value: `0`/,
    ],
    ['calibrated: n = 2.5', () => g.calibratedNoiseVariance(2.5), RangeError, /`batchSize`.*2\.5/],
    ['calibrated: NaN n', () => g.calibratedNoiseVariance(NaN), RangeError, /`batchSize`.*NaN/],
    [
      'calibrated: negative s2',
      () => g.calibratedNoiseVariance(8, { baseNoiseVariance: -1 }),
      RangeError,
      /`baseNoiseVariance`.*-1/,
    ],
    [
      'calibrated: NaN s2',
      () => g.calibratedNoiseVariance(8, { baseNoiseVariance: NaN }),
      RangeError,
      /`baseNoiseVariance`.*NaN/,
    ],
    [
      'calibrated: unknown loss',
      () => g.calibratedNoiseVariance(8, { loss: 'l1' as never }),
      RangeError,
      /`loss`.*"l1"/,
    ],
    [
      'calibrated: options not an object',
      () => g.calibratedNoiseVariance(8, 3 as never),
      TypeError,
      /`options`/,
    ],
    ['Rng: string seed', () => new Rng('1' as never), TypeError, /`seed`/],
    ['Rng: negative seed', () => new Rng(-1), RangeError, /`seed`.*-1/],
    ['Rng: fractional seed', () => new Rng(1.5), RangeError, /`seed`.*1\.5/],
    ['Rng: seed >= 2^64', () => new Rng(2n ** 64n), RangeError, /`seed`/],
    ['Rng: seed above 2^53 as number', () => new Rng(2 ** 60), RangeError, /`seed`/],
    ['Rng: stream 2^32', () => new Rng(1, 2 ** 32), RangeError, /`stream`/],
    ['Rng: null seed', () => new Rng(null as never), TypeError, /`seed`.*null/],
    [
      'Rng.normals: plain array',
      () => new Rng(1).normals([0, 0] as never),
      TypeError,
      /`out` must be a Float64Array. Value: `Array\(2\) \[0,0\]`/,
    ],
    [
      'Rng.normals: Int32Array',
      () => new Rng(1).normals(new Int32Array(2) as never),
      TypeError,
      /`out`.*Int32Array\(2\)/,
    ],
    ['Rng.normals: negative std', () => new Rng(1).normals(new Float64Array(2), 0, -1), RangeError, /`std`/],
    ['Rng.normals: NaN mean', () => new Rng(1).normals(new Float64Array(2), NaN), RangeError, /`mean`/],
    [
      'Rng.uniforms: Float32Array',
      () => new Rng(1).uniforms(new Float32Array(2) as never),
      TypeError,
      /`out`/,
    ],
    ['Rng.seek: negative', () => new Rng(1).seek(-1), RangeError, /`position`/],
    ['inject: y plain array', () => g.injectTargetNoise([1] as never, 1, new Rng(1)), TypeError, /`y`/],
    [
      'inject: negative variance',
      () => g.injectTargetNoise(new Float64Array(2), -1, new Rng(1)),
      RangeError,
      /`variance`.*-1/,
    ],
    [
      'inject: NaN variance',
      () => g.injectTargetNoise(new Float64Array(2), NaN, new Rng(1)),
      RangeError,
      /`variance`.*NaN/,
    ],
    [
      'inject: rng missing',
      () => g.injectTargetNoise(new Float64Array(2), 1, {} as never),
      TypeError,
      /`rng`/,
    ],
    [
      'inject: Infinity in y',
      () => g.injectTargetNoise(new Float64Array([0, Infinity]), 1, new Rng(1)),
      RangeError,
      /`y`.*Infinity.*index 1/,
    ],
    ['GC: dim 0', () => new GradientCovariance(0), RangeError, /`dim`.*`0`/],
    ['GC: dim -3', () => new GradientCovariance(-3), RangeError, /`dim`/],
    ['GC: dim 2.5', () => new GradientCovariance(2.5), RangeError, /`dim`.*2\.5/],
    ['GC: dim string', () => new GradientCovariance('3' as never), TypeError, /`dim`/],
    ['GC: dim huge', () => new GradientCovariance(100000), RangeError, /`dim`/],
    [
      'GC.add: wrong length',
      () => acc.add(new Float64Array(4)),
      RangeError,
      /`g` must have length 3.*length 4/,
    ],
    ['GC.add: plain array', () => acc.add([1, 2, 3] as never), TypeError, /`g`/],
    ['GC.add: Int32Array', () => acc.add(new Int32Array(3) as never), TypeError, /`g`/],
    ['GC.add: NaN', () => acc.add(new Float64Array([1, NaN, 3])), RangeError, /`g`.*NaN.*index 1/],
    [
      'GC.addBatch: not a multiple of dim',
      () => acc.addBatch(new Float64Array(7)),
      RangeError,
      /multiple of dim/,
    ],
    ['GC.addBatch: rows too many', () => acc.addBatch(new Float64Array(6), 3), RangeError, /`rows`/],
    ['GC.addBatch: rows negative', () => acc.addBatch(new Float64Array(6), -1), RangeError, /`rows`/],
    [
      'GC.addBatch: -Infinity late',
      () => acc.addBatch(withNaN(new Float64Array(600), 599, -Infinity)),
      RangeError,
      /`G`.*-Infinity.*row 199, column 2/,
    ],
    ['GC.addBatch: null', () => acc.addBatch(null as never), TypeError, /`G`.*null/],
    ['GC.merge: other dim', () => acc.merge(new GradientCovariance(4)), RangeError, /dim 3.*dim 4/],
    ['GC.merge: not an accumulator', () => acc.merge({} as never), TypeError, /`other`/],
    ['GC.covariance: NaN scale', () => acc.covariance({ scale: NaN }), RangeError, /`scale`/],
    [
      'gradients: data missing',
      () => g.linearRegressionGradients(null as never, w, opts),
      TypeError,
      /`data`/,
    ],
    [
      'gradients: rows mismatch',
      () => g.linearRegressionGradients({ ...data, rows: 11 }, w, opts),
      RangeError,
      /`data.X` must have length 44/,
    ],
    [
      'gradients: dim 0',
      () => g.linearRegressionGradients({ ...data, dim: 0 }, w, opts),
      RangeError,
      /`data.dim`/,
    ],
    [
      'gradients: X plain array',
      () => g.linearRegressionGradients({ ...data, X: [] as never }, w, opts),
      TypeError,
      /`data.X`/,
    ],
    [
      'gradients: NaN in X',
      () => g.linearRegressionGradients({ ...data, X: withNaN(data.X, 13) }, w, opts),
      RangeError,
      /`data.X`.*row 3, column 1/,
    ],
    [
      'gradients: NaN in y',
      () => g.linearRegressionGradients({ ...data, y: withNaN(data.y, 2) }, w, opts),
      RangeError,
      /`data.y`.*row 2/,
    ],
    [
      'gradients: w length',
      () => g.linearRegressionGradients(data, new Float64Array(3), opts),
      RangeError,
      /`w` must have length 4/,
    ],
    [
      'gradients: w Infinity',
      () => g.linearRegressionGradients(data, withNaN(w, 0, Infinity), opts),
      RangeError,
      /`w`.*Infinity/,
    ],
    [
      'gradients: batch > rows without replacement',
      () => g.linearRegressionGradients(data, w, { ...opts, batchSize: 11, replacement: false }),
      RangeError,
      /`batchSize`.*11/,
    ],
    [
      'gradients: batchSize 2.5',
      () => g.linearRegressionGradients(data, w, { ...opts, batchSize: 2.5 }),
      RangeError,
      /`batchSize`/,
    ],
    [
      'gradients: zero batches',
      () => g.linearRegressionGradients(data, w, { ...opts, batches: 0 }),
      RangeError,
      /`batches`.*`0`/,
    ],
    [
      'gradients: negative variance',
      () => g.linearRegressionGradients(data, w, { ...opts, noiseVariance: -2 }),
      RangeError,
      /`noiseVariance`/,
    ],
    [
      'gradients: missing variance',
      () => g.linearRegressionGradients(data, w, { ...opts, noiseVariance: undefined as never }),
      TypeError,
      /`noiseVariance`/,
    ],
    [
      'gradients: seed string',
      () => g.linearRegressionGradients(data, w, { ...opts, seed: 'x' as never }),
      TypeError,
      /`seed`/,
    ],
    [
      'gradients: seed missing',
      () => g.linearRegressionGradients(data, w, { ...opts, seed: undefined as never }),
      TypeError,
      /`seed`/,
    ],
    [
      'gradients: replacement string',
      () => g.linearRegressionGradients(data, w, { ...opts, replacement: 'no' as never }),
      TypeError,
      /`replacement`/,
    ],
    [
      'estimate: one batch',
      () => g.estimateHessian(data, w, { ...eopts, batches: 1 }),
      RangeError,
      /`batches`.*at least 2/,
    ],
    [
      'estimate: NaN variance',
      () => g.estimateHessian(data, w, { ...eopts, noiseVariance: NaN }),
      RangeError,
      /`noiseVariance`/,
    ],
    [
      'estimate: negative s2',
      () => g.estimateHessian(data, w, { ...eopts, baseNoiseVariance: -1 }),
      RangeError,
      /`baseNoiseVariance`/,
    ],
    [
      'operatorNorm: length',
      () => g.operatorNorm(new Float64Array(3), 2),
      RangeError,
      /`A` must have length 4/,
    ],
    ['operatorNorm: dim 0', () => g.operatorNorm(A, 0), RangeError, /`dim`/],
    ['operatorNorm: NaN entry', () => g.operatorNorm(withNaN(A, 2), 2), RangeError, /`A`.*row 1, column 0/],
    ['operatorNorm: tol 0', () => g.operatorNorm(A, 2, { tol: 0 }), RangeError, /`tol`/],
    ['operatorNorm: tol 1', () => g.operatorNorm(A, 2, { tol: 1 }), RangeError, /`tol`/],
    ['operatorNorm: maxIter 0', () => g.operatorNorm(A, 2, { maxIter: 0 }), RangeError, /`maxIter`/],
    ['operatorNorm: seed -1', () => g.operatorNorm(A, 2, { seed: -1 }), RangeError, /`seed`/],
    ['operatorNorm: plain array', () => g.operatorNorm([1] as never, 1), TypeError, /`A`/],
    ['operatorNormDiff: B length', () => g.operatorNormDiff(A, new Float64Array(9), 2), RangeError, /`B`/],
    [
      'relativeError: truth Float32Array',
      () => g.relativeError(A, new Float32Array(4) as never, 2),
      TypeError,
      /`B`|`truth`/,
    ],
  ];
}

test('every public function rejects bad input with the right error type and a message naming it', () => {
  for (const [label, call, Kind, message] of cases()) {
    let caught: unknown;
    try {
      call();
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof Kind, `${label}: expected ${Kind.name}, got ${caught}`);
    assert.match((caught as Error).message, message, label);
  }
});

test('a rejected add or addBatch leaves count, mean and covariance bit-identical', () => {
  const acc = new GradientCovariance(3).addBatch(normals(30, 4));
  const snap = () => [acc.count, Array.from(acc.mean()), Array.from(acc.covariance())];
  const before = snap();
  const big = normals(3 * 5000, 5);
  big[3 * 4999 + 2] = NaN; // the last element: nothing may be merged before it is seen
  for (const bad of [
    () => acc.addBatch(big),
    () => acc.add(new Float64Array([0, 0, Infinity])),
    () => acc.addBatch(new Float64Array(4)),
    () => acc.merge(new GradientCovariance(2)),
  ]) {
    assert.throws(bad);
    assert.equal(snap(), before);
  }
  acc.dispose();
});

test('before init() the API says so; bad bytes name the source; a precompiled Module loads', () => {
  const script = fileURLToPath(new URL('../helpers/fixtures/uninitialised.ts', import.meta.url));
  const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' }));
  assert.is(out.initialisedAtStart, false);
  assert.match(out.beforeInit, /not loaded; call `await init\(\)` first/);
  assert.match(out.badBytes, /failed to load the WebAssembly module from 8 bytes/);
  assert.is(out.afterInit, 3);
});

test(`the ${BUILD} build is loaded: kernel assertions trap only in debug, and the module stays usable`, () => {
  const call = () => wasm().covAddRows(0, -1, 4, 0, 0, 0, 0, 0); // rows = -1 violates assert(rows >= 0)
  if (BUILD === 'debug') assert.throws(call, /abort|assert/i);
  else assert.is(call(), 0);
  assert.ok(Math.abs(g.operatorNorm(new Float64Array([0, 2, 2, 0]), 2).value - 2) < 1e-12);
});

test('the core (src/ outside node.ts, node/, bullmq/, build/, reference/) uses no Node-only API', () => {
  const dir = new URL('../../src/', import.meta.url);
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter(
    (f) => f.endsWith('.ts') && f !== 'node.ts' && !/^(node|bullmq|build|reference)\//.test(f),
  );
  assert.ok(files.length > 20, `found ${files.length} core files`);
  for (const f of files) {
    const text = readFileSync(new URL(f, dir), 'utf8');
    assert.not.match(text, /from 'node:|require\(|\bprocess\.|\bBuffer\b|from 'fs'/, f);
  }
});

test.run();
