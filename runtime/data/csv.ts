// CSV records into one typed array per model input: the parser's settings,
// the reader that binds the header (columns.ts) and checks and stores every
// cell, and the one-line DataErrors for what csv-parse refuses. Nothing here
// touches a file, so that a browser reads CSV text with it too: load.ts
// streams a file through a CsvReader, `datasetFromText` parses a string.
//
// csv-parse configuration. On Fashion-MNIST's training file (60000 x 785,
// 133 MB of text) csv-parse's byte loop and the string it makes per field are
// the floor: parsing alone, records discarded, takes ~7.6 s of CPU here, and
// the loader ~10 s, the rest being Number() and the checks on 47 million cells
// (gunzip is 0.5 s). So the options that matter are the ones that keep the
// per-record work small: `on_record` consumes each record inside the parser and
// returns null, so no record is queued in the stream, and its context gives
// the record's line (used only for errors) for one small object per record,
// nothing next to 785 field strings. Explicit record delimiters, latin1
// decoding, no size limit, `for await`/'readable' consumption, or Buffer
// fields parsed by hand measured within noise, or slower (Buffer fields).
// Options kept for correctness: `bom` (a UTF-8 BOM before the header),
// `relax_column_count` (ragged rows are reported here, with the expected
// count), `skip_empty_lines` (blank lines, trailing ones included, are not
// rows, as in pandas).
//
// csv-parse/sync is the parser without Node's streams; the browser build
// maps it to csv-parse's own browser build (scripts/build-browser.ts).

import { CsvError, parse, type InfoRecord, type Options } from "csv-parse/sync";
import { fileName } from "../path-name.js";
import { parseCell, showCell } from "./cells.js";
import { bindColumns, rowLayout, type ColumnBinding, type ColumnOptions } from "./columns.js";
import { GrowableRows } from "./growable.js";
import { DataError, type Dataset, type InputData, type InputSpec } from "./types.js";

/** Longest record csv-parse buffers: far above any real row, low enough to catch an unclosed quote early. */
const MAX_RECORD_CHARS = 16 << 20;

/** The largest finite float32. */
const F32_MAX = 3.4028234663852886e38;

/** The parser's settings, `on_record` aside. */
export const CSV_OPTIONS = { bom: true, relax_column_count: true, skip_empty_lines: true, max_record_size: MAX_RECORD_CHARS } as const satisfies Options;

/** How many leading bytes are checked for being text. */
const SNIFF_BYTES = 4096;

/** Why `head` (the first bytes of `path`, decompressed when `gzipped`) is not CSV text; undefined when it may be. */
export function notText(head: Uint8Array, path: string, gzipped: boolean): DataError | undefined {
  if (head[0] === 0x1f && head[1] === 0x8b) {
    return new DataError(gzipped ? `${path}: holds gzip data twice compressed; expected CSV text after gunzip` : `${path}: looks gzip-compressed: name it ${fileName(path)}.gz`);
  }
  const n = Math.min(head.length, SNIFF_BYTES);
  for (let i = 0; i < n; i++) {
    const b = head[i]!;
    // Tab, line feed, form feed and carriage return are text; other C0 controls and DEL are not.
    if ((b < 0x20 && b !== 9 && b !== 10 && b !== 12 && b !== 13) || b === 0x7f) {
      const where = gzipped ? `at offset ${i} after gunzip` : `at offset ${i}`;
      return new DataError(`${path}: is not text (byte 0x${b.toString(16).padStart(2, "0")} ${where}); expected a CSV file`);
    }
  }
  return undefined;
}

/**
 * Takes a file's records from csv-parse (`onRecord`, its on_record callback):
 * the header, bound to the inputs, then rows, every cell checked.
 */
export class CsvReader {
  private header: string[] | undefined;
  private reader: RowReader | undefined;

  constructor(
    private readonly file: string,
    private readonly specs: readonly InputSpec[],
    private readonly options: ColumnOptions = {},
  ) {
    for (const spec of specs) rowLayout(file, spec); // shape errors before any I/O
  }

