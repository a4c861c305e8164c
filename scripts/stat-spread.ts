// Measures the spread, over many seeds, of the quantities the statistical tests bound, so
// that each bound can be set from data (and the test can state the range it was set from).
// Developer tool, not part of `npm test`:  npx tsx scripts/stat-spread.ts method [seeds]
// Sections: method, risk, batches, cli, dimension, calibration, conformance.  Prints min / median / max per quantity.
import {
  init,
  estimateHessian,
  estimateRisk,
  syntheticRegression,
  pointAtMisfit,
  Rng,
  calibratedNoiseVariance,
  linearRegressionGradients,
  GradientCovariance,
  type InputDistribution,
} from '../src/node.js';
import { riskOnData, dualNorm } from '../src/apps/risk-on-data.js';
import {
  normExact,
  relErrExact,
  bestScaleErrExact,
  secondMoment,
  batchGradientCovariance,
  trace,
  spread,
  whitenedScale,
} from '../test/helpers/yardstick.js';

await init();
const section = process.argv[2] ?? 'method';
const seeds = Number(process.argv[3] ?? 30);
const out: Record<string, number[]> = {};
const rec = (k: string, v: number) => (out[k] ??= []).push(v);

if (section === 'method') {
  const DIM = 20,
    ROWS = 20000,
    N = 64,
    M = 20000,
    S2 = 1;
  const mk = (inputs: InputDistribution) => {
    const p = syntheticRegression({
      dim: DIM,
      rows: ROWS,
      condition: 100,
      noiseVariance: S2,
      inputs,
      seed: 1,
    });
    return { ...p, H: secondMoment(p.data) };
  };
  const g = mk('gaussian'),
    rad = mk('rademacher'),
    uni = mk('uniform');
  const r = trace(g.H, DIM) / g.eigenvalues[DIM - 1]!;
  const far = pointAtMisfit(g.H, g.wStar, new Rng(9).normals(new Float64Array(DIM)), N / 10);
  const Cfar = batchGradientCovariance(g.data, far, N, N - S2);
  const Cstar = batchGradientCovariance(g.data, g.wStar, N, N - S2);
  // docs/method.md, Gaussian x: Cov = H + ((d'Hd) H + H d d' H) / n with d'Hd = n/10
  const d = far.map((v, i) => v - g.wStar[i]!);
  const Hd = new Float64Array(DIM);
  for (let i = 0; i < DIM; i++) for (let j = 0; j < DIM; j++) Hd[i]! += g.H[i * DIM + j]! * d[j]!;
  const predicted = g.H.map((v, k) => v * (1 + 1 / 10) + (Hd[Math.floor(k / DIM)]! * Hd[k % DIM]!) / N);
  for (let s = 0; s < seeds; s++) {
    const seed = 1000 + s;
    const e = estimateHessian(g.data, g.wStar, { batchSize: N, batches: M, seed, baseNoiseVariance: S2 });
    rec('cal.err', relErrExact(e.hessian, g.H, DIM));
    rec('cal.traceRatio', trace(e.hessian, DIM) / trace(Cstar, DIM));
    rec('cal.errVsExact', relErrExact(e.hessian, Cstar, DIM));
    rec('cal.whitened', whitenedScale(e.hessian, Cstar, DIM));
    const f = estimateHessian(g.data, far, {
      batchSize: N,
      batches: M,
      seed: seed + 1e5,
      baseNoiseVariance: S2,
    });
    rec('far.traceRatio', trace(f.hessian, DIM) / trace(Cfar, DIM));
    rec('far.errVsExact', relErrExact(f.hessian, Cfar, DIM));
    rec('far.errVsH', relErrExact(f.hessian, g.H, DIM));
    rec('far.whitened', whitenedScale(f.hessian, Cfar, DIM));
    rec('far.errPred', relErrExact(f.hessian, predicted, DIM));
    const u = estimateHessian(g.data, g.wStar, {
      batchSize: N,
      batches: M,
      seed: seed + 2e5,
      noiseVariance: 0,
    });
    rec('uncal.err', relErrExact(u.hessian, g.H, DIM));
    const tau2 = calibratedNoiseVariance(N, { baseNoiseVariance: S2 }) + N;
    const t = estimateHessian(g.data, g.wStar, {
      batchSize: N,
      batches: M,
      seed: seed + 3e5,
      noiseVariance: tau2,
    });
    rec('twice.raw', relErrExact(t.hessian, g.H, DIM));
    const b = bestScaleErrExact(t.hessian, g.H, DIM);
    rec('twice.scaled', b.error);
    rec('twice.scale', b.scale);
    for (const [name, p] of [
      ['rademacher', rad],
      ['uniform', uni],
    ] as const) {
      const q = estimateHessian(p.data, p.wStar, {
        batchSize: N,
        batches: M,
        seed: seed + 4e5,
        baseNoiseVariance: S2,
      });
      rec(`${name}.err`, relErrExact(q.hessian, p.H, DIM));
    }
    const err = (m: number, sd: number) =>
      relErrExact(
        estimateHessian(g.data, g.wStar, { batchSize: N, batches: m, seed: sd, baseNoiseVariance: S2 })
          .hessian,
        g.H,
        DIM,
      );
    const small = [1, 2, 3, 4, 5].map((k) => err(1000, seed * 10 + k)).reduce((a, b2) => a + b2) / 5;
    const large = [1, 2, 3, 4, 5].map((k) => err(16000, seed * 10 + 5 + k)).reduce((a, b2) => a + b2) / 5;
    rec('rate.ratio', large / small);
    rec('rate.cSmall', small / Math.sqrt(r / 1000));
    rec('rate.cLarge', large / Math.sqrt(r / 16000));
  }
  console.log(`r = tr(H)/||H|| = ${r}`);
} else if (section === 'risk') {
  const dim = 8,
    n = 64,
    s2 = 1;
  const p = syntheticRegression({ dim, rows: 20000, condition: 100, noiseVariance: s2, seed: 5 });
  const H = secondMoment(p.data);
  const misfits = [0, 1, 6.4, 64];
  const ws = misfits.map((mf) =>
    pointAtMisfit(H, p.wStar, new Rng(5, 99).normals(new Float64Array(dim)), mf),
  );
  const truths = ws.map((w) => ({
    adv: [0, 0.1, 0.3].map((eps) =>
      (['l2', 'linf', 'mahalanobis'] as const).map(
        (norm) => riskOnData(p.data, w, eps, dualNorm(w, norm, H)).adversarial,
      ),
    ),
    meanAbs: riskOnData(p.data, w, 0, 0).meanAbs,
  }));
  for (let s = 0; s < seeds; s++) {
    for (const [i, misfit] of misfits.entries()) {
      const w = ws[i]!;
      const est = estimateHessian(p.data, w, {
        batchSize: n,
        batches: 8000,
        noiseVariance: n - s2,
        seed: 5000 + s * 10 + i,
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
        { eps: [0, 0.1, 0.3] },
      );
      let worst = 0;
      r.adversarial.forEach((a, k) =>
        (['l2', 'linf', 'mahalanobis'] as const).forEach((norm, j) => {
          const truth = truths[i]!.adv[k]![j]!;
          worst = Math.max(worst, Math.abs(a[norm] - truth) / truth);
        }),
      );
      rec(`risk.worst.misfit${misfit}`, worst);
      rec(`risk.meanAbs.misfit${misfit}`, Math.abs(r.meanAbs - truths[i]!.meanAbs) / truths[i]!.meanAbs);
    }
  }
} else if (section === 'batches') {
  // test/estimators/gradients.test.ts: chi-square of the kernel's row counts (X = I read-back), 10 rows
  const counts = (n: number, batches: number, seed: number, replacement: boolean) => {
    const X = new Float64Array(100);
    for (let r = 0; r < 10; r++) X[r * 10 + r] = 1;
    const G = linearRegressionGradients(
      { X, y: new Float64Array(10).fill(-1), rows: 10, dim: 10 },
      new Float64Array(10),
      { batchSize: n, batches, noiseVariance: 0, seed, replacement },
    );
    const c = new Array(10).fill(0);
    G.forEach((v, i) => {
      c[i % 10] += Math.round(v * n);
    });
    return c.reduce((s, k) => s + (k - 10000) ** 2 / 10000, 0);
  };
  for (let s = 1; s <= seeds; s++) {
    rec('chi2.replacement', counts(100, 1000, s, true));
    rec('chi2.noReplacement.scaled', (counts(5, 20000, s, false) * 9) / 5);
  }
} else if (section === 'cli') {
  // test/e2e/cli.test.ts 'estimate --json': the CLI on the test's CSV, other seeds
  const { gradcov, regressionCsv, tempDir, writeCsv } = await import('../test/e2e/cli.js');
  const file = writeCsv(tempDir(), 'good.csv', regressionCsv());
  for (let s = 0; s < seeds; s++) {
    const r = gradcov(
      'estimate',
      '--data',
      file,
      '--target',
      'y',
      '--batches',
      '20000',
      '--json',
      '--seed',
      String(100 + s),
    );
    const o = JSON.parse(r.stdout);
    rec('cli.relativeError', o.relativeError);
    rec(
      'cli.relErrExact',
      relErrExact(
        Float64Array.from(o.hessian.flat()),
        Float64Array.from(o.secondMoment.flat()),
        o.hessian.length,
      ),
    );
  }
} else if (section === 'dimension') {
  // test/e2e/experiments.test.ts 'dimension': the experiment's error at w* over seeds
  const { gradcov } = await import('../test/e2e/cli.js');
  for (let s = 0; s < seeds; s++) {
    const r = gradcov(
      'experiment',
      'dimension',
      '--dims',
      '5,12',
      '--batches-per-dim',
      '40',
      '--json',
      '--seed',
      String(1 + s),
    );
    const t = JSON.parse(r.stdout).experiments[0].tables[0];
    for (const row of t.rows) {
      rec(`dimension.d${row[0]}.error`, row[t.columns.indexOf('error at w*')]);
      rec(`dimension.d${row[0]}.c`, row[t.columns.indexOf('error / sqrt(r/m)')]);
    }
  }
} else if (section === 'calibration') {
  // test/e2e/experiments.test.ts 'calibration' and 'batches': the experiments over seeds
  const { gradcov } = await import('../test/e2e/cli.js');
  for (let s = 0; s < seeds; s++) {
    const r = gradcov(
      'experiment',
      'calibration',
      '--dim',
      '5',
      '--rows',
      '2000',
      '--batches',
      '2000',
      '--json',
      '--seed',
      String(1 + s),
    );
    const t = JSON.parse(r.stdout).experiments[0].tables[0];
    const raw = t.rows.map((row: number[]) => row[t.columns.indexOf('raw at w*')]);
    const resc = t.rows.map((row: number[]) => row[t.columns.indexOf('rescaled at w*')]);
    rec('calibration.rawAtOne', raw[4]);
    rec('calibration.rawAtZero', raw[0]);
    rec('calibration.rescaledMax', Math.max(...resc));
    rec('calibration.argminIsOne', raw.indexOf(Math.min(...raw)) === 4 ? 1 : 0);
    const b = gradcov(
      'experiment',
      'batches',
      '--dim',
      '5',
      '--rows',
      '2000',
      '--batches',
      '3000',
      '--json',
      '--seed',
      String(1 + s),
    );
    const tb = JSON.parse(b.stdout).experiments[0].tables[0];
    const err = tb.rows.map((row: number[]) => row[tb.columns.indexOf('mean error')]);
    rec('batches.firstOverLast', err[0] / err[err.length - 1]);
  }
} else if (section === 'conformance') {
  // the conformance script's two estimates (test/e2e/conformance/conformance.js) with other seeds
  const dim = 9;
  const { data, wStar } = syntheticRegression({ dim, rows: 1500, condition: 256, seed: 11 });
  const H = secondMoment(data);
  const n = 32,
    tau2 = calibratedNoiseVariance(n, { baseNoiseVariance: 1 });
  for (let s = 0; s < seeds; s++) {
    const G = linearRegressionGradients(data, wStar, {
      batchSize: n,
      batches: 1200,
      noiseVariance: tau2,
      seed: 100 + s,
    });
    const a = new GradientCovariance(dim).addBatch(G);
    rec('covariance.err', relErrExact(a.covariance(), H, dim));
    a.dispose();
    const est = estimateHessian(data, wStar, {
      batchSize: n,
      batches: 3000,
      baseNoiseVariance: 1,
      seed: 5000 + s,
    });
    rec('estimate.err', relErrExact(est.hessian, H, dim));
    rec('estimate.normOver256', normExact(est.hessian, dim) / 256);
  }
}
for (const [k, v] of Object.entries(out)) {
  const sp = spread(v);
  console.log(
    `${k.padEnd(28)} n=${v.length}  min ${sp.min.toPrecision(4)}  median ${sp.median.toPrecision(4)}  p90 ${sp.p90.toPrecision(4)}  p99 ${sp.p99.toPrecision(4)}  max ${sp.max.toPrecision(4)}`,
  );
  if (process.env.DUMP) console.log(JSON.stringify(v));
}
