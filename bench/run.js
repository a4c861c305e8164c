#!/usr/bin/env node
// `npm run bench [suite ...]`: runs the benny suites (covariance, normals, spectral, parallel,
// gradients, paired, memory), each validated before it is timed, then prints one table with
// throughput and the ratio to the plain-TS baseline measured in the same run.
// BENCH_QUICK=1 shortens every case (a smoke run; its numbers are not for the README).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as g from '../dist/node.js';
import { RESULTS, table, fmtRate } from './common.js';

const all = ['covariance', 'normals', 'spectral', 'gradients', 'paired', 'parallel', 'memory'];
// memory first: wasm memory never shrinks, so its peak must be read before other suites grow it
const wanted = (process.argv.slice(2).length ? process.argv.slice(2) : all)
  .sort((a, b) => (b === 'memory') - (a === 'memory'));
for (const w of wanted) if (!all.includes(w)) throw new Error(`unknown suite ${w}; choose from ${all.join(', ')}`);

await g.init(undefined, { build: process.env.GRADCOV_BUILD ?? 'auto' });
mkdirSync(RESULTS, { recursive: true });
const header = `gradcov bench, ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x ${os.cpus().length}, wasm build ${g.wasmBuild()}`;
console.log(header);
const rows = [];
let memory;
for (const name of wanted) {
  const mod = await import(`./${name}.js`);
  if (name === 'memory') memory = await mod.run();
  else rows.push(...await mod.run());
}
let text = `${header}\n\n${table(rows, fmtRate)}\n`;
if (memory) {
  text += `\nStreaming memory: dim ${memory.dim}, ${memory.total} gradients in blocks of ${memory.block}: peak wasm memory ${memory.peakMiB.toFixed(1)} MiB (${memory.seconds.toFixed(2)} s)\n`;
}
console.log(`\n${text}`);
writeFileSync(new URL('summary.md', RESULTS), text);
writeFileSync(new URL('summary.json', RESULTS), JSON.stringify({ header, rows, memory }, null, 2));
