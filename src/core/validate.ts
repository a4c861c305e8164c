// Input validation for the public API: one place, stdlib-js style messages that name the
// parameter, the rule and the value. TypeError for a wrong type, RangeError for a bad
// size or value. Called before any state changes.

/** A short, readable rendering of a value for error messages. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (value === null || value === undefined || typeof value === 'boolean') return String(value);
  if (ArrayBuffer.isView(value))
    return `${value.constructor.name}(${(value as unknown as { length?: number }).length ?? value.byteLength})`;
  if (Array.isArray(value)) {
    // Short arrays show their items too (one level deep): `Array(2) [2,1]`.
    const len = value.length; // read once: a Proxy may answer differently each time
    if (!(len <= 8)) return `Array(${len})`;
    try {
      // Own data properties only: an accessor is never called to build a message.
      const items: string[] = [];
      for (let i = 0; i < len; i++) {
        const slot = Object.getOwnPropertyDescriptor(value, i);
        const v: unknown = slot && 'value' in slot ? slot.value : undefined;
        items.push(
          !slot ? 'empty' : !('value' in slot) ? 'getter' : Array.isArray(v) ? `Array(${v.length})` : show(v),
        );
      }
      return `Array(${len}) [${items.join(',')}]`;
    } catch {
      return `Array(${len})`;
    }
  }
  if (typeof value === 'function') return 'function';
  return Object.prototype.toString.call(value);
}

/** Throws `Kind` saying `name` must be `rule`, with the value shown. */
export function fail(
  Kind: typeof TypeError | typeof RangeError,
  name: string,
  rule: string,
  value: unknown,
): never {
  throw new Kind(`invalid argument: \`${name}\` must be ${rule}. Value: \`${show(value)}\`.`);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions): for key suggestions. */
export function editDistance(a: string, b: string): number {
  const m = a.length,
    n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) =>
    Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

/** The known key closest to `key` (case-insensitive edit distance; ties: the first listed). */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined,
    bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(key.toLowerCase(), k.toLowerCase());
    if (dist < bestD) {
      best = k;
      bestD = dist;
    }
  }
  return best;
}

/**
 * Rejects an options bag with a key the callee does not know (a typo such as
 * `noiseVarianse` would otherwise fall back to the default silently): a TypeError naming
 * the key, where it was passed, the closest known key (edit distance) and every known key.
 * Only own enumerable string keys are checked (what an object literal or spread makes).
 *
 * @param options - the caller's options object (already checked to be an object)
 * @param known - every key the callee reads
 * @param where - the parameter as the user knows it, e.g. "`options` of estimateHessian"
 * @throws {TypeError} for the first unknown key
 */
export function checkOptionKeys(options: object, known: readonly string[], where = '`options`'): void {
  checkKeys(Object.keys(options), known, where);
}

/** checkOptionKeys on keys already read. */
function checkKeys(keys: readonly string[], known: readonly string[], where: string): void {
  for (const key of keys) {
    if (known.includes(key)) continue;
    const near = closestKey(key, known);
    const hint =
      near === undefined
        ? 'it takes no options'
        : `did you mean \`${near}\`? Known keys: ${known.map((k) => `\`${k}\``).join(', ')}`;
    throw new TypeError(
      `invalid argument: ${where} has an unknown key \`${key}\` (${hint}). Value: \`${show(key)}\`.`,
    );
  }
}

/**
 * `options` must be undefined or a plain object; returns it as an object. With `known`,
 * also rejects unknown keys (checkOptionKeys), naming the option bag as `where`.
 */
export function checkOptions(
  name: string,
  value: unknown,
  known?: readonly string[],
  where?: string,
): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isObject(value)) fail(TypeError, name, 'an object', value);
  // read ONCE: the own enumerable keys (a Proxy's ownKeys trap runs once), each value once (a
  // getter runs once), into a null-prototype snapshot, so inherited keys (a polluted
  // Object.prototype) are never read and later reads cannot see another value
  const keys = Object.keys(value);
  const snapshot: Record<string, unknown> = Object.create(null);
  if (known) checkKeys(keys, known, where ?? `\`${name}\``);
  for (const key of keys) snapshot[key] = (value as Record<string, unknown>)[key];
  return snapshot;
}

export function checkNumber(name: string, value: unknown): number {
  if (typeof value !== 'number') fail(TypeError, name, 'a number', value);
  return value;
}

/** Integer in [min, max]. */
export function checkInteger(
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  checkNumber(name, value);
  const v = value as number;
  if (!Number.isInteger(v) || v < min || v > max) {
    const rule =
      max === Number.MAX_SAFE_INTEGER
        ? min === 1
          ? 'a positive integer'
          : min === 0
            ? 'a non-negative integer'
            : `an integer >= ${min}`
        : `an integer in [${min}, ${max}]`;
    fail(RangeError, name, rule, v);
  }
  return v;
}

