// Vega-Lite specifications for the experiments' plots, as plain objects with their data
// inline. Nothing here loads a plotting library: report.ts compiles and renders them only
// when --out is given.
//
// Every plot: the Okabe-Ito palette (distinguishable with the common colour-vision
// deficiencies), a marker shape per colour and dashes where the caller asks (so series stay
// apart in grey scale too), the legend inside the plot area on a white box, and
// quantitative axes that end at the data (explicit domains, `nice: false`: no empty padded
// decades), except that a log axis ends at the 1-2-5 values just outside the data and is
// labelled there, so its ticks cover the data at both ends. Many series: small multiples
// (`facet`, one panel per group, a few series each). report.html scales each SVG to the
// page's full width.
type Row = Record<string, number | string>;

/** Okabe & Ito (2008), ordered for contrast on white; the yellow last. */
export const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#F0E442',
];
/** One marker shape per colour. */
export const SHAPES = [
  'circle',
  'square',
  'triangle-up',
  'diamond',
  'cross',
  'triangle-down',
  'triangle-right',
  'triangle-left',
];
const DASH = [6, 4];

export type LegendCorner = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

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
  /** Field naming the series: each gets a colour and a marker, listed in a legend titled `legend`. */
  series: string;
  legend: string;
  /** Series drawn dashed (reference lines, or one of two families). */
  dashed?: string[];
  /**
   * Series sharing a key share colour and marker (default: each series its own). With
   * `dashed`, eight series can read as four colours x solid/dashed.
   */
  colorKey?: (series: string) => string;
  /** Where the legend sits inside the plot (default top-right): the corner the data leave empty. */
  legendCorner?: LegendCorner;
  /**
   * Small multiples: one panel per value of this field (in order of appearance), `columns`
   * per row (default all), on shared axes; the series' legend sits below the panels.
   */
  facet?: { field: string; columns?: number };
}

const common = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  width: 700,
  height: 380,
  background: 'white',
  config: { font: 'system-ui, sans-serif', axis: { labelFontSize: 12, titleFontSize: 13 } },
};

/**
 * Legend box size in pixels, estimated from its entries: 12 px text at up to 9 px per
 * character (wide fallback fonts; 10 for the bold title), a 24 px symbol column, 8 px
 * padding, 18 px lines. An overestimate only moves the legend a little further in.
 */
function legendSize(title: string, labels: string[]): [number, number] {
  let chars = 0;
  for (const l of labels) chars = Math.max(chars, l.length);
  return [16 + Math.max(10 * title.length, 24 + 9 * chars), 16 + 20 + 18 * labels.length];
}

/**
 * The place inside a plot where the legend box covers the fewest of the given sample
 * points (x, y in [0, 1], y up: the points of every series and points along its segments,
 * or over the bars): the four corners first (ties keep the earlier: top-right, top-left,
 * bottom-right, bottom-left), then a 5 x 5 grid of other positions. Returns the box's
 * top-left corner in pixels from the plot's top-left corner, for `orient: 'none'`, and
 * the corner's name when it is one (Vega then aligns the legend exactly).
 */
export function emptiestPlace(
  samples: [number, number][],
  box: [number, number],
  plot: [number, number],
): { x: number; y: number; covered: number; corner?: LegendCorner } {
  const w = Math.min(1, (box[0] + 12) / plot[0]),
    h = Math.min(1, (box[1] + 12) / plot[1]);
  const steps = [0, 0.25, 0.5, 0.75, 1];
  const places: [number, number][] = [
    [1 - w, 1 - h],
    [0, 1 - h],
    [1 - w, 0],
    [0, 0],
  ];
  for (const i of steps) for (const j of steps) places.push([i * (1 - w), (1 - j) * (1 - h)]);
  let best = places[0]!,
    fewest = Infinity;
  for (const [x0, y0] of places) {
    let n = 0;
    for (const [x, y] of samples) if (x >= x0 && x <= x0 + w && y >= y0 && y <= y0 + h) n++;
    if (n < fewest) {
      fewest = n;
      best = [x0, y0];
    }
  }
  const corner =
    places.indexOf(best) < 4
      ? (['top-right', 'top-left', 'bottom-right', 'bottom-left'] as const)[places.indexOf(best)]
      : undefined;
  return { x: best[0] * plot[0] + 6, y: (1 - best[1] - h) * plot[1] + 6, covered: fewest, corner };
}

