// `gradcov demo` (and `npm run demo`): the calibration rule on embedded defaults. For synthetic data and the
// diabetes data, prints the relative operator-norm error ||C_hat - H|| / ||H|| of the
// gradient covariance against the injected variance tau2/n, at the least-squares fit and
// away from it, so the minimum at the calibrated value tau2 ~ n is visible.
import {
  init,
  estimateHessian,
  relativeError,
  syntheticRegression,
  standardize,
  secondMomentMatrix,
  leastSquares,
  pointAtMisfit,
  Rng,
  type RegressionData,
} from 'gradcov';
import { loadDiabetes } from './datasets.js';

const RATIOS = [0, 0.25, 0.5, 1, 2, 4];

interface Setting {
  name: string;
  data: RegressionData;
  batchSize: number;
  batches: number;
  seed: number;
}

function sweep(s: Setting): { rows: string[][]; s2: number; misfit: number } {
  const H = secondMomentMatrix(s.data);
  const ls = leastSquares(s.data);
  const misfit = s.batchSize / 10;
  const far = pointAtMisfit(H, ls.w, new Rng(s.seed, 99).normals(new Float64Array(s.data.dim)), misfit);
  const rows = RATIOS.map((ratio) => {
    const tau2 = ratio * s.batchSize;
    const errs = [ls.w, far].map((w) =>
      relativeError(
        estimateHessian(s.data, w, {
          batchSize: s.batchSize,
          batches: s.batches,
          noiseVariance: tau2,
          seed: s.seed,
        }).hessian,
        H,
        s.data.dim,
      ),
    );
    return [ratio.toFixed(2), ...errs.map((e) => e.toFixed(3))];
  });
  return { rows, s2: ls.residualVariance, misfit };
}

function table(rows: string[][], header: string[]): string {
  const best = [1, 2].map((c) => rows.reduce((b, r, i) => (Number(r[c]) < Number(rows[b]![c]) ? i : b), 0));
  const cells = rows.map((r, i) => r.map((v, c) => (c > 0 && best[c - 1] === i ? `${v} *` : v)));
  const width = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]!.length)));
  const line = (r: string[]) => '| ' + r.map((v, c) => v.padStart(width[c]!)).join(' | ') + ' |';
  return [line(header), '|' + width.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.map(line)].join(
    '\n',
  );
}

/** Prints the demo's two tables to stdout (about a second on a 2-core machine). */
export async function demo(): Promise<void> {
  await init();
  const t0 = performance.now();
  const synth = syntheticRegression({ dim: 20, rows: 20000, condition: 100, noiseVariance: 1, seed: 1 });
  const diabetes = standardize(loadDiabetes());
  const settings: Setting[] = [
    {
      name: 'synthetic: Gaussian x, d = 20, cond(H) = 100, 20000 rows, label noise s2 = 1',
      data: synth.data,
      batchSize: 64,
      batches: 20000,
      seed: 1,
    },
    {
      name: 'diabetes: 442 rows x 10 features, features and target standardised',
      data: diabetes,
      batchSize: 32,
      batches: 20000,
      seed: 1,
    },
  ];
  console.log(
    'gradcov demo: relative operator-norm error ||C_hat - H|| / ||H|| of the batch-gradient covariance',
  );
  console.log(
    "H = X'X/rows (the Hessian of the mean half-squared loss); C_hat from m noisy batch gradients of n rows.",
  );
  console.log(
    'The calibration rule injects tau2 = n - s2 (tau2/n ~ 1); * marks the smallest error in a column.\n',
  );
  for (const s of settings) {
    const { rows, s2, misfit } = sweep(s);
    console.log(`${s.name}`);
    console.log(
      `n = ${s.batchSize}, m = ${s.batches}, seed ${s.seed}; residual variance at the fit s2 = ${s2.toFixed(3)}; far: misfit d'Hd = n/10 = ${misfit}\n`,
    );
    console.log(table(rows, ['tau2/n', 'at the least-squares fit', "far (d'Hd = n/10)"]));
    console.log('');
  }
  console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
