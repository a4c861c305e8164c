// gradcov/node-workers: the estimator pool and the gradient-only distributed trainer on
// worker_threads. The pool's result for a seed is bit-identical for 1, 2 and 3 workers and
// equals estimateHessian (bit for bit in one block, within merge rounding across blocks);
// the trainer's messages after set-up carry only w and gradients (every message checked),
// and it reaches the least-squares risk.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';
import { createEstimatorPool, createDistributedTrainer, type MessageTap } from '../../src/node/workers.js';

await g.init(undefined, { build: 'simd' }); // at import, not in a hook: uvu 0.5 drops a hook's error message

function problem(rows: number, dim: number, seed: number) {
  const X = new g.Rng(seed).normals(new Float64Array(rows * dim));
  const wStar = new g.Rng(seed + 1).normals(new Float64Array(dim));
  const e = new g.Rng(seed + 2).normals(new Float64Array(rows));
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0.5 * e[i]!;
    for (let j = 0; j < dim; j++) s += X[i * dim + j]! * wStar[j]!;
    y[i] = s;
  }
  return { X, y, rows, dim };
}
const same = (a: Float64Array, b: Float64Array) =>
  a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

test('pool: the same bits for 1, 2 and 3 workers; equal to estimateHessian within merge rounding; one block equals it exactly', async () => {
  const data = problem(3000, 7, 1);
  const w = new Float64Array(7).fill(0.1);
  const opts = { batchSize: 32, batches: 5000, seed: 4, blockBatches: 700 };
  const results = [];
  // both data paths: the workers' shared WebAssembly memory, and a memory (a copy) per worker
  for (const sharedMemory of [true, false]) {
    for (const workers of [1, 2, 3]) {
      const pool = await createEstimatorPool({ workers, sharedMemory });
      assert.is(pool.size, workers);
      assert.is(pool.sharedWasmMemory, sharedMemory);
      const h = await pool.share(data);
      results.push(await pool.estimateHessian(h, w, opts), await pool.estimateHessian(data, w, opts));
      await pool.close();
    }
  }
  assert.is(results.length, 12);
  for (const r of results)
    assert.ok(
      same(results[0]!.hessian, r.hessian) && same(results[0]!.mean, r.mean),
      'worker-count and data-path independent',
    );
  assert.ok(same(results[0]!.mean, results[2]!.mean));
  const ref = g.estimateHessian(data, w, { batchSize: 32, batches: 5000, seed: 4 });
  const scale = Math.max(...ref.hessian.map(Math.abs));
  const diff = Math.max(...ref.hessian.map((v, i) => Math.abs(v - results[1]!.hessian[i]!)));
  assert.ok(
    diff <= 64 * Number.EPSILON * scale,
    `pool vs single thread: ${diff} (bound 64 eps ||C||max = ${64 * Number.EPSILON * scale})`,
  );
  const pool = await createEstimatorPool({ workers: 2 });
  const one = await pool.estimateHessian(data, w, { batchSize: 32, batches: 600, seed: 4, firstBatch: 10 });
  assert.ok(
    same(
      one.hessian,
      g.estimateHessian(data, w, { batchSize: 32, batches: 600, seed: 4, firstBatch: 10 }).hessian,
    ),
    'one block: bit-identical',
  );
  await pool.close();
});

