// The HTML report: files, self-containment, reproducibility of every number with the same
// seed, and rendering in headless Chromium without console errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gradcov, tempDir } from './cli.js';
import { browserSuite } from './browser.js';

const SMALL = ['--dim', '5', '--rows', '1500', '--batches', '600', '--dims', '5,8', '--batches-per-dim', '30', '--quiet'];
const dir = tempDir();
const outA = join(dir, 'a'), outB = join(dir, 'b');
const first = gradcov('experiment', 'all', ...SMALL, '--seed', '7', '--out', outA);
const PLOTS = ['calibration-raw', 'calibration-rescaled', 'batches-error-vs-m', 'distributions-sweep', 'dimension-error-vs-dim', 'real-data-errors', 'preconditioning-iterations', 'adversarial-errors', 'distributed-wall-time', 'unbiased-misfit'];

interface Exp { name: string; findings: string[]; tables: { columns: string[]; rows: unknown[][] }[]; plots: { file: string }[]; wallClock?: { columns?: string[]; plots?: string[]; findings?: number[] } }

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
        return { ...t, columns: keep.map((i) => t.columns[i]!), rows: t.rows.map((r) => keep.map((i) => r[i])) };
      }),
      plots: e.plots.filter((p) => !wc.plots?.some((name) => p.file === `${e.name}-${name}.svg`)),
    };
  });
}

const numbers = (v: unknown): number[] => (typeof v === 'number' ? [v] : Array.isArray(v) ? v.flatMap(numbers)
  : v && typeof v === 'object' ? Object.values(v).flatMap(numbers) : []);

test('--out writes report.html, results.json and one SVG per plot, each with axis titles and a legend', () => {
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stdout, /wrote 12 files/);
  assert.equal(readdirSync(outA).sort(), ['report.html', 'results.json', ...PLOTS.map((p) => `${p}.svg`)].sort());
  for (const p of PLOTS) {
    const svg = readFileSync(join(outA, `${p}.svg`), 'utf8');
    assert.ok(svg.startsWith('<svg'), p);
    assert.match(svg, /class="mark-text role-axis-title"/, `${p}: axis titles`);
    assert.match(svg, /role-legend/, `${p}: legend`);
    assert.match(svg, /\((unitless|count|multiples)/, `${p}: units in an axis title`);
  }
});

test('report.html is self-contained: inline SVG, no script, no external reference', () => {
  const html = readFileSync(join(outA, 'report.html'), 'utf8');
  assert.is((html.match(/<svg/g) ?? []).length, PLOTS.length);
  assert.is((html.match(/<figcaption>/g) ?? []).length, PLOTS.length);
  assert.not.match(html, /<script|<link|<img|@import|url\(/i);
  // the only URLs are SVG/XLink namespace names, which are never fetched
  const urls = (html.match(/https?:\/\/[^"' )]+/g) ?? []).filter((u) => !/^http:\/\/www\.w3\.org\/(2000\/svg|1999\/xlink)$/.test(u));
  assert.equal(urls, []);
});

test('every number in results.json matches a rerun with the same seed, and --json prints the same; another seed differs', () => {
  const again = gradcov('experiment', 'all', ...SMALL, '--seed', '7', '--out', outB, '--json');
  assert.is(again.code, 0, again.stderr);
  const a = JSON.parse(readFileSync(join(outA, 'results.json'), 'utf8'));
  const b = JSON.parse(readFileSync(join(outB, 'results.json'), 'utf8'));
  const printed = JSON.parse(again.stdout);
  const ra = reproducible(a.experiments), rb = reproducible(b.experiments);
  const na = numbers(ra), nb = numbers(rb);
  assert.ok(na.length > 500, `${na.length} numbers`);
  assert.equal(nb, na);
  assert.equal(rb, ra);
  assert.equal(reproducible(printed.experiments), rb);
  // only the distributed experiment declares wall-clock parts, and it still has reproducible numbers
  assert.equal(a.experiments.filter((e: Exp) => e.wallClock).map((e: Exp) => e.name), ['distributed']);
  assert.ok(numbers(ra.find((e) => e.name === 'distributed')!.tables).length >= 15);
  const other = gradcov('experiment', 'calibration', ...SMALL, '--seed', '8', '--json');
  const nc = numbers(JSON.parse(other.stdout).experiments[0].tables);
  assert.not.equal(nc, numbers(a.experiments[0].tables));
});

await browserSuite(test, [['the report renders in headless Chromium without console errors and shows every plot', async (context) => {
  const page = await context.newPage();
  try {
    await page.setViewportSize({ width: 1200, height: 900 });
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => { if (!r.url().startsWith('file:')) problems.push(`network request: ${r.url()}`); });
    await page.goto(pathToFileURL(join(outA, 'report.html')).href, { waitUntil: 'load' });
    const boxes = await page.$$eval('figure svg', (els) => els.map((e) => { const r = e.getBoundingClientRect(); return [r.width, r.height]; }));
    assert.is(boxes.length, PLOTS.length);
    for (const [w, h] of boxes) assert.ok(w! > 250 && h! > 200, `plot size ${w} x ${h}`);
    const png = await page.screenshot({ fullPage: true });
    assert.ok(png.length > 100_000, `screenshot ${png.length} bytes`);
    // count the distinct colours of the screenshot in the page: a blank or one-colour page has few
    const colours = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width; c.height = img.height;
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
}]]);

test.run();
