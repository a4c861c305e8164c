// The HTML report: files, self-containment, reproducibility of every number with the same
// seed, and rendering in headless Chromium without console errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gradcov, tempDir } from './cli.js';
import { browserSuite } from './browser.js';
import { lineChart, groupedBarChart, extent, logAxisTicks, PALETTE } from '../../cli/src/plots.js';

const SMALL = [
  '--dim',
  '5',
  '--rows',
  '1500',
  '--batches',
  '600',
  '--dims',
  '5,8',
  '--batches-per-dim',
  '30',
  '--quiet',
];
const dir = tempDir();
const outA = join(dir, 'a'),
  outB = join(dir, 'b');
const first = gradcov('experiment', 'all', ...SMALL, '--seed', '7', '--out', outA);
const EXPERIMENTS = [
  'calibration',
  'batches',
  'distributions',
  'dimension',
  'real-data',
  'preconditioning',
  'adversarial',
  'distributed',
  'unbiased',
  'scale',
];
/** The figures drawn as small multiples (one legend below the panels). */
const FACETED = ['unbiased-misfit.svg'];
const PLOTS = [
  'calibration-raw',
  'calibration-rescaled',
  'batches-error-vs-m',
  'distributions-sweep',
  'dimension-error-vs-dim',
  'real-data-errors',
  'preconditioning-iterations',
  'adversarial-errors',
  'distributed-wall-time',
  'unbiased-misfit',
  'scale-intervals',
];

interface Exp {
  name: string;
  findings: string[];
  tables: { columns: string[]; rows: unknown[][] }[];
  plots: { file: string }[];
  wallClock?: { columns?: string[]; plots?: string[]; findings?: number[] };
}

/** The experiments without their declared wall-clock parts (the only numbers a rerun cannot reproduce). */
function reproducible(experiments: Exp[]): Exp[] {
  return experiments.map((e) => {
    const wc = e.wallClock;
    if (!wc) return e;
    return {
      ...e,
      findings: e.findings.filter((_, i) => !wc.findings?.includes(i)),
      tables: e.tables.map((t) => {
        const keep = t.columns.map((c, i) => (wc.columns?.includes(c) ? -1 : i)).filter((i) => i >= 0);
        return {
          ...t,
          columns: keep.map((i) => t.columns[i]!),
          rows: t.rows.map((r) => keep.map((i) => r[i])),
        };
      }),
      plots: e.plots.filter((p) => !wc.plots?.some((name) => p.file === `${e.name}-${name}.svg`)),
    };
  });
}

const numbers = (v: unknown): number[] =>
  typeof v === 'number'
    ? [v]
    : Array.isArray(v)
      ? v.flatMap(numbers)
      : v && typeof v === 'object'
        ? Object.values(v).flatMap(numbers)
        : [];

test('--out writes report.html, results.json and one SVG per plot, each with axis titles and a legend', () => {
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stdout, /wrote 13 files/);
  assert.equal(
    readdirSync(outA).sort(),
    ['report.html', 'results.json', ...PLOTS.map((p) => `${p}.svg`)].sort(),
  );
  for (const p of PLOTS) {
    const svg = readFileSync(join(outA, `${p}.svg`), 'utf8');
    assert.ok(svg.startsWith('<svg'), p);
    assert.match(svg, /class="mark-text role-axis-title"/, `${p}: axis titles`);
    assert.match(svg, /role-legend/, `${p}: legend`);
    assert.match(svg, /\((unitless|count|multiples)/, `${p}: units in an axis title`);
  }
});

test('report.html of `all` opens with a table of contents: one link per experiment, each to its section', () => {
  const html = readFileSync(join(outA, 'report.html'), 'utf8');
  const nav = /<nav id="contents">(.*?)<\/nav>/s.exec(html);
  assert.ok(nav, 'a <nav id="contents">');
  assert.ok(
    html.indexOf('<nav id="contents">') < html.indexOf('<section'),
    'the contents come before the first section',
  );
  const links = [...nav![1]!.matchAll(/<a href="#([^"]+)">/g)].map((m) => m[1]);
  assert.equal(links, EXPERIMENTS);
  for (const id of links)
    assert.is((html.match(new RegExp(`<section id="${id}">`, 'g')) ?? []).length, 1, `section ${id}`);
  // a single experiment's report has no contents
  const one = join(dir, 'one');
  const r = gradcov('experiment', 'batches', ...SMALL, '--out', one);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(readFileSync(join(one, 'report.html'), 'utf8'), /<nav/);
});

