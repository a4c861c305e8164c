// The gradcov command line: help, option errors, the CSV estimator and its error messages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gradcov, regressionCsv, tempDir, writeCsv } from './cli.js';

const dir = tempDir();
const good = regressionCsv();

test('--help documents every command; each command documents every option', () => {
  const top = gradcov('--help');
  assert.is(top.code, 0, top.stderr);
  for (const c of ['demo', 'experiment', 'estimate']) assert.match(top.stdout, new RegExp(`^\\s+${c}\\b`, 'm'), `command ${c}`);
  const exp = gradcov('experiment', '--help');
  assert.is(exp.code, 0, exp.stderr);
  for (const o of ['--seed', '--dim', '--rows', '--batch-size', '--batches', '--dims', '--batches-per-dim', '--out', '--json', '--quiet']) assert.ok(exp.stdout.includes(o), `experiment ${o}`);
  for (const e of ['calibration', 'batches', 'distributions', 'dimension', 'real-data', 'preconditioning', 'adversarial', 'unbiased', 'all']) assert.match(exp.stdout, new RegExp(`^\\s+${e}\\s+\\S`, 'm'), `experiment ${e} described`);
  const est = gradcov('estimate', '--help');
  assert.is(est.code, 0, est.stderr);
  for (const o of ['--data', '--target', '--features', '--batch-size', '--batches', '--noise', '--no-standardize', '--missing', '--seed', '--out', '--json', '--quiet']) assert.ok(est.stdout.includes(o), `estimate ${o}`);
});

test('bad options and arguments exit 1 with a message naming the option and the value', () => {
  const cases: [string[], RegExp][] = [
    [['experiment', 'nope'], /'nope' is invalid.*calibration, batches, distributions, dimension, real-data, preconditioning, adversarial, distributed, unbiased, all/],
    [['experiment', 'calibration', '--batch-size', '0'], /--batch-size <n>.*'0'.*positive integer/],
    [['experiment', 'calibration', '--batches', '1'], /--batches <m>.*'1'.*at least 2/],
    [['experiment', 'calibration', '--seed', '-3'], /--seed <n>.*'-3'/],
    [['experiment', 'dimension', '--dims', '5,x'], /--dims <list>.*'5,x'.*comma-separated/],
    [['estimate', '--target', 'y'], /required option '--data <file>'/],
    [['estimate', '--data', join(dir, 'absent.csv'), '--target', 'y'], /cannot read --data ".*absent\.csv": ENOENT/],
    [['estimate', '--data', 'x.csv', '--target', 'y', '--missing', 'impute'], /'impute' is invalid.*reject, drop/],
    [['estimate', '--data', 'x.csv', '--target', 'y', '--noise', '-1'], /--noise <tau2>.*'-1'/],
  ];
  for (const [args, pattern] of cases) {
    const r = gradcov(...args);
    assert.is(r.code, 1, `${args.join(' ')}: exit ${r.code}`);
    assert.match(r.stderr, pattern, args.join(' '));
  }
});

test('estimate: an unparseable cell is reported with its line and column', () => {
  const lines = [...good];
  const cells = lines[7]!.split(',');
  cells[1] = '1.2.3';
  lines[7] = cells.join(',');
  const r = gradcov('estimate', '--data', writeCsv(dir, 'bad.csv', lines), '--target', 'y');
  assert.is(r.code, 1);
  assert.match(r.stderr, /bad\.csv: line 8, column 2 \("b"\): not a number: "1\.2\.3"/);
});

test('estimate: a row with the wrong number of cells is reported with its line', () => {
  const lines = [...good];
  lines[5] = '1,2';
  const r = gradcov('estimate', '--data', writeCsv(dir, 'ragged.csv', lines), '--target', 'y');
  assert.is(r.code, 1);
  assert.match(r.stderr, /ragged\.csv: not valid CSV: .*expect 4, got 2 on line 6/);
});

test('estimate: an unknown column is named with the header it was looked up in', () => {
  const file = writeCsv(dir, 'good.csv', good);
  const r = gradcov('estimate', '--data', file, '--target', 'price');
  assert.is(r.code, 1);
  assert.match(r.stderr, /unknown column "price" \(--target\); the header has: a, b, c, y/);
  const f = gradcov('estimate', '--data', file, '--target', 'y', '--features', 'a,q');
  assert.is(f.code, 1);
  assert.match(f.stderr, /unknown column "q" \(--features\)/);
});