/** Position on a scale, normalised to [0, 1] over the domain. */
function normaliser(
  scale: Record<string, unknown> | undefined,
  domain: [number, number] | undefined,
): (v: number) => number {
  const type = scale?.type;
  const c = typeof scale?.constant === 'number' ? scale.constant : 1;
  const f =
    type === 'log'
      ? Math.log10
      : type === 'symlog'
        ? (v: number) => Math.sign(v) * Math.log1p(Math.abs(v) / c)
        : (v: number) => v;
  if (!domain) return () => 0.5;
  const a = f(domain[0]),
    b = f(domain[1]);
  return (v) => (b === a ? 0.5 : (f(v) - a) / (b - a));
}

function legend(
  place: LegendCorner | { x: number; y: number; corner?: LegendCorner } = 'top-right',
): Record<string, unknown> {
  const orient = typeof place === 'string' ? place : place.corner;
  return {
    ...(orient
      ? { orient }
      : {
          orient: 'none',
          legendX: Math.round((place as { x: number }).x),
          legendY: Math.round((place as { y: number }).y),
        }),
    offset: 8,
    padding: 8,
    cornerRadius: 3,
    fillColor: 'rgba(255,255,255,0.92)',
    strokeColor: '#999',
    labelLimit: 560,
    titleLimit: 560,
    labelFontSize: 12,
    titleFontSize: 12,
    symbolStrokeWidth: 2,
    symbolSize: 90,
  };
}

