// Parallel estimateHessian (gradcov/node-workers): single-thread wasm estimateHessian (the
// baseline here) vs the worker pool with 1 and 2 workers; 100,000 rows x dim 64, batch 256,
// 8192 batches, the data shared with the workers once (through a SharedArrayBuffer; a third
// pool copies instead). Validation first: the pool gives the same bits for 1 and 2 workers
// and for the shared-memory and copy paths, and matches the single-thread result within
// merge rounding. Then: benny medians, a speed-up measured by alternating 1- and 2-worker
// calls (the machine is shared: alternating exposes both to the same load), and the wasm
// memory each pool's workers reserve (2 workers vs 1). Prints the load average.
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import * as g from '../dist/node.js';
import { createEstimatorPool } from '../dist/node/workers.js';
import { suite, check, RESULTS } from './common.js';

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const MiB = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export async function run() {
  const rows = 100000, dim = 64, batches = 8192;
  const X = new g.Rng(4).normals(new Float64Array(rows * dim));
  const y = new g.Rng(5).normals(new Float64Array(rows));
  const w = new g.Rng(6).normals(new Float64Array(dim));
  const data = { X, y, rows, dim };
  const opts = { batchSize: 256, batches, seed: 1 };
  const load0 = os.loadavg()[0];
  const pools = [
    await createEstimatorPool({ workers: 1 }),
    await createEstimatorPool({ workers: 2 }),
    await createEstimatorPool({ workers: 2, sharedMemory: false }),
  ];
  try {
    const wasmBefore = await Promise.all(pools.map((p) => p.wasmMemoryBytes()));
    const shared = await Promise.all(pools.map((p) => p.share(data)));
    const ref = g.estimateHessian(data, w, opts).hessian;
    const [one, two, copy] = await Promise.all([0, 1, 2].map((i) => pools[i].estimateHessian(shared[i], w, opts)));
    check(one.hessian.every((v, i) => Object.is(v, two.hessian[i])), 'pool: 1 and 2 workers differ');
    check(copy.hessian.every((v, i) => Object.is(v, two.hessian[i])), 'pool: shared memory and copies differ');
    let err = 0, scale = 0;
    for (let i = 0; i < ref.length; i++) { err = Math.max(err, Math.abs(ref[i] - two.hessian[i])); scale = Math.max(scale, Math.abs(ref[i])); }
    check(err <= 64 * Number.EPSILON * scale, `pool vs single thread: ${err}`);

    // alternating 1- and 2-worker calls: both see the same load
    const t1 = [], t2 = [];
    for (let r = 0; r < 7; r++) {
      let t = performance.now();
      await pools[0].estimateHessian(shared[0], w, opts);
      t1.push(performance.now() - t);
      t = performance.now();
      await pools[1].estimateHessian(shared[1], w, opts);
      t2.push(performance.now() - t);
    }
    const wasm = await Promise.all(pools.map((p) => p.wasmMemoryBytes()));
    const sum = (xs) => xs.reduce((a, b) => a + b, 0);
    const dataBytes = X.byteLength + y.byteLength;
    const report = {
      date: new Date().toISOString(),
      cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version,
      loadBefore: load0, loadAfter: os.loadavg()[0],
      alternating: { oneWorkerMs: median(t1), twoWorkersMs: median(t2), speedup: median(t1) / median(t2), ratios: t1.map((a, i) => a / t2[i]) },
      wasmBytes: { beforeShare: wasmBefore.map(sum), oneWorker: sum(wasm[0]), twoWorkers: sum(wasm[1]), twoWorkersCopy: sum(wasm[2]), perWorker: wasm },
      dataBytes,
    };
    report.wasmRatio = report.wasmBytes.twoWorkers / report.wasmBytes.oneWorker;
    // all memory holding the data: the pool's one SharedArrayBuffer plus every worker's wasm
    report.dataMemoryRatio = (dataBytes + report.wasmBytes.twoWorkers) / (dataBytes + report.wasmBytes.oneWorker);
    console.log(`parallel: alternating medians 1 worker ${median(t1).toFixed(0)} ms, 2 workers ${median(t2).toFixed(0)} ms: ${report.alternating.speedup.toFixed(2)}x `
      + `(per-pair ratios ${report.alternating.ratios.map((r) => r.toFixed(2)).join(' ')}); load average ${load0.toFixed(2)} -> ${report.loadAfter.toFixed(2)}`);
    console.log(`parallel: wasm memory reserved by the workers: 1 worker ${MiB(report.wasmBytes.oneWorker)}, 2 workers ${MiB(report.wasmBytes.twoWorkers)} `
      + `(${report.wasmRatio.toFixed(2)}x; X + y are ${MiB(dataBytes)}, one copy in each worker's wasm memory); with the pool's SharedArrayBuffer counted: ${report.dataMemoryRatio.toFixed(2)}x`);
    writeFileSync(new URL('parallel-report.json', RESULTS), JSON.stringify(report, null, 2));
    return await suite(`parallel:rows=1e5,dim=${dim},n=256,m=${batches}`, {
      unit: 'gradients',
      work: batches,
      minSamples: 5,
      cases: [
        { name: 'estimateHessian, main thread', baseline: true, fn: () => g.estimateHessian(data, w, opts) },
        { name: 'pool.estimateHessian, 1 worker', fn: async () => { await pools[0].estimateHessian(shared[0], w, opts); } },
        { name: 'pool.estimateHessian, 2 workers', fn: async () => { await pools[1].estimateHessian(shared[1], w, opts); } },
        { name: 'pool.estimateHessian, 2 workers, copies (no SharedArrayBuffer)', fn: async () => { await pools[2].estimateHessian(shared[2], w, opts); } },
      ],
    });
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}
