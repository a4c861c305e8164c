// The gradient and pair kernels (assembly/gradient.ts, paired.ts) against the plain-TS
// references, and their bits across paths and chunkings. The kernels sum every batch in
// one order (samples by bucket of their row, then drawing order) on two paths: per batch
// (eight rows gathered at a time) and sorted (sub-chunks of batches counting-sorted by
// bucket, X read in address order). The sorted path starts at 2 MiB of X (8 MiB for
// pairs); the tuning hook lowers that, and shrinks the buckets, so that small shapes at
// the edges (0/1 rows, n = 1, dim 1, odd dims, SIMD width +/- 1, duplicates, with and
// without replacement, sub-chunk boundaries +/- 1) go through both paths.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { linearRegressionGradients } from '../../src/node.js';
import { pairDifferences } from '../../src/estimators/plan.js';
import { wasm, alloc, free, copyIn, f64 } from '../../src/core/wasm.js';
import * as ref from '../../src/reference/gradients.js';
import * as refP from '../../src/reference/paired.js';
import { setup, maxAbs, maxAbsDiff, normals } from '../helpers/helpers.js';

test.before(setup);

const bits = (a: Float64Array) =>
  Array.from(new BigUint64Array(a.buffer, a.byteOffset, a.length), (v) => v.toString(16));

test('lrGradients equals the reference around the eight-row groups and the SIMD width (bit for bit without noise)', () => {
  for (const dim of [1, 2, 3, 63, 64, 65]) {
    const rows = 300;
    const X = normals(rows * dim, dim, 1),
      y = normals(rows, dim, 2),
      w = normals(dim, dim, 3);
    for (const n of [1, 7, 8, 9, 15, 16, 17, 64, 257]) {
      for (const tau2 of [0, n]) {
        const opts = { batchSize: n, batches: 3, noiseVariance: tau2 };
        const got = linearRegressionGradients({ X, y, rows, dim }, w, { ...opts, seed: 4 });
        const want = ref.linearRegressionGradients(X, y, rows, dim, w, { ...opts, k0: 4, k1: 0 });
        if (tau2 === 0) {
          assert.equal(bits(got), bits(want), `dim ${dim} n ${n}: the kernel's order is the reference's`);
          continue;
        }
        // the reference's Math-based normals differ from the kernel's by a few ulp
        const tol = 1e-13 * (1 + maxAbs(want)) * Math.sqrt(dim) * (1 + Math.sqrt(tau2));
        assert.ok(maxAbsDiff(got, want) <= tol, `dim ${dim} n ${n} tau2 ${tau2}: ${maxAbsDiff(got, want)}`);
      }
    }
  }
});

interface Shape {
  rows: number;
  dim: number;
  n: number;
  replacement: boolean;
}

/**
 * Runs the gradient (or pair) kernel directly over batches [first, first + m) in calls of
 * the given sizes, with a sort area holding `perBlock` batches (0: none; 'short': one
 * byte less than three batches need, so two fit).
 */
