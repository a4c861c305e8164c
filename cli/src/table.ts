// Markdown tables for the terminal and the README: right-aligned, fixed decimals, the
// smallest value of chosen columns marked with `*`.
import type { ResultTable, Cell } from './experiments/types.js';

function formatCell(v: Cell, digits: number): string {
  if (v === null) return '-';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return v.toFixed(digits);
}

export function formatTable(t: ResultTable): string {
  const digits = t.digits ?? 3;
  const best = new Map<number, number>();
  for (const c of t.markMinimum ?? []) {
    let bi = -1;
    t.rows.forEach((r, i) => {
      const v = r[c];
      if (typeof v === 'number' && (bi < 0 || v < (t.rows[bi]![c] as number))) bi = i;
    });
    if (bi >= 0) best.set(c, bi);
  }
  const cells = t.rows.map((r, i) =>
    r.map((v, c) => formatCell(v, digits) + (best.get(c) === i ? ' *' : '')),
  );
  const width = t.columns.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]?.length ?? 0)));
  const line = (r: string[]) => '| ' + r.map((v, c) => v.padStart(width[c]!)).join(' | ') + ' |';
  return [
    line(t.columns),
    '|' + width.map((w) => '-'.repeat(w + 2)).join('|') + '|',
    ...cells.map(line),
  ].join('\n');
}
