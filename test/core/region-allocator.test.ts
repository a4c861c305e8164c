// RegionAllocator (src/core/wasm.ts): how a thread places its blocks in a shared WebAssembly
// memory (the worker pool's shared-memory path). Blocks never overlap, are 16-byte aligned,
// freed neighbours merge so a later large block fits without growing, and pages come only
// from grow() (which on a shared memory is atomic: other threads never get the same pages).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RegionAllocator } from '../../src/core/wasm.js';

const PAGE = 65536;
/** A memory whose pages are interleaved with another thread's: every grow first gives one page away. */
function fakeMemory(otherThread = false) {
  let pages = 2;
  const grants: [number, number][] = [];
  return {
    grants,
    get buffer() {
      return { byteLength: pages * PAGE } as ArrayBuffer;
    },
    grow(n: number) {
      if (otherThread) pages += 1; // another thread grew in between
      const old = pages;
      if (pages + n > 65536) throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
      pages += n;
      grants.push([old * PAGE, (old + n) * PAGE]);
      return old;
    },
  };
}

/** Granted ranges with adjacent ones merged (a block may span two grants that follow each other). */
function union(ranges: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of [...ranges].sort((x, y) => x[0] - y[0])) {
    if (out.length && out[out.length - 1]![1] === a) out[out.length - 1]![1] = b;
    else out.push([a, b]);
  }
  return out;
}

function overlaps(blocks: [number, number][]): boolean {
  const s = [...blocks].sort((a, b) => a[0] - b[0]);
  return s.some((b, i) => i > 0 && b[0] < s[i - 1]![1]);
}

test('blocks are aligned, inside pages this thread was granted, and never overlap (sizes 0, 1, 15, 16, 17, a page +/- 1, several pages)', () => {
  for (const other of [false, true]) {
    const mem = fakeMemory(other);
    const a = new RegionAllocator(mem);
    const blocks: [number, number][] = [];
    for (const size of [0, 1, 15, 16, 17, PAGE - 1, PAGE, PAGE + 1, 3 * PAGE + 5, 8, 100]) {
      const p = a.alloc(size);
      assert.is(p % 16, 0, `size ${size}: aligned`);
      assert.ok(
        union(mem.grants).some(([s, e]) => p >= s && p + Math.max(size, 1) <= e),
        `size ${size}: inside the pages granted to this thread`,
      );
      blocks.push([p, p + Math.max(size, 16)]);
    }
    assert.not.ok(overlaps(blocks), 'no overlap');
    assert.is(
      a.ownedBytes,
      mem.grants.reduce((s, [b, e]) => s + e - b, 0),
    );
  }
});

test('freed blocks are reused and neighbours merge: after freeing everything, one block of the total fits without growing', () => {
  const mem = fakeMemory();
  const a = new RegionAllocator(mem);
  const ptrs = [1000, 5000, 20000, 40000].map((n) => a.alloc(n));
  const owned = a.ownedBytes;
  for (const p of [ptrs[1]!, ptrs[3]!, ptrs[0]!, ptrs[2]!]) a.free(p); // out of order
  a.free(ptrs[0]!); // twice: ignored
  a.free(123456); // never handed out: ignored
  const big = a.alloc(owned);
  assert.is(a.ownedBytes, owned, 'no growth');
  assert.ok(big >= mem.grants[0]![0]);
  const again = a.alloc(16);
  assert.ok(a.ownedBytes > owned, 'full: the next block grows the memory');
  assert.ok(again >= big + owned || again + 16 <= big);
});

test('a memory that cannot grow: alloc throws and the allocator stays usable', () => {
  const mem = fakeMemory();
  const a = new RegionAllocator(mem);
  const p = a.alloc(100);
  assert.throws(() => a.alloc(2 ** 32), /Maximum memory size/);
  a.free(p);
  assert.is(a.alloc(100), p);
});

test.run();
