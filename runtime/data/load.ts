// loadDataset: a CSV file (or .csv.gz) streamed into one typed array per model
// input. The header is bound to the inputs first (columns.ts), so a file that
// does not fit the model fails at line 1; then every record is parsed straight
// into growable typed arrays, so the file is never held as a string or as JS
// numbers, and every bad cell is reported as `file:line:column`. csv.ts is the
// reader and the parser's settings (and why they are what they are); this is
// the file, streamed through csv-parse's Node stream.

import { CsvError, parse } from "csv-parse";
import { pipeline } from "node:stream/promises";
import { CSV_OPTIONS, CsvReader, csvError, QuoteScanner } from "./csv.js";
import type { ColumnOptions } from "./columns.js";
import { ioError, openBytes, openText } from "./source.js";
import type { Dataset, InputSpec } from "./types.js";

export async function loadDataset(
  file: string,
  specs: readonly InputSpec[],
  options: ColumnOptions = {},
): Promise<Dataset> {
  const reader = new CsvReader(file, specs, options);
  try {
    await pipeline(openText(file), parse({ ...CSV_OPTIONS, on_record: reader.onRecord }));
  } catch (error) {
    if (error instanceof CsvError && error.code === "CSV_QUOTE_NOT_CLOSED") throw await unclosedQuote(file);
    throw error instanceof CsvError ? csvError(file, error) : ioError(file, error);
  }
  return reader.dataset();
}

/** Where the quoted field that never closes opened: the file read again (see QuoteScanner). */
async function unclosedQuote(file: string) {
  const scan = new QuoteScanner();
  try {
    for await (const chunk of openBytes(file) as AsyncIterable<Buffer>) scan.feed(chunk);
  } catch {
    return scan.error(file, false);
  }
  return scan.error(file);
}
