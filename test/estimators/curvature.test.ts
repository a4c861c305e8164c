// estimateCurvature (any gradient oracle), targetNoise and PairedGradients: the oracle API
// against the built-in oracle (same gradients, same covariance bits), sync and async
// oracles, bounded concurrency, clear errors naming the batch, and atomicity.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import * as refG from '../../src/reference/gradients.js';
import { fillNormal } from '../../src/reference/philox.js';
import { setup, maxAbs, maxAbsDiff, normals, assertSameValues } from '../helpers/helpers.js';

test.before(setup);

function problem(rows: number, dim: number, seed: number) {
  return {
    data: { X: normals(rows * dim, seed, 1), y: normals(rows, seed, 2), rows, dim },
    w: normals(dim, seed, 3),
  };
}

/** The built-in oracle as a user oracle: batch b of linearRegressionGradients (its noise is request.noise, drawn internally). */
function builtIn(data: g.RegressionData, w: Float64Array, n: number, seed: number) {
  return (req: g.GradientRequest) =>
    g.linearRegressionGradients(data, w, {
      batchSize: n,
      batches: 1,
      firstBatch: req.batch,
      noiseVariance: req.noiseVariance,
      seed,
    });
}

test("the built-in oracle through estimateCurvature gives estimateHessian's covariance bits (calibrated, two-level, debiased; dims around the SIMD width)", async () => {
  for (const [rows, dim, n, m] of [
    [300, 1, 8, 5],
    [300, 3, 8, 300],
    [400, 5, 16, 600],
    [200, 9, 4, 40],
  ] as const) {
    const { data, w } = problem(rows, dim, rows + dim);
    const o = { batchSize: n, batches: m, seed: 4 };
    const cal = await g.estimateCurvature(builtIn(data, w, n, 4), { ...o, dim });
    const want = g.estimateHessian(data, w, o);
    assertSameValues(cal.hessian, want.hessian, `calibrated dim ${dim} m ${m}`);
    assertSameValues(cal.mean, want.mean);
    assert.is(cal.noiseVariance, want.noiseVariance);
    const deb = await g
      .estimateCurvature(builtIn(data, w, n, 4), { ...o, dim, method: 'debiased', noiseVariance: 0.5 * n })
      .catch((e: Error) => e);
    const debWant = (() => {
      try {
        return g.estimateHessian(data, w, { ...o, method: 'debiased', noiseVariance: 0.5 * n });
      } catch (e) {
        return e as Error;
      }
    })();
    if (debWant instanceof Error) assert.ok(deb instanceof Error);
    else assertSameValues((deb as g.CurvatureEstimate).hessian, debWant.hessian, `debiased dim ${dim}`);
    if (m >= 4) {
      // two-level: batches [0, ceil(m/2)) at tau_1, the rest at tau_2; the oracle sees each level's variance
      const two = await g.estimateCurvature(builtIn(data, w, n, 4), {
        ...o,
        dim,
        method: 'two-level',
        noiseLevels: [2 * n, 1],
      });
      const twoWant = g.estimateHessian(data, w, { ...o, method: 'two-level', noiseLevels: [2 * n, 1] });
      assertSameValues(two.hessian, twoWant.hessian, `two-level dim ${dim}`);
    }
  }
});

