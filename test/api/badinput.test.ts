// Issue 7, bad input: one table per public function. Every row must throw the stated
// error type, and the message must name the parameter (in backticks), state a rule
// ("must ...") and show the value; for non-finite data it also names the first bad index.
// Sizes beyond what wasm memory can hold must fail up front with the bytes needed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { setup, normals, checkBadInputs, type ErrorKind } from '../helpers/helpers.js';

const { Rng, GradientCovariance } = g;

test.before(setup);

type Kind = ErrorKind;
const check = checkBadInputs;

const bad = (a: Float64Array, i: number, v: number) => {
  const b = a.slice();
  b[i] = v;
  return b;
};
const data = () => ({ X: normals(40, 1), y: normals(10, 2), rows: 10, dim: 4 });
const w4 = () => new Float64Array(4);
const A2 = () => new Float64Array([2, 1, 1, 3]);

test('calibratedNoiseVariance', () => {
  const f = g.calibratedNoiseVariance;
  check('calibratedNoiseVariance', [
    ['string n', () => f('8' as never), TypeError, 'batchSize', '"8"'],
    ['null n', () => f(null as never), TypeError, 'batchSize', 'null'],
    ['n = 0', () => f(0), RangeError, 'batchSize', '`0`'],
    ['n = -4', () => f(-4), RangeError, 'batchSize', '`-4`'],
    ['n = 2.5', () => f(2.5), RangeError, 'batchSize', '2.5'],
    ['n = NaN', () => f(NaN), RangeError, 'batchSize', 'NaN'],
    ['n = Infinity', () => f(Infinity), RangeError, 'batchSize', 'Infinity'],
    ['n = 2^60', () => f(2 ** 60), RangeError, 'batchSize', String(2 ** 60)],
    ['options a number', () => f(8, 3 as never), TypeError, 'options', '3'],
    ['options an array', () => f(8, [] as never), TypeError, 'options', 'Array(0)'],
    ['negative s2', () => f(8, { baseNoiseVariance: -1 }), RangeError, 'baseNoiseVariance', '-1'],
    ['NaN s2', () => f(8, { baseNoiseVariance: NaN }), RangeError, 'baseNoiseVariance', 'NaN'],
    ['Infinity s2', () => f(8, { baseNoiseVariance: Infinity }), RangeError, 'baseNoiseVariance', 'Infinity'],
    ['string s2', () => f(8, { baseNoiseVariance: '1' as never }), TypeError, 'baseNoiseVariance', '"1"'],
    ['unknown loss', () => f(8, { loss: 'l1' as never }), RangeError, 'loss', '"l1"'],
    ['loss a number', () => f(8, { loss: 2 as never }), TypeError, 'loss', '2'],
  ]);
});

