// The product as a user installs it: both packages packed (`npm pack`, as published) and
// installed with npm into an empty project in a temporary folder, once per test process.
// pack.test.ts runs every entry, the CLI and the types there; docs.test.ts runs every code
// block of the README and docs/ there. The project also has gradcov/bullmq's peers (bullmq,
// ioredis) and @types/node, at the versions pinned in this repository's devDependencies.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface PackInfo {
  filename: string;
  size: number;
  unpackedSize: number;
  files: string[];
  path: string;
}
export interface Installed {
  dir: string;
  app: string;
  lib: PackInfo;
  cli: PackInfo;
  packages: number;
  libOnlyPackages: number;
}

export const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });

function pack(dir: string, workspace?: string): PackInfo {
  // --ignore-scripts: `npm test` has just built dist/ and cli/dist (pretest); prepare would rebuild
  const args = [
    'pack',
    '--json',
    '--ignore-scripts',
    '--pack-destination',
    dir,
    ...(workspace ? ['-w', workspace] : []),
  ];
  const [info] = JSON.parse(npm(args, ROOT)) as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  }[];
  return {
    filename: info!.filename,
    size: info!.size,
    unpackedSize: info!.unpackedSize,
    files: info!.files.map((f) => f.path).sort(),
    path: join(dir, info!.filename),
  };
}

/** Counts the packages npm installed (every folder with a package.json under node_modules). */
function countPackages(app: string): number {
  const out = npm(['ls', '--all', '--parseable'], app).trim().split('\n');
  return out.length - 1; // the first line is the project itself
}

function emptyProject(dir: string, name: string): string {
  const app = join(dir, name);
  mkdirSync(app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: `gradcov-user-${name}`, private: true, type: 'module' }),
  );
  return app;
}

let installed: Installed | undefined;

/**
 * Packs both packages and installs them into an empty project (from npm's cache where it can:
 * `npm ci` of this repository has put every dependency there). Also installs the library
 * alone into a second project to count what a library user gets.
 */
export function install(): Installed {
  if (installed) return installed;
  const dir = mkdtempSync(join(tmpdir(), 'gradcov-installed-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const lib = pack(dir),
    cli = pack(dir, 'cli');
  const flags = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
  const libOnly = emptyProject(dir, 'library-only');
  npm(['install', ...flags, lib.path], libOnly);
  const app = emptyProject(dir, 'app');
  // a gradcov/bullmq user also installs its optional peers (bullmq, ioredis) and Node's types:
  // at the versions this repository pins, so the installed types are the ones tested here
  const dev = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    }
  ).devDependencies;
  const peers = ['bullmq', 'ioredis', '@types/node'].map((name) => `${name}@${dev[name]!}`);
  npm(['install', ...flags, '--save-exact', lib.path, cli.path, ...peers], app);
  installed = { dir, app, lib, cli, packages: countPackages(app), libOnlyPackages: countPackages(libOnly) };
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `  ${lib.filename}: ${kib(lib.size)} packed, ${kib(lib.unpackedSize)} unpacked, ${lib.files.length} files; installs ${installed.libOnlyPackages} packages (itself and its runtime dependencies)`,
  );
  console.log(
    `  ${cli.filename}: ${kib(cli.size)} packed, ${kib(cli.unpackedSize)} unpacked, ${cli.files.length} files; both together install ${installed.packages} packages`,
  );
  return installed;
}

const extra = new Map<string, string>();

/**
 * Another empty project with the packed library and `packages` (names of this repository's
 * devDependencies, installed at the versions pinned there), e.g. TF.js for gradcov/tfjs:
 * its optional peer @tensorflow/tfjs-core, as a TF.js user installs it. Once per name.
 */
export function installWith(name: string, packages: string[]): string {
  const { dir, lib } = install();
  const have = extra.get(name);
  if (have) return have;
  const dev = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    }
  ).devDependencies;
  const app = emptyProject(dir, name);
  npm(
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      '--save-exact',
      lib.path,
      ...packages.map((p) => `${p}@${dev[p]!}`),
    ],
    app,
  );
  extra.set(name, app);
  return app;
}