export function checkPositiveInteger(name: string, value: unknown, max?: number): number {
  return checkInteger(name, value, 1, max);
}

/** Finite number >= 0. */
export function checkNonNegative(name: string, value: unknown): number {
  const v = checkNumber(name, value);
  if (!(v >= 0) || !Number.isFinite(v)) fail(RangeError, name, 'a finite number >= 0', v);
  return v;
}

/** Finite number > 0. */
export function checkPositive(name: string, value: unknown): number {
  const v = checkNumber(name, value);
  if (!(v > 0) || !Number.isFinite(v)) fail(RangeError, name, 'a finite number > 0', v);
  return v;
}

/** Finite number > 0 and < 1 (tolerances). */
export function checkUnitInterval(name: string, value: unknown): number {
  const v = checkNumber(name, value);
  if (!(v > 0 && v < 1)) fail(RangeError, name, 'a number in (0, 1)', v);
  return v;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(TypeError, name, 'a boolean', value);
  return value;
}

export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string')
    fail(TypeError, name, `a string (one of ${allowed.map((a) => `'${a}'`).join(', ')})`, value);
  if (!(allowed as readonly string[]).includes(value))
    fail(RangeError, name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  return value as T;
}

/** Gradients may come as doubles or floats; both are read in the kernels without a conversion copy. */
export type FloatArray = Float64Array | Float32Array;

// Typed arrays are read through the engine's own accessors (%TypedArray%.prototype's getters
// and constructors captured at load), never through the caller's object: a subclass or an
// own property overriding `length`, `byteOffset` or `buffer`, a Proxy, or an object with a
// typed array's prototype cannot make a check see one array and a copy read another. Each
// input is read ONCE into a fresh view of the same memory (typedView), and that view is what
// every check and copy then uses.
const TYPED_ARRAY_PROTO = Object.getPrototypeOf(Uint8Array.prototype) as object;
const intrinsicGetter = (key: PropertyKey) =>
  Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, key)!.get! as (this: unknown) => unknown;
const TA_TAG = intrinsicGetter(Symbol.toStringTag);
const TA_BUFFER = intrinsicGetter('buffer');
const TA_BYTE_OFFSET = intrinsicGetter('byteOffset');
const TA_LENGTH = intrinsicGetter('length');
const OBJECT_TO_STRING = Object.prototype.toString;
const VIEWS = { Float64Array, Float32Array, Uint8Array } as const;
type ViewKind = keyof typeof VIEWS;

/**
 * A fresh typed array of the engine's own constructor over the same memory as `value`, or
 * undefined when `value` is not a real typed array of one of `kinds` (Proxies and lookalikes
 * included). Reads buffer, byteOffset and length once, through intrinsics.
 */
export function typedView<K extends ViewKind>(
  value: unknown,
  kinds: readonly K[],
): InstanceType<(typeof VIEWS)[K]> | undefined {
  const tag = Reflect.apply(TA_TAG, value, []) as string | undefined; // undefined for anything but a typed array
  if (tag === undefined || !(kinds as readonly string[]).includes(tag)) return undefined;
  const buffer = Reflect.apply(TA_BUFFER, value, []) as ArrayBuffer;
  const offset = Reflect.apply(TA_BYTE_OFFSET, value, []) as number;
  const length = Reflect.apply(TA_LENGTH, value, []) as number;
  return new VIEWS[tag as K](buffer, offset, length) as InstanceType<(typeof VIEWS)[K]>;
}

/** Whether a typed array's memory is a SharedArrayBuffer (another thread may write it at any time). */
export function isShared(value: ArrayBufferView): boolean {
  return (
    Reflect.apply(OBJECT_TO_STRING, Reflect.apply(TA_BUFFER, value, []), []) === '[object SharedArrayBuffer]'
  );
}

/**
 * The typed array to read an input from: the caller's own, or, when it lives in a
 * SharedArrayBuffer, a private copy, so that what is validated is what is used (another
 * thread cannot write a NaN between the check and the use). Outputs are written to the
 * caller's array whatever its buffer.
 */
export function stableInput<T extends Float64Array | Float32Array>(value: T): T {
  return isShared(value) ? (value.slice() as T) : value;
}

/** A Float64Array input (a private copy when it is shared memory: stableInput). */
export function checkFloat64Array(name: string, value: unknown): Float64Array {
  const view = typedView(value, ['Float64Array']);
  if (view === undefined) fail(TypeError, name, 'a Float64Array', value);
  return stableInput(view);
}

/** A Float64Array or Float32Array input (a private copy when it is shared memory: stableInput). */
export function checkFloatArray(name: string, value: unknown): FloatArray {
  const view = typedView(value, ['Float64Array', 'Float32Array']);
  if (view === undefined) fail(TypeError, name, 'a Float64Array or Float32Array', value);
  return stableInput(view);
}

