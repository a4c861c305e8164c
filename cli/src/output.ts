// Output of experiment results: as text (title, settings, tables, findings) and as the JSON
// that --json prints and results.json holds.
import { checkOutPath } from './outdir.js';
import * as fs from 'node:fs';
import { formatTable } from './table.js';
import { UserError, terminalText } from './errors.js';

export { terminalText };
import type { ExperimentResult } from './experiments/types.js';

export function formatSettings(s: ExperimentResult['settings']): string {
  return Object.entries(s)
    .map(
      ([k, v]) =>
        `${k} = ${Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? +x.toFixed(4) : x)).join(',') : v}`,
    )
    .join('; ');
}

export function formatResult(r: ExperimentResult, seconds?: number): string {
  const out = [`## ${r.name}: ${r.title}`, `settings: ${formatSettings(r.settings)}`, ''];
  for (const t of r.tables) out.push(t.title, '', formatTable(t), '');
  if (r.findings.length) out.push(...r.findings.map((f) => `- ${f}`), '');
  if (seconds !== undefined) out.push(`(${seconds.toFixed(1)} s)`, '');
  return out.join('\n');
}

export interface ReportInput {
  command: string;
  version: string;
  results: ExperimentResult[];
}

/**
 * The JSON written to results.json (and printed by --json): every number; `wallClock`
 * names the parts that are wall-clock measurements (the distributed experiment's times).
 */
export function resultsJson(input: ReportInput): unknown {
  return {
    tool: 'gradcov',
    version: input.version,
    command: input.command,
    experiments: input.results.map((r) => ({
      name: r.name,
      title: r.title,
      settings: r.settings,
      findings: r.findings,
      tables: r.tables.map((t) => ({ title: t.title, columns: t.columns, rows: t.rows })),
      plots: r.plots.map((p) => ({
        file: `${r.name}-${p.name}.svg`,
        caption: p.caption,
        data: (p.spec.data as { values: unknown[] }).values,
      })),
      ...(r.wallClock ? { wallClock: r.wallClock } : {}),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Names from a user's file, escaped for each output; --out written whole or not at all.

/**
 * A CSV field per RFC 4180 for a name from the user's file: a cell a spreadsheet would run as
 * a formula (starting with =, +, -, @, tab or CR) gets a leading `'`; a field with a comma, a
 * quote, CR or LF is quoted with its quotes doubled.
 */
export function csvField(name: string): string {
  const s = /^[=+\-@\t\r]/.test(name) ? `'${name}` : name;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Text safe inside HTML elements and quoted attributes. */
export const htmlText = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Checks an --out directory before any work: it exists (or is created) as a directory, a
 * file can be created in it, and each named target is absent or a regular file (never a
 * symlink or a directory). Throws a UserError naming the path.
 */
export function checkOutDir(dir: string, files: readonly string[]): void {
  checkOutPath(dir); // a file where the directory should be: say so, not EEXIST
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new UserError(
      `--out ${terminalText(dir, 200)}: cannot create the directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (!fs.statSync(dir).isDirectory())
    throw new UserError(`--out ${terminalText(dir, 200)}: not a directory`);
  for (const f of files) checkTarget(dir, f);
  const probe = `${dir}/.gradcov-probe-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    fs.writeFileSync(probe, '', { flag: 'wx' });
  } catch (err) {
    throw new UserError(
      `--out ${terminalText(dir, 200)}: cannot write files there (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  } finally {
    fs.rmSync(probe, { force: true });
  }
}

function checkTarget(dir: string, file: string): void {
  let st;
  try {
    st = fs.lstatSync(`${dir}/${file}`);
  } catch {
    return; // absent: fine
  }
  if (st.isSymbolicLink())
    throw new UserError(
      `--out ${terminalText(dir, 200)}: ${file} is a symbolic link; gradcov does not write through links (remove it, or choose another --out)`,
    );
  if (!st.isFile())
    throw new UserError(`--out ${terminalText(dir, 200)}: ${file} exists and is not a regular file`);
}

/** Temporary files being written by writeAllOrNothing (removed on SIGINT by removePartialFiles). */
const partial = new Set<string>();

/** Removes every temporary file of a write in progress (the SIGINT handler calls it). */
export function removePartialFiles(): void {
  for (const p of partial) {
    try {
      fs.rmSync(p, { force: true });
    } catch {
      /* already gone */
    }
  }
  partial.clear();
}

/**
 * Writes every file to a new temporary file in `dir` (created exclusively: never through a
 * link), then, once all are written, renames each into place (a rename replaces a link
 * instead of following it). A failure before the renames removes every temporary file and
 * leaves the directory as it was.
 */
export function writeAllOrNothing(dir: string, files: readonly [name: string, content: string][]): void {
  for (const [name] of files) checkTarget(dir, name);
  const temps: [string, string][] = [];
  try {
    for (const [name, content] of files) {
      const tmp = `${dir}/.${name}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
      partial.add(tmp);
      temps.push([tmp, `${dir}/${name}`]);
      fs.writeFileSync(tmp, content, { flag: 'wx' });
    }
  } catch (err) {
    for (const [tmp] of temps) {
      fs.rmSync(tmp, { force: true });
      partial.delete(tmp);
    }
    throw new UserError(
      `--out ${terminalText(dir, 200)}: writing failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); no file was changed`,
    );
  }
  for (const [tmp, target] of temps) {
    fs.renameSync(tmp, target);
    partial.delete(tmp);
  }
}
