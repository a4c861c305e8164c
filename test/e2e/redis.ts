// Real Redis for the gradcov/bullmq tests: a redis-server on a free loopback port with a
// temporary directory, stopped at the end; worker and coordinator processes from
// test/e2e/fixtures. When redis-server is missing, redisSuite() reports its tests as
// skipped with the install command; under CI=true a missing redis-server is a failure.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'uvu';

const HOW =
  'install it with `apt-get update && apt-get install -y redis-server` (Debian/Ubuntu) or put redis-server on PATH';
const root = fileURLToPath(new URL('../..', import.meta.url));

export function hasRedis(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Registers the cases, or reports them skipped (a failure under CI=true) without redis-server. */
export function redisSuite(suite: Test, cases: [name: string, fn: () => Promise<void>][]): void {
  if (!hasRedis()) {
    const reason = `no redis-server for the gradcov/bullmq tests: ${HOW}`;
    if (process.env.CI === 'true')
      suite('redis-server is available for the gradcov/bullmq tests', () => {
        throw new Error(reason);
      });
    else {
      console.log(`\n  SKIPPED ${cases.length} gradcov/bullmq tests: ${reason}\n`);
      for (const [name] of cases) suite.skip(name, () => {});
    }
    return;
  }
  for (const [name, fn] of cases) {
    if (process.env.GRADCOV_ONLY && !name.includes(process.env.GRADCOV_ONLY)) continue;
    suite(name, async () => {
      const t = performance.now();
      try {
        await fn();
      } finally {
        if (process.env.GRADCOV_TIMES)
          console.log(`${((performance.now() - t) / 1000).toFixed(1)} s: ${name}`);
      }
    });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A child process whose stdout lines can be awaited. */
export class Proc {
  readonly lines: string[] = [];
  readonly #waiters: { re: RegExp; resolve(m: RegExpMatchArray): void }[] = [];
  readonly exited: Promise<number | null>;
  err = '';
  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.lines.push(line);
        for (const w of [...this.#waiters]) {
          const m = line.match(w.re);
          if (m) {
            this.#waiters.splice(this.#waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.err += d.toString();
    });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Resolves at the first line (already seen or to come) matching re; rejects on exit or after ms. */
  waitFor(re: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
    for (const line of this.lines) {
      const m = line.match(re);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(
              `${this.name}: no line matching ${re} within ${ms} ms; stderr: ${this.err.slice(-2000)}`,
            ),
          ),
        ms,
      );
      const w = {
        re,
        resolve: (m: RegExpMatchArray) => {
          clearTimeout(t);
          resolve(m);
        },
      };
      this.#waiters.push(w);
      void this.exited.then((code) => {
        if (this.#waiters.includes(w)) {
          clearTimeout(t);
          reject(
            new Error(
              `${this.name} exited (${code}) before a line matching ${re}; stderr: ${this.err.slice(-2000)}`,
            ),
          );
        }
      });
    });
  }

  /** kill -9, resolved when the process is gone. */
  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
  }
}

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Starts redis-server on a free loopback port in a new temporary directory. */
export async function startRedis(options: { appendonly?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gradcov-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'no',
    '--protected-mode',
    'yes',
  ];
  let proc: Proc | undefined;
  const start = async () => {
    proc = new Proc(spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] }), 'redis-server');
    await proc.waitFor(/Ready to accept connections/, 30_000);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async stop() {
      await proc?.stop();
    },
    async restart() {
      await proc?.stop();
      await start();
    },
    async close() {
      await proc?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a worker process (test/e2e/fixtures/bullmq-worker.mjs, the built dist/) and waits until it listens. */
export async function startWorkerProcess(
  env: Record<string, string | number>,
  name = 'worker',
): Promise<Proc> {
  const p = new Proc(
    spawn(process.execPath, ['test/e2e/fixtures/bullmq-worker.mjs'], {
      cwd: root,
      env: { ...process.env, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    name,
  );
  await p.waitFor(/^READY$/, 90_000);
  return p;
}

/** Starts a coordinator process (test/e2e/fixtures/bullmq-coordinator.mjs). */
export function startCoordinatorProcess(env: Record<string, string | number>, name = 'coordinator'): Proc {
  return new Proc(
    spawn(process.execPath, ['test/e2e/fixtures/bullmq-coordinator.mjs'], {
      cwd: root,
      env: { ...process.env, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    name,
  );
}

/** How many times each index was started (from `START <kind> <i>` lines of the processes). */
export function starts(procs: Proc[], kind = 'block'): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of procs)
    for (const l of p.lines) {
      const m = l.match(new RegExp(`^START ${kind} (\\d+)$`));
      if (m) out.set(Number(m[1]), (out.get(Number(m[1])) ?? 0) + 1);
    }
  return out;
}
