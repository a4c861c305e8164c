// Helpers for the CLI tests: run the built `gradcov` bin of the workspace package cli/
// (cli/dist/index.js, what `npm run build` makes and the CLI tarball ships) and capture its
// exit code, stdout and stderr; write small CSV files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../cli/dist/index.js', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function gradcov(...args: string[]): Run {
  return gradcovNode([], ...args);
}

/** Runs the bin with Node options first (e.g. `--max-old-space-size=64`). */
export function gradcovNode(nodeArgs: string[], ...args: string[]): Run {
  const r = spawnSync(process.execPath, [...nodeArgs, CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 1 << 26,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix = 'gradcov-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** y = 2a - b + c/2 + noise over 400 rows, deterministic (a small LCG), 4 decimals. */
export function regressionCsv(): string[] {
  let s = 12345;
  const u = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  const lines = ['a,b,c,y'];
  for (let i = 0; i < 400; i++) {
    const a = u() * 3,
      b = u() * 3,
      c = u() * 3;
    lines.push([a, b, c, 2 * a - b + 0.5 * c + 0.3 * u()].map((v) => v.toFixed(4)).join(','));
  }
  return lines;
}

export function writeCsv(dir: string, name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
