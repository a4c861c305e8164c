// estimateRisk against the risk measured on the data (the Monte-Carlo ground truth over the
// rows, src/apps/risk-on-data.ts) with fixed seeds; exact formulas on hand-made inputs; bad inputs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { estimateRisk, estimateHessian, syntheticRegression, pointAtMisfit, Rng } from '../../src/node.js';
import { riskOnData, dualNorm } from '../../src/apps/risk-on-data.ts';
import { setup } from '../helpers/helpers.js';
import { secondMoment, median } from '../helpers/yardstick.js';

test.before(setup);

test("exact inputs: E r^2 = s2 + g'H^-1 g and R_adv = E r^2 + 2 eps ||w||_* E|r| + eps^2 ||w||_*^2 (both routes)", () => {
  // H = diag(1, 4), d = (1, 0.5): g = Hd = (1, 2), d'Hd = 2; s2 = 1, tau2 = 3, n = 4: n C = (s2 + tau2 + d'Hd) H + g g'
  const H = new Float64Array([1, 0, 0, 4]),
    g = new Float64Array([1, 2]),
    n = 4,
    tau2 = 3,
    s2 = 1;
  const C = new Float64Array(4);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 2; j++) C[i * 2 + j] = ((s2 + tau2 + 2) * H[i * 2 + j]! + g[i]! * g[j]!) / n;
  const w = new Float64Array([1, -2]);
  for (const input of [{ labelNoiseVariance: s2 }, { hessian: H }]) {
    const r = estimateRisk(
      w,
      { mean: g, covariance: C, batchSize: n, noiseVariance: tau2, ...input },
      { eps: [0, 0.5] },
    );
    assert.ok(
      Math.abs(r.misfit - 2) < 1e-12 &&
        Math.abs(r.meanSquared - 3) < 1e-12 &&
        Math.abs(r.labelNoiseVariance - 1) < 1e-12,
      JSON.stringify(r),
    );
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(r.hessian[i]! - H[i]!) < 1e-12);
    const ea = Math.sqrt(2 / Math.PI) * Math.sqrt(3);
    assert.ok(Math.abs(r.meanAbs - ea) < 1e-12);
    const want = (norm: number) => 3 + 2 * 0.5 * norm * ea + 0.25 * norm * norm;
    const a = r.adversarial[1]!;
    assert.ok(
      Math.abs(a.l2 - want(Math.sqrt(5))) < 1e-12 &&
        Math.abs(a.linf - want(3)) < 1e-12 &&
        Math.abs(a.mahalanobis - want(Math.sqrt(17))) < 1e-12,
    );
    assert.equal([r.adversarial[0]!.l2, r.adversarial[0]!.linf], [r.meanSquared, r.meanSquared]);
  }
});

test('from calibrated gradients (s2 known): over 5 seeds, the median error of E r^2 and the adversarial risks is within 5% of the risk on the data at w* and misfits 1, n/10 (10% at n)', () => {
  // d = 8, m = 8000 batches per estimate. One seed is not enough: over 200 seeds
  // (`npx tsx scripts/stat-spread.ts risk 200`) the worst relative error over eps x norms per
  // seed had median 0.9% / 1.5% / 1.7% / 3.5%, 90th percentile 2.4% / 2.7% / 3.2% / 8.8%, 99th
  // 3.3% / 3.9% / 5.1% / 13.4%, max 3.4% / 4.0% / 5.2% / 15.4% at misfit d'Hd = 0 / 1 / n/10 / n
  // (the old single-seed test failed for 11 of 200 seed sets). So each bound (5%, 10% at n)
  // applies to the median over 5 seeds, which exceeds it only if 3 of the 5 seeds do: with a
  // per-seed exceedance of ~1.5% (5%) and ~7% (10% at n) that is ~3e-5 and ~3e-3.
  // What it catches: a missing 1/(1 - t) misfit correction moves misfit n/10 by ~8% and misfit
  // n by ~50% for every seed; a wrong adversarial cross term moves the eps > 0 rows by >10%.
  // The truth is the Monte-Carlo risk over the 20000 rows (src/apps/risk-on-data.ts), computed
  // with H = X'X/rows by a plain loop.
  const dim = 8,
    n = 64,
    s2 = 1,
    seeds = [20, 120, 220, 320, 420];
  const p = syntheticRegression({ dim, rows: 20000, condition: 100, noiseVariance: s2, seed: 5 });
  const H = secondMoment(p.data);
  for (const [i, misfit] of [0, 1, 6.4, 64].entries()) {
    const w = pointAtMisfit(H, p.wStar, new Rng(5, 99).normals(new Float64Array(dim)), misfit);
    const eps = [0, 0.1, 0.3],
      norms = ['l2', 'linf', 'mahalanobis'] as const;
    const truth = eps.map((e) =>
      norms.map((norm) => riskOnData(p.data, w, e, dualNorm(w, norm, H)).adversarial),
    );
    const d0 = riskOnData(p.data, w, 0, 0);
    const worst: number[] = [],
      absErr: number[] = [];
    for (const seed of seeds) {
      const est = estimateHessian(p.data, w, {
        batchSize: n,
        batches: 8000,
        noiseVariance: n - s2,
        seed: seed + i,
      });
      const r = estimateRisk(
        w,
        {
          mean: est.mean,
          covariance: est.hessian,
          batchSize: n,
          noiseVariance: n - s2,
          labelNoiseVariance: s2,
        },
        { eps },
      );
      let wst = 0;
      r.adversarial.forEach((a, k) =>
        norms.forEach((norm, j) => {
          wst = Math.max(wst, Math.abs(a[norm] - truth[k]![j]!) / truth[k]![j]!);
        }),
      );
      worst.push(wst);
      absErr.push(Math.abs(r.meanAbs - d0.meanAbs) / d0.meanAbs);
    }
    const bound = misfit < n ? 0.05 : 0.1;
    assert.ok(
      median(worst) <= bound,
      `misfit ${misfit}: median over seeds of the worst error ${median(worst)} > ${bound} (per seed ${worst.map((v) => v.toFixed(4))})`,
    );
    // Gaussian residuals: E|r| from E r^2 matches the data's mean |r|. Over 200 seeds the
    // per-seed error had max 0.15% / 1.9% / 2.8% / 7.6%, 90th percentile 4.4% at n; bound on
    // the median of 5: 3% below n (above every seed), 5% at n (exceeded with probability ~3e-3)
    assert.ok(
      median(absErr) <= (misfit < n ? 0.03 : 0.05),
      `misfit ${misfit}: E|r| median error ${median(absErr)} (per seed ${absErr.map((v) => v.toFixed(4))})`,
    );
  }
});

