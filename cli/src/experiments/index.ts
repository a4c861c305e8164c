// The experiment registry, in the order `experiment all` runs them.
import { calibration } from './calibration.js';
import { batches } from './batches.js';
import { distributions } from './distributions.js';
import { dimension } from './dimension.js';
import { realData } from './real-data.js';
import { preconditioning } from './preconditioning.js';
import { adversarial } from './adversarial.js';
import { distributed } from './distributed.js';
import { unbiased } from './unbiased.js';
import { scale } from './scale.js';
import type { Experiment } from './types.js';

export const EXPERIMENTS: Experiment[] = [
  calibration,
  batches,
  distributions,
  dimension,
  realData,
  preconditioning,
  adversarial,
  distributed,
  unbiased,
  scale,
];

export function findExperiment(name: string): Experiment | undefined {
  return EXPERIMENTS.find((e) => e.name === name);
}
