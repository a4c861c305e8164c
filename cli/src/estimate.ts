// `gradcov estimate`: the estimator on a user's CSV. Streams the file into the columns in
// use, standardises them in place (unless --no-standardize), fits least squares, injects
// the calibrated noise (n minus the residual variance at the fit, unless --noise),
// estimates the Hessian from m noisy batch gradients at the fit and compares it with
// X'X/rows. The data are copied into WebAssembly memory once (a RegressionDataset) and the
// JavaScript copy is released before the gradients are drawn.
import { readFileSync } from 'node:fs';
import {
  init,
  leastSquares,
  secondMomentMatrix,
  relativeError,
  calibratedNoiseVariance,
  estimateHessian,
  DEFAULT_BLOCK_BATCHES,
  RegressionDataset,
  type RegressionData,
  type EstimateOptions,
  type EstimatorMethod,
  type CurvatureEstimate,
} from 'gradcov';
import { blockwiseCovariance } from './blocks.js';
import { INTERCEPT, readCsvRegression, type CsvRegression, type MissingPolicy } from './csv.js';
import { UserError, warn } from './errors.js';
import { bestRescaledError } from './experiments/measures.js';
import { createProgress, silentProgress } from './progress.js';
import type { ExperimentResult } from './experiments/types.js';
import { checkOutDir, csvField, terminalText, writeAllOrNothing } from './output.js';

/** The files --out writes (checked before the work starts). */
const OUT_FILES = ['hessian.csv', 'second-moment.csv', 'estimate.json'] as const;
/** A column name in the terminal's matrices: at most this many characters. */
const NAME_WIDTH = 24;

export interface EstimateFlags {
  data: string;
  target: string;
  features?: string;
  batchSize: number;
  batches: number;
  noise?: number;
  standardize: boolean;
  /** Append a column of ones (with --no-standardize: the fit gets an intercept). */
  intercept?: boolean;
  missing: MissingPolicy;
  delimiter?: string;
  decimal: '.' | ',';
  seed: number;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  /** With --redis and --queue: the queue's workers compute the blocks (same bits). */
  redis?: string;
  queue?: string;
  redisTimeout?: number;
  /**
   * The estimator and, for two-level, its two variances. Default (undefined): calibrated
   * when the rule s2 + tau2 = n can hold (s2 <= n, or --noise given), else paired.
   */
  method?: EstimatorMethod;
  noiseLevels?: [number, number];
}

/** Matrices are printed for at most this many features (all of them are in --out and --json). */
const PRINT_DIM = 12;
/** A column whose standard deviation is at the rounding level of its mean is constant (as the library's standardize()). */
const CONSTANT_SD = 1e-12;

const toRows = (A: Float64Array, dim: number): number[][] =>
  Array.from({ length: dim }, (_, i) => Array.from(A.subarray(i * dim, (i + 1) * dim)));

function formatMatrix(A: Float64Array, rawNames: string[]): string {
  const names = rawNames.map((s) => terminalText(s, NAME_WIDTH)); // the user's names: no escapes, bounded width
  const dim = names.length;
  const cells = toRows(A, dim).map((r) => r.map((v) => v.toFixed(4)));
  let w = 0;
  for (const s of names) w = Math.max(w, s.length);
  for (const r of cells) for (const s of r) w = Math.max(w, s.length);
  return [
    ' '.repeat(w) + ' ' + names.map((s) => s.padStart(w)).join(' '),
    ...cells.map((r, i) => names[i]!.padStart(w) + ' ' + r.map((s) => s.padStart(w)).join(' ')),
  ].join('\n');
}

// names quoted per RFC 4180 and formula cells neutralised (csvField)
const csvMatrix = (A: Float64Array, names: string[]) =>
  [
    ['', ...names.map(csvField)].join(','),
    ...toRows(A, names.length).map((r, i) => [csvField(names[i]!), ...r].join(',')),
  ].join('\n') + '\n';

/**
 * Means and standard deviations of every used column (features, then the target), in two
 * passes. Standardised, a constant column becomes zero (and the rounding noise of its mean
 * +-1 values), so X'X is singular: it is rejected by name. In the data's own units
 * (`standardize` false) one constant non-zero feature column is the intercept (a column of
 * ones scaled) and is kept; a second one, a zero column or a constant target is rejected.
 * Cells are at most 1e150 in magnitude (csv.ts), so no sum here overflows.
 */
