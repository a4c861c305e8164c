// Size arithmetic, swept: every size-scaling parameter of every public entry point of the
// core library, through 2^24, 89,478,486 (24 x it wraps 2^31), 2^28, 2^29, 2^31 - 1 and
// 2^32, with small and with large other dimensions. Each call must either work (checked
// on the result, or, where the work is streamed and would take minutes, on the complete
// up-front validation and memory plan) or throw a RangeError that names the parameter,
// before anything changes: after every rejection the module is fully usable, every live
// object is bit-identical, and the bytes held by live wasm blocks are what they were.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { wasmLiveBytes, MAX_BLOCK_BYTES, byteCount, checkBlocks, wasm } from '../../src/core/wasm.js';
import { prepareEstimate, oracleScratchBytes } from '../../src/estimators/oracle.js';
import { covarianceScratchBytes, MAX_COVARIANCE_DIM } from '../../src/core/covariance.js';
import { setup } from '../helpers/helpers.js';

test.before(setup);

const SIZES = [2 ** 24, 89_478_486, 2 ** 28, 2 ** 29, 2 ** 31 - 1, 2 ** 32] as const;

const normals = (n: number, seed: number) => new g.Rng(seed).normals(new Float64Array(n));
const small = () => ({ X: normals(40 * 2, 1), y: normals(40, 2), rows: 40, dim: 2 });
const large = () => ({ X: normals(64 * 256, 3), y: normals(64, 4), rows: 64, dim: 256 });

/** Live objects whose state must not change across rejected calls, and a fingerprint of them. */
function liveSet() {
  const acc = new g.GradientCovariance(5).addBatch(normals(5 * 40, 9));
  const big = new g.GradientCovariance(5).addBatch(new Float64Array([1e300, 2, 3, 4, 5, -1e300, 0, 0, 1, 1]));
  const ds = new g.RegressionDataset(small());
  const rng = new g.Rng(11).seek(1000);
  const P = new g.Preconditioner(new Float64Array([4, 1, 1, 3]), 2);
  const est = () =>
    g.estimateHessian(ds, new Float64Array(2), { batchSize: 8, batches: 40, seed: 5 }).hessian;
  const fingerprint = () =>
    [
      Array.from(acc.toBytes()).join(','),
      Array.from(big.toBytes()).join(','),
      String(rng.position),
      Array.from(est()).join(','),
      Array.from(P.apply(new Float64Array([1, 2]))).join(','),
    ].join('|');
  return {
    fingerprint,
    dispose: () => {
      acc.dispose();
      big.dispose();
      ds.dispose();
      P.dispose();
    },
    rng,
  };
}

/** The module still works: fresh objects give the results of a fresh start. */
function usable(): string {
  const a = new g.GradientCovariance(8).addBatch(normals(8 * 300, 21));
  const c = a.covariance();
  a.dispose();
  const h = g.estimateHessian(small(), new Float64Array(2), { batchSize: 16, batches: 50, seed: 2 }).hessian;
  const z = new g.Rng(3).normals(new Float64Array(20000));
  return [c[0], c[63], h[0], h[3], z[0], z[19999]].join(',');
}

