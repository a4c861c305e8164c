// Node-only: reads a user's CSV (header row, numeric columns) into regression data as a
// stream (csv-parse's streaming API), keeping only the columns in use: the cells go
// straight into row-major Float64Arrays (grown to the size the file predicts, by at least
// a quarter each time), so memory is about 8 bytes per used cell plus O(1) per row.
//
// The delimiter (`,` `;` or tab) is detected from the header line unless --delimiter is
// given. Every error names the file, the line and the column (number and header name), the
// offending value, and what to do about it: a decimal comma suggests --decimal, a text
// column suggests --features, a row of the wrong width in a comma-separated file mentions
// decimal commas. Missing cells (empty, NA, NaN, N/A, null) are rejected or their rows
// dropped and counted, by option.
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse, CsvError } from 'csv-parse';
import type { RegressionData } from 'gradcov';
import { UserError, listForMessage } from './errors.js';
import { MAX_ABS_VALUE, MAX_DATA_BYTES, MAX_FEATURES, formatBytes, matrixBytes } from './limits.js';
import { silentProgress, type Progress } from './progress.js';

export type MissingPolicy = 'reject' | 'drop';

export interface CsvRegressionOptions {
  /** Path of the CSV file (also used in messages). */
  file: string;
  target: string;
  /** Feature columns; default every column but the target. */
  features?: string[];
  missing?: MissingPolicy;
  /** Field separator; default: detected from the header line (`,` `;` or tab). */
  delimiter?: string;
  /** Decimal mark of the numbers: `.` (default) or `,`. */
  decimal?: '.' | ',';
  /** Append a feature column of ones, named INTERCEPT, after the listed features (`--intercept`). */
  intercept?: boolean;
  progress?: Progress;
}

/** The name of the column of ones that `intercept: true` appends. */
export const INTERCEPT = '(intercept)';

export interface CsvRegression extends RegressionData {
  features: string[];
  target: string;
  /** Data rows read (after the header) and rows dropped for missing values. */
  rowsRead: number;
  dropped: number;
  /** The delimiter used, and whether it was detected (rather than given). */
  delimiter: string;
  detected: boolean;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const MISSING = /^(|na|nan|n\/a|null)$/i;
const DECIMAL_COMMA = /^[+-]?\d*,\d+([eE][+-]?\d+)?$/;
const LETTERS = /[a-z]/i;
const CANDIDATES = [',', ';', '\t'];

/** How a delimiter is written in messages. */
export const showDelimiter = (d: string): string => (d === '\t' ? 'tab' : `"${d}"`);

/** Opens the file or says, naming the path, why it cannot be read. */
function checkReadable(file: string): number {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory())
      throw new UserError(`--data ${JSON.stringify(file)} is a directory, not a CSV file.`);
    size = st.size;
    closeSync(openSync(file, 'r'));
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? `no such file (looked for ${resolve(file)})`
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : String((err as Error).message);
    throw new UserError(`cannot read --data ${JSON.stringify(file)}: ${why}.`);
  }
  return size;
}

/** The first non-empty line of the file (quotes respected, BOM dropped), read in chunks. */
export function headerLine(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(1 << 16);
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const got = readSync(fd, chunk, 0, chunk.length, total);
      if (got > 0) {
        parts.push(Buffer.from(chunk.subarray(0, got)));
        total += got;
      }
      const text = Buffer.concat(parts)
        .toString('utf8')
        .replace(/^\uFEFF/, '');
      let quoted = false,
        start = 0;
      for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        if (ch === '"') quoted = !quoted;
        else if (ch === '\n' && !quoted) {
          const line = text.slice(start, i).replace(/\r$/, '');
          if (line.trim() !== '') return line;
          start = i + 1;
        }
      }
      if (got === 0 || total >= 64 << 20) return text.slice(start).replace(/\r$/, '');
    }
  } finally {
    closeSync(fd);
  }
}

/** The candidate (`,` `;` tab) that occurs most often outside quotes in the header line; `,` when none does. */
export function detectDelimiter(line: string): string {
  const counts = new Map(CANDIDATES.map((c) => [c, 0]));
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',',
    most = 0;
  for (const [c, n] of counts)
    if (n > most) {
      best = c;
      most = n;
    }
  return best;
}

/** Grows a Float64Array to `capacity` elements, keeping the first `used`. */
function grow(a: Float64Array, capacity: number, used: number): Float64Array {
  const b = new Float64Array(capacity);
  b.set(a.subarray(0, used));
  return b;
}

