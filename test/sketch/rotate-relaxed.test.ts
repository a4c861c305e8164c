// The relaxed-SIMD build's rotation kernel (the covariance micro-kernel's madd, fused there)
// against the plain-TS reference at edge sizes: within n * 2^-52 * sum_t |W B| of it, where
// the plain build (test/sketch/kernels.test.ts) matches bit for bit. Node 20 runs the relaxed
// build only with --experimental-wasm-relaxed-simd, so the sweep runs in a child process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../helpers/fixtures/rotate-sweep.ts', import.meta.url));

const sweep = (build: string, flags: string[]) =>
  JSON.parse(
    execFileSync(process.execPath, [...flags, '--import', 'tsx', script, build], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    })
      .trim()
      .split('\n')
      .pop()!,
  );

test('relaxed-SIMD build: sketchRotate within n eps sum|W B| of the reference; plain build exact (child processes)', () => {
  const relaxed = sweep('relaxed-simd', ['--experimental-wasm-relaxed-simd']);
  assert.is(relaxed.error, undefined, relaxed.error);
  assert.is(relaxed.build, 'relaxed-simd');
  assert.is(relaxed.cases, 100);
  assert.ok(relaxed.worst <= 1, `worst error ${relaxed.worst} x the bound`);
  const plain = sweep('simd', []);
  assert.is(plain.error, undefined, plain.error);
  assert.is(plain.build, 'simd');
  assert.is(plain.differing, 0, `${plain.differing} entries differ in the plain build`);
});

test.run();
