// `gradcov estimate`: the estimator on a user's CSV. Fits least squares, injects the
// calibrated noise (n minus the residual variance at the fit, unless --noise), estimates
// the Hessian from m noisy batch gradients at the fit and compares it with X'X/rows.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  init, standardize, leastSquares, secondMomentMatrix, relativeError, calibratedNoiseVariance,
  linearRegressionGradients, GradientCovariance, type RegressionData,
} from 'gradcov';
import { csvToRegression, type CsvRegression, type MissingPolicy } from './csv.js';
import { bestRescaledError } from './experiments/measures.js';
import { createProgress, type Progress } from './progress.js';

export interface EstimateFlags {
  data: string; target: string; features?: string; batchSize: number; batches: number; noise?: number;
  standardize: boolean; missing: MissingPolicy; seed: number; out?: string; json?: boolean; quiet?: boolean;
}

/** Gradients per chunk: a multiple of the accumulator's 256-row block, so chunking does not change the result. */
const CHUNK = 4096;

async function covarianceOfGradients(data: RegressionData, w: Float64Array, n: number, m: number, tau2: number, seed: number, progress: Progress): Promise<Float64Array> {
  const acc = new GradientCovariance(data.dim);
  try {
    progress.start('estimate', Math.ceil(m / CHUNK));
    for (let b = 0; b < m; b += CHUNK) {
      const count = Math.min(CHUNK, m - b);
      acc.addBatch(linearRegressionGradients(data, w, { batchSize: n, batches: count, noiseVariance: tau2, seed, firstBatch: b }));
      await progress.tick();
    }
    progress.stop();
    return acc.covariance();
  } finally {
    acc.dispose();
  }
}

const toRows = (A: Float64Array, dim: number): number[][] => Array.from({ length: dim }, (_, i) => Array.from(A.subarray(i * dim, (i + 1) * dim)));

function formatMatrix(A: Float64Array, names: string[]): string {
  const dim = names.length;
  const cells = toRows(A, dim).map((r) => r.map((v) => v.toFixed(4)));
  const w = Math.max(...names.map((s) => s.length), ...cells.flat().map((s) => s.length));
  return [' '.repeat(w) + ' ' + names.map((s) => s.padStart(w)).join(' '), ...cells.map((r, i) => names[i]!.padStart(w) + ' ' + r.map((s) => s.padStart(w)).join(' '))].join('\n');
}

const csvMatrix = (A: Float64Array, names: string[]) => [['', ...names].join(','), ...toRows(A, names.length).map((r, i) => [names[i], ...r].join(','))].join('\n') + '\n';

/**
 * A constant column makes X'X singular, and standardize() would turn the rounding noise of
 * its mean into a column of +-1 values; reject it by name before either happens.
 */
function rejectConstantColumns(csv: CsvRegression, file: string): void {
  const { X, y, rows, dim } = csv;
  for (let c = 0; c <= dim; c++) {
    const at = (r: number) => (c < dim ? X[r * dim + c]! : y[r]!);
    let r = 1;
    while (r < rows && at(r) === at(0)) r++;
    if (r === rows) {
      const name = c < dim ? csv.features[c]! : csv.target;
      throw new Error(`${file}: column "${name}" is constant (every value is ${at(0)}): ${c < dim ? 'leave it out with --features' : 'there is nothing to regress on'}.`);
    }
  }
}

export async function estimate(flags: EstimateFlags, command: string): Promise<void> {
  let text: string;
  try {
    text = readFileSync(flags.data, 'utf8');
  } catch (err) {
    throw new Error(`cannot read --data ${JSON.stringify(flags.data)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const features = flags.features?.split(',').map((s) => s.trim());
  const csv = csvToRegression(text, { file: flags.data, target: flags.target, features, missing: flags.missing });
  rejectConstantColumns(csv, flags.data);
  await init();
  const data: RegressionData = flags.standardize ? standardize(csv) : csv;
  const n = flags.batchSize, m = flags.batches, dim = data.dim;
  let fit: ReturnType<typeof leastSquares>;
  try {
    fit = leastSquares(data);
  } catch (err) {
    const col = /at column (\d+)/.exec(String(err))?.[1];
    const name = col === undefined ? '' : ` ("${csv.features[Number(col)]}" is constant or a combination of the columns before it; drop it with --features)`;
    throw new Error(`${flags.data}: cannot fit least squares: ${err instanceof Error ? err.message : String(err)}${name}`);
  }
  const tau2 = flags.noise ?? calibratedNoiseVariance(n, { baseNoiseVariance: fit.residualVariance });
  const C = await covarianceOfGradients(data, fit.w, n, m, tau2, flags.seed, createProgress({ quiet: Boolean(flags.quiet) }));
  const H = secondMomentMatrix(data);
  const error = relativeError(C, H, dim);
  const rescaled = bestRescaledError(C, H, dim);
  const result = {
    command, data: flags.data, target: csv.target, features: csv.features, rowsRead: csv.rowsRead, rowsDropped: csv.dropped, rows: data.rows,
    standardized: flags.standardize, batchSize: n, batches: m, seed: flags.seed, residualVariance: fit.residualVariance,
    noiseVariance: tau2, totalNoiseOverN: (fit.residualVariance + tau2) / n, weights: Array.from(fit.w),
    relativeError: error, bestRescaledError: rescaled.error, bestScale: rescaled.scale,
    hessian: toRows(C, dim), secondMoment: toRows(H, dim),
  };
  if (flags.out) {
    mkdirSync(flags.out, { recursive: true });
    writeFileSync(join(flags.out, 'hessian.csv'), csvMatrix(C, csv.features));
    writeFileSync(join(flags.out, 'second-moment.csv'), csvMatrix(H, csv.features));
    writeFileSync(join(flags.out, 'estimate.json'), JSON.stringify(result, null, 2) + '\n');
  }
  if (flags.json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  const lines = [
    `${flags.data}: ${data.rows} rows used of ${csv.rowsRead}${csv.dropped ? ` (${csv.dropped} dropped for missing values)` : ''}, ${dim} features, target "${csv.target}"${flags.standardize ? ', features and target standardised' : ', original units'}`,
    `least-squares fit: residual variance s2 = ${fit.residualVariance.toPrecision(4)}; injected tau2 = ${tau2.toPrecision(4)} (${flags.noise === undefined ? 'calibrated: s2 + tau2 = n' : '--noise'}); (s2 + tau2)/n = ${result.totalNoiseOverN.toFixed(3)}`,
    `n = ${n} rows per batch, m = ${m} batches, seed ${flags.seed}`,
    '',
    'estimated Hessian C_hat (covariance of the noisy batch gradients at the fit):',
    formatMatrix(C, csv.features),
    '',
    "data second-moment matrix H = X'X/rows:",
    formatMatrix(H, csv.features),
    '',
    `relative operator-norm error ||C_hat - H|| / ||H|| = ${error.toFixed(4)}`,
    `after the best rescaling: min_c ||c C_hat - H|| / ||H|| = ${rescaled.error.toFixed(4)} at c = ${rescaled.scale.toFixed(4)}`,
  ];
  if (result.totalNoiseOverN > 1.5) lines.push(`note: the residual variance exceeds n, so C_hat estimates H only up to the scale (s2 + tau2)/n = ${result.totalNoiseOverN.toFixed(3)}; standardise or use a larger batch size.`);
  if (flags.out) lines.push('', `wrote hessian.csv, second-moment.csv and estimate.json to ${flags.out}`);
  process.stdout.write(lines.join('\n') + '\n');
}
