// Plain-TS reference of the random-number kernels: Philox4x32-10 with 32-bit integer
// arithmetic, and Box–Muller with the host's Math.log/cos/sin. Test oracle and the
// "plain TS" benchmark baseline. Output i of (key, domain, stream) matches the wasm
// kernel's definition (assembly/rng.ts): uniforms bit for bit, normals to a few ulp.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two u32. */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff,
    ah = a >>> 16,
    bl = b & 0xffff,
    bh = b >>> 16;
  const lh = al * bh,
    hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** One Philox4x32-10 block: counter words c, key (k0, k1) -> four u32. */
export function philox4x32(c: readonly number[], k0: number, k1: number): [number, number, number, number] {
  let x0 = c[0]! >>> 0,
    x1 = c[1]! >>> 0,
    x2 = c[2]! >>> 0,
    x3 = c[3]! >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, x0),
      lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2),
      lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ k0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ k1) >>> 0;
    x3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return [x0, x1, x2, x3];
}

/** 64 random bits (lo, hi words) -> (top 52 bits + 1/2) * 2^-52, in (0, 1). */
export function toUniform(lo: number, hi: number): number {
  return ((hi >>> 0) * 2 ** 20 + ((lo >>> 0) >>> 12) + 0.5) * 2 ** -52;
}

export interface Sequence {
  k0: number;
  k1: number;
  domain: number;
  stream: number;
}

function block(seq: Sequence, ctr: number): [number, number, number, number] {
  return philox4x32(
    [ctr % 0x100000000, Math.floor(ctr / 0x100000000), seq.domain, seq.stream],
    seq.k0,
    seq.k1,
  );
}

/** Uniform output i of a sequence. */
export function uniformAt(seq: Sequence, i: number): number {
  const w = block(seq, Math.floor(i / 2));
  return i % 2 === 0 ? toUniform(w[0], w[1]) : toUniform(w[2], w[3]);
}

/** Fills out with uniform outputs start, start+1, ... */
export function fillUniform(out: Float64Array, seq: Sequence, start = 0): Float64Array {
  for (let i = 0; i < out.length; i++) out[i] = uniformAt(seq, start + i);
  return out;
}

/** Fills out with normal outputs start, start+1, ... (Box–Muller with Math.log/cos/sin). */
export function fillNormal(out: Float64Array, seq: Sequence, start = 0): Float64Array {
  for (let i = 0; i < out.length; i++) {
    const j = start + i;
    const w = block(seq, Math.floor(j / 2));
    const u1 = toUniform(w[0], w[1]);
    const u2 = toUniform(w[2], w[3]);
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = j % 2 === 0 ? r * Math.cos(2 * Math.PI * u2) : r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** The plain-TS Box–Muller baseline a user would write: Math.random and Math.log/cos/sin. */
export function mathRandomNormals(out: Float64Array): Float64Array {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = 1 - Math.random();
    const u2 = Math.random();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}
