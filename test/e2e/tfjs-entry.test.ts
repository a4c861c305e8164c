// gradcov/tfjs from the packed tarball, as TF.js users install it: in Node with
// (a) @tensorflow/tfjs and (b) @tensorflow/tfjs-core + @tensorflow/tfjs-backend-cpu with the
// gradients registered as TF.js documents (import '@tensorflow/tfjs-core/dist/register_all_gradients',
// which only a bundler can resolve: esbuild here), and (c) tfjs-core alone in plain Node,
// which has no gradients and must get a clear error; then (a) and (b) bundled for Chromium.
// Each run (test/e2e/tfjs/check.mjs) estimates the Gauss–Newton matrix of a small MLP
// (26 parameters, 2 outputs) from 2,000 pairs, dense and sketched, and returns it with the
// exact G = (1/N) sum_i J_i'J_i from per-sample gradients; the bounds are stated in judge().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT, installWith } from './installed.js';
import { browserSuite } from './browser.js';
import { jacobiEigenvalues } from '../../src/reference/spectral.js';
import { frobenius, predictedPairedError } from '../helpers/tfjs-truth.mjs';

const CHECK = join(ROOT, 'test/e2e/tfjs/check.mjs'); // an absolute path: Node and esbuild both resolve it
const UNION = "import * as tf from '@tensorflow/tfjs';\n";
const CORE =
  "import * as tf from '@tensorflow/tfjs-core';\nimport '@tensorflow/tfjs-core/dist/register_all_gradients';\nimport '@tensorflow/tfjs-backend-cpu';\n";
const body = (gradcov: string, check: string) =>
  `import * as g from '${gradcov}';\nimport { tfjsOracle } from 'gradcov/tfjs';\nimport { check } from '${check}';\n` +
  "tf.env().set('PROD', true);\nawait tf.setBackend('cpu');\n";

interface Result {
  backend: string;
  dim: number;
  outputs: number;
  names: string[];
  leaked: number;
  after: number;
  G: number[];
  hessian: number[];
  eigenvalues: number[];
  upper: number[];
  diagonal: number[];
  layers: null | { dim: number; gradientGap: number; hessian: number[]; leaked: number };
}

const PAIRS = 2000;

/** The bounds: relative Frobenius errors within 1.5x the paired estimate's predicted error. */
function judge(r: Result, what: string): void {
  const dim = 26,
    G = Float64Array.from(r.G),
    predicted = predictedPairedError(G, dim, PAIRS),
    fG = frobenius(G);
  assert.is(r.dim, dim);
  assert.is(r.outputs, 2);
  assert.equal(r.names, ['W1:3x4', 'b1:4', 'W2:4x2', 'b2:2']);
  assert.is(r.leaked, 0, `${what}: tensors left by the oracle`);
  assert.is(r.after, 0, `${what}: tensors left after disposing the model`);
  const err = frobenius(Float64Array.from(r.hessian), G) / fG;
  // Weyl: each eigenvalue of G_hat is within ||G_hat - G||_F of G's; the sketch's interval holds G_hat's
  const truth = jacobiEigenvalues(G, dim).reverse(),
    tol = 1.5 * predicted * fG;
  let diagErr = 0,
    diagNorm = 0;
  for (let i = 0; i < dim; i++) {
    diagErr += (r.diagonal[i]! - G[i * dim + i]!) ** 2;
    diagNorm += G[i * dim + i]! ** 2;
  }
  const line = [
    `dense ${err.toFixed(4)} (predicted ${predicted.toFixed(4)})`,
    `diagonal ${Math.sqrt(diagErr / diagNorm).toFixed(4)}`,
    ...Array.from(truth.slice(0, 3)).map(
      (t, i) =>
        `lambda_${i + 1} ${t.toFixed(3)} in [${r.eigenvalues[i]!.toFixed(3)}, ${r.upper[i]!.toFixed(3)}] +- ${tol.toFixed(3)}`,
    ),
  ];
  if (r.layers) {
    const e = frobenius(Float64Array.from(r.layers.hessian), G) / fG;
    line.push(`LayersModel dense ${e.toFixed(4)}, gradient gap ${r.layers.gradientGap.toExponential(1)}`);
    assert.is(r.layers.dim, dim);
    assert.is(r.layers.leaked, 0);
    assert.ok(
      r.layers.gradientGap < 1e-5,
      `${what}: LayersModel vs function gradients differ by ${r.layers.gradientGap}`,
    );
    assert.ok(e < 1.5 * predicted, `${what}: LayersModel dense error ${e} vs predicted ${predicted}`);
  }
  console.log(`  ${what} (${r.backend}): ${line.join('; ')}`);
  assert.ok(err < 1.5 * predicted, `${what}: dense error ${err} vs predicted ${predicted}`);
  assert.ok(Math.sqrt(diagErr / diagNorm) < 1.5 * predicted, `${what}: diagonal error`);
  for (let i = 0; i < 3; i++)
    assert.ok(
      truth[i]! > r.eigenvalues[i]! - tol && truth[i]! < r.upper[i]! + tol,
      `${what}: eigenvalue ${i + 1}`,
    );
}

