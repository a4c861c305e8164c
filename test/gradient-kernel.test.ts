// The fused gradient kernel (eight rows per group: dot8 then axpy8, then a tail of 0-7 rows)
// against the plain-TS reference at the group boundaries: batch sizes 1, 7, 8, 9, 15, 16,
// 17, 64, 257 and dims 1, 2, 3 (SIMD width +/- 1), 63, 64, 65, with and without noise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { linearRegressionGradients } from '../src/node.js';
import * as ref from '../src/reference/gradients.js';
import { setup, maxAbs, maxAbsDiff, normals } from './helpers.js';

test.before(setup);

test('lrGradients equals the reference around the eight-row groups and the SIMD width', () => {
  for (const dim of [1, 2, 3, 63, 64, 65]) {
    const rows = 300;
    const X = normals(rows * dim, dim, 1), y = normals(rows, dim, 2), w = normals(dim, dim, 3);
    for (const n of [1, 7, 8, 9, 15, 16, 17, 64, 257]) {
      for (const tau2 of [0, n]) {
        const opts = { batchSize: n, batches: 3, noiseVariance: tau2 };
        const got = linearRegressionGradients({ X, y, rows, dim }, w, { ...opts, seed: 4 });
        const want = ref.linearRegressionGradients(X, y, rows, dim, w, { ...opts, k0: 4, k1: 0 });
        // the kernel sums eight rows before adding to g: rounding differs from the reference's
        // row-by-row sum by a few ulp of the largest partial sum
        const tol = 1e-13 * (1 + maxAbs(want)) * Math.sqrt(dim) * (1 + Math.sqrt(tau2));
        assert.ok(maxAbsDiff(got, want) <= tol, `dim ${dim} n ${n} tau2 ${tau2}: ${maxAbsDiff(got, want)}`);
      }
    }
  }
});

test.run();
