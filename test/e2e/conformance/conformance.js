// The conformance script: the public API on fixed seeds, summarised as JSON. Every runtime
// test (Node main thread and worker_threads, Chromium main thread and Web Worker, Vercel's
// edge-runtime, workerd, Deno, Bun, the installed tarball) runs this same file and must
// produce the identical summary: the noise and the results are bit-identical across engines.
// Plain ESM JavaScript importing the package by its public name, so each runtime resolves
// 'gradcov' its own way (package self-reference, an import map, a bundler condition).
import * as g from 'gradcov';

/** FNV-1a (32-bit) over the bytes of a typed array, as 8 hex digits. */
export function fnv1a(view) {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * Runs the checks and returns the summary. `source` goes to init(): omit it to load the
 * bundled .wasm the runtime's entry knows, or pass a compiled WebAssembly.Module. The
 * plain SIMD build is forced: it is the one promised bit-identical on every engine
 * (engines with relaxed SIMD would otherwise pick the fused-multiply-add build).
 */
export async function conformance(source) {
  await g.init(source, { build: 'simd' });

  // 10^5 standard normals from Philox4x32-10 + Box-Muller (log, sin, cos computed in wasm)
  const z = new g.Rng(20260101, 3).normals(new Float64Array(100000));
  let sum = 0;
  for (let i = 0; i < z.length; i++) sum += z[i];
  const normals = {
    count: z.length,
    fnv1a: fnv1a(z),
    first: z[0],
    last: z[z.length - 1],
    mean: sum / z.length,
  };

  // a small synthetic problem: dim 9 (odd, crosses the 4x4 tile), condition 2^8 so that the
  // spectrum condition ** (i / 8) = 2^i is exact whatever the engine's Math.pow
  const dim = 9;
  const { data, wStar } = g.syntheticRegression({ dim, rows: 1500, condition: 256, seed: 11 });
  const H = g.secondMomentMatrix(data);
  const n = 32;
  const tau2 = g.calibratedNoiseVariance(n, { baseNoiseVariance: 1 });

  // GradientCovariance: two accumulators over halves of the batches, merged
  const G = g.linearRegressionGradients(data, wStar, {
    batchSize: n,
    batches: 1200,
    noiseVariance: tau2,
    seed: 5,
  });
  const a = new g.GradientCovariance(dim);
  const b = new g.GradientCovariance(dim);
  a.addBatch(G.subarray(0, 700 * dim));
  b.addBatch(new Float32Array(G.subarray(700 * dim)));
  a.merge(b);
  const C = a.covariance();
  const covariance = {
    count: a.count,
    fnv1a: fnv1a(C),
    mean: fnv1a(a.mean()),
    c00: C[0],
    relativeError: g.relativeError(C, H, dim),
  };
  a.dispose();
  b.dispose();

  // estimateHessian with the calibrated noise, and the operator norm of its result
  const est = g.estimateHessian(data, wStar, { batchSize: n, batches: 3000, baseNoiseVariance: 1, seed: 7 });
  const estimate = {
    noiseVariance: est.noiseVariance,
    fnv1a: fnv1a(est.hessian),
    h00: est.hessian[0],
    relativeError: g.relativeError(est.hessian, H, dim),
  };
  const norm = g.operatorNorm(est.hessian, dim, { seed: 2 });
  const operatorNorm = { value: norm.value, iterations: norm.iterations, converged: norm.converged };

  return {
    normals,
    covariance,
    estimate,
    operatorNorm,
    data: { X: fnv1a(data.X), y: fnv1a(data.y), H: fnv1a(H) },
  };
}