  /** csv-parse's on_record: consumes the record, so that none is queued. */
  readonly onRecord = (record: string[], context: InfoRecord): null => {
    if (this.reader !== undefined) {
      this.reader.read(record, context.lines);
    } else {
      this.header = record.map((name) => name.trim());
      this.reader = new RowReader(this.file, this.header, bindColumns(this.file, context.lines, this.header, this.specs, this.options));
    }
    return null;
  };

  /** The data set read, once the parser has seen the whole file. */
  dataset(): Dataset {
    if (this.header === undefined || this.reader === undefined) throw new DataError(`${this.file}: the file is empty; expected a header row`);
    if (this.reader.rows === 0) throw new DataError(`${this.file}: no data rows after the header; expected at least one row`);
    return this.reader.dataset(this.header);
  }
}

/** CSV text (a file's contents, `file` naming it in errors) bound to `specs`, as loadDataset binds a file. */
export function datasetFromText(text: string, file: string, specs: readonly InputSpec[], options: ColumnOptions = {}): Dataset {
  const problem = notText(new TextEncoder().encode(text.slice(0, SNIFF_BYTES)), file, false);
  if (problem) throw problem;
  const reader = new CsvReader(file, specs, options);
  try {
    parse(text, { ...CSV_OPTIONS, on_record: reader.onRecord });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    if (error.code !== "CSV_QUOTE_NOT_CLOSED") throw csvError(file, error);
    const scan = new QuoteScanner();
    scan.feed(new TextEncoder().encode(text));
    throw scan.error(file);
  }
  return reader.dataset();
}

/** Parses records into the inputs' arrays, checking every cell. */
class RowReader {
  rows = 0;
  private readonly sinks: GrowableRows[];
  private readonly starts: Int32Array;
  /** Per input: the smallest and one past the largest valid value (i32 range, or 0..classes). */
  private readonly low: Float64Array;
  private readonly high: Float64Array;

  constructor(
    private readonly file: string,
    private readonly header: readonly string[],
    private readonly binding: ColumnBinding,
  ) {
    this.sinks = binding.inputs.map((input) => new GrowableRows(input.spec.dtype, input.width));
    this.starts = new Int32Array(this.sinks.length);
    this.low = Float64Array.from(binding.inputs, ({ spec }) => (spec.dtype === "f32" ? -F32_MAX : spec.classes === undefined ? -(2 ** 31) : 0));
    this.high = Float64Array.from(binding.inputs, ({ spec }) => (spec.dtype === "f32" ? F32_MAX : (spec.classes ?? 2 ** 31) - 1));
  }

  read(record: readonly string[], line: number): void {
    const n = record.length;
    if (n !== this.header.length) {
      throw new DataError(
        `${this.file}:${line}: the row has ${n} field${n === 1 ? "" : "s"}; expected ${this.header.length}, as in the header`,
      );
    }
    const { sinks, starts, low, high } = this;
    const { columnInput, columnOffset } = this.binding;
    for (let k = 0; k < sinks.length; k++) starts[k] = sinks[k]!.appendRow();
    for (let j = 0; j < n; j++) {
      const k = columnInput[j]!;
      if (k < 0) continue;
      const text = record[j]!;
      const v = parseCell(text);
      // NaN fails both comparisons; i32 inputs must also be integers.
      if (!(v >= low[k]! && v <= high[k]!) || (sinks[k]!.dtype === "i32" && !Number.isInteger(v))) {
        this.badCell(line, j, text, v);
      }
      sinks[k]!.data[starts[k]! + columnOffset[j]!] = v;
    }
    this.rows++;
  }

  dataset(header: readonly string[]): Dataset {
    const inputs = new Map<string, InputData>();
    this.binding.inputs.forEach((input, k) => {
      const data = this.sinks[k]!.trimmed();
      inputs.set(input.spec.name, { dtype: input.spec.dtype, width: input.width, rowShape: input.rowShape, data });
    });
    const { features, featureColumns } = this.binding;
    return { file: this.file, rows: this.rows, header, inputs, features, ...(featureColumns !== undefined ? { featureColumns } : {}) };
  }

