// Node-only: reads a user's CSV (header row, numeric columns) into regression data with
// csv-parse. Every error names the file, the line and the column (number and header name)
// and shows the offending value. Missing cells (empty, NA, NaN, N/A, null) are rejected or
// their rows dropped and counted, by option.
import { parse } from 'csv-parse/sync';
import type { RegressionData } from 'gradcov';

export type MissingPolicy = 'reject' | 'drop';

export interface CsvRegressionOptions {
  /** Used in messages. */
  file: string;
  target: string;
  /** Feature columns; default every column but the target. */
  features?: string[];
  missing?: MissingPolicy;
}

export interface CsvRegression extends RegressionData {
  features: string[];
  target: string;
  /** Data rows read (after the header) and rows dropped for missing values. */
  rowsRead: number;
  dropped: number;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const MISSING = /^(|na|nan|n\/a|null)$/i;

interface Record_ { record: string[]; info: { lines: number } }

function parseRecords(text: string, file: string): Record_[] {
  try {
    return parse(text, { bom: true, info: true, skip_empty_lines: true, trim: true }) as unknown as Record_[];
  } catch (err) {
    throw new Error(`${file}: not valid CSV: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function csvToRegression(text: string, options: CsvRegressionOptions): CsvRegression {
  const { file, target } = options;
  const records = parseRecords(text, file);
  if (records.length === 0) throw new Error(`${file}: empty file; expected a header row and data rows.`);
  const header = records[0]!.record;
  const seen = new Set<string>();
  header.forEach((h, i) => {
    if (h === '') throw new Error(`${file}: line ${records[0]!.info.lines}, column ${i + 1}: empty column name in the header.`);
    if (seen.has(h)) throw new Error(`${file}: line ${records[0]!.info.lines}, column ${i + 1}: duplicate column name "${h}".`);
    seen.add(h);
  });
  const index = (name: string, what: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${file}: unknown column "${name}" (${what}); the header has: ${header.join(', ')}.`);
    return i;
  };
  const yCol = index(target, '--target');
  const features = options.features ?? header.filter((h) => h !== target);
  const xCols = features.map((f) => index(f, '--features'));
  if (xCols.includes(yCol)) throw new Error(`${file}: the target column "${target}" is also listed as a feature.`);
  if (xCols.length === 0) throw new Error(`${file}: no feature columns: the file has only the target column "${target}".`);
  const body = records.slice(1);
  if (body.length === 0) throw new Error(`${file}: no data rows after the header.`);
  const dim = xCols.length, cols = [...xCols, yCol];
  const X: number[] = [], y: number[] = [];
  let dropped = 0, firstMissing = '';
  for (const { record, info } of body) {
    const values: number[] = [];
    let missing = false;
    for (const c of cols) {
      const cell = record[c]!;
      if (MISSING.test(cell)) {
        if (!firstMissing) firstMissing = `line ${info.lines}, column ${c + 1} ("${header[c]}"): ${JSON.stringify(cell)}`;
        missing = true;
        continue;
      }
      if (!NUMBER.test(cell)) {
        throw new Error(`${file}: line ${info.lines}, column ${c + 1} ("${header[c]}"): not a number: ${JSON.stringify(cell)}.`);
      }
      values.push(Number(cell));
    }
    if (missing) { dropped++; continue; }
    X.push(...values.slice(0, dim));
    y.push(values[dim]!);
  }
  if (dropped > 0 && (options.missing ?? 'reject') === 'reject') {
    throw new Error(`${file}: ${dropped} row${dropped === 1 ? '' : 's'} with missing values, the first at ${firstMissing}; use --missing drop to drop them.`);
  }
  const rows = y.length;
  if (rows === 0) throw new Error(`${file}: every one of the ${body.length} data rows has a missing value.`);
  return { X: Float64Array.from(X), y: Float64Array.from(y), rows, dim, features, target, rowsRead: body.length, dropped };
}
