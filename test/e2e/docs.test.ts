// Every ```ts / ```js code block of README.md and docs/*.md runs, as pasted, in the project
// where the packed tarballs are installed (installed.ts), so no snippet can rot. A block
// that needs a browser or a server is marked on the line before it with
// `<!-- no-run: reason -->` (the e2e tests cover those); a block may state what it must
// print with `<!-- output: regular expression -->`, and the packages it needs besides gradcov
// with `<!-- needs: @tensorflow/tfjs -->` (devDependencies of this repository, installed at
// their pinned versions into a project of their own). TypeScript blocks are stripped of their
// types with esbuild first. The API reference must build without a TypeDoc warning (every
// export documented).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { install, installWith, ROOT } from './installed.js';

interface Block { file: string; line: number; lang: string; code: string; skip?: string; output?: RegExp; needs?: string }

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
    const needs = /<!--\s*needs:\s*(.*?)\s*-->/.exec(marks)?.[1];
    blocks.push({ file, line: start + 1, lang: open[1]!, code: body.join('\n'), skip, output: output ? new RegExp(output) : undefined, needs });
  }
  return blocks;
}

const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
const files = ['README.md', ...docs];
const blocks = files.flatMap((f) => codeBlocks(readFileSync(join(ROOT, f), 'utf8'), f));

test('the README and the guides have runnable code blocks, and every skipped one says why', () => {
  assert.ok(codeBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'), 'README.md').filter((b) => !b.skip).length >= 2, 'the README quick start runs');
  for (const b of blocks) if (b.skip !== undefined) assert.ok(b.skip.length > 5, `${b.file}:${b.line}: no-run needs a reason`);
});

for (const b of blocks) {
  if (b.skip) continue;
  test(`${b.file}:${b.line} runs as pasted`, () => {
    const app = b.needs ? installWith(`needs-${b.needs.replace(/[^a-z0-9]+/gi, '-')}`, b.needs.split(/\s+/)) : install().app;
    const js = /^t/.test(b.lang) ? transformSync(b.code, { loader: 'ts', format: 'esm', target: 'es2022' }).code : b.code;
    const name = `block-${b.file.replace(/[^a-z0-9]+/gi, '-')}-${b.line}.mjs`;
    writeFileSync(join(app, name), js);
    const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }; // plain output, as a user's terminal log
    const r = spawnSync(process.execPath, [name], { cwd: app, encoding: 'utf8', timeout: 180_000, env });
    assert.is(r.status, 0, `${b.file}:${b.line} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
    if (b.output) assert.match(r.stdout, b.output, `${b.file}:${b.line} printed:\n${r.stdout}`);
  });
}

test('the API reference builds with TypeDoc without a warning (every export is documented)', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--emit', 'none'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.not.match(r.stdout + r.stderr, /\[warning\]|\[error\]/, r.stdout + r.stderr);
});

test.run();
