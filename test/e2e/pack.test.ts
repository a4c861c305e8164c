// The product as a user installs it (see installed.ts): the two tarballs' contents, checked
// as a closure (every file that an exports target, a bin, a relative import or a
// `new URL(..., import.meta.url)` in the shipped JavaScript names is shipped; every bare
// import is a declared dependency), the library's one runtime dependency, every entry run
// from the installed project, every CLI command run from the installed bin, and a strict
// TypeScript file importing every entry, type-checked under each moduleResolution.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { install, installWith, npm, ROOT, type PackInfo } from './installed.js';
import { CONFORMANCE, assertSameAsReference, runJson } from './runtimes.js';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  exports?: unknown;
  bin?: Record<string, string>;
  types?: string;
  main?: string;
  typesVersions?: Record<string, Record<string, string[]>>;
}

/** Unpacks a tarball into a fresh folder and returns the package folder. */
function unpack(p: PackInfo, name: string): string {
  const dir = join(install().dir, `unpacked-${name}`);
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xzf', p.path, '-C', dir]);
  return join(dir, 'package');
}

const jsFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(m?js|d\.ts)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));

/** Imports the closure check accepts: each is only reached when running from the .ts sources. */
const ALLOWED = [{ file: 'dist/node/thread-transport.js', spec: 'tsx/esm/api' }];

/** Every string an exports map points at (all conditions). */
const exportTargets = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(exportTargets) : [];

/**
 * The closure check: returns the problems found in an unpacked package (missing files,
 * undeclared bare imports). Static imports, re-exports, dynamic imports with a literal and
 * `new URL('literal', import.meta.url)` are followed, in .js and .d.ts files.
 */
