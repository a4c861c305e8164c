#!/usr/bin/env node
// Mutation pass: does the test suite catch deliberate bugs?
//
//   npm run mutate                      every mutation below
//   npm run mutate -- --only id1,id2    a few of them
//   npm run mutate -- --list            the list, without running anything
//   npm run mutate -- --check           only check that every search text still applies
//   npm run mutate -- --markdown        also print the result as a Markdown table
//   npm run mutate -- --keep            keep the temporary copies (paths printed)
//
// Each mutation (file, search text, replacement, test files) is applied to a temporary
// COPY of the repository, never to the working tree: the tracked and untracked-but-not-
// ignored files are copied once into a base copy (node_modules entries linked; the
// workspace links re-pointed into the copy) which is built
// once; each mutation then copies the base, edits one file, rebuilds what the edit affects
// (assembly/ -> the release and relaxed wasm builds and the inlined wasm; src/ -> tsc, for
// the tests that load dist/) and runs its test files one by one. A mutation is caught when
// at least one of its test files fails (or times out). The unmutated base runs the same
// test files first; a file that fails there is reported and not counted for or against.
// A search text that is missing or not unique is reported as `stale` (the code moved on:
// update the list). Developer tool: slow (minutes), not part of `npm test`.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  lstatSync,
  mkdtempSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// Test groups, by what they check
const METHOD = 'test/estimators/method.test.ts';
const GRADIENTS = 'test/estimators/gradients.test.ts';
const COVARIANCE = 'test/core/covariance.test.ts';
const SPECTRAL = 'test/spectral/spectral.test.ts';
const RISK = 'test/apps/risk.test.ts';
const RNG = 'test/core/rng.test.ts';
const CHOLESKY = 'test/core/cholesky.test.ts';
const PRECONDITIONER = 'test/apps/preconditioner.test.ts';
const STABILITY = 'test/api/stability.test.ts';
const CLI = 'test/e2e/cli.test.ts';
const EXPERIMENTS = 'test/e2e/experiments.test.ts';
const NODE = 'test/e2e/node.test.ts'; // the runtimes' plausibility check (runtimes.ts)

/**
 * The deliberate bugs. `about`: the statistical test that exists to catch it (its verdict is
 * reported separately: a mutation caught only by an exact kernel comparison still counts as
 * caught, but the statistical test named here must fail too).
 */