/** [min, max] of the finite (and for log scales positive) values of a field. */
export function extent(data: Row[], field: string, log: boolean): [number, number] | undefined {
  let lo = Infinity,
    hi = -Infinity;
  for (const r of data) {
    const v = r[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || (log && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) return undefined;
  if (lo === hi) return log ? [lo / 2, hi * 2] : [lo - 1, hi + 1];
  return [lo, hi];
}

/** At most this many labelled ticks on a log axis from the 1-2-5 sequence; beyond, decades and the two ends. */
const MAX_LOG_TICKS = 10;

/**
 * A log axis over [lo, hi] (0 < lo <= hi): the domain from the largest 1-2-5 value
 * (1, 2 or 5 times a power of ten) at most lo to the smallest at least hi, and the labelled
 * ticks: every 1-2-5 value in it when there are at most MAX_LOG_TICKS, else the decades and
 * both ends. So the lowest tick is at or below the smallest value, the highest at or above
 * the largest.
 */
export function logAxisTicks(lo: number, hi: number): { domain: [number, number]; values: number[] } {
  const steps = [1, 2, 5];
  const below = (v: number) => {
    const e = Math.floor(Math.log10(v));
    let best = 10 ** (e - 1) * 5;
    for (const k of steps) if (k * 10 ** e <= v * (1 + 1e-12)) best = k * 10 ** e;
    return +best.toPrecision(12);
  };
  const above = (v: number) => {
    const e = Math.floor(Math.log10(v));
    for (const k of steps) if (k * 10 ** e >= v * (1 - 1e-12)) return +(k * 10 ** e).toPrecision(12);
    return +(10 ** (e + 1)).toPrecision(12);
  };
  // one value: the 1-2-5 values on either side of it
  const a = lo === hi ? below(lo / 1.5) : below(lo),
    b = lo === hi ? above(hi * 1.5) : above(hi);
  const all: number[] = [];
  for (let e = Math.floor(Math.log10(a)); e <= Math.ceil(Math.log10(b)); e++) {
    for (const k of steps) {
      const v = +(k * 10 ** e).toPrecision(12);
      if (v >= a && v <= b) all.push(v);
    }
  }
  const decades = all.filter(
    (v, i) => i === 0 || i === all.length - 1 || Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9,
  );
  return { domain: [a, b], values: all.length <= MAX_LOG_TICKS ? all : decades };
}

/**
 * The end of a bar chart's value axis: the first multiple of a 1-2-5 step (at least a sixth
 * of the largest bar) at or above it, so the tallest bar ends under a labelled tick rather
 * than at the frame (3 stays 3, 0.37 becomes 0.4, 3.4 becomes 4).
 */
export function barAxisTop(top: number): number {
  if (!(top > 0)) return top;
  const e = Math.floor(Math.log10(top / 6));
  let step = 10 ** (e + 1);
  for (const k of [1, 2, 5])
    if (k * 10 ** e >= top / 6) {
      step = k * 10 ** e;
      break;
    }
  return +(Math.ceil(top / step - 1e-9) * step).toPrecision(12);
}

function axis(a: AxisSpec, data: Row[], type = 'quantitative', zeroBased = false): Record<string, unknown> {
  const log = a.scale?.type === 'log';
  const ext = extent(data, a.field, log);
  const ticks = log && ext && !a.values ? logAxisTicks(ext[0], ext[1]) : undefined;
  const domain = ticks
    ? ticks.domain
    : ext && zeroBased
      ? [Math.min(0, ext[0]), barAxisTop(Math.max(0, ext[1]))]
      : ext;
  const values = a.values ?? ticks?.values;
  return {
    field: a.field,
    type,
    title: a.title,
    scale: {
      ...(a.scale ?? {}),
      ...(domain ? { domain } : {}),
      nice: false,
      ...(log ? {} : { zero: zeroBased }),
    },
    axis: {
      ...(values ? { values } : {}),
      format: a.format ?? '~g',
      ...(a.labelExpr ? { labelExpr: a.labelExpr } : {}),
      titleFontSize: 13,
      grid: true,
    },
  };
}

/** Width and height of one small-multiple panel. */
const PANEL: [number, number] = [320, 300];

export function lineChart(c: LineChart): Record<string, unknown> {
  const dashed = c.dashed ?? [];
  const order = [...new Set(c.data.map((r) => String(r[c.series])))];
  const keyOf = c.colorKey ?? ((s: string) => s);
  const keys = [...new Set(order.map(keyOf))];
  const index = (s: string) => keys.indexOf(keyOf(s)) % PALETTE.length;
  const x = axis(c.x, c.data),
    y = axis(c.y, c.data);
  const lg = c.facet
    ? {
        ...legend('top-right'),
        orient: 'bottom',
        direction: 'horizontal',
        columns: Math.min(order.length, 4),
        fillColor: null,
        strokeColor: null,
      }
    : legend(
        c.legendCorner ??
          emptiestPlace(lineSamples(c, x, y, order), legendSize(c.legend, order), [
            common.width,
            common.height,
          ]),
      );
  // colour, marker and dash all encode the series with one title: Vega-Lite merges them into one legend
  const color = {
    field: c.series,
    type: 'nominal',
    title: c.legend,
    scale: { domain: order, range: order.map((s) => PALETTE[index(s)]) },
    legend: lg,
  };
  // with a colorKey, the marker is the series' rank within its colour group (as the dash is
  // its family), so no two series share both colour and marker
  const rank = (s: string) => order.filter((t) => keyOf(t) === keyOf(s)).indexOf(s);
  const marker = (s: string) => SHAPES[(c.colorKey ? rank(s) : index(s)) % SHAPES.length];
  const shape = {
    field: c.series,
    type: 'nominal',
    title: c.legend,
    scale: { domain: order, range: order.map(marker) },
    legend: lg,
  };
  const strokeDash = {
    field: c.series,
    type: 'nominal',
    title: c.legend,
    scale: { domain: order, range: order.map((s) => (dashed.includes(s) ? DASH : [1, 0])) },
    legend: lg,
  };
  const encoding = {
    x,
    y,
    color,
    tooltip: [{ field: c.x.field }, { field: c.y.field }, { field: c.series }],
  };
  const layer = [
    { mark: { type: 'line', strokeWidth: 2 }, encoding: { strokeDash } },
    { mark: { type: 'point', filled: true, size: 60, opacity: 1 }, encoding: { shape } },
  ];
  if (c.facet) {
    const panels = [...new Set(c.data.map((r) => String(r[c.facet!.field])))];
    const { width: _w, height: _h, ...rest } = common;
    return {
      ...rest,
      title: { text: c.title, fontSize: 14 },
      data: { values: c.data },
      facet: {
        field: c.facet.field,
        type: 'nominal',
        title: null,
        sort: panels,
        header: { labelFontSize: 13, labelFontWeight: 'bold', titleFontSize: 13 },
      },
      columns: c.facet.columns ?? panels.length,
      spacing: 16,
      spec: { width: PANEL[0], height: PANEL[1], encoding, layer },
    };
  }
  return { ...common, title: { text: c.title, fontSize: 14 }, data: { values: c.data }, encoding, layer };
}

/** Points of every series and 16 points along each of its segments, normalised to the plot. */
function lineSamples(
  c: LineChart,
  x: Record<string, unknown>,
  y: Record<string, unknown>,
  order: string[],
): [number, number][] {
  const xs = x.scale as Record<string, unknown>,
    ys = y.scale as Record<string, unknown>;
  const nx = normaliser(xs, xs.domain as [number, number]),
    ny = normaliser(ys, ys.domain as [number, number]);
  const out: [number, number][] = [];
  for (const s of order) {
    const pts = c.data
      .filter(
        (r) =>
          String(r[c.series]) === s && typeof r[c.x.field] === 'number' && typeof r[c.y.field] === 'number',
      )
      .map((r) => [nx(r[c.x.field] as number), ny(r[c.y.field] as number)] as [number, number])
      .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b))
      .sort((p, q) => p[0] - q[0]);
    pts.forEach((p, i) => {
      out.push(p);
      const q = pts[i + 1];
      if (q)
        for (let k = 1; k < 16; k++)
          out.push([p[0] + ((q[0] - p[0]) * k) / 16, p[1] + ((q[1] - p[1]) * k) / 16]);
    });
  }
  return out;
}