function columnStats(
  csv: CsvRegression & { file: string },
  standardize: boolean,
): { mean: Float64Array; sd: Float64Array } {
  const { X, y, rows, dim } = csv;
  const mean = new Float64Array(dim + 1),
    sd = new Float64Array(dim + 1);
  const varies = new Uint8Array(dim + 1);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let c = 0; c < dim; c++) {
      mean[c]! += X[o + c]! / rows;
      if (X[o + c] !== X[c]) varies[c] = 1;
    }
    mean[dim]! += y[r]! / rows;
    if (y[r] !== y[0]) varies[dim] = 1;
  }
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let c = 0; c < dim; c++) sd[c]! += (X[o + c]! - mean[c]!) ** 2 / rows;
    sd[dim]! += (y[r]! - mean[dim]!) ** 2 / rows;
  }
  let interceptColumn = -1;
  for (let c = 0; c <= dim; c++) {
    sd[c] = Math.sqrt(sd[c]!);
    if (!varies[c] || sd[c]! <= CONSTANT_SD * (1 + Math.abs(mean[c]!))) {
      const name = c < dim ? csv.features[c]! : csv.target;
      const first = c < dim ? X[c]! : y[0]!;
      if (!standardize && c < dim && !varies[c] && first !== 0 && rows > 1) {
        if (interceptColumn < 0) {
          interceptColumn = c;
          continue;
        }
        const other = csv.features[interceptColumn]!;
        const what = (f: string) => (f === INTERCEPT ? 'the --intercept column of ones' : `column "${f}"`);
        throw new UserError(
          `${csv.file}: ${what(other)} and ${what(name)} are both constant, so X'X is singular: keep one intercept (${name === INTERCEPT || other === INTERCEPT ? 'drop --intercept or leave the column out with --features' : 'leave one out with --features'}).`,
        );
      }
      const every =
        rows === 1
          ? `it has one row, ${first}`
          : !varies[c]
            ? `every value is ${first}`
            : `its values differ from ${first} only by rounding`;
      const asIntercept =
        standardize && c < dim && !varies[c] && first !== 0 && rows > 1
          ? ' (or keep it as the intercept with --no-standardize)'
          : '';
      throw new UserError(
        `${csv.file}: column "${name}" is constant (${every}): ${c < dim ? `leave it out with --features${asIntercept}` : 'there is nothing to regress on'}.`,
      );
    }
  }
  return { mean, sd };
}

/** Standardises features and target in place to mean 0, variance 1. */
function standardizeInPlace(csv: CsvRegression, mean: Float64Array, sd: Float64Array): void {
  const { X, y, rows, dim } = csv;
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let c = 0; c < dim; c++) X[o + c] = (X[o + c]! - mean[c]!) / sd[c]!;
    y[r] = (y[r]! - mean[dim]!) / sd[dim]!;
  }
}

const allFinite = (a: ArrayLike<number>): boolean => {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
};

