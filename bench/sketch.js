// Frequent Directions sketch (CurvatureSketch, issue 19): time per added row at d in
// {1e4, 1e5, 1e6} x l in {32, 64, 128} (steady state: the buffer full once, then 2l rows
// timed, i.e. two shrinks), against the plain-TS Frequent Directions of src/reference/sketch.ts
// (where it finishes in seconds) and the dense GradientCovariance (d = 1e4 only: it refuses
// d > 11,584); the Gram and rotation kernels' GFLOP/s beside the dense covariance kernel's in
// the same run; RSS of a d = 1e6, l = 64 sketch in a fresh child process (target < 1.2 GB) and of
// d = 1e6, l = 128 with precision 'f32' (f32 storage also per added row at d = 1e5); the
// share of gradcov in the wall time of a TF.js 100,131-parameter estimate (target < 10%).
// Timing by a few repetitions of whole calls (timeOnce): these cases take 0.01 to 10 s each,
// too long for benny's sampling. BENCH_QUICK=1: d = 1e4 and 1e5 only, l = 32 and 64.
import * as g from '../dist/node.js';
import { wasm, withBlocks, f64 } from '../dist/core/wasm.js';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { check } from './common.js';
import { covarianceDoneFlop, peakOf } from './limits.js';

const quick = !!process.env.BENCH_QUICK;

