// Per-instance scratch of the shared-memory build (see ../scratch-transform.mjs). Every
// instance that imports the shared memory claims its own pages with memory.grow (atomic
// on shared memory: two instances never get the same pages) the first time it needs
// scratch, that is, while its start function runs, before JS calls any kernel. Blocks are
// zero-filled (fresh pages), as static `memory.data` blocks are.

// @ts-ignore: decorator
@inline const PAGE: usize = 65536;

let scratchNext: usize = 0;
let scratchEnd: usize = 0;

/** A zero-filled block of `size` bytes aligned to `align` in pages only this instance uses. */
export function sharedScratch(size: i32, align: i32 = 16): usize {
  let a = <usize>max(align, 1);
  let p = (scratchNext + a - 1) & ~(a - 1);
  if (scratchNext == 0 || p + <usize>size > scratchEnd) {
    let pages = <i32>((<usize>size + a + PAGE - 1) / PAGE);
    let old = memory.grow(pages);
    if (old < 0) unreachable();
    scratchNext = <usize>old * PAGE;
    scratchEnd = scratchNext + <usize>pages * PAGE;
    p = (scratchNext + a - 1) & ~(a - 1);
  }
  scratchNext = p + <usize>size;
  return p;
}
