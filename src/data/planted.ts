// A linear model with a planted spectrum at any power-of-two dim, whose Hessian is known
// exactly and cheap to apply: H = Q diag(s) Q' with Q = D W / sqrt(dim) (W the Walsh-Hadamard
// matrix, D random signs), applied by the fast Walsh-Hadamard transform in O(dim log dim).
// Inputs x = Q diag(sqrt(s)) z (z standard normal), so E[x x'] = H; every diagonal entry of H
// is tr(H) / dim. The paired-noise oracle below answers estimateCurvature's requests for it
// (docs/sketch.md checks the sketch against it at 2^17 and 2^20 parameters).
import { Rng } from '../core/rng.js';
import {
  checkOptions,
  checkPositiveInteger,
  checkFloat64Array,
  checkFinite,
  checkSeed,
  show,
  typedView,
  fail,
} from '../core/validate.js';

/**
 * The Walsh-Hadamard transform of v in place (unnormalised: W W = dim I), dim a power of two.
 * @param v - the vector (length a power of two)
 * @returns v
 * @throws {TypeError} when v is not a Float64Array; RangeError when its length is not a power of two
 */
export function walshHadamard(v: Float64Array): Float64Array {
  // in place: a view of the caller's memory, read through intrinsics (validate.ts typedView)
  const view = typedView(v, ['Float64Array']);
  if (view === undefined) fail(TypeError, 'v', 'a Float64Array', v);
  const n = view.length;
  if (n & (n - 1))
    throw new RangeError(`invalid argument: \`v.length\` must be a power of two. Value: \`${n}\`.`);
  for (let h = 1; h < n; h *= 2) {
    for (let i = 0; i < n; i += 2 * h) {
      for (let j = i; j < i + h; j++) {
        const a = view[j]!,
          b = view[j + h]!;
        view[j] = a + b;
        view[j + h] = a - b;
      }
    }
  }
  return v;
}

/** Options of plantedSpectrum. */
export interface PlantedSpectrumOptions {
  /** The spectrum s (length dim, a power of two; non-negative): H's eigenvalues, s[i] belonging to column i of Q. */
  spectrum: Float64Array;
  /** Samples per batch n of the oracle. */
  batchSize: number;
  /** Seed of the signs D and of the inputs. */
  seed: number | bigint;
}

/** A planted problem: its exact Hessian's pieces and a paired-noise gradient oracle. */
export interface PlantedSpectrum {
  /** dim. */
  dim: number;
  /** The eigenvalues s (a copy, in the given order). */
  spectrum: Float64Array;
  /** Every diagonal entry of H (tr(H) / dim). */
  diagonal: number;
  /** tr(H). */
  trace: number;
  /** Column i of Q: the unit eigenvector of s[i]. */
  eigenvector(i: number): Float64Array;
  /** Q v (O(dim log dim)). */
  rotate(v: Float64Array): Float64Array;
  /**
   * estimateCurvature's oracle for this model at w = w* (no residual, no label noise): the
   * gradient g(xi) = -(1/n) sum_i x_i xi_i of batch `batch` at its noise. The batch's inputs
   * are fixed by (seed, batch) and enter only through Z'xi, which the oracle draws exactly
   * from its joint Gaussian law: draw 1 of a batch must follow its draw 0 (as estimateCurvature
   * asks them).
   */
  oracle(request: { batch: number; draw: 0 | 1; noise: Float64Array }): Float64Array;
}

/**
 * A linear model with a planted spectrum in a randomised Hadamard basis (see the file head).
 *
 * @param options - spectrum (length a power of two), batchSize, seed
 * @returns the problem and its oracle
 * @throws {TypeError|RangeError} for a bad option
 * @example
 * const s = new Float64Array(1024).map((_, i) => (i < 3 ? 50 / (i + 1) : 1 / (1 + i)));
 * const p = plantedSpectrum({ spectrum: s, batchSize: 32, seed: 1 });
 * const est = await estimateCurvature(p.oracle, { dim: 1024, batchSize: 32, batches: 200, seed: 1, method: 'paired', sketch: { size: 16 } });
 */
