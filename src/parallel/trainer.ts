// Gradient-only distributed training (docs/parallel.md, "The gradient-only distributed trainer"): K data holders
// each own a shard of (X, y); every round the coordinator sends w, each holder answers with
// batch gradients of its shard computed with calibrated target noise, and the coordinator
// estimates H from the gradients' covariance and takes a preconditioned step
// w <- w - eta (H_hat + lambda I)^-1 g. After set-up, the only messages are w (to the
// holders) and gradients (back). The holder side (HolderState) runs inside a worker via
// src/parallel/serve.ts's serveWorker (holder: src/parallel/holder.ts); the transports live in src/node/workers.ts and src/web-workers.ts.
import { oracleScratchBytes } from '../estimators/oracle.js';
import type { RegressionData } from '../data/dataset.js';
import { Channel, startChannels, makeTransports, type Transport } from './channel.js';
import { packData } from './shared-memory.js';
import { checkBlocks, byteCount } from '../core/wasm.js';
import { paddedDim } from '../core/covariance.js';
import { TrainingRounds, type TrainResult } from './round.js';
import {
  checkFloat64Array,
  checkLength,
  checkFinite,
  checkNonNegative,
  checkOptions,
  checkPositiveInteger,
  checkSeed,
  checkInteger,
  checkOneOf,
  isObject,
  show,
} from '../core/validate.js';

/** The keys of TrainOptions (any other key is rejected, naming the closest). @internal */
export const TRAIN_OPTION_KEYS = [
  'rounds',
  'batchSize',
  'batchesPerRound',
  'seed',
  'noiseVariance',
  'learningRate',
  'ridge',
  'averageLast',
  'w0',
  'workers',
  'hessianEstimator',
] as const;

/**
 * The trainer's scalar settings, checked and defaulted: shared by createDistributedTrainer
 * and gradcov/bullmq's trainOnQueues, so both refuse and default alike. @internal
 */
export function checkTrainSettings(o: Record<string, unknown>): {
  rounds: number;
  batchSize: number;
  batchesPerRound: number;
  seed: number | bigint;
  noiseVariance: number;
  paired: boolean;
  learningRate: number;
  ridge: number | undefined;
  averageLast: number;
} {
  const rounds = checkPositiveInteger('rounds', o.rounds, 1e7);
  const batchSize = checkPositiveInteger('batchSize', o.batchSize, 0x7fffffff);
  const batchesPerRound = checkPositiveInteger('batchesPerRound', o.batchesPerRound, 0x7fffffff);
  checkSeed('seed', o.seed);
  const noiseVariance =
    o.noiseVariance === undefined ? batchSize : checkNonNegative('noiseVariance', o.noiseVariance);
  const paired =
    (o.hessianEstimator === undefined
      ? 'paired'
      : checkOneOf('hessianEstimator', o.hessianEstimator, ['paired', 'calibrated'] as const)) === 'paired';
  if (paired && noiseVariance === 0) {
    throw new RangeError(
      "invalid argument: `noiseVariance` must be > 0 with hessianEstimator 'paired'. Value: `0`.",
    );
  }
  const learningRate = o.learningRate === undefined ? 1 : checkNonNegative('learningRate', o.learningRate);
  const ridge = o.ridge === undefined ? undefined : checkNonNegative('ridge', o.ridge);
  const averageLast =
    o.averageLast === undefined
      ? Math.max(1, Math.floor(rounds / 2))
      : checkInteger('averageLast', o.averageLast, 1, rounds);
  return {
    rounds,
    batchSize,
    batchesPerRound,
    seed: o.seed as number | bigint,
    noiseVariance,
    paired,
    learningRate,
    ridge,
    averageLast,
  };
}

/** Options of createDistributedTrainer (gradient-only training). */
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
  /**
   * Most worker threads to start (default: the number of cores). With more shards than
   * threads, each thread hosts several holders; the result does not depend on it.
   */
  workers?: number;
}

export type { TrainResult } from './round.js';

type TrainSettings = Required<Omit<TrainOptions, 'w0' | 'ridge' | 'workers' | 'hessianEstimator'>> & {
  ridge: number | undefined;
  w0: Float64Array;
  paired: boolean;
};

// Test hook: the live channels of a trainer (tests kill a worker through its transport).
const channelsOf = new WeakMap<DistributedTrainer, Channel[]>();

/** The transports of a trainer's workers, for tests that kill one. @internal */
export function trainerTransports(trainer: DistributedTrainer): Transport[] {
  return (channelsOf.get(trainer) ?? []).map((c) => c.transport);
}

/**
 * The coordinator of gradient-only training over K holders. Make one with
 * `createDistributedTrainer` from `gradcov/node-workers` or `gradcov/web-workers`.
 * Holders run on at most `workers` threads (several holders per thread when there are
 * more shards than threads). If a worker dies, the trainer is broken: train() rejects
 * with an error that says so, and the trainer should be closed.
 */