/** Median wall ms of `reps` calls of fn (after `setup` before each, untimed). */
function timeOnce(fn, reps = 3, setup = () => {}) {
  const t = [];
  for (let i = 0; i < reps; i++) {
    const s = setup();
    const t0 = performance.now();
    fn(s);
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[t.length >> 1];
}

/** RSS (bytes) of a plain Node child holding a CurvatureSketch(d, { size: l, precision }) after 4l rows. */
function rssChild(d, l, precision = 'f64') {
  const r = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--rss', String(d), String(l), precision],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) return { error: r.stderr.trim().split('\n').pop() };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

if (process.argv[2] === '--rss') {
  const d = Number(process.argv[3]),
    l = Number(process.argv[4]);
  await g.init();
  const s = new g.CurvatureSketch(d, { size: l, precision: process.argv[5] ?? 'f64' });
  const rows = new g.Rng(1).normals(new Float64Array(8 * d));
  for (let i = 0; i < (4 * l) / 8; i++) s.addRows(rows);
  const rssAdd = process.memoryUsage().rss;
  s.eigenpairs(10);
  console.log(JSON.stringify({ rssAdd, rss: process.memoryUsage().rss, wasm: g.wasmMemoryBytes() }));
  process.exit(0);
}

export async function run(anchors, L) {
  // the plain-TS baseline through tsx (`npm run bench` loads it); the --rss child stays plain Node
  const { FrequentDirections } = await import('../src/reference/sketch.ts');
  const out = [];
  const row = (name, ms, work, unit, extra = {}) =>
    out.push({
      suite: 'sketch',
      name,
      ms,
      rate: work / (ms / 1000),
      unit,
      ratio: NaN,
      baseline: false,
      vsNative: NaN,
      ...extra,
    });
  // the RSS first, in a child (this process's wasm memory only grows)
  const rss = rssChild(1e6, 64);
  const rss32 = rssChild(1e6, 128, 'f32');
  console.log(
    `sketch RSS at d = 1e6, l = 64: ${rss.error ?? `${(rss.rssAdd / 1e9).toFixed(3)} GB RSS after 4l rows (2 shrinks), ${(rss.rss / 1e9).toFixed(3)} GB after eigenpairs(10) (its 80 MB result and 80 MB wasm block); wasm memory reserved ${(rss.wasm / 1e9).toFixed(3)} GB (pages not touched are not resident); the rows' 64 MB JS array is counted`} (target < 1.2 GB)`,
  );
  console.log(
    `sketch RSS at d = 1e6, l = 128, precision 'f32' (a 1.02 GB f32 buffer; f64 refuses l > 67 at this d): ${rss32.error ?? `${(rss32.rssAdd / 1e9).toFixed(3)} GB RSS after 4l rows, ${(rss32.rss / 1e9).toFixed(3)} GB after eigenpairs(10)`}`,
  );
  // kernels: Gram and rotation of a 2l x d buffer vs the dense covariance kernel (2 n d^2 counted as for bench/covariance.js)
  {
    const d = 100_000,
      l = 64,
      n = 2 * l,
      dp = d;
    const grams = withBlocks(
      [
        n * dp * 8,
        n * n * 8,
        wasm().sketchGramScratchBytes(n),
        n * n * 8,
        wasm().sketchRotateScratchBytes(n),
      ],
      'bench',
      (b, gp, s, wp, rs) => {
        f64(b, n * dp).set(new g.Rng(2).normals(new Float64Array(n * dp)));
        f64(wp, n * n).set(new g.Rng(3).normals(new Float64Array(n * n)).map((x) => x / n));
        const tg = timeOnce(() => wasm().sketchGram(b, n, dp, gp, n, s), 5);
        const tr = timeOnce(() => wasm().sketchRotate(b, n, dp, wp, n - 1, b, dp, rs), 5);
        return { tg, tr };
      },
    );
    // of limit: the multiply-adds done (the Gram kernel's upper 4 x 4 tiles, the rotation's
    // whole product; the dense kernel's upper tiles) per second over the f64x2 peak
    const lim = (done, ms) => {
      if (!L) return {};
      const p = peakOf(L, 'f64', g.wasmBuild() === 'relaxed-simd');
      return { ofLimit: done / (ms / 1000) / (p.gflops * 1e9), limitName: p.name };
    };
    row(
      `Gram kernel, 2l x d = ${n} x ${d} (FLOP counted as 2 n^2 d, the full product)`,
      grams.tg,
      2 * n * n * d,
      'FLOP',
      lim(covarianceDoneFlop(d, n), grams.tg),
    );
    row(
      `rotation kernel, (l-1) x 2l times 2l x d = ${n - 1} x ${n} x ${d}`,
      grams.tr,
      2 * (n - 1) * n * d,
      'FLOP',
      lim(2 * (n - 1) * n * d, grams.tr),
    );
    const dim = 1024,
      k = 512,
      G = new g.Rng(1).normals(new Float64Array(k * dim));
    const acc = new g.GradientCovariance(dim);
    const tc = timeOnce(() => acc.addBatch(G), 5);
    acc.dispose();
    row(
      `dense covariance kernel addBatch ${k} x ${dim} (2 n d^2, as bench/covariance.js)`,
      tc,
      2 * k * dim * dim,
      'FLOP',
      lim(covarianceDoneFlop(k, dim), tc),
    );
  }
  const dims = quick ? [1e4, 1e5] : [1e4, 1e5, 1e6];
  const sizes = quick ? [32, 64] : [32, 64, 128];
  // f32 storage (half the buffer): at d = 1e5, and at d = 1e6 with l = 128, which f64 refuses
  const f32Cases = (d) => (d === 1e5 ? sizes : d === 1e6 && !quick ? [128] : []);
  for (const d of dims) {
    const block = new g.Rng(d).normals(new Float64Array(16 * d));
    for (const [l, precision] of [...sizes.map((l) => [l, 'f64']), ...f32Cases(d).map((l) => [l, 'f32'])]) {
      let s;
      try {
        s = new g.CurvatureSketch(d, { size: l, precision });
      } catch (e) {
        console.log(`sketch d = ${d}, l = ${l}: refused (${e.message.slice(0, 90)}...)`);
        continue;
      }
      const fill = (sk, rows) => {
        for (let i = 0; i < rows; i += 16) sk.addRows(block.subarray(0, Math.min(16, rows - i) * d));
      };
      fill(s, 2 * l); // full buffer
      const ms = timeOnce(() => fill(s, 2 * l), d >= 1e6 ? 1 : 3);
      s.dispose();
      row(
        `wasm sketch, d = ${d}, l = ${l}${precision === 'f32' ? ", precision 'f32'" : ''}: per added row`,
        ms / (2 * l),
        1,
        'rows',
      );
      if (precision === 'f64' && (d * l <= 1e4 * 128 || (d <= 1e5 && l === 32))) {
        const r = new FrequentDirections(d, l);
        r.add(block.subarray(0, 2 * l > 16 ? 16 * d : 2 * l * d));
        for (let i = 16; i < 2 * l; i += 16) r.add(block.subarray(0, 16 * d));
        const t0 = performance.now();
        for (let i = 0; i < 2 * l; i += 16) r.add(block.subarray(0, 16 * d));
        row(`plain-TS FD, d = ${d}, l = ${l}: per added row`, (performance.now() - t0) / (2 * l), 1, 'rows');
      }
    }
    if (d <= 11_584) {
      const acc = new g.GradientCovariance(d);
      acc.addBatch(block.subarray(0, 16 * d));
      const ms = timeOnce(() => acc.addBatch(block), 1);
      acc.dispose();
      row(`dense GradientCovariance, d = ${d}: per added row (16-row batches)`, ms / 16, 1, 'rows');
    }
  }
  // the issue-19 client: a TF.js MLP of 100,131 parameters (examples/tfjs/scale-run.mjs), its
  // curvature sketched (l = 32) from tf.variableGrads gradients; gradcov's share of the wall time
  // is everything that is not the oracle's call (noise, copies, checks, the sketch, the eigenpairs)
  {
    const tf = await import('@tensorflow/tfjs');
    const { tfjsOracle } = await import('../dist/tfjs/index.js');
    const { parseRows, runScale } = await import('../examples/tfjs/scale-run.mjs');
    tf.env().set('PROD', true);
    await tf.setBackend('cpu');
    const read = (f) =>
      parseRows(readFileSync(new URL(`../cli/data/diabetes/${f}`, import.meta.url), 'utf8'));
    const pairs = quick ? 40 : 300;
    const r = await runScale(
      { tf, g, tfjsOracle },
      { features: read('features.txt'), target: read('target.txt'), pairs, size: 32, truth: false },
    );
    check(r.dim === 100_131 && Number.isFinite(r.trace) && r.trace > 0, 'tfjs scale: a bad estimate');
    const share = r.gradcovMs / r.wallMs;
    row(
      `TF.js MLP, d = ${r.dim}, l = 32: gradcov's time per pair, ${(100 * share).toFixed(1)}% of the wall time (${pairs} pairs)`,
      r.gradcovMs / pairs,
      1,
      'pairs',
    );
    console.log(
      `TF.js 100k-parameter estimate (${pairs} pairs, ${r.gradients} gradients): wall ${(r.wallMs / 1000).toFixed(1)} s, TF.js ${(r.tfMs / r.gradients).toFixed(1)} ms per gradient, gradcov ${(r.gradcovMs / pairs).toFixed(2)} ms per pair = ${(100 * share).toFixed(1)}% of the wall time (target < 10%: ${share < 0.1 ? 'yes' : 'no'})`,
    );
  }
  // validation: the wasm sketch equals the plain-TS one bit for bit on a small case
  {
    const d = 300,
      l = 8,
      A = new g.Rng(5).normals(new Float64Array(50 * d));
    const s = new g.CurvatureSketch(d, { size: l }).addRows(A),
      r = new FrequentDirections(d, l).add(A);
    check(s.shrinkage * s.rows === r.delta, 'sketch: wasm and plain-TS Delta differ');
    s.dispose();
  }
  return out;
}
