// The compute thread of a gradcov/bullmq worker: the CPU-heavy part of a job (a block of
// batch gradients and its accumulator, or a holder's round of gradients) runs here, so the
// worker's main thread stays free to renew BullMQ's job locks. Data sets stay resident in
// this thread's wasm memory by content hash (at most two at a time).
import { parentPort } from 'node:worker_threads';
import { init } from '../node.js';
import { RegressionDataset, type RegressionData } from '../data/dataset.js';
import { prepareEstimate, type EstimateOptions } from '../estimators/oracle.js';
import { computeBlocks, type PlanBlock } from '../estimators/plan.js';
import { holderRound, type HolderRoundOptions } from '../parallel/holder.js';
import { serveRequests } from '../parallel/serve.js';

if (!parentPort) throw new Error('gradcov/bullmq: thread.js must run in a worker thread');
const port = parentPort;
const resident = new Map<string, RegressionDataset>();

function dataset(key: string, data: RegressionData | undefined): RegressionDataset {
  let ds = resident.get(key);
  if (ds) {
    // most recently used last, as the main thread tracks it
    resident.delete(key);
    resident.set(key, ds);
  } else {
    if (!data) throw new Error(`data ${key} is not loaded in this thread`);
    ds = new RegressionDataset(data);
    resident.set(key, ds);
    if (resident.size > 2) {
      // evict the oldest
      const [oldKey, old] = resident.entries().next().value!;
      old.dispose();
      resident.delete(oldKey);
    }
  }
  return ds;
}

interface ThreadRequest {
  id: number;
  type: 'blocks' | 'gradients';
  key: string;
  data?: RegressionData;
  w: Float64Array;
  options: Record<string, unknown>;
  blocks?: PlanBlock[];
  paired?: boolean;
}

// the worker side of the Channel every worker kind shares (src/parallel/serve.ts serveRequests)
const serve = serveRequests(
  (message, transfer) => port.postMessage(message, transfer ?? []),
  async (raw) => {
    const msg = raw as unknown as ThreadRequest;
    await init();
    const ds = dataset(msg.key, msg.data);
    if (msg.type === 'blocks') {
      // the options of the plan's first level (noise resolved); each block names its own draw and noise
      const job = prepareEstimate(
        ds,
        msg.w,
        msg.options as unknown as EstimateOptions,
        !msg.blocks!.some((b) => b.sketch),
      );
      const blobs = computeBlocks(job, msg.blocks!, (acc) => acc.toBytes());
      return { value: blobs, transfer: blobs.map((b) => b.buffer as ArrayBuffer) };
    }
    if (msg.type !== 'gradients')
      throw new Error(`unknown compute thread request ${JSON.stringify(msg.type)}`);
    // the in-process holder's round (src/parallel/holder.ts holderRound): the same reply
    const g = holderRound(ds, msg.w, msg.options as unknown as HolderRoundOptions, msg.paired === true);
    return { value: g, transfer: [g.buffer as ArrayBuffer] };
  },
);
port.on('message', (msg) => void serve(msg));
