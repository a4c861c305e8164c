// The curvature of a TensorFlow.js MLP with about 100,000 parameters on the diabetes data,
// from gradients alone, sketched, and checked against the exact answer. Plain JavaScript
// with no imports: the caller passes its TF.js (`tf`), gradcov (`g`) and `tfjsOracle`, so
// the same code runs in examples/tfjs/scale.mts (the full run) and in
// test/e2e/tfjs-scale.test.ts (inside a project that installed the packed tarball).
//
// The estimate: tfjsOracle's gradients of the mean half-squared loss at perturbed targets
// (tf.variableGrads), `pairs` pairs of batches of `batchSize` rows, method 'paired', a
// Frequent Directions sketch of size `size`: the top k eigenvalues of G_hat with their
// certified intervals [eigenvalues[i], upper[i]], the exact diagonal and trace of G_hat.
//
// The truth: on the N = 442 samples, G = (1/N) sum_i J_i' J_i (J_i the 1 x p per-sample
// output gradient, from tf.variableGrads of each row's output). G has rank <= N, and its
// nonzero eigenvalues are those of the N x N Gram matrix K = J J' / N (an exact identity,
// computed here in f64), its eigenvectors J' u / sqrt(N lambda): so G's top eigenpairs are
// exact to rounding (the per-sample gradients are TF.js's f32), as Lanczos on the exact
// products G v = J'(J v) / N would give them, and diag(G) = (1/N) sum_i J_i^2 is exact.

/** Splits features.txt / target.txt text (whitespace-separated rows) into numbers. */
export function parseRows(text) {
  return text
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number));
}

/** The model: inputs -> hidden -> hidden -> 1, tanh, seeded initialisers (an untrained w). */
export function buildModel(tf, inputs, hidden, seed) {
  const dense = (units, activation, i, shape) =>
    tf.layers.dense({
      ...(shape ? { inputShape: shape } : {}),
      units,
      activation,
      kernelInitializer: tf.initializers.glorotNormal({ seed: seed * 10 + i }),
      biasInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.1, seed: seed * 10 + i + 5 }),
    });
  return tf.sequential({
    layers: [dense(hidden, 'tanh', 1, [inputs]), dense(hidden, 'tanh', 2), dense(1, 'linear', 3)],
  });
}

/** Eigen-decomposition of a symmetric n x n matrix (cyclic Jacobi in f64): values descending, vectors as rows. */
export function jacobiEigen(A0, n) {
  const A = Float64Array.from(A0),
    V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0,
      total = 0;
    for (let p = 0; p < n; p++)
      for (let q = 0; q < n; q++) {
        const v = A[p * n + q] ** 2;
        total += v;
        if (p !== q) off += v;
      }
    if (off <= 1e-30 * total) break;
    for (let p = 0; p < n - 1; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < n; k++) {
          const ap = A[p * n + k],
            aq = A[q * n + k];
          A[p * n + k] = c * ap - s * aq;
          A[q * n + k] = s * ap + c * aq;
        }
        for (let k = 0; k < n; k++) {
          const ap = A[k * n + p],
            aq = A[k * n + q];
          A[k * n + p] = c * ap - s * aq;
          A[k * n + q] = s * ap + c * aq;
        }
        for (let k = 0; k < n; k++) {
          const vp = V[p * n + k],
            vq = V[q * n + k];
          V[p * n + k] = c * vp - s * vq;
          V[q * n + k] = s * vp + c * vq;
        }
      }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => A[b * n + b] - A[a * n + a]);
  return {
    values: Float64Array.from(order, (i) => A[i * n + i]),
    vectors: order.map((i) => V.slice(i * n, (i + 1) * n)),
  };
}