export interface BarChart {
  title: string;
  data: Row[];
  /** Category on the x axis, groups within it (coloured, with legend), facet column. */
  x: { field: string; title: string };
  y: AxisSpec;
  group: { field: string; title: string };
  facet?: { field: string; title: string };
  legendCorner?: LegendCorner;
}

/** Sample points over the bars of one chart cell, normalised (x across the categories, y from 0 to the bar's top). */
function barSamples(
  rows: Row[],
  c: BarChart,
  categories: string[],
  groups: string[],
  top: number,
): [number, number][] {
  const out: [number, number][] = [];
  const k = categories.length,
    g = groups.length;
  for (const r of rows) {
    const i = categories.indexOf(String(r[c.x.field])),
      j = groups.indexOf(String(r[c.group.field]));
    const v = r[c.y.field];
    if (i < 0 || j < 0 || typeof v !== 'number' || !(top > 0)) continue;
    for (let a = 0; a <= 8; a++) {
      const x = (i + 0.1 + (0.8 * (j + a / 8)) / g) / k;
      for (let b = 0; b <= 12; b++) out.push([x, (Math.max(0, v) / top) * (b / 12)]);
    }
  }
  return out;
}

const FACET_SPACING = 24;

export function groupedBarChart(c: BarChart): Record<string, unknown> {
  const groups = [...new Set(c.data.map((r) => String(r[c.group.field])))];
  const categories = [...new Set(c.data.map((r) => String(r[c.x.field])))];
  const y = axis(c.y, c.data, 'quantitative', true);
  const top = ((y.scale as Record<string, unknown>).domain as number[] | undefined)?.[1] ?? 1;
  const width = c.facet ? 340 : common.width,
    height = common.height;
  const box = legendSize(c.group.title, groups);
  // the legend goes where it covers the fewest bars, in the facet cell where that is fewest
  // (placed in pixels from the first cell's top-left corner; cells are width + FACET_SPACING apart)
  const cells = c.facet ? [...new Set(c.data.map((r) => String(r[c.facet!.field])))] : [''];
  let best: { x: number; y: number; covered: number; corner?: LegendCorner } = {
    x: 0,
    y: 0,
    covered: Infinity,
  };
  cells.forEach((cell, f) => {
    const rows = c.facet ? c.data.filter((r) => String(r[c.facet!.field]) === cell) : c.data;
    const p = emptiestPlace(barSamples(rows, c, categories, groups, top), box, [width, height]);
    if (p.covered < best.covered)
      best = {
        x: p.x + f * (width + FACET_SPACING),
        y: p.y,
        covered: p.covered,
        ...(c.facet ? {} : { corner: p.corner }),
      };
  });
  const lg = legend(c.legendCorner ?? best);
  return {
    ...common,
    width,
    title: { text: c.title, fontSize: 14 },
    data: { values: c.data },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: c.x.field,
        type: 'nominal',
        title: c.x.title,
        sort: null,
        axis: { labelAngle: 0, labelLimit: 160 },
      },
      xOffset: { field: c.group.field, type: 'nominal', sort: null },
      y,
      color: {
        field: c.group.field,
        type: 'nominal',
        title: c.group.title,
        sort: null,
        scale: { domain: groups, range: groups.map((_, i) => PALETTE[i % PALETTE.length]) },
        legend: lg,
      },
      ...(c.facet
        ? {
            column: {
              field: c.facet.field,
              type: 'nominal',
              title: c.facet.title,
              sort: null,
              spacing: FACET_SPACING,
            },
          }
        : {}),
      tooltip: [{ field: c.x.field }, { field: c.group.field }, { field: c.y.field }],
    },
  };
}

