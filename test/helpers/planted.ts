// The scale check of the sketched paired estimate against a planted spectrum (src/data/planted.ts,
// H = Q diag(s) Q' known exactly): shared by test/sketch/planted.test.ts (2^17) and
// test/long/sketch-scale.test.ts (2^20). Tolerances are stated, from the sampling law of the rows.
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';

/** Four outliers 64, 32, 16, 8 over a decaying bulk 2 / (1 + j / 4)^2 (trace of the bulk about 8). */
export function plantedSpectrumOf(dim: number): Float64Array {
  return Float64Array.from({ length: dim }, (_, i) => (i < 4 ? 64 / 2 ** i : 2 / (1 + (i - 4) / 4) ** 2));
}

/**
 * Runs estimateCurvature (method 'paired', sketch of size l) on the planted oracle and checks:
 * - each outlier s_i (i < 4) lies in [lambda_i - t_i, upper_i + t_i] with
 *   t_i = 4 s_i sqrt((2 + 6/n) / m) + tr(H) / m: the paired rows are N(0, c_b H) with
 *   c_b = |eta_b|^2 / n (eta the standardised noise difference), so a well-separated eigenvalue
 *   of G_hat has relative sd sqrt((2 + 6/n) / m) (4 sd), plus the spiked-model shift tr(H) / m;
 * - the diagonal: every entry of diag(H) is tr / dim; given the noise, entry j of diag(G_hat) has
 *   mean mu = (tr / dim) mean(c_b) and sd mu sqrt(2 sum c_b^2) / sum c_b: every standardised
 *   entry within 6 sd; and its sum, tr(G_hat), has mean tr mean(c_b) and sd
 *   sqrt(2 sum c_b^2 sum s_i^2) / m: within 4 sd (the entries share the outliers' common
 *   factor, so their spread across j is below the per-entry sd: no RMS check);
 * - the shrinkage within the FD bound: for every k < l returned, shrinkage <= (trace - sum_{i<k}
 *   lambda_i) / (l - k) (which is >= ||A - A_k||_F^2 / (m (l - k)), the bound itself);
 * - trace = the sum of the diagonal.
 * Returns the result and the seconds it took.
 */
export async function checkPlanted(
  dim: number,
  n: number,
  m: number,
  l: number,
): Promise<{ result: g.SketchedCurvature; seconds: number }> {
  const s = plantedSpectrumOf(dim);
  const p = g.plantedSpectrum({ spectrum: s, batchSize: n, seed: 7 });
  const c: number[] = [];
  const noise = new Map<number, Float64Array>();
  const oracle = (req: g.GradientRequest) => {
    if (req.draw === 0) noise.set(req.batch, req.noise.slice());
    else {
      const a = noise.get(req.batch)!;
      noise.delete(req.batch);
      let e = 0;
      for (let i = 0; i < n; i++) e += (req.noise[i]! - a[i]!) ** 2 / (2 * req.noiseVariance);
      c[req.batch] = e / n;
    }
    return p.oracle(req);
  };
  const t0 = performance.now();
  const r = await g.estimateCurvature(oracle, {
    dim,
    batchSize: n,
    batches: m,
    seed: 3,
    method: 'paired',
    sketch: { size: l },
    concurrency: 1,
  });
  const seconds = (performance.now() - t0) / 1000;
  assert.is(r.eigenvalues.length, Math.min(10, l - 1));
  assert.is(r.eigenvectors.length, r.eigenvalues.length * dim);
  for (let i = 0; i < 4; i++) {
    const t = 4 * s[i]! * Math.sqrt((2 + 6 / n) / m) + p.trace / m;
    assert.ok(
      r.eigenvalues[i]! - t <= s[i]! && s[i]! <= r.upper[i]! + t,
      `dim ${dim}: s_${i} = ${s[i]} outside [${r.eigenvalues[i]} - ${t}, ${r.upper[i]} + ${t}]`,
    );
    // its eigenvector: the planted column of Q (|cos| near 1 for a separated outlier)
    const q = p.eigenvector(i);
    let dot = 0;
    for (let j = 0; j < dim; j++) dot += q[j]! * r.eigenvectors[i * dim + j]!;
    assert.ok(Math.abs(dot) > 0.9, `dim ${dim}: eigenvector ${i} |cos| ${Math.abs(dot)}`);
  }
  let sc = 0,
    sc2 = 0;
  for (const v of c) {
    sc += v;
    sc2 += v * v;
  }
  const mu = (p.diagonal * sc) / m,
    sd = (mu * Math.sqrt(2 * sc2)) / sc;
  let worst = 0,
    sum = 0;
  for (let j = 0; j < dim; j++) {
    worst = Math.max(worst, Math.abs((r.diagonal[j]! - mu) / sd));
    sum += r.diagonal[j]!;
  }
  assert.ok(worst < 6, `dim ${dim}: largest standardised diagonal entry ${worst}`);
  let s2 = 0;
  for (const v of s) s2 += v * v;
  const sdTrace = Math.sqrt(2 * sc2 * s2) / m;
  assert.ok(
    Math.abs(r.trace - (p.trace * sc) / m) < 4 * sdTrace,
    `dim ${dim}: trace ${r.trace}, expected ${(p.trace * sc) / m} +- ${sdTrace}`,
  );
  let top = 0;
  for (let k = 0; k < r.eigenvalues.length; k++) {
    assert.ok(
      r.shrinkage <= ((r.trace - top) / (l - k)) * (1 + 1e-9),
      `dim ${dim}: shrinkage ${r.shrinkage} above the FD bound at k = ${k}`,
    );
    top += r.eigenvalues[k]!;
  }
  assert.ok(Math.abs(r.trace - sum) <= 1e-9 * r.trace, 'trace = sum of the diagonal');
  return { result: r, seconds };
}