test('Rng and its methods', () => {
  check('Rng', [
    ['string seed', () => new Rng('1' as never), TypeError, 'seed', '"1"'],
    ['null seed', () => new Rng(null as never), TypeError, 'seed', 'null'],
    ['undefined seed', () => new Rng(undefined as never), TypeError, 'seed', 'undefined'],
    ['object seed', () => new Rng({} as never), TypeError, 'seed', '[object Object]'],
    ['negative seed', () => new Rng(-1), RangeError, 'seed', '-1'],
    ['fractional seed', () => new Rng(1.5), RangeError, 'seed', '1.5'],
    ['NaN seed', () => new Rng(NaN), RangeError, 'seed', 'NaN'],
    ['seed 2^60 as a number', () => new Rng(2 ** 60), RangeError, 'seed', String(2 ** 60)],
    ['seed 2^64 as a bigint', () => new Rng(2n ** 64n), RangeError, 'seed', `${2n ** 64n}n`],
    ['negative bigint seed', () => new Rng(-1n), RangeError, 'seed', '-1n'],
    ['stream 2^32', () => new Rng(1, 2 ** 32), RangeError, 'stream', String(2 ** 32)],
    ['stream -1', () => new Rng(1, -1), RangeError, 'stream', '-1'],
    ['stream 0.5', () => new Rng(1, 0.5), RangeError, 'stream', '0.5'],
    ['stream string', () => new Rng(1, '0' as never), TypeError, 'stream', '"0"'],
  ]);
  const r = new Rng(1);
  check('Rng methods', [
    ['normals: plain array', () => r.normals([0, 0] as never), TypeError, 'out', 'Array(2)'],
    ['normals: Int32Array', () => r.normals(new Int32Array(2) as never), TypeError, 'out', 'Int32Array(2)'],
    ['normals: null', () => r.normals(null as never), TypeError, 'out', 'null'],
    [
      'normals: Float32Array',
      () => r.normals(new Float32Array(2) as never),
      TypeError,
      'out',
      'Float32Array(2)',
    ],
    ['normals: negative std', () => r.normals(new Float64Array(2), 0, -1), RangeError, 'std', '-1'],
    ['normals: NaN std', () => r.normals(new Float64Array(2), 0, NaN), RangeError, 'std', 'NaN'],
    [
      'normals: Infinity std',
      () => r.normals(new Float64Array(2), 0, Infinity),
      RangeError,
      'std',
      'Infinity',
    ],
    ['normals: NaN mean', () => r.normals(new Float64Array(2), NaN), RangeError, 'mean', 'NaN'],
    [
      'normals: -Infinity mean',
      () => r.normals(new Float64Array(2), -Infinity),
      RangeError,
      'mean',
      '-Infinity',
    ],
    ['normals: string mean', () => r.normals(new Float64Array(2), '0' as never), TypeError, 'mean', '"0"'],
    [
      'uniforms: Float32Array',
      () => r.uniforms(new Float32Array(2) as never),
      TypeError,
      'out',
      'Float32Array(2)',
    ],
    ['uniforms: string', () => r.uniforms('ab' as never), TypeError, 'out', '"ab"'],
    ['seek: negative', () => r.seek(-1), RangeError, 'position', '-1'],
    ['seek: fractional', () => r.seek(1.5), RangeError, 'position', '1.5'],
    ['seek: past 2^53', () => r.seek(2 ** 53), RangeError, 'position', String(2 ** 53)],
    ['seek: string', () => r.seek('3' as never), TypeError, 'position', '"3"'],
    [
      'normals past output index 2^53',
      () => new Rng(1).seek(2 ** 53 - 1).normals(new Float64Array(2)),
      RangeError,
      'out',
      /length 2 at position 9007199254740991/,
    ],
    [
      'uniforms past output index 2^53',
      () => new Rng(1).seek(2 ** 53 - 3).uniforms(new Float64Array(4)),
      RangeError,
      'out',
      /length 4 at position/,
    ],
  ]);
  // right at the end is allowed and exact
  const last = new Rng(1).seek(2 ** 53 - 2).normals(new Float64Array(2));
  assert.ok(Number.isFinite(last[0]!) && Number.isFinite(last[1]!));
});

test('injectTargetNoise', () => {
  const f = g.injectTargetNoise,
    rng = new Rng(1);
  check('injectTargetNoise', [
    ['y plain array', () => f([1] as never, 1, rng), TypeError, 'y', 'Array(1)'],
    ['y Int32Array', () => f(new Int32Array(2) as never, 1, rng), TypeError, 'y', 'Int32Array(2)'],
    ['y null', () => f(null as never, 1, rng), TypeError, 'y', 'null'],
    ['negative variance', () => f(new Float64Array(2), -1, rng), RangeError, 'variance', '-1'],
    ['NaN variance', () => f(new Float64Array(2), NaN, rng), RangeError, 'variance', 'NaN'],
    ['Infinity variance', () => f(new Float64Array(2), Infinity, rng), RangeError, 'variance', 'Infinity'],
    ['string variance', () => f(new Float64Array(2), '1' as never, rng), TypeError, 'variance', '"1"'],
    ['rng a plain object', () => f(new Float64Array(2), 1, {} as never), TypeError, 'rng', '[object Object]'],
    ['rng a seed', () => f(new Float64Array(2), 1, 7 as never), TypeError, 'rng', '7'],
    [
      'Infinity in y',
      () => f(new Float64Array([0, Infinity]), 1, rng),
      RangeError,
      'y',
      'Infinity',
      /index 1\b/,
    ],
    ['NaN in y', () => f(new Float64Array([0, 0, 0, NaN]), 1, rng), RangeError, 'y', 'NaN', /index 3\b/],
  ]);
  assert.is(rng.position, 0, 'rejected calls do not advance the generator');
});

