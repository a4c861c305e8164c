// estimateCurvature's work as blocks (blockBatches, curvatureBlocks, computeCurvatureBlock,
// finishCurvature): blocks computed in any order, some twice, finish to estimateCurvature's
// bits for every method and the sketch; without blockBatches the bits are those of the code
// before blocks existed (digests recorded from it); the built-in oracle in blocks equals
// estimateHessian with the same blockBatches (one cut, one merge); every bad argument is a
// named TypeError/RangeError before anything is computed or merged, and nothing leaks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import * as g from '../../src/node.js';
import { wasmLiveBytes } from '../../src/core/wasm.js';
import { crc32 } from '../../src/core/serialize.js';
import { setup, normals, hex, fields } from '../helpers/helpers.js';
// @ts-expect-error: a plain .mjs helper shared with the worker tests
import { tanhOracle } from '../helpers/tanh-oracle.mjs';

test.before(setup);

type Oracle = (req: g.GradientRequest) => Float64Array;
const DIM = 6,
  N = 8;
const tanh = (): Oracle => tanhOracle({ rows: 500, dim: DIM, batchSize: N }) as Oracle;
const BASE = { dim: DIM, batchSize: N, batches: 301, seed: 5, stream: 1, firstBatch: 3 };
const METHODS: [string, Partial<g.CurvatureOptions>][] = [
  ['calibrated', { method: 'calibrated' }],
  ['paired', { method: 'paired' }],
  ['two-level', { method: 'two-level', noiseLevels: [12, 1] }],
  ['debiased', { method: 'debiased', noiseVariance: 4 }],
  ['sketch', { method: 'paired', sketch: { size: 4, k: 3 } }],
  ['sketch f32', { method: 'paired', sketch: { size: 4, k: 3, precision: 'f32' } }],
];

/** The digest the code before blockBatches printed for a result (the same recipe). */
function digest(r: object): string {
  const h = createHash('sha256');
  for (const [k, v] of Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1))) {
    h.update(k);
    if (v instanceof Float64Array) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    else h.update(JSON.stringify(v));
  }
  return h.digest('hex').slice(0, 16);
}

/** A fixed shuffle of 0..n-1 (a permutation by a stride prime to n, reversed). */
function shuffled(n: number): number[] {
  let stride = 7;
  while (gcd(stride, n) !== 1) stride++;
  return Array.from({ length: n }, (_, i) => (i * stride + 3) % n).reverse();
}
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Every block computed in a shuffled order (the first of that order twice), collected by index. */
async function blocksOf(oracle: Oracle, o: g.CurvatureOptions): Promise<Uint8Array[]> {
  const plan = g.curvatureBlocks(o);
  const order = shuffled(plan.length);
  const out: Uint8Array[] = new Array(plan.length);
  out[order[0]!] = await g.computeCurvatureBlock(oracle, o, order[0]!); // overwritten: a retry
  for (const i of order) out[i] = await g.computeCurvatureBlock(oracle, o, i);
  return out;
}

test('without blockBatches: the bits of the code before blocks existed (recorded digests), every method and the sketch', async () => {
  const before: Record<string, string> = {
    calibrated: '2c934e5da7825b46',
    paired: 'f034572779dcac38',
    'two-level': '391338e997701438',
    debiased: 'e162fbef94efe285',
    sketch: 'bf5404f9c42fa910',
  };
  for (const [name, m] of METHODS) {
    if (!(name in before)) continue; // (f32 sketch storage came after the blocks)
    const r = await g.estimateCurvature(tanh(), { ...BASE, ...m } as g.CurvatureOptions);
    assert.is(digest(r), before[name], name);
    // one block per level, however given: the same result
    const one = { ...BASE, ...m, blockBatches: 1000 } as g.CurvatureOptions;
    assert.equal(
      fields(await g.estimateCurvature(tanh(), one)),
      fields(r),
      `${name}: blockBatches >= batches`,
    );
    assert.equal(fields(g.finishCurvature(one, await blocksOf(tanh(), one))), fields(r), `${name}: finished`);
  }
});

