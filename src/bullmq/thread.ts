// The compute thread of a gradcov/bullmq worker: the CPU-heavy part of a job (a block of
// batch gradients and its accumulator, or a holder's round of gradients) runs here, so the
// worker's main thread stays free to renew BullMQ's job locks. Data sets stay resident in
// this thread's wasm memory by content hash (at most two at a time).
import { parentPort } from 'node:worker_threads';
import { init } from '../node.js';
import { RegressionDataset, type RegressionData } from '../data/dataset.js';
import { prepareEstimate, linearRegressionGradients, type EstimateOptions } from '../estimators/oracle.js';
import { pairDifferences, computeBlocks, type PlanBlock } from '../estimators/plan.js';

if (!parentPort) throw new Error('gradcov/bullmq: thread.js must run in a worker thread');
const port = parentPort;
const resident = new Map<string, RegressionDataset>();

function dataset(key: string, data: RegressionData | undefined): RegressionDataset {
  let ds = resident.get(key);
  if (ds) { // most recently used last, as the main thread tracks it
    resident.delete(key);
    resident.set(key, ds);
  } else {
    if (!data) throw new Error(`data ${key} is not loaded in this thread`);
    ds = new RegressionDataset(data);
    resident.set(key, ds);
    if (resident.size > 2) { // evict the oldest
      const [oldKey, old] = resident.entries().next().value!;
      old.dispose();
      resident.delete(oldKey);
    }
  }
  return ds;
}

interface Request {
  id: number; type: 'blocks' | 'gradients'; key: string; data?: RegressionData; w: Float64Array;
  options: Record<string, unknown>; blocks?: PlanBlock[]; paired?: boolean;
}

port.on('message', (msg: Request) => {
  void (async () => {
    try {
      await init();
      const ds = dataset(msg.key, msg.data);
      if (msg.type === 'blocks') {
        // the options of the plan's first level (noise resolved); each block names its own draw and noise
        const job = prepareEstimate(ds, msg.w, msg.options as unknown as EstimateOptions, !msg.blocks!.some((b) => b.sketch));
        const blobs = computeBlocks(job, msg.blocks!, (acc) => acc.toBytes());
        port.postMessage({ id: msg.id, ok: true, value: blobs }, blobs.map((b) => b.buffer as ArrayBuffer));
      } else {
        // as the in-process holder (src/parallel/holder.ts HolderState): gradients, then, when paired,
        // the pair differences of the same batches (a second noise draw on the same rows)
        const G = linearRegressionGradients(ds, msg.w, msg.options as never);
        let g = G;
        if (msg.paired) {
          g = new Float64Array(2 * G.length);
          g.set(G);
          g.set(pairDifferences(ds, msg.options as unknown as EstimateOptions), G.length);
        }
        port.postMessage({ id: msg.id, ok: true, value: g }, [g.buffer as ArrayBuffer]);
      }
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      port.postMessage({ id: msg.id, ok: false, name: e.name, message: e.message });
    }
  })();
});