export class DistributedTrainer {
  readonly #channels: Channel[];
  readonly #thread: number[];
  readonly #rows: number[];
  /** Dimension of the shards (and of w). */
  readonly dim: number;
  readonly #opts: TrainSettings;
  readonly #batches: number[];
  #closed = false;
  #training = false;

  /** @internal use createDistributedTrainer */
  constructor(
    channels: Channel[],
    thread: number[],
    rows: number[],
    dim: number,
    opts: TrainSettings,
    batches: number[],
  ) {
    this.#channels = channels;
    this.#thread = thread;
    this.#rows = rows;
    this.dim = dim;
    this.#opts = opts;
    this.#batches = batches;
    channelsOf.set(this, channels);
  }

  /** Number of holders (shards). */
  get holders(): number {
    return this.#rows.length;
  }

  /** Number of worker threads the holders run on (at most the `workers` option). */
  get threads(): number {
    return this.#channels.length;
  }

  /** Batch gradients each holder computes per round. */
  get batchesPerHolder(): readonly number[] {
    return this.#batches;
  }

  #live(): void {
    if (this.#closed) throw new Error('gradcov: this DistributedTrainer has been closed.');
    const dead = this.#channels.findIndex((c) => c.failed);
    if (dead >= 0) {
      throw new Error(
        `gradcov: the DistributedTrainer is broken: worker ${dead} stopped (${this.#channels[dead]!.failed!.message}) and its holders' state is lost. Close it (await trainer.close()) and create a new trainer.`,
      );
    }
  }

  /**
   * Runs the rounds. Each round: post w to every holder, collect their gradients, update
   * H_hat (pooled co-moments: each holder's gradients, or pair differences, in each round
   * are centred on their own mean, so neither the holders' different shards nor the moving
   * w inflate it; pair differences are also free of the misfit term), take
   * g = the shard-size-weighted mean gradient, and step w <- w - eta (H_hat + lambda I)^-1 g.
   *
   * @returns the averaged and last iterates, H_hat, the gradient norms and the time of the rounds
   * @throws {RangeError} when training diverges (gradients, H_hat or w no longer finite),
   *   naming the round and the options to change; Error when a worker died (close the
   *   trainer) or when train() is already running
   * @example
   * const { w, hessian } = await trainer.train();
   */
  async train(): Promise<TrainResult> {
    this.#live();
    if (this.#training)
      throw new Error(
        'gradcov: DistributedTrainer.train() is already running; await it before calling train() again.',
      );
    this.#training = true;
    try {
      return await this.#train();
    } finally {
      this.#training = false;
    }
  }

  async #train(): Promise<TrainResult> {
    const run = new TrainingRounds(this.dim, this.#opts, this.#rows, this.#batches, this.#opts.w0);
    for (let r = 0; r < this.#opts.rounds; r++) {
      let replies: Float64Array[];
      try {
        const w = run.w;
        replies = await Promise.all(
          this.#rows.map((_, k) =>
            this.#channels[this.#thread[k]!]!.request<Float64Array>({ type: 'holder:round', holder: k, w }),
          ),
        );
      } catch (err) {
        this.#live(); // a dead worker: say the trainer is broken
        throw err;
      }
      run.update(r, replies);
    }
    return run.result();
  }