/** Tick labels 1/16, 1/4, 1/2 for the tau2/n sweep. */
export const FRACTION_LABELS =
  "datum.value === 0.0625 ? '1/16' : datum.value === 0.25 ? '1/4' : datum.value === 0.5 ? '1/2' : datum.label";

export interface SpectrumChart {
  title: string;
  /** Eigenvalues, each in descending order: the estimate's and the reference's (X'X/rows). */
  estimated: ArrayLike<number>;
  reference: ArrayLike<number>;
  estimatedLabel: string;
  referenceLabel: string;
  /** Lower and upper ends of the estimate's error band at each index, when there is one. */
  band?: { lower: ArrayLike<number>; upper: ArrayLike<number>; label: string };
}

/**
 * Eigenvalue i against i for an estimate (with its error band, a shaded area) and a
 * reference spectrum (dashed). A log y axis when every value drawn is positive, else linear.
 */
export function spectrumChart(c: SpectrumChart): Record<string, unknown> {
  const rows: Row[] = [];
  const k = c.estimated.length;
  for (let i = 0; i < k; i++) {
    rows.push({ i: i + 1, series: c.estimatedLabel, value: c.estimated[i]! });
    rows.push({ i: i + 1, series: c.referenceLabel, value: c.reference[i]! });
  }
  let positive = true;
  for (const r of rows) if (!((r.value as number) > 0)) positive = false;
  const bandRows: Row[] = [];
  if (c.band) {
    for (let i = 0; i < k; i++) {
      const lo = c.band.lower[i]!,
        hi = c.band.upper[i]!;
      if (positive && !(lo > 0)) continue; // a band reaching 0 is cut at the bottom of a log axis
      bandRows.push({ i: i + 1, series: c.band.label, value: lo, upper: hi });
    }
  }
  const all = [
    ...rows,
    ...bandRows.map((r) => ({ ...r, value: r.value })),
    ...bandRows.map((r) => ({ ...r, value: r.upper as number })),
  ];
  const x = axis(
    {
      field: 'i',
      title: 'eigenvalue index i (largest first)',
      format: 'd',
      ...(k <= 12 ? { values: Array.from({ length: k }, (_, i) => i + 1) } : {}),
    },
    all,
  );
  const y = axis(
    { field: 'value', title: 'eigenvalue', ...(positive ? { scale: { type: 'log' } } : {}) },
    all,
  );
  const series = [c.estimatedLabel, c.referenceLabel, ...(c.band ? [c.band.label] : [])];
  const colors = [PALETTE[0]!, PALETTE[6]!, PALETTE[4]!];
  // a spectrum falls from top-left to bottom-right: the bottom-left corner is empty
  const lg = { ...legend('bottom-left'), symbolOpacity: 1 };
  const color = {
    field: 'series',
    type: 'nominal',
    title: 'spectrum',
    scale: { domain: series, range: colors.slice(0, series.length) },
    legend: lg,
  };
  const lines = rows.length
    ? [
        {
          data: { values: rows },
          mark: { type: 'line', strokeWidth: 2 },
          encoding: {
            x,
            y,
            color,
            strokeDash: {
              field: 'series',
              type: 'nominal',
              scale: { domain: [c.estimatedLabel, c.referenceLabel], range: [[1, 0], DASH] },
              legend: null,
            },
          },
        },
        {
          data: { values: rows },
          mark: { type: 'point', filled: true, size: k <= 40 ? 50 : 12, opacity: 1 },
          encoding: {
            x,
            y,
            color,
            shape: {
              field: 'series',
              type: 'nominal',
              scale: { domain: [c.estimatedLabel, c.referenceLabel], range: [SHAPES[0], SHAPES[1]] },
              legend: null,
            },
          },
        },
      ]
    : [];
  return {
    ...common,
    title: { text: c.title, fontSize: 14 },
    layer: [
      // a band of a few eigenvalues is a thick bar at each (an area between few points reads as a line)
      ...(bandRows.length
        ? [
            {
              data: { values: bandRows },
              mark:
                k <= 40
                  ? { type: 'rule', strokeWidth: 10, opacity: 0.7, strokeCap: 'round' }
                  : { type: 'area', opacity: 0.5 },
              encoding: { x, y, y2: { field: 'upper' }, color },
            },
          ]
        : []),
      ...lines,
    ],
  };
}

