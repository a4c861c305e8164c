// What a reviewer checks in a figure, on its Vega-Lite spec: every value drawn lies inside
// its axis's domain; a log axis is labelled at or beyond both ends of its data; within one
// panel no two series share colour and marker (a colour alone where there are no markers).
// Returns the problems found, one line each (empty: the figure passes).
type Obj = Record<string, any>;

function numbers(rows: Obj[], field: string, log: boolean): number[] {
  const out: number[] = [];
  for (const r of rows) {
    const v = r[field];
    if (typeof v === 'number' && Number.isFinite(v) && (!log || v > 0)) out.push(v);
  }
  return out;
}

/** The problems of one spec (plain, layered or faceted), named `name` in the messages. */
export function figureProblems(name: string, spec: Obj): string[] {
  const problems: string[] = [];
  const visit = (node: Obj, inherited: Obj, data: Obj[]) => {
    const rows: Obj[] = node.data?.values ?? data;
    const enc: Obj = { ...inherited, ...(node.encoding ?? {}) };
    if (node.spec) visit(node.spec, enc, rows);
    if (node.layer) for (const l of node.layer) visit(l, enc, rows);
    if (!node.mark) return;
    for (const ch of ['x', 'y']) {
      const e = enc[ch];
      if (!e || e.type !== 'quantitative' || !e.field) continue;
      const log = e.scale?.type === 'log';
      const vals = [
        ...numbers(rows, e.field, log),
        ...(enc[`${ch}2`]?.field ? numbers(rows, enc[`${ch}2`].field, log) : []),
      ];
      if (!vals.length) continue;
      const lo = Math.min(...vals),
        hi = Math.max(...vals);
      const dom = e.scale?.domain as number[] | undefined;
      const tol = dom ? 1e-9 * (Math.abs(dom[0]!) + Math.abs(dom[1]!)) : 0;
      if (dom && (lo < dom[0]! - tol || hi > dom[1]! + tol)) {
        problems.push(`${name}: ${ch} (${e.field}) data [${lo}, ${hi}] outside the axis domain [${dom}]`);
      }
      const ticks = e.axis?.values as number[] | undefined;
      if (log && (!ticks || Math.min(...ticks) > lo * (1 + 1e-9) || Math.max(...ticks) < hi * (1 - 1e-9))) {
        problems.push(
          `${name}: log ${ch} axis (${e.field}) labelled at [${ticks ? [Math.min(...ticks), Math.max(...ticks)] : 'default ticks'}] does not cover its data [${lo}, ${hi}]`,
        );
      }
    }
    // each series' colour, marker and dash, gathered over the layers that draw it
    const color = enc.color;
    if (
      color?.type === 'nominal' &&
      Array.isArray(color.scale?.domain) &&
      Array.isArray(color.scale?.range)
    ) {
      const drawn = new Set(rows.map((r) => String(r[color.field])));
      color.scale.domain.forEach((s: string, i: number) => {
        if (!drawn.has(s)) return;
        const look = series.get(s) ?? {};
        look.color = color.scale.range[i];
        for (const [ch, key] of [
          ['shape', 'marker'],
          ['strokeDash', 'dash'],
        ] as const) {
          const e = enc[ch];
          const j =
            e?.field === color.field && Array.isArray(e.scale?.domain) ? e.scale.domain.indexOf(s) : -1;
          if (j >= 0) look[key] = JSON.stringify(e.scale.range[j]);
        }
        series.set(s, look);
      });
    }
  };
  let series = new Map<string, { color?: string; marker?: string; dash?: string }>();
  const distinct = (panel: string) => {
    const markers = [...series.values()].some((l) => l.marker !== undefined);
    const seen = new Map<string, string>();
    for (const [s, l] of series) {
      const key = markers
        ? `colour ${l.color} and marker ${l.marker}`
        : `colour ${l.color}${l.dash ? ` and dash ${l.dash}` : ''}`;
      if (seen.has(key)) problems.push(`${name}${panel}: series "${seen.get(key)}" and "${s}" share ${key}`);
      else seen.set(key, s);
    }
    series = new Map();
  };
  const facet = spec.facet?.field as string | undefined;
  const all: Obj[] = spec.data?.values ?? [];
  if (facet) {
    // one panel at a time: the series of a panel must be told apart within it
    for (const p of new Set(all.map((r) => String(r[facet])))) {
      visit({ ...spec, data: { values: all.filter((r) => String(r[facet]) === p) } }, {}, []);
      distinct(` (panel ${p})`);
    }
  } else {
    visit(spec, {}, all);
    distinct('');
  }
  return [...new Set(problems)];
}