test("request.noise is the built-in oracle's noise (draw 0) and targetNoise's; draw 1 is independent", async () => {
  const { data, w } = problem(100, 4, 8);
  const n = 10,
    tau2 = 7;
  const seen: g.GradientRequest[] = [];
  await g.estimateCurvature(
    (req) => {
      seen.push({ ...req, noise: req.noise.slice() });
      return new Float64Array(4).fill(req.batch + req.draw);
    },
    {
      dim: 4,
      batchSize: n,
      batches: 3,
      seed: 9,
      stream: 2,
      method: 'paired',
      noiseVariance: tau2,
      concurrency: 1,
    },
  );
  assert.equal(
    seen.map((r) => [r.batch, r.draw]),
    [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [2, 0],
      [2, 1],
    ],
  );
  for (const r of seen) {
    assertSameValues(
      r.noise,
      g.targetNoise({ seed: 9, stream: 2, batch: r.batch, draw: r.draw, batchSize: n, noiseVariance: tau2 }),
    );
    assert.is(r.noiseVariance, tau2);
    // against the plain-TS Philox reference (Math.log/cos: a few ulp)
    const z = fillNormal(
      new Float64Array(n),
      { k0: 9, k1: 0, domain: r.draw === 0 ? 0x80000002 : 0x80000003, stream: 2 },
      r.batch * 2 ** 32,
    );
    assert.ok(
      maxAbsDiff(
        r.noise,
        z.map((v) => Math.sqrt(tau2) * v),
      ) <
        1e-13 * Math.sqrt(tau2) * 10,
    );
  }
  // the noise the built-in oracle adds: its gradient at request.noise (computed in TS) matches
  const xi = g.targetNoise({ seed: 9, batch: 5, batchSize: n, noiseVariance: tau2 });
  const idx = refG.batchIndices(100, n, 5, 9, 0, 0, true);
  const mine = new Float64Array(4);
  for (let j = 0; j < n; j++) {
    const row = idx[j]!;
    let r = -(data.y[row]! + xi[j]!);
    for (let c = 0; c < 4; c++) r += data.X[row * 4 + c]! * w[c]!;
    for (let c = 0; c < 4; c++) mine[c]! += (r * data.X[row * 4 + c]!) / n;
  }
  const theirs = g.linearRegressionGradients(data, w, {
    batchSize: n,
    batches: 1,
    firstBatch: 5,
    noiseVariance: tau2,
    seed: 9,
  });
  assert.ok(maxAbsDiff(mine, theirs) < 1e-12 * (1 + maxAbs(theirs)));
  assert.not.equal(Array.from(seen[0]!.noise), Array.from(seen[1]!.noise));
});

test('targetNoise: outputs are row-major counters (prefix-stable); zero variance gives zeros; chunks of 8192 agree', () => {
  const a = g.targetNoise({ seed: 3, batch: 2, batchSize: 6, outputs: 3, noiseVariance: 4 });
  const b = g.targetNoise({ seed: 3, batch: 2, batchSize: 18, noiseVariance: 4 });
  assertSameValues(a, b);
  assert.equal(
    Array.from(g.targetNoise({ seed: 3, batch: 2, batchSize: 6, noiseVariance: 0 })),
    new Array(6).fill(0),
  );
  const big = g.targetNoise({ seed: 1, batch: 0, batchSize: 20000, noiseVariance: 1 });
  const z = fillNormal(new Float64Array(3), { k0: 1, k1: 0, domain: 0x80000002, stream: 0 }, 8191);
  assert.ok(maxAbsDiff(big.subarray(8191, 8194), z) < 1e-14);
});

/** A user oracle for linear regression in plain TS: the reference's rows of batch b, targets + request.noise. */
function linearOracle(data: g.RegressionData, w: Float64Array, n: number, seed: number) {
  const { X, y, rows, dim } = data;
  return (req: g.GradientRequest): Float64Array => {
    const idx = refG.batchIndices(rows, n, req.batch, seed, 0, 0, true);
    const out = new Float64Array(dim);
    for (let j = 0; j < n; j++) {
      const row = idx[j]!;
      let r = -(y[row]! + req.noise[j]!);
      for (let c = 0; c < dim; c++) r += X[row * dim + c]! * w[c]!;
      for (let c = 0; c < dim; c++) out[c]! += (r * X[row * dim + c]!) / n;
    }
    return out;
  };
}

