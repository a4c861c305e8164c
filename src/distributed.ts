// Gradient-only distributed training (MATH.md, "Gradient-only training"): K data holders
// each own a shard of (X, y); every round the coordinator sends w, each holder answers with
// batch gradients of its shard computed with calibrated target noise, and the coordinator
// estimates H from the gradients' covariance and takes a preconditioned step
// w <- w - eta (H_hat + lambda I)^-1 g. After set-up, the only messages are w (to the
// holders) and gradients (back). The holder side (HolderState) runs inside a worker via
// pool.ts's serveWorker; the transports live in src/node/workers.ts and src/web-workers.ts.
import { GradientCovariance } from './covariance.js';
import { linearRegressionGradients, type RegressionData } from './gradients.js';
import { pairDifferences } from './estimators.js';
import { Channel, startChannels, type Transport } from './pool.js';
import { choleskySolve } from './cholesky.js';
import {
  checkFloat64Array, checkLength, checkFinite, checkNonNegative, checkOptions, checkPositiveInteger, checkSeed, checkInteger, checkOneOf,
} from './validate.js';

/** Set-up of one holder (sent once, before training). @internal */
export interface HolderMessage {
  type: string;
  shard?: RegressionData;
  batchSize?: number;
  batches?: number;
  noiseVariance?: number;
  seed?: number | bigint;
  stream?: number;
  w?: Float64Array;
  paired?: boolean;
}

/** A holder's state inside its worker: its shard and its round counter. @internal */
export class HolderState {
  readonly #shard: RegressionData;
  readonly #opts: { batchSize: number; batches: number; noiseVariance: number; seed: number | bigint; stream: number };
  readonly #paired: boolean;
  #round = 0;

  constructor(m: HolderMessage) {
    this.#shard = m.shard!;
    this.#opts = { batchSize: m.batchSize!, batches: m.batches!, noiseVariance: m.noiseVariance!, seed: m.seed!, stream: m.stream! };
    this.#paired = m.paired ?? false;
  }

