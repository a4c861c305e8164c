// Shared benchmark plumbing: every case is validated against its reference before it is
// timed (a wrong answer fails the run), timed with benny, saved under bench/results/, and
// summarised as throughput in the field's unit plus the ratio to the plain-TS baseline
// measured in the same run.
import b from 'benny';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export const RESULTS = new URL('./results/', import.meta.url);
const quick = process.env.BENCH_QUICK === '1';

/** Throws unless ok; the message says which contender gave which answer. */
export function check(ok, message) {
  if (!ok) throw new Error(`validation failed: ${message}`);
}

/**
 * Runs one benny suite. cases: [{ name, fn, baseline?, skip? }]; `work` is the number of
 * units one call does (FLOP, samples, ...). `anchors`: [{ name, ms, info? }] native times
 * measured in the same `npm run bench` (bench/anchors.js), added as rows; every gradcov row
 * gets vsNative = (fastest anchor ms) / (its ms), > 1 when gradcov is faster. Anchors with
 * `info: true` (e.g. OpenBLAS with another kernel than the machine's setting) are shown
 * but never the reference of vsNative.
 * Returns rows { name, ms, rate, ratio, vsNative }.
 */
export async function suite(name, { unit, work, cases, minSamples = 5, maxTime = 2, anchors = [] }) {
  const active = cases.filter((c) => !c.skip);
  const summary = await b.suite(
    name,
    b.configure({
      cases: { minSamples: quick ? 2 : minSamples, maxTime: quick ? 0.3 : maxTime, delay: 0.05 },
    }),
    ...active.map((c) => b.add(c.name, c.fn)),
    b.cycle(),
    b.complete(),
    b.save({ file: name.replace(/[^\w.-]+/g, '_'), folder: RESULTS.pathname, format: 'json', details: true }),
    b.save({ file: name.replace(/[^\w.-]+/g, '_'), folder: RESULTS.pathname, format: 'chart.html' }),
  );
  const median = (r) => r.details.median * 1000; // ms per call
  const base = summary.results.find((r) => active.find((c) => c.name === r.name)?.baseline);
  const ref = anchors.filter((a) => !a.info);
  const native = ref.length ? Math.min(...ref.map((a) => a.ms)) : NaN;
  return [
    ...summary.results.map((r) => ({
      suite: name,
      name: r.name,
      ms: median(r),
      rate: work / (median(r) / 1000),
      unit,
      ratio: base ? median(base) / median(r) : NaN,
      baseline: r === base,
      vsNative: native / median(r),
    })),
    ...anchors.map((a) => ({
      suite: name,
      name: a.name,
      ms: a.ms,
      rate: work / (a.ms / 1000),
      unit,
      ratio: base ? median(base) / a.ms : NaN,
      baseline: false,
      vsNative: a.info ? native / a.ms : NaN,
      native: !a.info,
      info: !!a.info,
    })),
  ];
}

/**
 * Median wall and CPU time (ms per call) of fn over `reps` samples. CPU time
 * (process.cpuUsage) counts only this process's time slices, so on a shared machine it
 * moves less with other people's load than wall time does; its clock is coarse, so each
 * sample repeats fn until it lasts at least 20 ms.
 */
export function timeIt(fn, reps) {
  // warm-up: at least 300 ms or 1000 calls, so that background compilation threads (which
  // process.cpuUsage also counts) are done before timing
  let calls = 0;
  const t0 = performance.now();
  while (calls < 1000 && (calls < 1 || performance.now() - t0 < 300)) {
    fn();
    calls++;
  }
  const per = (performance.now() - t0) / calls;
  const inner = Math.max(1, Math.ceil(20 / Math.max(per, 1e-3)));
  const wall = [],
    cpu = [];
  for (let i = 0; i < reps; i++) {
    const w0 = performance.now(),
      c0 = process.cpuUsage();
    for (let j = 0; j < inner; j++) fn();
    const c = process.cpuUsage(c0);
    wall.push((performance.now() - w0) / inner);
    cpu.push((c.user + c.system) / 1000 / inner);
  }
  const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
  return { ms: med(wall), cpuMs: med(cpu) };
}
/** A markdown table of rows: time, throughput and ratio to the suite's baseline. */
export function table(rows, scaleUnit = (r) => r) {
  const out = [
    '| suite | case | median | throughput | vs plain TS | vs numpy | of limit |',
    '|---|---|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const t = !Number.isFinite(r.ms)
      ? '-'
      : r.ms >= 1
        ? `${r.ms.toFixed(2)} ms`
        : `${(r.ms * 1000).toFixed(1)} us`;
    const limit = Number.isFinite(r.ofLimit) ? `${(100 * r.ofLimit).toFixed(0)}% of ${r.limitName}` : '-';
    const native = r.native
      ? 'anchor'
      : Number.isFinite(r.vsNative)
        ? `${r.vsNative.toFixed(2)}x${r.info ? ' (information)' : ''}`
        : '-';
    out.push(
      `| ${r.suite} | ${r.name} | ${t} | ${scaleUnit(r)} | ${r.baseline ? '1x (baseline)' : Number.isFinite(r.ratio) ? `${r.ratio.toFixed(1)}x` : '-'} | ${native} | ${limit} |`,
    );
  }
  return out.join('\n');
}

export function fmtRate(r) {
  if (r.unit === 'FLOP') return `${(r.rate / 1e9).toFixed(2)} GFLOP/s`;
  if (r.unit === 'samples') return `${(r.rate / 1e6).toFixed(1)} M samples/s`;
  if (r.unit === 'gradients') return `${(r.rate / 1e3).toFixed(1)} k gradients/s`;
  if (r.unit === 'bytes') return `${(r.rate / 1e9).toFixed(2)} GB/s`;
  return `${r.rate.toPrecision(3)} ${r.unit}/s`;
}

/**
 * What the run ran on: the CPU as /proc/cpuinfo gives it (model name, vendor, family and
 * model, and the flags that decide native kernels: avx2, fma, avx512f, amx), Node's version
 * and the core count. Linux only (elsewhere the model from os.cpus() and no flags).
 */
export function cpuInfo() {
  const info = { model: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version };
  try {
    const first = readFileSync('/proc/cpuinfo', 'utf8').split('\n\n')[0];
    const field = (name) => first.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim();
    const flags = new Set((field('flags') ?? '').split(/\s+/));
    Object.assign(info, {
      model: field('model name') ?? info.model,
      vendor: field('vendor_id'),
      family: Number(field('cpu family')),
      modelNumber: Number(field('model')),
      flags: ['avx2', 'fma', 'avx512f', 'amx_tile', 'amx_bf16', 'amx_int8'].filter((f) => flags.has(f)),
    });
  } catch {
    /* not Linux */
  }
  return info;
}

/** One line for the tables: `AMD EPYC (AuthenticAMD family 26 model 2; avx2 fma avx512f) x 2, Node v20.20.2`. */
export function cpuLine(c) {
  const id = c.vendor
    ? `${c.vendor} family ${c.family} model ${c.modelNumber}; ${c.flags.join(' ') || 'none of avx2, fma, avx512f, amx'}`
    : 'no /proc/cpuinfo';
  return `${c.model} (${id}) x ${c.cores}, Node ${c.node}`;
}

/** The wasm build as the tables name it: `simd (plain SIMD)` or `relaxed-simd (relaxed SIMD: fused madd)`. */
export function buildName(build) {
  return build === 'relaxed-simd' ? 'relaxed-simd (relaxed SIMD: fused madd)' : `${build} (plain SIMD)`;
}
