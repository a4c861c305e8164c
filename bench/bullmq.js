// gradcov/bullmq against the in-process pool: estimateHessian on 100,000 rows x dim 64,
// batch 256, 8 blocks of 2048 batches. Cases: the worker-thread pool with 1 worker (the
// baseline), and BullMQ with 1 and with 2 worker processes (`gradcov worker`, the CLI's
// bin) on a redis-server started here (loopback, temporary directory). The overhead per
// block is (bullmq 1 process - pool 1 worker) / blocks; the ratio of the two bullmq rows
// is the scaling with worker processes. Validation: every contender gives the same bits.
// Timeline: every block job returns when it was picked up, computed and written, by which
// worker process (BlockTimeline); for the timed runs the suite prints how much of the
// computing time had both processes computing at once (the overlap fraction: 1 when two
// processes always compute together, 0 when they take turns), the blocks per process and
// the median compute and overhead per block.
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
import { QueueEvents } from 'bullmq';
import { suite, check } from './common.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function waitLine(child, re, stream = 'stdout') {
  return new Promise((resolve, reject) => {
    let text = '';
    const on = (d) => {
      text += d;
      if (re.test(text)) {
        child[stream].off('data', on);
        resolve();
      }
    };
    child[stream].on('data', on);
    child.on('exit', (code) => reject(new Error(`exited ${code} before ${re}: ${text.slice(-500)}`)));
  });
}