test('GradientCovariance: constructor, sizes beyond memory fail up front with the bytes needed', () => {
  check('GradientCovariance', [
    ['dim 0', () => new GradientCovariance(0), RangeError, 'dim', '`0`'],
    ['dim -3', () => new GradientCovariance(-3), RangeError, 'dim', '-3'],
    ['dim 2.5', () => new GradientCovariance(2.5), RangeError, 'dim', '2.5'],
    ['dim NaN', () => new GradientCovariance(NaN), RangeError, 'dim', 'NaN'],
    ['dim string', () => new GradientCovariance('3' as never), TypeError, 'dim', '"3"'],
    ['dim null', () => new GradientCovariance(null as never), TypeError, 'dim', 'null'],
    ['dim 1e300', () => new GradientCovariance(1e300), RangeError, 'dim', '1e+300'],
  ]);
  const before = g.wasmMemoryBytes();
  for (const [dim, size] of [
    [100000, '74.51 GiB'],
    [30000, '6.71 GiB'],
    [11585, '1.00 GiB'],
    [2 ** 40, 'GiB'],
  ] as const) {
    let caught: unknown;
    try {
      new GradientCovariance(dim);
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof RangeError, `dim ${dim}: ${String(caught)}`);
    const msg = (caught as Error).message;
    assert.ok(
      msg.includes('`dim`') && msg.includes(String(dim)) && msg.includes(size) && /needs/.test(msg),
      msg,
    );
  }
  assert.is(g.wasmMemoryBytes(), before, 'nothing was allocated for the refused sizes');
  new GradientCovariance(64).dispose(); // and the module works after them
});

test('GradientCovariance methods', () => {
  const acc = new GradientCovariance(3).addBatch(normals(12, 3));
  const other4 = new GradientCovariance(4);
  check('GradientCovariance methods', [
    ['add: wrong length', () => acc.add(new Float64Array(4)), RangeError, 'g', 'length 4', /length 3/],
    ['add: empty', () => acc.add(new Float64Array(0)), RangeError, 'g', 'length 0'],
    ['add: plain array', () => acc.add([1, 2, 3] as never), TypeError, 'g', 'Array(3)'],
    ['add: Int32Array', () => acc.add(new Int32Array(3) as never), TypeError, 'g', 'Int32Array(3)'],
    ['add: string', () => acc.add('abc' as never), TypeError, 'g', '"abc"'],
    ['add: null', () => acc.add(null as never), TypeError, 'g', 'null'],
    ['add: NaN', () => acc.add(new Float64Array([1, NaN, 3])), RangeError, 'g', 'NaN', /index 1\b/],
    [
      'add: Infinity in a Float32Array',
      () => acc.add(new Float32Array([1, 2, Infinity])),
      RangeError,
      'g',
      'Infinity',
      /index 2\b/,
    ],
    [
      'addBatch: not a multiple of dim',
      () => acc.addBatch(new Float64Array(7)),
      RangeError,
      'G',
      'length 7',
      /multiple of dim \(3\)/,
    ],
    [
      'addBatch: rows too many',
      () => acc.addBatch(new Float64Array(6), 3),
      RangeError,
      'rows',
      '`3`',
      /G.length \(6\)/,
    ],
    ['addBatch: rows negative', () => acc.addBatch(new Float64Array(6), -1), RangeError, 'rows', '-1'],
    ['addBatch: rows 1.5', () => acc.addBatch(new Float64Array(6), 1.5), RangeError, 'rows', '1.5'],
    ['addBatch: rows NaN', () => acc.addBatch(new Float64Array(6), NaN), RangeError, 'rows', 'NaN'],
    [
      'addBatch: rows string',
      () => acc.addBatch(new Float64Array(6), '2' as never),
      TypeError,
      'rows',
      '"2"',
    ],
    [
      'addBatch: -Infinity late',
      () => acc.addBatch(bad(new Float64Array(600), 599, -Infinity)),
      RangeError,
      'G',
      '-Infinity',
      /row 199, column 2\b/,
    ],
    [
      'addBatch: NaN in Float32',
      () => acc.addBatch(new Float32Array([0, 0, 0, 0, NaN, 0])),
      RangeError,
      'G',
      'NaN',
      /row 1, column 1\b/,
    ],
    ['addBatch: null', () => acc.addBatch(null as never), TypeError, 'G', 'null'],
    ['addBatch: plain array', () => acc.addBatch([1, 2, 3] as never), TypeError, 'G', 'Array(3)'],
    ['addBatch: Int32Array', () => acc.addBatch(new Int32Array(3) as never), TypeError, 'G', 'Int32Array(3)'],
    ['merge: other dim', () => acc.merge(other4), RangeError, 'other', 'dim 4', /dim 3/],
    ['merge: plain object', () => acc.merge({} as never), TypeError, 'other', '[object Object]'],
    ['merge: null', () => acc.merge(null as never), TypeError, 'other', 'null'],
    ['covariance: NaN scale', () => acc.covariance({ scale: NaN }), RangeError, 'scale', 'NaN'],
    [
      'covariance: Infinity scale',
      () => acc.covariance({ scale: Infinity }),
      RangeError,
      'scale',
      'Infinity',
    ],
    ['covariance: string scale', () => acc.covariance({ scale: '2' as never }), TypeError, 'scale', '"2"'],
    ['covariance: options a number', () => acc.covariance(2 as never), TypeError, 'options', '2'],
  ]);
  const one = new GradientCovariance(2).add(new Float64Array(2));
  assert.throws(
    () => one.covariance(),
    (e: Error) => e instanceof RangeError && /at least 2 gradients.*count 1/.test(e.message),
  );
  one.dispose();
  assert.throws(() => one.add(new Float64Array(2)), /disposed/);
  assert.throws(() => acc.merge(one), /`other` GradientCovariance has been disposed/);
  acc.dispose();
  other4.dispose();
});

