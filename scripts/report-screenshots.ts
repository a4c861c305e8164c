// Screenshots of every figure of a report, to look at as a reviewer would:
//   node --import tsx scripts/report-screenshots.ts report/ shots/
// (report/ from `gradcov experiment all --out report/` or `gradcov estimate ... --out report/`).
// Writes shots/NN-<figure>.png, one per <figure> of report.html, at a 1150 px wide page.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from '../test/e2e/browser.js';

async function main(): Promise<void> {
  const [dir, out] = process.argv.slice(2);
  if (!dir || !out)
    throw new Error('usage: node --import tsx scripts/report-screenshots.ts REPORT_DIR OUT_DIR');
  mkdirSync(out, { recursive: true });
  const l = await launchChromium();
  if (!l.context) throw new Error(`no Chromium: tried ${l.tried.join('; ')}`);
  const page = await l.context.newPage();
  await page.setViewportSize({ width: 1150, height: 900 });
  await page.goto(pathToFileURL(join(resolve(dir), 'report.html')).href, { waitUntil: 'load' });
  const figures = await page.$$('figure');
  for (const [i, f] of figures.entries()) {
    const file = join(
      out,
      `${String(i).padStart(2, '0')}-${(await f.getAttribute('id'))!.replace(/\.svg$/, '')}.png`,
    );
    await f.screenshot({ path: file });
    process.stdout.write(`${file}\n`);
  }
  await page.close();
  await l.browser?.close();
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
    process.exit(1);
  },
);
