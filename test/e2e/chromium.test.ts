// Chromium (see browser.ts for where it comes from; driven by playwright-core) against pages served by a static server on
// 127.0.0.1: the conformance script on the main thread and in a module Web Worker, init()
// fetching the .wasm (streaming when served as application/wasm, from the bytes when the
// server says application/octet-stream), a missing .wasm reported with its URL, and the
// browser example drawing the calibration curve in a worker.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { serve } from '../../examples/serve.mjs';
import { ROOT, assertSameAsReference } from './runtimes.js';
import { browserSuite } from './browser.js';
import { exportsImportMap, withImportMap } from './browser/import-map.js';
import { poolIsolationCases, closePoolServers } from './chromium-pool.js';

// The package's bare specifiers resolve through package.json `exports` (browser condition):
// the test pages get an import map generated from it, and the conformance script, which
// also runs in a module worker (no import maps there), has its `from 'gradcov'` rewritten
// to the same target. Prefixes: /octet/ serves .wasm as application/octet-stream;
// /missing/ answers 404 for it.
const IMPORTS = exportsImportMap(ROOT);
function hook(pathname: string): object | undefined {
  const [, prefix, rest] = /^\/(octet|missing)(\/.*)$/.exec(pathname) ?? [];
  const path = rest ?? pathname;
  if (path.endsWith('.wasm') && prefix === 'missing') return { status: 404, body: 'no such file' };
  const type = path.endsWith('.wasm') && prefix === 'octet' ? 'application/octet-stream' : undefined;
  const base = prefix ? `/${prefix}` : '';
  const transform = path.startsWith('/test/e2e/conformance/')
    ? (body: Buffer) => body.toString('utf8').replace("from 'gradcov'", `from '${base}${IMPORTS.gradcov}'`)
    : path.startsWith('/test/e2e/browser/') && path.endsWith('.html')
      ? (body: Buffer) =>
          withImportMap(
            body.toString('utf8'),
            Object.fromEntries(Object.entries(IMPORTS).map(([k, v]) => [k, base + v])),
          )
      : undefined;
  return { pathname: path, type, transform };
}

let browser: BrowserContext;
const server: { url: string; close(): Promise<void> } = await serve({ root: ROOT, hook });
test.after(async () => {
  await server.close();
  await closePoolServers();
});

/** Opens a page, collecting console errors and uncaught exceptions. */
async function open(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}${path}`);
  return { page, errors };
}

async function conformanceIn(
  path: string,
): Promise<{ ok: boolean; summary?: unknown; error?: string; errors: string[] }> {
  const { page, errors } = await open(path);
  await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, {
    timeout: 60_000,
  });
  const result = await page.evaluate(
    () => (window as unknown as { result: { ok: boolean; summary?: unknown; error?: string } }).result,
  );
  await page.close();
  return { ...result, errors };
}

test('the import map from package.json exports (browser condition) names every JS entry, each a built file', () => {
  assert.equal(Object.keys(IMPORTS).sort(), [
    'gradcov',
    'gradcov/bullmq',
    'gradcov/inline',
    'gradcov/node-workers',
    'gradcov/standalone',
    'gradcov/tfjs',
    'gradcov/web-worker',
    'gradcov/web-workers',
  ]);
  assert.is(IMPORTS.gradcov, '/dist/browser.js');
  for (const [name, path] of Object.entries(IMPORTS))
    assert.ok(existsSync(`${ROOT}${path.slice(1)}`), `${name} -> ${path} is not built`);
});

await browserSuite(test, [
  [
    'chromium main thread: init() streams the .wasm; the same summary, no console errors',
    async (b) => {
      browser = b;
      const r = await conformanceIn('/test/e2e/browser/conformance.html');
      assert.ok(r.ok, r.error);
      assertSameAsReference(r.summary, 'chromium main thread');
      assert.equal(r.errors, []);
    },
  ],
  [
    'chromium module Web Worker: the same summary, no console errors',
    async (b) => {
      browser = b;
      const r = await conformanceIn('/test/e2e/browser/conformance.html?worker');
      assert.ok(r.ok, r.error);
      assertSameAsReference(r.summary, 'chromium worker');
      assert.equal(r.errors, []);
    },
  ],
  [
    'chromium: .wasm served as application/octet-stream falls back to compiling the bytes',
    async (b) => {
      browser = b;
      const r = await conformanceIn('/octet/test/e2e/browser/conformance.html');
      assert.ok(r.ok, r.error);
      assertSameAsReference(r.summary, 'chromium, octet-stream');
    },
  ],
  [
    'chromium: a missing .wasm fails init() with the URL tried and the HTTP status',
    async (b) => {
      browser = b;
      const r = await conformanceIn('/missing/test/e2e/browser/conformance.html?worker');
      assert.not.ok(r.ok);
      assert.match(
        r.error ?? '',
        new RegExp(
          `failed to load the WebAssembly module from ${server.url}/missing/dist/gradcov\\.wasm: HTTP 404`,
        ),
      );
    },
  ],
  [
    'the web example draws the calibration curve in a worker, minimum at tau2/n = 1, no console errors',
    async (b) => {
      browser = b;
      const { page, errors } = await open('/examples/web/');
      await page.setViewportSize({ width: 820, height: 720 });
      await page.waitForSelector('body[data-state]', { timeout: 120_000 });
      assert.is(
        await page.getAttribute('body', 'data-state'),
        'done',
        (await page.textContent('#status')) ?? '',
      );
      assert.is(await page.getAttribute('body', 'data-best'), '1');
      assert.is(await page.locator('svg circle.pt').count(), 10);
      const png = await page.locator('body').screenshot();
      mkdirSync(`${ROOT}report`, { recursive: true });
      writeFileSync(`${ROOT}report/web-example.png`, png);
      assert.ok(
        png.subarray(1, 4).toString() === 'PNG' && png.length > 10_000,
        `screenshot of ${png.length} bytes`,
      );
      assert.equal(errors, []);
      await page.close();
    },
  ],
  [
    'chromium Web Workers (gradcov/web-workers): the pool gives the same bits for 1 and 2 workers, matches the main thread, and the trainer fits',
    async (b) => {
      browser = b;
      const r = await conformanceIn('/test/e2e/browser/pool.html');
      assert.ok(r.ok, r.error);
      const s = r.summary as Record<string, number[]>;
      assert.equal(s.pool1, s.pool2);
      const scale = Math.max(...s.single!.map(Math.abs));
      const diff = Math.max(...s.single!.map((v, i) => Math.abs(v - s.pool2![i]!)));
      assert.ok(diff <= 64 * Number.EPSILON * scale, `pool vs main thread ${diff}`);
      const err = Math.max(...s.lsq!.map((v, i) => Math.abs(v - s.trained![i]!)));
      assert.ok(err < 0.05, `trained w vs least squares: ${err}`);
      assert.equal(r.errors, []);
    },
  ],
  ...poolIsolationCases, // the pool's shared memory and cross-origin isolation (chromium-pool.ts)
]);

test.run();
