// `gradcov worker` and `gradcov estimate --redis URL --queue NAME` (the built bin) against a
// real redis-server: the estimate's --json output is byte for byte that of the same command
// without --redis, with one worker process and with two; a run with blocks spread over the
// workers (batches > 2048) is the case that tests the shared block structure.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { CLI, ROOT, gradcov, tempDir, regressionCsv, writeCsv } from './cli.ts';
import { redisSuite, startRedis, Proc } from './redis.ts';

const test = suite('gradcov worker / estimate --redis');

async function cliWorker(url: string, queue: string, concurrency = 1): Promise<Proc> {
  const p = new Proc(spawn(process.execPath, [CLI, 'worker', '--redis', url, '--queue', queue, '--concurrency', String(concurrency)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }), 'gradcov worker');
  // the start line goes to stderr
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`gradcov worker did not start: ${p.err}`)), 90_000);
    const check = () => { if (/concurrency/.test(p.err)) { clearTimeout(t); resolve(); } else setTimeout(check, 50); };
    check();
  });
  return p;
}

redisSuite(test, [
  ['estimate --json is byte-identical with and without --redis (1 and 2 workers, 3 blocks; every --method)', async () => {
    const redis = await startRedis();
    const procs: Proc[] = [];
    try {
      const file = writeCsv(tempDir(), 'reg.csv', regressionCsv());
      const args = ['estimate', '--data', file, '--target', 'y', '--batch-size', '16', '--batches', String(2 * 2048 + 100), '--seed', '3', '--json'];
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
      for (const extra of [['--method', 'paired'], ['--method', 'paired', '--noise', '5'], ['--method', 'two-level', '--noise-levels', '16,1'], ['--method', 'debiased']]) {
        const mine = gradcov(...args, ...extra);
        assert.is(mine.code, 0, `${extra.join(' ')}: ${mine.stderr}`);
        const json = JSON.parse(mine.stdout);
        assert.is(json.method, extra[1], `${extra.join(' ')}: method recorded`);
        assert.ok(mine.stdout !== local.stdout, `${extra.join(' ')}: not the calibrated output`);
        const viaRedis = gradcov(...args, ...extra, '--redis', redis.url, '--queue', 'two');
        assert.is(viaRedis.code, 0, viaRedis.stderr);
        assert.ok(viaRedis.stdout === mine.stdout, `${extra.join(' ')}: --json output differs with --redis`);
      }
      const misplaced = gradcov(...args, '--noise-levels', '4,1');
      assert.is(misplaced.code, 1);
      assert.match(misplaced.stderr, /--noise-levels goes with --method two-level/);
      const bad = gradcov(...args, '--redis', redis.url);
      assert.is(bad.code, 1);
      assert.match(bad.stderr, /--redis and --queue go together/);
      const help = gradcov('worker', '--help');
      for (const o of ['--redis', '--queue', '--concurrency']) assert.ok(help.stdout.includes(o), `worker ${o}`);
      const estimateHelp = gradcov('estimate', '--help');
      for (const o of ['--method', '--noise-levels', 'two-level', 'debiased']) assert.ok(estimateHelp.stdout.includes(o), `estimate ${o}`);
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
      await redis.close();
    }
  }],
]);

test.run();
