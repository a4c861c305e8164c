// Experiment `calibration`: the error of C_hat against H as the injected variance tau2/n
// sweeps {0, 1/16, 1/4, 1/2, 1, 2, 4, 16}, at w* and at two distances from it, raw and
// after the best rescaling. The method: the raw error is smallest at tau2 ~ n; at w* every
// tau2 gives H up to scale; away from w* small tau2 distorts the shape (rank-one term).
import { estimateHessian } from 'gradcov';
import {
  CONDITION as condition,
  LABEL_NOISE as s2,
  bestRescaledError,
  pointAway,
  predictedBias,
  rawError,
  ratioLabel,
  sizes,
  syntheticProblem,
} from './measures.js';
import { FRACTION_LABELS, lineChart } from '../plots.js';
import type { Experiment, ExperimentResult } from './types.js';

export const RATIOS = [0, 1 / 16, 1 / 4, 1 / 2, 1, 2, 4, 16];

export const calibration: Experiment = {
  name: 'calibration',
  summary:
    'error of C_hat vs H as tau2/n sweeps 0..16, at w* and two distances from it, raw and best-rescaled',
  async run(o): Promise<ExperimentResult> {
    const { dim, rows, n, m } = sizes(o, { batches: 20000 });
    const { p, H } = syntheticProblem(dim, rows, o.seed);
    const misfits = [0, n / 10, n];
    const labels = ['at w*', "d'Hd = n/10", "d'Hd = n"];
    const points = misfits.map((q) => pointAway(H, p.wStar, q, o.seed));
    o.progress.start('calibration', RATIOS.length * points.length);
    const raw: number[][] = [],
      scaled: number[][] = [],
      scales: number[][] = [];
    for (const ratio of RATIOS) {
      const r: number[] = [],
        s: number[] = [],
        c: number[] = [];
      for (const w of points) {
        const C = estimateHessian(p.data, w, {
          batchSize: n,
          batches: m,
          noiseVariance: ratio * n,
          seed: o.seed,
        }).hessian;
        r.push(rawError(C, H, dim));
        const best = bestRescaledError(C, H, dim);
        s.push(best.error);
        c.push(best.scale);
        await o.progress.tick();
      }
      raw.push(r);
      scaled.push(s);
      scales.push(c);
    }
    o.progress.stop();
    const bias = points.map((w) => predictedBias(H, w, p.wStar, dim, n));
    const argmin = (col: number, m: number[][]) =>
      RATIOS[m.reduce((b, r, i) => (r[col]! < m[b]![col]! ? i : b), 0)]!;
    const findings = labels.map(
      (l, j) =>
        `${l}: smallest raw error at tau2/n = ${ratioLabel(argmin(j, raw))} (${raw[RATIOS.indexOf(1)]![j]!.toFixed(3)} at tau2/n = 1; Gaussian-x bias predicted ${bias[j]!.toFixed(3)}); best-rescaled error at tau2/n = 0: ${scaled[0]![j]!.toFixed(3)}, at 1: ${scaled[RATIOS.indexOf(1)]![j]!.toFixed(3)}`,
    );
    const data = RATIOS.flatMap((ratio, i) =>
      labels.flatMap((point, j) => [
        { ratio, point, kind: 'raw', error: raw[i]![j]! },
        { ratio, point, kind: 'best rescaled', error: scaled[i]![j]! },
      ]),
    );
    const x = {
      field: 'ratio',
      title: 'injected noise variance τ²/n (multiples of the batch size n)',
      scale: { type: 'symlog', constant: 1 / 16 },
      values: RATIOS,
      labelExpr: FRACTION_LABELS,
    };
    const y = { field: 'error', title: 'error ‖Ĉ − H‖/‖H‖ (unitless, log)', scale: { type: 'log' } };
    return {
      name: 'calibration',
      title: `Calibration sweep: Gaussian x, d = ${dim}, cond(H) = ${condition}, ${rows} rows, label noise s2 = ${s2}`,
      settings: {
        seed: o.seed,
        dim,
        rows,
        condition,
        labelNoise: s2,
        inputs: 'gaussian',
        batchSize: n,
        batches: m,
        ratios: RATIOS,
        misfits,
      },
      tables: [
        {
          title: `relative operator-norm error ||C_hat - H|| / ||H|| (raw, and min over c of ||c C_hat - H|| / ||H||); n = ${n}, m = ${m}`,
          columns: [
            'tau2/n',
            ...labels.map((l) => `raw ${l}`),
            ...labels.map((l) => `rescaled ${l}`),
            'scale c at w*',
          ],
          rows: RATIOS.map((ratio, i) => [ratioLabel(ratio), ...raw[i]!, ...scaled[i]!, scales[i]![0]!]),
          markMinimum: [1, 2, 3],
        },
        {
          title:
            "Gaussian-x bias predicted by the method at tau2 = n - s2: ||((d'Hd) H + H d d' H) / n|| / ||H||",
          columns: ['point', "misfit d'Hd", 'predicted bias'],
          rows: labels.map((l, j) => [l, misfits[j]!, bias[j]!]),
        },
      ],
      plots: [
        {
          name: 'raw',
          caption: `Raw error of the gradient covariance against the injected noise at w* and at misfits n/10 and n; smallest at τ²/n = ${labels.map((l, j) => `${ratioLabel(argmin(j, raw))} (${l})`).join(', ')}.`,
          spec: lineChart({
            title: 'Raw error vs injected noise',
            data: data.filter((d) => d.kind === 'raw'),
            x,
            y,
            series: 'point',
            legend: 'evaluation point',
          }),
        },
        {
          name: 'rescaled',
          caption:
            'Error after the best rescaling, min over c of ‖cĈ − H‖/‖H‖: what remains is shape error (plus sampling error), which no scale removes.',
          spec: lineChart({
            title: 'Best-rescaled error vs injected noise',
            data: data.filter((d) => d.kind !== 'raw'),
            x,
            y,
            series: 'point',
            legend: 'evaluation point',
          }),
        },
      ],
      findings,
    };
  },
};
