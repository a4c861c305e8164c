// Numeric edges (issue 20 class 7): noise variances and levels at the ends of the doubles
// (the smallest subnormal to 1.79e308, two levels a few ulps apart). Every estimator of
// estimateHessian and estimateCurvature returns a finite estimate or a RangeError naming the
// user's option (`noiseVariance` or `noiseLevels`), never Infinity or NaN and never an inner
// API's parameter. fast-check, fixed seed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as g from '../../src/node.js';
import { MIN_LEVEL_GAP } from '../../src/estimators/methods.js';
import { setup } from '../helpers/helpers.js';

await setup();

const dim = 3,
  rows = 20,
  n = 4,
  batches = 16;
const r = new g.Rng(1);
const data = { X: r.normals(new Float64Array(rows * dim)), y: r.normals(new Float64Array(rows)), rows, dim };
const w = new Float64Array(dim);
/** The mean half-squared-loss gradient of batch b (rows b n .. b n + n - 1, cyclic) with the noise on its targets. */
const oracle = ({ batch, noise }: { batch: number; noise: Float64Array }) => {
  const grad = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const row = (batch * n + i) % rows;
    let res = -(data.y[row]! + noise[i]!);
    for (let j = 0; j < dim; j++) res += data.X[row * dim + j]! * w[j]!;
    for (let j = 0; j < dim; j++) grad[j] += (data.X[row * dim + j]! * res) / n;
  }
  return grad;
};

const extreme = fc.constantFrom(
  5e-324,
  1e-320,
  1e-310,
  2.2250738585072014e-308,
  1e-300,
  1e-160,
  1e-20,
  1,
  64,
  1e20,
  1e160,
  1e300,
  1.7e308,
  1.7976931348623157e308,
);

async function outcome(opts: Record<string, unknown>, blame: string): Promise<void> {
  for (const run of [
    () => g.estimateHessian(data, w, { batchSize: n, batches, seed: 1, ...opts } as never),
    () => g.estimateCurvature(oracle as never, { dim, batchSize: n, batches, seed: 1, ...opts } as never),
  ]) {
    let est: { hessian: Float64Array; mean: Float64Array } | undefined;
    try {
      est = (await run()) as never;
    } catch (err) {
      assert.ok(err instanceof RangeError, `${JSON.stringify(opts)}: ${String(err)}`);
      assert.ok(
        (err as Error).message.includes(`\`${blame}\``),
        `${JSON.stringify(opts)}: names \`${blame}\`: ${(err as Error).message}`,
      );
      continue;
    }
    assert.ok(
      est!.hessian.every(Number.isFinite) && est!.mean.every(Number.isFinite),
      `${JSON.stringify(opts)}: a finite estimate`,
    );
  }
}

test("'paired', 'calibrated', 'debiased': noiseVariance at the ends of the doubles", async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('paired', 'calibrated', 'debiased'), extreme, async (method, tau2) => {
      await outcome({ method, noiseVariance: tau2 }, 'noiseVariance');
    }),
    { seed: 7, numRuns: 60 },
  );
});

test("'two-level': levels at the ends of the doubles and a few ulps apart", async () => {
  const close = fc
    .tuple(extreme, fc.integer({ min: 1, max: 2 ** 30 }))
    .map(([a, k]) => [a, Math.max(0, a - a * 2 ** -52 * k)] as [number, number]);
  const pair = fc.oneof(
    fc.tuple(extreme, extreme).filter(([a, b]) => a > b),
    close,
    extreme.map((a) => [a, 0] as [number, number]),
  );
  await fc.assert(
    fc.asyncProperty(pair, async (levels) => {
      await outcome({ method: 'two-level', noiseLevels: levels }, 'noiseLevels');
    }),
    { seed: 8, numRuns: 80 },
  );
});

test("'two-level': the stated gap limit: 2^-20 relative is taken, just below it is refused", () => {
  const a = 64;
  assert.ok(
    g
      .estimateHessian(data, w, {
        batchSize: n,
        batches,
        seed: 1,
        method: 'two-level',
        noiseLevels: [a, a * (1 - MIN_LEVEL_GAP)],
      })
      .hessian.every(Number.isFinite),
  );
  assert.throws(
    () =>
      g.estimateHessian(data, w, {
        batchSize: n,
        batches,
        seed: 1,
        method: 'two-level',
        noiseLevels: [a, a - 1e-9],
      }),
    /`noiseLevels` are too close/,
  );
  assert.throws(
    () =>
      g.estimateHessian(data, w, {
        batchSize: n,
        batches,
        seed: 1,
        method: 'two-level',
        noiseLevels: [1e-310, 0],
      }),
    /`noiseLevels` are too small/,
  );
  assert.throws(
    () =>
      g.estimateHessian(data, w, { batchSize: n, batches, seed: 1, method: 'paired', noiseVariance: 5e-324 }),
    /`noiseVariance` is too small/,
  );
});

test.run();
