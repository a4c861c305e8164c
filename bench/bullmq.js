// gradcov/bullmq against the in-process pool: estimateHessian on 100,000 rows x dim 64,
// batch 256, 8 blocks of 2048 batches. Cases: the worker-thread pool with 1 worker (the
// baseline), and BullMQ with 1 and with 2 worker processes (`gradcov worker`, the CLI's
// bin) on a redis-server started here (loopback, temporary directory). The overhead per
// block is (bullmq 1 process - pool 1 worker) / blocks; the ratio of the two bullmq rows
// is the scaling with worker processes. Validation: every contender gives the same bits.
// Needs redis-server on PATH (skipped with a note otherwise).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as g from '../dist/node.js';
import { createEstimatorPool } from '../dist/node/workers.js';
import { createCoordinator } from '../dist/bullmq/index.js';
import { suite, check } from './common.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function waitLine(child, re, stream = 'stdout') {
  return new Promise((resolve, reject) => {
    let text = '';
    const on = (d) => { text += d; if (re.test(text)) { child[stream].off('data', on); resolve(); } };
    child[stream].on('data', on);
    child.on('exit', (code) => reject(new Error(`exited ${code} before ${re}: ${text.slice(-500)}`)));
  });
}

export async function run() {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.log('bullmq: SKIPPED, no redis-server on PATH (apt-get install -y redis-server)');
    return [];
  }
  const rows = 100000, dim = 64, blockBatches = 2048, blocks = 8, batches = blocks * blockBatches;
  const X = new g.Rng(4).normals(new Float64Array(rows * dim));
  const y = new g.Rng(5).normals(new Float64Array(rows));
  const w = new g.Rng(6).normals(new Float64Array(dim));
  const data = { X, y, rows, dim };
  const opts = { batchSize: 256, batches, seed: 1, blockBatches };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gradcov-bench-redis-'));
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const children = [];
  const pool = await createEstimatorPool({ workers: 1 });
  const coordinators = [];
  try {
    await waitLine(redis, /Ready to accept connections/);
    const url = `redis://127.0.0.1:${port}`;
    const worker = (queue) => {
      const c = spawn(process.execPath, [join(root, 'cli/dist/index.js'), 'worker', '--redis', url, '--queue', queue], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(c);
      return waitLine(c, /concurrency/, 'stderr');
    };
    await Promise.all([worker('one'), worker('two'), worker('two')]);
    coordinators.push(await createCoordinator({ connection: url, queue: 'one', pollInterval: 50 }), await createCoordinator({ connection: url, queue: 'two', pollInterval: 50 }));
    const shared = await pool.share(data);
    const handles = await Promise.all(coordinators.map((c) => c.register(data)));
    const ref = await pool.estimateHessian(shared, w, opts);
    for (const [i, c] of coordinators.entries()) {
      const r = await c.estimateHessian(handles[i], w, opts);
      check(r.hessian.every((v, j) => Object.is(v, ref.hessian[j])), `bullmq (${i + 1} processes) differs from the pool`);
    }
    let n = 0; // a new run id per call: nothing is reused between timed calls
    return await suite(`bullmq:rows=1e5,dim=${dim},n=256,blocks=${blocks}x${blockBatches}`, {
      unit: 'gradients',
      work: batches,
      minSamples: 5,
      cases: [
        { name: 'pool.estimateHessian, 1 worker thread', baseline: true, fn: async () => { await pool.estimateHessian(shared, w, opts); } },
        { name: 'bullmq, 1 worker process', fn: async () => { await coordinators[0].estimateHessian(handles[0], w, { ...opts, runId: `one${n++}` }); } },
        { name: 'bullmq, 2 worker processes', fn: async () => { await coordinators[1].estimateHessian(handles[1], w, { ...opts, runId: `two${n++}` }); } },
      ],
    });
  } finally {
    await Promise.all(coordinators.map((c) => c.close()));
    await pool.close();
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.on('exit', r)))));
    redis.kill('SIGTERM');
    await new Promise((r) => redis.on('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
