// Unknown option keys are refused in every options bag of the library: a TypeError that
// names the key, where it was passed, and the closest known key (a typo such as
// `noiseVarianse` would otherwise fall back to the default silently, and `method: 'paired'`
// would run the calibrated estimator). A table over every bag, a check that every known key
// is still accepted, and a scan of the sources for options bags read without the check.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import * as g from '../../src/node.js';
import { checkOptionKeys, closestKey, editDistance } from '../../src/core/validate.js';
import { setup } from '../helpers/helpers.js';

test.before(setup);

const normals = (n: number, seed: number) => new g.Rng(seed).normals(new Float64Array(n));
const data = () => ({ X: normals(200 * 3, 1), y: normals(200, 2), rows: 200, dim: 3 });
const A2 = () => new Float64Array([2, 1, 1, 3]);

/** [where, call with one unknown key, the key, the known key it must suggest] */
type Row = [string, () => unknown, string, string];

function rows(): Row[] {
  const d = data(),
    w = new Float64Array(3);
  const o = { batchSize: 8, batches: 10, seed: 1 };
  const acc = new g.GradientCovariance(2).addBatch(normals(20, 3));
  const est = g.estimateHessian(d, w, { ...o, noiseVariance: 7 });
  const input = {
    mean: est.mean,
    covariance: est.hessian,
    batchSize: 8,
    noiseVariance: 7,
    labelNoiseVariance: 1,
  };
  return [
    [
      'calibratedNoiseVariance',
      () => g.calibratedNoiseVariance(8, { los: 'mean-squared' } as never),
      'los',
      'loss',
    ],
    ['GradientCovariance.covariance', () => acc.covariance({ scal: 2 } as never), 'scal', 'scale'],
    [
      'linearRegressionGradients',
      () => g.linearRegressionGradients(d, w, { ...o, noiseVariance: 1, replacment: false } as never),
      'replacment',
      'replacement',
    ],
    [
      'estimateHessian (typo in an optional key)',
      () => g.estimateHessian(d, w, { ...o, noiseVarianse: 1 } as never),
      'noiseVarianse',
      'noiseVariance',
    ],
    [
      'estimateHessian (a key it does not have)',
      () => g.estimateHessian(d, w, { ...o, estimator: 'paired' } as never),
      'estimator',
      'stream',
    ],
    [
      'estimateHessian (a typo in method)',
      () => g.estimateHessian(d, w, { ...o, methd: 'paired' } as never),
      'methd',
      'method',
    ],
    [
      'estimateHessian paired (typo)',
      () => g.estimateHessian(d, w, { ...o, method: 'paired', noiseLevel: [2, 1] } as never),
      'noiseLevel',
      'noiseLevels',
    ],
    [
      'targetNoise',
      () => g.targetNoise({ seed: 1, batch: 0, batchSize: 2, noiseVariance: 1, drawn: 1 } as never),
      'drawn',
      'draw',
    ],
    [
      'estimateHessian (case)',
      () => g.estimateHessian(d, w, { ...o, firstbatch: 2 } as never),
      'firstbatch',
      'firstBatch',
    ],
    [
      'curvatureBlocks',
      () => g.curvatureBlocks({ dim: 2, ...o, blockBatchs: 4 } as never),
      'blockBatchs',
      'blockBatches',
    ],
    [
      'finishCurvature',
      () => g.finishCurvature({ dim: 2, ...o, blockbatches: 4 } as never, []),
      'blockbatches',
      'blockBatches',
    ],
    ['choleskyFactor', () => g.choleskyFactor(A2(), 2, { rige: 1 } as never), 'rige', 'ridge'],
    [
      'choleskySolve',
      () => g.choleskySolve(A2(), 2, new Float64Array(2), { ridg: 1 } as never),
      'ridg',
      'ridge',
    ],
    ['Preconditioner', () => new g.Preconditioner(A2(), 2, { lambda: 1 } as never), 'lambda', 'ridge'],
    [
      'fitLinearRegression',
      () =>
        g.fitLinearRegression(d, { method: 'gd', steps: 1, batchSize: 8, seed: 1, tolerence: 0.5 } as never),
      'tolerence',
      'tolerance',
    ],
    ['estimateRisk options', () => g.estimateRisk(w, input, { epsilon: [0.1] } as never), 'epsilon', 'eps'],
    [
      'estimateRisk input',
      () => g.estimateRisk(w, { ...input, labelNoiseVarianse: 2 } as never),
      'labelNoiseVarianse',
      'labelNoiseVariance',
    ],
    [
      'syntheticRegression',
      () => g.syntheticRegression({ dim: 3, rows: 10, seed: 1, conditon: 10 } as never),
      'conditon',
      'condition',
    ],
    ['operatorNorm', () => g.operatorNorm(A2(), 2, { maxiter: 5 } as never), 'maxiter', 'maxIter'],
    [
      'operatorNormDiff',
      () => g.operatorNormDiff(A2(), A2(), 2, { tolerance: 1e-6 } as never),
      'tolerance',
      'tol',
    ],
    ['relativeError', () => g.relativeError(A2(), A2(), 2, { sead: 1 } as never), 'sead', 'seed'],
    ['extremeEigenvalues', () => g.extremeEigenvalues(A2(), 2, { Tol: 1e-6 } as never), 'Tol', 'tol'],
  ];
}

