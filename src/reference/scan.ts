// Plain-TS reference for assembly/linalg.ts firstNonFinite.

/** Index of the first NaN or infinity in a, or -1. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}
