// The training round update, ONE copy for every transport: the in-process DistributedTrainer
// (src/parallel/trainer.ts, holders in workers) and gradcov/bullmq's trainOnQueues (holders
// behind queues) both hand each round's replies to TrainingRounds.update, so for the same
// shards and options they give the same bits, and a diverging run stops with the same error
// (round, cause, options to change) before a non-finite w can reach a holder.
//
// A reply is one holder's gradients of one round: `batches[k]` rows of length dim (the mean
// gradient's batches), followed, with the paired estimator, by as many rows of pair
// differences (H_hat's rows). The update: g = sum_k (rows_k / total) mean_k; H_hat = pooled
// within-holder, within-round co-moments / dof (times n / (2 tau2) for pair differences);
// w <- w - eta (H_hat + lambda I)^-1 g, with lambda = ridge or 1e-8 tr(H_hat) / dim.
import { GradientCovariance } from '../core/covariance.js';
import { choleskySolve } from '../core/cholesky.js';

/** What DistributedTrainer.train() and trainOnQueues return. */
export interface TrainResult {
  /** The averaged iterate (the answer). */
  w: Float64Array;
  /** The last iterate. */
  last: Float64Array;
  /** H_hat after the last round: pooled within-holder, within-round covariance of the pair differences ('paired') or of the gradients ('calibrated'). */
  hessian: Float64Array;
  /** Norm of the aggregated gradient g at each round. */
  gradientNorms: number[];
  /** Rounds run. */
  rounds: number;
  /** Wall time of the rounds alone (ms), without starting the workers. */
  roundsMs: number;
}

/** The settings the round update reads (checked by checkTrainSettings). @internal */
export interface RoundSettings {
  rounds: number;
  batchSize: number;
  noiseVariance: number;
  paired: boolean;
  learningRate: number;
  ridge: number | undefined;
  averageLast: number;
}

const norm = (v: Float64Array): number => Math.hypot(...v);
const allFinite = (v: Float64Array): boolean => v.every((x) => x - x === 0);

/**
 * The state of a training run across rounds (w, the average of the last iterates, the pooled
 * co-moments) and the one round update. @internal
 */
export class TrainingRounds {
  readonly dim: number;
  #s: RoundSettings;
  #rows: readonly number[];
  #batches: readonly number[];
  #total: number;
  #w: Float64Array;
  #avg: Float64Array;
  #pooled: Float64Array;
  #dof = 0;
  #norms: number[] = [];
  #largest = 0; // largest |gradient element| seen, for the divergence message
  #t0 = performance.now();

  /** `rows[k]`: holder k's shard rows; `batches[k]`: its batch gradients per round. */
  constructor(
    dim: number,
    settings: RoundSettings,
    rows: readonly number[],
    batches: readonly number[],
    w0: Float64Array,
  ) {
    this.dim = dim;
    this.#s = settings;
    this.#rows = rows;
    this.#batches = batches;
    this.#total = rows.reduce((a, b) => a + b, 0);
    this.#w = Float64Array.from(w0);
    this.#avg = new Float64Array(dim);
    this.#pooled = new Float64Array(dim * dim);
  }

  /** The current iterate (what the next round's holders evaluate at): always finite. */
  get w(): Float64Array {
    return this.#w;
  }

  /** The number of doubles holder k's reply must hold. */
  replyLength(k: number): number {
    return (this.#s.paired ? 2 : 1) * this.#batches[k]! * this.dim;
  }

  #diverged(r: number, what: string, cause?: unknown): RangeError {
    const s = this.#s;
    return new RangeError(
      `gradcov: training stopped at round ${r + 1} of ${s.rounds}: ${what} (largest gradient element ${this.#largest}, |w| = ${norm(this.#w)}). ` +
        `If w is growing, lower \`learningRate\` (now ${s.learningRate}) or raise \`ridge\` (now ${s.ridge ?? 'the default'}); ` +
        `otherwise standardize the shards or lower \`noiseVariance\` (now ${s.noiseVariance}).`,
      cause === undefined ? undefined : { cause },
    );
  }