test('blockBatches: finishCurvature of blocks computed in shuffled order (one twice) equals estimateCurvature, bit for bit, every field, every method and the sketch', async () => {
  for (const [name, m] of METHODS) {
    for (const blockBatches of [1, 40, 150]) {
      const o = { ...BASE, ...m, blockBatches } as g.CurvatureOptions;
      const plan = g.curvatureBlocks(o);
      assert.ok(plan.length >= 2, `${name} blockBatches ${blockBatches}: several blocks`);
      const want = fields(await g.estimateCurvature(tanh(), o));
      const before = wasmLiveBytes();
      const got = g.finishCurvature(o, await blocksOf(tanh(), o));
      assert.equal(fields(got), want, `${name} blockBatches ${blockBatches}`);
      assert.is(wasmLiveBytes(), before, `${name}: finishCurvature frees its accumulators`);
      // a Promise-returning oracle at another concurrency: the same bits
      const slow: g.GradientOracle = (req) => Promise.resolve(tanh()(req));
      const bytes = await g.computeCurvatureBlock(slow, { ...o, concurrency: 3 }, plan.length - 1);
      assert.equal(bytes, await g.computeCurvatureBlock(tanh(), o, plan.length - 1), `${name}: async oracle`);
    }
  }
});

test('the built-in oracle in blocks equals estimateHessian with the same blockBatches (one cut, one merge)', async () => {
  const rows = 400,
    dim = 5;
  const data = { X: normals(rows * dim, 3, 1), y: normals(rows, 3, 2), rows, dim };
  const w = normals(dim, 3, 3);
  const builtIn = (req: g.GradientRequest) =>
    g.linearRegressionGradients(data, w, {
      batchSize: N,
      batches: 1,
      firstBatch: req.batch,
      noiseVariance: req.noiseVariance,
      seed: 4,
    });
  for (const [name, m] of METHODS.filter(([n]) => n !== 'paired' && !n.startsWith('sketch'))) {
    const o = { batchSize: N, batches: 301, seed: 4, blockBatches: 64, ...m } as g.EstimateOptions;
    const want = g.estimateHessian(data, w, o);
    const co = { ...o, dim } as g.CurvatureOptions;
    const got = g.finishCurvature(co, await blocksOf(builtIn, co));
    assert.is(hex(got.hessian), hex(want.hessian), `${name}: hessian`);
    assert.is(hex(got.mean), hex(want.mean), `${name}: mean`);
    assert.equal(got.noiseLevels, want.noiseLevels);
  }
});

test('curvatureBlocks: the levels cut in blockBatches, in batch order, with their noise', () => {
  const o = {
    ...BASE,
    method: 'two-level' as const,
    noiseLevels: [12, 1] as [number, number],
    blockBatches: 50,
  };
  const blocks = g.curvatureBlocks(o);
  // level 0: ceil(301 / 2) = 151 batches from 3 (50, 50, 50, 1); level 1: 150 from 154
  assert.equal(
    blocks.map((b) => [b.index, b.level, b.firstBatch, b.batches, b.noiseVariance]),
    [
      [0, 0, 3, 50, 12],
      [1, 0, 53, 50, 12],
      [2, 0, 103, 50, 12],
      [3, 0, 153, 1, 12],
      [4, 1, 154, 50, 1],
      [5, 1, 204, 50, 1],
      [6, 1, 254, 50, 1],
    ],
  );
  assert.equal(
    g.curvatureBlocks({ ...BASE, method: 'paired' }).map((b) => [b.firstBatch, b.batches, b.noiseVariance]),
    [[3, 301, N / 2]],
    'no blockBatches: one block per level',
  );
});

/** Asserts fn throws (or rejects with) Kind, its message matching re. */
async function refuses(what: string, fn: () => unknown, Kind: typeof TypeError, re: RegExp): Promise<void> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Kind, `${what}: ${Kind.name} expected, got ${String(err)}`);
  assert.match((err as Error).message, re, what);
}