/** K = J J' (rows x rows, f64) of the rows x dim matrix J (Float32Array), 4 x 4 tiles. */
function gram(J, rows, dim) {
  const K = new Float64Array(rows * rows);
  const dot = (a, b) => {
    let s = 0;
    for (let c = 0; c < dim; c++) s += J[a + c] * J[b + c];
    return s;
  };
  for (let i = 0; i < rows; i += 4)
    for (let j = i; j < rows; j += 4) {
      const s = new Float64Array(16);
      if (i + 4 <= rows && j + 4 <= rows) {
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0; // prettier-ignore
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0; // prettier-ignore
        const a0 = i * dim, a1 = a0 + dim, a2 = a1 + dim, a3 = a2 + dim; // prettier-ignore
        const b0 = j * dim, b1 = b0 + dim, b2 = b1 + dim, b3 = b2 + dim; // prettier-ignore
        for (let c = 0; c < dim; c++) {
          const x0 = J[a0 + c], x1 = J[a1 + c], x2 = J[a2 + c], x3 = J[a3 + c]; // prettier-ignore
          const y0 = J[b0 + c], y1 = J[b1 + c], y2 = J[b2 + c], y3 = J[b3 + c]; // prettier-ignore
          s00 += x0 * y0;
          s01 += x0 * y1;
          s02 += x0 * y2;
          s03 += x0 * y3; // prettier-ignore
          s10 += x1 * y0;
          s11 += x1 * y1;
          s12 += x1 * y2;
          s13 += x1 * y3; // prettier-ignore
          s20 += x2 * y0;
          s21 += x2 * y1;
          s22 += x2 * y2;
          s23 += x2 * y3; // prettier-ignore
          s30 += x3 * y0;
          s31 += x3 * y1;
          s32 += x3 * y2;
          s33 += x3 * y3; // prettier-ignore
        }
        s.set([s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33]);
      } else {
        for (let p = 0; p < 4 && i + p < rows; p++)
          for (let q = 0; q < 4 && j + q < rows; q++) s[p * 4 + q] = dot((i + p) * dim, (j + q) * dim);
      }
      for (let p = 0; p < 4 && i + p < rows; p++)
        for (let q = 0; q < 4 && j + q < rows; q++) {
          K[(i + p) * rows + j + q] = s[p * 4 + q];
          K[(j + q) * rows + i + p] = s[p * 4 + q];
        }
    }
  return K;
}

/**
 * The exact top eigenpairs (`top` of them, vectors as rows of length dim) and the exact
 * diagonal of G = (1/N) sum_i J_i' J_i of the model over all rows of xs.
 */
export function exactCurvature(tf, model, xs, top) {
  const vars = model.trainableWeights.map((w) => w.read());
  const dim = vars.reduce((s, v) => s + v.size, 0),
    rows = xs.shape[0],
    features = xs.shape[1];
  const J = new Float32Array(rows * dim);
  for (let i = 0; i < rows; i++) {
    const row = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(model.apply(tf.slice(xs, [i, 0], [1, features]))),
        vars,
      );
      value.dispose();
      return tf.concat(vars.map((v) => tf.reshape(grads[v.name], [-1]))).dataSync();
    });
    J.set(row, i * dim);
  }
  const diagonal = new Float64Array(dim);
  for (let i = 0; i < rows; i++)
    for (let a = 0; a < dim; a++) diagonal[a] += (J[i * dim + a] * J[i * dim + a]) / rows;
  const K = gram(J, rows, dim);
  for (let i = 0; i < K.length; i++) K[i] /= rows;
  const { values, vectors } = jacobiEigen(K, rows);
  const eigenvectors = new Float64Array(top * dim);
  for (let t = 0; t < top; t++) {
    // v = J' u / sqrt(N lambda): unit length because u' K u = lambda
    const u = vectors[t],
      scale = 1 / Math.sqrt(rows * values[t]);
    for (let i = 0; i < rows; i++) {
      const ui = u[i] * scale;
      for (let a = 0; a < dim; a++) eigenvectors[t * dim + a] += ui * J[i * dim + a];
    }
  }
  return {
    dim,
    eigenvalues: values.slice(0, top),
    eigenvectors,
    diagonal,
    trace: values.reduce((s, v) => s + v, 0),
  };
}

