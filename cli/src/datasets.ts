// Node-only: the vendored real data sets, read from the package's data/ folder.
import { readFileSync } from 'node:fs';
import type { RegressionData } from 'gradcov';

function parseNumbers(text: string, file: string): number[][] {
  return text
    .trim()
    .split(/\r?\n/)
    .map((line, i) =>
      line
        .trim()
        .split(/\s+/)
        .map((tok, j) => {
          const v = Number(tok);
          if (!Number.isFinite(v))
            throw new Error(`${file}: line ${i + 1}, column ${j + 1}: not a number: ${JSON.stringify(tok)}`);
          return v;
        }),
    );
}

/**
 * The diabetes data (Efron et al. 2004; BSD-3-Clause, notice in data/diabetes/README.md):
 * 442 patients, 10 raw baseline features, target = disease progression after one year.
 */
export function loadDiabetes(): RegressionData & { columns: string[] } {
  const dir = new URL('../data/diabetes/', import.meta.url);
  const feats = parseNumbers(readFileSync(new URL('features.txt', dir), 'utf8'), 'features.txt');
  const target = parseNumbers(readFileSync(new URL('target.txt', dir), 'utf8'), 'target.txt');
  const rows = feats.length,
    dim = feats[0]!.length;
  if (target.length !== rows) throw new Error(`diabetes: ${rows} feature rows but ${target.length} targets`);
  const X = new Float64Array(rows * dim);
  feats.forEach((r, i) => {
    if (r.length !== dim)
      throw new Error(`diabetes features.txt: line ${i + 1} has ${r.length} columns, expected ${dim}`);
    X.set(r, i * dim);
  });
  const y = Float64Array.from(target, (r) => r[0]!);
  return { X, y, rows, dim, columns: ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'] };
}

// Ordered codes for the diamonds' categories, worst to best (GIA grading).
const CUT = ['Fair', 'Good', 'Very Good', 'Premium', 'Ideal'];
const COLOR = ['J', 'I', 'H', 'G', 'F', 'E', 'D'];
const CLARITY = ['I1', 'SI2', 'SI1', 'VS2', 'VS1', 'VVS2', 'VVS1', 'IF'];

/**
 * The diamonds data (ggplot2, MIT; via @observablehq/sample-datasets, ISC; notices in
 * data/diamonds/README.md): 53,940 diamonds; cut, color and clarity coded as
 * ordered integers (0 = worst); rows with a zero x, y or z dropped; target = price.
 */
export async function loadDiamonds(): Promise<
  RegressionData & { columns: string[]; target: string; rowsRead: number; dropped: number }
> {
  const { parse } = await import('csv-parse/sync');
  const path = new URL('../data/diamonds/diamonds.csv', import.meta.url);
  const records = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<
    string,
    string
  >[];
  const columns = ['carat', 'cut', 'color', 'clarity', 'depth', 'table', 'x', 'y', 'z'];
  const code = (list: string[], v: string, line: number) => {
    const i = list.indexOf(v);
    if (i < 0) throw new Error(`diamonds.csv: line ${line}: unknown category ${JSON.stringify(v)}`);
    return i;
  };
  const X: number[] = [],
    y: number[] = [];
  let dropped = 0;
  records.forEach((r, i) => {
    const line = i + 2;
    const num = (k: string) => {
      const v = Number(r[k]);
      if (r[k] === '' || !Number.isFinite(v))
        throw new Error(`diamonds.csv: line ${line}, column "${k}": not a number: ${JSON.stringify(r[k])}`);
      return v;
    };
    if (num('x') === 0 || num('y') === 0 || num('z') === 0) {
      dropped++;
      return;
    }
    X.push(
      num('carat'),
      code(CUT, r.cut!, line),
      code(COLOR, r.color!, line),
      code(CLARITY, r.clarity!, line),
      num('depth'),
      num('table'),
      num('x'),
      num('y'),
      num('z'),
    );
    y.push(num('price'));
  });
  return {
    X: Float64Array.from(X),
    y: Float64Array.from(y),
    rows: y.length,
    dim: columns.length,
    columns,
    target: 'price',
    rowsRead: records.length,
    dropped,
  };
}