export async function estimate(flags: EstimateFlags, command: string): Promise<void> {
  const features = flags.features?.split(',').map((s) => s.trim());
  if (flags.out) checkOutDir(flags.out, OUT_FILES); // before any work: a bad target fails now, not after the estimate
  const progress = createProgress({ quiet: Boolean(flags.quiet) });
  const read = await readCsvRegression({
    file: flags.data,
    target: flags.target,
    features,
    intercept: Boolean(flags.intercept),
    missing: flags.missing,
    delimiter: flags.delimiter,
    decimal: flags.decimal,
    progress,
  });
  const csv = Object.assign(read, { file: flags.data });
  const n = flags.batchSize,
    m = flags.batches,
    dim = csv.dim,
    rows = csv.rows;
  const { mean, sd } = columnStats(csv, flags.standardize);
  if (flags.standardize) standardizeInPlace(csv, mean, sd);
  const data: RegressionData = { X: csv.X, y: csv.y, rows, dim };
  await init();
  let fit: ReturnType<typeof leastSquares>;
  try {
    fit = leastSquares(data);
  } catch (err) {
    const col = /at column (\d+)/.exec(String(err))?.[1];
    const name =
      col === undefined
        ? ''
        : ` ("${csv.features[Number(col)]}" is constant or a combination of the columns before it; drop it with --features)`;
    throw new UserError(
      `${flags.data}: cannot fit least squares: ${err instanceof Error ? err.message : String(err)}${name}`,
    );
  }
  if (!allFinite(fit.w) || !Number.isFinite(fit.residualVariance)) {
    throw new UserError(
      `${flags.data}: the least-squares fit overflowed double precision: the columns' scales differ too much${flags.standardize ? '' : '; drop --no-standardize'}.`,
    );
  }
  // warned only once the data are known to be usable, so an error stays the only line
  if (n > rows) {
    warn(
      `--batch-size ${n} exceeds the ${rows} rows used from ${flags.data}: batches sample rows with replacement, so rows repeat within every batch; choose a batch size at most the rows.`,
    );
  }
  const tau2 = flags.noise ?? calibratedNoiseVariance(n, { baseNoiseVariance: fit.residualVariance });
  const H = secondMomentMatrix(data);
  // The calibrated covariance estimates H only when s2 + tau2 = n can hold: with a residual
  // variance above n (raw units: diamonds' price s2 = 2.3e6, n = 32) it is H times s2/n
  // (error 73462 there, against 0.0017 for paired), so the default is then paired, whose
  // error does not depend on s2 (docs/cli.md, "Which method").
  const autoPaired = flags.method === undefined && flags.noise === undefined && fit.residualVariance > n;
  const method: EstimatorMethod = flags.method ?? (autoPaired ? 'paired' : 'calibrated');
  const methodReason =
    flags.method !== undefined
      ? 'given by --method'
      : autoPaired
        ? `default for these data: the residual variance s2 = ${fit.residualVariance.toPrecision(4)} exceeds the batch size n = ${n}, so calibrated noise (s2 + tau2 = n) cannot be injected and the calibrated covariance would be H times s2/n = ${(fit.residualVariance / n).toPrecision(4)}; paired does not depend on s2`
        : flags.noise !== undefined
          ? 'default with --noise: the injected variance is given'
          : `default: the residual variance s2 = ${fit.residualVariance.toPrecision(4)} is at most n = ${n}, so calibrated noise tau2 = n - s2 can be injected`;
  let C: Float64Array;
  let est: CurvatureEstimate | undefined;
  // --out draws the spectrum with an error band from REPLICAS independent estimates of
  // m/REPLICAS batches each (other seeds), drawn while the data are resident (not with --redis)
  const replicaBatches = Math.floor(m / REPLICAS);
  const wantBand =
    Boolean(flags.out) &&
    !flags.redis &&
    dim <= SPECTRUM_DIM &&
    replicaBatches >= 2 &&
    (method === 'calibrated' || method === 'paired');
  const replicaPlan: [number, number][] = Array.from({ length: REPLICAS }, (_, k) => [
    replicaBatches,
    flags.seed + 1 + k,
  ]);
  const replicate = (f: (batches: number, seed: number) => Float64Array) =>
    replicaPlan.map(([b, s]) => f(b, s));
  let replicas: Float64Array[] | undefined;
  if (method !== 'calibrated') {
    // the library's estimator in the block plan every runner shares (blocks of
    // DEFAULT_BLOCK_BATCHES), so the result is the same bits with or without --redis
    const options: EstimateOptions = {
      batchSize: n,
      batches: m,
      seed: flags.seed,
      method,
      baseNoiseVariance: fit.residualVariance,
      ...(method === 'two-level'
        ? { noiseLevels: flags.noiseLevels ?? [n, 0] }
        : method === 'paired'
          ? flags.noise === undefined
            ? {}
            : { noiseVariance: flags.noise }
          : { noiseVariance: tau2 }),
    };
    try {
      if (flags.redis) {
        est = await (
          await import('./redis.js')
        ).redisEstimate(
          { redis: flags.redis, queue: flags.queue!, redisTimeout: flags.redisTimeout },
          data,
          fit.w,
          options,
          progress,
        );
      } else {
        const resident = new RegressionDataset(data);
        data.X = csv.X = new Float64Array(0);
        data.y = csv.y = new Float64Array(0);
        try {
          progress.start('estimate', 1, 'estimates');
          est = estimateHessian(resident, fit.w, { ...options, blockBatches: DEFAULT_BLOCK_BATCHES });
          await progress.tick();
          progress.stop();
          if (wantBand)
            replicas = replicate(
              (b, s) =>
                estimateHessian(resident, fit.w, {
                  ...options,
                  batches: b,
                  seed: s,
                  blockBatches: DEFAULT_BLOCK_BATCHES,
                }).hessian,
            );
        } finally {
          resident.dispose();
        }
      }
    } catch (err) {
      // 'debiased' without a fixed point, or a size the estimator refuses: one line, no stack
      if (err instanceof RangeError || err instanceof TypeError)
        throw new UserError(`--method ${method}: ${err.message.replace(/^invalid argument: /, '')}`);
      throw err;
    }
    C = est.hessian;
  } else if (flags.redis) {
    // the workers get the data from Redis, registered once by content hash
    C = await (
      await import('./redis.js')
    ).redisCovariance(
      { redis: flags.redis, queue: flags.queue!, redisTimeout: flags.redisTimeout },
      data,
      fit.w,
      n,
      m,
      tau2,
      flags.seed,
      progress,
    );
  } else {
    // one copy in wasm memory; the JavaScript copy is released before the gradients are drawn
    const resident = new RegressionDataset(data);
    data.X = csv.X = new Float64Array(0);
    data.y = csv.y = new Float64Array(0);
    try {
      C = await blockwiseCovariance(resident, fit.w, n, m, tau2, flags.seed, progress);
      if (wantBand) {
        const out: Float64Array[] = [];
        for (const [b, s] of replicaPlan)
          out.push(await blockwiseCovariance(resident, fit.w, n, b, tau2, s, silentProgress));
        replicas = out;
      }
    } finally {
      resident.dispose();
    }
  }
  if (!allFinite(C)) {
    throw new UserError(
      `the covariance of the gradients overflowed double precision (--noise ${tau2}${flags.standardize ? '' : ', --no-standardize'}): use a smaller --noise${flags.standardize ? '' : ' or standardise the columns'}.`,
    );
  }
  const error = relativeError(C, H, dim);
  const rescaled = bestRescaledError(C, H, dim);
  const result = {
    command,
    data: flags.data,
    delimiter: csv.delimiter,
    target: csv.target,
    features: csv.features,
    rowsRead: csv.rowsRead,
    rowsDropped: csv.dropped,
    rows,
    standardized: flags.standardize,
    batchSize: n,
    batches: m,
    seed: flags.seed,
    residualVariance: fit.residualVariance,
    method,
    methodReason,
    intercept: Boolean(flags.intercept),
    noiseVariance: est?.noiseVariance ?? tau2,
    ...(est
      ? {
          noiseLevels: est.noiseLevels,
          gradientEvaluations: est.gradientEvaluations,
          ...(est.misfit === undefined ? {} : { misfit: est.misfit }),
        }
      : {}),
    totalNoiseOverN: (fit.residualVariance + tau2) / n,
    weights: Array.from(fit.w),
    relativeError: error,
    bestRescaledError: rescaled.error,
    bestScale: rescaled.scale,
    hessian: toRows(C, dim),
    secondMoment: toRows(H, dim),
  };
  let figures: string[] = [];
  const spectrum = flags.out && dim <= SPECTRUM_DIM ? await spectra(C, H, dim, replicas) : undefined;
  if (spectrum) Object.assign(result, { spectrum });
  if (flags.out) {
    // the three data files all or none; then the figures' report
    writeAllOrNothing(flags.out, [
      ['hessian.csv', csvMatrix(C, csv.features)],
      ['second-moment.csv', csvMatrix(H, csv.features)],
      ['estimate.json', JSON.stringify(result, null, 2) + '\n'],
    ]);
    figures = await writeEstimateReport(flags.out, command, {
      C,
      H,
      names: csv.features,
      method,
      n,
      m,
      data: flags.data,
      error,
      spectrum,
    });
  }
  if (flags.json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  const matrices =
    dim <= PRINT_DIM
      ? [
          est
            ? `estimated Hessian (method ${method}):`
            : 'estimated Hessian C_hat (covariance of the noisy batch gradients at the fit):',
          formatMatrix(C, csv.features),
          '',
          "data second-moment matrix H = X'X/rows:",
          formatMatrix(H, csv.features),
        ]
      : [`(${dim} x ${dim} matrices are not printed: --out writes them as CSV, --json prints them)`];
  const lines = [
    `${terminalText(flags.data, 200)}: ${rows} rows used of ${csv.rowsRead}${csv.dropped ? ` (${csv.dropped} dropped for missing values)` : ''}, ${dim} features, target "${terminalText(csv.target)}"${flags.standardize ? ', features and target standardised' : ', original units'}`,
    est
      ? `least-squares fit: residual variance s2 = ${fit.residualVariance.toPrecision(4)}`
      : `least-squares fit: residual variance s2 = ${fit.residualVariance.toPrecision(4)}; injected tau2 = ${tau2.toPrecision(4)} (${flags.noise === undefined ? 'calibrated: s2 + tau2 = n' : '--noise'}); (s2 + tau2)/n = ${result.totalNoiseOverN.toFixed(3)}`,
    `n = ${n} rows per batch, m = ${m} batches, seed ${flags.seed}`,
    ...(autoPaired ? [`method paired (${methodReason}; --method calibrated forces it)`] : []),
    ...(est
      ? [
          `method ${method}: injected noise ${est.noiseLevels.map((v) => v.toPrecision(4)).join(' and ')}, ${est.gradientEvaluations} gradient evaluations${est.misfit === undefined ? '' : `, misfit d'Hd = ${est.misfit.toPrecision(4)}`}`,
        ]
      : []),
    '',
    ...matrices,
    '',
    `relative operator-norm error ||C_hat - H|| / ||H|| = ${error.toFixed(4)}`,
    `after the best rescaling: min_c ||c C_hat - H|| / ||H|| = ${rescaled.error.toFixed(4)} at c = ${rescaled.scale.toFixed(4)}`,
  ];
  if (!est && result.totalNoiseOverN > 1.5)
    lines.push(
      `note: the residual variance exceeds n, so C_hat estimates H only up to the scale (s2 + tau2)/n = ${result.totalNoiseOverN.toFixed(3)}; standardise, use a larger batch size, or use --method paired (its error does not depend on s2).`,
    );
  if (flags.out)
    lines.push(
      '',
      `wrote hessian.csv, second-moment.csv, estimate.json and ${figures.join(', ')} to ${terminalText(flags.out, 200)}`,
    );
  process.stdout.write(lines.join('\n') + '\n');
}

/** The spectrum is drawn up to this many features (a dense symmetric eigendecomposition, O(d^3)). */
export const SPECTRUM_DIM = 500;
/** The heat maps are drawn up to this many features (2 d^2 cells). */
export const HEATMAP_DIM = 100;

/** Eigenvalues of a symmetric matrix, largest first (ml-matrix, loaded only for --out). */
async function eigenvaluesDescending(A: Float64Array, dim: number): Promise<number[]> {
  const { Matrix, EigenvalueDecomposition } = await import('ml-matrix');
  const rows = toRows(A, dim);
  return new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true }).realEigenvalues.sort(
    (a, b) => b - a,
  );
}

