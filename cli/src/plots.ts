// Vega-Lite specifications for the experiments' plots, as plain objects with their data
// inline. Nothing here loads a plotting library: report.ts compiles and renders them only
// when --out is given.
type Row = Record<string, number | string>;

export interface AxisSpec {
  field: string;
  title: string;
  scale?: Record<string, unknown>;
  values?: number[];
  format?: string;
  /** Vega expression for tick labels (e.g. fractions). */
  labelExpr?: string;
}

export interface LineChart {
  title: string;
  data: Row[];
  x: AxisSpec;
  y: AxisSpec;
  /** Field naming the series: drawn in colour, with a legend titled `legend`. */
  series: string;
  legend: string;
  /** Series drawn dashed without points (reference lines). */
  dashed?: string[];
}

const common = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 440, height: 320, background: 'white' };

function axis(a: AxisSpec, type = 'quantitative'): Record<string, unknown> {
  return {
    field: a.field, type, title: a.title,
    ...(a.scale ? { scale: a.scale } : {}),
    axis: { ...(a.values ? { values: a.values } : {}), format: a.format ?? '~g', ...(a.labelExpr ? { labelExpr: a.labelExpr } : {}), titleFontSize: 12 },
  };
}

export function lineChart(c: LineChart): Record<string, unknown> {
  const dashed = c.dashed ?? [];
  const order = [...new Set(c.data.map((r) => String(r[c.series])))];
  const color = { field: c.series, type: 'nominal', title: c.legend, scale: { domain: order }, legend: { orient: 'right', labelLimit: 260, titleLimit: 260 } };
  // reference curves dashed; same field and title as the colour, so Vega-Lite merges the legends
  const dash = { field: c.series, type: 'nominal', title: c.legend, legend: { orient: 'right', labelLimit: 260, titleLimit: 260 }, scale: { domain: order, range: order.map((s) => (dashed.includes(s) ? [6, 4] : [1, 0])) } };
  return {
    ...common,
    title: { text: c.title, fontSize: 13 },
    data: { values: c.data },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: { x: axis(c.x), y: axis(c.y), color, ...(dashed.length ? { strokeDash: dash } : {}), tooltip: [{ field: c.x.field }, { field: c.y.field }, { field: c.series }] },
  };
}

export interface BarChart {
  title: string;
  data: Row[];
  /** Category on the x axis, groups within it (coloured, with legend), facet column. */
  x: { field: string; title: string };
  y: AxisSpec;
  group: { field: string; title: string };
  facet?: { field: string; title: string };
}

export function groupedBarChart(c: BarChart): Record<string, unknown> {
  return {
    ...common,
    width: 260,
    title: { text: c.title, fontSize: 13 },
    data: { values: c.data },
    mark: { type: 'bar' },
    encoding: {
      x: { field: c.x.field, type: 'nominal', title: c.x.title, sort: null, axis: { labelAngle: 0, labelLimit: 120 } },
      xOffset: { field: c.group.field, type: 'nominal', sort: null },
      y: axis(c.y),
      color: { field: c.group.field, type: 'nominal', title: c.group.title, sort: null, legend: { orient: 'right', labelLimit: 260, titleLimit: 260 } },
      ...(c.facet ? { column: { field: c.facet.field, type: 'nominal', title: c.facet.title, sort: null } } : {}),
      tooltip: [{ field: c.x.field }, { field: c.group.field }, { field: c.y.field }],
    },
  };
}

/** Tick labels 1/16, 1/4, 1/2 for the tau2/n sweep. */
export const FRACTION_LABELS = "datum.value === 0.0625 ? '1/16' : datum.value === 0.25 ? '1/4' : datum.value === 0.5 ? '1/2' : datum.label";
