#!/usr/bin/env node
// Streaming benchmark of `gradcov estimate` on a large generated CSV (not a timed test):
// writes ROWS x 10 columns (nine features and a target, ~200 MB at 2,000,000 rows) to a
// temporary directory, runs the built CLI on it in a child process and reports the wall
// time and the peak resident set size (the child's own getrusage maxRSS, printed at exit).
//
//   node cli/bench/csv.mjs [rows=2000000] [runs=1]
//
// Results go to stdout as one line per run and a summary (median); docs/cli.md quotes them.
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const rows = Number(process.argv[2] ?? 2_000_000);
const runs = Number(process.argv[3] ?? 1);
const CLI = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const FEATURES = 9;

/** y = sum_j (j+1)/10 x_j + noise; x uniform in (-5, 5); 6 decimals; a deterministic LCG. */
async function generate(file) {
  const out = createWriteStream(file);
  let s = 987654321;
  const u = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const header = [...Array.from({ length: FEATURES }, (_, j) => `x${j + 1}`), 'y'].join(',') + '\n';
  out.write(header);
  let chunk = '';
  for (let r = 0; r < rows; r++) {
    let y = 0;
    const cells = [];
    for (let j = 0; j < FEATURES; j++) {
      const x = (u() - 0.5) * 10;
      y += ((j + 1) / 10) * x;
      cells.push(x.toFixed(6));
    }
    cells.push((y + (u() - 0.5)).toFixed(6));
    chunk += cells.join(',') + '\n';
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise((resolve, reject) => out.end((e) => (e ? reject(e) : resolve())));
}

const dir = mkdtempSync(join(tmpdir(), 'gradcov-csv-bench-'));
try {
  const file = join(dir, 'big.csv');
  let t = performance.now();
  await generate(file);
  const bytes = statSync(file).size;
  console.log(
    `generated ${rows} x ${FEATURES + 1} CSV: ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const hook = `data:text/javascript,${encodeURIComponent("process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write('maxRSS_kB ' + u.maxRSS + ' cpu_us ' + (u.userCPUTime + u.systemCPUTime) + '\\n'); });")}`;
  const args = ['estimate', '--data', file, '--target', 'y', '--batches', '20000', '--json', '--quiet'];
  const times = [],
    peaks = [],
    cpu = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    const r = spawnSync(process.execPath, ['--import', hook, CLI, ...args], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    const seconds = (performance.now() - t) / 1000;
    if (r.status !== 0) throw new Error(`gradcov exited ${r.status}: ${r.stderr}`);
    const kB = Number(/maxRSS_kB (\d+)/.exec(r.stderr)?.[1]);
    const cpuSeconds = Number(/cpu_us (\d+)/.exec(r.stderr)?.[1]) / 1e6;
    const out = JSON.parse(r.stdout);
    if (out.rows !== rows || !(out.relativeError < 0.1))
      throw new Error(`unexpected result: rows ${out.rows}, error ${out.relativeError}`);
    times.push(seconds);
    peaks.push(kB / 1024);
    cpu.push(cpuSeconds);
    console.log(
      `run ${i + 1}: ${seconds.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s CPU (user + system), peak RSS ${(kB / 1024).toFixed(0)} MiB (${((kB * 1024) / bytes).toFixed(2)} bytes per CSV byte), relative error ${out.relativeError.toFixed(4)}`,
    );
  }
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(
    `median of ${runs}: ${median(times).toFixed(1)} s wall, ${median(cpu).toFixed(1)} s CPU, peak RSS ${median(peaks).toFixed(0)} MiB; command: gradcov ${args.join(' ').replace(file, 'big.csv')}`,
  );
  console.log(
    `machine: ${cpus()[0]?.model} x ${cpus().length}, Node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, ${new Date().toISOString()}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
