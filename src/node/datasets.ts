// Node-only: the vendored real data sets, read from the package's data/ folder.
import { readFileSync } from 'node:fs';
import type { RegressionData } from '../gradients.js';

function parseNumbers(text: string, file: string): number[][] {
  return text.trim().split(/\r?\n/).map((line, i) => line.trim().split(/\s+/).map((tok, j) => {
    const v = Number(tok);
    if (!Number.isFinite(v)) throw new Error(`${file}: line ${i + 1}, column ${j + 1}: not a number: ${JSON.stringify(tok)}`);
    return v;
  }));
}

/**
 * The diabetes data (Efron et al. 2004; BSD-3-Clause, notice in data/diabetes/README.md):
 * 442 patients, 10 raw baseline features, target = disease progression after one year.
 */
export function loadDiabetes(): RegressionData & { columns: string[] } {
  const dir = new URL('../../data/diabetes/', import.meta.url);
  const feats = parseNumbers(readFileSync(new URL('features.txt', dir), 'utf8'), 'features.txt');
  const target = parseNumbers(readFileSync(new URL('target.txt', dir), 'utf8'), 'target.txt');
  const rows = feats.length, dim = feats[0]!.length;
  if (target.length !== rows) throw new Error(`diabetes: ${rows} feature rows but ${target.length} targets`);
  const X = new Float64Array(rows * dim);
  feats.forEach((r, i) => {
    if (r.length !== dim) throw new Error(`diabetes features.txt: line ${i + 1} has ${r.length} columns, expected ${dim}`);
    X.set(r, i * dim);
  });
  const y = Float64Array.from(target, (r) => r[0]!);
  return { X, y, rows, dim, columns: ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'] };
}