test('linearRegressionGradients: data, weights, options, sizes beyond memory', () => {
  const f = g.linearRegressionGradients,
    d = data(),
    w = w4();
  const o = { batchSize: 4, batches: 3, noiseVariance: 1, seed: 1 };
  check('linearRegressionGradients', [
    ['data null', () => f(null as never, w, o), TypeError, 'data', 'null'],
    ['data an array', () => f([] as never, w, o), TypeError, 'data', 'Array(0)'],
    ['data.X plain array', () => f({ ...d, X: [] as never }, w, o), TypeError, 'data.X', 'Array(0)'],
    [
      'data.X Int32Array',
      () => f({ ...d, X: new Int32Array(40) as never }, w, o),
      TypeError,
      'data.X',
      'Int32Array(40)',
    ],
    [
      'data.X Float32Array',
      () => f({ ...d, X: new Float32Array(40) as never }, w, o),
      TypeError,
      'data.X',
      'Float32Array(40)',
    ],
    ['data.y null', () => f({ ...d, y: null as never }, w, o), TypeError, 'data.y', 'null'],
    ['data.rows 0', () => f({ ...d, rows: 0 }, w, o), RangeError, 'data.rows', '`0`'],
    ['data.rows string', () => f({ ...d, rows: '10' as never }, w, o), TypeError, 'data.rows', '"10"'],
    ['data.dim 0', () => f({ ...d, dim: 0 }, w, o), RangeError, 'data.dim', '`0`'],
    ['data.dim -4', () => f({ ...d, dim: -4 }, w, o), RangeError, 'data.dim', '-4'],
    ['data.dim 4.5', () => f({ ...d, dim: 4.5 }, w, o), RangeError, 'data.dim', '4.5'],
    ['rows mismatch', () => f({ ...d, rows: 11 }, w, o), RangeError, 'data.X', 'length 40', /length 44/],
    ['y length', () => f({ ...d, y: new Float64Array(9) }, w, o), RangeError, 'data.y', 'length 9'],
    [
      'NaN in X',
      () => f({ ...d, X: bad(d.X, 13, NaN) }, w, o),
      RangeError,
      'data.X',
      'NaN',
      /row 3, column 1\b/,
    ],
    [
      '-Infinity in y',
      () => f({ ...d, y: bad(d.y, 2, -Infinity) }, w, o),
      RangeError,
      'data.y',
      '-Infinity',
      /row 2\b/,
    ],
    ['w length', () => f(d, new Float64Array(3), o), RangeError, 'w', 'length 3', /length 4/],
    ['w null', () => f(d, null as never, o), TypeError, 'w', 'null'],
    ['w Int32Array', () => f(d, new Int32Array(4) as never, o), TypeError, 'w', 'Int32Array(4)'],
    ['w Infinity', () => f(d, bad(w, 0, Infinity), o), RangeError, 'w', 'Infinity', /index 0\b/],
    ['options null', () => f(d, w, null as never), TypeError, 'options', 'null'],
    [
      'batch > rows without replacement',
      () => f(d, w, { ...o, batchSize: 11, replacement: false }),
      RangeError,
      'batchSize',
      '11',
      /\[1, 10\]/,
    ],
    ['batchSize 0', () => f(d, w, { ...o, batchSize: 0 }), RangeError, 'batchSize', '`0`'],
    ['batchSize 2.5', () => f(d, w, { ...o, batchSize: 2.5 }), RangeError, 'batchSize', '2.5'],
    ['batchSize string', () => f(d, w, { ...o, batchSize: '4' as never }), TypeError, 'batchSize', '"4"'],
    ['zero batches', () => f(d, w, { ...o, batches: 0 }), RangeError, 'batches', '`0`'],
    ['negative batches', () => f(d, w, { ...o, batches: -1 }), RangeError, 'batches', '-1'],
    ['negative variance', () => f(d, w, { ...o, noiseVariance: -2 }), RangeError, 'noiseVariance', '-2'],
    ['NaN variance', () => f(d, w, { ...o, noiseVariance: NaN }), RangeError, 'noiseVariance', 'NaN'],
    [
      'Infinity variance',
      () => f(d, w, { ...o, noiseVariance: Infinity }),
      RangeError,
      'noiseVariance',
      'Infinity',
    ],
    [
      'missing variance',
      () => f(d, w, { ...o, noiseVariance: undefined as never }),
      TypeError,
      'noiseVariance',
      'undefined',
    ],
    ['seed string', () => f(d, w, { ...o, seed: 'x' as never }), TypeError, 'seed', '"x"'],
    ['seed null', () => f(d, w, { ...o, seed: null as never }), TypeError, 'seed', 'null'],
    ['seed missing', () => f(d, w, { ...o, seed: undefined as never }), TypeError, 'seed', 'undefined'],
    ['seed 1.5', () => f(d, w, { ...o, seed: 1.5 }), RangeError, 'seed', '1.5'],
    ['stream -1', () => f(d, w, { ...o, stream: -1 }), RangeError, 'stream', '-1'],
    ['stream string', () => f(d, w, { ...o, stream: '1' as never }), TypeError, 'stream', '"1"'],
    [
      'replacement string',
      () => f(d, w, { ...o, replacement: 'no' as never }),
      TypeError,
      'replacement',
      '"no"',
    ],
    ['firstBatch -1', () => f(d, w, { ...o, firstBatch: -1 }), RangeError, 'firstBatch', '-1'],
    [
      'firstBatch + batches past 2^32',
      () => f(d, w, { ...o, firstBatch: 2 ** 32 - 2 }),
      RangeError,
      'firstBatch',
      String(2 ** 32 + 1),
    ],
  ]);
  const before = g.wasmMemoryBytes();
  assert.throws(
    () => f(d, w, { ...o, batches: 2 ** 31 - 1 }),
    (e: Error) =>
      e instanceof RangeError &&
      /`batches` = 2147483647.*output of 2147483647 gradients of dim 4.*needs 64\.00 GiB/.test(e.message),
  );
  assert.throws(
    () => f(d, w, { ...o, batches: 2 ** 25 }), // 1 GiB exactly: over the heap's largest block
    (e: Error) => e instanceof RangeError && /needs 1\.00 GiB/.test(e.message),
  );
  assert.is(g.wasmMemoryBytes(), before, 'refused up front, before the data was copied in');
});

