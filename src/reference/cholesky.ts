// Plain-TS reference for the Cholesky kernels (assembly/cholesky.ts): the same row-oriented
// algorithm, scalar loops, on a copy.

/** L with A + ridge I = L L' (lower triangle, zeros above), or the first failing pivot. */
export function choleskyFactor(
  A: ArrayLike<number>,
  dim: number,
  ridge = 0,
): { L: Float64Array; pivot: -1 } | { L: undefined; pivot: number; value: number } {
  const L = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < i; j++) {
      let s = A[i * dim + j]!;
      for (let k = 0; k < j; k++) s -= L[i * dim + k]! * L[j * dim + k]!;
      L[i * dim + j] = s / L[j * dim + j]!;
    }
    let p = A[i * dim + i]! + ridge;
    for (let k = 0; k < i; k++) p -= L[i * dim + k]! ** 2;
    if (!(p > 0)) return { L: undefined, pivot: i, value: p };
    L[i * dim + i] = Math.sqrt(p);
  }
  return { L, pivot: -1 };
}

/** L^-1 b. */
export function forward(L: ArrayLike<number>, dim: number, b: ArrayLike<number>): Float64Array {
  const x = Float64Array.from(b);
  for (let i = 0; i < dim; i++) {
    let s = x[i]!;
    for (let k = 0; k < i; k++) s -= L[i * dim + k]! * x[k]!;
    x[i] = s / L[i * dim + i]!;
  }
  return x;
}

/** L'^-1 b. */
export function backward(L: ArrayLike<number>, dim: number, b: ArrayLike<number>): Float64Array {
  const x = Float64Array.from(b);
  for (let i = dim - 1; i >= 0; i--) {
    let s = x[i]!;
    for (let k = i + 1; k < dim; k++) s -= L[k * dim + i]! * x[k]!;
    x[i] = s / L[i * dim + i]!;
  }
  return x;
}

/** (L L')^-1 b. */
export function solve(L: ArrayLike<number>, dim: number, b: ArrayLike<number>): Float64Array {
  return backward(L, dim, forward(L, dim, b));
}
