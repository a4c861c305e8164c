/**
 * `import { tfjsOracle } from 'gradcov/tfjs'`: a TensorFlow.js model, its inputs and its targets as a gradient oracle for estimateCurvature (`@tensorflow/tfjs-core` as an optional peer dependency).
 *
 * @module gradcov/tfjs
 */
// gradcov/tfjs: a TensorFlow.js model, its inputs and its targets as a gradient oracle for
// estimateCurvature. `@tensorflow/tfjs-core` is an optional peer dependency of gradcov: it
// is imported from the user's install (never bundled), so the model, the tensors and the
// gradients all live in the user's TF.js engine and backend. The gradients must be
// registered (`@tensorflow/tfjs` does it; with tfjs-core alone import
// '@tensorflow/tfjs-core/dist/register_all_gradients'), see docs/tfjs.md.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../core/rng.js';
import {
  checkOptions,
  checkInteger,
  checkOneOf,
  checkSeed,
  checkStream,
  show,
  type FloatArray,
} from '../core/validate.js';
import type { GradientOracle, GradientRequest } from '../estimators/curvature.js';

/** A trainable weight as tf.LayersModel lists it (tfjs-layers' LayerVariable): its name, shape and tf.Variable. */
export interface LayerWeight {
  /** The weight's name, e.g. 'dense_Dense1/kernel'. */
  readonly name: string;
  /** The weight's shape. */
  readonly shape: number[];
  /** The tf.Variable that holds the values. */
  read(): tf.Variable;
}

/** What tfjsOracle uses of a tf.LayersModel: its trainable weights and its forward pass. */
export interface LayersModelLike {
  /** Trainable weights in the model's order (layers in order, each layer's kernel before its bias). */
  readonly trainableWeights: LayerWeight[];
  /** The forward pass on a batch of inputs (inference mode). */
  apply(inputs: tf.Tensor, kwargs?: Record<string, unknown>): tf.Tensor | tf.Tensor[] | unknown;
}

/** A model written as a function of the batch's inputs (closing over `options.variables`). */
export type ModelFunction = (inputs: tf.Tensor2D) => tf.Tensor;

/** The loss conventions of tfjsOracle. */
export const TFJS_LOSSES = ['mean-half-squared'] as const;

/** Options of tfjsOracle. */
export interface TfjsOracleOptions {
  /** Samples per batch n, an integer in [1, rows of xs]. */
  batchSize: number;
  /**
   * The loss whose gradients the oracle returns. Only 'mean-half-squared' (the default):
   * L = (1 / 2n) sum over the batch's samples and outputs of (f(x_i)_k - y_ik)^2, the loss
   * estimateCurvature's contract asks for; its Gauss–Newton matrix is G = E[J'J]. For
   * tf.losses.meanSquaredError (no half, also averaged over k outputs) the curvature is
   * (2 / k) G; for the sum over N samples, N (2 / k) G or N G with the half.
   */
  loss?: (typeof TFJS_LOSSES)[number];
  /** With a ModelFunction: the tf.Variables it reads, in the order of the flat vector (required). */
  variables?: tf.Variable[];
  /** Seed of the batches' rows (default 0): batch b uses the same rows for every draw. */
  seed?: number | bigint;
  /** Philox stream of the rows (default 0). */
  stream?: number;
}

/** One trainable variable's slice of a flat vector. */
export interface NamedValues {
  /** The variable's name. */
  name: string;
  /** The variable's shape. */
  shape: number[];
  /** Its values (row-major, as tf.Tensor.dataSync orders them), copied from the vector. */
  values: Float64Array;
}

/** Where one trainable variable sits in the flat vector. */
export interface VariableSlot {
  /** The variable's name (a LayersModel weight's name, or the tf.Variable's). */
  name: string;
  /** Its shape. */
  shape: number[];
  /** Its number of values. */
  size: number;
  /** Index of its first value in the flat vector. */
  offset: number;
}

/** What tfjsOracle returns: the oracle and the shape estimateCurvature needs, and the variable layout. */
export interface TfjsOracle {
  /** The gradient oracle for estimateCurvature (synchronous; Float32Array of length dim). */
  oracle: GradientOracle;
  /** Number of trainable parameters p: the sum of the variables' sizes. */
  dim: number;
  /** Outputs per sample k (columns of ys): pass it to estimateCurvature as `outputs` when k > 1. */
  outputs: number;
  /** The batch size n (pass it to estimateCurvature as `batchSize`). */
  batchSize: number;
  /** The variables in the flat order: name, shape, size and offset in the vector. */
  variables: VariableSlot[];
  /** Splits a vector of length dim (an eigenvector, the diagonal) into the named variables. */
  unflatten(vector: ArrayLike<number>): NamedValues[];
}