test('estimateHessian', () => {
  const f = g.estimateHessian,
    d = data(),
    w = w4();
  const o = { batchSize: 4, batches: 3, seed: 1 };
  check('estimateHessian', [
    ['data null', () => f(null as never, w, o), TypeError, 'data', 'null'],
    [
      'data.X Int32Array',
      () => f({ ...d, X: new Int32Array(40) as never }, w, o),
      TypeError,
      'data.X',
      'Int32Array(40)',
    ],
    ['data.dim 0', () => f({ ...d, dim: 0 }, w, o), RangeError, 'data.dim', '`0`'],
    [
      'NaN in X',
      () => f({ ...d, X: bad(d.X, 39, NaN) }, w, o),
      RangeError,
      'data.X',
      'NaN',
      /row 9, column 3\b/,
    ],
    ['w plain array', () => f(d, [0, 0, 0, 0] as never, o), TypeError, 'w', 'Array(4)'],
    ['options string', () => f(d, w, 'x' as never), TypeError, 'options', '"x"'],
    ['one batch', () => f(d, w, { ...o, batches: 1 }), RangeError, 'batches', '`1`', /at least 2/],
    ['zero batches', () => f(d, w, { ...o, batches: 0 }), RangeError, 'batches', '`0`'],
    ['batchSize null', () => f(d, w, { ...o, batchSize: null as never }), TypeError, 'batchSize', 'null'],
    [
      'batch > rows without replacement',
      () => f(d, w, { ...o, batchSize: 20, replacement: false }),
      RangeError,
      'batchSize',
      '20',
    ],
    ['NaN variance', () => f(d, w, { ...o, noiseVariance: NaN }), RangeError, 'noiseVariance', 'NaN'],
    ['negative s2', () => f(d, w, { ...o, baseNoiseVariance: -1 }), RangeError, 'baseNoiseVariance', '-1'],
    ['seed bigint too large', () => f(d, w, { ...o, seed: 2n ** 64n }), RangeError, 'seed', `${2n ** 64n}n`],
    ['seed boolean', () => f(d, w, { ...o, seed: true as never }), TypeError, 'seed', 'true'],
  ]);
});

