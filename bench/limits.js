// The limits of this machine's WebAssembly (issue 22 item 1), measured in every run so that
// each kernel row can say how far it is from what wasm SIMD reaches here: a calibration
// module written as WAT text in this file (generated per variant, assembled with the
// `wabt` npm package; not shipped), timed in this process:
//
// - multiply+add throughput, f64x2 and f32x4: a K loop over L1-resident panels with R x S
//   independent accumulator chains (c[r][s] += a[r] * b[s]: R vector loads, S broadcasts
//   per step, or S broadcasts held in registers), for several tile shapes (8 to 12
//   chains); the peak is the best shape's best time. FLOP: 2 per lane per multiply+add.
// - the same with f64x2.relaxed_madd / f32x4.relaxed_madd where the engine has relaxed
//   SIMD (Node 20 needs --experimental-wasm-relaxed-simd: timed in a child Node with it).
// - sequential read bandwidth: a sum of a 64 MiB f64 array (four f64x2 chains).
// - random-gather bandwidth: rows of d f64 (d = 16, 64, 256: the gradients suite's dims)
//   at random row indices over the same 64 MiB, summed, as the gradient oracle gathers
//   a batch's rows; bytes counted are the rows' bytes (the 4-byte indices are not counted).
//
// Every figure is the best of several timed calls after a warm-up (V8 compiles wasm with
// Liftoff first and swaps in TurboFan code for later calls): a ceiling, not a typical time.
// `limits()` returns them (cached per process); run() prints them as rows.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const quick = process.env.BENCH_QUICK === '1';
const K = 128; // steps per pass over the panels: R * 16 + S * 8 bytes per step stay in L1
const BUF_BYTES = 64 << 20; // the bandwidth buffer
const IDX_BYTES = 4 << 20; // room for the gather indices (i32)
const PANEL_BASE = BUF_BYTES + IDX_BYTES; // the compute panels after them (64 KiB)
const PAGES = (PANEL_BASE + (64 << 10)) >> 16;
const GATHER_DIMS = [16, 64, 256];

/** Tile shapes (R loaded vectors x S broadcasts) tried for the peak; `reg`: broadcasts held in registers. */
const SHAPES = [
  { r: 2, s: 4 },
  { r: 4, s: 2 },
  { r: 3, s: 3 },
  { r: 2, s: 5 },
  { r: 2, s: 6 },
  { r: 3, s: 4 },
  { r: 4, s: 3 },
  { r: 2, s: 4, reg: true },
  { r: 4, s: 2, reg: true },
  { r: 3, s: 3, reg: true },
  { r: 3, s: 4, reg: true },
];

/** WAT of one multiply+add kernel: (a, b, reps) -> a lane sum (keeps the result live). */
function madKernel(name, { r, s, reg }, type, relaxed) {
  const vec = type === 'f64' ? 'f64x2' : 'f32x4';
  const splat = type === 'f64' ? 'v128.load64_splat' : 'v128.load32_splat';
  const bStep = type === 'f64' ? 8 : 4;
  const L = [];
  L.push(`(func (export "${name}") (param $a i32) (param $b i32) (param $reps i32) (result f64)`);
  L.push('(local $pa i32) (local $pb i32) (local $i i32)');
  for (let i = 0; i < r * s; i++) L.push(`(local $c${i} v128)`);
  for (let i = 0; i < r; i++) L.push(`(local $a${i} v128)`);
  for (let j = 0; j < s; j++) L.push(`(local $b${j} v128)`);
  if (reg)
    for (let j = 0; j < s; j++) L.push(`(local.set $b${j} (${splat} offset=${j * bStep} (local.get $b)))`);
  L.push('(loop $outer');
  L.push(
    '(local.set $pa (local.get $a)) (local.set $pb (local.get $b)) (local.set $i (i32.const ' + K + '))',
  );
  L.push('(loop $inner');
  for (let i = 0; i < r; i++) L.push(`(local.set $a${i} (v128.load offset=${i * 16} (local.get $pa)))`);
  if (!reg)
    for (let j = 0; j < s; j++) L.push(`(local.set $b${j} (${splat} offset=${j * bStep} (local.get $pb)))`);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < s; j++) {
      const c = `$c${i * s + j}`;
      L.push(
        relaxed
          ? `(local.set ${c} (${vec}.relaxed_madd (local.get $a${i}) (local.get $b${j}) (local.get ${c})))`
          : `(local.set ${c} (${vec}.add (local.get ${c}) (${vec}.mul (local.get $a${i}) (local.get $b${j}))))`,
      );
    }
  L.push(`(local.set $pa (i32.add (local.get $pa) (i32.const ${r * 16})))`);
  L.push(`(local.set $pb (i32.add (local.get $pb) (i32.const ${reg ? 0 : s * bStep})))`);
  L.push('(br_if $inner (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))');
  L.push('(br_if $outer (local.tee $reps (i32.sub (local.get $reps) (i32.const 1)))))');
  // the sum of every accumulator's lanes, so that nothing is dead code
  let sum = '(local.get $c0)';
  for (let i = 1; i < r * s; i++) sum = `(${vec}.add ${sum} (local.get $c${i}))`;
  L.push(
    type === 'f64'
      ? `(f64.add (f64x2.extract_lane 0 ${sum}) (f64x2.extract_lane 1 (local.get $c0)))`
      : `(f64.promote_f32 (f32x4.extract_lane 0 ${sum}))`,
  );
  L.push(')');
  return L.join('\n');
}

