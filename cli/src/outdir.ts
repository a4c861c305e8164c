// `--out DIR` is checked before any work: a path that names an existing file (or lies below
// one) would otherwise fail only after the whole run, in mkdirSync, with a bare EEXIST/ENOTDIR.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from './errors.js';

/** Throws a UserError when `out`, or the nearest existing folder above it, is not a directory. */
export function checkOutPath(out: string): void {
  let p = resolve(out);
  for (;;) {
    let st;
    try {
      st = statSync(p);
    } catch {
      const up = dirname(p);
      if (up === p) return;
      p = up;
      continue;
    }
    if (st.isDirectory()) return;
    throw new UserError(
      p === resolve(out)
        ? `--out ${out}: is a file, not a directory; --out names a directory to write the files into (it is created if missing).`
        : `--out ${out}: ${p} is a file, so no directory can be created below it.`,
    );
  }
}
