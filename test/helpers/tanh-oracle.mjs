// A plain-JS nonlinear gradient oracle for the block tests (any thread builds the same one):
// the model f(x; w) = tanh(w . x) on fixed pseudo-random data, trained with the mean
// half-squared loss; batch b uses rows (b n + i) mod rows. Deterministic arithmetic only
// (Math.tanh, sums in a fixed order), so every worker answers a batch with the same bits.

/**
 * @param {{ rows: number, dim: number, batchSize: number, seed?: number }} o
 * @returns {(req: { batch: number, noise: Float64Array }) => Float64Array}
 */
export function tanhOracle({ rows, dim, batchSize, seed = 1 }) {
  const X = new Float64Array(rows * dim),
    y = new Float64Array(rows),
    w = new Float64Array(dim);
  // a fixed LCG (integer steps, exact in doubles) mapped to [-1, 1)
  let s = (seed * 2654435761) % 4294967296;
  const next = () => {
    s = (s * 1664525 + 1013904223) % 4294967296;
    return s / 2147483648 - 1;
  };
  for (let i = 0; i < X.length; i++) X[i] = next();
  for (let j = 0; j < dim; j++) w[j] = 0.5 * next();
  for (let i = 0; i < rows; i++) y[i] = 0.3 * next();
  return ({ batch, noise }) => {
    const g = new Float64Array(dim);
    for (let i = 0; i < batchSize; i++) {
      const r = (batch * batchSize + i) % rows;
      let z = 0;
      for (let j = 0; j < dim; j++) z += w[j] * X[r * dim + j];
      const f = Math.tanh(z);
      const c = ((f - (y[r] + noise[i])) * (1 - f * f)) / batchSize;
      for (let j = 0; j < dim; j++) g[j] += c * X[r * dim + j];
    }
    return g;
  };
}
