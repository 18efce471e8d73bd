// Byte streams of data files, gunzipped when the name ends in .gz, and the
// translation of file-system and zlib failures into one-line DataErrors that
// name the path: "ENOENT: no such file or directory, open 'x'" and "incorrect
// header check" say less than "x: no such file" and "x: not gzip data".
//
// The first bytes are looked at before the CSV parser sees them: gzip data in
// a file named .csv, or binary data, would otherwise come back as a "header"
// of garbage, printed to the terminal in the error about it.

import { createReadStream } from "node:fs";
import { pipeline, Transform, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { notText } from "./csv.js";
import { DataError } from "./types.js";

const READ_CHUNK = 1 << 20;

export function isGzipName(path: string): boolean {
  return /\.gz$/i.test(path);
}

/** Passes the bytes through, failing on the first chunk when it is not text. */
function textOnly(path: string, gzipped: boolean): Transform {
  let first = true;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (first) {
        first = false;
        const problem = notText(chunk, path, gzipped);
        if (problem !== undefined) return done(problem);
      }
      done(null, chunk);
    },
  });
}

/** The file's bytes, decompressed; a read error surfaces as an error of the returned stream. */
export function openBytes(path: string): Readable {
  const file = createReadStream(path, { highWaterMark: READ_CHUNK });
  if (!isGzipName(path)) return file;
  // The callback form forwards the file's errors into the gunzip stream; the consumer reports them.
  return pipeline(file, createGunzip({ chunkSize: READ_CHUNK }), () => {});
}

/** openBytes for a text file (CSV): the stream fails at once when the first bytes are not text. */
export function openText(path: string): Readable {
  return pipeline(openBytes(path), textOnly(path, isGzipName(path)), () => {});
}

/** `error` as a DataError naming `path`; DataErrors pass through unchanged. */
export function ioError(path: string, error: unknown): DataError {
  if (error instanceof DataError) return error;
  const e = error as { code?: unknown; message?: unknown };
  const detail = typeof e.message === "string" ? e.message : String(error);
  switch (e.code) {
    case "ENOENT":
      return new DataError(`${path}: no such file`);
    case "EACCES":
    case "EPERM":
      return new DataError(`${path}: permission denied`);
    case "EISDIR":
      return new DataError(`${path}: is a directory; expected a file`);
    case "Z_DATA_ERROR":
      return new DataError(`${path}: not gzip data (${detail}); expected a gzip file, as the name ends in .gz`);
    case "Z_BUF_ERROR":
      return new DataError(`${path}: the gzip data is truncated (${detail})`);
    default:
      return new DataError(`${path}: cannot read (${detail.split("\n")[0]})`);
  }
}
