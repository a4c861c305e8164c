// The serialized form of a GradientCovariance (cold code, plain TS): layout constants,
// CRC-32, and the validation of a blob before anything is allocated. The accumulator's
// toBytes/fromBytes (covariance.ts) use it; nothing here touches wasm memory.
//
// Format versions 1 and 2 (f64 states), every field little-endian:
//
//   offset            size              field
//   0                 4                 magic "GCOV" (0x47 0x43 0x4f 0x56)
//   4                 4                 version, uint32 = 1 or 2
//   8                 4                 dim, uint32 in [1, 46340]
//   12                4                 version 1: reserved, uint32 = 0
//                                       version 2: scale exponent e, uint32 in [1, 2048]: the
//                                       mean stands for 2^e * mean, the co-moment for 2^2e * M
//   16                8                 count, int64 in [0, 2^53 - 1]
//   24                8 dim             mean, float64[dim]
//   24 + 8 dim        4 dim (dim + 1)   co-moment M, upper triangle row by row:
//                                       M[0][0..dim-1], M[1][1..dim-1], ..., float64
//   L - 4             4                 CRC-32 (IEEE 802.3 / zlib polynomial) of bytes [0, L - 4)
//
// total length L = 28 + 8 dim + 4 dim (dim + 1). Invariants checked on decode: every float
// is finite; count 0 has a zero mean and M; count 1 has a zero M; M's diagonal is >= 0
// (GradientCovariance.fromBytes then checks that M is positive semi-definite). Writers use
// version 1 unless the state is scaled (gradients above ~3e144), so ordinary blobs are
// readable by earlier releases.
//
// Format version 3 (states of precision 'f32'; f64 states keep writing 1 or 2):
//
//   0   4   magic "GCOV"          4   4   version, uint32 = 3
//   8   4   dim, uint32 in [1, 46340]
//   12  4   scale exponent e, uint32 in [0, 2048] (0: unscaled)
//   16  4   precision, uint32: 0 = 'f64', 1 = 'f32'
//   20  4   reserved, uint32 = 0
//   24  8   count, int64 in [0, 2^53 - 1]
//   32  ... mean and upper triangle as in versions 1 and 2, then the CRC-32
//
// total length L = 36 + 8 dim + 4 dim (dim + 1), the same invariants.
import { show, typedView } from './validate.js';

export const MAGIC = 0x564f4347; // "GCOV" read as a little-endian uint32
export const FORMAT_VERSION = 1;
/** The version of scaled states (the reserved field holds the scale exponent). */
export const FORMAT_VERSION_SCALED = 2;
/** Largest scale exponent a version-2 blob may hold. */
export const MAX_EXPONENT = 2048;
/** The version that carries the precision (written for 'f32' states). */
export const FORMAT_VERSION_PRECISION = 3;
export const HEADER_BYTES = 24;
/** Header bytes of a version-3 blob. */
export const HEADER_BYTES_V3 = 32;
/** Precision codes of version 3 (index = code). */
export const PRECISION_CODES = ['f64', 'f32'] as const;
export const MAX_DIM = 46340;

/** Bytes of a blob for `dim` (versions 1 and 2; version 3 is 8 bytes longer). */
export function serializedBytes(dim: number, version = FORMAT_VERSION): number {
  return (
    (version === FORMAT_VERSION_PRECISION ? HEADER_BYTES_V3 : HEADER_BYTES) +
    8 * dim +
    4 * dim * (dim + 1) +
    4
  );
}

let table: Uint32Array | undefined;

/** CRC-32 (reflected, polynomial 0xEDB88320; the value zlib.crc32 and Python's binascii.crc32 give). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = table[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A validated blob: where its values are (read them through `view`). */
export interface DecodedHeader {
  view: DataView;
  dim: number;
  count: number;
  /** Scale exponent (0 for version 1). */
  exponent: number;
  /** 'f64' for versions 1 and 2. */
  precision: (typeof PRECISION_CODES)[number];
  /** Byte offset of the mean; the upper triangle follows it. */
  meanOffset: number;
  upperOffset: number;
}

function bad(rule: string, value: string): never {
  throw new RangeError(`invalid argument: \`bytes\` must be ${rule}. Value: ${value}.`);
}

/**
 * Validates a serialized accumulator completely (type, length, header, checksum, values,
 * invariants) without allocating wasm memory. Every read goes through a DataView bounded
 * to the caller's bytes, so nothing outside them is read.
 * @throws {TypeError} when bytes is not a Uint8Array
 * @throws {RangeError} naming the first rule the blob breaks
 */