type Outcome = 'reject' | 'ok' | 'plan';
interface Case {
  entry: string;
  param: string;
  value: number;
  other: string;
  call: () => unknown;
  expect: Outcome;
  check?: (r: unknown) => void;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const v of SIZES) {
    // GradientCovariance(dim): the co-moment is one heap block, dim <= 11584
    out.push({
      entry: 'GradientCovariance',
      param: 'dim',
      value: v,
      other: '-',
      call: () => new g.GradientCovariance(v),
      expect: 'reject',
    });
    // addBatch(G, rows): rows beyond G
    out.push({
      entry: 'GradientCovariance.addBatch',
      param: 'rows',
      value: v,
      other: 'dim 5',
      expect: 'reject',
      call: () => {
        const a = new g.GradientCovariance(5);
        try {
          return a.addBatch(new Float64Array(10), v);
        } finally {
          a.dispose();
        }
      },
    });
    for (const [other, data] of [
      ['dim 2', small],
      ['dim 256', large],
    ] as const) {
      const d = data(),
        w = new Float64Array(d.dim);
      // batchSize: the oracle's scratch, 24 batchSize bytes, must be one heap block (batchSize <= 44,739,240)
      const scratchOk = oracleScratchBytes(d.rows, v, true) <= MAX_BLOCK_BYTES && v <= 2 ** 31 - 1;
      const cheap = v * d.dim <= 2 ** 22; // 2^24 rows per batch take seconds: planned, not run
      out.push({
        entry: 'linearRegressionGradients',
        param: 'batchSize',
        value: v,
        other,
        expect: scratchOk ? (cheap ? 'ok' : 'plan') : 'reject',
        call: () =>
          scratchOk && !cheap
            ? prepareEstimate(d, w, { batchSize: v, batches: 2, seed: 1 })
            : g.linearRegressionGradients(d, w, { batchSize: v, batches: 1, noiseVariance: 1, seed: 1 }),
        check: scratchOk && cheap ? (G) => assert.ok((G as Float64Array).every(Number.isFinite)) : undefined,
      });
      out.push({
        entry: 'linearRegressionGradients',
        param: 'batchSize',
        value: v,
        other: `${other}, without replacement`,
        expect: 'reject',
        call: () =>
          g.linearRegressionGradients(d, w, {
            batchSize: v,
            batches: 1,
            noiseVariance: 1,
            seed: 1,
            replacement: false,
          }),
      });
      // batches: the output, 8 batches dim bytes, is one heap block (2^24 x dim 2 fits: 256 MiB of
      // gradients, 2^24 oracle calls, too slow to run here)
      out.push({
        entry: 'linearRegressionGradients',
        param: 'batches',
        value: v,
        other,
        expect: byteCount(v * d.dim, 8) <= MAX_BLOCK_BYTES ? ('skip' as Outcome) : 'reject',
        call: () =>
          g.linearRegressionGradients(d, w, { batchSize: 2, batches: v, noiseVariance: 1, seed: 1 }),
      });
      // firstBatch: batch indices stay below 2^32
      const fbOk = v + 3 <= 2 ** 32;
      out.push({
        entry: 'linearRegressionGradients',
        param: 'firstBatch',
        value: v,
        other,
        expect: fbOk ? 'ok' : 'reject',
        call: () =>
          g.linearRegressionGradients(d, w, {
            batchSize: 2,
            batches: 3,
            noiseVariance: 1,
            seed: 1,
            firstBatch: v,
          }),
        check: (G) => assert.is((G as Float64Array).length, 3 * d.dim),
      });
      // estimateHessian: batchSize as above; batches are streamed (any count up to 2^31 - 1 is planned, not run)
      out.push({
        entry: 'estimateHessian',
        param: 'batchSize',
        value: v,
        other,
        expect: scratchOk ? (cheap ? 'ok' : 'plan') : 'reject',
        call: () =>
          scratchOk && !cheap
            ? prepareEstimate(d, w, { batchSize: v, batches: 2, seed: 1 })
            : g.estimateHessian(d, w, { batchSize: v, batches: 2, seed: 1 }),
        check: (r) =>
          assert.ok(
            'hessian' in (r as object) ? (r as g.HessianEstimate).hessian.every(Number.isFinite) : true,
          ),
      });
      out.push({
        entry: 'estimateHessian',
        param: 'batches',
        value: v,
        other,
        expect: v <= 2 ** 31 - 1 ? 'plan' : 'reject',
        call: () => prepareEstimate(d, w, { batchSize: 2, batches: v, seed: 1 }),
      });
      out.push({
        entry: 'estimateHessian (run)',
        param: 'batches',
        value: v,
        other,
        expect: 'reject',
        call: () => g.estimateHessian(d, w, { batchSize: 2, batches: v, seed: 1, firstBatch: 2 ** 32 - 1 }),
      });
      // the data's declared sizes must match X
      out.push({
        entry: 'RegressionDataset',
        param: 'data.X',
        value: v,
        other,
        expect: 'reject',
        call: () => new g.RegressionDataset({ ...d, rows: v }),
      });
      out.push({
        entry: 'RegressionDataset',
        param: 'data.X',
        value: v,
        other: `${other} (dim)`,
        expect: 'reject',
        call: () => new g.RegressionDataset({ ...d, dim: v }),
      });
      // fitLinearRegression: batchSize (its H_hat estimate), steps (at most 1e9), batches
      out.push({
        entry: 'fitLinearRegression',
        param: 'batchSize',
        value: v,
        other,
        expect: scratchOk ? (cheap ? 'ok' : ('skip' as Outcome)) : 'reject',
        call: () =>
          g.fitLinearRegression(d, {
            method: 'preconditioned',
            steps: 1,
            batchSize: v,
            batches: 2,
            seed: 1,
            ridge: 1,
          }),
      });
      out.push({
        entry: 'fitLinearRegression',
        param: 'steps',
        value: v,
        other,
        expect: v <= 1e9 ? 'ok' : 'reject',
        call: () =>
          g.fitLinearRegression(d, { method: 'gd', steps: v, batchSize: 2, seed: 1, tolerance: 0.9 }),
      });
      out.push({
        entry: 'fitLinearRegression',
        param: 'batches',
        value: v,
        other,
        expect: v <= 2 ** 31 - 1 ? ('skip' as Outcome) : 'reject',
        call: () =>
          g.fitLinearRegression(d, { method: 'preconditioned', steps: 1, batchSize: 2, batches: v, seed: 1 }),
      });
    }
    // dense matrices: dim x dim doubles in one block (dim <= 11585); the dim is checked before the matrix
    out.push({
      entry: 'choleskyFactor',
      param: 'dim',
      value: v,
      other: 'A of dim 2',
      call: () => g.choleskyFactor(new Float64Array(4), v),
      expect: 'reject',
    });
    out.push({
      entry: 'choleskySolve',
      param: 'dim',
      value: v,
      other: 'A of dim 2',
      call: () => g.choleskySolve(new Float64Array(4), v, new Float64Array(2)),
      expect: 'reject',
    });
    out.push({
      entry: 'Preconditioner',
      param: 'dim',
      value: v,
      other: 'H of dim 2',
      call: () => new g.Preconditioner(new Float64Array(4), v),
      expect: 'reject',
    });
    out.push({
      entry: 'operatorNorm',
      param: 'dim',
      value: v,
      other: 'A of dim 2',
      call: () => g.operatorNorm(new Float64Array(4), v),
      expect: 'reject',
    });
    out.push({
      entry: 'operatorNorm',
      param: 'maxIter',
      value: v,
      other: 'dim 2',
      expect: v <= 2 ** 31 - 1 ? 'ok' : 'reject',
      call: () => g.operatorNorm(new Float64Array([2, 1, 1, 3]), 2, { method: 'power', maxIter: v }),
      check: (r) =>
        assert.ok(
          Math.abs((r as { value: number }).value - (5 + Math.sqrt(5)) / 2) < 1e-8,
          `value ${(r as { value: number }).value}`,
        ),
    });
    out.push({
      entry: 'syntheticRegression',
      param: 'dim',
      value: v,
      other: 'rows 10',
      call: () => g.syntheticRegression({ dim: v, rows: 10, seed: 1 }),
      expect: 'reject',
    });
    out.push({
      entry: 'syntheticRegression',
      param: 'rows',
      value: v,
      other: 'dim 16',
      expect: v * 16 * 8 <= MAX_BLOCK_BYTES ? ('skip' as Outcome) : 'reject',
      call: () => g.syntheticRegression({ dim: 16, rows: v, seed: 1 }),
    });
    // counters and pure arithmetic: any safe size is fine
    out.push({
      entry: 'Rng.seek',
      param: 'position',
      value: v,
      other: '-',
      expect: 'ok',
      call: () => new g.Rng(1).seek(v).normals(new Float64Array(3)),
      check: (z) => assert.ok((z as Float64Array).every(Number.isFinite)),
    });
    out.push({
      entry: 'Rng',
      param: 'stream',
      value: v,
      other: '-',
      expect: v < 2 ** 32 ? 'ok' : 'reject',
      call: () => new g.Rng(1, v).normals(new Float64Array(3)),
    });
    out.push({
      entry: 'calibratedNoiseVariance',
      param: 'batchSize',
      value: v,
      other: '-',
      expect: 'ok',
      call: () => g.calibratedNoiseVariance(v),
      check: (t) => assert.is(t, v),
    });
  }
  return out;
}

