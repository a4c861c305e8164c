// Code outside src/ that the tests do not import (the benchmarks, the examples, the scripts)
// must not rot when files move: every relative import of bench/, examples/ and scripts/ names a
// file that exists, in the built dist/ (npm test builds it first) or in the sources; and every
// repository path the README and the docs name exists. (A move of
// src/reference/ out of dist/ had left `npm run bench -- sketch` importing
// ../dist/reference/sketch.js, which no longer exists.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CODE = /\.(m?js|m?ts)$/;

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'results') return [];
    return statSync(p).isDirectory() ? files(p) : CODE.test(name) ? [p] : [];
  });
}

/** The relative specifiers of a file's static imports, re-exports and dynamic imports of a literal. */
export function relativeImports(source: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;
  for (let m = re.exec(source); m; m = re.exec(source)) out.push(m[2]!);
  return out;
}

test('relativeImports finds static, side-effect and dynamic imports', () => {
  assert.equal(
    relativeImports(
      "import a from './a.js';\nimport './b.mjs';\nconst c = await import('../c.ts');\nexport { d } from \"./d.js\";\nimport x from 'pkg';",
    ),
    ['./a.js', './b.mjs', '../c.ts', './d.js'],
  );
});

test('every relative import of bench/, examples/ and scripts/ exists', () => {
  const missing: string[] = [];
  let checked = 0;
  for (const dir of ['bench', 'examples', 'scripts']) {
    for (const file of files(join(ROOT, dir))) {
      for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
        if (spec.includes('${')) continue; // a template (bench/run.js's suites are checked by name below)
        checked++;
        const target = resolve(dirname(file), spec);
        // TypeScript's rule: a .js / .mjs specifier names the .ts / .mts source beside it
        const source = target.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts');
        if (!existsSync(target) && !existsSync(source)) missing.push(`${relative(ROOT, file)}: ${spec}`);
      }
    }
  }
  assert.ok(checked > 20, `only ${checked} imports found: the scan is broken`);
  assert.equal(missing, [], `imports that do not resolve:\n${missing.join('\n')}`);
});

test('every file of this repository that README.md and docs/*.md name by its path exists', () => {
  // a path as the docs write it: from the root, starting at a top folder (not ./src/...: a
  // user's project in a bundler recipe)
  const re =
    /(?<![\w./-])((?:src|assembly|test|bench|examples|scripts|cli)\/[\w./-]+\.(?:ts|mts|mjs|js|py|md|txt|csv|json))\b/g;
  const docs = [
    'README.md',
    'cli/README.md',
    ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`),
  ].filter((f) => f.endsWith('.md') && existsSync(join(ROOT, f)));
  // what a run generates (the folders .gitignore names, e.g. bench/results/) need not exist in a clean clone
  const generated = readFileSync(join(ROOT, '.gitignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim().replace(/^\//, ''))
    .filter((l) => l.endsWith('/'));
  const missing: string[] = [];
  let checked = 0;
  for (const doc of docs) {
    for (const m of readFileSync(join(ROOT, doc), 'utf8').matchAll(re)) {
      if (generated.some((dir) => m[1]!.startsWith(dir))) continue;
      checked++;
      if (!existsSync(join(ROOT, m[1]!))) missing.push(`${doc}: ${m[1]}`);
    }
  }
  assert.ok(checked > 50, `only ${checked} paths found: the scan is broken`);
  assert.equal(missing, [], `paths the docs name that do not exist:\n${missing.join('\n')}`);
});

test("bench/run.js's suites are files of bench/", () => {
  const run = readFileSync(join(ROOT, 'bench/run.js'), 'utf8');
  const list = /const all = \[([^\]]*)\]/.exec(run);
  assert.ok(list, 'bench/run.js has no `const all = [...]` list of suites');
  const names = [...list[1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
  assert.ok(names.length > 5);
  for (const name of names) assert.ok(existsSync(join(ROOT, 'bench', `${name}.js`)), `bench/${name}.js`);
});

test.run();
