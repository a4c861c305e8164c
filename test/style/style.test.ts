// Style is kept by tools, not by review: every TypeScript and JavaScript source is formatted
// as Prettier writes it (.prettierrc.json) and ESLint with typescript-eslint finds nothing
// (eslint.config.js). `npm run format` rewrites the files; `npm run lint` checks both.
// The first two tests prove the configuration is live: each tool must reject a bad sample.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('the Prettier configuration is found and rejects a badly formatted sample', async () => {
  const options = await prettier.resolveConfig(`${ROOT}src/node.ts`);
  assert.ok(options, 'no Prettier configuration resolved for src/node.ts');
  assert.is(options!.singleQuote, true);
  const good = "const a = { b: 'c' };\n";
  assert.ok(await prettier.check(good, { ...options, filepath: `${ROOT}src/x.ts` }));
  assert.not.ok(await prettier.check('const a = {b:"c"}\n', { ...options, filepath: `${ROOT}src/x.ts` }));
});

test('the ESLint configuration is found and reports an unused variable in src/', async () => {
  const eslint = new ESLint({ cwd: ROOT });
  const [r] = await eslint.lintText('export const a = 1;\nconst unused = 2;\n', {
    filePath: `${ROOT}src/sample.ts`,
  });
  assert.ok(
    r!.messages.some((m) => m.ruleId === '@typescript-eslint/no-unused-vars'),
    JSON.stringify(r!.messages),
  );
});

test('every source file is formatted as Prettier writes it', () => {
  const r = spawnSync(
    process.execPath,
    [`${ROOT}node_modules/prettier/bin/prettier.cjs`, '--list-different', '.'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  const files = r.stdout.trim();
  assert.is(files, '', `not formatted (run \`npm run format\`):\n${files}\n${r.stderr}`);
  assert.is(r.status, 0, r.stderr);
});

test('ESLint finds no problem in the sources, tests, benchmarks and scripts', async () => {
  const eslint = new ESLint({ cwd: ROOT });
  const results = await eslint.lintFiles(['.']);
  const problems = results.flatMap((f) =>
    f.messages.map(
      (m) => `${f.filePath.slice(ROOT.length)}:${m.line}:${m.column} ${m.ruleId ?? ''} ${m.message}`,
    ),
  );
  assert.ok(results.length > 100, `ESLint saw only ${results.length} files`);
  assert.is(problems.length, 0, problems.join('\n'));
});

test.run();