const SEQ_WAT = `
(func (export "seq") (param $p i32) (param $bytes i32) (result f64)
  (local $end i32) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
  (local.set $end (i32.add (local.get $p) (local.get $bytes)))
  (loop $l
    (local.set $s0 (f64x2.add (local.get $s0) (v128.load offset=0 (local.get $p))))
    (local.set $s1 (f64x2.add (local.get $s1) (v128.load offset=16 (local.get $p))))
    (local.set $s2 (f64x2.add (local.get $s2) (v128.load offset=32 (local.get $p))))
    (local.set $s3 (f64x2.add (local.get $s3) (v128.load offset=48 (local.get $p))))
    (br_if $l (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 64))) (local.get $end))))
  (local.set $s0 (f64x2.add (f64x2.add (local.get $s0) (local.get $s1)) (f64x2.add (local.get $s2) (local.get $s3))))
  (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
(func (export "gather") (param $x i32) (param $idx i32) (param $n i32) (param $rowBytes i32) (result f64)
  (local $p i32) (local $end i32) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
  (loop $rows
    (local.set $p (i32.add (local.get $x) (i32.mul (i32.load (local.get $idx)) (local.get $rowBytes))))
    (local.set $end (i32.add (local.get $p) (local.get $rowBytes)))
    (loop $l
      (local.set $s0 (f64x2.add (local.get $s0) (v128.load offset=0 (local.get $p))))
      (local.set $s1 (f64x2.add (local.get $s1) (v128.load offset=16 (local.get $p))))
      (local.set $s2 (f64x2.add (local.get $s2) (v128.load offset=32 (local.get $p))))
      (local.set $s3 (f64x2.add (local.get $s3) (v128.load offset=48 (local.get $p))))
      (br_if $l (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 64))) (local.get $end))))
    (local.set $idx (i32.add (local.get $idx) (i32.const 4)))
    (br_if $rows (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
  (local.set $s0 (f64x2.add (f64x2.add (local.get $s0) (local.get $s1)) (f64x2.add (local.get $s2) (local.get $s3))))
  (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))`;

const shapeName = ({ r, s, reg }) => `${r}x${s}${reg ? ' (b in registers)' : ''}`;
const kernelName = (type, relaxed, i) => `${type}${relaxed ? '_relaxed' : ''}_${i}`;

/** Assembles the calibration module (relaxed: the relaxed_madd kernels too). */
async function build(relaxed) {
  const wabt = await wabtInit();
  const funcs = [SEQ_WAT];
  for (const type of ['f64', 'f32'])
    for (const rx of relaxed ? [false, true] : [false])
      SHAPES.forEach((sh, i) => funcs.push(madKernel(kernelName(type, rx, i), sh, type, rx)));
  const text = `(module (memory (export "mem") ${PAGES})\n${funcs.join('\n')})`;
  const mod = wabt.parseWat('limits.wat', text, { simd: true, relaxed_simd: relaxed });
  mod.validate();
  const { buffer } = mod.toBinary({});
  mod.destroy();
  return new WebAssembly.Instance(new WebAssembly.Module(buffer)).exports;
}

/** Whether this engine validates relaxed-SIMD code without a flag. */
function relaxedHere() {
  // (module (func (param v128 v128 v128) (result v128) local.get 0..2 f64x2.relaxed_madd))
  const bytes = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0,
    32, 1, 32, 2, 253, 135, 2, 11,
  ]);
  return WebAssembly.validate(bytes);
}

/** Best wall ms of fn over `reps` calls, after calls for at least `warmMs` (tier-up to TurboFan). */
function best(fn, reps, warmMs = 40) {
  const t0 = performance.now();
  let calls = 0;
  while (calls < 3 || performance.now() - t0 < warmMs) {
    fn();
    calls++;
  }
  let b = Infinity;
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    fn();
    b = Math.min(b, performance.now() - s);
  }
  return b;
}

