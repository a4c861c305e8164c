// The wasm heap allocator (assembly/rt/tlsf.ts, a patched copy of AssemblyScript's TLSF) at
// large sizes: every block it hands out is at least its request, 16-byte aligned, inside
// memory and disjoint from every other live block, for alloc/free/reuse patterns of blocks
// up to MAX_BLOCK_BYTES (1 GiB - 64). Upstream's TLSF did not round requests >= 512 MiB, so a
// free block of the same 32 MiB class but smaller than the request was handed out (the
// regression case below). Each case gets a fresh instance of the module (its own memory);
// pages are only touched where sentinels are written, so the 4 GiB reservation costs little.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { MAX_BLOCK_BYTES } from '../../src/core/wasm.js';

const file = process.env.GRADCOV_WASM === 'debug' ? 'gradcov.debug.wasm' : 'gradcov.wasm';
const module = new WebAssembly.Module(readFileSync(new URL(`../../dist/${file}`, import.meta.url)));
const MiB = 2 ** 20;

interface Heap {
  alloc(n: number): number;
  free(p: number): void;
  memory: WebAssembly.Memory;
}
function heap(): Heap {
  const { exports } = new WebAssembly.Instance(module, {
    env: {
      abort() {
        throw new Error('abort');
      },
    },
  });
  const e = exports as unknown as {
    alloc(n: number): number;
    free(p: number): void;
    memory: WebAssembly.Memory;
  };
  return { alloc: (n) => e.alloc(n) >>> 0, free: (p) => e.free(p), memory: e.memory };
}

/** A heap with a model of its live blocks: checks each new block and every live block's sentinels. */
class Checked {
  readonly h = heap();
  readonly live = new Map<number, { size: number; tag: number }>();
  #tag = 1;
  alloc(size: number): number | undefined {
    let p: number;
    try {
      p = this.h.alloc(size);
    } catch (err) {
      // the only refusal allowed: memory cannot grow by the block (wasm32's 4 GiB)
      assert.ok(
        this.h.memory.buffer.byteLength + size > 2 ** 32 - 64 * 1024,
        `alloc(${size}) trapped with ${this.h.memory.buffer.byteLength} B reserved: ${String(err)}`,
      );
      return undefined;
    }
    const bytes = this.h.memory.buffer.byteLength;
    assert.is(p % 16, 0, `alloc(${size}) = ${p} is 16-byte aligned`);
    assert.ok(p > 0 && p + size <= bytes, `alloc(${size}) = ${p} lies inside the ${bytes} B memory`);
    for (const [q, b] of this.live) {
      assert.ok(
        p + size <= q || q + b.size <= p,
        `alloc(${size}) = ${p} overlaps the live block ${q} of ${b.size} B`,
      );
    }
    const tag = this.#tag++;
    this.live.set(p, { size, tag });
    this.#mark(p, size, tag);
    this.verify();
    return p;
  }
  free(p: number): void {
    this.live.delete(p);
    this.h.free(p);
    this.verify();
  }
  #mark(p: number, size: number, tag: number): void {
    const v = new DataView(this.h.memory.buffer);
    v.setUint32(p, tag, true);
    if (size >= 8) v.setUint32(p + size - 4, ~tag >>> 0, true);
  }
  /** Every live block's first and last words still hold its tag: nothing wrote over it. */
  verify(): void {
    const v = new DataView(this.h.memory.buffer);
    for (const [p, { size, tag }] of this.live) {
      assert.is(v.getUint32(p, true), tag, `the block at ${p} (${size} B) keeps its first word`);
      if (size >= 8)
        assert.is(
          v.getUint32(p + size - 4, true),
          ~tag >>> 0,
          `the block at ${p} (${size} B) keeps its last word`,
        );
    }
  }
}

test('regression: a freed 590 MiB block is not handed out for a 600 MiB request (same 32 MiB class)', () => {
  const c = new Checked();
  const a = c.alloc(590 * MiB)!;
  c.alloc(64); // pins the free block: it cannot merge with the tail
  c.free(a);
  const b = c.alloc(600 * MiB);
  assert.ok(b !== undefined && b !== a, 'the 600 MiB block is not the 590 MiB one');
});

test('the largest block (MAX_BLOCK_BYTES) after a freed block of its own top class', () => {
  const c = new Checked();
  const a = c.alloc(MAX_BLOCK_BYTES - 30 * MiB)!;
  c.alloc(64);
  c.free(a);
  assert.ok(c.alloc(MAX_BLOCK_BYTES) !== undefined);
  assert.ok(c.alloc(MAX_BLOCK_BYTES - 30 * MiB) !== undefined, 'the freed block is reused for its own size');
});

test('alloc/free/reuse patterns up to MAX_BLOCK_BYTES against a model (fast-check, seed 20)', () => {
  const size = fc.oneof(
    fc.integer({ min: 1, max: 4096 }),
    fc.integer({ min: 1, max: 64 * MiB }),
    fc.integer({ min: 256 * MiB, max: MAX_BLOCK_BYTES }),
    fc.integer({ min: 512 * MiB - 64, max: 512 * MiB + 64 }),
    fc.integer({ min: MAX_BLOCK_BYTES - 40 * MiB, max: MAX_BLOCK_BYTES }),
  );
  const op = fc.oneof(
    { weight: 3, arbitrary: size.map((n) => ({ kind: 'alloc' as const, n })) },
    { weight: 2, arbitrary: fc.nat().map((i) => ({ kind: 'free' as const, i })) },
  );
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 24 }), (ops) => {
      const c = new Checked();
      for (const o of ops) {
        if (o.kind === 'alloc') c.alloc(o.n);
        else if (c.live.size) c.free([...c.live.keys()][o.i % c.live.size]);
      }
    }),
    { seed: 20, numRuns: 40 },
  );
});

test.run();
