// Streaming memory: dim 1024 with 10^5 gradients added in blocks of 1000 rows. Reports the
// peak wasm memory (memory never shrinks, so its final size is the peak).
import * as g from '../dist/node.js';
import { check } from './common.js';

export async function run() {
  const dim = 1024,
    total = 100000,
    block = 1000;
  const before = g.wasmMemoryBytes();
  const acc = new g.GradientCovariance(dim);
  const G = new Float64Array(block * dim);
  const rng = new g.Rng(9);
  const t0 = performance.now();
  for (let done = 0; done < total; done += block) acc.addBatch(rng.normals(G));
  const seconds = (performance.now() - t0) / 1000;
  const C = acc.covariance();
  check(
    acc.count === total && Math.abs(C[0] - 1) < 0.05,
    `dim ${dim} streamed covariance: count ${acc.count}, C00 ${C[0]}`,
  );
  acc.dispose();
  const peak = g.wasmMemoryBytes();
  return { dim, total, block, peakMiB: peak / 2 ** 20, beforeMiB: before / 2 ** 20, seconds };
}
