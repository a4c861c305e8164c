// `gradcov worker` and `gradcov estimate --redis URL --queue NAME` (the built bin) against a
// real redis-server: the estimate's --json output is byte for byte that of the same command
// without --redis, with one worker process and with two; a run with blocks spread over the
// workers (batches > 2048) is the case that tests the shared block structure.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { CLI, ROOT, gradcov, tempDir, regressionCsv, writeCsv } from './cli.ts';
import { redisSuite, startRedis, Proc } from './redis.ts';

/** A loopback port nobody listens on. */
function deadPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
/** Runs the bin (async) and resolves with its exit code, stderr and the seconds it took. */
function timed(args: string[]): Promise<{ code: number | null; stderr: string; seconds: number }> {
  const t = performance.now();
  const p = new Proc(
    spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }),
    'gradcov',
  );
  return p.exited.then((code) => ({ code, stderr: p.err, seconds: (performance.now() - t) / 1000 }));
}
const until = async (cond: () => boolean, what: string, ms = 60_000) => {
  const t = Date.now();
  while (!cond()) {
    if (Date.now() - t > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const test = suite('gradcov worker / estimate --redis');

async function cliWorker(url: string, queue: string, concurrency = 1): Promise<Proc> {
  const p = new Proc(
    spawn(
      process.execPath,
      [CLI, 'worker', '--redis', url, '--queue', queue, '--concurrency', String(concurrency)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    ),
    'gradcov worker',
  );
  // the start line goes to stderr
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`gradcov worker did not start: ${p.err}`)), 90_000);
    const check = () => {
      if (/concurrency/.test(p.err)) {
        clearTimeout(t);
        resolve();
      } else setTimeout(check, 50);
    };
    check();
  });
  return p;
}

