// Operator norm of a symmetric indefinite matrix to 1e-9 relative accuracy: wasm Lanczos and
// power iteration vs plain-TS power iteration and ml-matrix's EigenvalueDecomposition.
// The spectrum has a 2% gap at the top (|lambda| = 1, 0.98, ... with alternating signs).
import { Matrix, EigenvalueDecomposition } from 'ml-matrix';
import * as g from '../dist/node.js';
import { powerIteration } from '../src/reference/spectral.ts';
import { suite, check } from './common.js';

export const DIMS = [16, 64, 256, 512, 1024];

export function testMatrix(dim) {
  const ev = Float64Array.from(
    { length: dim },
    (_, i) => (i % 2 ? -1 : 1) * (i === 0 ? 1 : 0.98 * (1 - i / dim)),
  );
  return g.matrixWithSpectrum(ev, g.randomOrthogonal(dim, 3));
}

export async function run(anchors) {
  const rows = [];
  for (const dim of DIMS) {
    const A = testMatrix(dim);
    const v0 = new g.Rng(0).normals(new Float64Array(dim));
    const M = new Matrix(dim, dim);
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) M.set(i, j, A[i * dim + j]);
    // validation: every contender reaches 1e-9 relative of the true norm (1 by construction)
    const tol = 1e-9;
    const lz = g.operatorNorm(A, dim, { tol });
    const pw = g.operatorNorm(A, dim, { tol, method: 'power' });
    const ts = powerIteration(A, undefined, dim, v0, tol, 1e6);
    const evd = new EigenvalueDecomposition(M, { assumeSymmetric: true }).realEigenvalues;
    const mlNorm = Math.max(...evd.map(Math.abs));
    for (const [name, v] of [
      ['lanczos', lz.value],
      ['wasm power', pw.value],
      ['TS power', ts.value],
      ['ml-matrix', mlNorm],
    ]) {
      check(Math.abs(v - 1) <= 2e-9, `${name} at dim ${dim}: ${v}`);
    }
    rows.push(
      ...(await suite(`operator-norm:dim=${dim}`, {
        unit: 'norms',
        work: 1,
        minSamples: dim >= 512 ? 3 : 5,
        anchors: anchors?.spectral?.[dim]
          ? [
              { name: 'numpy linalg.eigvalsh (all eigenvalues)', ms: anchors.spectral[dim].eigvalsh.ms },
              { name: 'numpy linalg.norm(A, 2) (an SVD)', ms: anchors.spectral[dim].norm2.ms },
            ]
          : [],
        cases: [
          { name: `wasm Lanczos (${lz.iterations} steps)`, fn: () => g.operatorNorm(A, dim, { tol }) },
          {
            name: `wasm power iteration (${pw.iterations} steps)`,
            fn: () => g.operatorNorm(A, dim, { tol, method: 'power' }),
          },
          {
            name: `plain TS power iteration (${ts.iterations} steps)`,
            baseline: true,
            fn: () => powerIteration(A, undefined, dim, v0, tol, 1e6),
          },
          {
            name: 'ml-matrix EigenvalueDecomposition',
            skip: dim > 512,
            fn: () => new EigenvalueDecomposition(M, { assumeSymmetric: true }),
          },
        ],
      })),
    );
  }
  return rows;
}
