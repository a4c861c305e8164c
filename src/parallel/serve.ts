// The worker's side: the message handler a worker script installs (src/node/worker.ts,
// src/web-worker.ts). It hosts shared data sets, computes estimate blocks and the trainer's holders.
import { init, alloc, free, initShared, ownWasmMemoryBytes, type WasmModule } from '../core/wasm.js';
import type { Parsed } from '../estimators/oracle.js';
import { RegressionDataset, type RegressionData } from '../data/dataset.js';
import { computeBlocks, type PlanBlock } from '../estimators/plan.js';
import { HolderState, type HolderMessage } from './holder.js';
import type { TransferList } from './channel.js';

/** Heap reserved in each worker before any data, for the working space of estimates. */
const WORKER_WORKING_BYTES = 4 * 2 ** 20;

/**
 * The worker's side: returns the message handler a worker script installs. It answers
 * every request { id, type, ... } with { type: 'ok', id, value } or { type: 'error', id,
 * name, message }; blobs and gradients are transferred, not copied. @internal
 */
export function serveWorker(
  post: (message: unknown, transfer?: TransferList) => void,
): (message: unknown) => Promise<void> {
  const shared = new Map<number, RegressionDataset>();
  const holders = new Map<number, HolderState>();
  return serveRequests(post, async (msg) => {
    let value: unknown;
    let transfer: TransferList = [];
    switch (msg.type) {
      case 'init':
        if (msg.memory) {
          // the shared build on the pool's memory: blocks take exactly the pages they
          // need (no doubling heap), so nothing is reserved ahead
          await initShared(msg.module as WasmModule, msg.memory as WebAssembly.Memory);
          break;
        }
        await init(msg.module as WasmModule);
        // The wasm heap doubles its memory whenever it grows, so a small block allocated
        // after a shared data set would double the worker's memory (100 MB for 50 MB of
        // data). Growing once for the working space of an estimate (the oracle's scratch,
        // a 2 MiB staging block, the accumulators) before any data arrives keeps the
        // later small blocks inside it: memory ends near the data's size plus this.
        free(alloc(WORKER_WORKING_BYTES, "the worker's working space"));
        break;
      case 'share': {
        // in the shared memory already (`at`: read in place, never copied), or loaded into
        // this worker's wasm memory once; the message's views (of a SharedArrayBuffer, or
        // this worker's copy) are dropped afterwards. Validated by the coordinator.
        const at = msg.at as [number, number] | undefined;
        const ds = at
          ? RegressionDataset.inPlace(msg.rows as number, msg.dim as number, at[0], at[1])
          : RegressionDataset.fromChecked(msg.data as RegressionData);
        shared.get(msg.dataId as number)?.dispose();
        shared.set(msg.dataId as number, ds);
        break;
      }
      case 'forget':
        shared.get(msg.dataId as number)?.dispose();
        shared.delete(msg.dataId as number);
        break;
      case 'estimate': {
        const data = shared.get(msg.dataId as number);
        if (!data) throw new Error(`no shared data with id ${String(msg.dataId)}`);
        // the coordinator validated everything (estimateHessian's checks) before sending
        const blobs = computeBlocks(
          { data, w: msg.w as Float64Array, p: msg.p as Parsed },
          msg.blocks as PlanBlock[],
          (acc) => acc.toBytes(),
        );
        value = blobs;
        transfer = blobs.map((b) => b.buffer as ArrayBuffer);
        break;
      }
      case 'memory':
        value = ownWasmMemoryBytes();
        break;
      case 'holder:init': {
        const k = msg.holder as number;
        holders.get(k)?.dispose();
        holders.set(k, new HolderState(msg as unknown as HolderMessage));
        break;
      }
      case 'holder:round': {
        const holder = holders.get(msg.holder as number);
        if (!holder) throw new Error(`this worker holds no shard ${String(msg.holder)}`);
        const out = holder.handle(msg as unknown as HolderMessage);
        value = out;
        transfer = [out.buffer as ArrayBuffer];
        break;
      }
      default:
        throw new Error(`unknown message type ${JSON.stringify(msg.type)}`);
    }
    return { value, transfer };
  });
}

/** A request as a Channel sends it: its id, its type and its fields. @internal */
export type Request = { id: number; type: string } & Record<string, unknown>;

/**
 * The worker's side of a Channel (src/parallel/channel.ts), for every worker kind (the pool's
 * and trainer's workers, gradcov/bullmq's compute threads): runs `handle` on each request and
 * posts its value (moving `transfer`) or its error (name and message, rebuilt by the Channel)
 * under the request's id. @internal
 */
export function serveRequests(
  post: (message: unknown, transfer?: TransferList) => void,
  handle: (msg: Request) => Promise<{ value: unknown; transfer?: TransferList }>,
): (message: unknown) => Promise<void> {
  return async (raw) => {
    const msg = raw as Request;
    try {
      const { value, transfer } = await handle(msg);
      post({ type: 'ok', id: msg.id, value }, transfer ?? []);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      post({ type: 'error', id: msg.id, name: e.name, message: e.message });
    }
  };
}