test('operatorNorm, operatorNormDiff, relativeError, extremeEigenvalues', () => {
  const A = A2();
  check('operatorNorm', [
    ['A null', () => g.operatorNorm(null as never, 2), TypeError, 'A', 'null'],
    ['A plain array', () => g.operatorNorm([1] as never, 1), TypeError, 'A', 'Array(1)'],
    ['A Int32Array', () => g.operatorNorm(new Int32Array(4) as never, 2), TypeError, 'A', 'Int32Array(4)'],
    ['A length', () => g.operatorNorm(new Float64Array(3), 2), RangeError, 'A', 'length 3', /length 4/],
    ['dim 0', () => g.operatorNorm(A, 0), RangeError, 'dim', '`0`'],
    ['dim -2', () => g.operatorNorm(A, -2), RangeError, 'dim', '-2'],
    ['dim 1.5', () => g.operatorNorm(A, 1.5), RangeError, 'dim', '1.5'],
    ['dim string', () => g.operatorNorm(A, '2' as never), TypeError, 'dim', '"2"'],
    ['dim huge', () => g.operatorNorm(A, 1e6), RangeError, 'dim', '1000000'],
    ['NaN entry', () => g.operatorNorm(bad(A, 2, NaN), 2), RangeError, 'A', 'NaN', /row 1, column 0\b/],
    [
      'Infinity entry',
      () => g.operatorNorm(bad(A, 3, Infinity), 2),
      RangeError,
      'A',
      'Infinity',
      /row 1, column 1\b/,
    ],
    ['options a number', () => g.operatorNorm(A, 2, 1 as never), TypeError, 'options', '1'],
    ['tol 0', () => g.operatorNorm(A, 2, { tol: 0 }), RangeError, 'tol', '`0`'],
    ['tol 1', () => g.operatorNorm(A, 2, { tol: 1 }), RangeError, 'tol', '`1`'],
    ['tol NaN', () => g.operatorNorm(A, 2, { tol: NaN }), RangeError, 'tol', 'NaN'],
    ['tol string', () => g.operatorNorm(A, 2, { tol: '1e-9' as never }), TypeError, 'tol', '"1e-9"'],
    ['maxIter 0', () => g.operatorNorm(A, 2, { maxIter: 0 }), RangeError, 'maxIter', '`0`'],
    ['maxIter 2.5', () => g.operatorNorm(A, 2, { maxIter: 2.5 }), RangeError, 'maxIter', '2.5'],
    ['seed -1', () => g.operatorNorm(A, 2, { seed: -1 }), RangeError, 'seed', '-1'],
    ['seed string', () => g.operatorNorm(A, 2, { seed: '1' as never }), TypeError, 'seed', '"1"'],
    ['method unknown', () => g.operatorNorm(A, 2, { method: 'qr' as never }), RangeError, 'method', '"qr"'],
  ]);
  check('operatorNormDiff', [
    ['B null', () => g.operatorNormDiff(A, null as never, 2), TypeError, 'B', 'null'],
    ['B length', () => g.operatorNormDiff(A, new Float64Array(9), 2), RangeError, 'B', 'length 9'],
    ['B NaN', () => g.operatorNormDiff(A, bad(A, 1, NaN), 2), RangeError, 'B', 'NaN', /row 0, column 1\b/],
    [
      'A Float32Array',
      () => g.operatorNormDiff(new Float32Array(4) as never, A, 2),
      TypeError,
      'A',
      'Float32Array(4)',
    ],
    ['dim 0', () => g.operatorNormDiff(A, A, 0), RangeError, 'dim', '`0`'],
  ]);
  check('relativeError', [
    [
      'truth Float32Array',
      () => g.relativeError(A, new Float32Array(4) as never, 2),
      TypeError,
      'truth',
      'Float32Array(4)',
    ],
    [
      'estimate plain array',
      () => g.relativeError([1, 0, 0, 1] as never, A, 2),
      TypeError,
      'estimate',
      'Array(4)',
    ],
    ['truth length', () => g.relativeError(A, new Float64Array(2), 2), RangeError, 'truth', 'length 2'],
    [
      'estimate -Infinity',
      () => g.relativeError(bad(A, 0, -Infinity), A, 2),
      RangeError,
      'estimate',
      '-Infinity',
      /row 0, column 0\b/,
    ],
    ['dim 0', () => g.relativeError(A, A, 0), RangeError, 'dim', '`0`'],
    ['truth zero', () => g.relativeError(A, new Float64Array(4), 2), RangeError, 'truth', /zero matrix/],
  ]);
  check('extremeEigenvalues', [
    ['A plain array', () => g.extremeEigenvalues([1] as never, 1), TypeError, 'A', 'Array(1)'],
    ['dim 0', () => g.extremeEigenvalues(A, 0), RangeError, 'dim', '`0`'],
    ['NaN', () => g.extremeEigenvalues(bad(A, 1, NaN), 2), RangeError, 'A', 'NaN', /row 0, column 1\b/],
    [
      'method power',
      () => g.extremeEigenvalues(A, 2, { method: 'power' } as never),
      RangeError,
      'method',
      "'power'",
    ],
    ['tol 2', () => g.extremeEigenvalues(A, 2, { tol: 2 }), RangeError, 'tol', '`2`'],
  ]);
});

