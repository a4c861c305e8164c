// Output of experiment results: as text (title, settings, tables, findings) and as the JSON
// that --json prints and results.json holds.
import { formatTable } from './table.js';
import type { ExperimentResult } from './experiments/types.js';

export function formatSettings(s: ExperimentResult['settings']): string {
  return Object.entries(s).map(([k, v]) => `${k} = ${Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? +x.toFixed(4) : x)).join(',') : v}`).join('; ');
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
    tool: 'gradcov', version: input.version, command: input.command,
    experiments: input.results.map((r) => ({
      name: r.name, title: r.title, settings: r.settings, findings: r.findings,
      tables: r.tables.map((t) => ({ title: t.title, columns: t.columns, rows: t.rows })),
      plots: r.plots.map((p) => ({ file: `${r.name}-${p.name}.svg`, caption: p.caption, data: (p.spec.data as { values: unknown[] }).values })),
      ...(r.wallClock ? { wallClock: r.wallClock } : {}),
    })),
  };
}

