// `--out DIR`: renders every plot to SVG with Vega-Lite + Vega headlessly (no canvas, no
// DOM), and writes report.html (self-contained: inline SVG, inline CSS, no network), one
// SVG file per plot and results.json with every number. The plotting libraries are loaded
// here by dynamic import, so nothing else in the package (and no library user) loads them.
import {
  formatSettings,
  resultsJson,
  checkOutDir,
  writeAllOrNothing,
  htmlText,
  type ReportInput,
} from './output.js';
import type { ResultTable } from './experiments/types.js';

const escape = htmlText;

async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const [vl, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function htmlTable(t: ResultTable): string {
  const digits = t.digits ?? 3;
  const cell = (v: unknown) =>
    typeof v === 'number'
      ? Number.isInteger(v)
        ? String(v)
        : v.toFixed(digits)
      : v === null
        ? '–'
        : escape(String(v));
  return (
    `<table><caption>${escape(t.title)}</caption><thead><tr>${t.columns.map((c) => `<th>${escape(c)}</th>`).join('')}</tr></thead>` +
    `<tbody>${t.rows.map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`
  );
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
figure svg{display:block;width:100%;height:auto}nav ol{columns:2;padding-left:1.5em}nav li{margin:.15em 0}
table{border-collapse:collapse;margin:1em 0}caption{text-align:left;font-weight:600;padding-bottom:.3em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}
figure{margin:1.5em 0;width:100%}figcaption{color:#444;font-style:italic;max-width:800px}code{background:#f3f3f3;padding:0 .3em}`;

/**
 * The SVG scaled to the width of the page: Vega writes fixed width and height attributes
 * next to its viewBox; inline, the width becomes 100% and the height follows the viewBox.
 */
export function responsiveSvg(svg: string): string {
  return svg.replace(
    /^<svg([^>]*?) width="[\d.]+" height="[\d.]+"/,
    '<svg$1 width="100%" preserveAspectRatio="xMinYMin meet"',
  );
}

/**
 * Writes report.html, one SVG per plot and (unless `json: false`, as for `estimate`, which
 * writes its own estimate.json) results.json into dir; returns the files written.
 */
export async function writeReport(
  dir: string,
  input: ReportInput,
  { json = true }: { json?: boolean } = {},
): Promise<string[]> {
  checkOutDir(dir, []);
  // everything is rendered first, then written at once (all files or none): an interrupted
  // or failed render leaves the directory as it was
  const written: [string, string][] = [];
  const files: string[] = [];
  const sections: string[] = [];
  for (const r of input.results) {
    const figures: string[] = [];
    for (const p of r.plots) {
      const svg = await renderSvg(p.spec);
      const file = `${r.name}-${p.name}.svg`;
      written.push([file, svg]);
      files.push(file);
      figures.push(
        `<figure id="${escape(file)}">${responsiveSvg(svg)}<figcaption>${escape(p.caption)}</figcaption></figure>`,
      );
    }
    sections.push(
      `<section id="${escape(r.name)}"><h2>${escape(r.name)}: ${escape(r.title)}</h2>` +
        `<p><b>Settings:</b> ${escape(formatSettings(r.settings))}</p>` +
        r.tables.map(htmlTable).join('\n') +
        (r.findings.length ? `<ul>${r.findings.map((f) => `<li>${escape(f)}</li>`).join('')}</ul>` : '') +
        figures.join('\n') +
        '</section>',
    );
  }
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>gradcov report</title><style>${STYLE}</style></head><body>` +
    `<h1>gradcov report</h1><p>Produced by <code>${escape(input.command)}</code> (gradcov ${escape(input.version)}). ` +
    `Every number is also in <code>${json ? 'results.json' : 'estimate.json'}</code>; the same command and seed reproduce them bit for bit.</p>` +
    (input.results.length > 1
      ? `<nav id="contents"><h2>Contents</h2><ol>${input.results.map((r) => `<li><a href="#${escape(r.name)}">${escape(r.name)}</a>: ${escape(r.title.split(':')[0]!)}</li>`).join('')}</ol></nav>`
      : '') +
    sections.join('\n') +
    '</body></html>\n';
  if (!json) {
    writeAllOrNothing(dir, [['report.html', html], ...written]);
    return ['report.html', ...files];
  }
  writeAllOrNothing(dir, [
    ['report.html', html],
    ['results.json', JSON.stringify(resultsJson(input), null, 2) + '\n'],
    ...written,
  ]);
  return ['report.html', 'results.json', ...files];
}