test('plots in report.html scale to the full width: inline SVGs have width 100% and keep their viewBox', () => {
  const html = readFileSync(join(outA, 'report.html'), 'utf8');
  const svgs = html.match(/<svg[^>]*>/g) ?? [];
  assert.is(svgs.length, PLOTS.length);
  for (const tag of svgs) {
    assert.match(tag, / width="100%"/);
    assert.not.match(tag, / height="/);
    assert.match(tag, / viewBox="0 0 \d+(\.\d+)? \d+(\.\d+)?"/);
  }
  assert.match(html, /figure svg\{[^}]*width:100%/);
  // the SVG files keep their own size
  for (const p of PLOTS)
    assert.match(readFileSync(join(outA, `${p}.svg`), 'utf8'), /^<svg[^>]* width="\d+" height="\d+"/, p);
});

test('plot specs: legends inside the plot, axes ending at the data (no nice padding), the Okabe-Ito palette, markers and dashes', () => {
  const data = [1, 10, 100, 1000].flatMap((m, i) =>
    ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((s, j) => ({ m, error: (j + 1) / Math.sqrt(m) + i * 0, s })),
  );
  const spec = lineChart({
    title: 't',
    data,
    x: { field: 'm', title: 'm (count)', scale: { type: 'log' } },
    y: { field: 'error', title: 'e (unitless)', scale: { type: 'log' } },
    series: 's',
    legend: 'series',
    dashed: ['e', 'f', 'g', 'h'],
    colorKey: (s) => String('abcdefgh'.indexOf(s) % 4),
  }) as any;
  const enc = spec.encoding;
  assert.equal(enc.x.scale.domain, [1, 1000]);
  // a log axis ends at the 1-2-5 values around the data, and is labelled there
  const [lo, hi] = extent(data, 'error', true)!;
  assert.equal(enc.y.scale.domain, logAxisTicks(lo, hi).domain);
  assert.ok(
    enc.y.axis.values[0] <= lo && enc.y.axis.values.at(-1) >= hi,
    `ticks ${enc.y.axis.values} cover [${lo}, ${hi}]`,
  );
  assert.is(enc.x.scale.nice, false);
  assert.is(enc.y.scale.nice, false);
  const legend = enc.color.legend;
  assert.ok(
    legend.orient !== 'right' &&
      legend.orient !== 'left' &&
      legend.orient !== 'bottom' &&
      legend.orient !== 'top',
    `legend orient ${legend.orient}`,
  );
  if (legend.orient === 'none')
    assert.ok(
      legend.legendX >= 0 &&
        legend.legendX < spec.width &&
        legend.legendY >= 0 &&
        legend.legendY < spec.height,
      'placed inside',
    );
  const colours = enc.color.scale.range as string[];
  assert.ok(
    colours.every((c) => PALETTE.includes(c)),
    'Okabe-Ito colours',
  );
  assert.is(new Set(colours).size, 4, 'series sharing a key share a colour');
  const layers = spec.layer as any[];
  assert.equal(
    layers[0].encoding.strokeDash.scale.range.map((d: number[]) => d[1] !== 0),
    [false, false, false, false, true, true, true, true],
  );
  // the marker tells apart the series of one colour (solid and dashed), so no two series share colour and marker
  const markers = layers[1].encoding.shape.scale.range as string[];
  assert.is(
    new Set(markers.map((m, i) => `${colours[i]} ${m}`)).size,
    8,
    'colour + marker unique per series',
  );
  const bars = groupedBarChart({
    title: 'b',
    data: [
      { k: 'x', g: 'p', v: 3 },
      { k: 'x', g: 'q', v: 1 },
      { k: 'y', g: 'p', v: 0.5 },
      { k: 'y', g: 'q', v: 2 },
    ],
    x: { field: 'k', title: 'k' },
    y: { field: 'v', title: 'v (s)' },
    group: { field: 'g', title: 'g' },
  }) as any;
  assert.equal(bars.encoding.y.scale.domain, [0, 3]);
  assert.is(bars.encoding.y.scale.nice, false);
  assert.ok(!['right', 'left', 'top', 'bottom'].includes(bars.encoding.color.legend.orient));
});

test('report.html is self-contained: inline SVG, no script, no external reference', () => {
  const html = readFileSync(join(outA, 'report.html'), 'utf8');
  assert.is((html.match(/<svg/g) ?? []).length, PLOTS.length);
  assert.is((html.match(/<figcaption>/g) ?? []).length, PLOTS.length);
  assert.not.match(html, /<script|<link|<img|@import|url\(/i);
  // the only URLs are SVG/XLink namespace names, which are never fetched
  const urls = (html.match(/https?:\/\/[^"' )]+/g) ?? []).filter(
    (u) => !/^http:\/\/www\.w3\.org\/(2000\/svg|1999\/xlink)$/.test(u),
  );
  assert.equal(urls, []);
});

test('every number in results.json matches a rerun with the same seed, and --json prints the same; another seed differs', () => {
  const again = gradcov('experiment', 'all', ...SMALL, '--seed', '7', '--out', outB, '--json');
  assert.is(again.code, 0, again.stderr);
  const a = JSON.parse(readFileSync(join(outA, 'results.json'), 'utf8'));
  const b = JSON.parse(readFileSync(join(outB, 'results.json'), 'utf8'));
  const printed = JSON.parse(again.stdout);
  const ra = reproducible(a.experiments),
    rb = reproducible(b.experiments);
  const na = numbers(ra),
    nb = numbers(rb);
  assert.ok(na.length > 500, `${na.length} numbers`);
  assert.equal(nb, na);
  assert.equal(rb, ra);
  assert.equal(reproducible(printed.experiments), rb);
  // only the distributed and scale experiments declare wall-clock parts, and they still have reproducible numbers
  assert.equal(
    a.experiments.filter((e: Exp) => e.wallClock).map((e: Exp) => e.name),
    ['distributed', 'scale'],
  );
  assert.ok(numbers(ra.find((e) => e.name === 'scale')!.tables).length >= 6);
  assert.ok(numbers(ra.find((e) => e.name === 'distributed')!.tables).length >= 15);
  const other = gradcov('experiment', 'calibration', ...SMALL, '--seed', '8', '--json');
  const nc = numbers(JSON.parse(other.stdout).experiments[0].tables);
  assert.not.equal(nc, numbers(a.experiments[0].tables));
});

await browserSuite(test, [
  [
    'the report renders in headless Chromium without console errors and shows every plot',
    async (context) => {
      const page = await context.newPage();
      try {
        await page.setViewportSize({ width: 1200, height: 900 });
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        page.on('request', (r) => {
          if (!r.url().startsWith('file:')) problems.push(`network request: ${r.url()}`);
        });
        await page.goto(pathToFileURL(join(outA, 'report.html')).href, { waitUntil: 'load' });
        const boxes = await page.$$eval('figure svg', (els) =>
          els.map((e) => {
            const r = e.getBoundingClientRect();
            return [r.width, r.height, e.parentElement!.parentElement!.getBoundingClientRect().width];
          }),
        );
        assert.is(boxes.length, PLOTS.length);
        // full width: each plot spans its section (the page is 1200 px wide, the body at most 1100)
        for (const [w, h, section] of boxes)
          assert.ok(
            w! > 250 && h! > 200 && w! >= section! - 1 && w! > 1000,
            `plot size ${w} x ${h} in a section ${section} wide`,
          );
        // every legend lies inside the plot area (the box spanned by the axes' domain lines),
        // except that small multiples share one legend below their panels
        const legends = await page.$$eval('figure svg', (els) =>
          els.map((svg) => {
            const legend = svg.querySelector('.role-legend')?.getBoundingClientRect();
            const grids = [...svg.querySelectorAll('.role-axis-domain')]
              .map((g) => g.getBoundingClientRect())
              .filter((r) => r.width > 0 || r.height > 0);
            if (!legend || grids.length === 0) return null;
            const area = {
              left: Math.min(...grids.map((r) => r.left)),
              right: Math.max(...grids.map((r) => r.right)),
              top: Math.min(...grids.map((r) => r.top)),
              bottom: Math.max(...grids.map((r) => r.bottom)),
            };
            return {
              id: svg.parentElement!.id,
              legend: [legend.left, legend.top, legend.right, legend.bottom],
              area: [area.left, area.top, area.right, area.bottom],
            };
          }),
        );
        assert.is(legends.filter(Boolean).length, PLOTS.length, 'each plot has a legend and axes');
        for (const l of legends) {
          const [x0, y0, x1, y1] = l!.legend,
            [a0, b0, a1, b1] = l!.area;
          if (FACETED.includes(l!.id)) {
            assert.ok(
              y0! >= b1! - 2 && x0! >= a0! - 2 && x1! <= a1! + 2,
              `${l!.id}: legend ${l!.legend.map(Math.round)} below the panels ${l!.area.map(Math.round)}`,
            );
            continue;
          }
          assert.ok(
            x0! >= a0! - 2 && y0! >= b0! - 2 && x1! <= a1! + 2 && y1! <= b1! + 2,
            `${l!.id}: legend ${l!.legend.map(Math.round)} inside the plot area ${l!.area.map(Math.round)}`,
          );
        }
        const png = await page.screenshot({ fullPage: true });
        assert.ok(png.length > 100_000, `screenshot ${png.length} bytes`);
        // count the distinct colours of the screenshot in the page: a blank or one-colour page has few
        const colours = await page.evaluate(async (b64) => {
          const img = new Image();
          img.src = `data:image/png;base64,${b64}`;
          await img.decode();
          const c = document.createElement('canvas');
          c.width = img.width;
          c.height = img.height;
          const ctx = c.getContext('2d')!;
          ctx.drawImage(img, 0, 0);
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          const seen = new Set<number>();
          for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
          return { n: seen.size, height: img.height };
        }, png.toString('base64'));
        assert.ok(colours.n > 50, `distinct colours ${colours.n}`);
        assert.ok(colours.height > 3000, `page height ${colours.height}`);
        assert.equal(problems, []);
      } finally {
        await page.close();
      }
    },
  ],
]);

test.run();
