#!/usr/bin/env node
// The `gradcov` command line: `demo`, `experiment <name>` and `estimate`. Node-only; the
// core (src/*.ts) stays free of Node APIs and of the plotting libraries, which report.ts
// loads on demand.
import { readFileSync } from 'node:fs';
import { Argument, Command, Option } from 'commander';
import { init } from 'gradcov';
import { demo } from './demo.js';
import { EXPERIMENTS, findExperiment } from './experiments/index.js';
import type { ExperimentResult } from './experiments/types.js';
import { createProgress } from './progress.js';
import { formatResult, resultsJson, checkOutDir } from './output.js';
import {
  atLeastTwo,
  batchSize,
  delimiter,
  dimension,
  integerList,
  noiseLevels,
  noiseVariance,
  positiveInteger,
  rowCount,
  seed,
} from './options.js';
import { estimate } from './estimate.js';
import { ERROR_PREFIX, UserError, reportError, warn } from './errors.js';
import { MAX_BATCHES, MAX_DATA_BYTES, MAX_FEATURES, formatBytes } from './limits.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const commandLine = ['gradcov', ...process.argv.slice(2)].join(' ');

interface ExperimentFlags {
  seed: number;
  dim?: number;
  rows?: number;
  batchSize?: number;
  batches?: number;
  dims?: number[];
  batchesPerDim?: number;
  out?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * The synthetic data (rows x (dim + 1) doubles) and the gradients of one estimate
 * (m x dim doubles) must fit the CLI's memory limit: checked before anything runs, naming
 * the options (defaults as the experiments use them: dim 20, rows 20000, m up to 30000).
 */
function checkExperimentSizes(name: string, flags: ExperimentFlags): void {
  const dims = name === 'dimension' || name === 'all' ? [...(flags.dims ?? [5, 10, 20, 50, 100, 200])] : [];
  if (name !== 'dimension') dims.push(flags.dim ?? 20);
  for (const d of dims) {
    const rows = flags.rows ?? (name === 'dimension' ? Math.max(2000, 20 * d) : 20000);
    if (flags.batchSize !== undefined && flags.batchSize > rows && name !== 'real-data') {
      warn(
        `--batch-size ${flags.batchSize} exceeds the ${rows} synthetic rows${flags.dims ? ` at dimension ${d}` : ''}: batches sample rows with replacement, so rows repeat within every batch.`,
      );
    }
    const dataBytes = 8 * rows * (d + 1);
    if (dataBytes > MAX_DATA_BYTES) {
      throw new UserError(
        `--rows ${rows} at dimension ${d} needs ${formatBytes(dataBytes)} of data, more than the CLI's limit of ${formatBytes(MAX_DATA_BYTES)}; use fewer --rows.`,
      );
    }
    const m =
      name === 'dimension' || (name === 'all' && flags.dims?.includes(d))
        ? (flags.batchesPerDim ?? 100) * d
        : (flags.batches ?? 30000);
    if (m > MAX_BATCHES || 8 * m * d > MAX_DATA_BYTES) {
      const what =
        name === 'dimension'
          ? `--batches-per-dim ${flags.batchesPerDim ?? 100} at dimension ${d}`
          : `--batches ${m} at dimension ${d}`;
      throw new UserError(
        `${what} means ${m} gradients (${formatBytes(8 * m * d)}), more than the CLI's limit of ${Math.min(MAX_BATCHES, Math.floor(MAX_DATA_BYTES / (8 * d)))} at this dimension.`,
      );
    }
  }
}

async function runExperiments(name: string, flags: ExperimentFlags): Promise<void> {
  checkExperimentSizes(name, flags);
  if (flags.out) checkOutDir(flags.out, ['report.html', 'results.json']); // before any work
  await init();
  const list = name === 'all' ? EXPERIMENTS : [findExperiment(name)!];
  const progress = createProgress({ quiet: Boolean(flags.quiet) });
  const results: ExperimentResult[] = [];
  const text = !flags.json;
  const t0 = performance.now();
  for (const e of list) {
    const t = performance.now();
    const r = await e.run({
      seed: flags.seed,
      dim: flags.dim,
      rows: flags.rows,
      batchSize: flags.batchSize,
      batches: flags.batches,
      dims: flags.dims,
      batchesPerDim: flags.batchesPerDim,
      progress,
    });
    results.push(r);
    if (text)
      process.stdout.write(formatResult(r, flags.quiet ? undefined : (performance.now() - t) / 1000) + '\n');
  }
  const input = { command: commandLine, version: pkg.version, results };
  if (flags.out) {
    const { writeReport } = await import('./report.js');
    const files = await writeReport(flags.out, input);
    if (text) process.stdout.write(`wrote ${files.length} files to ${flags.out}: ${files.join(', ')}\n`);
  }
  if (flags.json) process.stdout.write(JSON.stringify(resultsJson(input), null, 2) + '\n');
  else if (!flags.quiet && list.length > 1)
    process.stdout.write(`(all: ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}

export function buildProgram(): Command {
  const program = new Command('gradcov')
    .description(
      'The Hessian from gradients alone: reproduce the calibrated-target-noise experiments, or estimate the Hessian of your own CSV data.',
    )
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)')
    // commander's own errors (unknown option, missing argument, invalid value) get the same
    // prefix as every other error; commander exits with code 1 after printing them
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, ERROR_PREFIX)) })
    .configureHelp({ sortSubcommands: false })
    .addHelpText('after', '\nRun `gradcov <command> --help` for the options of a command.');

  program
    .command('demo')
    .description(
      'print the calibration tables for synthetic and diabetes data (what `npm run demo` runs; about 6 s on a busy 2-core machine)',
    )
    .action(async () => demo());

  const names = EXPERIMENTS.map((e) => e.name);
  program
    .command('experiment')
    .description(
      "run one of the method's experiments (or all), print its tables; --out writes an HTML report with plots",
    )
    .addArgument(new Argument('<name>', 'experiment to run (see the list below)').choices([...names, 'all']))
    .addHelpText(
      'after',
      `\nExperiments (defaults take a few seconds each on a 2-core machine):\n${EXPERIMENTS.map((e) => `  ${e.name.padEnd(17)}${e.summary}`).join('\n')}\n  ${'all'.padEnd(17)}every experiment above, one report (the distributed wall times are the only numbers a rerun does not reproduce)\n\nExamples:\n  gradcov experiment calibration --seed 1\n  gradcov experiment all --out report/\n  gradcov experiment batches --batches 10000 --json > batches.json`,
    )
    .option('--seed <n>', 'seed of the data and the injected noise (same seed, same numbers)', seed, 1)
    .option(
      '--dim <d>',
      `feature dimension of the synthetic data (calibration, batches, distributions; at most ${MAX_FEATURES})`,
      dimension,
    )
    .option('--rows <r>', 'rows of the synthetic data (all synthetic experiments)', rowCount)
    .option(
      '--batch-size <n>',
      'rows per batch n (default per experiment: 64 synthetic; 32 diabetes, 64 diamonds)',
      batchSize,
    )
    .option(
      '--batches <m>',
      'batch gradients per estimate m (batches: the largest m of the sweep; dimension: ignored, see --batches-per-dim)',
      atLeastTwo,
    )
    .option(
      '--dims <list>',
      'dimension: comma-separated dimensions (default 5,10,20,50,100,200)',
      integerList,
    )
    .option(
      '--batches-per-dim <k>',
      'dimension: batches per dimension, m = k d (default 100)',
      positiveInteger,
    )
    .option(
      '--out <dir>',
      'write report.html (plots inline), one SVG per plot and results.json to this directory',
    )
    .option('--json', 'print the results as JSON on stdout instead of tables')
    .option('-q, --quiet', 'no progress bar and no timings')
    .action(async (name: string, flags: ExperimentFlags) => runExperiments(name, flags));

  program
    .command('estimate')
    .description(
      "estimate the Hessian of linear regression on your CSV from noisy batch gradients at the least-squares fit, and compare it with the data's second-moment matrix X'X/rows",
    )
    .requiredOption('--data <file>', 'CSV file with a header row and numeric columns')
    .requiredOption('--target <column>', 'name of the target column')
    .option('--features <list>', 'comma-separated feature columns (default: every other column)')
    .option(
      '--batch-size <n>',
      'rows per batch n (at most 1048576; a warning when it exceeds the rows)',
      batchSize,
      32,
    )
    .option('--batches <m>', 'batch gradients m', atLeastTwo, 20000)
    .option(
      '--noise <tau2>',
      'injected target-noise variance tau2 (default: calibrated, n minus the residual variance at the fit; n/2 per draw for --method paired)',
      noiseVariance,
    )
    .addOption(
      new Option(
        '--method <name>',
        'the estimator (default: calibrated when the residual variance s2 is at most n, else paired, since calibrated noise s2 + tau2 = n cannot be injected): calibrated (the covariance of the gradients), paired (two noise draws per batch: unbiased at any w), two-level (two noise levels), debiased (the misfit removed, Gaussian features)',
      ).choices(['calibrated', 'paired', 'two-level', 'debiased']),
    )
    .option(
      '--noise-levels <tau1,tau2>',
      'the two injected variances of --method two-level (default: n,0)',
      noiseLevels,
    )
    .option(
      '--no-standardize',
      "keep the columns' units (default: features and target standardised to mean 0, variance 1); one constant feature column is then kept as the intercept",
    )
    .option(
      '--intercept',
      'with --no-standardize: add a feature column of ones, "(intercept)", so the fit has an intercept',
    )
    .option(
      '--delimiter <char>',
      'field separator: , ; | or tab (default: detected from the header line among , ; and tab)',
      delimiter,
    )
    .addOption(
      new Option('--decimal <mark>', 'decimal mark of the numbers: . or , (3,14 with a ; or tab delimiter)')
        .choices(['.', ','])
        .default('.'),
    )
    .addOption(
      new Option(
        '--missing <policy>',
        'empty or NA cells: reject the file, or drop those rows and report how many',
      )
        .choices(['reject', 'drop'])
        .default('reject'),
    )
    .option('--seed <n>', 'seed of the batches and the injected noise', seed, 1)
    .option('--out <dir>', 'also write hessian.csv, second-moment.csv and estimate.json to this directory')
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'no progress bar')
    .option(
      '--redis <url>',
      'compute the blocks on gradcov workers through this Redis (with --queue; same result bit for bit)',
    )
    .option('--queue <name>', "the workers' queue (with --redis)")
    .option(
      '--redis-timeout <s>',
      'seconds to wait for Redis before failing (with --redis; default 30)',
      positiveInteger,
    )
    .addHelpText(
      'after',
      `\nMissing values are empty cells or NA, NaN, N/A, null (any case). Other non-numeric cells are an error naming the line and column. Limits: at most ${MAX_FEATURES} features, cells at most 1e150 in magnitude, ${formatBytes(MAX_DATA_BYTES)} of used cells (8 bytes each).\n\nExample:\n  gradcov estimate --data mydata.csv --target price --batch-size 64 --out out/`,
    )
    .action(async (flags) => {
      if (Boolean(flags.redis) !== Boolean(flags.queue))
        throw new UserError('--redis and --queue go together');
      if (flags.intercept && flags.standardize)
        throw new UserError(
          '--intercept goes with --no-standardize: standardised columns have mean 0, so their fit has no intercept to add',
        );
      if (flags.noiseLevels && flags.method !== 'two-level')
        throw new UserError(`--noise-levels goes with --method two-level (the method is ${flags.method})`);
      if (flags.noise !== undefined && flags.method === 'two-level')
        throw new UserError(
          '--noise does not apply to --method two-level: give its two variances with --noise-levels',
        );
      return estimate(
        flags,
        flags.redis ? (await import('./redis.js')).withoutRedisFlags(commandLine) : commandLine,
      );
    });

  program
    .command('worker')
    .description(
      'compute estimate blocks for `gradcov estimate --redis` (and gradcov/bullmq coordinators) until Ctrl-C',
    )
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://host:6379')
    .requiredOption('--queue <name>', "queue name (the same as the estimate's --queue)")
    .option('--concurrency <k>', 'blocks in parallel, one thread each', positiveInteger, 1)
    .option(
      '--redis-timeout <s>',
      'seconds to wait for Redis at start before failing (default 30)',
      positiveInteger,
    )
    .option('-q, --quiet', 'no start and stop lines')
    .action(async (flags) => (await import('./redis.js')).runWorker(flags));

  return program;
}

buildProgram().parseAsync(process.argv).catch(reportError);