test('every options bag refuses an unknown key with a TypeError naming it and the closest known key', () => {
  const acc0 = new g.GradientCovariance(2).addBatch(normals(20, 3));
  const before = acc0.toBytes();
  for (const [where, call, key, near] of rows()) {
    let caught: unknown;
    try {
      call();
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof TypeError, `${where}: expected a TypeError, got ${String(caught)}`);
    const msg = (caught as Error).message;
    assert.ok(msg.includes('`' + key + '`'), `${where}: does not name the key: ${msg}`);
    assert.ok(msg.includes('did you mean `' + near + '`'), `${where}: does not suggest \`${near}\`: ${msg}`);
  }
  assert.equal(acc0.toBytes(), before, 'nothing changed');
  acc0.dispose();
});

test('init() refuses an unknown option key too', async () => {
  let caught: unknown;
  try {
    await g.init(undefined, { buidl: 'simd' } as never);
  } catch (err) {
    caught = err;
  }
  assert.instance(caught, TypeError);
  assert.match((caught as Error).message, /`buidl`.*did you mean `build`/);
});

test('every known key is still accepted (the lists match what each function reads)', () => {
  const d = data(),
    w = new Float64Array(3);
  g.calibratedNoiseVariance(8, { baseNoiseVariance: 1, loss: 'mean-squared' });
  g.linearRegressionGradients(d, w, {
    batchSize: 4,
    batches: 2,
    noiseVariance: 1,
    seed: 1,
    stream: 1,
    replacement: false,
    firstBatch: 3,
  });
  const est = g.estimateHessian(d, w, {
    batchSize: 4,
    batches: 20,
    seed: 1,
    stream: 1,
    replacement: true,
    firstBatch: 3,
    baseNoiseVariance: 1,
  });
  g.estimateHessian(d, w, { batchSize: 4, batches: 20, seed: 1, noiseVariance: 3 });
  const acc = new g.GradientCovariance(2).addBatch(normals(20, 3));
  acc.covariance({ scale: 2 });
  acc.dispose();
  g.choleskyFactor(A2(), 2, { ridge: 1 });
  g.choleskySolve(A2(), 2, new Float64Array(2), { ridge: 1 });
  new g.Preconditioner(A2(), 2, { ridge: 1 }).dispose();
  const H = g.secondMomentMatrix(d);
  g.fitLinearRegression(d, {
    method: 'preconditioned',
    steps: 2,
    learningRate: 1,
    batchSize: 8,
    batches: 50,
    noiseVariance: 8,
    seed: 1,
    ridge: 1e-3,
    tolerance: 0.5,
    initial: new Float64Array(3),
    snapshotEvery: 1,
    debias: false,
    rescale: false,
  });
  g.fitLinearRegression(d, {
    method: 'gd',
    steps: 1,
    batchSize: 8,
    seed: 1,
    baseNoiseVariance: 0,
    hessian: H,
  });
  g.estimateRisk(
    w,
    {
      mean: est.mean,
      covariance: est.hessian,
      batchSize: 4,
      noiseVariance: 3,
      labelNoiseVariance: 1,
      hessian: H,
    },
    { eps: [0.1], ridge: 1e-6 },
  );
  g.syntheticRegression({ dim: 3, rows: 10, condition: 10, noiseVariance: 1, inputs: 'uniform', seed: 1 });
  g.operatorNorm(A2(), 2, { tol: 1e-6, maxIter: 100, method: 'power', seed: 3 });
  g.estimateHessian(d, w, {
    batchSize: 4,
    batches: 20,
    seed: 1,
    method: 'two-level',
    noiseLevels: [4, 1],
    baseNoiseVariance: 0,
  });
  g.estimateHessian(d, w, { batchSize: 4, batches: 20, seed: 1, method: 'paired', noiseVariance: 2 });
  g.fitLinearRegression(d, {
    method: 'preconditioned',
    steps: 1,
    batchSize: 8,
    batches: 50,
    seed: 1,
    estimator: 'calibrated',
  });
  g.targetNoise({ seed: 1, stream: 0, batch: 0, draw: 1, batchSize: 2, outputs: 2, noiseVariance: 1 });
  g.extremeEigenvalues(A2(), 2, { tol: 1e-6, maxIter: 100, seed: 3 });
});

test('checkOptionKeys: edit distance with transpositions, case-insensitive suggestions, a message that can fail', () => {
  assert.is(editDistance('noiseVarianse', 'noiseVariance'), 1);
  assert.is(editDistance('tolerence', 'tolerance'), 1);
  assert.is(editDistance('ab', 'ba'), 1);
  assert.is(editDistance('', 'seed'), 4);
  assert.is(closestKey('firstbatch', ['batches', 'firstBatch']), 'firstBatch');
  assert.is(closestKey('x', []), undefined);
  checkOptionKeys({ a: 1, b: undefined }, ['a', 'b']); // known keys, even undefined ones, pass
  assert.throws(
    () => checkOptionKeys({ c: 1 }, []),
    (e: Error) => e instanceof TypeError && /`c`.*takes no options/.test(e.message),
  );
});

test('no options bag in the library is read without the unknown-key check (source scan)', () => {
  // every checkOptions(name, value, known) call passes the known keys, in every source file
  // (the worker pool and the distributed trainer included)
  const dir = new URL('../../src/', import.meta.url);
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter(
    (f) => f.endsWith('.ts') && !f.startsWith('reference'),
  );
  let calls = 0;
  for (const f of files) {
    const text = readFileSync(new URL(f, dir), 'utf8');
    for (const m of text.matchAll(/checkOptions\(([^)]*)\)/g)) {
      if (/export function checkOptions/.test(text.slice(Math.max(0, m.index! - 30), m.index!))) continue;
      calls++;
      assert.ok(
        m[1]!.split(',').length >= 3,
        `${f}: checkOptions(${m[1]}) reads an options bag without its known keys`,
      );
    }
  }
  assert.ok(calls >= 8, `found ${calls} options bags`);
});

test.run();