test('bad blockBatches: the same named error from estimateCurvature, curvatureBlocks, computeCurvatureBlock and finishCurvature, before the oracle is called', async () => {
  let calls = 0;
  const oracle: Oracle = (req) => {
    calls++;
    return tanh()(req);
  };
  for (const [value, Kind] of [
    [0, RangeError],
    [1.5, RangeError],
    [-3, RangeError],
    [2 ** 31, RangeError],
    [NaN, RangeError],
    ['8', TypeError],
    [null, TypeError],
  ] as const) {
    const o = { ...BASE, blockBatches: value } as unknown as g.CurvatureOptions;
    const re = new RegExp(`\`blockBatches\`.*Value: \`"?${String(value)}`);
    await refuses(`estimateCurvature ${String(value)}`, () => g.estimateCurvature(oracle, o), Kind, re);
    await refuses(`curvatureBlocks ${String(value)}`, () => g.curvatureBlocks(o), Kind, re);
    await refuses(
      `computeCurvatureBlock ${String(value)}`,
      () => g.computeCurvatureBlock(oracle, o, 0),
      Kind,
      re,
    );
    await refuses(`finishCurvature ${String(value)}`, () => g.finishCurvature(o, []), Kind, re);
  }
  assert.is(calls, 0);
  // the other options exactly as estimateCurvature checks them
  await refuses(
    'unknown key',
    () => g.curvatureBlocks({ ...BASE, blockBatch: 4 } as never),
    TypeError,
    /blockBatch.*blockBatches/,
  );
  await refuses('batches 1', () => g.curvatureBlocks({ ...BASE, batches: 1 }), RangeError, /`batches`/);
  await refuses(
    'sketch size 1000',
    () => g.curvatureBlocks({ ...BASE, method: 'paired', sketch: { size: 1000 } }),
    RangeError,
    /size/,
  );
  await refuses(
    'sketch with calibrated',
    () => g.finishCurvature({ ...BASE, sketch: { size: 4 } }, []),
    RangeError,
    /`sketch` needs method 'paired'/,
  );
});

test('computeCurvatureBlock: a bad index or oracle is a named error before any call; signal and timeout honoured', async () => {
  let calls = 0;
  const oracle: Oracle = (req) => {
    calls++;
    return tanh()(req);
  };
  const o = { ...BASE, blockBatches: 100 }; // blocks 0..3
  for (const [index, Kind] of [
    [-1, RangeError],
    [4, RangeError],
    [1.5, RangeError],
    [NaN, RangeError],
    ['0', TypeError],
    [undefined, TypeError],
  ] as const)
    await refuses(
      `index ${String(index)}`,
      () => g.computeCurvatureBlock(oracle, o, index as number),
      Kind,
      new RegExp(`\`index\` must be an integer in \\[0, 4\\).*Value: \`"?${String(index)}`),
    );
  await refuses(
    'oracle',
    () => g.computeCurvatureBlock(42 as never, o, 0),
    TypeError,
    /`oracle` must be a function/,
  );
  assert.is(calls, 0);
  const aborted = AbortSignal.abort(new Error('stop'));
  const err = await g.computeCurvatureBlock(oracle, { ...o, signal: aborted }, 1).catch((e: Error) => e);
  assert.is((err as Error).name, 'AbortError');
  assert.is(calls, 0, 'an aborted signal: no call');
  const before = wasmLiveBytes();
  const late = await g
    .computeCurvatureBlock(() => new Promise<Float64Array>(() => {}), { ...o, timeout: 20 }, 2)
    .catch((e: Error) => e);
  assert.match((late as Error).message, /did not answer batch 203 \(draw 0\) within the timeout of 20 ms/);
  assert.is(wasmLiveBytes(), before, 'the block is freed');
  // an oracle error names the block's batch
  const bad = await g
    .computeCurvatureBlock((r) => (r.batch === 250 ? new Float64Array(2) : tanh()(r)), o, 2)
    .catch((e: Error) => e);
  assert.match((bad as Error).message, /batch 250 \(draw 0\) must have length dim \(6\)/);
  assert.is(wasmLiveBytes(), before, 'the block is freed after a bad answer');
});

