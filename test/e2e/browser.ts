// One way for every browser test to get a headless Chromium, in this order:
//   1. CHROMIUM_PATH (any Chromium or Chrome binary you point at),
//   2. @sparticuz/chromium, a devDependency that ships a Linux x64 Chromium inside the npm
//      package (so `npm ci` on a fresh machine with only Node and npm is enough),
//   3. a system Chromium (/usr/bin/chromium: Debian's `apt-get install chromium`).
// When none launches, browserSuite() reports each browser test as skipped with what is
// missing and how to get it; under CI=true a missing browser is a failing test instead.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright-core';
import type { Test } from 'uvu';

const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const HOW =
  'set CHROMIUM_PATH to a Chromium binary, or run `npm ci` on Linux x64 (it installs @sparticuz/chromium), or `apt-get install chromium`';

async function candidates(): Promise<{ what: string; options: LaunchOptions }[]> {
  const out: { what: string; options: LaunchOptions }[] = [];
  if (process.env.CHROMIUM_PATH)
    out.push({
      what: `CHROMIUM_PATH=${process.env.CHROMIUM_PATH}`,
      options: { executablePath: process.env.CHROMIUM_PATH, args: BASE_ARGS },
    });
  if (process.platform === 'linux' && process.arch === 'x64') {
    try {
      const sparticuz = (await import('@sparticuz/chromium')).default;
      // its own flags (--single-process, swiftshader, ...) are what its headless build needs
      out.push({
        what: '@sparticuz/chromium',
        options: { executablePath: await sparticuz.executablePath(), args: sparticuz.args },
      });
    } catch (e) {
      out.push({ what: `@sparticuz/chromium (${(e as Error).message.split('\n')[0]})`, options: {} });
    }
  }
  for (const p of [
    '/usr/bin/chromium',
    '/usr/lib/chromium/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ]) {
    if (existsSync(p)) out.push({ what: p, options: { executablePath: p, args: BASE_ARGS } });
  }
  return out;
}

interface Launched {
  browser?: Browser;
  context?: BrowserContext;
  what: string;
  tried: string[];
}
let found: Promise<Launched> | undefined;

/** Launches the first Chromium that works (once per process); open pages with `context.newPage()`. */
export async function launchChromium(): Promise<Launched> {
  // uvu runs every e2e file in one process: an earlier file's browserSuite closes the shared
  // browser after its last case, so a later file launches a new one
  if (found && (await found).browser?.isConnected() === false) found = undefined;
  found ??= (async () => {
    const tried: string[] = [];
    for (const c of await candidates()) {
      if (!c.options.executablePath) {
        tried.push(c.what);
        continue;
      }
      try {
        const browser = await chromium.launch({ ...c.options, headless: true, timeout: 60_000 });
        // a single-process Chromium (@sparticuz's) exits when a context closes: every page
        // lives in this one context, which stays open with one blank page until the end
        const context = await browser.newContext();
        await context.newPage();
        return { browser, context, what: c.what, tried };
      } catch (e) {
        tried.push(`${c.what}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    return { what: 'none', tried };
  })();
  return found;
}

/**
 * Registers `cases` on `suite` with a launched browser, or, when no Chromium can be found,
 * registers them as skipped (reason printed once) or, under CI=true, as one failing test.
 * The browser is closed after the last case of the last suite using it. Launching happens in a test, never in
 * `suite.before` (uvu 0.5 drops errors thrown in hooks).
 */
export async function browserSuite(
  suite: Test,
  cases: [name: string, fn: (context: BrowserContext) => Promise<void>][],
): Promise<void> {
  const { context, tried } = await launchChromium();
  if (!context) {
    const reason = `no Chromium for the browser tests (tried: ${tried.join('; ') || 'nothing'}): ${HOW}`;
    if (process.env.CI === 'true') {
      suite('a Chromium to run the browser tests is available', () => {
        throw new Error(reason);
      });
    } else {
      console.log(`\n  SKIPPED ${cases.length} browser tests: ${reason}\n`);
      for (const [name] of cases) suite.skip(name, () => {});
    }
    return;
  }
  // uvu imports every test file before it runs any: all suites register here first and share
  // the one browser, which closes after the last of them; each case asks for it again, so a
  // browser that crashed (or closed) is relaunched for the next case
  for (const [name, fn] of cases) {
    suite(name, async () => {
      const now = await launchChromium();
      if (!now.context) throw new Error(`Chromium could not be relaunched (tried: ${now.tried.join('; ')})`);
      await fn(now.context);
    });
  }
  open++;
  suite.after(async () => {
    if (--open === 0) await (await found)?.browser?.close();
  });
}

let open = 0;
