// The sketched paired estimate at 2^17 (m = 600) and 2^20 parameters against a planted spectrum (GRADCOV_LONG=1):
// the checks and tolerances of test/helpers/planted.ts, with m = 200 batches (its stated
// sampling error is wider than at 2^17's m = 600) and a sketch of l = 16 (2 l dim f64 = 256 MiB).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setup } from '../helpers/helpers.js';
import { checkPlanted } from '../helpers/planted.js';

test.before(setup);

test('d = 2^17, l = 16, m = 600: outliers in their intervals up to the sampling error, the diagonal within its sampling error, the shrinkage within the FD bound (moved from test/sketch)', async () => {
  const { result, seconds } = await checkPlanted(2 ** 17, 16, 600, 16);
  assert.ok(result.shrinkage > 0, 'the bulk is sketched, not kept');
  console.log(`2^17: ${seconds.toFixed(1)} s`);
});

test('d = 2^20, l = 16, m = 200: outliers in their intervals up to the sampling error, the diagonal within its sampling error, the shrinkage within the FD bound', async () => {
  const { result, seconds } = await checkPlanted(2 ** 20, 16, 200, 16);
  assert.ok(result.shrinkage > 0);
  console.log(`2^20: ${seconds.toFixed(1)} s, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
});

test.run();
