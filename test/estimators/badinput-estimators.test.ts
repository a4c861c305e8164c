// Bad input for the estimators beyond the calibration rule, in the format of
// badinput.test.ts: every row throws the stated error type, names the parameter in
// backticks, states a rule ("must") and shows the value; rejected calls change no state.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import {
  setup,
  normals,
  offsetView,
  maxAbsDiff,
  checkBadInputs,
  type ErrorKind,
  assertSameValues,
} from '../helpers/helpers.js';
import { pairDifferences } from '../../src/estimators/plan.js';
import * as refP from '../../src/reference/paired.js';

test.before(setup);

type Kind = ErrorKind;
const check = checkBadInputs;

async function checkAsync(
  fn: string,
  rows: [string, () => Promise<unknown>, Kind, string, string | RegExp][],
): Promise<void> {
  for (const [label, call, Kind, param, value] of rows) {
    let caught: unknown;
    await call().catch((err: unknown) => {
      caught = err;
    });
    check(fn, [
      [
        label,
        () => {
          if (caught) throw caught;
        },
        Kind,
        param,
        value,
      ],
    ]);
  }
}

const data = () => ({ X: normals(40, 1), y: normals(10, 2), rows: 10, dim: 4 });
const w4 = () => new Float64Array(4);

test('estimateHessian method options', () => {
  const o = { batchSize: 4, batches: 10, seed: 1 };
  check('estimateHessian', [
    [
      'unknown method',
      () => g.estimateHessian(data(), w4(), { ...o, method: 'exact' as never }),
      RangeError,
      'method',
      '"exact"',
    ],
    [
      'method null',
      () => g.estimateHessian(data(), w4(), { ...o, method: null as never }),
      TypeError,
      'method',
      'null',
    ],
    [
      'paired, tau2 0',
      () => g.estimateHessian(data(), w4(), { ...o, method: 'paired', noiseVariance: 0 }),
      RangeError,
      'noiseVariance',
      '`0`',
    ],
    [
      'paired, tau2 NaN',
      () => g.estimateHessian(data(), w4(), { ...o, method: 'paired', noiseVariance: NaN }),
      RangeError,
      'noiseVariance',
      'NaN',
    ],
    [
      'paired, 1 batch',
      () => g.estimateHessian(data(), w4(), { ...o, method: 'paired', batches: 1 }),
      RangeError,
      'batches',
      '`1`',
    ],
    [
      'paired, n > rows without replacement',
      () => g.estimateHessian(data(), w4(), { ...o, method: 'paired', batchSize: 11, replacement: false }),
      RangeError,
      'batchSize',
      '11',
    ],
    [
      'two-level, 3 batches',
      () => g.estimateHessian(data(), w4(), { ...o, method: 'two-level', batches: 3 }),
      RangeError,
      'batches',
      '`3`',
    ],
    [
      'levels equal',
      () => g.estimateHessian(data(), w4(), { ...o, method: 'two-level', noiseLevels: [2, 2] }),
      RangeError,
      'noiseLevels',
      '[2, 2]',
    ],
    [
      'level Infinity',
      () => g.estimateHessian(data(), w4(), { ...o, method: 'two-level', noiseLevels: [Infinity, 0] }),
      RangeError,
      'noiseLevels[0]',
      'Infinity',
    ],
    [
      'level string',
      () => g.estimateHessian(data(), w4(), { ...o, method: 'two-level', noiseLevels: [2, '1'] as never }),
      TypeError,
      'noiseLevels[1]',
      '"1"',
    ],
    [
      'levels object',
      () => g.estimateHessian(data(), w4(), { ...o, method: 'two-level', noiseLevels: {} as never }),
      TypeError,
      'noiseLevels',
      'object',
    ],
    [
      'two-level with noiseVariance',
      () => g.estimateHessian(data(), w4(), { ...o, method: 'two-level', noiseVariance: 3 }),
      TypeError,
      'noiseVariance',
      '3',
    ],
    [
      'levels with paired',
      () => g.estimateHessian(data(), w4(), { ...o, method: 'paired', noiseLevels: [2, 1] }),
      TypeError,
      'noiseLevels',
      '[2,1]',
    ],
    [
      'debiased, negative s2',
      () => g.estimateHessian(data(), w4(), { ...o, method: 'debiased', baseNoiseVariance: -1 }),
      RangeError,
      'baseNoiseVariance',
      '-1',
    ],
    [
      'paired, bad w',
      () => g.estimateHessian(data(), new Float64Array(3), { ...o, method: 'paired' }),
      RangeError,
      'w',
      'length 3',
    ],
  ]);
  const ds = new g.RegressionDataset(data());
  ds.dispose();
  assert.throws(() => g.estimateHessian(ds, w4(), { ...o, method: 'paired' }), /disposed/);
});