export function decodeHeader(input: unknown): DecodedHeader {
  const bytes = typedView(input, ['Uint8Array']); // read once through intrinsics (validate.ts)
  if (bytes === undefined) {
    throw new TypeError(`invalid argument: \`bytes\` must be a Uint8Array. Value: \`${show(input)}\`.`);
  }
  const len = bytes.byteLength;
  const minimum = serializedBytes(1);
  if (len < minimum) bad(`at least ${minimum} bytes long (a dim-1 accumulator)`, `${len} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, len);
  const magic = view.getUint32(0, true);
  if (magic !== MAGIC)
    bad('a gradcov accumulator (magic "GCOV")', `magic 0x${magic.toString(16).padStart(8, '0')}`);
  const version = view.getUint32(4, true);
  if (version !== FORMAT_VERSION && version !== FORMAT_VERSION_SCALED && version !== FORMAT_VERSION_PRECISION)
    bad(
      `format version ${FORMAT_VERSION}, ${FORMAT_VERSION_SCALED} or ${FORMAT_VERSION_PRECISION}`,
      `version ${version}`,
    );
  const dim = view.getUint32(8, true);
  if (dim < 1 || dim > MAX_DIM) bad(`a blob with dim in [1, ${MAX_DIM}]`, `dim ${dim}`);
  const reserved = view.getUint32(12, true);
  if (version === FORMAT_VERSION && reserved !== 0)
    bad('a version-1 blob whose reserved field (bytes 12-15) is 0', `${reserved}`);
  if (version === FORMAT_VERSION_SCALED && (reserved < 1 || reserved > MAX_EXPONENT))
    bad(`a version-2 blob whose scale exponent (bytes 12-15) is in [1, ${MAX_EXPONENT}]`, `${reserved}`);
  if (version === FORMAT_VERSION_PRECISION && reserved > MAX_EXPONENT)
    bad(`a version-3 blob whose scale exponent (bytes 12-15) is in [0, ${MAX_EXPONENT}]`, `${reserved}`);
  const exponent = version === FORMAT_VERSION ? 0 : reserved;
  const v3 = version === FORMAT_VERSION_PRECISION;
  const expected = serializedBytes(dim, version);
  if (len !== expected)
    bad(
      `${expected} bytes long for dim ${dim} (${v3 ? 36 : 28} + 8 dim + 4 dim (dim + 1), version ${version})`,
      `${len} bytes`,
    );
  let precision: DecodedHeader['precision'] = 'f64';
  if (v3) {
    const code = view.getUint32(16, true);
    if (code >= PRECISION_CODES.length)
      bad(`a version-3 blob whose precision code (bytes 16-19) is 0 ('f64') or 1 ('f32')`, `${code}`);
    precision = PRECISION_CODES[code]!;
    const reserved3 = view.getUint32(20, true);
    if (reserved3 !== 0) bad('a version-3 blob whose reserved field (bytes 20-23) is 0', `${reserved3}`);
  }
  const countOffset = v3 ? 24 : 16;
  const stored = view.getUint32(len - 4, true);
  const actual = crc32(bytes, 0, len - 4);
  if (stored !== actual)
    bad(
      'intact (its CRC-32 does not match: damaged or truncated and re-padded)',
      `stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)}`,
    );
  const count64 = view.getBigInt64(countOffset, true);
  if (count64 < 0n || count64 > BigInt(Number.MAX_SAFE_INTEGER))
    bad('a blob with count in [0, 2^53 - 1]', `count ${count64}`);
  const count = Number(count64);
  const meanOffset = v3 ? HEADER_BYTES_V3 : HEADER_BYTES;
  const upperOffset = meanOffset + 8 * dim;
  const end = len - 4;
  for (let p = meanOffset; p < end; p += 8) {
    const v = view.getFloat64(p, true);
    if (!Number.isFinite(v)) {
      const where =
        p < upperOffset ? `mean[${(p - meanOffset) / 8}]` : `co-moment value ${(p - upperOffset) / 8}`;
      bad('a blob of finite values', `${where} is ${v}`);
    }
    if (count === 0 && v !== 0)
      bad('a blob whose mean and co-moment are zero when count is 0', `nonzero at byte ${p}`);
    if (count === 1 && p >= upperOffset && v !== 0)
      bad('a blob whose co-moment is zero when count is 1', `nonzero at byte ${p}`);
  }
  for (let i = 0, p = upperOffset; i < dim; p += 8 * (dim - i), i++) {
    const v = view.getFloat64(p, true);
    if (v < 0) bad('a blob whose co-moment diagonal is >= 0', `M[${i}][${i}] = ${v}`);
  }
  return { view, dim, count, exponent, precision, meanOffset, upperOffset };
}

/**
 * A private copy of the caller's bytes (a fresh, unshared Uint8Array): validation and
 * decoding both read the copy, so another thread rewriting a SharedArrayBuffer, or memory
 * growth detaching a view, cannot change what was validated before it is decoded.
 * Non-Uint8Array values pass through for decodeHeader to reject.
 */
export function copyBytes(input: unknown): unknown {
  const bytes = typedView(input, ['Uint8Array']);
  if (bytes === undefined) return input;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/** Writes the header and checksum around values already placed by `fill`. */
export function encode(
  dim: number,
  count: number,
  exponent: number,
  fill: (view: DataView, meanOffset: number, upperOffset: number) => void,
  precision: DecodedHeader['precision'] = 'f64',
): Uint8Array {
  const version =
    precision !== 'f64' ? FORMAT_VERSION_PRECISION : exponent === 0 ? FORMAT_VERSION : FORMAT_VERSION_SCALED;
  const v3 = version === FORMAT_VERSION_PRECISION;
  const len = serializedBytes(dim, version);
  const bytes = new Uint8Array(len);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, version, true);
  view.setUint32(8, dim, true);
  view.setUint32(12, exponent, true);
  if (v3) view.setUint32(16, PRECISION_CODES.indexOf(precision), true);
  view.setBigInt64(v3 ? 24 : 16, BigInt(count), true);
  const meanOffset = v3 ? HEADER_BYTES_V3 : HEADER_BYTES;
  fill(view, meanOffset, meanOffset + 8 * dim);
  view.setUint32(len - 4, crc32(bytes, 0, len - 4), true);
  return bytes;
}