test('sync and async oracles, any concurrency, Float32Array answers: the same result', async () => {
  const { data, w } = problem(300, 5, 3);
  const n = 12;
  const sync = linearOracle(data, w, n, 2);
  const o = { dim: 5, batchSize: n, batches: 400, seed: 2, method: 'paired' as const };
  const a = await g.estimateCurvature(sync, o);
  assert.ok(g.relativeError(a.hessian, g.secondMomentMatrix(data), 5) < 0.3, 'a real estimate of H');
  let inFlight = 0,
    most = 0;
  const slow = async (req: g.GradientRequest) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, req.batch % 3));
    inFlight--;
    return sync(req);
  };
  for (const concurrency of [1, 3, 16]) {
    most = 0;
    const b = await g.estimateCurvature(slow, { ...o, concurrency });
    assertSameValues(b.hessian, a.hessian, `concurrency ${concurrency}`);
    assert.ok(
      most <= concurrency && (concurrency === 1 || most > 1),
      `in flight ${most} with concurrency ${concurrency}`,
    );
    void inFlight;
  }
  // an oracle that reuses one output buffer is safe (answers are copied)
  const shared = new Float64Array(5);
  const reuse = (req: g.GradientRequest) => {
    shared.set(sync(req));
    return shared;
  };
  assertSameValues((await g.estimateCurvature(reuse, o)).hessian, a.hessian);
  const f32 = await g.estimateCurvature((req) => Float32Array.from(sync(req)), o);
  // float32 answers: each gradient carries a relative rounding of 6e-8 of |g|, and |g| >> |g1 - g2| here
  assert.ok(
    maxAbsDiff(f32.hessian, a.hessian) < 1e-4 * maxAbs(a.hessian),
    `${maxAbsDiff(f32.hessian, a.hessian) / maxAbs(a.hessian)}`,
  );
});