export interface HeatMaps {
  title: string;
  /** Row and column names (the features). */
  names: string[];
  /** The matrices (row-major, names.length square), one panel each, on one colour scale. */
  matrices: { label: string; values: ArrayLike<number> }[];
}

/** Up to this many features, the heat map's axes name every feature. */
const HEATMAP_LABELS = 40;

/**
 * Side-by-side heat maps of square matrices on one diverging colour scale, symmetric about
 * zero (blue negative, red positive), so equal colours are equal entries across panels.
 */
export function heatMaps(c: HeatMaps): Record<string, unknown> {
  const d = c.names.length;
  const rows: Row[] = [];
  let top = 0;
  for (const m of c.matrices) {
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const v = m.values[i * d + j]!;
        if (Math.abs(v) > top) top = Math.abs(v);
        rows.push({ matrix: m.label, row: c.names[i]!, col: c.names[j]!, value: v });
      }
    }
  }
  const size = Math.max(280, Math.min(400, 14 * d));
  const labels = d <= HEATMAP_LABELS;
  const band = (field: string, title: string) => ({
    field,
    type: 'ordinal',
    title,
    sort: c.names,
    // column labels vertical: rotated by 45 degrees they reach left of the panel and push the row axis away
    axis: labels
      ? { labelAngle: field === 'col' ? -90 : 0, labelLimit: 120, labelFontSize: d > 20 ? 9 : 12 }
      : { labels: false, ticks: false },
  });
  const { width: _w, height: _h, ...rest } = common;
  return {
    ...rest,
    title: { text: c.title, fontSize: 14 },
    data: { values: rows },
    facet: {
      field: 'matrix',
      type: 'nominal',
      title: null,
      sort: c.matrices.map((m) => m.label),
      header: { labelFontSize: 13, labelFontWeight: 'bold' },
    },
    columns: c.matrices.length,
    spacing: 24,
    spec: {
      width: size,
      height: size,
      mark: { type: 'rect' },
      encoding: {
        x: band('col', 'feature'),
        y: band('row', 'feature'),
        color: {
          field: 'value',
          type: 'quantitative',
          title: 'entry',
          scale: { scheme: 'redblue', reverse: true, domain: [-(top || 1), top || 1] },
          legend: { orient: 'right', gradientLength: Math.min(size, 200) },
        },
        tooltip: [{ field: 'row' }, { field: 'col' }, { field: 'value', format: '.4g' }],
      },
    },
  };
}
