import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** A fresh directory for one test file's generated data files. */
export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(join(tmpdir(), `dlc-${prefix}-`));
}

/** Writes `text` (or bytes) to `dir/name`, gzipped when the name ends in .gz, and returns the path. */
export function writeData(dir: string, name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  fs.writeFileSync(path, name.endsWith(".gz") ? gzipSync(bytes) : bytes);
  return path;
}
