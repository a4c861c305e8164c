// Parallel estimateHessian (gradcov/node-workers): single-thread wasm estimateHessian (the
// baseline here) vs the worker pool with 1 and 2 workers; 100,000 rows x dim 64, batch 256,
// 8192 batches, the data shared with the workers once (in the one WebAssembly memory the
// workers' kernels share; a third pool gives each worker a copy instead). Validation first:
// the pool gives the same bits for 1 and 2 workers and for the shared-memory and copy
// paths, and matches the single-thread result within merge rounding. Then: benny medians,
// a speed-up measured by alternating 1- and 2-worker calls (the machine is shared:
// alternating exposes both to the same load), and all the WebAssembly memory of each pool
// plus the data it holds outside it (2 workers vs 1: target <= 1.1x). Prints the load
// average, and each thread's CPU time per call (Linux), which estimates the speed-up on
// free cores when the machine is shared.
import os from 'node:os';
import { writeFileSync, readFileSync, readdirSync } from 'node:fs';
import * as g from '../dist/node.js';
import { createEstimatorPool } from '../dist/node/workers.js';
import { suite, check, RESULTS } from './common.js';

// CPU seconds each thread of this process has used (Linux /proc; empty elsewhere). CPU time
// does not grow with the machine's load the way wall time does, so the busiest thread's CPU
// time per call estimates what the call would take with a free core per worker.
function threadCpu() {
  const out = new Map();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(fields[11]) + Number(fields[12])) / 100); // utime + stime, in clock ticks of 1/100 s
    }
  } catch {
    /* not Linux */
  }
  return out;
}
function cpuOf(before, after) {
  const d = [];
  for (const [tid, t] of after) {
    const x = t - (before.get(tid) ?? 0);
    if (x > 0) d.push(x);
  }
  return d.sort((a, b) => b - a); // busiest first
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const MiB = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export async function run() {
  const rows = 100000,
    dim = 64,
    batches = 8192;
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
    check(
      pools[0].sharedWasmMemory && pools[1].sharedWasmMemory && !pools[2].sharedWasmMemory,
      'pool: the shared-memory path is not available',
    );
    const shared = await Promise.all(pools.map((p) => p.share(data)));
    const ref = g.estimateHessian(data, w, opts).hessian;
    const [one, two, copy] = await Promise.all(
      [0, 1, 2].map((i) => pools[i].estimateHessian(shared[i], w, opts)),
    );
    check(
      one.hessian.every((v, i) => Object.is(v, two.hessian[i])),
      'pool: 1 and 2 workers differ',
    );
    check(
      copy.hessian.every((v, i) => Object.is(v, two.hessian[i])),
      'pool: shared memory and copies differ',
    );
    let err = 0,
      scale = 0;
    for (let i = 0; i < ref.length; i++) {
      err = Math.max(err, Math.abs(ref[i] - two.hessian[i]));
      scale = Math.max(scale, Math.abs(ref[i]));
    }
    check(err <= 64 * Number.EPSILON * scale, `pool vs single thread: ${err}`);

    // alternating 1- and 2-worker calls: both see the same load; CPU time per thread too
    const t1 = [],
      t2 = [],
      busiest1 = [],
      busiest2 = [],
      total1 = [],
      total2 = [];
    for (let r = 0; r < 7; r++) {
      let c = threadCpu();
      let t = performance.now();
      await pools[0].estimateHessian(shared[0], w, opts);
      t1.push(performance.now() - t);
      let d = cpuOf(c, threadCpu());
      busiest1.push(d[0] ?? NaN);
      total1.push(d.reduce((a, b) => a + b, 0));
      c = threadCpu();
      t = performance.now();
      await pools[1].estimateHessian(shared[1], w, opts);
      t2.push(performance.now() - t);
      d = cpuOf(c, threadCpu());
      busiest2.push(d[0] ?? NaN);
      total2.push(d.reduce((a, b) => a + b, 0));
    }
    const wasm = await Promise.all(pools.map((p) => p.wasmMemoryBytes()));
    const sum = (xs) => xs.reduce((a, b) => a + b, 0);
    const dataBytes = X.byteLength + y.byteLength;
    // everything that holds the data or works on it: with shared memory, the one memory
    // (data, every worker's working space, the constants); with copies, every worker's own
    // memory plus the pool's buffer that feeds them
    const footprint = (p, perWorker) =>
      p.sharedWasmMemory ? p.sharedWasmMemoryBytes() : sum(perWorker) + dataBytes;
    const report = {
      date: new Date().toISOString(),
      cpuModel: os.cpus()[0]?.model,
      cores: os.cpus().length,
      node: process.version,
      loadBefore: load0,
      loadAfter: os.loadavg()[0],
      alternating: {
        oneWorkerMs: median(t1),
        twoWorkersMs: median(t2),
        speedup: median(t1) / median(t2),
        ratios: t1.map((a, i) => a / t2[i]),
      },
      cpu: {
        oneWorker: { busiestThreadS: median(busiest1), allThreadsS: median(total1) },
        twoWorkers: { busiestThreadS: median(busiest2), allThreadsS: median(total2) },
      },
      memory: {
        oneWorker: footprint(pools[0], wasm[0]),
        twoWorkers: footprint(pools[1], wasm[1]),
        twoWorkersCopies: footprint(pools[2], wasm[2]),
        sharedWasmBytes: pools.map((p) => p.sharedWasmMemoryBytes()),
        ownBytesPerWorker: wasm,
      },
      dataBytes,
    };
    // with a free core per worker a call takes about its busiest thread's CPU time
    report.cpu.speedupEstimate = report.cpu.oneWorker.busiestThreadS / report.cpu.twoWorkers.busiestThreadS;
    report.cpu.overhead = report.cpu.twoWorkers.allThreadsS / report.cpu.oneWorker.allThreadsS;
    report.memoryRatio = report.memory.twoWorkers / report.memory.oneWorker;
    report.memoryRatioCopies = report.memory.twoWorkersCopies / report.memory.oneWorker;
    console.log(
      `parallel: alternating medians 1 worker ${median(t1).toFixed(0)} ms, 2 workers ${median(t2).toFixed(0)} ms: ${report.alternating.speedup.toFixed(2)}x ` +
        `(per-pair ratios ${report.alternating.ratios.map((r) => r.toFixed(2)).join(' ')}); load average ${load0.toFixed(2)} -> ${report.loadAfter.toFixed(2)}`,
    );
    console.log(
      `parallel: CPU time per call (median): 1 worker: busiest thread ${report.cpu.oneWorker.busiestThreadS.toFixed(2)} s, all threads ${report.cpu.oneWorker.allThreadsS.toFixed(2)} s; ` +
        `2 workers: busiest thread ${report.cpu.twoWorkers.busiestThreadS.toFixed(2)} s, all threads ${report.cpu.twoWorkers.allThreadsS.toFixed(2)} s: ` +
        `estimated speed-up with a free core per worker ${report.cpu.speedupEstimate.toFixed(2)}x, total CPU ${report.cpu.overhead.toFixed(2)}x`,
    );
    console.log(
      `parallel: memory (all WebAssembly memory of the pool plus data held outside it; X + y are ${MiB(dataBytes)}): ` +
        `1 worker ${MiB(report.memory.oneWorker)}, 2 workers ${MiB(report.memory.twoWorkers)} (each worker's own part ${report.memory.ownBytesPerWorker[1].map(MiB).join(', ')}), ` +
        `2 workers with copies ${MiB(report.memory.twoWorkersCopies)}`,
    );
    console.log(
      `parallel: target 4 memory, 2 workers vs 1: ${report.memoryRatio.toFixed(3)}x (goal <= 1.1x: ${report.memoryRatio <= 1.1 ? 'met' : 'not met'}; with copies ${report.memoryRatioCopies.toFixed(2)}x)`,
    );
    console.log(
      `parallel: target 4 speed, 2 workers vs 1: ${report.alternating.speedup.toFixed(2)}x wall (goal >= 1.9x on a quiet machine: ${report.alternating.speedup >= 1.9 ? 'met' : 'not met'}), ` +
        `${report.cpu.speedupEstimate.toFixed(2)}x estimated from the busiest thread's CPU time; load average ${load0.toFixed(2)}`,
    );
    writeFileSync(new URL('parallel-report.json', RESULTS), JSON.stringify(report, null, 2));
    return await suite(`parallel:rows=1e5,dim=${dim},n=256,m=${batches}`, {
      unit: 'gradients',
      work: batches,
      minSamples: 5,
      cases: [
        { name: 'estimateHessian, main thread', baseline: true, fn: () => g.estimateHessian(data, w, opts) },
        {
          name: 'pool.estimateHessian, 1 worker',
          fn: async () => {
            await pools[0].estimateHessian(shared[0], w, opts);
          },
        },
        {
          name: 'pool.estimateHessian, 2 workers',
          fn: async () => {
            await pools[1].estimateHessian(shared[1], w, opts);
          },
        },
        {
          name: 'pool.estimateHessian, 2 workers, copies (a memory per worker)',
          fn: async () => {
            await pools[2].estimateHessian(shared[2], w, opts);
          },
        },
      ],
    });
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}
