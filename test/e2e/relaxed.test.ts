// The relaxed-SIMD build: picked by init() where the engine validates relaxed SIMD (Node 20
// needs --experimental-wasm-relaxed-simd), its noise bit-identical to the plain build's and
// its covariance equal to the plain build's to rounding.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/builds.ts', import.meta.url));
const run = (flags: string[], build: string) =>
  JSON.parse(
    execFileSync(process.execPath, [...flags, '--import', 'tsx', script, build], { encoding: 'utf8' }),
  );

test('auto picks relaxed SIMD where the engine has it, plain SIMD where it does not', () => {
  assert.equal(run([], 'auto').build, 'simd');
  assert.equal(run(['--experimental-wasm-relaxed-simd'], 'auto').build, 'relaxed-simd');
  assert.equal(run(['--experimental-wasm-relaxed-simd'], 'simd').build, 'simd');
  assert.match(run([], 'relaxed-simd').error, /does not support relaxed SIMD/);
});

test('relaxed build: normals bit-identical, covariance within 1e-13 relative of the plain build', () => {
  const plain = run([], 'simd');
  const relaxed = run(['--experimental-wasm-relaxed-simd'], 'relaxed-simd');
  assert.is(relaxed.build, 'relaxed-simd');
  assert.is(relaxed.normalsHash, plain.normalsHash);
  let worst = 0,
    scale = 0;
  for (let i = 0; i < plain.cov.length; i++) {
    worst = Math.max(worst, Math.abs(relaxed.cov[i] - plain.cov[i]));
    scale = Math.max(scale, Math.abs(plain.cov[i]));
  }
  assert.ok(worst <= 1e-13 * scale, `max difference ${worst} (scale ${scale})`);
});

test.run();
