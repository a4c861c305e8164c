// The shape every experiment returns: tables and plots of plain numbers, so the same
// result prints as text, serialises to JSON and renders into the HTML report.
import type { Progress } from '../progress.js';

export type Cell = number | string | null;

export interface ResultTable {
  title: string;
  columns: string[];
  rows: Cell[][];
  /** Decimals used when the table is printed (the JSON keeps full precision). */
  digits?: number;
  /** Mark the smallest value of these columns with `*` when printed. */
  markMinimum?: number[];
}

export interface ResultPlot {
  /** File stem of the plot's SVG (`<experiment>-<name>.svg`). */
  name: string;
  /** One line saying what the plot shows. */
  caption: string;
  /** A Vega-Lite specification with its data inline; rendered only when --out is given. */
  spec: Record<string, unknown>;
}

export interface ExperimentResult {
  name: string;
  title: string;
  /** Every setting that determines the numbers (a rerun with these reproduces them). */
  settings: Record<string, number | string | boolean | number[] | string[]>;
  tables: ResultTable[];
  plots: ResultPlot[];
  /** Plain statements computed from the numbers: where they agree with the method's claims and where not. */
  findings: string[];
  /**
   * The parts that are wall-clock measurements, which no rerun reproduces: table columns
   * (by name), plots (by name) and findings (by index). Everything else is a function of
   * the settings.
   */
  wallClock?: { columns?: string[]; plots?: string[]; findings?: number[] };
}

/** Options shared by every experiment; undefined means the experiment's own default. */
export interface ExperimentOptions {
  seed: number;
  dim?: number;
  rows?: number;
  batchSize?: number;
  batches?: number;
  /** `dimension` only: the dimensions to sweep and m / d. */
  dims?: number[];
  batchesPerDim?: number;
  progress: Progress;
}

export interface Experiment {
  name: string;
  summary: string;
  run(options: ExperimentOptions): Promise<ExperimentResult>;
}
