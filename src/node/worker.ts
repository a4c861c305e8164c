// The worker_threads script of gradcov/node-workers: installs the core's message handler
// (src/parallel/serve.ts serveWorker) on parentPort. The main thread sends the compiled module first.
import { parentPort } from 'node:worker_threads';
import { serveWorker } from '../parallel/serve.js';

if (!parentPort) throw new Error('gradcov/node-workers: worker.js must run in a worker thread');
const port = parentPort;
const handle = serveWorker((message, transfer) => port.postMessage(message, transfer as never));
port.on('message', (m) => {
  void handle(m);
});