  /**
   * 'holder:round' { w } -> batches x dim gradients at w, fresh batches and noise every
   * round; when paired, followed by the batches' pair differences g(xi1) - g(xi2) (a second
   * noise draw on the same rows: 2 batches x dim in all).
   */
  handle(m: HolderMessage): Float64Array {
    if (m.type !== 'holder:round') throw new Error(`unknown holder message ${JSON.stringify(m.type)}`);
    const firstBatch = this.#round * this.#opts.batches;
    this.#round++;
    const G = linearRegressionGradients(this.#shard, m.w!, { ...this.#opts, firstBatch, replacement: true });
    if (!this.#paired) return G;
    const both = new Float64Array(2 * G.length);
    both.set(G);
    both.set(pairDifferences(this.#shard, { ...this.#opts, firstBatch, replacement: true }), G.length);
    return both;
  }
}

export interface TrainOptions {
  /** Rounds (preconditioned steps). */
  rounds: number;
  /** Samples per batch n. */
  batchSize: number;
  /** Batch gradients per round over all holders, split in proportion to shard rows. */
  batchesPerRound: number;
  /** Seed; holder k uses stream k, and round r uses batches [r m_k, (r + 1) m_k). */
  seed: number | bigint;
  /** Injected target-noise variance tau2 (default batchSize: the calibration with s2 taken as 0). */
  noiseVariance?: number;
  /**
   * How H_hat is estimated: 'paired' (default) from a second noise draw on each batch's
   * rows (pair differences, unbiased for H at every iterate whatever s2); 'calibrated' from
   * the pooled covariance of the gradients (H up to the scale (n + s2)/n, inflated by the
   * misfit far from the optimum).
   */
  hessianEstimator?: 'paired' | 'calibrated';
  /** Step size eta (default 1). */
  learningRate?: number;
  /** Ridge lambda added to H_hat (default 1e-8 times its mean diagonal). */
  ridge?: number;
  /** Average the iterates of the last `averageLast` rounds (default half the rounds; 1 = the last iterate). */
  averageLast?: number;
  /** Starting point (default zeros). */
  w0?: Float64Array;
}

export interface TrainResult {
  /** The averaged iterate (the answer). */
  w: Float64Array;
  /** The last iterate. */
  last: Float64Array;
  /** H_hat after the last round: pooled within-holder, within-round covariance of the pair differences ('paired') or of the gradients ('calibrated'). */
  hessian: Float64Array;
  /** Norm of the aggregated gradient g at each round. */
  gradientNorms: number[];
  rounds: number;
  /** Wall time of the rounds alone (ms), without starting the workers. */
  roundsMs: number;
}

type TrainSettings = Required<Omit<TrainOptions, 'w0' | 'ridge' | 'hessianEstimator'>> & { ridge: number | undefined; w0: Float64Array; paired: boolean };

/**
 * The coordinator of gradient-only training over K holders. Make one with
 * `createDistributedTrainer` from `gradcov/node-workers` or `gradcov/web-workers`.
 */
export class DistributedTrainer {
  readonly #channels: Channel[];
  readonly #rows: number[];
  readonly dim: number;
  readonly #opts: TrainSettings;
  readonly #batches: number[];
  #closed = false;

  /** @internal use createDistributedTrainer */
  constructor(channels: Channel[], rows: number[], dim: number, opts: TrainSettings, batches: number[]) {
    this.#channels = channels;
    this.#rows = rows;
    this.dim = dim;
    this.#opts = opts;
    this.#batches = batches;
  }

  /** Number of holders. */
  get holders(): number {
    return this.#channels.length;
  }

  /** Batch gradients each holder computes per round. */
  get batchesPerHolder(): readonly number[] {
    return this.#batches;
  }

  /**
   * Runs the rounds. Each round: post w to every holder, collect their gradients, update
   * H_hat (pooled co-moments: each holder's gradients, or pair differences, in each round
   * are centred on their own mean, so neither the holders' different shards nor the moving
   * w inflate it; pair differences are also free of the misfit term), take
   * g = the shard-size-weighted mean gradient, and step w <- w - eta (H_hat + lambda I)^-1 g.
   */
  async train(): Promise<TrainResult> {
    if (this.#closed) throw new Error('gradcov: this DistributedTrainer has been closed.');
    const { dim } = this;
    const o = this.#opts;
    const total = this.#rows.reduce((a, b) => a + b, 0);
    let w = Float64Array.from(o.w0);
    const avg = new Float64Array(dim);
    const pooled = new Float64Array(dim * dim);
    let dof = 0;
    const gradientNorms: number[] = [];
    const t0 = performance.now();
    for (let r = 0; r < o.rounds; r++) {
      const replies = await Promise.all(this.#channels.map((c) => c.request<Float64Array>({ type: 'holder:round', w })));
      const g = new Float64Array(dim);
      replies.forEach((reply, k) => {
        const rows = this.#batches[k]! * dim;
        const G = reply.subarray(0, rows);
        const acc = new GradientCovariance(dim);
        try {
          acc.addBatch(G);
          const mu = acc.mean();
          if (o.paired) acc.reset().addBatch(reply.subarray(rows, 2 * rows));
          const M = acc.comoment();
          for (let i = 0; i < M.length; i++) pooled[i] += M[i]!;
          dof += acc.count - 1;
          const share = this.#rows[k]! / total;
          for (let j = 0; j < dim; j++) g[j] += share * mu[j]!;
        } finally {
          acc.dispose();
        }
      });
      // pair differences have covariance (2 tau2 / n) H
      const hScale = o.paired ? o.batchSize / (2 * o.noiseVariance) : 1;
      const H = pooled.map((v) => (v * hScale) / dof);
      let tr = 0;
      for (let j = 0; j < dim; j++) tr += H[j * dim + j]!;
      const step = choleskySolve(H, dim, g, { ridge: o.ridge ?? 1e-8 * (tr / dim) }); // wasm Cholesky
      const next = new Float64Array(dim);
      for (let j = 0; j < dim; j++) next[j] = w[j]! - o.learningRate * step[j]!;
      w = next;
      gradientNorms.push(Math.hypot(...g));
      if (r >= o.rounds - o.averageLast) for (let j = 0; j < dim; j++) avg[j] += w[j]! / o.averageLast;
    }
    const roundsMs = performance.now() - t0;
    const hScale = o.paired ? o.batchSize / (2 * o.noiseVariance) : 1;
    return { w: avg, last: w, hessian: pooled.map((v) => (v * hScale) / dof), gradientNorms, rounds: o.rounds, roundsMs };
  }

  /** Ends the holders' workers. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#channels.map((c) => c.transport.terminate()));
  }
}

/**
 * Validates the shards and options, starts one worker per shard over `transports`, and
 * sends each holder its shard and settings (the set-up; afterwards only w and gradients
 * travel). @internal
 */
export async function trainerOver(makeTransport: () => Transport, shards: RegressionData[], options: TrainOptions): Promise<DistributedTrainer> {
  if (!Array.isArray(shards) || shards.length === 0) throw new TypeError('invalid argument: `shards` must be a non-empty array of { X, y, rows, dim }. Value: `' + String(shards) + '`.');
  const dim = checkPositiveInteger('shards[0].dim', shards[0]?.dim);
  shards.forEach((s, k) => {
    checkPositiveInteger(`shards[${k}].rows`, s?.rows);
    if (s.dim !== dim) throw new RangeError(`invalid argument: \`shards[${k}].dim\` must equal shards[0].dim (${dim}). Value: \`${String(s.dim)}\`.`);
    checkLength(`shards[${k}].X`, checkFloat64Array(`shards[${k}].X`, s.X), s.rows * dim, 'rows x dim');
    checkLength(`shards[${k}].y`, checkFloat64Array(`shards[${k}].y`, s.y), s.rows, 'rows');
    checkFinite(`shards[${k}].X`, s.X);
    checkFinite(`shards[${k}].y`, s.y);
  });
  const o = checkOptions('options', options);
  const rounds = checkPositiveInteger('rounds', o.rounds, 1e7);
  const batchSize = checkPositiveInteger('batchSize', o.batchSize, 0x7fffffff);
  const batchesPerRound = checkPositiveInteger('batchesPerRound', o.batchesPerRound, 0x7fffffff);
  if (o.seed === undefined) throw new TypeError('invalid argument: `seed` must be a number or a bigint. Value: `undefined`.');
  checkSeed('seed', o.seed);
  const noiseVariance = o.noiseVariance === undefined ? batchSize : checkNonNegative('noiseVariance', o.noiseVariance);
  const paired = (o.hessianEstimator === undefined ? 'paired' : checkOneOf('hessianEstimator', o.hessianEstimator, ['paired', 'calibrated'] as const)) === 'paired';
  if (paired && noiseVariance === 0) {
    throw new RangeError("invalid argument: `noiseVariance` must be > 0 with hessianEstimator 'paired'. Value: `0`.");
  }
  const learningRate = o.learningRate === undefined ? 1 : checkNonNegative('learningRate', o.learningRate);
  const ridge = o.ridge === undefined ? undefined : checkNonNegative('ridge', o.ridge);
  const averageLast = o.averageLast === undefined ? Math.max(1, Math.floor(rounds / 2)) : checkInteger('averageLast', o.averageLast, 1, rounds);
  let w0: Float64Array = new Float64Array(dim);
  if (o.w0 !== undefined) {
    w0 = checkFloat64Array('w0', o.w0);
    checkLength('w0', w0, dim, 'dim');
    checkFinite('w0', w0);
  }
  const total = shards.reduce((a, s) => a + s.rows, 0);
  const batches = shards.map((s) => Math.max(2, Math.round((batchesPerRound * s.rows) / total)));
  if (batches.some((b, k) => b * (rounds + 1) > 2 ** 32 || shards[k]!.rows < 1)) throw new RangeError('invalid argument: `rounds` x batches per holder must stay below 2^32.');
  const channels = await startChannels(shards.map(() => makeTransport()));
  try {
    await Promise.all(channels.map((c, k) => c.request({
      type: 'holder:init', shard: shards[k], batchSize, batches: batches[k], noiseVariance, seed: o.seed, stream: k, paired,
    })));
  } catch (err) {
    for (const c of channels) c.transport.terminate();
    throw err;
  }
  return new DistributedTrainer(channels, shards.map((s) => s.rows), dim,
    { rounds, batchSize, batchesPerRound, seed: o.seed as number | bigint, noiseVariance, learningRate, ridge, averageLast, w0, paired }, batches);
}
