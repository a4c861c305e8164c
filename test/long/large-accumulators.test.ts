// Two dense accumulators at dims 8192..11584 (co-moments of 512 MiB to 1 GiB - 256 KiB, one
// wasm heap block each) never overwrite each other or a small block beside them, also when
// the larger one is created where a smaller block of the same 32 MiB size class was freed:
// upstream TLSF handed that smaller block out (see assembly/rt/tlsf.ts). Needs ~4.5 GiB of
// RAM (two blocks touched in wasm memory plus the comoment copies) and a few seconds a dim.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../../src/node.js';

await g.init(undefined, { build: 'simd' });

const row = (dim: number, seed: number) => new g.Rng(seed).normals(new Float64Array(dim));

/** (r1 - r2)(r1 - r2)^T / 2, the co-moment of two rows, at a stride of entries; and the mean. */
function check(name: string, acc: g.GradientCovariance, r1: Float64Array, r2: Float64Array): void {
  const d = acc.dim;
  const mean = acc.mean();
  for (let i = 0; i < d; i += 97)
    assert.ok(Math.abs(mean[i] - (r1[i] + r2[i]) / 2) <= 1e-12, `${name} mean[${i}]`);
  const M = acc.comoment();
  for (let i = 0; i < d; i += 331) {
    for (let j = i % 7; j < d; j += 293) {
      const want = ((r1[i] - r2[i]) * (r1[j] - r2[j])) / 2;
      assert.ok(
        Math.abs(M[i * d + j] - want) <= 1e-10,
        `${name} comoment[${i}, ${j}] = ${M[i * d + j]}, want ${want}`,
      );
    }
  }
}

for (const [small, large] of [
  [8192, 8600],
  [11404, 11584],
  [8192, 11584],
]) {
  test(`dims ${small} and ${large}: the larger where a freed ${small} block was, neither overwrites the other`, () => {
    const live: g.GradientCovariance[] = [];
    const make = (dim: number) => {
      const c = new g.GradientCovariance(dim);
      live.push(c);
      return c;
    };
    try {
      const freed = new g.GradientCovariance(small);
      const pin = make(4).add(new Float64Array([1, 2, 3, 4]));
      freed.dispose();
      const a = make(large);
      const b = make(small);
      const [a1, a2, b1, b2] = [row(large, 1), row(large, 2), row(small, 3), row(small, 4)];
      a.add(a1);
      b.add(b1);
      a.add(a2);
      b.add(b2);
      assert.equal([...pin.mean()], [1, 2, 3, 4], 'the small block beside them is untouched');
      assert.is(pin.count, 1);
      // comoment() copies through a wasm block as large as the co-moment: b's first, then
      // b goes, so that a's copy fits in the 4 GiB beside a (b's data was all written before)
      check(`dim ${small}`, b, b1, b2);
      b.dispose();
      check(`dim ${large}`, a, a1, a2);
    } finally {
      for (const c of live) c.dispose();
    }
  });
}

test.run();