function isLayersModel(model: unknown): model is LayersModelLike {
  return (
    typeof model === 'object' &&
    model !== null &&
    'trainableWeights' in model &&
    typeof (model as { apply?: unknown }).apply === 'function'
  );
}

function checkTensor2D(name: string, value: unknown): tf.Tensor2D {
  if (!(value instanceof tf.Tensor))
    throw new TypeError(`invalid argument: \`${name}\` must be a tf.Tensor2D. Value: ${show(value)}.`);
  if (value.isDisposed)
    throw new TypeError(
      `invalid argument: \`${name}\` must be a live tf.Tensor2D. Value: a disposed tensor.`,
    );
  if (value.rank !== 2)
    throw new RangeError(
      `invalid argument: \`${name}\` must be a tf.Tensor2D (rank 2). Value: a tensor of shape [${value.shape.join(', ')}].`,
    );
  if (value.dtype !== 'float32')
    throw new TypeError(
      `invalid argument: \`${name}\` must have dtype float32. Value: dtype ${value.dtype}.`,
    );
  return value as tf.Tensor2D;
}

/**
 * Turns a TF.js model, its inputs `xs` (N x features) and targets `ys` (N x k) into the
 * gradient oracle of estimateCurvature: batch b is `batchSize` rows drawn uniformly with
 * replacement (a function of seed, stream and b only), the oracle adds gradcov's noise to
 * their targets and returns tf.variableGrads of the mean half-squared loss, flattened in
 * the variables' order (a tf.LayersModel's `trainableWeights`, or `options.variables`).
 * No tensor outlives a call (tf.tidy); xs and ys stay the caller's (not disposed).
 *
 * @param model a tf.LayersModel (anything with `trainableWeights` and `apply`), or a function
 *   of a batch's inputs that reads `options.variables`
 * @param xs inputs, float32 tf.Tensor2D of N rows
 * @param ys targets, float32 tf.Tensor2D of N rows and k columns (the model's outputs)
 * @throws {TypeError|RangeError} for a model without trainable variables, tensors that are not
 *   float32 rank 2 or whose rows differ, a model output of the wrong shape, a batchSize
 *   outside [1, N], or an unknown option
 * @example
 * const { oracle, dim } = tfjsOracle(model, xs, ys, { batchSize: 32 });
 * const G = await estimateCurvature(oracle, { dim, batchSize: 32, batches: 4000, seed: 1, method: 'paired' });
 */