redisSuite(test, [
  [
    'estimate --json is byte-identical with and without --redis (1 and 2 workers, 3 blocks; every --method)',
    async () => {
      const redis = await startRedis();
      const procs: Proc[] = [];
      try {
        const file = writeCsv(tempDir(), 'reg.csv', regressionCsv());
        const args = [
          'estimate',
          '--data',
          file,
          '--target',
          'y',
          '--batch-size',
          '16',
          '--batches',
          String(2 * 2048 + 100),
          '--seed',
          '3',
          '--json',
        ];
        const local = gradcov(...args);
        assert.is(local.code, 0, local.stderr);
        procs.push(await cliWorker(redis.url, 'one'));
        const one = gradcov(...args, '--redis', redis.url, '--queue', 'one');
        assert.is(one.code, 0, one.stderr);
        assert.ok(one.stdout === local.stdout, 'one worker: --json output differs');
        procs.push(await cliWorker(redis.url, 'two'), await cliWorker(redis.url, 'two', 2));
        const two = gradcov(...args, '--redis', `${redis.url}/0`, '--queue', 'two');
        assert.is(two.code, 0, two.stderr);
        assert.ok(two.stdout === local.stdout, 'two workers: --json output differs');
        // every other estimator: the same bytes with and without --redis (two workers, several blocks per level)
        for (const extra of [
          ['--method', 'paired'],
          ['--method', 'paired', '--noise', '5'],
          ['--method', 'two-level', '--noise-levels', '16,1'],
          ['--method', 'debiased'],
        ]) {
          const mine = gradcov(...args, ...extra);
          assert.is(mine.code, 0, `${extra.join(' ')}: ${mine.stderr}`);
          const json = JSON.parse(mine.stdout);
          assert.is(json.method, extra[1], `${extra.join(' ')}: method recorded`);
          assert.ok(mine.stdout !== local.stdout, `${extra.join(' ')}: not the calibrated output`);
          const viaRedis = gradcov(...args, ...extra, '--redis', redis.url, '--queue', 'two');
          assert.is(viaRedis.code, 0, viaRedis.stderr);
          assert.ok(
            viaRedis.stdout === mine.stdout,
            `${extra.join(' ')}: --json output differs with --redis`,
          );
        }
        const misplaced = gradcov(...args, '--noise-levels', '4,1');
        assert.is(misplaced.code, 1);
        assert.match(misplaced.stderr, /--noise-levels goes with --method two-level/);
        const bad = gradcov(...args, '--redis', redis.url);
        assert.is(bad.code, 1);
        assert.match(bad.stderr, /--redis and --queue go together/);
        const help = gradcov('worker', '--help');
        for (const o of ['--redis', '--queue', '--concurrency'])
          assert.ok(help.stdout.includes(o), `worker ${o}`);
        const estimateHelp = gradcov('estimate', '--help');
        for (const o of ['--method', '--noise-levels', 'two-level', 'debiased'])
          assert.ok(estimateHelp.stdout.includes(o), `estimate ${o}`);
      } finally {
        await Promise.all(procs.map((p) => p.stop()));
        await redis.close();
      }
    },
  ],

  [
    'a wrong port, a wrong or missing password, a stopped Redis: said at once, a clear error after --redis-timeout, visible retries, secrets redacted',
    async () => {
      const file = writeCsv(tempDir(), 'reg.csv', regressionCsv());
      const est = [
        'estimate',
        '--data',
        file,
        '--target',
        'y',
        '--batch-size',
        '16',
        '--batches',
        '300',
        '--json',
      ];
      const port = await deadPort();
      const url = `redis://127.0.0.1:${port}`;
      // nothing listens: both commands say what they wait for, then fail after the timeout (2 s here; default 30)
      for (const args of [
        [...est, '--redis', url, '--queue', 'q'],
        ['worker', '--redis', url, '--queue', 'q'],
      ]) {
        const r = await timed([...args, '--redis-timeout', '2']);
        const what = args[0];
        assert.is(r.code, 1, `${what}: ${r.stderr}`);
        assert.match(
          r.stderr,
          new RegExp(
            `gradcov: waiting for Redis at redis://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\); retrying every second for up to 2 s \\(--redis-timeout\\)`,
          ),
          what,
        );
        assert.match(
          r.stderr,
          new RegExp(
            `gradcov: error: could not reach Redis at redis://127\\.0\\.0\\.1:${port} within 2 s: .*ECONNREFUSED.*--redis-timeout SECONDS waits longer`,
          ),
          what,
        );
        assert.ok(r.seconds < 60, `${what}: bounded (${r.seconds.toFixed(1)} s)`);
      }
      const bad = gradcov('worker', '--redis', url, '--queue', 'q', '--redis-timeout', '0');
      assert.is(bad.code, 1);
      assert.match(bad.stderr, /--redis-timeout/);
      // a password: wrong or missing fails at once (waiting does not cure it), and the password is never printed
      const redis = await startRedis();
      const admin = new Redis(redis.url);
      try {
        await admin.config('SET', 'requirepass', 'hunter2x');
        const authed = `redis://:hunter2x@127.0.0.1:${redis.port}`;
        for (const [label, u, pattern] of [
          [
            'wrong password',
            `redis://:nottherightone@127.0.0.1:${redis.port}`,
            /WRONGPASS|invalid (username-)?password/i,
          ],
          ['no password', redis.url, /NOAUTH/],
        ] as const) {
          for (const args of [
            [...est, '--redis', u, '--queue', 'q'],
            ['worker', '--redis', u, '--queue', 'q'],
          ]) {
            const r = await timed([...args, '--redis-timeout', '30']);
            const what = `${label}, ${args[0]}`;
            assert.is(r.code, 1, `${what}: ${r.stderr}`);
            assert.match(
              r.stderr,
              /gradcov: error: Redis at redis:\/\/(\*\*\*@)?127\.0\.0\.1:\d+ refused the connection: /,
              what,
            );
            assert.match(r.stderr, pattern, what);
            assert.ok(
              !r.stderr.includes('nottherightone') && !r.stderr.includes('hunter2x'),
              `${what}: the password is redacted`,
            );
            assert.ok(
              r.seconds < 25,
              `${what}: failed at once, not after the timeout (${r.seconds.toFixed(1)} s)`,
            );
          }
        }
        // a stopped Redis that comes back: the worker waits with visible lines, then starts
        await admin.quit();
        await redis.stop();
        const w = new Proc(
          spawn(
            process.execPath,
            [CLI, 'worker', '--redis', authed, '--queue', 'back', '--redis-timeout', '60'],
            { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
          ),
          'gradcov worker',
        );
        try {
          await until(
            () => /waiting for Redis at redis:\/\/\*\*\*@127\.0\.0\.1/.test(w.err),
            'the waiting line',
          );
          await redis.restart();
          const again = new Redis(redis.url);
          await again.config('SET', 'requirepass', 'hunter2x').finally(() => again.disconnect());
          await until(() => /concurrency 1/.test(w.err), "the worker's start line");
          assert.match(w.err, /Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+ answers/);
          assert.ok(!w.err.includes('hunter2x'), 'redacted');
          // an estimate with no block finished says it waits for workers (this worker is on another queue)
          const e = new Proc(
            spawn(process.execPath, [CLI, ...est, '--redis', authed, '--queue', 'nobody'], {
              cwd: ROOT,
              stdio: ['ignore', 'pipe', 'pipe'],
            }),
            'gradcov estimate',
          );
          try {
            await until(
              () =>
                /no block finished yet: waiting for gradcov workers on queue "nobody" \(start one with: gradcov worker --redis redis:\/\/\*\*\*@127\.0\.0\.1:\d+ --queue nobody\)/.test(
                  e.err,
                ),
              'the workers hint',
            );
          } finally {
            await e.stop();
          }
        } finally {
          await w.stop();
        }
      } finally {
        admin.disconnect();
        await redis.close();
      }
    },
  ],

  [
    'Redis lost during an estimate: said at once, then a clear error and exit 1 after --redis-timeout; with Redis up, the watched estimate gives the same output',
    async () => {
      const file = writeCsv(tempDir(), 'reg.csv', regressionCsv());
      const est = [
        'estimate',
        '--data',
        file,
        '--target',
        'y',
        '--batch-size',
        '16',
        '--batches',
        '300',
        '--json',
      ];
      const redis = await startRedis();
      try {
        // no worker on the queue: the estimate waits; then Redis goes away for good
        const e = new Proc(
          spawn(
            process.execPath,
            [CLI, ...est, '--redis', redis.url, '--queue', 'lonely', '--redis-timeout', '3'],
            { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
          ),
          'gradcov estimate',
        );
        await until(() => /waiting for gradcov workers/.test(e.err), 'the workers hint');
        const t = performance.now();
        await redis.stop();
        const code = await e.exited;
        assert.is(code, 1, e.err);
        assert.match(
          e.err,
          /gradcov: lost Redis at redis:\/\/127\.0\.0\.1:\d+.*reconnecting, for up to 3 s \(--redis-timeout\)/,
        );
        assert.match(e.err, /gradcov: error: lost Redis at redis:\/\/127\.0\.0\.1:\d+ for more than 3 s/);
        assert.ok((performance.now() - t) / 1000 < 30, 'bounded');
        // Redis back within the timeout: the estimate completes, same output as without --redis
        await redis.restart();
        const w = await cliWorker(redis.url, 'back');
        try {
          const local = gradcov(...est);
          const e2 = new Proc(
            spawn(
              process.execPath,
              [CLI, ...est, '--redis', redis.url, '--queue', 'back', '--redis-timeout', '60'],
              { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
            ),
            'gradcov estimate',
          );
          let out = '';
          e2.child.stdout!.removeAllListeners('data');
          e2.child.stdout!.on('data', (b: Buffer) => {
            out += b.toString();
          });
          assert.is(await e2.exited, 0, e2.err);
          assert.ok(out === local.stdout, 'the same --json output');
        } finally {
          await w.stop();
        }
      } finally {
        await redis.close();
      }
    },
  ],
]);

test.run();
