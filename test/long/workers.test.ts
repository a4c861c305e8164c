// Issue 7: independent instances in several worker_threads at once give the same results,
// bit for bit, as the same tasks run one after another on the main thread.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
// @ts-expect-error: a plain .mjs helper shared with the worker
import { runTask } from './fixtures/task.mjs';
import * as g from '../../dist/node.js';

test('4 workers at once == one after another', async () => {
  await g.init(undefined, { build: 'simd' });
  const seeds = [1, 2, 3, 4];
  const url = new URL('./fixtures/worker.mjs', import.meta.url);
  const parallel = await Promise.all(seeds.map((seed) => new Promise((resolve, reject) => {
    const w = new Worker(url, { workerData: { seed } });
    w.once('message', (m) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
  })));
  const sequential = seeds.map((seed) => runTask(g, seed));
  for (let i = 0; i < seeds.length; i++) {
    assert.equal(parallel[i], sequential[i], `seed ${seeds[i]}`);
    assert.ok((sequential[i] as { norm: number }).norm < 0.2);
  }
  assert.not.equal(sequential[0], sequential[1]);
});

test.run();
