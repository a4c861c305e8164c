// The relaxed-SIMD build's covariance kernel (f64x2.relaxed_madd) against the plain-TS
// reference at the same edge sizes as the plain build: Node 20 runs that build only with
// --experimental-wasm-relaxed-simd, so the sweep runs in a child process with the flag.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../helpers/fixtures/covariance-sweep.ts', import.meta.url));

test('relaxed-SIMD build: addBatch equals the reference at every edge size (child process)', () => {
  const out = JSON.parse(
    execFileSync(
      process.execPath,
      ['--experimental-wasm-relaxed-simd', '--import', 'tsx', script, 'relaxed-simd'],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    )
      .trim()
      .split('\n')
      .pop()!,
  );
  assert.is(out.error, undefined, out.error);
  assert.is(out.build, 'relaxed-simd');
  assert.ok(out.cases > 200, `only ${out.cases} cases ran`);
  assert.equal(out.failures, []);
});

test.run();
