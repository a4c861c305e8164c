// A data holder of the gradient-only trainer, inside a worker: its shard and its rounds.
import { linearRegressionGradients } from '../estimators/oracle.js';
import { RegressionDataset, type RegressionData } from '../data/dataset.js';
import { pairDifferences } from '../estimators/plan.js';

/** Set-up of one holder (sent once, before training), or one round's request. @internal */
export interface HolderMessage {
  type: string;
  holder?: number;
  shard?: RegressionData;
  batchSize?: number;
  batches?: number;
  noiseVariance?: number;
  seed?: number | bigint;
  stream?: number;
  w?: Float64Array;
  paired?: boolean;
}

/** A holder's round options: its batches of this round (firstBatch), their noise. @internal */
export interface HolderRoundOptions {
  batchSize: number;
  batches: number;
  noiseVariance: number;
  seed: number | bigint;
  stream: number;
  firstBatch: number;
  replacement: true;
}

/**
 * One holder's answer to a round, for every transport (the in-process trainer's workers and
 * gradcov/bullmq's holder threads): the batches' gradients at w; when paired, followed by the
 * same batches' pair differences g(xi1) - g(xi2) (a second noise draw on the same rows: 2
 * batches x dim values in all), the reply TrainingRounds.update reads. @internal
 */
export function holderRound(
  shard: RegressionDataset,
  w: Float64Array,
  options: HolderRoundOptions,
  paired: boolean,
): Float64Array {
  const G = linearRegressionGradients(shard, w, options);
  if (!paired) return G;
  const both = new Float64Array(2 * G.length);
  both.set(G);
  both.set(pairDifferences(shard, options), G.length);
  return both;
}

/**
 * A holder's state inside a worker: its shard (resident in the worker's wasm memory, loaded
 * once) and its round counter. A worker may host several holders. @internal
 */
export class HolderState {
  readonly #shard: RegressionDataset;
  readonly #opts: {
    batchSize: number;
    batches: number;
    noiseVariance: number;
    seed: number | bigint;
    stream: number;
  };
  readonly #paired: boolean;
  #round = 0;

  constructor(m: HolderMessage) {
    this.#shard = RegressionDataset.fromChecked(m.shard!); // validated by the coordinator
    this.#opts = {
      batchSize: m.batchSize!,
      batches: m.batches!,
      noiseVariance: m.noiseVariance!,
      seed: m.seed!,
      stream: m.stream!,
    };
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
    return holderRound(this.#shard, m.w!, { ...this.#opts, firstBatch, replacement: true }, this.#paired);
  }

  /** Frees the shard's wasm copy. */
  dispose(): void {
    this.#shard.dispose();
  }
}
