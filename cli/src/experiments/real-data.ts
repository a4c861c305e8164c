// Experiment `real-data`: the diabetes data (vendored) and the diamonds data
// (@observablehq/sample-datasets), features and target standardised. C_hat against the
// data's own second-moment matrix, calibrated (tau2 = n - s2) and uncalibrated (tau2 = 0),
// at the least-squares fit and at misfits n/10 and n from it.
import {
  estimateHessian,
  secondMomentMatrix,
  standardize,
  leastSquares,
  calibratedNoiseVariance,
  type RegressionData,
} from 'gradcov';
import { loadDiabetes, loadDiamonds } from '../datasets.js';
import { bestRescaledError, pick, pointAway, rawError } from './measures.js';
import { groupedBarChart } from '../plots.js';
import type { Cell, Experiment, ExperimentResult } from './types.js';

interface DataSet {
  name: string;
  data: RegressionData;
  batchSize: number;
  note: string;
}

export const realData: Experiment = {
  name: 'real-data',
  summary:
    'diabetes and diamonds (standardised): calibrated vs uncalibrated, at the least-squares fit and away from it',
  async run(o): Promise<ExperimentResult> {
    const m = pick(o.batches, 20000);
    const sets: DataSet[] = [];
    const diabetes = loadDiabetes();
    sets.push({
      name: 'diabetes',
      data: standardize(diabetes),
      batchSize: pick(o.batchSize, 32),
      note: `${diabetes.rows} rows x ${diabetes.dim} features (${diabetes.columns.join(', ')})`,
    });
    const findings: string[] = [];
    try {
      const d = await loadDiamonds();
      sets.push({
        name: 'diamonds',
        data: standardize(d),
        batchSize: pick(o.batchSize, 64),
        note: `${d.rows} rows (${d.dropped} of ${d.rowsRead} dropped: zero x, y or z) x ${d.dim} features (${d.columns.join(', ')}; cut, color, clarity as ordered codes), target ${d.target}`,
      });
    } catch (err) {
      findings.push(`diamonds skipped: ${err instanceof Error ? err.message : String(err)}`);
    }
    const rows: Cell[][] = [];
    const data = [];
    o.progress.start('real-data', sets.length * 3 * 2);
    for (const s of sets) {
      const { dim } = s.data,
        n = s.batchSize;
      const H = secondMomentMatrix(s.data);
      const fit = leastSquares(s.data);
      const tau2 = calibratedNoiseVariance(n, { baseNoiseVariance: fit.residualVariance });
      const misfits = [0, n / 10, n];
      const labels = ['fit', 'fit + n/10', 'fit + n'];
      for (let j = 0; j < misfits.length; j++) {
        const w = pointAway(H, fit.w, misfits[j]!, o.seed);
        const cells: number[] = [];
        for (const noise of [tau2, 0]) {
          const C = estimateHessian(s.data, w, {
            batchSize: n,
            batches: m,
            noiseVariance: noise,
            seed: o.seed,
          }).hessian;
          cells.push(rawError(C, H, dim), bestRescaledError(C, H, dim).error);
          await o.progress.tick();
        }
        rows.push([s.name, n, fit.residualVariance, labels[j]!, misfits[j]!, ...cells]);
        data.push(
          { dataset: s.name, point: labels[j]!, setting: 'calibrated τ² = n − s²', error: cells[0]! },
          { dataset: s.name, point: labels[j]!, setting: 'uncalibrated τ² = 0', error: cells[2]! },
        );
      }
      const at = (k: number) => rows[rows.length - 3 + k]!;
      findings.push(
        `${s.name} (${s.note}): s2 at the fit = ${fit.residualVariance.toFixed(3)}, n = ${n}; calibrated error ${(at(0)[5] as number).toFixed(3)} at the fit, ${(at(1)[5] as number).toFixed(3)} at misfit n/10, ${(at(2)[5] as number).toFixed(3)} at misfit n; uncalibrated ${(at(0)[7] as number).toFixed(3)} at the fit (1 - s2/n = ${(1 - fit.residualVariance / n).toFixed(3)})`,
      );
    }
    o.progress.stop();
    return {
      name: 'real-data',
      title: `Real data, standardised: C_hat vs X'X/rows, m = ${m}`,
      settings: {
        seed: o.seed,
        batches: m,
        datasets: sets.map((s) => s.name),
        batchSizes: sets.map((s) => s.batchSize),
        misfits: 'fit, n/10, n',
      },
      tables: [
        {
          title:
            "relative operator-norm error ||C_hat - H|| / ||H||, raw and best-rescaled; point = least-squares fit, or misfit d'Hd away from it",
          columns: [
            'data',
            'n',
            's2 at fit',
            'point',
            "d'Hd",
            'calibrated raw',
            'calibrated rescaled',
            'tau2=0 raw',
            'tau2=0 rescaled',
          ],
          rows,
        },
      ],
      plots: [
        {
          name: 'errors',
          caption:
            'Raw error of the gradient covariance on real data: calibrated (τ² = n − s²) against uncalibrated (τ² = 0), at the least-squares fit and at misfits n/10 and n.',
          spec: groupedBarChart({
            title: 'Real data: calibrated vs uncalibrated',
            data,
            x: { field: 'point', title: "evaluation point (misfit d'Hd from the fit)" },
            y: { field: 'error', title: 'error ‖Ĉ − H‖/‖H‖ (unitless)' },
            group: { field: 'setting', title: 'injected noise' },
            facet: { field: 'dataset', title: 'data set' },
          }),
        },
      ],
      findings,
    };
  },
};
