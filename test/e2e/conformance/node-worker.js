// worker_threads side: receives the compiled module from the main thread and runs the
// conformance script with it (no file read, no second compile).
import { parentPort } from 'node:worker_threads';
import { conformance } from './conformance.js';

parentPort.once('message', async ({ module }) => {
  const received = Object.prototype.toString.call(module);
  parentPort.postMessage({ received, summary: await conformance(module) });
});