test('size sweep: every size parameter of every entry point works or is refused up front, naming it, changing nothing', () => {
  const baseline = usable();
  const live = liveSet();
  const before = live.fingerprint();
  const liveBytes = wasmLiveBytes();
  const table = cases();
  let rejected = 0,
    ran = 0,
    planned = 0;
  for (const c of table) {
    if (c.expect === 'skip') continue;
    const where = `${c.entry} ${c.param} = ${c.value} (${c.other})`;
    let result: unknown, caught: unknown;
    const t0 = performance.now();
    try {
      result = c.call();
    } catch (err) {
      caught = err;
    }
    const ms = performance.now() - t0;
    if (ms > 1000) console.log(`  (${where}: ${(ms / 1000).toFixed(1)} s)`);
    if (c.expect === 'reject') {
      assert.ok(
        caught instanceof RangeError,
        `${where}: expected a RangeError, got ${caught === undefined ? 'a result' : String(caught)}`,
      );
      const msg = (caught as Error).message;
      assert.ok(
        msg.includes('`' + c.param + '`'),
        `${where}: the message does not name \`${c.param}\`: ${msg}`,
      );
      assert.not.match(msg, /Invalid typed array length|out of bounds|unreachable|abort/, `${where}: ${msg}`);
      rejected++;
    } else {
      assert.is(caught, undefined, `${where}: ${String(caught)}`);
      if (c.check) c.check(result);
      if (result instanceof g.GradientCovariance) result.dispose();
      if (c.expect === 'plan') planned++;
      else ran++;
    }
    assert.is(wasmLiveBytes(), liveBytes, `${where}: wasm blocks leaked or freed`);
    assert.is(live.fingerprint(), before, `${where}: a live object changed`);
  }
  assert.is(usable(), baseline, 'the module gives the same results as before the sweep');
  live.dispose();
  // every listed parameter was swept through every size
  assert.ok(rejected > 80 && ran > 20 && planned > 5, `rejected ${rejected}, ran ${ran}, planned ${planned}`);
});

