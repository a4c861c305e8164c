// A Transport over a Node worker thread, for every Node worker kind (the pool's and the
// trainer's workers, gradcov/bullmq's compute threads). Not an entry: its types stay out of
// the public declarations (they name node:worker_threads' Worker).
import { Worker } from 'node:worker_threads';
import type { Transport } from '../parallel/channel.js';

const fromSources = import.meta.url.endsWith('.ts');

/** What a tap sees: the direction, the worker's index and the message. @internal */
export type TapFn = (direction: 'to-worker' | 'from-worker', index: number, message: unknown) => void;

/**
 * A new worker thread running `script` (a module URL); from sources (tests under tsx) it
 * registers tsx before importing the script. @internal
 */
export function startThread(script: URL): Worker {
  return fromSources
    ? new Worker(
        `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(script.href)}); });`,
        { eval: true },
      )
    : new Worker(script);
}

/**
 * A Transport over a worker thread, for every Node worker kind (the pool's and trainer's
 * workers, gradcov/bullmq's compute threads): wrap it in a Channel. @internal
 */
export function threadTransport(worker: Worker, index = 0, tap?: TapFn): Transport {
  return {
    postMessage(message, transfer) {
      tap?.('to-worker', index, message);
      worker.postMessage(message, transfer as never);
    },
    listen(onMessage, onError) {
      worker.on('message', (m) => {
        tap?.('from-worker', index, m);
        onMessage(m);
      });
      worker.on('error', onError);
      // any exit the coordinator did not ask for (it ignores the ones it asked for) is a failure
      worker.on('exit', (code) => onError(new Error(`gradcov worker exited with code ${code}`)));
    },
    terminate: () => worker.terminate(),
  };
}
