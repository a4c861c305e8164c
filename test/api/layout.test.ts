// The house rules of src/ (docs/architecture.md), checked on every run: the top holds only the
// package's entries; each folder imports only folders below it; no file imports itself back
// through a circle; and nothing that ships imports the test oracles in src/reference/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** The library's folders, lowest first: a folder may import its own files and those of lower ranks. */
const RANK: Record<string, number> = {
  core: 0,
  data: 1,
  spectral: 1,
  sketch: 2,
  estimators: 3,
  apps: 4,
  parallel: 4,
};
/** Entry folders (one per export condition or subpath): they may import any library folder and the top entries. */
const ENTRY_FOLDERS = new Set(['node', 'bullmq', 'tfjs', 'build']);
/** What the top of src/ may hold: the entries and their declaration shims. */
const TOP = new Set([
  'index.ts',
  'node.ts',
  'browser.ts',
  'edge.ts',
  'workerd.ts',
  'inline.ts',
  'standalone.ts',
  'web-worker.ts',
  'web-workers.ts',
  'wasm-base64.d.ts',
  'wasm-modules.d.ts',
]);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory()
      ? files(p)
      : /\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts')
        ? [p]
        : [];
  });
}

/** Relative imports of a file (static, dynamic, side-effect and re-exports), as src-relative paths. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)) {
    const target = resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts');
    out.push(relative(SRC, target));
  }
  return out;
}

const all = files(SRC).map((f) => relative(SRC, f));
const graph = new Map(all.map((f) => [f, imports(join(SRC, f)).filter((t) => all.includes(t))]));
const folder = (f: string) => (f.includes('/') ? f.split('/')[0]! : '.');

test('the top of src/ holds only the package entries', () => {
  const top = readdirSync(SRC).filter((n) => !statSync(join(SRC, n)).isDirectory());
  assert.equal(
    top.filter((n) => !TOP.has(n)),
    [],
    'files at the top of src/ that are not entries',
  );
  const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
  assert.equal(
    folders.filter((n) => !(n in RANK) && !ENTRY_FOLDERS.has(n) && n !== 'reference'),
    [],
    'folders without a rank in docs/architecture.md',
  );
});

test('imports go only downward: each library folder imports its own and lower folders, never an entry', () => {
  const wrong: string[] = [];
  for (const [f, targets] of graph) {
    const from = folder(f);
    for (const t of targets) {
      const to = folder(t);
      if (to === 'reference' && from !== 'reference')
        wrong.push(`${f} -> ${t} (the test oracles do not ship)`);
      if (!(from in RANK)) continue; // entries and their folders may import any library folder
      if (to === from) continue;
      if (!(to in RANK) || RANK[to]! >= RANK[from]!) wrong.push(`${f} -> ${t}`);
    }
  }
  assert.equal(wrong, []);
});

test('no import circle anywhere in src/', () => {
  const state = new Map<string, 1 | 2>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 2) return;
    if (state.get(f) === 1) {
      cycles.push([...path.slice(path.indexOf(f)), f].join(' -> '));
      return;
    }
    state.set(f, 1);
    for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
    state.set(f, 2);
  };
  for (const f of all) visit(f, []);
  assert.equal(cycles, []);
});

test('the check can fail: a circle and an upward import in a made-up graph are found', () => {
  const g = new Map([
    ['core/a.ts', ['estimators/b.ts']],
    ['estimators/b.ts', ['core/a.ts']],
  ]);
  const up = [...g].flatMap(([f, ts]) => ts.filter((t) => RANK[folder(t)]! > RANK[folder(f)]!));
  assert.equal(up, ['estimators/b.ts']);
});

test.run();
