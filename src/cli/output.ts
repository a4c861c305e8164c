// Text output of experiment results: title, settings, tables, findings.
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
