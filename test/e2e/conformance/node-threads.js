// Node worker_threads: the main thread loads the kernels, posts the compiled
// WebAssembly.Module to a worker, which runs the conformance script with it. Prints
// { received, summary } as one JSON line.
import { Worker } from 'node:worker_threads';
import { init, wasmModule } from 'gradcov';

await init();
const worker = new Worker(new URL('./node-worker.js', import.meta.url));
worker.postMessage({ module: wasmModule() });
const result = await new Promise((resolve, reject) => {
  worker.once('message', resolve);
  worker.once('error', reject);
});
await worker.terminate();
console.log(JSON.stringify(result));