test('estimateCurvature and targetNoise', async () => {
  const ok = () => new Float64Array(2);
  const o = { dim: 2, batchSize: 4, batches: 10, seed: 1 };
  await checkAsync('estimateCurvature', [
    ['oracle null', () => g.estimateCurvature(null as never, o), TypeError, 'oracle', 'null'],
    ['options array', () => g.estimateCurvature(ok, [] as never), TypeError, 'options', 'Array(0)'],
    ['dim NaN', () => g.estimateCurvature(ok, { ...o, dim: NaN }), RangeError, 'dim', 'NaN'],
    ['dim too large', () => g.estimateCurvature(ok, { ...o, dim: 20000 }), RangeError, 'dim', '20000'],
    ['outputs 1.5', () => g.estimateCurvature(ok, { ...o, outputs: 1.5 }), RangeError, 'outputs', '1.5'],
    ['batches 0', () => g.estimateCurvature(ok, { ...o, batches: 0 }), RangeError, 'batches', '`0`'],
    ['seed string', () => g.estimateCurvature(ok, { ...o, seed: '1' as never }), TypeError, 'seed', '"1"'],
    ['stream -1', () => g.estimateCurvature(ok, { ...o, stream: -1 }), RangeError, 'stream', '-1'],
    [
      'firstBatch 0.5',
      () => g.estimateCurvature(ok, { ...o, firstBatch: 0.5 }),
      RangeError,
      'firstBatch',
      '0.5',
    ],
    [
      'concurrency 2000',
      () => g.estimateCurvature(ok, { ...o, concurrency: 2000 }),
      RangeError,
      'concurrency',
      '2000',
    ],
    [
      'noiseVariance string',
      () => g.estimateCurvature(ok, { ...o, noiseVariance: '1' as never }),
      TypeError,
      'noiseVariance',
      '"1"',
    ],
    [
      'baseNoiseVariance -2',
      () => g.estimateCurvature(ok, { ...o, baseNoiseVariance: -2 }),
      RangeError,
      'baseNoiseVariance',
      '-2',
    ],
    [
      'levels without two-level',
      () => g.estimateCurvature(ok, { ...o, noiseLevels: [2, 1] }),
      TypeError,
      'noiseLevels',
      '[2,1]',
    ],
  ]);
  const typo = await g.estimateCurvature(ok, { ...o, concurency: 2 } as never).catch((e: unknown) => e);
  assert.ok(
    typo instanceof TypeError && /`concurency`.*did you mean `concurrency`/.test(typo.message),
    String(typo),
  );
  const t = { seed: 1, batch: 0, batchSize: 4, noiseVariance: 1 };
  check('targetNoise', [
    ['options null', () => g.targetNoise(null as never), TypeError, 'options', 'null'],
    ['no seed', () => g.targetNoise({ ...t, seed: undefined } as never), TypeError, 'seed', 'undefined'],
    ['seed 2^64', () => g.targetNoise({ ...t, seed: 2n ** 64n }), RangeError, 'seed', '18446744073709551616'],
    ['batch -1', () => g.targetNoise({ ...t, batch: -1 }), RangeError, 'batch', '-1'],
    ['draw 0.5', () => g.targetNoise({ ...t, draw: 0.5 as never }), RangeError, 'draw', '0.5'],
    ['batchSize 0', () => g.targetNoise({ ...t, batchSize: 0 }), RangeError, 'batchSize', '`0`'],
    ['outputs 0', () => g.targetNoise({ ...t, outputs: 0 }), RangeError, 'outputs', '`0`'],
    ['variance -1', () => g.targetNoise({ ...t, noiseVariance: -1 }), RangeError, 'noiseVariance', '-1'],
    ['stream 2^32', () => g.targetNoise({ ...t, stream: 2 ** 32 }), RangeError, 'stream', '4294967296'],
  ]);
});