/** Independent replicate estimates behind the error band of the spectrum. */
export const REPLICAS = 8;
/** The 97.5% quantile of Student's t with REPLICAS - 1 = 7 degrees of freedom: the band is a 95% interval. */
const T_975_7 = 2.365;

interface Spectra {
  /** Eigenvalues, largest first: of the estimate and of X'X/rows. */
  estimated: number[];
  reference: number[];
  /** The 95% band, estimated +- t(0.975, 7) standard errors (absent without replicas). */
  lower?: number[];
  upper?: number[];
}

/**
 * The two spectra, and the band: the standard error of eigenvalue i is the spread of the
 * REPLICAS replicate estimates' eigenvalue i (each from m/REPLICAS batches) over
 * sqrt(REPLICAS), since the error falls like 1/sqrt(batches) (batch means; no assumption
 * on the gradients' distribution; a formula such as lambda_i sqrt(2/m) for Gaussian
 * gradients covered the diamonds data's three small eigenvalues in none of 6 runs).
 */
async function spectra(
  C: Float64Array,
  H: Float64Array,
  dim: number,
  replicas?: Float64Array[],
): Promise<Spectra> {
  const estimated = await eigenvaluesDescending(C, dim),
    reference = await eigenvaluesDescending(H, dim);
  if (!replicas) return { estimated, reference };
  const eig = await Promise.all(replicas.map((R) => eigenvaluesDescending(R, dim)));
  const k = eig.length;
  const se = estimated.map((_, i) => {
    let mean = 0,
      ss = 0;
    for (const e of eig) mean += e[i]! / k;
    for (const e of eig) ss += (e[i]! - mean) ** 2;
    return Math.sqrt(ss / (k - 1)) / Math.sqrt(k);
  });
  return {
    estimated,
    reference,
    lower: estimated.map((v, i) => v - T_975_7 * se[i]!),
    upper: estimated.map((v, i) => v + T_975_7 * se[i]!),
  };
}