function kernel(
  paired: boolean,
  s: Shape,
  X: Float64Array,
  y: Float64Array,
  w: Float64Array,
  tau2: number,
  first: number,
  calls: number[],
  perBlock: number | 'short',
): Float64Array {
  const k = wasm();
  const m = calls.reduce((a, c) => a + c, 0);
  const rep = s.replacement ? 1 : 0;
  const scratch = paired
    ? k.lrPairedDiffsScratchBytes(s.rows, s.n, rep)
    : k.lrGradientsScratchBytes(s.rows, s.n, rep);
  let areaBytes = 0;
  if (perBlock === 'short') areaBytes = k.lrSortAreaBytes(s.rows, s.dim, s.n, 3, paired ? 1 : 0) - 1;
  else if (perBlock > 0) areaBytes = k.lrSortAreaBytes(s.rows, s.dim, s.n, perBlock, paired ? 1 : 0);
  const ptrs = [X.byteLength, y.byteLength, w.byteLength, scratch, Math.max(8, areaBytes), m * s.dim * 8].map(
    (b) => alloc(b, 'test'),
  );
  const [xp, yp, wp, sp, ap, op] = ptrs as [number, number, number, number, number, number];
  try {
    copyIn(xp, X);
    copyIn(yp, y);
    copyIn(wp, w);
    let done = 0;
    for (const c of calls) {
      const out = op + done * s.dim * 8;
      if (paired)
        k.lrPairedDiffs(
          xp,
          s.rows,
          s.dim,
          s.n,
          c,
          first + done,
          Math.sqrt(tau2),
          7,
          0,
          2,
          rep,
          out,
          sp,
          areaBytes ? ap : 0,
          areaBytes,
        );
      else
        k.lrGradients(
          xp,
          yp,
          s.rows,
          s.dim,
          wp,
          s.n,
          c,
          first + done,
          Math.sqrt(tau2),
          7,
          0,
          2,
          rep,
          out,
          sp,
          areaBytes ? ap : 0,
          areaBytes,
        );
      done += c;
    }
    return f64(op, m * s.dim).slice();
  } finally {
    ptrs.forEach(free);
  }
}

const SHAPES: Shape[] = [
  { rows: 1, dim: 1, n: 1, replacement: true },
  { rows: 1, dim: 3, n: 5, replacement: true },
  { rows: 2, dim: 1, n: 17, replacement: true },
  { rows: 2, dim: 2, n: 2, replacement: false },
  { rows: 7, dim: 2, n: 3, replacement: false },
  { rows: 33, dim: 3, n: 9, replacement: true },
  { rows: 100, dim: 5, n: 8, replacement: true },
  { rows: 100, dim: 64, n: 7, replacement: false },
  { rows: 50, dim: 65, n: 16, replacement: true },
  { rows: 300, dim: 4, n: 1, replacement: true },
  { rows: 40, dim: 9, n: 40, replacement: false },
  { rows: 257, dim: 1, n: 33, replacement: true },
];

test('the bits depend on neither the path (per batch, sorted) nor the chunking (calls, sub-chunks +/- 1); equal to the reference without noise', () => {
  const k = wasm();
  const m = 7,
    first = 5;
  try {
    for (const s of SHAPES) {
      const X = normals(s.rows * s.dim, s.dim, 11),
        y = normals(s.rows, s.dim, 12),
        w = normals(s.dim, s.dim, 13);
      // buckets of one row, of three rows, and the default (one bucket at these sizes)
      for (const bucket of [0, 3 * 8 * s.dim, -1]) {
        k.lrGradientsTuning(bucket, bucket === -1 ? -1 : 0, 0, 1 << 30);
        const order = bucket === -1 ? {} : { bucketBytes: bucket, sortMinXBytes: 0 };
        assert.is(
          k.lrBucketShift(s.rows, s.dim),
          ref.bucketShift(s.rows, s.dim, order),
          `shift ${JSON.stringify(s)} bucket ${bucket}`,
        );
        for (const paired of [false, true]) {
          for (const tau2 of paired ? [s.n / 2] : [0, s.n]) {
            const what = `${JSON.stringify(s)} bucket ${bucket} ${paired ? 'pairs' : 'gradients'} tau2 ${tau2}`;
            const base = kernel(paired, s, X, y, w, tau2, first, [m], 0);
            for (const [calls, perBlock] of [
              [[m], m],
              [[m], 2],
              [[m], 3],
              [[m], 'short'],
              [[1, 6], 3],
              [[3, 1, 3], 2],
              [[2, 5], m],
            ] as const) {
              const got = kernel(paired, s, X, y, w, tau2, first, [...calls], perBlock);
              assert.equal(bits(got), bits(base), `${what}: calls ${calls} area ${perBlock}`);
            }
            const o = {
              batchSize: s.n,
              batches: m,
              noiseVariance: tau2,
              k0: 7,
              k1: 0,
              stream: 2,
              replacement: s.replacement,
              firstBatch: first,
              ...order,
            };
            const want = paired
              ? refP.lrPairedDiffs(X, s.rows, s.dim, o)
              : ref.linearRegressionGradients(X, y, s.rows, s.dim, w, o);
            if (tau2 === 0) assert.equal(bits(base), bits(want), `${what}: reference`);
            else {
              const tol = 1e-13 * (1 + maxAbs(want)) * Math.sqrt(s.dim) * (1 + Math.sqrt(tau2));
              assert.ok(maxAbsDiff(base, want) <= tol, `${what}: reference ${maxAbsDiff(base, want)}`);
            }
          }
        }
      }
    }
  } finally {
    k.lrGradientsTuning(-1, -1, -1, -1);
  }
});

