// The app every bundler builds (copied next to each fixture's entry): init() and a small
// estimate on the main thread, then the Web Worker pool with 2 workers. Two jobs: one of a
// single block (one worker computes it; the same bits as the main thread, by the pool's
// determinism contract) and one of two blocks (one per worker; within the rounding of one
// Chan merge of the main thread); then the distributed trainer with two holders. Leaves
// { ok, summary | error } in window.result.
export async function run(g, workers) {
  await g.init();
  const rows = 600,
    dim = 5;
  const X = new g.Rng(1).normals(new Float64Array(rows * dim));
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0.25 * ((i % 5) - 2);
    for (let j = 0; j < dim; j++) s += (X[i * dim + j] * (j + 1)) / 8;
    y[i] = s;
  }
  const data = { X, y, rows, dim };
  const w = new Float64Array(dim);
  const opts = { batchSize: 16, batches: 400, seed: 7 };
  const main = g.estimateHessian(data, w, opts).hessian;
  const pool = await workers.createEstimatorPool({ workers: 2 });
  try {
    const oneBlock = (await pool.estimateHessian(data, w, { ...opts, blockBatches: 400 })).hessian;
    const twoBlocks = (await pool.estimateHessian(data, w, { ...opts, blockBatches: 200 })).hessian;
    // the distributed trainer: two holders of 300 rows each, in two more workers
    const shards = [0, 1].map((k) => ({
      X: X.slice(k * 300 * dim, (k + 1) * 300 * dim),
      y: y.slice(k * 300, (k + 1) * 300),
      rows: 300,
      dim,
    }));
    const trainer = await workers.createDistributedTrainer(shards, {
      rounds: 10,
      batchSize: 16,
      batchesPerRound: 500,
      seed: 1,
    });
    let trained;
    try {
      trained = Array.from((await trainer.train()).w);
    } finally {
      await trainer.close();
    }
    return {
      build: g.wasmBuild(),
      main: Array.from(main),
      oneBlock: Array.from(oneBlock),
      twoBlocks: Array.from(twoBlocks),
      trained,
      leastSquares: Array.from(g.leastSquares(data).w),
    };
  } finally {
    await pool.close();
  }
}

export function report(promise) {
  promise.then(
    (summary) => {
      window.result = { ok: true, summary };
    },
    (err) => {
      window.result = { ok: false, error: `${err?.message ?? err}\n${err?.stack ?? ''}` };
    },
  );
}