  /** Throws the DataError that says why `v` (parsed from `text`) cannot go into column `j`'s input. */
  private badCell(line: number, j: number, text: string, v: number): never {
    const at = `${this.file}:${line}:${j + 1}`;
    const cell = `cell '${showCell(text)}' in column '${this.header[j]}'`;
    const spec = this.binding.inputs[this.binding.columnInput[j]!]!.spec;
    if (Number.isNaN(v)) throw new DataError(`${at}: ${cell} is not a number`);
    if (spec.dtype === "f32") throw new DataError(`${at}: ${cell} is out of the f32 range`);
    if (!Number.isInteger(v)) throw new DataError(`${at}: ${cell} is not an integer; input '${spec.name}' is i32`);
    if (spec.classes !== undefined) {
      throw new DataError(`${at}: label ${v} is out of range for ${spec.classes} classes (0..${spec.classes - 1})`);
    }
    throw new DataError(`${at}: ${cell} is out of the i32 range`);
  }
}

/**
 * csv-parse notices an unclosed quote only at the end of the file; the line
 * where the quoted field opened is the one to fix. The scanner reads the bytes
 * again (an error path only) with the quoting rules: a quote opens a field
 * only at its start, and "" inside a quoted field is a quote.
 */
export class QuoteScanner {
  private line = 1;
  private opened = 0;
  private inQuote = false;
  private quoteInQuote = false; // a quote inside a quoted field: closing, unless another follows
  private fieldStart = true;
  private first = true;

  feed(chunk: Uint8Array): void {
    const QUOTE = 0x22, COMMA = 0x2c, LF = 0x0a, CR = 0x0d;
    let i = 0;
    if (this.first && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    this.first = false;
    for (; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.inQuote) {
        if (this.quoteInQuote) {
          this.quoteInQuote = false;
          if (b === QUOTE) continue;
          this.inQuote = false; // that quote closed the field; this byte is outside it
        } else {
          if (b === QUOTE) this.quoteInQuote = true;
          else if (b === LF) this.line++;
          continue;
        }
      }
      if (b === QUOTE && this.fieldStart) {
        this.inQuote = true;
        this.opened = this.line;
      }
      this.fieldStart = b === COMMA || b === LF || b === CR;
      if (b === LF) this.line++;
    }
  }

  /** The error for the whole file fed (`complete` false when it could not be read to its end). */
  error(file: string, complete = true): DataError {
    if (!complete || !this.inQuote || this.quoteInQuote || this.opened === 0) return new DataError(`${file}: a quoted field is not closed at the end of the file; expected a closing quote`);
    return new DataError(`${file}:${this.opened}: a quoted field opens on this line and is never closed; expected a closing quote`);
  }
}

/** csv-parse's syntax errors, in DataError form. */
export function csvError(file: string, error: CsvError): DataError {
  const e = error as CsvError & { lines?: number; column?: number | string | null };
  const at = `${file}:${e.lines ?? "?"}${typeof e.column === "number" ? `:${e.column + 1}` : ""}`;
  switch (error.code) {
    case "CSV_INVALID_CLOSING_QUOTE":
      return new DataError(`${at}: a quoted field is followed by more text; expected a delimiter or the end of the line after the closing quote`);
    case "INVALID_OPENING_QUOTE":
      return new DataError(`${at}: a quote inside an unquoted field; expected quotes around the whole field`);
    case "CSV_QUOTE_NOT_CLOSED":
      return new DataError(`${file}: a quoted field is not closed at the end of the file; expected a closing quote`);
    case "CSV_MAX_RECORD_SIZE":
      return new DataError(`${at}: a row is longer than ${MAX_RECORD_CHARS} characters; expected a closing quote or line ends`);
    default:
      return new DataError(`${at}: ${error.message}`);
  }
}