/**
 * report.html of `estimate --out`: the estimated spectrum with its error band next to
 * X'X/rows's, and heat maps of both matrices on one colour scale.
 */
async function writeEstimateReport(
  dir: string,
  command: string,
  e: {
    C: Float64Array;
    H: Float64Array;
    names: string[];
    method: EstimatorMethod;
    n: number;
    m: number;
    data: string;
    error: number;
    spectrum?: Spectra;
  },
): Promise<string[]> {
  const { spectrumChart, heatMaps } = await import('./plots.js');
  const { writeReport } = await import('./report.js');
  const dim = e.names.length;
  const plots: ExperimentResult['plots'] = [];
  const notes: string[] = [];
  if (e.spectrum) {
    const { estimated: est, reference: ref, lower, upper } = e.spectrum;
    const band = lower && upper ? { lower, upper, label: '95% band (± 2.37 standard errors)' } : undefined;
    plots.push({
      name: 'spectrum',
      caption:
        `Eigenvalues of the estimated Hessian (method ${e.method}) and of X'X/rows, largest first.` +
        (band
          ? ` The band is a 95% interval for each eigenvalue, ± 2.37 standard errors (Student's t, 7 degrees of freedom), the standard error being the spread of ${REPLICAS} independent estimates of ${Math.floor(e.m / REPLICAS)} batches each (other seeds) over sqrt(${REPLICAS}).`
          : ` No band: it is drawn for methods calibrated and paired without --redis, with at least ${2 * REPLICAS} batches.`),
      spec: spectrumChart({
        title: `Spectrum: estimate vs X'X/rows (${dim} features)`,
        estimated: est,
        reference: ref,
        estimatedLabel: `estimated (${e.method})`,
        referenceLabel: "X'X/rows",
        ...(band ? { band } : {}),
      }),
    });
  } else
    notes.push(
      `The spectrum is drawn up to ${SPECTRUM_DIM} features; these data have ${dim} (the matrices are in hessian.csv and second-moment.csv).`,
    );
  if (dim <= HEATMAP_DIM) {
    plots.push({
      name: 'matrices',
      caption:
        "The estimated Hessian and X'X/rows entry by entry, on one colour scale symmetric about 0 (red positive, blue negative).",
      spec: heatMaps({
        title: `Estimated Hessian (${e.method}) and X'X/rows`,
        names: e.names,
        matrices: [
          { label: `estimated (${e.method})`, values: e.C },
          { label: "X'X/rows", values: e.H },
        ],
      }),
    });
  } else notes.push(`The heat maps are drawn up to ${HEATMAP_DIM} features; these data have ${dim}.`);
  const result: ExperimentResult = {
    name: 'estimate',
    title: `${e.data}: the estimated Hessian and X'X/rows`,
    settings: { data: e.data, features: dim, method: e.method, batchSize: e.n, batches: e.m },
    tables: [],
    plots,
    findings: [`relative operator-norm error ||C_hat - H|| / ||H|| = ${e.error.toFixed(4)}`, ...notes],
  };
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return await writeReport(dir, { command, version: pkg.version, results: [result] }, { json: false });
}
