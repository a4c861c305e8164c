#!/usr/bin/env node
// `npm test`: runs the core uvu suite (test/*.test.ts) against the release wasm build and
// again against the debug build (assertions on), then the end-to-end suite
// (test/e2e/*.test.ts: CLI, report, other runtimes, the packed tarball) once, and with
// GRADCOV_LONG=1 the long runs (test/long/*.test.ts); streams their output and ends with one
// line `N passed, N failed` (`, N skipped` when any) summing every test run: a suite's failures
// are uvu's Total minus Passed (Total excludes skips), at least 1 when its process exits
// non-zero or stops before its summary; under CI=true skips count as failures. Exits
// non-zero on any failure.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv[2]; // optional file pattern, e.g. `npm test -- rng`
const pattern = only ? `${only}.*\\.test\\.ts$` : '\\.test\\.ts$';
// test/helpers/fixtures holds the runner's own fixture suites (a failing, a skipped test):
// never part of a real run
const core = ['-i', 'e2e', '-i', 'long', '-i', '^style[\\\\/]', '-i', 'helpers[\\\\/]fixtures'];
const suites = [
  { name: 'core, release build', dir: 'test', args: core, env: {} },
  { name: 'core, debug build (assertions on)', dir: 'test', args: core, env: { GRADCOV_WASM: 'debug' } },
  { name: 'end to end', dir: 'test/e2e', args: [], env: {} },
  // Prettier and ESLint over the sources (test/style: once, not per wasm build)
  { name: 'style', dir: 'test/style', args: [], env: {} },
];
// GRADCOV_TEST_DIR=<dir> runs only the uvu suite in that directory (the runner's own test,
// test/api/runner.test.ts, points it at a fixture directory)
if (process.env.GRADCOV_TEST_DIR)
  suites.splice(0, suites.length, {
    name: `dir ${process.env.GRADCOV_TEST_DIR}`,
    dir: process.env.GRADCOV_TEST_DIR,
    args: [],
    env: {},
  });
// GRADCOV_LONG=1 adds the long runs (test/long/*.test.ts: leak cycles, FinalizationRegistry,
// worker threads; release build), counted in the same final line. CI sets it.
if (process.env.GRADCOV_LONG === '1' && !process.env.GRADCOV_TEST_DIR) {
  // the large-heap runs grow the wasm memory to 4 GiB, which never shrinks: a process of their own,
  // so the leak and footprint checks of the other long runs measure their own memory
  suites.push({ name: 'long runs', dir: 'test/long', args: ['-i', 'large-accumulators'], env: {} });
  suites.push({
    name: 'long runs, large heap',
    dir: 'test/long',
    args: [],
    env: {},
    pattern: 'large-accumulators\\.test\\.ts$',
  });
}
// GRADCOV_TEST_SUITES=core,e2e (or release, long) narrows the run during development
const wanted = process.env.GRADCOV_TEST_SUITES?.split(',');
const selected = wanted ? suites.filter((s) => wanted.some((w) => s.name.includes(w))) : suites;

// eslint-disable-next-line no-control-regex
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

function run(suite) {
  return new Promise((resolve) => {
    console.log(`\n=== uvu: ${suite.name} ===`);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'node_modules/uvu/bin.js', suite.dir, suite.pattern ?? pattern, ...suite.args],
      {
        cwd: root,
        env: { ...process.env, ...suite.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let text = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      text += d;
    });
    child.stderr.on('data', (d) => {
      process.stderr.write(d);
      text += d;
    });
    child.on('close', (code) => {
      const plain = strip(text);
      const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
      if (!Number.isFinite(total) || !Number.isFinite(passed)) {
        console.log(
          `${suite.name}: the runner stopped before its summary (exit ${code}); counted as 1 failure`,
        );
        resolve({ passed: 0, failed: 1, skipped: 0 });
        return;
      }
      // uvu's Total counts the tests that ran (skips are outside it), so every test of Total
      // that did not pass failed; a process that exits non-zero after its summary (a
      // rejection after the last test, an exit code set by a test) is at least one failure
      const failed = Math.max(total - passed, code !== 0 ? 1 : 0);
      if (code !== 0 && total === passed)
        console.log(`${suite.name}: exit ${code} after all tests passed; counted as 1 failure`);
      resolve({ passed, failed, skipped });
    });
  });
}

let passed = 0,
  failed = 0,
  skipped = 0;
for (const suite of selected) {
  const r = await run(suite);
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped;
}
// On a developer's machine a test that needs something missing (a browser) is skipped and
// says what is missing; under CI=true nothing may be skipped: every skip counts as a failure.
if (process.env.CI === 'true' && skipped > 0) {
  console.log(
    `CI=true: ${skipped} skipped tests count as failures (see the SKIPPED lines above for what is missing)`,
  );
  failed += skipped;
  skipped = 0;
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 ? 1 : 0;
