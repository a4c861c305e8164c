// Covariance update (addBatch): wasm SYRK kernel vs the naive TS G'G loop and ml-matrix,
// dims 16, 64, 256, 1024. GFLOP/s counted as 2 * rows * dim^2 / t (a full G'G product).
// "of limit" (the wasm rows): the multiply-adds the kernel does (its upper 4 x 4 tiles,
// bench/limits.js covarianceDoneFlop) per second over this machine's measured peak of the
// kernel's arithmetic (f64x2, f32x4 for precision 'f32', relaxed_madd for the relaxed build).
import { Matrix } from 'ml-matrix';
import * as g from '../dist/node.js';
import { gramNaive, covariance as refCovariance } from '../src/reference/covariance.ts';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite, check } from './common.js';
import { covarianceDoneFlop, peakOf } from './limits.js';

/** addBatch on the relaxed-SIMD build, timed in a child Node with the flag it needs (null if it cannot run). */
function relaxedTimes(dims) {
  if (g.wasmBuild() === 'relaxed-simd') return null; // this process already runs it
  const r = spawnSync(
    process.execPath,
    [
      '--experimental-wasm-relaxed-simd',
      fileURLToPath(new URL('./covariance-relaxed.js', import.meta.url)),
      ...dims.map(String),
    ],
    { encoding: 'utf8', env: process.env },
  );
  if (r.status !== 0) {
    console.log(`relaxed-SIMD build: not measured (${r.stderr.trim().split('\n').pop()})`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()).results;
}

export const DIMS = [16, 64, 256, 1024];
const rowsFor = (dim) => (dim === 1024 ? 512 : 4096);

export async function run(anchors, L) {
  const rows = [];
  const relaxed = relaxedTimes(DIMS);
  const core = anchors?.openblas?.coreType ?? '?';
  const cpuCore = anchors?.cpuKernel?.openblas?.coreType ?? '?';
  for (const dim of DIMS) {
    const n = rowsFor(dim);
    const G = new g.Rng(1).normals(new Float64Array(n * dim));
    const acc = new g.GradientCovariance(dim);
    // validation: the wasm covariance equals the two-pass reference; ml-matrix's G'G equals the naive one
    acc.addBatch(G);
    const want = refCovariance(G, n, dim).cov;
    const got = acc.covariance();
    let err = 0,
      scale = 0;
    for (let i = 0; i < want.length; i++) {
      err = Math.max(err, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    check(err <= 1e-12 * scale, `wasm covariance dim ${dim}: max error ${err}`);
    // the f32 path (precision 'f32') on the same gradients as float32: within its stated bound of the f64 path
    const acc32 = new g.GradientCovariance(dim, { precision: 'f32' });
    const G32 = Float32Array.from(G);
    const want32 = new g.GradientCovariance(dim).addBatch(G32).covariance();
    const got32 = acc32.addBatch(G32).covariance();
    let num = 0,
      den = 0;
    for (let i = 0; i < want32.length; i++) {
      num += (got32[i] - want32[i]) ** 2;
      den += want32[i] ** 2;
    }
    check(
      Math.sqrt(num / den) < 1e-6,
      `f32 covariance dim ${dim}: relative Frobenius error ${Math.sqrt(num / den)}`,
    );
    const M = new Matrix(n, dim);
    for (let r = 0; r < n; r++) for (let c = 0; c < dim; c++) M.set(r, c, G[r * dim + c]);
    const naive = gramNaive(G, n, dim);
    const ml = M.transpose().mmul(M);
    check(
      Math.abs(ml.get(dim - 1, 0) - naive[(dim - 1) * dim]) <= 1e-9 * Math.abs(naive[0]),
      `ml-matrix G'G dim ${dim}`,
    );
    const out = new Float64Array(dim * dim);
    const native = anchors?.covariance?.[dim];
    const part = await suite(`covariance:dim=${dim}`, {
      unit: 'FLOP',
      work: 2 * n * dim * dim,
      anchors: [
        ...(native
          ? [{ name: `numpy G.T @ G (OpenBLAS ${core}, 1 thread, this machine's setting)`, ms: native.ms }]
          : []),
        ...(anchors?.cpuKernel?.covariance?.[dim]
          ? [
              {
                name: `numpy G.T @ G (OpenBLAS ${cpuCore}, the CPU's own kernel; information)`,
                ms: anchors.cpuKernel.covariance[dim].ms,
                info: true,
              },
            ]
          : []),
      ],
      minSamples: dim === 1024 ? 2 : 5,
      cases: [
        {
          name: `wasm GradientCovariance.addBatch (${n}x${dim})`,
          fn: () => {
            acc.reset();
            acc.addBatch(G);
          },
        },
        {
          name: `wasm addBatch, Float32Array input`,
          fn: ((G32) => () => {
            acc.reset();
            acc.addBatch(G32);
          })(Float32Array.from(G)),
        },
        {
          name: `wasm addBatch, Float32Array input, precision 'f32'`,
          fn: ((G32) => () => {
            acc32.reset();
            acc32.addBatch(G32);
          })(Float32Array.from(G)),
        },
        { name: `plain TS naive G'G`, baseline: true, fn: () => gramNaive(G, n, dim, out) },
        { name: `ml-matrix transpose().mmul()`, fn: () => M.transpose().mmul(M) },
      ],
    });
    if (relaxed?.[dim]) {
      // measured in the child process, same input
      const ms = relaxed[dim].ms,
        base = part.find((r) => r.baseline);
      part.splice(1, 0, {
        suite: part[0].suite,
        name: `wasm addBatch, relaxed-SIMD build (child process)`,
        ms,
        rate: (2 * n * dim * dim) / (ms / 1000),
        unit: 'FLOP',
        ratio: base ? base.ms / ms : NaN,
        baseline: false,
        vsNative: native ? native.ms / ms : NaN,
      });
    }
    if (L)
      for (const r of part.filter((x) => x.name.startsWith('wasm'))) {
        const p = peakOf(
          L,
          r.name.includes("precision 'f32'") ? 'f32' : 'f64',
          r.name.includes('relaxed') || g.wasmBuild() === 'relaxed-simd',
        );
        r.ofLimit = covarianceDoneFlop(n, dim) / (r.ms / 1000) / (p.gflops * 1e9);
        r.limitName = p.name;
      }
    rows.push(...part);
    acc.dispose();
    acc32.dispose();
  }
  return rows;
}