test('PairedGradients: bad input names the parameter and leaves the state unchanged', () => {
  check('PairedGradients', [
    ['dim 0', () => new g.PairedGradients(0), RangeError, 'dim', '`0`'],
    ['dim string', () => new g.PairedGradients('3' as never), TypeError, 'dim', '"3"'],
  ]);
  const p = new g.PairedGradients(3);
  const q = new g.PairedGradients(2);
  try {
    p.add(new Float64Array([1, 2, 3]), new Float64Array([0, 1, 1])).add(
      new Float64Array([2, 2, 2]),
      new Float64Array([1, 1, 1]),
    );
    const before = p.covariance();
    check('PairedGradients', [
      ['g1 an array', () => p.add([1, 2, 3] as never, new Float64Array(3)), TypeError, 'g1', 'Array(3)'],
      ['g2 short', () => p.add(new Float64Array(3), new Float64Array(2)), RangeError, 'g2', 'length 2'],
      ['g1 NaN', () => p.add(new Float64Array([0, NaN, 0]), new Float64Array(3)), RangeError, 'g1', 'NaN'],
      [
        'differences not a multiple',
        () => p.addDifferences(new Float64Array(4)),
        RangeError,
        'G',
        'length 4',
      ],
      [
        'differences Infinity',
        () => p.addDifferences(new Float64Array([0, 0, Infinity])),
        RangeError,
        'G',
        'Infinity',
      ],
      ['merge other dim', () => p.merge(q), RangeError, 'other', 'dim 2'],
      ['merge not one', () => p.merge({} as never), TypeError, 'other', 'object'],
      ['hessian n 0', () => p.hessian(0, 1), RangeError, 'batchSize', '`0`'],
      ['hessian tau2 0', () => p.hessian(4, 0), RangeError, 'noiseVariance', '`0`'],
    ]);
    assert.is(p.count, 2);
    assertSameValues(p.covariance(), before, 'state unchanged');
  } finally {
    p.dispose();
    q.dispose();
  }
});

test('fitLinearRegression estimator option', () => {
  const p = g.syntheticRegression({ dim: 4, rows: 500, seed: 5 });
  const o = { method: 'preconditioned' as const, steps: 5, batchSize: 16, seed: 9 };
  check('fitLinearRegression', [
    [
      'unknown estimator',
      () => g.fitLinearRegression(p.data, { ...o, estimator: 'exact' as never }),
      RangeError,
      'estimator',
      '"exact"',
    ],
    [
      'debias with paired',
      () => g.fitLinearRegression(p.data, { ...o, debias: true }),
      TypeError,
      'debias',
      'true',
    ],
    [
      'paired without noise',
      () => g.fitLinearRegression(p.data, { ...o, noiseVariance: 0 }),
      RangeError,
      'noiseVariance',
      '`0`',
    ],
  ]);
  const pre = g.fitLinearRegression(p.data, o);
  assert.is(pre.estimator, 'paired');
  assert.is(pre.scale, 1, 'no rescale for the unbiased estimate');
  const cal = g.fitLinearRegression(p.data, { ...o, estimator: 'calibrated' });
  assert.is(cal.estimator, 'calibrated');
  assert.is(cal.batchGradients, pre.batchGradients, 'the same gradient budget');
});

test('paired kernel honours the byteOffset of caller views', () => {
  const d = { X: normals(60, 3), y: normals(20, 4), rows: 20, dim: 3 };
  const a = pairDifferences(d, { batchSize: 5, batches: 4, noiseVariance: 2, seed: 1 });
  const b = pairDifferences(
    { ...d, X: offsetView(d.X), y: offsetView(d.y) },
    { batchSize: 5, batches: 4, noiseVariance: 2, seed: 1 },
  );
  assertSameValues(b, a);
  const r = refP.lrPairedDiffs(d.X, 20, 3, { batchSize: 5, batches: 4, noiseVariance: 2, k0: 1, k1: 0 });
  assert.ok(maxAbsDiff(a, r) < 1e-13 * 10);
  const w = normals(3, 5);
  assertSameValues(
    g.estimateHessian({ ...d, X: offsetView(d.X) }, offsetView(w), {
      batchSize: 5,
      batches: 40,
      seed: 1,
      method: 'paired',
    }).hessian,
    g.estimateHessian(d, w, { batchSize: 5, batches: 40, seed: 1, method: 'paired' }).hessian,
  );
});

test.run();
