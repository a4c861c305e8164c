// Standard normals into a preallocated Float64Array: wasm Philox + Box–Muller vs the plain
// TS Box–Muller (Math.random + Math.log/cos/sin) and @stdlib/random-base-box-muller.
import boxMuller from '@stdlib/random-base-box-muller';
import * as g from '../dist/node.js';
import { mathRandomNormals, fillNormal, fillUniform } from '../src/reference/philox.ts';
import { suite, check } from './common.js';

export const SIZES = [1e3, 1e4, 1e5, 1e6, 1e7];

export async function run(anchors) {
  const rows = [];
  // validation: the wasm uniforms equal the TS reference bit for bit, the wasm normals equal the TS reference (same Philox stream) to 8 ulp, and
  // each contender's sample has mean ~0 and variance ~1
  const z = new g.Rng(5).normals(new Float64Array(4096));
  const ref = fillNormal(new Float64Array(4096), { k0: 5, k1: 0, domain: 0, stream: 0 });
  for (let i = 0; i < z.length; i++)
    check(Math.abs(z[i] - ref[i]) <= 1e-14 * Math.max(1, Math.abs(ref[i]) * 4), `normal ${i}`);
  const u = new g.Rng(5).uniforms(new Float64Array(4096)),
    uRef = fillUniform(new Float64Array(4096), { k0: 5, k1: 0, domain: 1, stream: 0 });
  for (let i = 0; i < u.length; i++) check(u[i] === uRef[i], `uniform ${i}`);
  const rand = boxMuller.factory({ seed: 5 });
  for (const [name, sample] of [
    ['wasm', new g.Rng(6).normals(new Float64Array(1e6))],
    ['plain TS', mathRandomNormals(new Float64Array(1e6))],
    ['stdlib', Float64Array.from({ length: 1e6 }, () => rand())],
  ]) {
    let m = 0,
      v = 0;
    for (const x of sample) {
      m += x;
      v += x * x;
    }
    m /= sample.length;
    v = v / sample.length - m * m;
    check(Math.abs(m) < 0.01 && Math.abs(v - 1) < 0.01, `${name} normals: mean ${m}, variance ${v}`);
  }
  for (const size of SIZES) {
    const out = new Float64Array(size);
    const rng = new g.Rng(7);
    rows.push(
      ...(await suite(`normals:n=${size.toExponential(0)}`, {
        unit: 'samples',
        work: size,
        minSamples: size >= 1e7 ? 3 : 5,
        anchors: anchors?.normals?.[size]
          ? [
              {
                name: 'numpy Generator.standard_normal(out=) (PCG64, ziggurat)',
                ms: anchors.normals[size].ms,
              },
            ]
          : [],
        cases: [
          { name: 'wasm Rng.normals', fn: () => rng.normals(out) },
          // the generator alone (Philox4x32-10 and the conversion to doubles), for the split
          { name: 'wasm Rng.uniforms (generator only, information)', fn: () => rng.uniforms(out) },
          { name: 'plain TS Box-Muller (Math.random)', baseline: true, fn: () => mathRandomNormals(out) },
          {
            name: '@stdlib/random-base-box-muller',
            fn: () => {
              for (let i = 0; i < size; i++) out[i] = rand();
            },
          },
        ],
      })),
    );
  }
  return rows;
}