export const MUTATIONS = [
  // the injected noise and the calibration rule
  {
    id: 'noise-std-x1.015',
    file: 'src/estimators/oracle.ts',
    search: 'const std = Math.sqrt(p.tau2);',
    replace: 'const std = Math.sqrt(p.tau2) * 1.015;',
    tests: [METHOD, GRADIENTS, CLI, NODE],
    about: METHOD,
    what: 'injected noise std 1.5% too large (variance +3%)',
  },
  {
    id: 'calibration-n-over-2',
    file: 'src/estimators/noise.ts',
    search: "loss === 'mean-half-squared'\n      ? n\n",
    replace: "loss === 'mean-half-squared'\n      ? n / 2\n",
    tests: [METHOD, CLI, EXPERIMENTS, NODE],
    about: METHOD,
    what: 'calibration target n/2 instead of n for the mean half-squared loss',
  },
  {
    id: 'calibration-ignores-s2',
    file: 'src/estimators/noise.ts',
    search: 'Math.max(0, target - s2)',
    replace: 'Math.max(0, target - 0 * s2)',
    tests: [METHOD, CLI],
    about: METHOD,
    what: 'tau2 = n, the label noise s2 not subtracted',
  },
  // the gradient oracle: the batch
  {
    id: 'batch-first-row-repeated',
    file: 'assembly/gradient.ts',
    search: '  sampleRows(jU, idxPtr, jSwap, jPerm, n, jRows, jReplacement);\n',
    replace:
      '  sampleRows(jU, idxPtr, jSwap, jPerm, n, jRows, jReplacement);\n  store<i32>(idxPtr, load<i32>(idxPtr, 4));\n',
    tests: [GRADIENTS, METHOD],
    about: GRADIENTS,
    what: 'off by one: the first row slot of each batch holds the second row (n - 1 draws, one counted twice)',
  },
  {
    id: 'batch-first-sample-no-noise',
    file: 'assembly/gradient.ts',
    search: '@inline function noiseTerm(j: i32): f64 {\n',
    replace: '@inline function noiseTerm(j: i32): f64 {\n  if (j == 0) return 0;\n',
    tests: [METHOD, GRADIENTS],
    about: METHOD,
    what: 'off by one: the first sample of each batch gets no injected noise (variance (n - 1)/n of the calibrated)',
  },
  {
    id: 'batch-divides-by-n+1',
    file: 'assembly/gradient.ts',
    search: 'return jPaired ? jStd / <f64>jN : 1.0 / <f64>jN;',
    replace: 'return jPaired ? jStd / <f64>jN : 1.0 / <f64>(jN + 1);',
    tests: [METHOD, GRADIENTS],
    about: METHOD,
    what: 'off by one: the gradient divided by n + 1',
  },
  {
    id: 'replacement-never-last-row',
    file: 'assembly/gradient.ts',
    search: 'let k = <i32>(load<f64>(uPtr + (<usize>j << 3)) * <f64>rows);',
    replace: 'let k = <i32>(load<f64>(uPtr + (<usize>j << 3)) * <f64>(rows - 1));',
    tests: [GRADIENTS, METHOD],
    about: GRADIENTS,
    what: 'with replacement, index floor(u (rows - 1)): the last row is never drawn',
  },
  {
    id: 'no-replacement-duplicates',
    file: 'assembly/gradient.ts',
    search: 'let k = j + min(<i32>(load<f64>(uPtr + (<usize>j << 3)) * <f64>(rows - j)), rows - j - 1);',
    replace: 'let k = min(<i32>(load<f64>(uPtr + (<usize>j << 3)) * <f64>rows), rows - 1);',
    tests: [GRADIENTS],
    about: GRADIENTS,
    what: 'Fisher-Yates swaps with any row, not only rows not yet drawn: repeats within a batch',
  },
  // the covariance accumulator
  {
    id: 'cov-divisor-m',
    file: 'src/core/covariance.ts',
    search: 'const C = this.#write(s / (this.#count - 1));',
    replace: 'const C = this.#write(s / this.#count);',
    tests: [COVARIANCE, METHOD],
    about: COVARIANCE,
    what: 'covariance divides the co-moment by m instead of m - 1',
  },
  {
    id: 'merge-delta-dropped',
    file: 'assembly/covariance.ts',
    search: 'covMergeMoments(mAPtr, dp, deltaPtr, coef, mBPtr);',
    replace: 'covMergeMoments(mAPtr, dp, deltaPtr, 0, mBPtr);',
    tests: [COVARIANCE, METHOD],
    about: COVARIANCE,
    what: "merge of two accumulators drops the delta delta' m k / (m + k) term",
  },
  {
    id: 'block-delta-dropped',
    file: 'assembly/covariance.ts',
    search: 'after packing\n    let total = count + <f64>k;\n    let coef = count * <f64>k / total;',
    replace: 'after packing\n    let total = count + <f64>k;\n    let coef = 0 * count * <f64>k / total;',
    tests: [COVARIANCE, METHOD],
    about: COVARIANCE,
    what: 'streaming add drops the between-block delta term',
  },
  {
    id: 'merge-mean-weight',
    file: 'assembly/covariance.ts',
    search: 'let w = countB / total;',
    replace: 'let w = countA / total;',
    tests: [COVARIANCE],
    about: COVARIANCE,
    what: 'merged mean weighted by the wrong count',
  },
  // spectral: stopping rules
  {
    id: 'lanczos-stops-on-either-end',
    file: 'src/spectral/spectral.ts',
    search: 'if (ok0 && ok1) {',
    replace: 'if (ok0 || ok1) {',
    tests: [SPECTRAL],
    about: SPECTRAL,
    what: 'Lanczos stops when one end (not both) meets the tolerance',
  },
  {
    id: 'lanczos-invariant-too-early',
    file: 'src/spectral/spectral.ts',
    search: 'b <= 8 * Number.EPSILON * norm',
    replace: 'b <= 1e-3 * norm',
    tests: [SPECTRAL],
    about: SPECTRAL,
    what: 'Lanczos treats beta < 1e-3 ||A|| as an invariant subspace and stops',
  },
  {
    id: 'power-residual-ignored',
    file: 'assembly/spectral.ts',
    search: 'resOk = Math.sqrt(r2) <= tol * prevTheta + floor * theta;',
    replace: 'resOk = true;',
    tests: [SPECTRAL, STABILITY],
    about: SPECTRAL,
    what: 'power iteration stops on the rate estimate alone (no residual check)',
  },
  // risk
  {
    id: 'risk-cross-term-halved',
    file: 'src/apps/risk.ts',
    search: 'meanSquared + 2 * e * norm * meanAbs',
    replace: 'meanSquared + e * norm * meanAbs',
    tests: [RISK],
    about: RISK,
    what: 'adversarial risk: the 2 eps ||w||_* E|r| term halved',
  },
  {
    id: 'risk-misfit-not-separated',
    file: 'src/apps/risk.ts',
    search: 'const kappa = (s2 + tau2) / (1 - t);',
    replace: 'const kappa = s2 + tau2;',
    tests: [RISK],
    about: RISK,
    what: "risk: the misfit's share of n C_hat not separated (kappa = s2 + tau2)",
  },
  {
    id: 'risk-route2-tau2-kept',
    file: 'src/apps/risk.ts',
    search: 'meanSquared = Math.max(kappa - tau2, misfit);',
    replace: 'meanSquared = Math.max(kappa, misfit);',
    tests: [RISK],
    about: RISK,
    what: 'risk with H known: the injected tau2 not subtracted from the scale',
  },
  // Cholesky
  {
    id: 'cholesky-ridge-ignored',
    file: 'assembly/cholesky.ts',
    search: 'load<f64>(ri + o) + ridge - dot(ri, ri, i)',
    replace: 'load<f64>(ri + o) - dot(ri, ri, i)',
    tests: [CHOLESKY, PRECONDITIONER, RISK],
    about: CHOLESKY,
    what: 'the ridge is not added to the pivots',
  },
  // the generator
  {
    id: 'box-muller-angle-same-uniform',
    file: 'assembly/rng.ts',
    search: 'v128.load(UA + (t << 3)), v128.load(UB + (t << 3)),',
    replace: 'v128.load(UA + (t << 3)), v128.load(UA + (t << 3)),',
    tests: [RNG, METHOD],
    about: RNG,
    what: 'Box-Muller angle from the same uniform as the radius',
  },
  {
    id: 'box-muller-angle-scale',
    file: 'assembly/vmath.ts',
    search: 'let xa = f64x2.mul(K(K_TWO_PI), ',
    replace: 'let xa = f64x2.mul(K(K_FOUR), ',
    tests: [RNG, METHOD],
    about: RNG,
    what: 'Box-Muller angle 4 t instead of 2 pi t inside each quadrant',
  },
  {
    id: 'box-muller-radius',
    file: 'assembly/vmath.ts',
    search: 'let rada = f64x2.sqrt(f64x2.mul(lga, K(K_MINUS_TWO)));',
    replace: 'let rada = f64x2.sqrt(f64x2.neg(lga));',
    tests: [RNG, METHOD],
    about: RNG,
    what: 'Box-Muller radius sqrt(-log u) instead of sqrt(-2 log u)',
  },
  {
    id: 'uniform-51-bits',
    file: 'assembly/rng.ts',
    search: 'i64x2.shr_u(bits, 12)',
    replace: 'i64x2.shr_u(bits, 13)',
    tests: [RNG, GRADIENTS],
    about: RNG,
    what: 'uniforms from 51 bits: values only in (0, 1/2)',
  },
  {
    id: 'philox-7-rounds',
    file: 'assembly/rng.ts',
    search: 'PHILOX_ROUNDS: usize = 10',
    replace: 'PHILOX_ROUNDS: usize = 7',
    tests: [RNG],
    about: RNG,
    what: 'Philox with 7 rounds instead of 10',
  },
];

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? new Set(args[onlyArg + 1].split(',')) : undefined;
const TEST_TIMEOUT_MS = Number(process.env.MUTATE_TEST_TIMEOUT_MS ?? 600_000);