test('standardize, secondMomentMatrix, leastSquares (shared data checks)', () => {
  for (const [name, f] of [
    ['standardize', g.standardize],
    ['secondMomentMatrix', g.secondMomentMatrix],
    ['leastSquares', g.leastSquares],
  ] as const) {
    const d = data();
    check(name, [
      ['data null', () => f(null as never), TypeError, 'data', 'null'],
      ['data a string', () => f('X' as never), TypeError, 'data', '"X"'],
      [
        'data.X Int32Array',
        () => f({ ...d, X: new Int32Array(40) as never }),
        TypeError,
        'data.X',
        'Int32Array(40)',
      ],
      ['data.y plain array', () => f({ ...d, y: [] as never }), TypeError, 'data.y', 'Array(0)'],
      ['data.rows -1', () => f({ ...d, rows: -1 }), RangeError, 'data.rows', '-1'],
      ['data.dim 2.5', () => f({ ...d, dim: 2.5 }), RangeError, 'data.dim', '2.5'],
      ['data.dim 0', () => f({ ...d, dim: 0 }), RangeError, 'data.dim', '`0`'],
      ['X length', () => f({ ...d, X: new Float64Array(39) }), RangeError, 'data.X', 'length 39'],
      [
        'Infinity in y',
        () => f({ ...d, y: bad(d.y, 7, Infinity) }),
        RangeError,
        'data.y',
        'Infinity',
        /row 7\b/,
      ],
      ['NaN in X', () => f({ ...d, X: bad(d.X, 0, NaN) }), RangeError, 'data.X', 'NaN', /row 0, column 0\b/],
    ]);
  }
});

test('pointAtMisfit (validated nothing before issue 7)', () => {
  const H = A2(),
    w = new Float64Array([1, 2]),
    dir = new Float64Array([1, 0]);
  const f = g.pointAtMisfit;
  check('pointAtMisfit', [
    ['H null', () => f(null as never, w, dir, 1), TypeError, 'H', 'null'],
    ['H plain array', () => f([2, 1, 1, 3] as never, w, dir, 1), TypeError, 'H', 'Array(4)'],
    ['H length', () => f(new Float64Array(3), w, dir, 1), RangeError, 'H', 'length 3', /length 4/],
    ['H NaN', () => f(bad(H, 3, NaN), w, dir, 1), RangeError, 'H', 'NaN', /row 1, column 1\b/],
    ['w Int32Array', () => f(H, new Int32Array(2) as never, dir, 1), TypeError, 'w', 'Int32Array(2)'],
    [
      'w empty',
      () => f(new Float64Array(0), new Float64Array(0), new Float64Array(0), 1),
      RangeError,
      'w',
      'length 0',
    ],
    ['w Infinity', () => f(H, bad(w, 1, Infinity), dir, 1), RangeError, 'w', 'Infinity', /index 1\b/],
    ['direction length', () => f(H, w, new Float64Array(3), 1), RangeError, 'direction', 'length 3'],
    ['direction string', () => f(H, w, 'up' as never, 1), TypeError, 'direction', '"up"'],
    ['direction NaN', () => f(H, w, bad(dir, 0, NaN), 1), RangeError, 'direction', 'NaN', /index 0\b/],
    ['direction zero', () => f(H, w, new Float64Array(2), 1), RangeError, 'direction', '`0`', /> 0/],
    [
      'direction in the null space',
      () => f(new Float64Array([1, 0, 0, 0]), w, new Float64Array([0, 1]), 1),
      RangeError,
      'direction',
      '`0`',
    ],
    ['misfit negative', () => f(H, w, dir, -1), RangeError, 'misfit', '-1'],
    ['misfit NaN', () => f(H, w, dir, NaN), RangeError, 'misfit', 'NaN'],
    ['misfit Infinity', () => f(H, w, dir, Infinity), RangeError, 'misfit', 'Infinity'],
    ['misfit string', () => f(H, w, dir, '1' as never), TypeError, 'misfit', '"1"'],
  ]);
  assert.equal(Array.from(f(H, w, new Float64Array(2), 0)), [1, 2], 'misfit 0 returns w (any direction)');
});

