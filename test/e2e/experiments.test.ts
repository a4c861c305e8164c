// Each experiment runs from the CLI with small settings; its --json output parses and its
// numbers say what the experiment is about (checked loosely: small m, fixed seeds).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gradcov } from './cli.js';

interface Table {
  title: string;
  columns: string[];
  rows: (number | string | null)[][];
}
interface Exp {
  name: string;
  settings: Record<string, unknown>;
  tables: Table[];
  plots: { file: string; caption: string; data: unknown[] }[];
  findings: string[];
}

function run(...args: string[]): Exp {
  const r = gradcov('experiment', ...args, '--json');
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { tool: string; experiments: Exp[] };
  assert.is(out.tool, 'gradcov');
  assert.is(out.experiments.length, 1);
  const e = out.experiments[0]!;
  assert.is(e.name, args[0]);
  assert.ok(
    e.plots.length > 0 && e.plots.every((p) => p.data.length > 0 && p.caption.length > 20),
    'plots with data and captions',
  );
  for (const t of e.tables)
    for (const row of t.rows) assert.is(row.length, t.columns.length, `${t.title}: row width`);
  return e;
}

const col = (t: Table, name: string) => t.rows.map((r) => r[t.columns.indexOf(name)] as number);

test('calibration: the raw error at w* is smallest at tau2/n = 1; at w* rescaling fixes any tau2', () => {
  const e = run('calibration', '--dim', '5', '--rows', '2000', '--batches', '2000', '--seed', '3');
  const t = e.tables[0]!;
  assert.equal(
    t.rows.map((r) => r[0]),
    ['0', '1/16', '1/4', '1/2', '1', '2', '4', '16'],
  );
  const raw = col(t, 'raw at w*');
  assert.is(raw.indexOf(Math.min(...raw)), 4, `raw at w*: ${raw}`);
  // at w*, C ~ ((s2 + tau2)/n) H: up to scale it is H for every tau2. Over seeds 1-20
  // (scripts/stat-spread.ts calibration) the largest rescaled error per run was 0.018-0.070,
  // the raw error at tau2 = 0 was 0.983-0.986 (1 - s2/n = 0.984), and the raw minimum was at
  // tau2/n = 1 for every seed. Bounds: rescaled < 0.1 (1.4x the largest), raw at 0 > 0.97.
  assert.ok(
    col(t, 'rescaled at w*').every((v) => v < 0.1),
    `rescaled at w*: ${col(t, 'rescaled at w*')}`,
  );
  assert.ok(raw[0]! > 0.97, `uncalibrated: off by the factor s2/n: ${raw[0]}`);
});

test('batches: the error falls with m at a rate near 1/sqrt(m)', () => {
  const e = run('batches', '--dim', '5', '--rows', '2000', '--batches', '3000');
  const t = e.tables[0]!;
  const m = col(t, 'm'),
    err = col(t, 'mean error');
  assert.is(m.length, 6);
  // m from 10 to 3000: sqrt(300) = 17 expected; over seeds 1-20 the first / last mean error
  // was 10.0-33.5 (median 16.9). Bound > 6: an error that does not fall with m gives ~1.
  assert.ok(err[0]! > 6 * err[err.length - 1]!, `error falls: ${err}`);
  assert.match(e.findings[0]!, /slope/);
});

test('distributions: four input distributions, each at w* and away from it', () => {
  const e = run('distributions', '--dim', '5', '--rows', '2000', '--batches', '1000');
  const t = e.tables[0]!;
  assert.equal([...new Set(t.rows.map((r) => r[0]))], ['gaussian', 'rademacher', 'uniform', 'student-t5']);
  assert.is(t.rows.length, 8);
  const atOptimum = t.rows.filter((r) => r[1] === 'at w*');
  assert.is(atOptimum.length, 4, 'one row at w* per distribution');
  assert.ok(
    atOptimum.every((r) => r[r.length - 1] === '1'),
    'at w* the best tau2/n is 1 for each',
  );
});

test('dimension: one row per requested dimension, m = k d', () => {
  const e = run('dimension', '--dims', '5,12', '--batches-per-dim', '40');
  const t = e.tables[0]!;
  assert.equal(col(t, 'd'), [5, 12]);
  assert.equal(col(t, 'm'), [200, 480]);
  // m = 40 d batches: the error at w* is c sqrt(r/m); over seeds 1-30 (scripts/stat-spread.ts
  // dimension) c was 0.55-3.14 at d = 5 and 0.85-1.86 at d = 12 (few batches: a wide spread).
  // Bound c in (0.4, 4): an uncalibrated or mis-scaled estimate (error ~1, c > 10) fails.
  const err = col(t, 'error at w*'),
    rate = col(t, 'sqrt(r/m)');
  err.forEach((e, i) =>
    assert.ok(
      e / rate[i]! > 0.4 && e / rate[i]! < 4,
      `d ${col(t, 'd')[i]}: error ${e} = ${e / rate[i]!} sqrt(r/m)`,
    ),
  );
});