if (flag('--list')) {
  for (const m of MUTATIONS) console.log(`${m.id.padEnd(30)} ${m.file.padEnd(24)} ${m.what}`);
  process.exit(0);
}
const selected = MUTATIONS.filter((m) => !only || only.has(m.id));
if (only)
  for (const id of only) if (!MUTATIONS.some((m) => m.id === id)) throw new Error(`unknown mutation ${id}`);
if (flag('--check')) {
  // only that every search text occurs exactly once in the working tree
  let stale = 0;
  for (const m of selected) {
    const n = readFileSync(join(ROOT, m.file), 'utf8').split(m.search).length - 1;
    if (n !== 1) {
      stale++;
      console.log(`stale ${m.id}: search text found ${n} times in ${m.file}`);
    }
  }
  console.log(`${selected.length - stale} of ${selected.length} mutations apply`);
  process.exit(stale ? 1 : 0);
}

function sh(cmd, argv, cwd, timeout = 600_000) {
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  return {
    code: r.status,
    timedOut: r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGTERM',
    out: `${r.stdout ?? ''}${r.stderr ?? ''}`,
  };
}

function copyRepo(dest) {
  const files = sh('git', ['ls-files', '-co', '--exclude-standard', '-z'], ROOT)
    .out.split('\0')
    .filter(Boolean);
  for (const f of files) {
    try {
      mkdirSync(dirname(join(dest, f)), { recursive: true });
      cpSync(join(ROOT, f), join(dest, f));
    } catch (err) {
      if (err.code !== 'ENOENT') throw err; // deleted in the working tree but still in the index
    }
  }
  // node_modules: each entry linked to the working tree's, except the workspace links
  // (node_modules/gradcov -> .., node_modules/gradcov-cli -> ../cli), which are relative
  // and must point into the copy, so that the CLI there imports the mutated library
  mkdirSync(join(dest, 'node_modules'));
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    const from = join(ROOT, 'node_modules', entry);
    const link = lstatSync(from).isSymbolicLink() ? readlinkSync(from) : undefined;
    if (link !== undefined && !isAbsolute(link)) symlinkSync(link, join(dest, 'node_modules', entry));
    else symlinkSync(from, join(dest, 'node_modules', entry));
  }
}