export async function run() {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.log('bullmq: SKIPPED, no redis-server on PATH (apt-get install -y redis-server)');
    return [];
  }
  const rows = 100000,
    dim = 64,
    blockBatches = 2048,
    blocks = 8,
    batches = blocks * blockBatches;
  const X = new g.Rng(4).normals(new Float64Array(rows * dim));
  const y = new g.Rng(5).normals(new Float64Array(rows));
  const w = new g.Rng(6).normals(new Float64Array(dim));
  const data = { X, y, rows, dim };
  const opts = { batchSize: 256, batches, seed: 1, blockBatches };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gradcov-bench-redis-'));
  const redis = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const children = [];
  const pool = await createEstimatorPool({ workers: 1 });
  const coordinators = [];
  const events = [];
  try {
    await waitLine(redis, /Ready to accept connections/);
    const url = `redis://127.0.0.1:${port}`;
    const worker = (queue) => {
      const c = spawn(
        process.execPath,
        [join(root, 'cli/dist/index.js'), 'worker', '--redis', url, '--queue', queue],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(c);
      return waitLine(c, /concurrency/, 'stderr');
    };
    await Promise.all([worker('one'), worker('two'), worker('two')]);
    coordinators.push(
      await createCoordinator({ connection: url, queue: 'one', pollInterval: 50 }),
      await createCoordinator({ connection: url, queue: 'two', pollInterval: 50 }),
    );
    const shared = await pool.share(data);
    const handles = await Promise.all(coordinators.map((c) => c.register(data)));
    const timelines = new Map(); // run id -> BlockTimeline[]
    for (const q of ['one', 'two']) {
      const ev = new QueueEvents(q, { connection: { host: '127.0.0.1', port } });
      events.push(ev);
      ev.on('completed', ({ jobId, returnvalue }) => {
        const v = typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue;
        const run = jobId.replace(/-b\d+$/, '');
        if (v?.timeline) timelines.set(run, [...(timelines.get(run) ?? []), v.timeline]);
      });
      await ev.waitUntilReady();
    }
    const ref = await pool.estimateHessian(shared, w, opts);
    // validation, which is also the warm-up: every worker process fetches the data once (by
    // content hash) and keeps it; repeated until each process of queue 'two' has computed a block
    for (const [i, c] of coordinators.entries()) {
      for (let k = 0; k < 5; k++) {
        const runId = `check${i}x${k}`;
        const r = await c.estimateHessian(handles[i], w, { ...opts, runId });
        check(
          r.hessian.every((v, j) => Object.is(v, ref.hessian[j])),
          `bullmq (${i + 1} processes) differs from the pool`,
        );
        await settle(timelines, runId, blocks);
        // (no timeline yet when the completion events are slower than settle's wait, as on a
        // loaded machine: try again rather than fail)
        if (new Set((timelines.get(runId) ?? []).map((t) => t.pid)).size === i + 1) break;
      }
    }
    let n = 0; // a new run id per call: nothing is reused between timed calls
    const rows_ = await suite(`bullmq:rows=1e5,dim=${dim},n=256,blocks=${blocks}x${blockBatches}`, {
      unit: 'gradients',
      work: batches,
      minSamples: 5,
      cases: [
        {
          name: 'pool.estimateHessian, 1 worker thread',
          baseline: true,
          fn: async () => {
            await pool.estimateHessian(shared, w, opts);
          },
        },
        {
          name: 'bullmq, 1 worker process',
          fn: async () => {
            await coordinators[0].estimateHessian(handles[0], w, { ...opts, runId: `one${n++}` });
          },
        },
        {
          name: 'bullmq, 2 worker processes',
          fn: async () => {
            await coordinators[1].estimateHessian(handles[1], w, { ...opts, runId: `two${n++}` });
          },
        },
      ],
    });
    await new Promise((r) => setTimeout(r, 300)); // the last 'completed' events
    for (const q of ['one', 'two'])
      console.log(
        timelineSummary(
          q,
          [...timelines].filter(([run]) => run.startsWith(q)).map(([, t]) => t),
          blocks,
        ),
      );
    const ms = (name) => rows_.find((r) => r.name === name)?.ms ?? NaN;
    const one = ms('bullmq, 1 worker process'),
      two = ms('bullmq, 2 worker processes'),
      pooled = ms('pool.estimateHessian, 1 worker thread');
    console.log(
      `bullmq scaling: 2 worker processes vs 1 = ${(one / two).toFixed(2)}x (target >= 1.8x); overhead per block vs the pool ${((one - pooled) / blocks).toFixed(1)} ms`,
    );
    return rows_;
  } finally {
    await Promise.all(events.map((e) => e.close()));
    await Promise.all(coordinators.map((c) => c.close()));
    await pool.close();
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.on('exit', r)))));
    redis.kill('SIGTERM');
    await new Promise((r) => redis.on('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits (at most 2 s) until the 'completed' events of a run's blocks have arrived. */
async function settle(timelines, run, blocks) {
  for (let i = 0; i < 100 && (timelines.get(run)?.length ?? 0) < blocks; i++)
    await new Promise((r) => setTimeout(r, 50));
}

/** Length of the union of intervals where at least `k` of them overlap. */
function covered(intervals, k) {
  const ev = intervals
    .flatMap(([a, b]) => [
      [a, 1],
      [b, -1],
    ])
    .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let depth = 0,
    last = 0,
    total = 0;
  for (const [t, d] of ev) {
    if (depth >= k) total += t - last;
    depth += d;
    last = t;
  }
  return total;
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[s.length >> 1] : NaN;
};

/**
 * One line per queue: runs, blocks per process, the overlap fraction (time with two blocks
 * computing at once / time with at least one computing), the median compute time, CPU time
 * and overhead (picked up -> computing, computed -> written) per block.
 */
export function timelineSummary(queue, runs, blocks) {
  const full = runs.filter((r) => r.length === blocks);
  if (!full.length) return `bullmq timeline, queue ${queue}: no complete run recorded`;
  const overlap = full.map(
    (r) =>
      covered(
        r.map((t) => [t.start, t.end]),
        2,
      ) /
      covered(
        r.map((t) => [t.start, t.end]),
        1,
      ),
  );
  const perPid = full.map((r) =>
    [...r.reduce((m, t) => m.set(t.pid, (m.get(t.pid) ?? 0) + 1), new Map()).values()].sort().join('+'),
  );
  const all = full.flat();
  const fmt = (v) => v.toFixed(1);
  return (
    `bullmq timeline, queue ${queue} (${full.length} runs): blocks per process ${[...new Set(perPid)].join(', ')}; ` +
    `overlap fraction median ${median(overlap).toFixed(2)} (min ${Math.min(...overlap).toFixed(2)}); per block: compute ${fmt(median(all.map((t) => t.end - t.start)))} ms, ` +
    `CPU ${fmt(median(all.map((t) => t.cpu)))} ms, picked->compute ${fmt(median(all.map((t) => t.start - t.picked)))} ms, computed->written ${fmt(median(all.map((t) => t.written - t.end)))} ms`
  );
}