export async function readCsvRegression(options: CsvRegressionOptions): Promise<CsvRegression> {
  const { file, target } = options;
  const progress = options.progress ?? silentProgress;
  const size = checkReadable(file);
  const detected = options.delimiter === undefined;
  const delimiter = options.delimiter ?? detectDelimiter(headerLine(file));
  const decimalComma = options.decimal === ',';
  const where = (line: number, c: number, header: string[]) =>
    `${file}: line ${line}, column ${c + 1} ("${header[c]}")`;

  let header: string[] | undefined;
  let headerLineNo = 0;
  let features: string[] = [];
  let cols: number[] = [];
  let dim = 0,
    width = 0,
    maxRows = 0;
  let X: Float64Array = new Float64Array(0),
    y: Float64Array = new Float64Array(0);
  let capacity = 0,
    rows = 0,
    rowsRead = 0,
    dropped = 0,
    firstMissing = '';
  const MB = 1e6;

  const setHeader = (record: string[], line: number) => {
    header = record;
    headerLineNo = line;
    const seen = new Set<string>();
    record.forEach((h, i) => {
      if (h === '')
        throw new UserError(`${file}: line ${line}, column ${i + 1}: empty column name in the header.`);
      if (seen.has(h))
        throw new UserError(`${file}: line ${line}, column ${i + 1}: duplicate column name "${h}".`);
      seen.add(h);
    });
    const index = (name: string, what: string): number => {
      const i = record.indexOf(name);
      if (i >= 0) return i;
      const one =
        record.length === 1 && /[,;\t|]/.test(record[0]!)
          ? ` The header was read as one column with the delimiter ${showDelimiter(delimiter)}${detected ? ' (detected)' : ''}: pass --delimiter with the file's separator.`
          : '';
      throw new UserError(
        `${file}: unknown column "${name}" (${what}); the header has: ${listForMessage(record)}.${one}`,
      );
    };
    const yCol = index(target, '--target');
    features = options.features ?? record.filter((h) => h !== target);
    const listed = new Set<string>();
    for (const f of options.features ?? []) {
      if (f === '')
        throw new UserError(`--features ${JSON.stringify(options.features!.join(','))} has an empty name.`);
      if (listed.has(f)) throw new UserError(`--features lists "${f}" twice.`);
      listed.add(f);
    }
    if (options.intercept) {
      if (record.includes(INTERCEPT))
        throw new UserError(
          `${file}: the header already has a column named "${INTERCEPT}", the name --intercept gives its column of ones.`,
        );
      features = [...features, INTERCEPT];
    }
    if (features.length > MAX_FEATURES) {
      throw new UserError(
        `${file}: ${features.length} feature columns; the estimate handles at most ${MAX_FEATURES} ` +
          `(it keeps about eight ${features.length} x ${features.length} matrices of doubles, ${formatBytes(matrixBytes(features.length))}); choose the columns with --features.`,
      );
    }
    // the intercept's column of ones has no cell in the file: index -1
    cols = features.map((f) => (options.intercept && f === INTERCEPT ? -1 : index(f, '--features')));
    if (cols.includes(yCol))
      throw new UserError(`${file}: the target column "${target}" is also listed in --features.`);
    if (cols.length === 0)
      throw new UserError(`${file}: no feature columns: the file has only the target column "${target}".`);
    cols.push(yCol);
    dim = features.length;
    width = record.length;
    maxRows = Math.floor(MAX_DATA_BYTES / (8 * (dim + 1)));
    capacity = 1024;
    X = new Float64Array(capacity * dim);
    y = new Float64Array(capacity);
    progress.start('reading', Math.max(1, Math.round(size / MB)), 'MB');
  };

  const cellValue = (raw: string, line: number, c: number, h: string[], record: string[]): number => {
    // csv-parse trims the cells (trim: true); this covers the header and cells it leaves untrimmed
    const cell =
      raw.length > 0 && (raw.charCodeAt(0) <= 32 || raw.charCodeAt(raw.length - 1) <= 32) ? raw.trim() : raw;
    const text = decimalComma ? cell.replace(',', '.') : cell;
    if (NUMBER.test(text)) {
      const v = +text;
      if (!Number.isFinite(v))
        throw new UserError(
          `${where(line, c, h)}: ${cell} is beyond the range of double precision (about 1.8e308).`,
        );
      if (Math.abs(v) > MAX_ABS_VALUE) {
        throw new UserError(
          `${where(line, c, h)}: ${cell} is too large: cells must be at most 1e150 in magnitude, ` +
            `since squares of larger values overflow double precision; rescale the column (for example change its unit).`,
        );
      }
      return v;
    }
    if (MISSING.test(cell)) return NaN;
    if (!decimalComma && DECIMAL_COMMA.test(cell)) {
      throw new UserError(
        `${where(line, c, h)}: ${JSON.stringify(cell)} has a decimal comma; pass --decimal , to read decimal commas` +
          `${delimiter === ',' ? '' : ` (the delimiter is ${showDelimiter(delimiter)})`}.`,
      );
    }
    if (LETTERS.test(cell)) {
      const name = h[c]!;
      if (name === target)
        throw new UserError(
          `${where(line, c, h)}: the target column holds text (${JSON.stringify(cell)}); the target must be numeric.`,
        );
      // suggest only the other features whose cells on this line are not text either
      const isText = (k: number) => {
        const v = (record[cols[k]!] ?? '').trim();
        return !NUMBER.test(decimalComma ? v.replace(',', '.') : v) && !MISSING.test(v) && LETTERS.test(v);
      };
      const rest = features.filter((f, k) => f !== name && cols[k]! >= 0 && !isText(k));
      const others = features.filter((f, k) => f !== name && cols[k]! >= 0 && isText(k));
      throw new UserError(
        `${where(line, c, h)}: column "${name}" holds text (${JSON.stringify(cell)}), not numbers; ` +
          (rest.length
            ? `leave it out with --features ${listForMessage(rest, 20).replace(/, /g, ',')}`
            : 'no numeric feature column is left') +
          (others.length
            ? ` (${listForMessage(others, 20)} hold${others.length === 1 ? 's' : ''} text on this line too)`
            : '') +
          ' (or code its categories as numbers).',
      );
    }
    throw new UserError(`${where(line, c, h)}: not a number: ${JSON.stringify(cell)}.`);
  };

  const onRecord = (record: string[], info: { lines: number; bytes: number }): null => {
    if (!header) {
      setHeader(
        record.map((h) => h.trim()),
        info.lines,
      );
      return null;
    }
    rowsRead++;
    if (rows === capacity) {
      if (rows >= maxRows) {
        throw new UserError(
          `${file}: more than ${maxRows} rows of ${dim + 1} used columns: the data would exceed the CLI's limit of ${formatBytes(MAX_DATA_BYTES)} in memory; use fewer rows or columns.`,
        );
      }
      // the file's size predicts the rows; grow to that (by at least a quarter), never past the limit
      const predicted = info.bytes > 0 ? Math.ceil(((rowsRead * size) / info.bytes) * 1.02) + 1024 : 0;
      capacity = Math.min(maxRows, Math.max(predicted, capacity + (capacity >> 2) + 1));
      X = grow(X, capacity * dim, rows * dim);
      y = grow(y, capacity, rows);
    }
    const o = rows * dim;
    let missing = false;
    for (let k = 0; k <= dim; k++) {
      const c = cols[k]!;
      const v = c < 0 ? 1 : cellValue(record[c]!, info.lines, c, header, record);
      if (v !== v) {
        if (!firstMissing)
          firstMissing = `line ${info.lines}, column ${c + 1} ("${header[c]}"): ${JSON.stringify(record[c]!.trim())}`;
        missing = true;
      } else if (k < dim) X[o + k] = v;
      else y[rows] = v;
    }
    if (missing) dropped++;
    else rows++;
    if ((rowsRead & 4095) === 0) progress.set(Math.round(info.bytes / MB));
    return null;
  };

  const parser = parse({
    bom: true,
    delimiter,
    info: false,
    skip_empty_lines: true,
    trim: true,
    on_record: onRecord as unknown as (record: unknown, context: unknown) => null,
  });
  try {
    await pipeline(
      createReadStream(file, { highWaterMark: 1 << 20 }),
      parser,
      async (source: AsyncIterable<unknown>) => {
        for await (const _ of source) {
          /* records are consumed in on_record */
        }
      },
    );
  } catch (err) {
    progress.stop();
    if (err instanceof UserError) throw err;
    if (err instanceof CsvError) {
      const e = err as CsvError & { lines?: number; record?: string[] };
      if (err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' && e.record) {
        const more =
          e.record.length > width && delimiter === ','
            ? ' If the numbers are written with decimal commas (3,14), a comma cannot also separate the columns: save the file with ";" or tab as the delimiter and read it with --decimal ,.'
            : '';
        throw new UserError(
          `${file}: not valid CSV: line ${e.lines} has ${e.record.length} cells, the header (line ${headerLineNo}) has ${width}, with the delimiter ${showDelimiter(delimiter)}${detected ? ' (detected from the header)' : ''}.${more}`,
        );
      }
      throw new UserError(`${file}: not valid CSV: ${err.message}`);
    }
    throw err;
  }
  progress.stop();
  if (!header) throw new UserError(`${file}: empty file; expected a header row and data rows.`);
  if (rowsRead === 0) throw new UserError(`${file}: no data rows after the header.`);
  if (dropped > 0 && (options.missing ?? 'reject') === 'reject') {
    throw new UserError(
      `${file}: ${dropped} row${dropped === 1 ? '' : 's'} with missing values, the first at ${firstMissing}; use --missing drop to drop them.`,
    );
  }
  if (rows === 0) throw new UserError(`${file}: every one of the ${rowsRead} data rows has a missing value.`);
  return {
    X: X.subarray(0, rows * dim),
    y: y.subarray(0, rows),
    rows,
    dim,
    features,
    target,
    rowsRead,
    dropped,
    delimiter,
    detected,
  };
}
