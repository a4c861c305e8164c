#!/usr/bin/env node
// `npm run bench [suite ...]`: runs the numpy anchors (bench/anchors.js, when python3 with
// numpy is present), then this machine's WebAssembly limits (bench/limits.js: multiply+add
// peaks, sequential and gather bandwidth; measured whenever a suite that is compared with
// them runs), then the suites (covariance, normals, spectral, parallel, gradients, paired,
// memory, bullmq, sketch, peer: TF.js's wasm backend), each validated before it is timed,
// then the targets of issues 14 and 22 as ratios (bench/targets.js); prints one table with
// throughput, the ratio to the plain-TS baseline, the ratio to numpy and the fraction of
// the matching limit, all measured in the same run.
// BENCH_QUICK=1 shortens every case (a smoke run; its numbers are not for the README).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as g from '../dist/node.js';
import { RESULTS, table, fmtRate, cpuInfo, cpuLine, buildName } from './common.js';
import { runAnchors } from './anchors.js';
import { limits, shapesTable } from './limits.js';
import { peerTable } from './peer.js';

/** Markdown table of the information rows: numpy with the CPU's own OpenBLAS kernel next to the anchors. */
function cpuKernelTable(anchors) {
  const c = anchors.cpuKernel,
    core = anchors.openblas?.coreType ?? '?',
    cpuCore = c.openblas?.coreType ?? '?';
  const f = (t) => (t.ms >= 1 ? `${t.ms.toFixed(2)} ms` : `${(t.ms * 1000).toFixed(1)} us`);
  const lines = [
    `| numpy case | ${core} (anchor), wall / CPU | ${cpuCore}, wall / CPU | ${cpuCore} speed-up (CPU time) |`,
    '|---|---:|---:|---:|',
  ];
  const add = (what, a, b) => {
    if (a && b)
      lines.push(
        `| ${what} | ${f(a)} / ${f({ ms: a.cpuMs })} | ${f(b)} / ${f({ ms: b.cpuMs })} | ${(a.cpuMs / b.cpuMs).toFixed(2)}x |`,
      );
  };
  for (const [d, t] of Object.entries(c.covariance ?? {}))
    add(`G.T @ G, ${t.rows} x ${d}`, anchors.covariance?.[d], t);
  for (const [d, t] of Object.entries(c.spectral ?? {}))
    add(`eigvalsh, d = ${d}`, anchors.spectral?.[d]?.eigvalsh, t.eigvalsh);
  return lines.join('\n');
}
import { targetsTable } from './targets.js';

const all = [
  'covariance',
  'normals',
  'spectral',
  'gradients',
  'paired',
  'parallel',
  'memory',
  'bullmq',
  'sketch',
  'peer',
  'limits',
  'targets',
];
// the suites whose rows are set against the limits (which are then measured first)
const usesLimits = ['limits', 'covariance', 'gradients', 'sketch', 'targets'];
// memory first: wasm memory never shrinks, so its peak must be read before other suites grow it
const wanted = (process.argv.slice(2).length ? process.argv.slice(2) : all).sort(
  (a, b) => (b === 'memory') - (a === 'memory'),
);
for (const w of wanted)
  if (!all.includes(w)) throw new Error(`unknown suite ${w}; choose from ${all.join(', ')}`);

await g.init(undefined, { build: process.env.GRADCOV_BUILD ?? 'auto' });
mkdirSync(RESULTS, { recursive: true });
const cpu = cpuInfo();
const header = `gradcov bench, ${new Date().toISOString().slice(0, 10)}: ${cpuLine(cpu)}, wasm build ${buildName(g.wasmBuild())}`;
console.log(header);
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');
const loadBefore = load();
// numpy first, alone (it would compete with the gradcov suites for the cores)
const anchors = runAnchors(
  wanted.includes('targets') ? ['covariance', 'normals', 'spectral', 'gradients'] : wanted,
);
const rows = [];
let memory, targets, L, peer;
for (const name of wanted) {
  // the limits right after memory (which must come first), before any suite set against them
  if (!L && name !== 'memory' && wanted.some((w) => usesLimits.includes(w))) L = await limits();
  const mod = await import(`./${name}.js`);
  if (name === 'memory') memory = await mod.run();
  else if (name === 'targets') targets = await mod.run(anchors, L);
  else rows.push(...(await mod.run(anchors, L)));
  if (name === 'peer') peer = mod.lastResults();
}
const o = anchors?.openblas;
let text = `${header}\n`;
text += anchors
  ? `numpy ${anchors.numpy} (Python ${anchors.python}), OpenBLAS ${o?.config ?? '?'}: anchors on core type ${o?.coreType ?? '?'} (this machine's settings: ${anchors.knobs}), ${o?.threads ?? '?'} thread` +
    (anchors.cpuKernel
      ? `; information rows on core type ${anchors.cpuKernel.openblas?.coreType ?? '?'} (the CPU's own kernel, settings unset)\n`
      : '\n')
  : 'numpy anchors: not run\n';
text += `load average (1, 5, 15 min): ${loadBefore} at the start, ${load()} at the end\n\n${table(rows, fmtRate)}\n`;
if (L)
  text += `\nThis machine's WebAssembly limits (bench/limits.js, best of several calls; each tile shape's multiply+add rate, the peak is the best):\n\n${shapesTable(L)}\n`;
if (peer)
  text += `\nThe JS peer: G'G on the same Float32Array, TF.js wasm backend (${peer.backend}):\n\n${peerTable(peer)}\n`;
if (anchors?.cpuKernel)
  text += `\nnumpy with the CPU's own OpenBLAS kernel (information; the ratios above and the targets use the anchor):\n\n${cpuKernelTable(anchors)}\n`;
if (targets)
  text += `\nTargets (ratio = anchor time / gradcov time, so > 1 means gradcov is faster; the overhead rows are a fraction of a matvec; the limit rows are the fraction of the limit reached). Ran on ${cpuLine(cpu)}, wasm build ${buildName(g.wasmBuild())}:\n\n${targetsTable(targets)}\n`;
if (memory) {
  text += `\nStreaming memory: dim ${memory.dim}, ${memory.total} gradients in blocks of ${memory.block}: peak wasm memory ${memory.peakMiB.toFixed(1)} MiB (${memory.seconds.toFixed(2)} s)\n`;
}
console.log(`\n${text}`);
writeFileSync(new URL('summary.md', RESULTS), text);
writeFileSync(
  new URL('summary.json', RESULTS),
  JSON.stringify(
    { header, cpu, wasmBuild: g.wasmBuild(), anchors, limits: L, peer, rows, memory, targets },
    null,
    2,
  ),
);