/** The multiply+add peaks of one module: { f64: {gflops, shape, shapes}, f32: ... } (relaxed: the relaxed_madd kernels). */
function measurePeaks(ex, relaxed) {
  const mem = new Float64Array(ex.mem.buffer, PANEL_BASE, 8192);
  for (let i = 0; i < mem.length; i++) mem[i] = 1e-3 * ((i % 7) - 3); // small values, no overflow or denormals
  const a = PANEL_BASE,
    b = PANEL_BASE + 32 * 1024;
  const reps = 12000; // passes of K steps per call: about 1-3 ms per call at the peak
  const kernels = [];
  for (const type of ['f64', 'f32'])
    SHAPES.forEach((sh, i) => kernels.push({ type, sh, f: ex[kernelName(type, relaxed, i)], ms: Infinity }));
  // a warm-up pass over every kernel first, so that each is timed in its TurboFan code
  // (tier-up compiles in the background; a kernel timed right after its first calls can
  // still run its Liftoff code); then rounds that time each kernel once, keeping each
  // one's best, so that a burst of other load hits one round, not one kernel
  for (const k of kernels) best(() => k.f(a, b, reps >> 4), 1, 10);
  for (let round = 0; round < (quick ? 6 : 12); round++)
    for (const k of kernels) {
      const t0 = performance.now();
      k.f(a, b, reps);
      k.ms = Math.min(k.ms, performance.now() - t0);
    }
  const out = {};
  for (const type of ['f64', 'f32']) {
    const lanes = type === 'f64' ? 2 : 4;
    const shapes = kernels
      .filter((k) => k.type === type)
      .map(({ sh, ms }) => ({
        shape: shapeName(sh),
        chains: sh.r * sh.s,
        gflops: (reps * K * sh.r * sh.s * lanes * 2) / ms / 1e6,
      }));
    const top = shapes.reduce((x, y) => (y.gflops > x.gflops ? y : x));
    out[type] = { gflops: top.gflops, shape: top.shape, chains: top.chains, shapes };
  }
  return out;
}

/** Sequential and gather bandwidth (GB/s) over the 64 MiB buffer. */
function measureBandwidth(ex) {
  const x = new Float64Array(ex.mem.buffer, 0, BUF_BYTES / 8);
  for (let i = 0; i < x.length; i++) x[i] = (i & 1023) * 1e-3; // resident, not zero pages
  const reps = quick ? 3 : 7;
  const seqMs = best(() => ex.seq(0, BUF_BYTES), reps, 0);
  const gather = {};
  let seed = 0x9e3779b9;
  const next = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0), seed);
  for (const d of GATHER_DIMS) {
    const rowBytes = d * 8,
      rows = BUF_BYTES / rowBytes,
      n = Math.min(rows, IDX_BYTES / 4, 1 << 19);
    const idx = new Int32Array(ex.mem.buffer, BUF_BYTES, n);
    for (let i = 0; i < n; i++) idx[i] = next() % rows;
    const ms = best(() => ex.gather(0, BUF_BYTES, n, rowBytes), reps, 0);
    gather[d] = { gbs: (n * rowBytes) / ms / 1e6, rowBytes, gathers: n };
  }
  return { seq: { gbs: BUF_BYTES / seqMs / 1e6, bytes: BUF_BYTES }, gather };
}

/** The relaxed-SIMD peaks: in this process where the engine has relaxed SIMD, else in a child Node with the flag (null if neither). */
async function relaxedPeaks() {
  if (relaxedHere()) return { ...measurePeaks(await build(true), true), where: 'this process' };
  const r = spawnSync(
    process.execPath,
    ['--experimental-wasm-relaxed-simd', fileURLToPath(import.meta.url), '--relaxed-child'],
    { encoding: 'utf8', env: process.env },
  );
  if (r.status !== 0) return { error: (r.stderr ?? '').trim().split('\n').pop() };
  return {
    ...JSON.parse(r.stdout.trim().split('\n').pop()),
    where: 'child Node, --experimental-wasm-relaxed-simd',
  };
}

let cached;
/** The limits of this machine (measured once per process): { f64, f32, relaxed, seq, gather, seconds }. */
export async function limits() {
  if (cached) return cached;
  const t0 = performance.now();
  const ex = await build(false);
  const peaks = measurePeaks(ex, false);
  const bw = measureBandwidth(ex);
  const relaxed = await relaxedPeaks();
  cached = { ...peaks, relaxed, ...bw, seconds: (performance.now() - t0) / 1000 };
  return cached;
}

/**
 * Multiply-add FLOP the covariance kernels actually do for `rows` rows at `dim`: the upper
 * 4 x 4 tiles of the padded dim (T = ceil(dim / 4) panels, T (T + 1) / 2 tiles, 16
 * multiply-adds per tile and row, 2 FLOP each). The tables count 2 rows dim^2 (a full G'G
 * product), about twice this; "of peak" uses this count, so that 100% is the wasm peak.
 */
