// Cases for chromium.test.ts (one browser per test process, so they run in its suite):
// the Web Worker pool on a cross-origin-isolated page (served with COOP/COEP
// headers: the workers' kernels share one WebAssembly memory holding X once) and on a plain
// page (no shared memory for workers: each gets a copy), with the same bits as the main
// thread; `sharedMemory: true` on the plain page is a RangeError that says why.
import * as assert from 'uvu/assert';
import { createServer, request } from 'node:http';
import type { BrowserContext } from 'playwright-core';
import { serve } from '../../examples/serve.mjs';
import { ROOT } from './runtimes.js';
import { importMapHook } from './browser/import-map.js';

// the repository's static server (pages get the import map of the package's exports), and in front of it a proxy that adds the two headers of
// cross-origin isolation to every response under /isolated/
const inner: { url: string; close(): Promise<void> } = await serve({ root: ROOT, hook: importMapHook(ROOT) });
const proxy = createServer((req, res) => {
  const isolated = req.url!.startsWith('/isolated/');
  const path = isolated ? req.url!.slice('/isolated'.length) : req.url!;
  request(`${inner.url}${path}`, (up) => {
    const headers: Record<string, string | string[] | undefined> = { ...up.headers };
    if (isolated) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
    res.writeHead(up.statusCode ?? 500, headers);
    up.pipe(res);
  })
    .on('error', (e) => res.writeHead(502).end(String(e)))
    .end();
});
const url = await new Promise<string>((ok) =>
  proxy.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(proxy.address() as { port: number }).port}`)),
);

/** Stops the two servers (call from the suite's after hook). */
export async function closePoolServers(): Promise<void> {
  proxy.close();
  await inner.close();
}

type Summary = {
  isolated: boolean;
  sharedMemory: boolean;
  sharedWasmMemory: boolean;
  single: number[];
  pool: number[];
  forced: string;
};

async function runPage(context: BrowserContext, path: string): Promise<Summary> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}${path}`);
  await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, {
    timeout: 60_000,
  });
  const r = await page.evaluate(
    () => (window as unknown as { result: { ok: boolean; summary?: Summary; error?: string } }).result,
  );
  await page.close();
  assert.ok(r.ok, r.error);
  assert.equal(errors, []);
  return r.summary!;
}

export const poolIsolationCases: [string, (context: BrowserContext) => Promise<void>][] = [
  [
    'chromium, cross-origin-isolated page: the workers share one WebAssembly memory holding X, the same bits as the main thread',
    async (context) => {
      const s = await runPage(context, '/isolated/test/e2e/browser/pool-isolation.html');
      assert.equal(s.pool, s.single);
      if (!s.isolated) {
        // @sparticuz/chromium runs single-process with site isolation off, so no page is ever
        // cross-origin isolated there, whatever its headers: the pool must then take the copy path
        console.log(
          '\n  NOTE: this Chromium does not cross-origin isolate pages (site isolation is off); checked the fallback instead\n',
        );
        assert.is(s.sharedMemory, false);
        assert.is(s.sharedWasmMemory, false);
        return;
      }
      assert.is(s.sharedMemory, true);
      assert.is(s.sharedWasmMemory, true, 'the shared build was fetched and the workers run on one memory');
      assert.is(s.forced, 'accepted');
    },
  ],
  [
    'chromium, plain page: the pool falls back to copies, the same bits; sharedMemory: true is a RangeError naming cross-origin isolation',
    async (context) => {
      const s = await runPage(context, '/test/e2e/browser/pool-isolation.html');
      assert.is(s.isolated, false);
      assert.is(s.sharedMemory, false);
      assert.is(s.sharedWasmMemory, false);
      assert.equal(s.pool, s.single);
      assert.match(s.forced, /^RangeError: .*`sharedMemory` is true.*cross-origin-isolated/);
    },
  ],
];
