// Issue 7: accumulators that are never disposed are reclaimed by the FinalizationRegistry.
// In a child process with --expose-gc: 20,000 accumulators of dim 64 (33 KiB of wasm state
// each, 660 MiB in all) created and dropped, with a gc() after every 500; wasm memory must
// stay below 64 MiB (without the registry it would pass 660 MiB).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('undisposed GradientCovariance objects are freed after collection: memory stays bounded', () => {
  const script = fileURLToPath(new URL('./fixtures/finalize.ts', import.meta.url));
  const out = JSON.parse(
    execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 300000,
    }),
  );
  assert.ok(out.peak <= 64 * 2 ** 20, `peak ${out.peak} bytes for ${out.created} undisposed accumulators`);
  assert.ok(out.peak < (out.created * out.stateBytes) / 8, 'most of the state was reclaimed');
});

test.run();
