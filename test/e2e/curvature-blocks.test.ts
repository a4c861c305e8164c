// estimateCurvature's blocks on Node worker_threads: 1, 2 and 3 workers each build their own
// oracle (a plain-JS tanh model from dist/, and a TF.js MLP through gradcov/tfjs in a project
// that installed the packed tarball and @tensorflow/tfjs), compute a share of the blocks
// with computeCurvatureBlock (one block twice, as a retry would), and the coordinator
// finishes them with finishCurvature: the same bits, every field, as estimateCurvature with
// the same blockBatches in one thread, for the dense and the sketched paired estimate.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as g from '../../src/node.js';
import { ROOT, installWith } from './installed.js';
import { fields } from '../helpers/helpers.js';

const FIXTURE = join(ROOT, 'test/e2e/fixtures/curvature-blocks-worker.mjs');

interface Setup {
  /** The worker script and what it imports gradcov as. */
  script: string;
  entry: string;
  oracle: 'tanh' | 'tfjs';
}

/** Runs one worker to its end, collecting what it posts. */
function runWorker(
  s: Setup,
  data: Record<string, unknown>,
): Promise<{ index?: number; bytes?: Uint8Array; result?: object }[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(s.script, {
      workerData: {
        entry: s.entry,
        oracle: s.oracle,
        helper: pathToFileURL(join(ROOT, 'test/helpers/tanh-oracle.mjs')).href,
        ...data,
      },
    });
    const got: { index?: number; bytes?: Uint8Array; result?: object }[] = [];
    w.on('message', (m: { done?: boolean; result?: object; index?: number; bytes?: Uint8Array }) => {
      got.push(m);
      if (m.done || m.result) {
        resolve(got);
        void w.terminate();
      }
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0 && code !== 1) reject(new Error(`worker exited with ${code}`));
    });
  });
}

/** The blocks computed by `workers` workers (worker k takes indices k, k + workers, ... backwards; worker 0 also recomputes the last block), collected by index. */
async function inWorkers(s: Setup, options: g.CurvatureOptions, workers: number): Promise<Uint8Array[]> {
  const count = g.curvatureBlocks(options).length;
  const shares = Array.from({ length: workers }, (_, k) =>
    Array.from({ length: count }, (_, i) => i)
      .filter((i) => i % workers === k)
      .reverse(),
  );
  shares[0]!.push(count - 1); // a retry: computed again, the later copy kept
  const out: Uint8Array[] = new Array(count);
  const posted = await Promise.all(shares.map((indices) => runWorker(s, { options, indices })));
  for (const list of posted) for (const m of list) if (m.bytes) out[m.index!] = m.bytes;
  return out;
}

async function sameBits(s: Setup, cases: [string, g.CurvatureOptions][]): Promise<void> {
  await g.init();
  for (const [name, options] of cases) {
    const [whole] = await runWorker(s, { options, whole: true });
    const want = fields(whole!.result!);
    for (const workers of [1, 2, 3]) {
      const blocks = await inWorkers(s, options, workers);
      assert.equal(
        fields(g.finishCurvature(options, blocks)),
        want,
        `${name}: ${workers} workers vs one thread`,
      );
    }
  }
}

const plain = suite('oracle blocks on worker_threads: a plain-JS model');
plain('1, 2 and 3 workers finish to the one-thread bits (paired dense and sketched, two-level)', async () => {
  const base = { dim: 6, batchSize: 8, batches: 401, seed: 3, firstBatch: 5, blockBatches: 60 };
  await sameBits({ script: FIXTURE, entry: pathToFileURL(join(ROOT, 'dist/node.js')).href, oracle: 'tanh' }, [
    ['paired', { ...base, method: 'paired' }],
    ['sketched', { ...base, method: 'paired', sketch: { size: 4, k: 3 } }],
    ['two-level', { ...base, method: 'two-level', noiseLevels: [12, 2] }],
  ]);
});
plain.run();

const tfjs = suite('oracle blocks on worker_threads: a TF.js model (gradcov/tfjs from the tarball)');
tfjs(
  '1, 2 and 3 workers, each with its own TF.js engine, finish to the one-thread bits (paired dense and sketched)',
  async () => {
    const app = installWith('tfjs-union', ['@tensorflow/tfjs']);
    const script = join(app, 'curvature-blocks-worker.mjs'); // in the project, so its imports resolve there
    copyFileSync(FIXTURE, script);
    const base = {
      dim: 26,
      outputs: 2,
      batchSize: 8,
      batches: 240,
      seed: 1,
      method: 'paired' as const,
      blockBatches: 50,
    };
    await sameBits({ script, entry: 'gradcov', oracle: 'tfjs' }, [
      ['TF.js paired', base],
      ['TF.js sketched', { ...base, sketch: { size: 8, k: 3 } }],
    ]);
  },
);
tfjs.run();