  /**
   * Ends the holders' workers. Safe to call twice; a broken trainer can (and should) be closed.
   * @returns when every worker has been terminated
   * @example
   * await trainer.close();
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#channels.map((c) => c.close()));
  }
}

/**
 * Holders onto threads: the largest first, each to the least-loaded thread (by batches per
 * round; ties to the lower index). The result does not depend on it. @internal
 */
export function assignHolders(batches: readonly number[], threads: number): number[] {
  const load = new Array<number>(threads).fill(0);
  const thread = new Array<number>(batches.length).fill(0);
  const order = batches.map((b, k) => [b, k] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [b, k] of order) {
    let t = 0;
    for (let i = 1; i < threads; i++) if (load[i]! < load[t]!) t = i;
    thread[k] = t;
    load[t] += b;
  }
  return thread;
}

/**
 * Validates the shards and options (every size checked against what a worker's wasm
 * memory can hold, before any worker starts), starts min(shards, workers) workers over
 * `makeTransport`, and sends each holder its shard and settings (the set-up; afterwards
 * only w and gradients travel). Each shard is copied once and moved to its worker; the
 * trainer keeps no reference to the caller's arrays. @internal
 */
export async function trainerOver(
  makeTransport: (index: number) => Transport,
  shards: RegressionData[],
  options: TrainOptions,
  defaultThreads: number,
): Promise<DistributedTrainer> {
  if (!Array.isArray(shards) || shards.length === 0)
    throw new TypeError(
      'invalid argument: `shards` must be a non-empty array of { X, y, rows, dim }. Value: `' +
        show(shards) +
        '`.',
    );
  if (!isObject(shards[0]))
    throw new TypeError(
      `invalid argument: \`shards[0]\` must be an object { X, y, rows, dim }. Value: \`${show(shards[0])}\`.`,
    );
  const dim = checkPositiveInteger('shards[0].dim', shards[0].dim);
  shards.forEach((s, k) => {
    if (!isObject(s))
      throw new TypeError(
        `invalid argument: \`shards[${k}]\` must be an object { X, y, rows, dim }. Value: \`${show(s)}\`.`,
      );
    checkPositiveInteger(`shards[${k}].rows`, s.rows);
    if (s.dim !== dim)
      throw new RangeError(
        `invalid argument: \`shards[${k}].dim\` must equal shards[0].dim (${dim}). Value: \`${show(s.dim)}\`.`,
      );
    checkLength(`shards[${k}].X`, checkFloat64Array(`shards[${k}].X`, s.X), s.rows * dim, 'rows x dim');
    checkLength(`shards[${k}].y`, checkFloat64Array(`shards[${k}].y`, s.y), s.rows, 'rows');
    checkFinite(`shards[${k}].X`, s.X);
    checkFinite(`shards[${k}].y`, s.y);
  });
  const o = checkOptions('options', options, TRAIN_OPTION_KEYS);
  const { rounds, batchSize, batchesPerRound, noiseVariance, paired, learningRate, ridge, averageLast } =
    checkTrainSettings(o);
  let w0: Float64Array = new Float64Array(dim);
  if (o.w0 !== undefined) {
    w0 = checkFloat64Array('w0', o.w0);
    checkLength('w0', w0, dim, 'dim');
    checkFinite('w0', w0);
    w0 = w0.slice();
  }
  const maxThreads =
    o.workers === undefined ? defaultThreads : checkPositiveInteger('workers', o.workers, 256);
  const total = shards.reduce((a, s) => a + s.rows, 0);
  const batches = shards.map((s) => Math.max(2, Math.round((batchesPerRound * s.rows) / total)));
  if (batches.some((b) => b * (rounds + 1) > 2 ** 32))
    throw new RangeError('invalid argument: `rounds` x batches per holder must stay below 2^32.');
  const threads = Math.min(shards.length, maxThreads);
  const thread = assignHolders(batches, threads);
  // every byte count a worker (and this thread, merging) will need, in 53-bit arithmetic,
  // before any worker starts: a size that passes here never breaks a worker's wasm
  for (let t = 0; t < threads; t++) {
    const mine = shards.map((_, k) => k).filter((k) => thread[k] === t);
    checkBlocks(
      [
        ...mine.flatMap((k) => [byteCount(shards[k]!.rows * dim, 8), byteCount(shards[k]!.rows, 8)]),
        oracleScratchBytes(0, batchSize, true) + (paired ? 8 * batchSize : 0), // the pair kernel's scratch: 32 batchSize bytes
        ...mine.map((k) => byteCount((paired ? 2 : 1) * batches[k]! * dim, 8)),
      ],
      `\`batchSize\` = ${batchSize} with \`batchesPerRound\` = ${batchesPerRound} and shards of dim ${dim}`,
      `worker ${t}'s shards, the gradient oracle's scratch (24 batchSize bytes; 32 when paired) and a round's gradients (8 batches dim bytes; twice when paired)`,
    );
  }
  const dp = paddedDim(dim);
  checkBlocks(
    [dp * dp * 8, ...batches.map((b) => byteCount(b * dim, 8))],
    `\`shards[0].dim\` = ${dim}`,
    "H_hat and a round's gradients on this thread",
  );
  // one copy of each shard, moved (not cloned) to its worker: the caller's arrays stay theirs
  const packed = shards.map((s, k) => packData(s, false, `shards[${k}]`));
  const channels = await startChannels(makeTransports(makeTransport, threads));
  try {
    await Promise.all(
      shards.map((_, k) =>
        channels[thread[k]!]!.request(
          {
            type: 'holder:init',
            holder: k,
            shard: packed[k],
            batchSize,
            batches: batches[k],
            noiseVariance,
            seed: o.seed,
            stream: k,
            paired,
          },
          [packed[k]!.X.buffer as ArrayBuffer],
        ),
      ),
    );
  } catch (err) {
    await Promise.all(channels.map((c) => c.close()));
    throw err;
  }
  return new DistributedTrainer(
    channels,
    thread,
    shards.map((s) => s.rows),
    dim,
    {
      rounds,
      batchSize,
      batchesPerRound,
      seed: o.seed as number | bigint,
      noiseVariance,
      learningRate,
      ridge,
      averageLast,
      w0,
      paired,
    },
    batches,
  );
}