test('byte counts are 53-bit: the documented bounds are exact and products never wrap', () => {
  assert.is(byteCount(89_478_486, 24), 2_147_483_664); // 24 n past 2^31: no wrap to a negative size
  assert.is(byteCount(2 ** 40, 2 ** 20), Infinity); // past 2^53: refused as infinite, never rounded
  assert.is(oracleScratchBytes(10, 44_739_240, true) <= MAX_BLOCK_BYTES, true);
  assert.is(oracleScratchBytes(10, 44_739_241, true) <= MAX_BLOCK_BYTES, false);
  assert.is(
    8 * Math.ceil(MAX_COVARIANCE_DIM / 4) * 4 * Math.ceil(MAX_COVARIANCE_DIM / 4) * 4 <= MAX_BLOCK_BYTES,
    true,
  );
  assert.is(8 * (MAX_COVARIANCE_DIM + 4) ** 2 <= MAX_BLOCK_BYTES, false);
  assert.throws(
    () => checkBlocks([MAX_BLOCK_BYTES + 1], '`x` = 1', 'a test block'),
    (e: Error) => e instanceof RangeError && /`x` = 1/.test(e.message),
  );
  assert.throws(() => checkBlocks([NaN], '`x` = 1', 'a test block'), RangeError);
  assert.throws(() => checkBlocks([-8], '`x` = 1', 'a test block'), RangeError);
});

test("the size formulas mirrored in TS equal the kernels' own (where the kernels cannot wrap)", () => {
  const kern = wasm();
  for (const dim of [1, 3, 4, 5, 64, 255, 1000, 11584])
    assert.is(covarianceScratchBytes(dim), kern.covScratchBytes(dim) >>> 0, `dim ${dim}`);
  for (const [rows, n, rep] of [
    [10, 1, true],
    [10, 7, false],
    [1000, 4096, true],
    [2 ** 20, 2 ** 20, false],
  ] as const) {
    assert.is(
      oracleScratchBytes(rows, n, rep),
      kern.lrGradientsScratchBytes(rows, n, rep ? 1 : 0) >>> 0,
      `rows ${rows} n ${n}`,
    );
  }
});

test('89,478,486 (issue: 24 n wraps) and 2^28 x 16 batches are refused naming batchSize; the module and live accumulators survive', () => {
  const acc = new g.GradientCovariance(3).addBatch(new Float64Array([0.97, 0.46, 0.75, 1, 2, 3]));
  const blob = acc.toBytes();
  for (const [n, m] of [
    [89_478_486, 2],
    [2 ** 28, 16],
    [2 ** 31 - 1, 2],
  ] as const) {
    assert.throws(
      () => g.estimateHessian(small(), new Float64Array(2), { batchSize: n, batches: m, seed: 1 }),
      (e: Error) =>
        e instanceof RangeError && e.message.includes('`batchSize`') && /44,739,240/.test(e.message),
    );
  }
  assert.equal(acc.toBytes(), blob);
  assert.is(usable(), usable());
  acc.dispose();
});

test('a dim above the dense limit: the bytes needed against the 4 GiB memory and the sketch, one message for every entry point', async () => {
  await setup();
  const d = MAX_COVARIANCE_DIM + 1;
  const shape = (name: string) =>
    new RegExp(
      `^invalid argument: \`${name.replace('.', '\\.')}\` must be at most ${MAX_COVARIANCE_DIM} for .*: at dim ${d} it needs 1\\.00 GiB \\(\\d+ B\\) of WebAssembly memory in one block, .*\\(${MAX_BLOCK_BYTES} B\\) of the 4 GiB of WebAssembly memory\\. For a larger dim use the sketch instead: \`sketch: \\{ size \\}\` .*docs/sketch\\.md.*Value: \`${d}\`\\.$`,
    );
  const live = wasmLiveBytes();
  assert.throws(
    () => new g.GradientCovariance(d),
    (e: Error) => e instanceof RangeError && shape('dim').test(e.message),
  );
  const data = { X: new Float64Array(2 * d), y: new Float64Array(2), rows: 2, dim: d };
  assert.throws(
    () => g.estimateHessian(data, new Float64Array(d), { batchSize: 1, batches: 2, seed: 1 }),
    (e: Error) => e instanceof RangeError && shape('data.dim').test(e.message),
  );
  let err: unknown;
  try {
    await g.estimateCurvature(() => new Float64Array(d), { dim: d, batchSize: 1, batches: 2, seed: 1 });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof RangeError && shape('dim').test(err.message), String(err));
  assert.is(wasmLiveBytes(), live, 'nothing allocated');
});

test.run();