/** The largest principal angle (radians) between the row spans of two k x dim orthonormal sets. */
export function subspaceAngle(A, B, k, dim) {
  const M = new Float64Array(k * k); // A B'
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let a = 0; a < dim; a++) s += A[i * dim + a] * B[j * dim + a];
      M[i * k + j] = s;
    }
  const MtM = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let r = 0; r < k; r++) s += M[r * k + i] * M[r * k + j];
      MtM[i * k + j] = s;
    }
  const smallest = jacobiEigen(MtM, k).values[k - 1]; // cos^2 of the largest angle
  return Math.acos(Math.min(1, Math.sqrt(Math.max(0, smallest))));
}

/**
 * Runs the estimate and the truth; returns the figures (no large arrays). Options: features,
 * target (rows of numbers), hidden (default 310: 100,131 parameters), batchSize (32), pairs
 * (2000), size (32), k (10), seed (1), onProgress(done, total), truth (default true; false: the
 * estimate and its time split only).
 */
export async function runScale({ tf, g, tfjsOracle }, o) {
  const hidden = o.hidden ?? 310,
    n = o.batchSize ?? 32,
    pairs = o.pairs ?? 2000,
    size = o.size ?? 32,
    k = o.k ?? 10,
    seed = o.seed ?? 1;
  const data = g.standardize({
    X: Float64Array.from(o.features.flat()),
    y: Float64Array.from(o.target.flat()),
    rows: o.features.length,
    dim: o.features[0].length,
  });
  const xs = tf.tensor2d(Float32Array.from(data.X), [data.rows, data.dim]);
  const ys = tf.tensor2d(Float32Array.from(data.y), [data.rows, 1]);
  const model = buildModel(tf, data.dim, hidden, seed);
  try {
    const { oracle, dim } = tfjsOracle(model, xs, ys, { batchSize: n, seed });
    const tensorsBefore = tf.memory().numTensors;
    let tfMs = 0,
      calls = 0;
    const timed = (request) => {
      const t = performance.now();
      const gradient = oracle(request);
      tfMs += performance.now() - t;
      if (++calls % 200 === 0 && o.onProgress) o.onProgress(calls, 2 * pairs);
      return gradient;
    };
    const t0 = performance.now();
    const est = await g.estimateCurvature(timed, {
      dim,
      batchSize: n,
      batches: pairs,
      seed,
      method: 'paired',
      sketch: { size, k },
    });
    const wallMs = performance.now() - t0;
    if (o.truth === false) {
      // the time split only (the benchmark's row)
      return { dim, pairs, size, gradients: calls, tfMs, gradcovMs: wallMs - tfMs, wallMs, trace: est.trace };
    }
    const t1 = performance.now();
    const truth = exactCurvature(tf, model, xs, k);
    const truthMs = performance.now() - t1;
    let diagErr = 0,
      diagNorm = 0;
    for (let a = 0; a < dim; a++) {
      diagErr += (est.diagonal[a] - truth.diagonal[a]) ** 2;
      diagNorm += truth.diagonal[a] ** 2;
    }
    const top = Math.min(5, k);
    // the paired estimate's sampling error of a well-separated eigenvalue (docs/sketch.md)
    const relativeSd = Math.sqrt((2 + 6 / n) / pairs);
    return {
      dim,
      rows: data.rows,
      batchSize: n,
      pairs,
      size,
      gradients: calls,
      exact: Array.from(truth.eigenvalues),
      eigenvalues: Array.from(est.eigenvalues),
      upper: Array.from(est.upper),
      shrinkage: est.shrinkage,
      relativeSd,
      diagonalError: Math.sqrt(diagErr / diagNorm),
      trace: est.trace,
      exactTrace: truth.trace,
      angleDegrees: (subspaceAngle(est.eigenvectors, truth.eigenvectors, top, dim) * 180) / Math.PI,
      angleVectors: top,
      tfMs,
      gradcovMs: wallMs - tfMs,
      wallMs,
      truthMs,
      leaked: tf.memory().numTensors - tensorsBefore,
    };
  } finally {
    model.dispose();
    xs.dispose();
    ys.dispose();
  }
}