test('real-data: diabetes and diamonds at the fit and away; calibrated beats uncalibrated at the fit', () => {
  const e = run('real-data', '--batches', '1000');
  const t = e.tables[0]!;
  assert.equal(
    t.rows.map((r) => `${r[0]} ${r[3]}`),
    [
      'diabetes fit',
      'diabetes fit + n/10',
      'diabetes fit + n',
      'diamonds fit',
      'diamonds fit + n/10',
      'diamonds fit + n',
    ],
  );
  assert.match(e.findings.join('\n'), /53920 rows \(20 of 53940 dropped/);
  for (const r of t.rows.filter((r) => r[3] === 'fit'))
    assert.ok((r[5] as number) < 0.3 && (r[7] as number) > 0.9, `${r}`);
});

// The two application targets (issue 5), asserted at the experiments' default settings
// (deterministic given the seed; both run in about a second).
test("preconditioning: at condition 1000 the preconditioned run needs <= 1/10 of GD's iterations (H_hat from gradients)", () => {
  const e = run('preconditioning');
  const t = e.tables[0]!;
  assert.equal(col(t, 'condition'), [10, 100, 1000]);
  const gd = col(t, 'GD iterations'),
    pre = col(t, 'preconditioned iterations');
  assert.ok(gd.every((v) => v > 0) && pre.every((v) => v > 0), `reached: ${gd} / ${pre}`);
  assert.ok(pre[2]! <= gd[2]! / 10, `cond 1000: ${pre[2]} vs ${gd[2]}`);
  assert.ok(gd[2]! > 5 * gd[1]!, `GD grows with the condition number: ${gd}`);
  assert.match(e.findings[0]!, /target <= 0\.1: met/);
});

test('adversarial: estimated adversarial risk within 5% of the risk on the data at the calibrated setting', () => {
  const e = run('adversarial');
  const t = e.tables[0]!;
  assert.is(t.rows.length, 4 * (1 + 3 * 3), 'misfits x (eps 0 + 3 eps x 3 norms)');
  const errs = col(t, 'relative error');
  assert.ok(Math.max(...errs.map(Math.abs)) <= 0.05, `worst ${Math.max(...errs.map(Math.abs))}`);
  assert.match(e.findings[0]!, /target 5%: met/);
});

test('distributed: K = 1, 2, 4 worker-thread holders on diamonds each reach the least-squares risk within 1%', () => {
  const e = run('distributed', '--batches', '4096', '--seed', '2');
  const t = e.tables[0]!;
  assert.equal(col(t, 'holders K'), [1, 2, 4]);
  for (const x of col(t, 'rel. excess (avg iterate)'))
    assert.ok(x > -1e-9 && x < 0.01, `relative excess ${x}`);
  for (const x of col(t, 'rounds ms')) assert.ok(x > 0);
  assert.match(e.findings.join('\n'), /2 holders vs 1: [\d.]+x/);
});

test("unbiased: paired is flat at its sampling error for every misfit and data set; calibrated grows like d'Hd/n", () => {
  const e = run('unbiased', '--dim', '5', '--rows', '2000', '--batches', '2000', '--seed', '3');
  const t = e.tables[0]!;
  assert.equal(
    [...new Set(t.rows.map((r) => r[0]))],
    ['synthetic gaussian', 'synthetic rademacher', 'diabetes'],
  );
  assert.is(t.rows.length, 3 * 5);
  for (const name of ['synthetic gaussian', 'synthetic rademacher', 'diabetes']) {
    const rows = t.rows.filter((r) => r[0] === name);
    const at = (c: string) => rows.map((r) => r[t.columns.indexOf(c)] as number);
    const paired = at('paired'),
      cal = at('calibrated');
    // 1000 pairs, d <= 10: sampling error ~ sqrt(r / 1000) ~ 0.1
    assert.ok(
      paired.every((v) => v < 0.2) && Math.max(...paired) / Math.min(...paired) < 1.01,
      `${name} paired ${paired}`,
    );
    assert.ok(
      cal[4]! > 20 * paired[4]! && cal[4]! / 100 > 0.5 && cal[4]! / 100 < 2.2,
      `${name} calibrated at d'Hd/n = 100: ${cal[4]}`,
    );
  }
});

test('scale: dense and sketch up to d = 1024, the sketch alone beyond; the outliers inside their intervals up to the sampling error', () => {
  const e = run('scale', '--dim', '1024', '--batches', '200', '--seed', '2');
  const t = e.tables[0]!;
  assert.equal(col(t, 'd'), [256, 1024]);
  for (const x of col(t, 'sketch bytes')) assert.ok(x > 0);
  for (const r of t.rows) assert.is(r[t.columns.indexOf('in interval')], '4/4', `d ${r[0]}: ${r.join(', ')}`);
  // 200 batches of n = 16: the sampling sd of a separated eigenvalue is sqrt(2.375 / 200) = 0.11 (4 sd: 0.44)
  for (const x of [...col(t, 'sketch top-4 error'), ...col(t, 'dense top-4 error')])
    assert.ok(x < 0.44, `top-4 error ${x}`);
  assert.ok(
    col(t, 'dense bytes')[1]! > 20 * col(t, 'sketch bytes')[1]!,
    'dense state 8 d^2 vs the sketch 16 l d',
  );
});

test.run();
