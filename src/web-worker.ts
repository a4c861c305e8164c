// The module Web Worker script of gradcov/web-workers: installs the core's message handler
// (src/parallel/serve.ts serveWorker). The page sends the compiled module first (no second download).
import { serveWorker } from './parallel/serve.js';
import type { TransferList } from './parallel/channel.js';

const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer?: TransferList): void;
  addEventListener(type: 'message', fn: (e: { data: unknown }) => void): void;
};
const handle = serveWorker((message, transfer) => scope.postMessage(message, transfer ?? []));
scope.addEventListener('message', (e) => {
  void handle(e.data);
});
