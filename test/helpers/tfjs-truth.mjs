// Truth for the gradcov/tfjs tests, in plain JavaScript with no imports (the e2e tests run it
// inside the project the tarball is installed into, with that project's TF.js): the exact
// Gauss–Newton matrix G = (1/N) sum_i J_i' J_i of a model from per-sample, per-output
// gradients, flattened in the given variable order, and the paired estimate's predicted
// relative Frobenius error sqrt(((tr G)^2 + ||G||_F^2) / m) / ||G||_F (docs/estimators.md).

/** Exact G (dim x dim, Float64Array) of `forward` (x: Tensor2D [1, f] -> [1, k]) over the rows of xs. */
export function exactGaussNewton(tf, forward, vars, xs) {
  const rows = xs.shape[0],
    features = xs.shape[1];
  const dim = vars.reduce((s, v) => s + v.size, 0);
  const G = new Float64Array(dim * dim);
  const k = tf.tidy(() => forward(tf.slice(xs, [0, 0], [1, features])).shape[1]);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < k; c++) {
      const J = tf.tidy(() => {
        const { grads, value } = tf.variableGrads(
          () => tf.sum(tf.slice(forward(tf.slice(xs, [i, 0], [1, features])), [0, c], [1, 1])),
          vars,
        );
        value.dispose();
        return tf.concat(vars.map((v) => tf.reshape(grads[v.name], [-1]))).dataSync();
      });
      for (let a = 0; a < dim; a++) {
        const ja = J[a] / rows;
        if (ja !== 0) for (let b = 0; b < dim; b++) G[a * dim + b] += ja * J[b];
      }
    }
  }
  return G;
}

export const frobenius = (a, b) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - (b ? b[i] : 0)) ** 2;
  return Math.sqrt(s);
};

/** Predicted relative Frobenius error of the paired estimate of G from m pairs. */
export function predictedPairedError(G, dim, m) {
  let tr = 0;
  for (let i = 0; i < dim; i++) tr += G[i * dim + i];
  const f = frobenius(G);
  return Math.sqrt((tr * tr + f * f) / m) / f;
}
