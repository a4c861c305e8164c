// Every ```ts / ```js code block of README.md and docs/*.md runs, as pasted, in the project
// where the packed tarballs are installed (installed.ts), so no snippet can rot. A block
// that needs a browser or a server is marked on the line before it with
// `<!-- no-run: reason -->` (the e2e tests cover those); a block may state what it must
// print with `<!-- output: regular expression -->`. A block whose text claims what it prints
// (a `// ...` comment with a digit after a console.log) must carry that mark, and the mark
// must match the claims as written (an "about" or "~" in front dropped) as well as what
// the block prints: so a claim the code no longer prints fails (docs/parallel.md said
// 7.1 / 0.3 MiB and printed 8.2 / 1.4, unchecked, as that block had no mark). // The packages a block needs besides gradcov: `<!-- needs: @tensorflow/tfjs -->` (devDependencies
// of this repository, installed at their pinned versions into a project of their own). TypeScript blocks are stripped of their
// types with esbuild first. The API reference must build without a TypeDoc warning (every
// export documented).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { install, installWith, ROOT } from './installed.js';

interface Block {
  file: string;
  line: number;
  lang: string;
  code: string;
  skip?: string;
  output?: RegExp;
  claims: string[];
  needs?: string;
}

/** Files whose claimed outputs are not marked yet (owned elsewhere): their claims are not checked. */
const UNMARKED = new Set(['docs/guarantees.md']);

/** What the comments after console.log(...) calls say is printed, approximations' "about" / "~" dropped. */
export function claimedOutput(code: string): string[] {
  const out: string[] = [];
  for (const line of code.split('\n')) {
    const m = /console\.log\(.*\)\s*;?\s*\/\/\s*(.*\d.*)$/.exec(line);
    if (m) out.push(m[1]!.replace(/^(about|~)\s*/i, '').replace(/\s*\(about\)\s*$/i, ''));
  }
  return out;
}

export function codeBlocks(markdown: string, file: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript|js|javascript|mjs)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const marks = lines.slice(Math.max(0, start - 3), start).join('\n');
    const skip = /<!--\s*no-run:\s*(.*?)\s*-->/.exec(marks)?.[1];
    const output = /<!--\s*output:\s*(.*?)\s*-->/.exec(marks)?.[1];
    const code = body.join('\n');
    const needs = /<!--\s*needs:\s*(.*?)\s*-->/.exec(marks)?.[1];
    blocks.push({
      file,
      line: start + 1,
      lang: open[1]!,
      code,
      skip,
      output: output ? new RegExp(output) : undefined,
      claims: claimedOutput(code),
      needs,
    });
  }
  return blocks;
}

const docs = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);
const files = ['README.md', ...docs];
const blocks = files.flatMap((f) => codeBlocks(readFileSync(join(ROOT, f), 'utf8'), f));

test('the README and the guides have runnable code blocks, and every skipped one says why', () => {
  assert.ok(
    codeBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'), 'README.md').filter((b) => !b.skip).length >= 2,
    'the README quick start runs',
  );
  for (const b of blocks)
    if (b.skip !== undefined) assert.ok(b.skip.length > 5, `${b.file}:${b.line}: no-run needs a reason`);
});

test('a runnable block that claims what it prints has an output mark, and the mark matches the claims as written', () => {
  const problems: string[] = [];
  for (const b of blocks) {
    if (b.skip || b.claims.length === 0 || UNMARKED.has(b.file)) continue;
    if (!b.output)
      problems.push(
        `${b.file}:${b.line}: claims ${JSON.stringify(b.claims)} but has no <!-- output: --> mark`,
      );
    else if (!b.output.test(b.claims.join('\n')) && !b.claims.some((c) => b.output!.test(c)))
      problems.push(
        `${b.file}:${b.line}: the mark ${b.output} does not match the claims ${JSON.stringify(b.claims)}`,
      );
  }
  assert.equal(problems, []);
});

test('the claim check fails on the docs/parallel.md mismatch it was written for', () => {
  const [b] = codeBlocks(
    "<!-- output: true 6\\.5\\n8\\.2 -->\n```js\nconsole.log(a); // true 6.5\nconsole.log(b); // 7.1 [ '0.0', '0.3' ]\n```\n",
    'x.md',
  );
  assert.equal(b!.claims, ['true 6.5', "7.1 [ '0.0', '0.3' ]"]);
  assert.not.ok(
    b!.output!.test(b!.claims.join('\n')) || b!.claims.some((c) => b!.output!.test(c)),
    'the mark (what it prints) does not match the text (what it claims)',
  );
  assert.equal(
    claimedOutput('console.log(x); // about 0.05\nconsole.log(y); // 3 2 (about)\nconst z = 1; // 4'),
    ['0.05', '3 2'],
  );
});

for (const b of blocks) {
  if (b.skip) continue;
  test(`${b.file}:${b.line} runs as pasted`, () => {
    const app = b.needs
      ? installWith(`needs-${b.needs.replace(/[^a-z0-9]+/gi, '-')}`, b.needs.split(/\s+/))
      : install().app;
    const js = /^t/.test(b.lang)
      ? transformSync(b.code, { loader: 'ts', format: 'esm', target: 'es2022' }).code
      : b.code;
    const name = `block-${b.file.replace(/[^a-z0-9]+/gi, '-')}-${b.line}.mjs`;
    writeFileSync(join(app, name), js);
    const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }; // plain output, as a user's terminal log
    const r = spawnSync(process.execPath, [name], { cwd: app, encoding: 'utf8', timeout: 180_000, env });
    assert.is(r.status, 0, `${b.file}:${b.line} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
    if (b.output) assert.match(r.stdout, b.output, `${b.file}:${b.line} printed:\n${r.stdout}`);
  });
}

test('the API reference builds with TypeDoc without a warning (every export is documented), its modules named by import path', () => {
  const json = join(mkdtempSync(join(tmpdir(), 'gradcov-typedoc-')), 'api.json');
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--json', json], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.not.match(r.stdout + r.stderr, /\[warning\]|\[error\]/, r.stdout + r.stderr);
  // every module is what a user imports (`@module` at the top of each entry): 'gradcov', 'gradcov/bullmq', ...
  const names = (JSON.parse(readFileSync(json, 'utf8')) as { children: { name: string }[] }).children
    .map((c) => c.name)
    .sort();
  const exports = Object.keys(
    (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> })
      .exports,
  )
    .filter((k) => !/\.(wasm|json)$/.test(k) && k !== './web-worker')
    .map((k) => (k === '.' ? 'gradcov' : `gradcov/${k.slice(2)}`))
    .sort();
  assert.equal(names, exports);
});

test.run();