export function tfjsOracle(
  model: LayersModelLike | ModelFunction,
  xs: tf.Tensor2D,
  ys: tf.Tensor2D,
  options: TfjsOracleOptions,
): TfjsOracle {
  const o = checkOptions('options', options, ['batchSize', 'loss', 'variables', 'seed', 'stream']);
  const X = checkTensor2D('xs', xs),
    Y = checkTensor2D('ys', ys);
  const rows = X.shape[0],
    outputs = Y.shape[1];
  if (Y.shape[0] !== rows)
    throw new RangeError(
      `invalid argument: \`ys\` must have as many rows as \`xs\` (${rows}). Value: ${Y.shape[0]} rows.`,
    );
  if (rows === 0) throw new RangeError('invalid argument: `xs` must have at least one row. Value: 0 rows.');
  if (outputs === 0)
    throw new RangeError('invalid argument: `ys` must have at least one column. Value: 0 columns.');
  const n = checkInteger('batchSize', o.batchSize, 1, rows);
  checkOneOf('loss', o.loss ?? 'mean-half-squared', TFJS_LOSSES);
  const [k0, k1] = checkSeed('seed', o.seed ?? 0);
  const rowSeed = (BigInt(k1) << 32n) | BigInt(k0);
  const stream = checkStream('stream', o.stream ?? 0);

  let vars: tf.Variable[], names: string[], forward: (x: tf.Tensor2D) => tf.Tensor;
  if (isLayersModel(model)) {
    if (o.variables !== undefined)
      throw new TypeError(
        'invalid argument: `variables` is for a model function; a tf.LayersModel lists its own trainableWeights.',
      );
    const weights = Array.from(model.trainableWeights);
    vars = weights.map((w) => w.read());
    names = weights.map((w) => w.name);
    forward = (x) => {
      const out = model.apply(x, { training: false });
      if (!(out instanceof tf.Tensor))
        throw new TypeError(`invalid argument: \`model\` must return one tensor. Value: ${show(out)}.`);
      return out;
    };
  } else if (typeof model === 'function') {
    if (!Array.isArray(o.variables))
      throw new TypeError(
        `invalid argument: \`variables\` must be the array of tf.Variables a model function reads. Value: ${show(o.variables)}.`,
      );
    vars = Array.from(o.variables as unknown[]).map((v, i) => {
      if (!(v instanceof tf.Variable))
        throw new TypeError(
          `invalid argument: \`variables[${i}]\` must be a tf.Variable. Value: ${show(v)}.`,
        );
      return v;
    });
    names = vars.map((v) => v.name);
    forward = model;
  } else {
    throw new TypeError(
      `invalid argument: \`model\` must be a tf.LayersModel or a function of the inputs. Value: ${show(model)}.`,
    );
  }
  vars = vars.filter((v) => v.trainable);
  if (vars.length === 0)
    throw new TypeError('invalid argument: `model` must have trainable variables. Value: none.');
  const seen = new Set<string>();
  for (const v of vars) {
    if (v.dtype !== 'float32')
      throw new TypeError(
        `invalid argument: variable \`${v.name}\` must have dtype float32. Value: dtype ${v.dtype}.`,
      );
    if (seen.has(v.name))
      throw new RangeError(
        `invalid argument: variable names must be distinct (tf.variableGrads keys gradients by name). Value: \`${v.name}\` twice.`,
      );
    seen.add(v.name);
  }
  const layout: VariableSlot[] = [];
  let dim = 0;
  vars.forEach((v, i) => {
    layout.push({ name: names[i] ?? v.name, shape: [...v.shape], size: v.size, offset: dim });
    dim += v.size;
  });

  // one probe row: the model's output must be [1, k], k the columns of ys, and TF.js must
  // have the gradients of every kernel the loss uses (tfjs-core alone registers none)
  tf.tidy(() => {
    const x = tf.slice(X, [0, 0], [1, X.shape[1]]) as tf.Tensor2D,
      y = tf.slice(Y, [0, 0], [1, outputs]);
    const shape = forward(x).shape;
    if (shape.length !== 2 || shape[0] !== 1 || shape[1] !== outputs) {
      throw new RangeError(
        `invalid argument: \`model\` must map one row of xs to [1, ${outputs}] (the columns of ys). Value: output shape [${shape.join(', ')}].`,
      );
    }
    try {
      tf.variableGrads(() => tf.div(tf.sum(tf.square(tf.sub(forward(x), y))), 2) as tf.Scalar, vars);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (!/gradient function not found/i.test(message)) throw e;
      throw new TypeError(
        `TF.js cannot differentiate the model: ${message}. Register the gradients: use @tensorflow/tfjs, or with @tensorflow/tfjs-core import '@tensorflow/tfjs-core/dist/register_all_gradients' through a bundler (see docs/tfjs.md).`,
        { cause: e },
      );
    }
  });

  const rowsOf = (batch: number, into: Int32Array, u: Float64Array): Int32Array => {
    new Rng(rowSeed, stream).seek(batch * n).uniforms(u);
    for (let j = 0; j < n; j++) into[j] = Math.min(Math.floor(u[j]! * rows), rows - 1);
    return into;
  };
  const idxBuf = new Int32Array(n),
    uBuf = new Float64Array(n),
    noiseBuf = new Float32Array(n * outputs);
  const oracle: GradientOracle = ({ batch, noise }: GradientRequest) => {
    rowsOf(batch, idxBuf, uBuf);
    noiseBuf.set(noise);
    const flat = tf.tidy(() => {
      const idx = tf.tensor1d(idxBuf, 'int32');
      const target = tf.add(tf.gather(Y, idx), tf.tensor2d(noiseBuf, [n, outputs]));
      const x = tf.gather(X, idx) as tf.Tensor2D;
      const loss = () => tf.div(tf.sum(tf.square(tf.sub(forward(x), target))), 2 * n) as tf.Scalar;
      const { grads, value } = tf.variableGrads(loss, vars);
      value.dispose();
      return tf.concat(vars.map((v) => tf.reshape(grads[v.name]!, [-1])));
    });
    try {
      return flat.dataSync() as Float32Array;
    } finally {
      flat.dispose();
    }
  };

  const unflatten = (vector: ArrayLike<number>): NamedValues[] => {
    const ok = Array.isArray(vector) || (ArrayBuffer.isView(vector) && !(vector instanceof DataView));
    if (!ok)
      throw new TypeError(
        `invalid argument: \`vector\` must be an array of ${dim} numbers. Value: ${show(vector)}.`,
      );
    const v = vector as FloatArray;
    if (v.length !== dim)
      throw new RangeError(
        `invalid argument: \`vector\` must have length ${dim} (dim). Value: length ${v.length}.`,
      );
    return layout.map((l) => ({
      name: l.name,
      shape: [...l.shape],
      values: Float64Array.from(v.slice(l.offset, l.offset + l.size)),
    }));
  };
  return {
    oracle,
    dim,
    outputs,
    batchSize: n,
    variables: layout.map((l) => ({ ...l, shape: [...l.shape] })),
    unflatten,
  };
}