test('oracle failures: a clear error naming the batch and draw, no result, memory released', async () => {
  const dim = 3;
  const o = { dim, batchSize: 4, batches: 600, seed: 1, method: 'paired' as const };
  const ok = () => normals(dim, 1);
  const cases: [string, g.GradientOracle, typeof Error, RegExp][] = [
    [
      'throws',
      (r) => {
        if (r.batch === 300 && r.draw === 1) throw new Error('disk on fire');
        return ok();
      },
      Error,
      /batch 300 \(draw 1\): disk on fire/,
    ],
    [
      'rejects',
      async (r) => {
        if (r.batch === 17) throw new Error('timeout');
        return ok();
      },
      Error,
      /batch 17 \(draw 0\): timeout/,
    ],
    [
      'wrong length',
      (r) => (r.batch === 5 ? new Float64Array(2) : ok()),
      RangeError,
      /batch 5 \(draw 0\) must have length dim \(3\)\. Value: length 2/,
    ],
    [
      'NaN',
      (r) => (r.batch === 599 ? new Float64Array([0, NaN, 0]) : ok()),
      RangeError,
      /batch 599 \(draw 0\) must contain only finite numbers\. Value: `NaN` at index 1/,
    ],
    [
      'Infinity',
      async (r) => (r.batch === 1 && r.draw === 1 ? new Float32Array([Infinity, 0, 0]) : ok()),
      RangeError,
      /batch 1 \(draw 1\).*`Infinity` at index 0/,
    ],
    [
      'not an array',
      (r) => (r.batch === 2 ? ([1, 2, 3] as never) : ok()),
      TypeError,
      /batch 2 \(draw 0\) must be a Float64Array or Float32Array/,
    ],
  ];
  const before = g.wasmMemoryBytes();
  for (const [label, oracle, Kind, pattern] of cases) {
    for (const concurrency of [1, 4]) {
      const got = await g.estimateCurvature(oracle, { ...o, concurrency }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(
        got instanceof Kind && pattern.test((got as Error).message),
        `${label} (concurrency ${concurrency}): ${String(got)}`,
      );
    }
  }
  // after failures the module still works and gives the same bits as a fresh run
  const fine = await g.estimateCurvature(() => ok(), { ...o, batches: 10 });
  assert.is(fine.batches, 10);
  assert.ok(g.wasmMemoryBytes() <= Math.max(before, 64 * 2 ** 20), 'no runaway memory');
});

test('estimateCurvature bad options: TypeError/RangeError naming the option, before the oracle is called', async () => {
  let calls = 0;
  const oracle = () => {
    calls++;
    return new Float64Array(2);
  };
  const o = { dim: 2, batchSize: 4, batches: 10, seed: 1 };
  const rows: [string, unknown, unknown, typeof TypeError, RegExp][] = [
    ['oracle not a function', 3, o, TypeError, /`oracle` must be a function/],
    ['no options', oracle, undefined, TypeError, /`dim` must be a number/],
    ['dim 0', oracle, { ...o, dim: 0 }, RangeError, /`dim` must be .*`0`/],
    ['dim string', oracle, { ...o, dim: '2' }, TypeError, /`dim` must be a number/],
    ['outputs 0', oracle, { ...o, outputs: 0 }, RangeError, /`outputs` must be/],
    ['batchSize 1.5', oracle, { ...o, batchSize: 1.5 }, RangeError, /`batchSize` must be/],
    ['batches 1', oracle, { ...o, batches: 1 }, RangeError, /`batches` must be at least 2/],
    ['no seed', oracle, { ...o, seed: undefined }, TypeError, /`seed` must be/],
    ['seed -1', oracle, { ...o, seed: -1 }, RangeError, /`seed` must be/],
    ['stream 2^32', oracle, { ...o, stream: 2 ** 32 }, RangeError, /`stream` must be/],
    ['method', oracle, { ...o, method: 'magic' }, RangeError, /`method` must be one of/],
    ['noiseVariance -1', oracle, { ...o, noiseVariance: -1 }, RangeError, /`noiseVariance` must be/],
    [
      'paired tau2 0',
      oracle,
      { ...o, method: 'paired', noiseVariance: 0 },
      RangeError,
      /`noiseVariance` must be > 0/,
    ],
    [
      'levels',
      oracle,
      { ...o, method: 'two-level', noiseLevels: [0, 1] },
      RangeError,
      /`noiseLevels` must have/,
    ],
    [
      'two-level 3',
      oracle,
      { ...o, method: 'two-level', batches: 3 },
      RangeError,
      /`batches` must be at least 4/,
    ],
    ['concurrency 0', oracle, { ...o, concurrency: 0 }, RangeError, /`concurrency` must be/],
    [
      'firstBatch overflow',
      oracle,
      { ...o, firstBatch: 2 ** 32 - 5 },
      RangeError,
      /`firstBatch` \+ `batches` must not exceed/,
    ],
  ];
  for (const [label, fn, opts, Kind, pattern] of rows) {
    const got = await g.estimateCurvature(fn as never, opts as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(got instanceof Kind && pattern.test((got as Error).message), `${label}: ${String(got)}`);
  }
  assert.is(calls, 0);
  const t: [string, () => unknown, typeof TypeError, RegExp][] = [
    [
      'no batch',
      () => g.targetNoise({ seed: 1, batchSize: 2, noiseVariance: 1 } as never),
      TypeError,
      /`batch` must be a number/,
    ],
    [
      'draw 2',
      () => g.targetNoise({ seed: 1, batch: 0, draw: 2 as never, batchSize: 2, noiseVariance: 1 }),
      RangeError,
      /`draw` must be an integer in \[0, 1\]/,
    ],
    [
      'no variance',
      () => g.targetNoise({ seed: 1, batch: 0, batchSize: 2 } as never),
      TypeError,
      /`noiseVariance` must be a number/,
    ],
    [
      'outputs x n',
      () => g.targetNoise({ seed: 1, batch: 0, batchSize: 2 ** 31, outputs: 4, noiseVariance: 1 }),
      RangeError,
      /must not exceed 2\^32/,
    ],
    [
      'batch 2^32',
      () => g.targetNoise({ seed: 1, batch: 2 ** 32, batchSize: 2, noiseVariance: 1 }),
      RangeError,
      /`batch` must be an integer/,
    ],
  ];
  for (const [label, call, Kind, pattern] of t) {
    assert.throws(call, (e: unknown) => e instanceof Kind && pattern.test((e as Error).message), label);
  }
});

test('PairedGradients: trajectory pairs estimate Cov(g | w_k) along a moving w; noise pairs give H', () => {
  const prob = g.syntheticRegression({ dim: 4, rows: 4000, seed: 3, noiseVariance: 1, condition: 5 });
  const H = g.secondMomentMatrix(prob.data);
  const n = 256;
  const pairs = new g.PairedGradients(4);
  const plain = new g.GradientCovariance(4);
  try {
    // 400 iterates spread along a line near w*; two independent batches (2k, 2k + 1) at each
    for (let k = 0; k < 400; k++) {
      const w = g.pointAtMisfit(H, prob.wStar, new Float64Array([1, -1, 0.5, 0]), (k % 20) * 0.5);
      const G = g.linearRegressionGradients(prob.data, w, {
        batchSize: n,
        batches: 2,
        firstBatch: 2 * k,
        noiseVariance: n - 1,
        seed: 8,
      });
      pairs.add(G.subarray(0, 4), G.subarray(4, 8));
      plain.addBatch(G);
    }
    // misfits d'Hd <= 9.5 << n: Cov(g | w_k) ~ H (bias <= 2 x 9.5 / 256); the spread of the means H d_k inflates the plain covariance
    const eTraj = g.relativeError(pairs.covariance(), H, 4);
    const ePlain = g.relativeError(plain.covariance(), H, 4);
    assert.ok(eTraj < 0.25, `trajectory pairs ${eTraj}`); // 400 pairs: sampling error ~ 2 sqrt(r / 400) ~ 0.15
    assert.ok(
      ePlain > 2 * eTraj && ePlain > 0.25,
      `plain covariance should be inflated: ${ePlain} vs ${eTraj}`,
    );
    // noise pairs: the fused differences through addDifferences, and add() on two evaluations, agree
    const noisePairs = new g.PairedGradients(4);
    const viaAdd = new g.PairedGradients(4);
    try {
      const w = g.pointAtMisfit(H, prob.wStar, new Float64Array([1, 0, 0, 0]), 1000);
      const est = g.estimateHessian(prob.data, w, { batchSize: n, batches: 2000, seed: 2, method: 'paired' });
      assert.ok(g.relativeError(est.hessian, H, 4) < 0.1, 'paired at misfit 1000');
      for (let b = 0; b < 50; b++) {
        const g1 = g.linearRegressionGradients(prob.data, w, {
          batchSize: n,
          batches: 1,
          firstBatch: b,
          noiseVariance: 3,
          seed: 2,
        });
        const xi2 = g.targetNoise({ seed: 2, batch: b, draw: 1, batchSize: n, noiseVariance: 3 });
        const idx = refG.batchIndices(4000, n, b, 2, 0, 0, true);
        const d = new Float64Array(4);
        const xi1 = g.targetNoise({ seed: 2, batch: b, batchSize: n, noiseVariance: 3 });
        for (let j = 0; j < n; j++)
          for (let c = 0; c < 4; c++) d[c]! += ((xi2[j]! - xi1[j]!) * prob.data.X[idx[j]! * 4 + c]!) / n;
        noisePairs.addDifferences(d);
        viaAdd.add(
          g1,
          g1.map((v, i) => v - d[i]!),
        );
      }
      assert.ok(
        maxAbsDiff(noisePairs.hessian(n, 3), viaAdd.hessian(n, 3)) < 1e-9 * maxAbs(viaAdd.hessian(n, 3)),
      );
      assert.throws(() => noisePairs.hessian(n, 0), /`noiseVariance` must be/);
      assert.throws(
        () => noisePairs.add(new Float64Array(3), new Float64Array(4)),
        /`g1` must have length 4/,
      );
      const c = noisePairs.count;
      assert.throws(
        () => noisePairs.add(new Float64Array(4), new Float64Array([0, NaN, 0, 0])),
        /`g2` must contain only finite/,
      );
      assert.is(noisePairs.count, c, 'state unchanged after a rejected pair');
      noisePairs.merge(viaAdd);
      assert.is(noisePairs.count, 100);
    } finally {
      noisePairs.dispose();
      viaAdd.dispose();
    }
  } finally {
    pairs.dispose();
    plain.dispose();
  }
  assert.throws(() => pairs.covariance(), /disposed/);
});

test('one level of the block plan takes calibrated options only: prepareEstimate refuses another method rather than compute the wrong one', async () => {
  const { prepareEstimate } = await import('../../src/estimators/oracle.js');
  const { data, w } = problem(50, 3, 1);
  assert.throws(
    () => prepareEstimate(data, w, { batchSize: 4, batches: 10, seed: 1, method: 'paired' }),
    /`method` must be 'calibrated' for one level of the block plan/,
  );
});

test.run();
