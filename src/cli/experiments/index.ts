// The experiment registry, in the order `experiment all` runs them.
import { calibration } from './calibration.js';
import type { Experiment } from './types.js';

export const EXPERIMENTS: Experiment[] = [calibration];

export function findExperiment(name: string): Experiment | undefined {
  return EXPERIMENTS.find((e) => e.name === name);
}
