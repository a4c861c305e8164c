import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../src/node.js';
import { wasm, withBlocks, f64, copyIn } from '../../src/core/wasm.js';
import * as ref from '../../src/reference/philox.js';
import { setup, ulpDistance, ksStatistic, normalCdf, assertSameValues } from '../helpers/helpers.js';

test.before(setup);

// Random123's published known-answer vectors for Philox4x32-10 (counter, key, output).
const KAT: [number[], [number, number], number[]][] = [
  [
    [0, 0, 0, 0],
    [0, 0],
    [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
  ],
  [
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    [0xffffffff, 0xffffffff],
    [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  ],
  [
    [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    [0xa4093822, 0x299f31d0],
    [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  ],
];

test('Philox4x32-10 known-answer vectors: wasm block and TS reference', () => {
  for (const [ctr, [k0, k1], want] of KAT) {
    assert.equal(ref.philox4x32(ctr, k0, k1), want, 'reference');
    const got = withBlocks([16, 16], 'test', (c, o) => {
      copyIn(c!, new Uint32Array(ctr));
      wasm().philoxBlock(c!, k0, k1, o!);
      return Array.from(new Uint32Array(wasm().memory.buffer, o!, 4));
    });
    assert.equal(got, want, 'wasm');
  }
});

/** Runs the wasm fill kernel for outputs [start, start + count). */
function kernelFill(start: number, count: number, seq: ref.Sequence, mode: 0 | 1): Float64Array {
  return withBlocks([Math.max(8, count * 8)], 'test', (p) => {
    wasm().philoxFill(
      p!,
      count,
      seq.k0,
      seq.k1,
      start % 2 ** 32,
      Math.floor(start / 2 ** 32),
      seq.domain,
      seq.stream,
      mode,
    );
    return f64(p!, count).slice();
  });
}

// starts and counts around the 2-output block, the 8-output vector step and the 2^32 carry
const RANGES: [number, number][] = [
  [0, 0],
  [0, 1],
  [1, 1],
  [0, 2],
  [1, 2],
  [0, 7],
  [0, 8],
  [0, 9],
  [1, 8],
  [3, 9],
  [5, 17],
  [7, 1],
  [6, 100],
  [2 ** 33 - 5, 12],
  [2 ** 33 + 1, 33],
  [2 ** 40 + 3, 9],
  // the kernel's 16-counter Philox step (32 outputs), its 64-counter chunk (128 outputs) +/- 1
  [0, 31],
  [0, 32],
  [0, 33],
  [1, 32],
  [31, 2],
  [0, 127],
  [0, 128],
  [0, 129],
  [1, 128],
  [127, 3],
  [3, 255],
  [0, 256],
  [5, 257],
  [2 ** 33 - 100, 200],
];
const SEQS: ref.Sequence[] = [
  { k0: 0, k1: 0, domain: 0, stream: 0 },
  { k0: 0xdeadbeef, k1: 0x12345678, domain: 1, stream: 3 },
  { k0: 42, k1: 0, domain: 0x80000002, stream: 0xffffffff },
];

test('uniforms: wasm equals the reference bit for bit at every start/count edge', () => {
  for (const seq of SEQS) {
    for (const [start, count] of RANGES) {
      const got = kernelFill(start, count, seq, 0);
      const want = ref.fillUniform(new Float64Array(count), seq, start);
      assertSameValues(got, want, `start ${start} count ${count}`);
      for (const u of got) assert.ok(u > 0 && u < 1, `uniform ${u} outside (0, 1)`);
    }
  }
});

// The reference rounds 2 pi u before Math.cos/sin (an absolute error up to 4.4e-16 in the
// angle, times the radius r); the kernel reduces u exactly. Tolerance: 8 ulp of max(r, 1).
test('normals: wasm Box–Muller within 8 ulp of max(r, 1) of Math.log/cos/sin', () => {
  for (const seq of SEQS) {
    for (const [start, count] of [...RANGES, [0, 20000] as [number, number]]) {
      const got = kernelFill(start, count, seq, 1);
      const want = ref.fillNormal(new Float64Array(count), seq, start);
      for (let i = 0; i < count; i++) {
        const j = start + i;
        const r = Math.sqrt(-2 * Math.log(ref.uniformAt(seq, j - (j % 2))));
        const tol = 8 * 2.220446049250313e-16 * Math.max(1, r);
        assert.ok(Math.abs(got[i]! - want[i]!) <= tol, `start ${start} i ${i}: ${got[i]} vs ${want[i]}`);
      }
    }
  }
});

test('vector log: within 1 ulp of Math.log on (0, 1), powers of two and the reduction boundary', () => {
  const u = new Rng(5).uniforms(new Float64Array(100001));
  const special = [
    2 ** -53,
    2 ** -52 * 1.5,
    0.5,
    Math.SQRT1_2,
    Math.SQRT1_2 * (1 + 2 ** -52),
    0.7071067811865476,
    0.25,
    1 - 2 ** -53,
    1 - 2 ** -52,
    0.9999,
    1e-10,
    0.1,
    0.3333333333333333,
  ];
  const powers = Array.from({ length: 53 }, (_, k) => 2 ** -(k + 1));
  const x = Float64Array.from([...u, ...special, ...powers]);
  const out = withBlocks([x.length * 8, x.length * 8], 'test', (xp, op) => {
    copyIn(xp!, x);
    wasm().mathLog(xp!, op!, x.length);
    return f64(op!, x.length).slice();
  });
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, ulpDistance(out[i]!, Math.log(x[i]!)));
  assert.ok(worst <= 1, `worst ulp distance ${worst}`);
});

test('vector cos/sin(2 pi u): exact quadrant points, |error| <= 1e-15 against Math on (0, 1)', () => {
  const u = Float64Array.from([
    0,
    0.25,
    0.5,
    0.75,
    1,
    0.125,
    0.375,
    0.625,
    0.875,
    ...new Rng(9).uniforms(new Float64Array(50001)),
  ]);
  const out = withBlocks([u.length * 8, u.length * 16], 'test', (up, op) => {
    copyIn(up!, u);
    wasm().mathCosSin2Pi(up!, op!, u.length);
    return f64(op!, u.length * 2).slice();
  });
  assert.equal(
    Array.from(out.slice(0, 10)).map((v) => v + 0),
    [1, 0, 0, 1, -1, 0, 0, -1, 1, 0],
  );
  let worst = 0;
  for (let i = 0; i < u.length; i++) {
    const a = 2 * Math.PI * u[i]!;
    worst = Math.max(worst, Math.abs(out[2 * i]! - Math.cos(a)), Math.abs(out[2 * i + 1]! - Math.sin(a)));
    assert.ok(Math.abs(out[2 * i]! ** 2 + out[2 * i + 1]! ** 2 - 1) < 4e-16, 'cos^2 + sin^2 = 1');
  }
  assert.ok(worst <= 1e-15, `worst abs error ${worst}`);
});

// philoxFill runs Box–Muller on two vector pairs at a time (storeBoxMuller2, the single-pair
// routines written out side by side); it must give the single-pair routine's bits exactly.
test('Box–Muller on vector pairs equals the single-pair routine bit for bit (n = 0..9, 1001)', () => {
  const rng = new Rng(11);
  const specialU1 = [
    2 ** -53,
    2 ** -52 * 1.5,
    0.5,
    Math.SQRT1_2,
    0.7071067811865476,
    1 - 2 ** -53,
    1 - 2 ** -52,
    0.25,
    1e-300,
  ];
  const specialU2 = [
    0,
    0.125,
    0.25,
    0.25 - 2 ** -54,
    0.25 + 2 ** -53,
    0.375,
    0.5,
    0.625,
    0.75,
    0.875,
    1 - 2 ** -53,
    1,
  ];
  for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 1001]) {
    const u1 = rng.uniforms(new Float64Array(n)),
      u2 = rng.uniforms(new Float64Array(n));
    if (n === 1001) {
      u1.set(specialU1);
      u2.set(specialU2, 100);
      for (let i = 0; i < specialU2.length; i++) {
        u1[200 + i] = specialU1[i % specialU1.length]!;
        u2[200 + i] = specialU2[i]!;
      }
    }
    const run = (dual: number) =>
      withBlocks([8 * n + 8, 8 * n + 8, 16 * n + 16], 'test', (a, b, o) => {
        copyIn(a!, u1);
        copyIn(b!, u2);
        wasm().mathBoxMuller(a!, b!, o!, n, dual);
        return Array.from(new BigUint64Array(wasm().memory.buffer, o!, 2 * n));
      });
    const single = run(0),
      dual = run(1);
    assertSameValues(dual, single, `n = ${n}`);
    // and it is Box–Muller: r cos, r sin within 8 ulp of max(r, 1) of Math
    const z = new Float64Array(new BigUint64Array(dual).buffer);
    for (let i = 0; i < n; i++) {
      const r = Math.sqrt(-2 * Math.log(u1[i]!)),
        tol = 8 * 2.220446049250313e-16 * Math.max(1, r);
      assert.ok(Math.abs(z[2 * i]! - r * Math.cos(2 * Math.PI * u2[i]!)) <= tol + r * 4.5e-16, `cos ${i}`);
      assert.ok(
        Math.abs(z[2 * i + 1]! - r * Math.sin(2 * Math.PI * u2[i]!)) <= tol + r * 4.5e-16,
        `sin ${i}`,
      );
    }
  }
});

test('Rng: prefix-stable whatever the chunking, for normals and uniforms alike', () => {
  const whole = new Rng(123, 4).normals(new Float64Array(1 + 2 + 7 + 8 + 9 + 70000));
  const r = new Rng(123, 4);
  const parts = [1, 2, 7, 8, 9, 70000].map((n) => r.normals(new Float64Array(n)));
  assertSameValues(
    parts.flatMap((p) => Array.from(p)),
    whole,
    'chunked vs whole',
  );
  const u1 = new Rng(7).uniforms(new Float64Array(11));
  const r2 = new Rng(7);
  assert.equal([...r2.uniforms(new Float64Array(3)), ...r2.uniforms(new Float64Array(8))], Array.from(u1));
  assert.is(r2.position, 11);
  assertSameValues(r2.seek(5).uniforms(new Float64Array(6)), u1.slice(5));
});

test('Rng: first values for seed 42 are pinned (a change of stream definition fails here)', () => {
  const hex = (a: Float64Array) => Array.from(new BigUint64Array(a.buffer)).map((b) => b.toString(16));
  const z = new Rng(42).normals(new Float64Array(4));
  const u = new Rng(42).uniforms(new Float64Array(4));
  assert.equal(hex(z), PINNED_NORMALS);
  assert.equal(hex(u), PINNED_UNIFORMS);
  // the same seed as number and bigint, and a seed above 2^53 as bigint
  assertSameValues(new Rng(42n).normals(new Float64Array(4)), z);
  assert.not.equal(Array.from(new Rng(2n ** 63n + 42n).normals(new Float64Array(4))), Array.from(z));
});
// The exact bits of longer runs of the stream, as a hash per case, pinned from the first
// release of the kernel: a faster kernel must reproduce the stream, not approximate it (the
// 8-ulp test above would let a change of polynomial or of operation order through). The
// cases cross the kernel's vector steps and chunks, the 2^32 carry of the counter and the
// estimators' domains (0x80000001 rows, 0x80000002/3 noise of batch 5).
const GOLDEN: [ref.Sequence, number, number, 0 | 1, string][] = [
  [{ k0: 42, k1: 0, domain: 0, stream: 0 }, 0, 70001, 1, 'a9a93859'],
  [{ k0: 42, k1: 0, domain: 1, stream: 0 }, 0, 70001, 0, 'a1e4b44c'],
  [{ k0: 0xffffffff, k1: 0xffffffff, domain: 0, stream: 0xffffffff }, 2 ** 33 - 77, 1001, 1, '63a1ce33'],
  [{ k0: 0xdeadbeef, k1: 0x12345678, domain: 1, stream: 7 }, 2 ** 33 - 77, 1001, 0, '7b56eab9'],
  [{ k0: 7, k1: 9, domain: 0x80000002, stream: 3 }, 5 * 2 ** 32, 256, 1, '0d353a64'],
  [{ k0: 7, k1: 9, domain: 0x80000003, stream: 3 }, 5 * 2 ** 32 + 3, 253, 1, '83b96e7a'],
  [{ k0: 7, k1: 9, domain: 0x80000001, stream: 3 }, 5 * 2 ** 32, 256, 0, 'bd7a49cc'],
];

/** FNV-1a over the 32-bit words of the doubles' bits. */
function fnv(a: Float64Array): string {
  let h = 0x811c9dc5;
  for (const w of new Uint32Array(a.buffer, a.byteOffset, a.length * 2))
    h = Math.imul(h ^ w, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

test("stream bits are pinned: hashes of 70,001 normals and uniforms and of the estimators' domains", () => {
  for (const [seq, start, count, mode, want] of GOLDEN) {
    assert.is(
      fnv(kernelFill(start, count, seq, mode)),
      want,
      `${JSON.stringify(seq)} start ${start} count ${count} mode ${mode}`,
    );
  }
  // through Rng, in calls of odd sizes (the wrapper's 8192-value chunks and the kernel's edges)
  const r = new Rng(42);
  const z = new Float64Array(70001);
  for (let at = 0, n = 1; at < z.length; at += n, n = n * 3 + 1)
    r.normals(z.subarray(at, Math.min(z.length, at + n)));
  assert.is(fnv(z), 'a9a93859');
  // the hash sees a change of one bit
  z[12345] = z[12345]! * (1 + 2 ** -52);
  assert.is.not(fnv(z), 'a9a93859');
});

const PINNED_NORMALS = ['bfe54ac03c1a0331', '3ff0938db380d75f', 'bff6f135c80fefcb', '3fdb16fd5e6389c7'];
const PINNED_UNIFORMS = ['3fc028f48981499c', '3fe6c58813876d17', '3fefba43b2841ff3', '3fcce35e840d857c'];

test('normals: moments and Kolmogorov–Smirnov on 10^6 samples (seed 1)', () => {
  const N = 1_000_000;
  const z = new Rng(1).normals(new Float64Array(N));
  let m1 = 0;
  for (const v of z) m1 += v;
  m1 /= N;
  let m2 = 0,
    m3 = 0,
    m4 = 0;
  for (const v of z) {
    const d = v - m1;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= N;
  m3 /= N;
  m4 /= N;
  const skew = m3 / m2 ** 1.5,
    kurt = m4 / (m2 * m2) - 3;
  // five standard errors: mean 1/sqrt(N), variance sqrt(2/N), skewness sqrt(6/N), excess kurtosis sqrt(24/N)
  assert.ok(Math.abs(m1) < 5 / Math.sqrt(N), `mean ${m1}`);
  assert.ok(Math.abs(m2 - 1) < 5 * Math.sqrt(2 / N), `variance ${m2}`);
  assert.ok(Math.abs(skew) < 5 * Math.sqrt(6 / N), `skewness ${skew}`);
  assert.ok(Math.abs(kurt) < 5 * Math.sqrt(24 / N), `excess kurtosis ${kurt}`);
  // KS critical value at p = 0.001 is 1.95 / sqrt(N); the CDF approximation adds < 1.2e-7
  const D = ksStatistic(z, normalCdf);
  assert.ok(D < 1.95 / Math.sqrt(N), `KS D = ${D}`);
  // and a KS test that must fail: a scaled sample is detected
  const scaled = z.map((v) => v * 1.01);
  assert.ok(ksStatistic(scaled, normalCdf) > 1.95 / Math.sqrt(N), 'KS detects std 1.01');
});

test('uniforms: mean, variance and KS on 10^6 samples (seed 2)', () => {
  const N = 1_000_000;
  const u = new Rng(2).uniforms(new Float64Array(N));
  let m = 0,
    v = 0;
  for (const x of u) m += x;
  m /= N;
  for (const x of u) v += (x - m) ** 2;
  v /= N;
  assert.ok(Math.abs(m - 0.5) < 5 * Math.sqrt(1 / 12 / N), `mean ${m}`);
  assert.ok(Math.abs(v - 1 / 12) < 5 * Math.sqrt(1 / 180 / N), `variance ${v}`);
  const D = ksStatistic(u, (x) => Math.min(1, Math.max(0, x)));
  assert.ok(D < 1.95 / Math.sqrt(N), `KS D = ${D}`);
});

test('streams and seeds are uncorrelated: |r| < 5/sqrt(N) pairwise, N = 10^5', () => {
  const N = 100_000;
  const gens = [new Rng(3, 0), new Rng(3, 1), new Rng(3, 2), new Rng(4, 0), new Rng(3, 0xffffffff)];
  const xs = gens.map((g) => g.normals(new Float64Array(N)));
  for (let a = 0; a < xs.length; a++) {
    for (let b = a + 1; b < xs.length; b++) {
      let s = 0;
      for (let i = 0; i < N; i++) s += xs[a]![i]! * xs[b]![i]!;
      assert.ok(Math.abs(s / N) < 5 / Math.sqrt(N), `streams ${a},${b}: r = ${s / N}`);
    }
  }
  // lag-1 autocorrelation within a stream, and between a normal and the uniform at the same position
  let s = 0;
  for (let i = 1; i < N; i++) s += xs[0]![i]! * xs[0]![i - 1]!;
  assert.ok(Math.abs(s / N) < 5 / Math.sqrt(N), `lag-1 r = ${s / N}`);
  const u = new Rng(3, 0).uniforms(new Float64Array(N));
  s = 0;
  for (let i = 0; i < N; i++) s += xs[0]![i]! * (u[i]! - 0.5) * Math.sqrt(12);
  assert.ok(Math.abs(s / N) < 5 / Math.sqrt(N), `normal/uniform r = ${s / N}`);
});

test('Rng: normals(out, mean, std) is the affine map of the standard stream', () => {
  const z = new Rng(8).normals(new Float64Array(9));
  const y = new Rng(8).normals(new Float64Array(9), 3, 0.5);
  for (let i = 0; i < 9; i++) assert.is(y[i], 3 + 0.5 * z[i]!);
});

test.run();
