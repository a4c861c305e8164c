// Resolves the package's bare specifiers the way a browser-targeting bundler does: through
// package.json `exports` with the `browser` condition (then `default`), in the map's key
// order, as Node's and bundlers' resolution algorithms do. The Chromium tests use it for an
// import map on their pages and for the conformance script's `import ... from 'gradcov'`, so
// an entry missing from `exports` (or pointing at a missing file) fails them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Target = string | null | { [condition: string]: Target } | Target[];
const CONDITIONS = new Set(['browser', 'import', 'default']);

function pick(target: Target): string | undefined {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) return target.map(pick).find((t) => t !== undefined);
  if (target === null) return undefined;
  for (const [condition, sub] of Object.entries(target)) {
    if (CONDITIONS.has(condition)) {
      const t = pick(sub);
      if (t !== undefined) return t;
    }
  }
  return undefined;
}

/** `{ 'gradcov': '/dist/browser.js', 'gradcov/web-workers': '/dist/web-workers.js', ... }` for the JS entries. */
export function exportsImportMap(root: string, base = '/'): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, Target>;
  };
  const imports: Record<string, string> = {};
  for (const [key, target] of Object.entries(pkg.exports)) {
    const file = pick(target);
    if (file === undefined || !file.endsWith('.js')) continue;
    imports[key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`] = base + file.replace(/^\.\//, '');
  }
  return imports;
}

/** Inserts `<script type="importmap">` with `imports` right after `<head>` of an HTML page. */
export function withImportMap(html: string, imports: Record<string, string>): string {
  return html.replace(/<head>/i, `<head><script type="importmap">${JSON.stringify({ imports })}</script>`);
}

/**
 * A hook for examples/serve.mjs: HTML pages under /test/e2e/browser/ get the import map of
 * the package's exports, so their bare imports resolve as a bundler would resolve them. The
 * targets are relative to the page ('../../../dist/...'), so a proxy that serves the same
 * tree under a prefix (/isolated/...) keeps every module and worker under that prefix.
 */
export function importMapHook(root: string): (pathname: string) => object | undefined {
  const imports = Object.fromEntries(Object.entries(exportsImportMap(root, '../../../')));
  return (pathname) =>
    pathname.startsWith('/test/e2e/browser/') && pathname.endsWith('.html')
      ? { pathname, transform: (body: Buffer) => withImportMap(body.toString('utf8'), imports) }
      : undefined;
}