/** The array must hold exactly `expected` elements. */
export function checkLength(
  name: string,
  array: ArrayLike<number>,
  expected: number,
  what = `${expected} elements`,
): void {
  if (array.length !== expected) {
    throw new RangeError(
      `invalid argument: \`${name}\` must have length ${expected} (${what}). Value: length ${array.length}.`,
    );
  }
}

/** Where element i of a row-major matrix with `cols` columns is, for messages ("row 2, column 5", 0-based). */
export function position(i: number, cols?: number): string {
  if (cols === undefined || cols < 1) return `index ${i}`;
  return cols === 1 ? `row ${i}` : `row ${Math.floor(i / cols)}, column ${i % cols}`;
}

function notFinite(name: string, v: number, i: number, cols?: number): never {
  throw new RangeError(
    `invalid argument: \`${name}\` must contain only finite numbers. Value: \`${v}\` at ${position(i, cols)}.`,
  );
}

/**
 * Every element of array[0..length) must be finite; names the first bad one (by row and
 * column when `cols` is given: the array is a row-major matrix with that many columns).
 */
export function checkFinite(
  name: string,
  array: ArrayLike<number>,
  length = array.length,
  cols?: number,
): void {
  for (let i = 0; i < length; i++) {
    const v = array[i]!;
    if (v - v !== 0) notFinite(name, v, i, cols);
  }
}

/** checkFinite that also returns max |element| (one pass when all are finite), for overflow guards. */
export function finiteMaxAbs(
  name: string,
  array: ArrayLike<number>,
  length = array.length,
  cols?: number,
): number {
  // four independent maxima (one chain of dependent compares is latency-bound); a NaN or
  // an infinity anywhere makes the maximum non-finite, and a second pass names the first
  let m0 = 0,
    m1 = 0,
    m2 = 0,
    m3 = 0;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    m0 = Math.max(m0, Math.abs(array[i]!));
    m1 = Math.max(m1, Math.abs(array[i + 1]!));
    m2 = Math.max(m2, Math.abs(array[i + 2]!));
    m3 = Math.max(m3, Math.abs(array[i + 3]!));
  }
  for (; i < length; i++) m0 = Math.max(m0, Math.abs(array[i]!));
  const max = Math.max(m0, m1, m2, m3);
  if (max - max !== 0) checkFinite(name, array, length, cols);
  return max;
}

/** A seed: a non-negative safe integer or a bigint in [0, 2^64). Returns [lo32, hi32]. */
export function checkSeed(name: string, value: unknown): [number, number] {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      fail(RangeError, name, 'a non-negative safe integer or a bigint in [0, 2^64)', value);
    return [value % 0x100000000, Math.floor(value / 0x100000000)];
  }
  if (typeof value === 'bigint') {
    if (value < 0n || value >= 1n << 64n)
      fail(RangeError, name, 'a non-negative safe integer or a bigint in [0, 2^64)', value);
    return [Number(value & 0xffffffffn), Number(value >> 32n)];
  }
  return fail(TypeError, name, 'a number or a bigint', value);
}

export function checkStream(name: string, value: unknown): number {
  return checkInteger(name, value, 0, 0xffffffff);
}

/** Throws unless the object has not been disposed. */
export function checkLive(what: string, disposed: boolean): void {
  if (disposed) throw new Error(`${what} has been disposed; create a new one.`);
}

/** The shape every regression API takes: X rows x dim row-major, y of length rows. */
export interface RegressionShape {
  X: Float64Array;
  y: Float64Array;
  rows: number;
  dim: number;
}

/** Checks { X, y, rows, dim }: types and lengths (not finiteness); returns a clean copy of the fields. */
export function checkRegressionShape(data: unknown, also = ''): RegressionShape {
  if (!isObject(data))
    throw new TypeError(
      `invalid argument: \`data\` must be an object { X, y, rows, dim }${also}. Value: \`${show(data)}\`.`,
    );
  const rows = checkPositiveInteger('data.rows', data.rows);
  const dim = checkPositiveInteger('data.dim', data.dim);
  const X = checkFloat64Array('data.X', data.X);
  const y = checkFloat64Array('data.y', data.y);
  checkLength('data.X', X, rows * dim, 'rows x dim');
  checkLength('data.y', y, rows, 'rows');
  return { X, y, rows, dim };
}

/** Throws the message checkRegressionData gives for the first non-finite value of X, then y (the caller found one). */
export function rejectNonFinite(d: RegressionShape): void {
  checkFinite('data.X', d.X, d.X.length, d.dim);
  checkFinite('data.y', d.y, d.y.length, 1);
}

/** Checks { X, y, rows, dim }: types, lengths, finiteness; returns a clean copy of the fields. */
export function checkRegressionData(data: unknown, also = ''): RegressionShape {
  const d = checkRegressionShape(data, also);
  rejectNonFinite(d);
  return d;
}