test('estimate: missing values are rejected with a count and the first place, or dropped and counted', () => {
  const lines = [...good];
  lines[4] = ',' + lines[4]!.split(',').slice(1).join(',');
  lines[9] = lines[9]!.split(',').slice(0, 3).join(',') + ',NA';
  lines[12] = lines[12]!.replace(/^[^,]+/, 'nan');
  const file = writeCsv(dir, 'missing.csv', lines);
  const r = gradcov('estimate', '--data', file, '--target', 'y');
  assert.is(r.code, 1);
  assert.match(r.stderr, /3 rows with missing values, the first at line 5, column 1 \("a"\): ""; use --missing drop/);
  const d = gradcov('estimate', '--data', file, '--target', 'y', '--missing', 'drop', '--batches', '500', '--json');
  assert.is(d.code, 0, d.stderr);
  const out = JSON.parse(d.stdout);
  assert.is(out.rowsRead, 400);
  assert.is(out.rowsDropped, 3);
  assert.is(out.rows, 397);
});

test('estimate --json: the calibrated covariance matches the standardised second-moment matrix', () => {
  const file = writeCsv(dir, 'good.csv', good);
  const r = gradcov('estimate', '--data', file, '--target', 'y', '--batches', '20000', '--json');
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.features, ['a', 'b', 'c']);
  assert.is(out.hessian.length, 3);
  out.secondMoment.forEach((row: number[], i: number) => assert.ok(Math.abs(row[i]! - 1) < 1e-12, 'standardised: unit diagonal'));
  assert.ok(Math.abs(out.residualVariance + out.noiseVariance - out.batchSize) < 1e-9, 's2 + tau2 = n');
  // 20000 batches, d = 3: sampling error about sqrt(r/m) ~ 0.012; 0.06 leaves room for constants
  assert.ok(out.relativeError < 0.06, `relative error ${out.relativeError}`);
});

test('estimate --no-standardize keeps units; --noise 0 leaves the covariance a factor s2/n off; --out writes the matrices', () => {
  const file = writeCsv(dir, 'good.csv', good);
  const out = join(dir, 'est');
  const r = gradcov('estimate', '--data', file, '--target', 'y', '--no-standardize', '--noise', '0', '--batches', '2000', '--out', out);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /original units/);
  const json = JSON.parse(readFileSync(join(out, 'estimate.json'), 'utf8'));
  assert.is(json.standardized, false);
  assert.ok(json.secondMoment[0][0] > 0.5 && json.secondMoment[0][0] < 1, `var(a) of uniform(-1.5,1.5) = 0.75: ${json.secondMoment[0][0]}`);
  assert.ok(json.relativeError > 0.9, `uncalibrated: C ~ (s2/n) H, error ~ 1: ${json.relativeError}`);
  const csv = readFileSync(join(out, 'hessian.csv'), 'utf8').trim().split('\n');
  assert.is(csv[0], ',a,b,c');
  assert.is(csv.length, 4);
  assert.ok(readFileSync(join(out, 'second-moment.csv'), 'utf8').startsWith(',a,b,c\n'));
});

test('estimate: a constant column is named in the error; collinear columns are named by the fit', () => {
  const constant = good.map((l, i) => (i === 0 ? `${l},k` : `${l},0.1`));
  const r = gradcov('estimate', '--data', writeCsv(dir, 'constant.csv', constant), '--target', 'y');
  assert.is(r.code, 1);
  assert.match(r.stderr, /constant\.csv: column "k" is constant \(every value is 0\.1\): leave it out with --features/);
  const twice = good.map((l, i) => (i === 0 ? `${l},a2` : `${l},${l.split(',')[0]}`));
  const c = gradcov('estimate', '--data', writeCsv(dir, 'collinear.csv', twice), '--target', 'y');
  assert.is(c.code, 1);
  assert.match(c.stderr, /collinear\.csv: cannot fit least squares: .*singular at column 3.*\("a2" is constant or a combination/);
});

test.run();
