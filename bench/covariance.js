// Covariance update (addBatch): wasm SYRK kernel vs the naive TS G'G loop and ml-matrix,
// dims 16, 64, 256, 1024. GFLOP/s counted as 2 * rows * dim^2 / t (a full G'G product).
import { Matrix } from 'ml-matrix';
import * as g from '../dist/node.js';
import { gramNaive, covariance as refCovariance } from '../dist/reference/covariance.js';
import { suite, check } from './common.js';

export const DIMS = [16, 64, 256, 1024];
const rowsFor = (dim) => (dim === 1024 ? 512 : 4096);

export async function run() {
  const rows = [];
  for (const dim of DIMS) {
    const n = rowsFor(dim);
    const G = new g.Rng(1).normals(new Float64Array(n * dim));
    const acc = new g.GradientCovariance(dim);
    // validation: the wasm covariance equals the two-pass reference; ml-matrix's G'G equals the naive one
    acc.addBatch(G);
    const want = refCovariance(G, n, dim).cov;
    const got = acc.covariance();
    let err = 0, scale = 0;
    for (let i = 0; i < want.length; i++) { err = Math.max(err, Math.abs(got[i] - want[i])); scale = Math.max(scale, Math.abs(want[i])); }
    check(err <= 1e-12 * scale, `wasm covariance dim ${dim}: max error ${err}`);
    const M = new Matrix(n, dim);
    for (let r = 0; r < n; r++) for (let c = 0; c < dim; c++) M.set(r, c, G[r * dim + c]);
    const naive = gramNaive(G, n, dim);
    const ml = M.transpose().mmul(M);
    check(Math.abs(ml.get(dim - 1, 0) - naive[(dim - 1) * dim]) <= 1e-9 * Math.abs(naive[0]), `ml-matrix G'G dim ${dim}`);
    const out = new Float64Array(dim * dim);
    rows.push(...await suite(`covariance:dim=${dim}`, {
      unit: 'FLOP',
      work: 2 * n * dim * dim,
      minSamples: dim === 1024 ? 2 : 5,
      cases: [
        { name: `wasm GradientCovariance.addBatch (${n}x${dim})`, fn: () => { acc.reset(); acc.addBatch(G); } },
        { name: `wasm addBatch, Float32Array input`, fn: ((G32) => () => { acc.reset(); acc.addBatch(G32); })(Float32Array.from(G)) },
        { name: `plain TS naive G'G`, baseline: true, fn: () => gramNaive(G, n, dim, out) },
        { name: `ml-matrix transpose().mmul()`, fn: () => M.transpose().mmul(M) },
      ],
    }));
    acc.dispose();
  }
  return rows;
}