test('finishCurvature refuses, naming the block, before merging anything: a wrong count, hostile bytes, another kind, dim, count or sketch size; nothing leaks', async () => {
  const dense = { ...BASE, method: 'paired' as const, blockBatches: 100 }; // 4 blocks, the last of 1 batch
  const sketched = { ...dense, sketch: { size: 4, k: 3 } };
  const good = await blocksOf(tanh(), dense);
  const goodSketch = await blocksOf(tanh(), sketched);
  const before = wasmLiveBytes();
  const at = (blocks: Uint8Array[], i: number, v: unknown) =>
    blocks.map((b, j) => (j === i ? v : b)) as Uint8Array[];
  const flip = (b: Uint8Array, at: number) => {
    const c = b.slice();
    c[at]! ^= 1;
    return c;
  };
  /** A blob whose CRC matches but whose co-moment is not positive semi-definite (a forger's). */
  const forged = (b: Uint8Array) => {
    const c = b.slice();
    const v = new DataView(c.buffer);
    const dim = v.getUint32(8, true);
    const upper = 24 + 8 * dim;
    v.setFloat64(upper + 8, 1e6 * (Math.abs(v.getFloat64(upper, true)) + 1), true); // |M01| >> sqrt(M00 M11)
    v.setUint32(c.length - 4, crc32(c, 0, c.length - 4), true);
    return c;
  };
  const otherDim = await g.computeCurvatureBlock(
    tanhOracle({ rows: 500, dim: DIM + 1, batchSize: N }) as Oracle,
    { ...dense, dim: DIM + 1 },
    1,
  );
  const otherSize = await g.computeCurvatureBlock(tanh(), { ...sketched, sketch: { size: 5 } }, 1);
  const cases: [string, g.CurvatureOptions, unknown, typeof TypeError, RegExp][] = [
    ['not an array', dense, good[0], TypeError, /`blocks` must be an array of 4 Uint8Array/],
    ['3 blocks', dense, good.slice(0, 3), RangeError, /`blocks` must have 4 entries.*Value: 3 entries/],
    ['5 blocks', dense, [...good, good[0]], RangeError, /`blocks` must have 4 entries.*Value: 5 entries/],
    [
      'a Float64Array',
      dense,
      at(good, 2, new Float64Array(4)),
      TypeError,
      /`blocks\[2\]` must be a Uint8Array/,
    ],
    ['a missing block', dense, at(good, 1, undefined), TypeError, /`blocks\[1\]` must be a Uint8Array/],
    [
      'a damaged byte',
      dense,
      at(good, 2, flip(good[2]!, 40)),
      RangeError,
      /`blocks\[2\]` is not a block's bytes.*CRC-32/,
    ],
    [
      'truncated',
      dense,
      at(good, 1, good[1]!.subarray(0, 30)),
      RangeError,
      /`blocks\[1\]` is not a block's bytes/,
    ],
    [
      'forged (not PSD)',
      dense,
      at(good, 2, forged(good[2]!)),
      RangeError,
      /`blocks\[2\]` is not a block's bytes.*positive semi-definite/,
    ],
    [
      'a sketch for the dense plan',
      dense,
      at(good, 1, goodSketch[1]),
      TypeError,
      /`blocks\[1\]` must be a GradientCovariance's bytes.*Value: a CurvatureSketch's/,
    ],
    [
      'a covariance for the sketch',
      sketched,
      at(goodSketch, 0, good[0]),
      TypeError,
      /`blocks\[0\]` must be a CurvatureSketch's bytes/,
    ],
    [
      'a damaged sketch',
      sketched,
      at(goodSketch, 2, flip(goodSketch[2]!, 60)),
      RangeError,
      /`blocks\[2\]` is not a block's bytes.*CRC-32/,
    ],
    ['another dim', dense, at(good, 1, otherDim), RangeError, /`blocks\[1\]` must hold dim 6.*Value: dim 7/],
    [
      'another block (count)',
      dense,
      at(good, 3, good[0]),
      RangeError,
      /`blocks\[3\]` must hold 1 gradients.*Value: 100/,
    ],
    [
      'swapped',
      dense,
      [good[0], good[3], good[2], good[1]],
      RangeError,
      /`blocks\[1\]` must hold 100 gradients.*Value: 1\./,
    ],
    [
      'another block (rows)',
      sketched,
      at(goodSketch, 3, goodSketch[1]),
      RangeError,
      /`blocks\[3\]` must hold 1 rows.*Value: 100/,
    ],
    [
      'another sketch size',
      sketched,
      at(goodSketch, 1, otherSize),
      RangeError,
      /`blocks\[1\]` must hold a sketch of size 4.*Value: size 5/,
    ],
    [
      'another sketch precision (f64 blocks for an f32 plan)',
      { ...sketched, sketch: { ...sketched.sketch, precision: 'f32' } } as g.CurvatureOptions,
      goodSketch,
      RangeError,
      /`blocks\[0\]` must hold a sketch of precision 'f32'. Value: 'f64'/,
    ],
  ];
  for (const [what, o, blocks, Kind, re] of cases) {
    await refuses(what, () => g.finishCurvature(o, blocks as Uint8Array[]), Kind, re);
    assert.is(wasmLiveBytes(), before, `${what}: nothing leaked`);
  }
  // the good blocks still finish (nothing above changed them)
  assert.equal(fields(g.finishCurvature(dense, good)), fields(await g.estimateCurvature(tanh(), dense)));
  assert.equal(
    fields(g.finishCurvature(sketched, goodSketch)),
    fields(await g.estimateCurvature(tanh(), sketched)),
  );
});

test.run();