function build(dir, steps) {
  const cmds = {
    wasm: [
      ['npx', ['asc', '--config', 'asconfig.json', '--target', 'release']],
      ['npx', ['asc', '--config', 'asconfig.json', '--target', 'relaxed']],
      ['node', ['src/build/inline-wasm.mjs']],
    ],
    ts: [['npx', ['tsc', '-p', 'tsconfig.json']]],
    all: [['npm', ['run', 'build']]],
  };
  for (const step of steps) {
    for (const [cmd, argv] of cmds[step]) {
      const r = sh(cmd, argv, dir);
      if (r.code !== 0) return `${cmd} ${argv.join(' ')} failed:\n${r.out.slice(-2000)}`;
    }
  }
  return undefined;
}

function runTest(dir, file) {
  const esc = basename(file).replace(/[.]/g, '\\.');
  const t0 = Date.now();
  const r = sh(
    process.execPath,
    ['--import', 'tsx', 'node_modules/uvu/bin.js', dirname(file), `^${esc}$`],
    dir,
    TEST_TIMEOUT_MS,
  );
  // eslint-disable-next-line no-control-regex
  const plain = r.out.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const status = r.timedOut ? 'timeout' : r.code === 0 && total > 0 ? 'pass' : 'fail';
  const failures = [...new Set([...plain.matchAll(/FAIL\s+(?:\S+\s+)?"([^"]+)"/g)].map((m) => m[1]))];
  const firstFailure = failures.length
    ? `${failures.length} test${failures.length > 1 ? 's' : ''}: ${failures.join('; ')}`
    : undefined;
  return { status, seconds: (Date.now() - t0) / 1000, firstFailure, out: plain };
}

const started = new Date();
const work = mkdtempSync(join(tmpdir(), 'gradcov-mutate-'));
const base = join(work, 'base');
console.log(`copying ${ROOT} to ${base} and building it (the unmutated baseline)...`);
copyRepo(base);
const baseErr = build(base, ['all']);
if (baseErr) throw new Error(`the unmutated copy does not build: ${baseErr}`);

const testFiles = [...new Set(selected.flatMap((m) => m.tests))];
const baseline = {};
for (const f of testFiles) {
  const r = runTest(base, f);
  baseline[f] = r.status;
  console.log(
    `baseline ${f}: ${r.status} (${r.seconds.toFixed(0)} s)${r.status === 'pass' ? '' : ` first failure: ${r.firstFailure}`}`,
  );
}

const results = [];
for (const m of selected) {
  const src = readFileSync(join(base, m.file), 'utf8');
  const count = src.split(m.search).length - 1;
  if (count !== 1) {
    results.push({ ...m, verdict: 'stale', detail: `search text found ${count} times in ${m.file}` });
    console.log(`\n${m.id}: STALE (search text found ${count} times)`);
    continue;
  }
  const dir = join(work, m.id);
  cpSync(base, dir, { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(dir, m.file), src.replace(m.search, m.replace));
  const steps = m.file.startsWith('assembly/')
    ? ['wasm']
    : m.tests.some((t) => t.includes('/e2e/'))
      ? ['ts']
      : [];
  const buildErr = build(dir, steps);
  if (buildErr) {
    results.push({ ...m, verdict: 'no-build', detail: buildErr });
    console.log(`\n${m.id}: does not build: not a useful mutation, fix its replacement\n${buildErr}`);
  } else {
    const byFile = {};
    for (const f of m.tests) {
      if (baseline[f] !== 'pass') {
        byFile[f] = 'skipped (fails unmutated)';
        continue;
      }
      const r = runTest(dir, f);
      byFile[f] = r.status === 'pass' ? 'survived' : `caught${r.status === 'timeout' ? ' (timeout)' : ''}`;
      if (r.status === 'fail') byFile[f] += `: ${r.firstFailure ?? 'runner error'}`;
      console.log(`${m.id} x ${f}: ${byFile[f]} (${r.seconds.toFixed(0)} s)`);
    }
    const caught = Object.values(byFile).some((v) => v.startsWith('caught'));
    const aboutCaught = byFile[m.about]?.startsWith('caught') ?? false;
    results.push({ ...m, verdict: caught ? 'caught' : 'survived', aboutCaught, byFile });
    console.log(
      `${m.id}: ${caught ? 'CAUGHT' : 'SURVIVED'}; by ${m.about}: ${aboutCaught ? 'caught' : 'survived'}`,
    );
  }
  if (!flag('--keep')) rmSync(dir, { recursive: true, force: true });
}
if (flag('--keep')) console.log(`copies kept under ${work}`);
else rmSync(work, { recursive: true, force: true });

const minutes = ((Date.now() - started.getTime()) / 60000).toFixed(1);
console.log(
  `\n=== ${results.filter((r) => r.verdict === 'caught').length} of ${results.length} mutations caught (${minutes} min) ===`,
);
for (const r of results)
  console.log(
    `${r.verdict.padEnd(9)} ${r.id.padEnd(30)} ${r.aboutCaught === undefined ? '' : `${basename(r.about)}: ${r.aboutCaught ? 'caught' : 'SURVIVED'}`}`,
  );
if (flag('--markdown')) {
  console.log(
    `\n| mutation | file | what | verdict | test files (caught / survived) |\n|---|---|---|---|---|`,
  );
  for (const r of results) {
    const files = r.byFile
      ? Object.entries(r.byFile)
          .map(([f, v]) => `${basename(f)}: ${v.replace(/\|/g, '\\|')}`)
          .join('<br>')
      : r.detail;
    console.log(`| \`${r.id}\` | ${r.file} | ${r.what.replace(/\|/g, '\\|')} | ${r.verdict} | ${files} |`);
  }
}
const failedBaseline = Object.entries(baseline).filter(([, s]) => s !== 'pass');
process.exitCode =
  results.some((r) => r.verdict !== 'caught' || r.aboutCaught === false) || failedBaseline.length ? 1 : 0;