function closureProblems(pkgDir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Manifest;
  const declared = new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const problems: string[] = [];
  const need = (from: string, target: string) => {
    if (!existsSync(target))
      problems.push(
        `${relative(pkgDir, from) || 'package.json'} -> ${relative(pkgDir, target)} is not in the tarball`,
      );
  };
  for (const t of [
    ...exportTargets(manifest.exports),
    ...Object.values(manifest.bin ?? {}),
    manifest.types,
    manifest.main,
  ]) {
    if (t) need(pkgDir, resolve(pkgDir, t));
  }
  for (const list of Object.values(manifest.typesVersions ?? {}).flatMap((m) => Object.values(m)))
    for (const t of list) if (!t.includes('*')) need(pkgDir, resolve(pkgDir, t));
  const builtins = new Set(builtinModules);
  for (const file of jsFiles(pkgDir)) {
    const text = readFileSync(file, 'utf8').replace(/^\s*(\/\/|\*|\/\*).*$/gm, ''); // skip comments and JSDoc
    const specs = [
      ...[...text.matchAll(/(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)].map(
        (m) => m[1]!,
      ),
      ...[...text.matchAll(/(?:^|[;\s])import\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!),
      ...[...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!),
    ];
    for (const raw of specs) {
      const s = raw.replace(/\?.*$/, ''); // './gradcov.wasm?module' (bundler import suffixes)
      if (ALLOWED.some((a) => file.endsWith(a.file) && s === a.spec)) continue;
      if (s.startsWith('.')) need(file, resolve(dirname(file), s));
      else if (!s.startsWith('node:') && !builtins.has(s)) {
        const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
        if (!declared.has(name))
          problems.push(
            `${relative(pkgDir, file)} imports '${s}', which is not a dependency of ${manifest.name}`,
          );
      }
    }
    for (const m of text.matchAll(/new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g))
      need(file, resolve(dirname(file), m[1]!.replace(/\?.*$/, '')));
  }
  return problems;
}

test('the library tarball: every referenced file is shipped, every import declared, nothing from the sources or tests', () => {
  const { lib } = install();
  const dir = unpack(lib, 'lib');
  assert.equal(closureProblems(dir), []);
  for (const f of [
    'LICENSE',
    'README.md',
    'package.json',
    'dist/gradcov.wasm',
    'dist/gradcov.relaxed.wasm',
    'dist/gradcov.shared.wasm',
    'dist/gradcov.shared.relaxed.wasm',
    'dist/wasm-base64.js',
  ])
    assert.ok(lib.files.includes(f), `missing ${f}`);
  const unwanted = lib.files.filter(
    (f) =>
      (/\.(wat|map|ts)$/.test(f) && !f.endsWith('.d.ts')) ||
      /debug|^src\/|^test\/|^assembly\/|^scripts\/|^cli\/|^bench\/|^dist\/reference\//.test(f),
  );
  assert.equal(unwanted, []);
  console.log(
    `  dist/gradcov.wasm ${statSync(join(dir, 'dist/gradcov.wasm')).size} bytes, dist/gradcov.relaxed.wasm ${statSync(join(dir, 'dist/gradcov.relaxed.wasm')).size} bytes`,
  );
});

test('the CLI tarball: the bin and everything it loads are shipped, with the data sets and their licence notices', () => {
  const { cli } = install();
  const dir = unpack(cli, 'cli');
  assert.equal(closureProblems(dir), []);
  for (const f of [
    'LICENSE',
    'README.md',
    'package.json',
    'dist/index.js',
    'data/diabetes/README.md',
    'data/diabetes/features.txt',
    'data/diamonds/README.md',
    'data/diamonds/diamonds.csv',
  ]) {
    assert.ok(cli.files.includes(f), `missing ${f}`);
  }
  assert.match(readFileSync(join(dir, 'dist/index.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
  for (const notice of ['data/diabetes/README.md', 'data/diamonds/README.md'])
    assert.match(readFileSync(join(dir, notice), 'utf8'), /Licen[cs]e|licen[cs]e/);
});

test('a library user installs one runtime dependency: @assemblyscript/loader', () => {
  const { lib, libOnlyPackages } = install();
  const manifest = JSON.parse(readFileSync(join(unpack(lib, 'lib2'), 'package.json'), 'utf8')) as Manifest;
  assert.equal(Object.keys(manifest.dependencies ?? {}), ['@assemblyscript/loader']);
  assert.is(libOnlyPackages, 2, 'gradcov and @assemblyscript/loader, nothing else');
});

test('installed: the conformance script gives the reference summary bit for bit', () => {
  const { app } = install();
  for (const f of ['conformance.js', 'cli.js']) copyFileSync(join(CONFORMANCE, f), join(app, f));
  assertSameAsReference(runJson(process.execPath, ['cli.js'], { cwd: app }), 'the installed tarball');
});

function runIn(app: string, code: string, flags: string[] = []): string {
  const file = join(app, `snippet-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, [...flags, file], { cwd: app, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

test("installed: gradcov/inline, the relaxed build under Node's flag, and the node-workers pool (built worker path) agree", () => {
  const { app } = install();
  const out = JSON.parse(
    runIn(
      app,
      `
    import * as inline from 'gradcov/inline';
    await inline.init();
    const { data, wStar } = inline.syntheticRegression({ dim: 4, rows: 2000, seed: 3 });
    const single = inline.estimateHessian(data, wStar, { batchSize: 16, batches: 3000, seed: 5 });
    const { createEstimatorPool } = await import('gradcov/node-workers');
    const pool = await createEstimatorPool({ workers: 2 });
    const pooled = await pool.estimateHessian(data, wStar, { batchSize: 16, batches: 3000, seed: 5, blockBatches: 1000 });
    await pool.close();
    console.log(JSON.stringify({ build: inline.wasmBuild(), single: [...single.hessian], pooled: [...pooled.hessian] }));`,
    ),
  );
  assert.is(out.build, 'simd');
  const scale = Math.max(...out.single.map(Math.abs));
  out.single.forEach((v: number, i: number) =>
    assert.ok(
      Math.abs(v - out.pooled[i]) <= 64 * Number.EPSILON * scale,
      `entry ${i}: ${v} vs ${out.pooled[i]}`,
    ),
  );
  const relaxed = JSON.parse(
    runIn(
      app,
      `
    import * as g from 'gradcov';
    await g.init();
    const h = g.estimateHessian(...(({ data, wStar }) => [data, wStar])(g.syntheticRegression({ dim: 4, rows: 2000, seed: 3 })), { batchSize: 16, batches: 3000, seed: 5 }).hessian;
    console.log(JSON.stringify({ build: g.wasmBuild(), h: [...h] }));`,
      ['--experimental-wasm-relaxed-simd'],
    ),
  );
  assert.is(relaxed.build, 'relaxed-simd', 'the installed package ships and loads the relaxed build');
  relaxed.h.forEach((v: number, i: number) =>
    assert.ok(Math.abs(v - out.single[i]) <= 1e-12 * scale, `relaxed entry ${i}`),
  );
});

function gradcov(app: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(join(app, 'node_modules/.bin/gradcov'), args, {
    cwd: app,
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('installed CLI: --help, demo, estimate on a CSV', () => {
  const { app } = install();
  const help = gradcov(app, '--help');
  assert.is(help.code, 0, help.stderr);
  for (const c of ['demo', 'experiment', 'estimate']) assert.match(help.stdout, new RegExp(`\\n  ${c}\\b`));
  const demo = gradcov(app, 'demo');
  assert.is(demo.code, 0, demo.stderr);
  assert.is(demo.stdout.split('| tau2/n |').length, 3, demo.stdout);
  let s = 7;
  const u = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  const rows = [
    'a,b,c,y',
    ...Array.from({ length: 600 }, () => {
      const [a, b, c] = [u(), u(), u()];
      return [a, b, c, 2 * a - b + c / 2 + 0.1 * u()].map((v) => v.toFixed(5)).join(',');
    }),
  ];
  writeFileSync(join(app, 'data.csv'), rows.join('\n') + '\n');
  const est = gradcov(
    app,
    'estimate',
    '--data',
    'data.csv',
    '--target',
    'y',
    '--batch-size',
    '16',
    '--batches',
    '2000',
    '--json',
  );
  assert.is(est.code, 0, est.stderr);
  const json = JSON.parse(est.stdout);
  assert.ok(
    JSON.stringify(json).includes('hessian') || JSON.stringify(json).includes('covariance'),
    est.stdout.slice(0, 300),
  );
});

test('installed CLI: every experiment runs (experiment all, small settings) and --out writes the report', () => {
  const { app } = install();
  const out = join(app, 'report');
  const r = gradcov(
    app,
    'experiment',
    'all',
    '--dim',
    '4',
    '--rows',
    '1500',
    '--batches',
    '400',
    '--dims',
    '4,6',
    '--batches-per-dim',
    '30',
    '--quiet',
    '--out',
    out,
  );
  assert.is(r.code, 0, r.stderr);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
    experiments: { name: string }[];
  };
  const names = results.experiments.map((e) => e.name);
  for (const n of [
    'calibration',
    'batches',
    'distributions',
    'dimension',
    'real-data',
    'preconditioning',
    'adversarial',
    'distributed',
  ])
    assert.ok(names.includes(n), `experiment ${n} in ${names}`);
  assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes('<svg'));
});

test("strict TypeScript files importing every entry type-check under node16, nodenext, bundler and node10 (gradcov/bullmq with Node's types and its peers)", () => {
  const { app } = install();
  copyFileSync(join(ROOT, 'test/e2e/pack/app.ts'), join(app, 'app.ts'));
  copyFileSync(join(ROOT, 'test/e2e/pack/app-node.ts'), join(app, 'app-node.ts'));
  const common = {
    strict: true,
    noEmit: true,
    target: 'ES2022',
    skipLibCheck: false,
    noUncheckedIndexedAccess: true,
    types: [] as string[],
  };
  const configs: Record<string, object> = {
    node16: { module: 'Node16', moduleResolution: 'Node16', lib: ['ES2022', 'DOM'] },
    nodenext: { module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'] },
    bundler: { module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM'] },
    node10: { module: 'ESNext', moduleResolution: 'Node10', lib: ['ES2022', 'DOM'] },
  };
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const failures: string[] = [];
  for (const [name, options] of Object.entries(configs)) {
    // the runtime-neutral entries without any ambient types; the Node-only gradcov/bullmq (whose
    // peers' types need Node's, as any Node project has them) with @types/node
    for (const [file, types] of [
      ['app.ts', []],
      ['app-node.ts', ['node']],
    ] as const) {
      const config = `tsconfig.${name}.${file.replace('.ts', '')}.json`;
      writeFileSync(
        join(app, config),
        JSON.stringify({ compilerOptions: { ...common, ...options, types }, files: [file] }),
      );
      const r = spawnSync(process.execPath, [tsc, '-p', config], { cwd: app, encoding: 'utf8' });
      if (r.status !== 0) failures.push(`${name} ${file}: ${r.stdout}${r.stderr}`);
    }
  }
  assert.equal(failures, []);
});

/** The TypeScript 7 that users get from npm (`typescript@latest` on 2026-12-07); its tsc is native (Go). */
const TS7 = 'typescript@7.0.2';

test(`TypeScript 7 (${TS7}, from npm) type-checks the strict files under node16, nodenext and bundler, and rejects node10`, () => {
  const { app, dir } = install();
  const ts7 = join(dir, 'ts7');
  mkdirSync(ts7, { recursive: true });
  writeFileSync(join(ts7, 'package.json'), JSON.stringify({ name: 'ts7', private: true }));
  try {
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-exact', TS7], ts7);
  } catch (e) {
    // a machine without the registry: reported, and a failure under CI=true
    const why = `${TS7} could not be installed from npm (${String((e as Error).message).split('\n')[0]})`;
    if (process.env.CI === 'true') throw new Error(why, { cause: e });
    console.log(`  skipped: ${why}`);
    return;
  }
  const tsc = join(ts7, 'node_modules/typescript/bin/tsc');
  assert.match(execFileSync(process.execPath, [tsc, '--version'], { encoding: 'utf8' }), /^Version 7\./);
  copyFileSync(join(ROOT, 'test/e2e/pack/app.ts'), join(app, 'app.ts'));
  copyFileSync(join(ROOT, 'test/e2e/pack/app-node.ts'), join(app, 'app-node.ts'));
  const common = {
    strict: true,
    noEmit: true,
    target: 'ES2022',
    skipLibCheck: false,
    noUncheckedIndexedAccess: true,
    lib: ['ES2022', 'DOM'],
  };
  const configs: Record<string, object> = {
    node16: { module: 'Node16', moduleResolution: 'Node16' },
    nodenext: { module: 'NodeNext', moduleResolution: 'NodeNext' },
    bundler: { module: 'ESNext', moduleResolution: 'Bundler' },
  };
  const failures: string[] = [];
  for (const [name, options] of Object.entries(configs)) {
    for (const [file, types] of [
      ['app.ts', []],
      ['app-node.ts', ['node']],
    ] as const) {
      const config = `tsconfig.ts7.${name}.${file.replace('.ts', '')}.json`;
      writeFileSync(
        join(app, config),
        JSON.stringify({ compilerOptions: { ...common, ...options, types }, files: [file] }),
      );
      const r = spawnSync(process.execPath, [tsc, '-p', config], { cwd: app, encoding: 'utf8' });
      if (r.status !== 0) failures.push(`${name} ${file}: ${r.stdout}${r.stderr}`);
    }
  }
  assert.equal(failures, []);
  // what the README says: TypeScript 7 has removed node10, so a user's node10 config fails with TS5108 whatever the package ships
  writeFileSync(
    join(app, 'tsconfig.ts7.node10.json'),
    JSON.stringify({
      compilerOptions: { ...common, module: 'ESNext', moduleResolution: 'Node10', types: [] },
      files: ['app.ts'],
    }),
  );
  const old = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.ts7.node10.json'], {
    cwd: app,
    encoding: 'utf8',
  });
  assert.is.not(old.status, 0);
  assert.match(old.stdout + old.stderr, /TS5108.*node10.*removed/);
});

test('require() from CommonJS works under Node 20.19+ (require(esm)): the entries load and estimate', () => {
  const { app } = install();
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const supported = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);
  writeFileSync(
    join(app, 'require.cjs'),
    `
const g = require('gradcov');
for (const e of ['gradcov/inline', 'gradcov/standalone', 'gradcov/node-workers', 'gradcov/web-workers', 'gradcov/bullmq']) {
  if (typeof require(e) !== 'object') throw new Error(e);
}
g.init().then(() => {
  const { data, wStar } = g.syntheticRegression({ dim: 4, rows: 2000, noiseVariance: 1, seed: 1 });
  const { hessian } = g.estimateHessian(data, wStar, { batchSize: 32, batches: 2000, noiseVariance: 31, seed: 2 });
  console.log('relative error', g.relativeError(hessian, g.secondMomentMatrix(data), 4).toFixed(3));
});
`,
  );
  const r = spawnSync(process.execPath, ['require.cjs'], { cwd: app, encoding: 'utf8' });
  if (!supported) {
    // Node before 20.19 (and 21.x, 22.0-22.11 without --experimental-require-module): ESM only
    assert.match(r.stderr, /ERR_REQUIRE_ESM/, r.stderr);
    return;
  }
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^relative error 0\.0\d\d/);
  assert.not.match(r.stderr, /ExperimentalWarning/, 'no warning printed');
});

test('gradcov/tfjs with its optional peer @tensorflow/tfjs-core: resolves in Node and type-checks under node16, nodenext, bundler and node10', () => {
  const app = installWith('tfjs-core', ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu']);
  const out = runIn(
    app,
    "const m = await import('gradcov/tfjs'); console.log(typeof m.tfjsOracle, m.TFJS_LOSSES.join());",
  );
  assert.is(out, 'function mean-half-squared');
  copyFileSync(join(ROOT, 'test/e2e/pack/app-tfjs.ts'), join(app, 'app-tfjs.ts'));
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const failures: string[] = [];
  for (const [name, module, moduleResolution] of [
    ['node16', 'Node16', 'Node16'],
    ['nodenext', 'NodeNext', 'NodeNext'],
    ['bundler', 'ESNext', 'Bundler'],
    ['node10', 'ESNext', 'Node10'],
  ]) {
    // default `types` (every @types package installed): tfjs-core's own declarations need @types/long
    const config = `tsconfig.${name}.tfjs.json`;
    writeFileSync(
      join(app, config),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          skipLibCheck: false,
          noUncheckedIndexedAccess: true,
          module,
          moduleResolution,
          lib: ['ES2022', 'DOM'],
        },
        files: ['app-tfjs.ts'],
      }),
    );
    const r = spawnSync(process.execPath, [tsc, '-p', config], { cwd: app, encoding: 'utf8' });
    if (r.status !== 0) failures.push(`${name}: ${r.stdout}${r.stderr}`);
  }
  assert.equal(failures, []);
});

test.run();