export function plantedSpectrum(options: PlantedSpectrumOptions): PlantedSpectrum {
  const o = checkOptions(
    'options',
    options,
    ['spectrum', 'batchSize', 'seed'],
    '`options` of plantedSpectrum',
  );
  const s = checkFloat64Array('spectrum', o.spectrum).slice();
  const dim = s.length;
  if (dim === 0 || dim & (dim - 1))
    throw new RangeError(`invalid argument: \`spectrum.length\` must be a power of two. Value: \`${dim}\`.`);
  checkFinite('spectrum', s);
  const neg = s.findIndex((v) => v < 0);
  if (neg >= 0)
    throw new RangeError(
      `invalid argument: \`spectrum\` must be non-negative. Value: \`${s[neg]}\` at index ${neg}.`,
    );
  const n = checkPositiveInteger('batchSize', o.batchSize);
  checkSeed('seed', o.seed);
  const seed = o.seed as number | bigint;
  const signs = new Rng(seed, 1).uniforms(new Float64Array(dim)).map((u) => (u < 0.5 ? -1 : 1));
  const root = s.map(Math.sqrt);
  const norm = 1 / Math.sqrt(dim);
  const rotate = (v: Float64Array): Float64Array => {
    const out = walshHadamard(Float64Array.from(v));
    for (let j = 0; j < dim; j++) out[j] = out[j]! * norm * signs[j]!;
    return out;
  };
  let trace = 0;
  for (const v of s) trace += v;
  const first = new Map<number, Float64Array>(); // draw 0's noise, until draw 1 of the batch
  const kept = new Map<number, Float64Array>(); // draw 0's z1 for draw 1 (at most 8 batches; else drawn again)
  const normals = (batch: number, k: number) =>
    new Rng(seed, 2 + 2 * batch + k).normals(new Float64Array(dim));
  return {
    dim,
    spectrum: s.slice(),
    diagonal: trace / dim,
    trace,
    rotate,
    eigenvector(i: number) {
      const e = new Float64Array(dim);
      e[checkPositiveInteger('i + 1', i + 1, dim) - 1] = 1;
      return rotate(e);
    },
    oracle({ batch, draw, noise }) {
      if (noise.length !== n)
        throw new RangeError(
          `invalid argument: \`noise\` must have batchSize (${n}) values. Value: length ${noise.length}.`,
        );
      // u = Z'xi for the batch's Z (dim x n standard normal): (Z'xi1, Z'xi2) is jointly Gaussian
      // with covariances |xi1|^2, xi1.xi2, |xi2|^2 (times I), drawn from two fixed normal vectors
      let u: Float64Array;
      const z1 = (draw === 1 ? kept.get(batch) : undefined) ?? normals(batch, 0);
      kept.delete(batch);
      if (draw === 0) {
        first.set(batch, noise.slice());
        if (kept.size >= 8) kept.delete(kept.keys().next().value!);
        kept.set(batch, z1.slice());
        let a = 0;
        for (const v of noise) a += v * v;
        const f = Math.sqrt(a);
        u = z1;
        for (let j = 0; j < dim; j++) u[j] = u[j]! * f;
      } else {
        const xi1 = first.get(batch);
        if (!xi1)
          throw new Error(
            `plantedSpectrum oracle: draw 1 of batch ${batch} came before its draw 0. Value: ${show(batch)}.`,
          );
        first.delete(batch);
        let a = 0,
          c = 0,
          b = 0;
        for (let i = 0; i < n; i++) {
          a += xi1[i]! ** 2;
          c += xi1[i]! * noise[i]!;
          b += noise[i]! ** 2;
        }
        const f = a > 0 ? c / Math.sqrt(a) : 0;
        const r = Math.sqrt(Math.max(b - f * f, 0));
        const z2 = normals(batch, 1);
        u = z1;
        for (let j = 0; j < dim; j++) u[j] = f * u[j]! + r * z2[j]!;
      }
      for (let j = 0; j < dim; j++) u[j] = (-u[j]! * root[j]!) / n;
      return rotate(u);
    },
  };
}
