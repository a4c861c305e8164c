// Experiment `unbiased`: relative error of the four estimators of H against the misfit
// d'Hd/n in {0, 0.1, 1, 10, 100}, at equal numbers of gradient evaluations, on synthetic
// Gaussian and Rademacher inputs and on the diabetes data (standardised). Expected: the
// calibrated covariance is biased by about 2 d'Hd/n far from the optimum; paired noise stays
// at its sampling error at every misfit and for every input distribution; misfit debiasing
// removes the bias for Gaussian inputs only.
import {
  estimateHessian,
  secondMomentMatrix,
  standardize,
  leastSquares,
  ESTIMATOR_METHODS,
  type RegressionData,
  type EstimatorMethod,
} from 'gradcov';
import { loadDiabetes } from '../datasets.js';
import {
  CONDITION as condition,
  LABEL_NOISE as s2,
  pointAway,
  predictedBias,
  rawError,
  ratioLabel,
  sizes,
  syntheticProblem,
} from './measures.js';
import { lineChart } from '../plots.js';
import type { Cell, Experiment, ExperimentResult } from './types.js';

export const MISFITS = [0, 0.1, 1, 10, 100];

interface DataSet {
  name: string;
  data: RegressionData;
  wFit: Float64Array;
  s2: number;
}

/** Batches for a budget of `evaluations` gradient evaluations ('paired' evaluates each batch twice). */
function batchesFor(method: EstimatorMethod, evaluations: number): number {
  return method === 'paired' ? Math.max(2, Math.floor(evaluations / 2)) : evaluations;
}

export const unbiased: Experiment = {
  name: 'unbiased',
  summary:
    "calibrated, paired, two-level and debiased estimators against the misfit d'Hd/n, at equal gradient evaluations",
  async run(o): Promise<ExperimentResult> {
    const { dim, rows, n, m: budget } = sizes(o, { batches: 8000 });
    const sets: DataSet[] = [];
    for (const inputs of ['gaussian', 'rademacher'] as const) {
      const { p } = syntheticProblem(dim, rows, o.seed, inputs);
      sets.push({ name: `synthetic ${inputs}`, data: p.data, wFit: p.wStar, s2 });
    }
    const diabetes = standardize(loadDiabetes());
    const fit = leastSquares(diabetes);
    sets.push({ name: 'diabetes', data: diabetes, wFit: fit.w, s2: fit.residualVariance });
    o.progress.start('unbiased', sets.length * MISFITS.length * ESTIMATOR_METHODS.length);
    const table: Cell[][] = [];
    const plot: Record<string, number | string>[] = [];
    const errs: Record<string, Record<string, (number | null)[]>> = {};
    for (const s of sets) {
      const d = s.data.dim;
      const H = secondMomentMatrix(s.data);
      errs[s.name] = {};
      for (const method of ESTIMATOR_METHODS) errs[s.name]![method] = [];
      for (const ratio of MISFITS) {
        const w = pointAway(H, s.wFit, ratio * n, o.seed);
        const cells: Cell[] = [];
        for (const method of ESTIMATOR_METHODS) {
          let e: number | null = null;
          try {
            const est = estimateHessian(s.data, w, {
              batchSize: n,
              batches: batchesFor(method, budget),
              seed: o.seed,
              method,
              baseNoiseVariance: s.s2,
            });
            e = rawError(est.hessian, H, d);
          } catch (err) {
            // 'debiased' has no fixed point when the misfit swamps the noise; reported as "-"
            if (!(err instanceof RangeError)) throw err;
          }
          errs[s.name]![method]!.push(e);
          cells.push(e);
          if (e !== null)
            plot.push({ misfit: Math.max(ratio, 0.01), data: s.name, estimator: method, error: e });
          await o.progress.tick();
        }
        table.push([s.name, ratioLabel(ratio), ...cells, predictedBias(H, w, s.wFit, d, n)]);
      }
    }
    o.progress.stop();
    const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(3));
    const spread = (v: (number | null)[]) => {
      const x = v.filter((e): e is number => e !== null);
      return x.length ? Math.max(...x) / Math.min(...x) : NaN;
    };
    const findings: string[] = [];
    for (const s of sets) {
      const e = errs[s.name]!;
      const pred = table.filter((r) => r[0] === s.name).map((r) => r[r.length - 1] as number);
      findings.push(
        `${s.name}: calibrated ${e.calibrated!.map(fmt).join(', ')} at d'Hd/n = ${MISFITS.join(', ')}: the error over d'Hd/n is ${fmt(e.calibrated![3]! / 10)} at 10 and ${fmt(e.calibrated![4]! / 100)} at 100 (the Gaussian-x bias ((d'Hd) H + H d d' H)/n predicts ${fmt(pred[3]! / 10)} and ${fmt(pred[4]! / 100)}; at most 2)`,
      );
      findings.push(
        `${s.name}: paired ${e.paired!.map(fmt).join(', ')}: largest / smallest over the misfits ${spread(e.paired!).toFixed(2)}; flat, since the pair differences do not depend on w at all (only on the rows and the noise)`,
      );
      findings.push(
        `${s.name}: two-level ${e['two-level']!.map(fmt).join(', ')} (unbiased, but its variance grows with the misfit: each level's covariance carries (s2 + tau2 + d'Hd)/n H of noise); ` +
          `debiased ${e.debiased!.map(fmt).join(', ')} ("-": no fixed point; its scale is identified through s2 + tau2 only, so its error grows with d'Hd/(s2 + tau2), and the rank-one correction is exact for Gaussian x only)`,
      );
    }
    return {
      name: 'unbiased',
      title: `Estimators beyond the calibration rule: synthetic d = ${dim}, cond(H) = ${condition}, ${rows} rows, s2 = ${s2}; diabetes (standardised, s2 = least-squares residual variance); n = ${n}, ${budget} gradient evaluations each`,
      settings: {
        seed: o.seed,
        dim,
        rows,
        condition,
        labelNoise: s2,
        batchSize: n,
        gradientEvaluations: budget,
        misfits: MISFITS,
        methods: [...ESTIMATOR_METHODS],
        datasets: sets.map((s) => s.name),
      },
      tables: [
        {
          title:
            `relative operator-norm error ||H_hat - H|| / ||H|| at w = fit + d with d'Hd = (misfit) x n along a seeded direction; every method spends ${budget} gradient evaluations ` +
            `(paired: ${batchesFor('paired', budget)} batches x 2 draws, tau2 = n/2 each; two-level: half the batches at tau2 = n, half at 0; calibrated and debiased: tau2 = n - s2); "-" = no fixed point`,
          columns: ['data', "d'Hd/n", ...ESTIMATOR_METHODS, 'calibrated bias predicted (Gaussian x)'],
          rows: table,
          digits: 4,
        },
      ],
      plots: [
        {
          name: 'misfit',
          caption:
            "Relative error against the misfit d'Hd/n (0 drawn at 0.01), one panel per input distribution on shared axes: calibrated grows with the misfit, paired stays flat at its sampling error on every data set, debiased tracks the truth for Gaussian inputs only.",
          spec: lineChart({
            title: 'Error of each estimator vs misfit, equal gradient evaluations',
            data: plot,
            x: {
              field: 'misfit',
              title: "misfit d'Hd / n (unitless, log; 0 at 0.01)",
              scale: { type: 'log' },
            },
            y: { field: 'error', title: 'error ‖Ĥ − H‖/‖H‖ (unitless, log)', scale: { type: 'log' } },
            series: 'estimator',
            legend: 'estimator',
            facet: { field: 'data' },
          }),
        },
      ],
      findings,
    };
  },
};
