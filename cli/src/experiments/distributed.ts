// Experiment `distributed`: gradient-only training on the diamonds data (standardised),
// split into K = 1, 2, 4 contiguous shards held by worker threads. Each round the
// coordinator sends w, the holders answer with batch gradients (target noise tau2 = n),
// and the coordinator steps w <- w - (H_hat + lambda I)^-1 g with H_hat from the gradients'
// covariance. Reports the excess risk of the averaged iterate against the centralised
// least-squares fit and the wall time of the rounds (the same rounds and batches for every K).
import { os } from './os.js';
import { leastSquares, standardize, type RegressionData } from 'gradcov';
import { createDistributedTrainer } from 'gradcov/node-workers';
import { loadDiamonds } from '../datasets.js';
import { pick } from './measures.js';
import { groupedBarChart } from '../plots.js';
import type { Cell, Experiment, ExperimentResult } from './types.js';

function meanSquaredError(d: RegressionData, w: Float64Array): number {
  let s = 0;
  for (let i = 0; i < d.rows; i++) {
    let r = -d.y[i]!;
    for (let j = 0; j < d.dim; j++) r += d.X[i * d.dim + j]! * w[j]!;
    s += r * r;
  }
  return s / d.rows;
}

function shard(d: RegressionData, k: number, K: number): RegressionData {
  const a = Math.floor((k * d.rows) / K),
    b = Math.floor(((k + 1) * d.rows) / K);
  return { X: d.X.slice(a * d.dim, b * d.dim), y: d.y.slice(a, b), rows: b - a, dim: d.dim };
}

/** Fixed: the speed-up compares the same number of rounds. */
const ROUNDS = 30;

export const distributed: Experiment = {
  name: 'distributed',
  summary:
    'gradient-only training on diamonds with K = 1, 2, 4 worker-thread data holders: excess risk vs least squares, wall time',
  async run(o): Promise<ExperimentResult> {
    const n = pick(o.batchSize, 64);
    const perRound = pick(o.batches, 16384);
    const rounds = ROUNDS;
    const raw = await loadDiamonds();
    const data = standardize(raw);
    const fit = leastSquares(data);
    const best = meanSquaredError(data, fit.w);
    const Ks = [1, 2, 4];
    const rows: Cell[][] = [];
    const plot = [];
    o.progress.start('distributed', Ks.length);
    const times: number[] = [];
    for (const K of Ks) {
      const t0 = performance.now();
      const trainer = await createDistributedTrainer(
        Array.from({ length: K }, (_, k) => shard(data, k, K)),
        { rounds, batchSize: n, batchesPerRound: perRound, seed: o.seed },
      );
      const startMs = performance.now() - t0;
      try {
        const r = await trainer.train();
        const excess = (meanSquaredError(data, r.w) - best) / best;
        const excessLast = (meanSquaredError(data, r.last) - best) / best;
        times.push(r.roundsMs);
        rows.push([
          K,
          rounds,
          trainer.batchesPerHolder.reduce((a, b) => a + b, 0),
          excess,
          excessLast,
          r.roundsMs,
          startMs,
          times[0]! / r.roundsMs,
        ]);
        plot.push({ holders: String(K), measure: 'rounds wall time (s)', value: r.roundsMs / 1000 });
      } finally {
        await trainer.close();
      }
      await o.progress.tick();
    }
    o.progress.stop();
    const at = (K: number) => rows[Ks.indexOf(K)]!;
    const findings = [
      `diamonds: ${data.rows} rows x ${data.dim} features, standardised; least-squares MSE ${best.toFixed(5)}; shards are contiguous row ranges (the file's order), so holders see different data.`,
      ...Ks.map(
        (K) =>
          `K = ${K}: relative excess risk of the averaged iterate ${(at(K)[3] as number).toExponential(2)} (last iterate ${(at(K)[4] as number).toExponential(2)}); ${rounds} rounds in ${((at(K)[5] as number) / 1000).toFixed(2)} s (workers started in ${(at(K)[6] as number).toFixed(0)} ms).`,
      ),
      `speed-up of the rounds, 2 holders vs 1: ${(at(2)[7] as number).toFixed(2)}x (target >= 1.7x); 4 vs 1: ${(at(4)[7] as number).toFixed(2)}x on ${os.cores} cores (load average ${os.load()} at the end: other processes share these cores).`,
    ];
    return {
      name: 'distributed',
      title: `Gradient-only distributed training on diamonds: K = 1, 2, 4 holders, ${rounds} rounds of ${perRound} batch gradients (n = ${n})`,
      settings: {
        seed: o.seed,
        batchSize: n,
        batchesPerRound: perRound,
        rounds,
        holders: Ks,
        noiseVariance: n,
        averageLast: Math.max(1, Math.floor(rounds / 2)),
      },
      tables: [
        {
          title:
            'excess risk (MSE(w) - MSE(w_ls)) / MSE(w_ls) and wall time; the same batches per round for every K',
          columns: [
            'holders K',
            'rounds',
            'batches/round',
            'rel. excess (avg iterate)',
            'rel. excess (last)',
            'rounds ms',
            'start ms',
            'speed-up vs K=1',
          ],
          rows,
          digits: 4,
        },
      ],
      plots: [
        {
          name: 'wall-time',
          caption:
            'Wall time of the same number of training rounds with 1, 2 and 4 data holders (worker threads) on this machine.',
          spec: groupedBarChart({
            title: 'Distributed rounds: wall time',
            data: plot,
            x: { field: 'holders', title: 'data holders K (count)' },
            y: { field: 'value', title: 'wall time of the rounds (s)' },
            group: { field: 'measure', title: 'measure' },
          }),
        },
      ],
      findings,
      wallClock: {
        columns: ['rounds ms', 'start ms', 'speed-up vs K=1'],
        plots: ['wall-time'],
        findings: [1, 2, 3, 4],
      },
    };
  },
};