test('syntheticRegression', () => {
  const f = g.syntheticRegression;
  const o = { dim: 3, rows: 10, seed: 1 };
  check('syntheticRegression', [
    ['options null', () => f(null as never), TypeError, 'options', 'null'],
    ['dim 0', () => f({ ...o, dim: 0 }), RangeError, 'dim', '`0`'],
    ['dim 2.5', () => f({ ...o, dim: 2.5 }), RangeError, 'dim', '2.5'],
    ['dim 5000', () => f({ ...o, dim: 5000 }), RangeError, 'dim', '5000', /\[1, 4096\]/],
    ['dim string', () => f({ ...o, dim: '3' as never }), TypeError, 'dim', '"3"'],
    ['rows 0', () => f({ ...o, rows: 0 }), RangeError, 'rows', '`0`'],
    [
      'rows x dim beyond memory',
      () => f({ ...o, rows: 2 ** 40 }),
      RangeError,
      'rows',
      `${2 ** 40} x 3`,
      /needs 24576\.00 GiB/,
    ],
    ['condition 0.5', () => f({ ...o, condition: 0.5 }), RangeError, 'condition', '0.5'],
    ['condition NaN', () => f({ ...o, condition: NaN }), RangeError, 'condition', 'NaN'],
    ['condition Infinity', () => f({ ...o, condition: Infinity }), RangeError, 'condition', 'Infinity'],
    ['condition string', () => f({ ...o, condition: '10' as never }), TypeError, 'condition', '"10"'],
    ['noiseVariance -1', () => f({ ...o, noiseVariance: -1 }), RangeError, 'noiseVariance', '-1'],
    ['inputs unknown', () => f({ ...o, inputs: 'cauchy' as never }), RangeError, 'inputs', '"cauchy"'],
    ['inputs a number', () => f({ ...o, inputs: 1 as never }), TypeError, 'inputs', '1'],
    ['seed missing', () => f({ ...o, seed: undefined as never }), TypeError, 'seed', 'undefined'],
    ['seed string', () => f({ ...o, seed: '1' as never }), TypeError, 'seed', '"1"'],
  ]);
});

test('init: a wrong source or option is rejected even after the kernels are loaded', async () => {
  const rows: [string, () => Promise<void>, Kind, string, string][] = [
    ['source a string', () => g.init('gradcov.wasm' as never), TypeError, 'source', '"gradcov.wasm"'],
    ['source a number', () => g.init(42 as never), TypeError, 'source', '42'],
    ['source null', () => g.init(null as never), TypeError, 'source', 'null'],
    ['source a plain object', () => g.init({} as never), TypeError, 'source', '[object Object]'],
    ['options a string', () => g.init(undefined, 'simd' as never), TypeError, 'options', '"simd"'],
    ['build unknown', () => g.init(undefined, { build: 'sse' as never }), RangeError, 'build', '"sse"'],
    ['build a number', () => g.init(undefined, { build: 1 as never }), TypeError, 'build', '1'],
  ];
  for (const [label, call, Kind, param, value] of rows) {
    let caught: unknown;
    try {
      await call();
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof Kind, `init: ${label}: expected ${Kind.name}, got ${String(caught)}`);
    const msg = (caught as Error).message;
    assert.ok(
      msg.includes('`' + param + '`') && /must/.test(msg) && msg.includes(value),
      `init: ${label}: ${msg}`,
    );
  }
  assert.ok(g.isInitialized());
});

test.run();