  /**
   * Round r's update from every holder's reply (in holder order). Throws a RangeError naming
   * the round and the options to change when the gradients, H_hat or the next iterate are not
   * finite or H_hat + ridge I cannot be factored; the state is then left as before the round.
   */
  update(r: number, replies: readonly Float64Array[]): void {
    const { dim } = this;
    const s = this.#s;
    const pooled = Float64Array.from(this.#pooled);
    let dof = this.#dof;
    const g = new Float64Array(dim);
    replies.forEach((reply, k) => {
      if (reply.length !== this.replyLength(k))
        throw new RangeError(
          `gradcov: round ${r + 1}: holder ${k} sent ${reply.length} values, the round needs ${this.replyLength(k)}.`,
        );
      const half = this.#batches[k]! * dim;
      for (const v of reply) this.#largest = Math.max(this.#largest, Math.abs(v));
      if (!allFinite(reply)) throw this.#diverged(r, `holder ${k}'s gradients are not finite`);
      const acc = new GradientCovariance(dim);
      try {
        let M: Float64Array, mu: Float64Array;
        try {
          acc.addBatch(reply.subarray(0, half));
          mu = acc.mean();
          if (s.paired) acc.reset().addBatch(reply.subarray(half, 2 * half)); // H_hat from the pair differences
          M = acc.comoment();
        } catch (err) {
          if (err instanceof RangeError)
            throw this.#diverged(
              r,
              `the covariance of holder ${k}'s gradients is not representable (${err.message})`,
              err,
            );
          throw err;
        }
        for (let i = 0; i < M.length; i++) pooled[i] += M[i]!;
        dof += acc.count - 1;
        const share = this.#rows[k]! / this.#total;
        for (let j = 0; j < dim; j++) g[j] += share * mu[j]!;
      } finally {
        acc.dispose();
      }
    });
    const H = this.#hessian(pooled, dof);
    if (!allFinite(H) || !allFinite(g))
      throw this.#diverged(
        r,
        "the Hessian estimate H_hat (the gradients' covariance) or the mean gradient overflows",
      );
    let tr = 0;
    for (let j = 0; j < dim; j++) tr += H[j * dim + j]!;
    let step: Float64Array;
    try {
      step = choleskySolve(H, dim, g, { ridge: s.ridge ?? 1e-8 * (tr / dim) }); // wasm Cholesky
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      throw new RangeError(
        `gradcov: the preconditioned step failed at round ${r + 1}: H_hat + ridge I could not be factored (${err.message}). Raise \`ridge\` (now ${s.ridge ?? 'the default'}).`,
        { cause: err },
      );
    }
    const next = new Float64Array(dim);
    for (let j = 0; j < dim; j++) next[j] = this.#w[j]! - s.learningRate * step[j]!;
    if (!allFinite(next)) throw this.#diverged(r, 'the next iterate is not finite');
    this.#pooled = pooled;
    this.#dof = dof;
    this.#w = next;
    this.#norms.push(norm(g));
    if (r >= s.rounds - s.averageLast) for (let j = 0; j < dim; j++) this.#avg[j] += next[j]! / s.averageLast;
  }

  // pair differences have covariance (2 tau2 / n) H
  #hessian(pooled: Float64Array, dof: number): Float64Array {
    const hScale = this.#s.paired ? this.#s.batchSize / (2 * this.#s.noiseVariance) : 1;
    return pooled.map((v) => (v * hScale) / dof);
  }

  /** The run's result after its last round. */
  result(): TrainResult {
    return {
      w: this.#avg,
      last: this.#w,
      hessian: this.#hessian(this.#pooled, this.#dof),
      gradientNorms: this.#norms,
      rounds: this.#s.rounds,
      roundsMs: performance.now() - this.#t0,
    };
  }
}
