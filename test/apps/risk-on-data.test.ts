// riskOnData / dualNorm, the public ground-truth risks: values on hand-made rows, and a
// table of bad inputs, each rejected with the right error class naming the parameter.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { setup } from '../helpers/helpers.js';

await setup();

const data = { X: new Float64Array([1, 0, 0, 1, 1, 1]), y: new Float64Array([1, 2, 0]), rows: 3, dim: 2 };
const w = new Float64Array([1, 1]);

test('riskOnData and dualNorm on hand-made rows', () => {
  // residuals r = Xw - y = [0, -1, 2]
  const r = g.riskOnData(data, w, 0.5, g.dualNorm(w, 'linf'));
  assert.is(r.meanSquared, 5 / 3);
  assert.is(r.meanAbs, 1);
  assert.is(r.adversarial, ((0 + 1) ** 2 + (1 + 1) ** 2 + (2 + 1) ** 2) / 3);
  assert.is(g.dualNorm(new Float64Array([3, -4]), 'l2'), 5);
  assert.is(g.dualNorm(new Float64Array([3, -4]), 'linf'), 7);
  assert.is(
    g.dualNorm(new Float64Array([1, 2]), 'mahalanobis', new Float64Array([4, 0, 0, 1])),
    Math.sqrt(8),
  );
});

test('bad inputs: TypeError or RangeError naming the parameter', () => {
  const cases: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    ['w not an array', () => g.dualNorm([1, 2] as never, 'l2'), TypeError, /`w`/],
    ['w with NaN', () => g.dualNorm(new Float64Array([1, NaN]), 'l2'), RangeError, /`w`/],
    ['unknown norm', () => g.dualNorm(w, 'l1' as never), RangeError, /`norm`.*'l2', 'linf', 'mahalanobis'/],
    ['mahalanobis without H', () => g.dualNorm(w, 'mahalanobis'), TypeError, /`H`/],
    ['H of the wrong size', () => g.dualNorm(w, 'mahalanobis', new Float64Array(3)), RangeError, /`H`/],
    [
      'H indefinite',
      () => g.dualNorm(w, 'mahalanobis', new Float64Array([-1, 0, 0, -1])),
      RangeError,
      /positive semi-definite/,
    ],
    ['data not an object', () => g.riskOnData(null as never, w, 0, 1), TypeError, /`data`/],
    [
      'X too short',
      () => g.riskOnData({ ...data, X: new Float64Array(5) }, w, 0, 1),
      RangeError,
      /`data\.X`/,
    ],
    ['w of the wrong length', () => g.riskOnData(data, new Float64Array(3), 0, 1), RangeError, /`w`/],
    ['eps negative', () => g.riskOnData(data, w, -1, 1), RangeError, /`eps`/],
    ['dual infinite', () => g.riskOnData(data, w, 0, Infinity), RangeError, /`dual`/],
    [
      'overflowing residuals',
      () => g.riskOnData({ ...data, y: new Float64Array([1e200, 0, 0]) }, w, 0, 1),
      RangeError,
      /not representable/,
    ],
  ];
  for (const [name, call, Kind, message] of cases) {
    let caught: unknown;
    try {
      call();
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof Kind, `${name}: expected ${Kind.name}, got ${String(caught)}`);
    assert.match((caught as Error).message, message, name);
  }
});

test.run();