test('route 2 (H known, s2 unknown): s2 identified from the scale; with tau2 = 0 it is precise', () => {
  const dim = 6,
    n = 32,
    s2 = 2;
  const p = syntheticRegression({ dim, rows: 20000, condition: 10, noiseVariance: s2, seed: 6 });
  const H = secondMoment(p.data);
  const w = pointAtMisfit(H, p.wStar, new Rng(6, 99).normals(new Float64Array(dim)), 1);
  // measured over 200 seeds (1000-1199): E r^2 error 0.007%-3.6% (99th percentile 3.5%), s2
  // error 0.0005-0.135 (99th percentile 0.133): the bounds 5% and 0.2 hold for every seed
  const est = estimateHessian(p.data, w, { batchSize: n, batches: 8000, noiseVariance: 0, seed: 3 });
  const r = estimateRisk(w, {
    mean: est.mean,
    covariance: est.hessian,
    batchSize: n,
    noiseVariance: 0,
    hessian: H,
  });
  const truth = riskOnData(p.data, w, 0, 0).meanSquared;
  assert.ok(Math.abs(r.meanSquared - truth) / truth <= 0.05, `${r.meanSquared} vs ${truth}`);
  assert.ok(Math.abs(r.labelNoiseVariance - s2) <= 0.2, `s2 ${r.labelNoiseVariance}`);
});

test('bad inputs name the parameter', () => {
  const g = new Float64Array(2),
    C = new Float64Array([1, 0, 0, 1]);
  const ok = { mean: g, covariance: C, batchSize: 4, noiseVariance: 3, labelNoiseVariance: 1 };
  const cases: [() => unknown, RegExp, typeof TypeError][] = [
    [() => estimateRisk([1, 2] as unknown as Float64Array, ok), /`w` must be a Float64Array/, TypeError],
    [() => estimateRisk(g, null as never), /`input` must be an object/, TypeError],
    [
      () => estimateRisk(g, { ...ok, mean: new Float64Array(3) }),
      /`input.mean` must have length 2/,
      RangeError,
    ],
    [
      () => estimateRisk(g, { ...ok, covariance: new Float64Array(3) }),
      /`input.covariance` must have length 4/,
      RangeError,
    ],
    [
      () => estimateRisk(g, { ...ok, batchSize: 0 }),
      /`input.batchSize` must be a positive integer/,
      RangeError,
    ],
    [
      () => estimateRisk(g, { ...ok, noiseVariance: -1 }),
      /`input.noiseVariance` must be a finite number >= 0/,
      RangeError,
    ],
    [
      () => estimateRisk(g, { ...ok, labelNoiseVariance: undefined }),
      /`input.labelNoiseVariance` or `input.hessian` must be given/,
      TypeError,
    ],
    [() => estimateRisk(g, ok, { eps: 0.1 as never }), /`eps` must be an array/, TypeError],
    [() => estimateRisk(g, ok, { eps: [0.1, -1] }), /`eps\[1\]` must be a finite number >= 0/, RangeError],
  ];
  for (const [f, re, Kind] of cases)
    assert.throws(f, (e: Error) => e instanceof Kind && re.test(e.message), String(re));
  // misfit swamping the noise: g'(nC - gg')^-1 g >= 1 is reported, not turned into a negative risk
  assert.throws(
    () => estimateRisk(g, { ...ok, mean: new Float64Array([1.9, 0]) }),
    /cannot be separated|not positive definite/,
  );
});

test.run();