test('pool: share() once, estimate many times; errors are the same TypeError/RangeError as estimateHessian, before any work', async () => {
  const data = problem(500, 3, 2);
  const pool = await createEstimatorPool({ workers: 2 });
  const h = await pool.share(data);
  const w = new Float64Array(3);
  const a = await pool.estimateHessian(h, w, { batchSize: 16, batches: 300, seed: 1, blockBatches: 50 });
  const b = await pool.estimateHessian(data, w, { batchSize: 16, batches: 300, seed: 1, blockBatches: 50 });
  assert.ok(same(a.hessian, b.hessian));
  for (const [opts, Kind, msg] of [
    [{ batchSize: 16, batches: 1, seed: 1 }, RangeError, /`batches` must be at least 2/],
    [{ batchSize: 0, batches: 10, seed: 1 }, RangeError, /`batchSize`/],
    [{ batchSize: 16, batches: 10, seed: 1, blockBatches: 0 }, RangeError, /`blockBatches`/],
    [{ batchSize: 16, batches: 10, seed: 'x' }, TypeError, /`seed`/],
  ] as const) {
    try {
      await pool.estimateHessian(h, w, opts as never);
      assert.unreachable('accepted');
    } catch (err) {
      assert.instance(err, Kind);
      assert.match((err as Error).message, msg);
    }
  }
  try {
    await pool.estimateHessian(h, new Float64Array(4), { batchSize: 16, batches: 10, seed: 1 });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /`w`/);
  }
  await pool.forget(h);
  try {
    await pool.estimateHessian(h, w, { batchSize: 16, batches: 10, seed: 1 });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /share\(\)/);
  }
  await pool.close();
  try {
    await pool.estimateHessian(data, w, { batchSize: 16, batches: 10, seed: 1 });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /closed/);
  }
  try {
    await createEstimatorPool({ workers: 0 });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, RangeError);
    assert.match((err as Error).message, /`workers`/);
  }
});

test('distributed: after set-up only w goes out and only gradients come back (every message checked); reaches the least-squares risk', async () => {
  const full = problem(4000, 5, 3);
  const shards = [0, 1, 2].map((k) => {
    const a = Math.floor((k * full.rows) / 3),
      b = Math.floor(((k + 1) * full.rows) / 3);
    return { X: full.X.slice(a * 5, b * 5), y: full.y.slice(a, b), rows: b - a, dim: 5 };
  });
  const log: { dir: string; worker: number; msg: Record<string, unknown> }[] = [];
  const tap: MessageTap = (dir, worker, msg) =>
    log.push({ dir, worker, msg: msg as Record<string, unknown> });
  const trainer = await createDistributedTrainer(shards, {
    rounds: 12,
    batchSize: 32,
    batchesPerRound: 3000,
    seed: 5,
    tap,
    workers: 3,
  });
  assert.is(trainer.threads, 3);
  const setup = log.length;
  const r = await trainer.train();
  await trainer.close();
  const rounds = log.slice(setup);
  assert.is(rounds.length, 12 * 3 * 2, 'one request and one reply per holder per round');
  const perHolder = trainer.batchesPerHolder;
  const holderOf = new Map<string, number>(); // (worker, request id) -> holder
  for (const { dir, worker, msg } of rounds) {
    if (dir === 'to-worker') {
      assert.equal(Object.keys(msg).sort(), ['holder', 'id', 'type', 'w']);
      assert.is(msg.type, 'holder:round');
      assert.instance(msg.w, Float64Array);
      assert.is((msg.w as Float64Array).length, 5);
      holderOf.set(`${worker}:${String(msg.id)}`, msg.holder as number);
    } else {
      assert.equal(Object.keys(msg).sort(), ['id', 'type', 'value']);
      assert.is(msg.type, 'ok');
      assert.instance(msg.value, Float64Array);
      const holder = holderOf.get(`${worker}:${String(msg.id)}`)!;
      // batches x dim gradients and as many pair differences (hessianEstimator 'paired'), nothing else
      assert.is(
        (msg.value as Float64Array).length,
        2 * perHolder[holder]! * 5,
        'gradients and pair differences, nothing else',
      );
    }
  }
  // no message of the rounds holds anything the size of a shard's X or y
  assert.ok(rounds.every(({ msg }) => !('shard' in msg) && !('X' in msg) && !('y' in msg)));
  const fit = g.leastSquares(full);
  const risk = (w: Float64Array) => {
    let s = 0;
    for (let i = 0; i < full.rows; i++) {
      let p = -full.y[i]!;
      for (let j = 0; j < 5; j++) p += full.X[i * 5 + j]! * w[j]!;
      s += p * p;
    }
    return s / full.rows;
  };
  const rel = (risk(r.w) - risk(fit.w)) / risk(fit.w);
  assert.ok(rel >= -1e-12 && rel < 0.01, `relative excess risk ${rel}`);
  // H_hat from gradients alone is close to X'X/rows (standard normal X: about I)
  const H = g.secondMomentMatrix(full);
  assert.ok(g.relativeError(r.hessian, H, 5) < 0.1, `H_hat error ${g.relativeError(r.hessian, H, 5)}`);
});

test.run();
