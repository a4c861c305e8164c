import { wasm, alloc, f64 } from './wasm.js';
import {
  checkSeed,
  checkStream,
  checkFloat64Array,
  checkNumber,
  checkNonNegative,
  checkInteger,
} from './validate.js';

/** Philox domains (counter word c2) of the public generator's two sequences. */
const DOMAIN_NORMAL = 0;
const DOMAIN_UNIFORM = 1;
const MODE_UNIFORM = 0;
const MODE_NORMAL = 1;
/** Bound on |z| of the generator's normals: sqrt(-2 ln u) with u >= 2^-53 is below 8.58. */
const Z_MAX = 8.58;
/** Values per kernel call: a 64 KiB scratch stays in L2 for the copy out (measured faster than 512 KiB). */
const CHUNK = 8192;

let scratchPtr = 0;

function scratch(): number {
  if (!scratchPtr) scratchPtr = alloc(CHUNK * 8, 'the random-number scratch buffer');
  return scratchPtr;
}

/**
 * Seeded, counter-based random numbers (Philox4x32-10 in WebAssembly): uniform doubles
 * in (0, 1) and standard normals by Box–Muller, bit-identical on every engine.
 *
 * A generator is (seed, stream, position). Output i of a sequence depends only on
 * (seed, stream, i), so streams are independent by construction (use one stream per
 * worker) and the output does not depend on how calls are chunked: `normals(a)` then
 * `normals(b)` fills the same values as one call on a and b joined. Uniforms and normals
 * come from two separate sequences that share the position counter.
 *
 * @example
 * const rng = new Rng(42);
 * const z = rng.normals(new Float64Array(1000));       // N(0, 1)
 * const u = new Rng(42, 1).uniforms(new Float64Array(10)); // another stream
 */
export class Rng {
  /** Seed words (Philox key). */
  readonly #k0: number;
  readonly #k1: number;
  readonly #stream: number;
  #position = 0;

  /**
   * @param seed non-negative safe integer or bigint < 2^64 (the Philox key)
   * @param stream integer in [0, 2^32): independent stream id, e.g. the worker index
   * @throws {TypeError|RangeError} for a bad seed or stream
   */
  constructor(seed: number | bigint, stream = 0) {
    [this.#k0, this.#k1] = checkSeed('seed', seed);
    this.#stream = checkStream('stream', stream);
  }

  /** The stream id. */
  get stream(): number {
    return this.#stream;
  }

  /** How many values this generator has produced (the next output index). */
  get position(): number {
    return this.#position;
  }

  /** Moves to output index `position` (a non-negative safe integer); returns this. */
  seek(position: number): this {
    this.#position = checkInteger('position', position, 0);
    return this;
  }

  /** Key words and stream, for kernels that draw from their own domains. @internal */
  get keyWords(): [number, number, number] {
    return [this.#k0, this.#k1, this.#stream];
  }

  /**
   * Fills `out` with uniform doubles in (0, 1) (52 random bits each) and returns it.
   * @example new Rng(1).uniforms(new Float64Array(4))
   */
  uniforms(out: Float64Array): Float64Array {
    checkFloat64Array('out', out);
    this.#fill(out, DOMAIN_UNIFORM, MODE_UNIFORM, 0, 1);
    return out;
  }

  /**
   * Fills `out` with normals N(mean, std^2) and returns it.
   * @param mean finite number (default 0)
   * @param std finite number >= 0 (default 1); |mean| + 8.58 std must be finite (the largest |z| is below 8.58)
   * @throws {TypeError|RangeError} for a bad array, mean or std (before anything is written)
   * @example new Rng(1).normals(new Float64Array(4), 0, 2)
   */
  normals(out: Float64Array, mean = 0, std = 1): Float64Array {
    checkFloat64Array('out', out);
    checkNumber('mean', mean);
    if (!Number.isFinite(mean))
      throw new RangeError(`invalid argument: \`mean\` must be a finite number. Value: \`${mean}\`.`);
    checkNonNegative('std', std);
    // |z| <= sqrt(-2 ln 2^-53) < 8.58 for this generator's Box–Muller (uniforms >= 2^-53):
    // refuse up front a mean and std whose outputs could overflow, before anything is written
    if (!(Math.abs(mean) + std * Z_MAX <= Number.MAX_VALUE)) {
      throw new RangeError(
        `invalid argument: \`std\` must keep mean + std z finite for every normal z this generator returns (|z| < ${Z_MAX}). Value: \`${std}\` with mean ${mean}.`,
      );
    }
    this.#fill(out, DOMAIN_NORMAL, MODE_NORMAL, mean, std);
    return out;
  }

  #fill(out: Float64Array, domain: number, mode: number, mean: number, std: number): void {
    if (out.length > 2 ** 53 - this.#position) {
      // (position + length could round down)
      // output indices must stay exact doubles (and distinct Philox counters)
      throw new RangeError(
        `invalid argument: \`out\` must fit below output index 2^53. Value: length ${out.length} at position ${this.#position}.`,
      );
    }
    const k = wasm();
    const ptr = scratch();
    const affine = mean !== 0 || std !== 1;
    for (let done = 0; done < out.length; done += CHUNK) {
      const n = Math.min(CHUNK, out.length - done);
      const start = this.#position + done;
      k.philoxFill(
        ptr,
        n,
        this.#k0,
        this.#k1,
        start % 0x100000000,
        Math.floor(start / 0x100000000),
        domain,
        this.#stream,
        mode,
      );
      const view = f64(ptr, n);
      if (affine) {
        for (let i = 0; i < n; i++) out[done + i] = mean + std * view[i]!;
      } else {
        out.set(view, done);
      }
    }
    this.#position += out.length;
  }
}