export function covarianceDoneFlop(rows, dim) {
  const T = Math.ceil(dim / 4);
  return rows * 16 * T * (T + 1);
}

/**
 * The roofline of the gradient pipelines of bench/gradients.js (100,000 rows x d, batches of
 * n, m batches), in ms: max(bytes / BW_seq, FLOP / P_f64), where
 *   bytes = 8 rows (d + 1) + 8 m d: X and y read once (every row is drawn with overwhelming
 *           probability at m n >> rows) and the m gradients written once;
 *   FLOP  = 4 m n d (per sample and coordinate one multiply-add for the residual x'w and
 *           one for x r) + (estimates only) the covariance update of the m gradients,
 *           covarianceDoneFlop(m, d);
 * BW_seq the sequential read bandwidth and P_f64 the f64x2 multiply+add peak measured here.
 * Random numbers (one index and one normal per sample) are not counted. The gather roofline
 * (information) is what a pipeline that gathers rows in drawing order must move:
 * m n (d + 1) 8 bytes at the random-gather bandwidth of rows of d f64.
 */
export function gradientRoofline(L, { rows, dim, batchSize, batches, covariance }) {
  const bytes = 8 * rows * (dim + 1) + 8 * batches * dim;
  const flop = 4 * batches * batchSize * dim + (covariance ? covarianceDoneFlop(batches, dim) : 0);
  const memMs = bytes / (L.seq.gbs * 1e6),
    flopMs = flop / (L.f64.gflops * 1e6);
  const g = L.gather[dim] ?? L.gather[64];
  return {
    ms: Math.max(memMs, flopMs),
    memMs,
    flopMs,
    bound: memMs >= flopMs ? 'sequential bandwidth' : 'f64x2 peak',
    gatherMs: (8 * batches * batchSize * (dim + 1)) / (g.gbs * 1e6),
    bytes,
    flop,
  };
}

/** The peak a wasm kernel row is measured against: 'f64' | 'f32', relaxed for the relaxed build. */
export function peakOf(L, type, relaxed) {
  const p = relaxed && L.relaxed?.[type] ? L.relaxed[type] : L[type];
  return {
    gflops: p.gflops,
    name: `${type === 'f64' ? 'f64x2' : 'f32x4'}${relaxed && L.relaxed?.[type] ? ' relaxed' : ''} peak`,
  };
}

/** Rows for the main table (suite 'limits'). */
export async function run() {
  const L = await limits();
  const out = [];
  const row = (name, rate, unit, ms = NaN) =>
    out.push({ suite: 'limits', name, ms, rate, unit, ratio: NaN, baseline: false, vsNative: NaN });
  for (const type of ['f64', 'f32']) {
    const p = L[type];
    row(
      `${type === 'f64' ? 'f64x2' : 'f32x4'} mul+add peak (best of ${SHAPES.length} tiles: ${p.shape}, ${p.chains} chains)`,
      p.gflops * 1e9,
      'FLOP',
    );
    const rx = L.relaxed?.[type];
    if (rx)
      row(
        `${type === 'f64' ? 'f64x2' : 'f32x4'}.relaxed_madd peak (${rx.shape}, ${rx.chains} chains; ${L.relaxed.where})`,
        rx.gflops * 1e9,
        'FLOP',
      );
  }
  if (L.relaxed?.error) console.log(`limits: relaxed SIMD not measured (${L.relaxed.error})`);
  row(`sequential read, sum of a ${BUF_BYTES >> 20} MiB f64 array`, L.seq.gbs * 1e9, 'bytes');
  for (const d of GATHER_DIMS)
    row(
      `random gather, rows of ${d} f64 (${d * 8} B) over ${BUF_BYTES >> 20} MiB`,
      L.gather[d].gbs * 1e9,
      'bytes',
    );
  console.log(`limits: measured in ${L.seconds.toFixed(1)} s`);
  return out;
}

/** The per-shape table (information: what each tile shape reached). */
export function shapesTable(L) {
  const lines = [
    '| tile (R x S) | chains | f64x2 GFLOP/s | f32x4 GFLOP/s | f64x2 relaxed_madd | f32x4 relaxed_madd |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  const f = (x) => (x ? x.gflops.toFixed(1) : '-');
  L.f64.shapes.forEach((s, i) =>
    lines.push(
      `| ${s.shape} | ${s.chains} | ${f(s)} | ${f(L.f32.shapes[i])} | ${f(L.relaxed?.f64?.shapes?.[i])} | ${f(L.relaxed?.f32?.shapes?.[i])} |`,
    ),
  );
  return lines.join('\n');
}

if (process.argv[2] === '--relaxed-child') {
  console.log(JSON.stringify(measurePeaks(await build(true), true)));
}