test('the sorted path can fail: a different bucket size changes the bits (so the comparisons above can see an order change)', () => {
  const k = wasm();
  const s = { rows: 100, dim: 5, n: 8, replacement: true };
  const X = normals(s.rows * s.dim, 5, 11),
    y = normals(s.rows, 5, 12),
    w = normals(5, 5, 13);
  try {
    k.lrGradientsTuning(0, 0, 0, 1 << 30);
    const rowOrder = kernel(false, s, X, y, w, 0, 0, [20], 20);
    k.lrGradientsTuning(-1, -1, -1, -1);
    const drawOrder = kernel(false, s, X, y, w, 0, 0, [20], 20);
    assert.not.equal(bits(rowOrder), bits(drawOrder));
    assert.ok(maxAbsDiff(rowOrder, drawOrder) < 1e-14 * (1 + maxAbs(drawOrder)));
  } finally {
    k.lrGradientsTuning(-1, -1, -1, -1);
  }
});

test('default tuning on an X above the thresholds: one call (sorted path) equals one batch per call (per-batch path), gradients and pairs', () => {
  for (const [rows, dim] of [
    [4100, 64],
    [16385, 65],
  ] as const) {
    // 2.1 MiB and 8.5 MiB of X
    const X = normals(rows * dim, dim, 21),
      y = normals(rows, dim, 22),
      w = normals(dim, dim, 23);
    assert.ok(wasm().lrBucketShift(rows, dim) < 31, 'more than one bucket');
    const m = 6;
    for (const replacement of [true, false]) {
      const opts = { batchSize: 300, noiseVariance: 300, seed: 9, replacement };
      const all = linearRegressionGradients({ X, y, rows, dim }, w, { ...opts, batches: m });
      const one = new Float64Array(m * dim);
      for (let b = 0; b < m; b++)
        one.set(
          linearRegressionGradients({ X, y, rows, dim }, w, { ...opts, batches: 1, firstBatch: b }),
          b * dim,
        );
      assert.equal(bits(all), bits(one), `gradients ${rows} x ${dim} replacement ${replacement}`);
      const pairs = pairDifferences({ X, y, rows, dim }, { ...opts, batches: m });
      const onePair = new Float64Array(m * dim);
      for (let b = 0; b < m; b++)
        onePair.set(pairDifferences({ X, y, rows, dim }, { ...opts, batches: 1, firstBatch: b }), b * dim);
      assert.equal(bits(pairs), bits(onePair), `pairs ${rows} x ${dim} replacement ${replacement}`);
      const want = ref.linearRegressionGradients(X, y, rows, dim, w, {
        ...opts,
        noiseVariance: 0,
        batches: m,
        k0: 9,
        k1: 0,
      });
      assert.equal(
        bits(linearRegressionGradients({ X, y, rows, dim }, w, { ...opts, noiseVariance: 0, batches: m })),
        bits(want),
        `reference ${rows} x ${dim}`,
      );
    }
  }
});

test.run();
