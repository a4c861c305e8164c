#!/usr/bin/env node
// A tiny static file server on 127.0.0.1 for the browser example and the Chromium tests:
// serves the repository with the right content types (.wasm as application/wasm, which
// streaming compilation requires). `npm run demo:web` runs it and prints the example's URL.
// A `hook` may answer a request itself (the tests use it to serve odd content types and 404s).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { resolve, extname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.png': 'image/png',
  '.txt': 'text/plain',
};

/**
 * Resolves the package's one bare import (@assemblyscript/loader, a runtime dependency) in
 * served JS, as a bundler or an import map would; module workers have no import maps.
 */
function mapBareImports(file, body) {
  if (!/\.m?js$/.test(file)) return body;
  const text = body.toString('utf8');
  return text.includes("'@assemblyscript/loader'")
    ? text.replaceAll("'@assemblyscript/loader'", "'/node_modules/@assemblyscript/loader/index.js'")
    : body;
}

/**
 * Starts the server; resolves to { url, close }. `hook(pathname)` may return
 * { status, type, body } or { pathname } (serve that file instead), or nothing.
 * `mapBare: false` serves every file as it is (a plain static server, as a user's would be).
 */
export function serve({ root, port = 0, hook, mapBare = true } = {}) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    let pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let type;
    const custom = hook?.(pathname);
    if (custom?.body !== undefined || custom?.status) {
      res.writeHead(custom.status ?? 200, { 'content-type': custom.type ?? 'text/plain' });
      res.end(custom.body ?? '');
      return;
    }
    if (custom?.pathname) ({ pathname, type } = custom);
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = resolve(base, `.${pathname}`);
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': type ?? TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(custom?.transform ? custom.transform(body) : mapBare ? mapBareImports(file, body) : body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${pathname}`);
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      ok({
        url: `http://127.0.0.1:${actual}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const { url } = await serve({ root, port: Number(process.env.PORT ?? 8080) });
  console.log(`serving ${root} at ${url}\nthe web example: ${url}/examples/web/  (Ctrl-C to stop)`);
}