function runNode(app: string, file: string): Result {
  const r = spawnSync(process.execPath, [file], { cwd: app, encoding: 'utf8', timeout: 300_000 });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Result;
}

async function bundle(app: string, source: string, platform: 'node' | 'browser'): Promise<string> {
  const result = await build({
    stdin: { contents: source, resolveDir: app, sourcefile: 'app.mjs' },
    bundle: true,
    write: false,
    format: 'esm',
    platform,
    mainFields: platform === 'node' ? ['module', 'main'] : ['browser', 'module', 'main'],
    logLevel: 'error',
    // an ES module bundle for Node: the CommonJS parts of TF.js require Node's built-ins
    ...(platform === 'node'
      ? {
          banner: {
            js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
          },
        }
      : {}),
  });
  return result.outputFiles[0]!.text;
}

const appUnion = () => installWith('tfjs-union', ['@tensorflow/tfjs']);
const appCore = () => installWith('tfjs-core', ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu']);

test('Node, @tensorflow/tfjs: a LayersModel and a model function, dense and sketched, match the exact G', () => {
  const app = appUnion();
  writeFileSync(
    join(app, 'run.mjs'),
    UNION + body('gradcov', CHECK) + 'console.log(JSON.stringify(await check({ tf, g, tfjsOracle })));\n',
  );
  judge(runNode(app, 'run.mjs'), 'Node, @tensorflow/tfjs');
});

test('Node, tfjs-core + backend-cpu with register_all_gradients (bundled by esbuild): dense and sketched match the exact G', async () => {
  const app = appCore();
  const code = await bundle(
    app,
    CORE +
      body('gradcov/inline', CHECK) +
      'console.log(JSON.stringify(await check({ tf, g, tfjsOracle })));\n',
    'node',
  );
  writeFileSync(join(app, 'bundle.mjs'), code);
  judge(runNode(app, 'bundle.mjs'), 'Node, tfjs-core bundled');
});

test('Node, tfjs-core alone unbundled (no gradients registered): tfjsOracle says why and what to do', () => {
  const app = appCore();
  writeFileSync(
    join(app, 'bare.mjs'),
    "import * as tf from '@tensorflow/tfjs-core';\nimport '@tensorflow/tfjs-backend-cpu';\nimport { tfjsOracle } from 'gradcov/tfjs';\n" +
      "tf.env().set('PROD', true);\nconst v = tf.variable(tf.ones([2, 1]));\n" +
      "try { tfjsOracle((x) => tf.matMul(x, v), tf.ones([4, 2]), tf.ones([4, 1]), { batchSize: 2, variables: [v] }); console.log('no error'); }\n" +
      "catch (e) { console.log(e.constructor.name + ': ' + e.message); }\n",
  );
  const r = spawnSync(process.execPath, ['bare.mjs'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /TypeError: TF\.js cannot differentiate the model: .*gradient function not found.*register_all_gradients/,
  );
});

const browser = test;
await browserSuite(
  browser,
  (
    [
      ['@tensorflow/tfjs', appUnion, UNION],
      ['tfjs-core + backend-cpu + register_all_gradients', appCore, CORE],
    ] as const
  ).map(
    ([what, app, head]) =>
      [
        `Chromium, ${what} (bundled by esbuild, gradcov/inline): dense and sketched match the exact G`,
        async (context) => {
          const code = await bundle(
            app(),
            head +
              body('gradcov/inline', CHECK) +
              'window.__result = await check({ tf, g, tfjsOracle }).catch((e) => ({ error: String(e && e.stack || e) }));\n',
            'browser',
          );
          const page = await context.newPage();
          try {
            await page.goto('about:blank');
            await page.addScriptTag({ type: 'module', content: code });
            await page.waitForFunction(
              () => (window as unknown as { __result?: unknown }).__result !== undefined,
              undefined,
              { timeout: 240_000 },
            );
            const r = await page.evaluate(
              () => (window as unknown as { __result: Result & { error?: string } }).__result,
            );
            assert.is(r.error, undefined, r.error);
            judge(r, `Chromium, ${what}`);
          } finally {
            await page.close();
          }
        },
      ] as [string, (c: import('playwright-core').BrowserContext) => Promise<void>],
  ),
);

test.run();
