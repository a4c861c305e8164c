// The test runner itself (test/run.mjs): its final line and exit code on fixture suites
// (test/helpers/fixtures/runner/*), so a failing or skipped test can never read as a pass.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runner(dir: string, env: Record<string, string> = {}) {
  const { CI: _ci, GRADCOV_TEST_SUITES: _s, GRADCOV_LONG: _l, ...base } = process.env;
  const r = spawnSync(process.execPath, ['test/run.mjs'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...base, GRADCOV_TEST_DIR: `test/helpers/fixtures/runner/${dir}`, ...env },
  });
  const lines = r.stdout.trim().split('\n');
  return { status: r.status, last: lines[lines.length - 1], out: r.stdout };
}

test('one failing, one skipped, one passing test: "1 failed", exit 1', () => {
  const r = runner('mixed');
  assert.is(r.last, '1 passed, 1 failed, 1 skipped', r.out);
  assert.is(r.status, 1);
});

test('under CI=true a skip is a failure', () => {
  const r = runner('mixed', { CI: 'true' });
  assert.is(r.last, '1 passed, 2 failed', r.out);
  assert.is(r.status, 1);
});

test('a non-zero exit after a summary where everything passed counts as 1 failure', () => {
  const r = runner('late-exit');
  assert.is(r.last, '1 passed, 1 failed', r.out);
  assert.is(r.status, 1);
});

test('a process that dies before its summary counts as 1 failure', () => {
  const r = runner('crash');
  assert.is(r.last, '0 passed, 1 failed', r.out);
  assert.is(r.status, 1);
});

test.run();
