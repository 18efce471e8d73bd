// idxToCsv: the MNIST/Fashion-MNIST idx files (as Debian's dataset-fashion-mnist
// installs them under /usr/share/datasets/fashion-mnist) converted to the CSV
// layout the loader reads: `label,pixel1,...,pixel784`, one image per line,
// pixels as integers 0..255 in row-major order, LF line ends, gzipped when the
// output name ends in .gz. This is the layout of data/fashion-mnist/*.csv.gz, so
// those files can be rebuilt from the packaged originals.
//
// The idx format: a big-endian magic number 0x000008NN (0x08: unsigned bytes,
// NN: the number of dimensions), one big-endian u32 per dimension, then the
// values. Images are 0x00000803 [count, rows, cols], labels 0x00000801 [count].
//
// Both inputs are streamed (gunzipped when named .gz) a block of images at a
// time, formatted straight into bytes, and written to a temp file beside `out`
// that is renamed over it only when complete, so an interrupted or failed
// conversion never leaves a truncated CSV behind.

import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { ioError, isGzipName, openBytes } from "./source.js";
import { DataError } from "./types.js";

const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;
/** Images formatted per output chunk. */
const BLOCK = 1024;

const COMMA = 0x2c;
const NEWLINE = 0x0a;
/** The ASCII digits of 0..255. */
const DIGITS = Array.from({ length: 256 }, (_, v) => Buffer.from(String(v), "latin1"));

export async function idxToCsv(images: string, labels: string, out: string): Promise<{ rows: number }> {
  const imageReader = new ByteReader(images);
  const labelReader = new ByteReader(labels);
  try {
    const [count, rows, cols] = await readHeader(imageReader, IMAGES_MAGIC, "idx3 image");
    const [labelCount] = await readHeader(labelReader, LABELS_MAGIC, "idx1 label");
    if (labelCount !== count) {
      throw new DataError(`${labels}: ${labelCount} labels for the ${count} images of ${images}; expected one label per image`);
    }
    const pixels = rows! * cols!;
    await writeAtomically(out, Readable.from(csvChunks(imageReader, labelReader, count!, pixels)));
    return { rows: count! };
  } finally {
    await Promise.all([imageReader.close(), labelReader.close()]);
  }
}

async function* csvChunks(images: ByteReader, labels: ByteReader, count: number, pixels: number): AsyncGenerator<Buffer> {
  const names = Array.from({ length: pixels }, (_, i) => `pixel${i + 1}`);
  yield Buffer.from(`label,${names.join(",")}\n`, "latin1");
  for (let done = 0; done < count; ) {
    const n = Math.min(BLOCK, count - done);
    const pixelBytes = await images.readExactly(n * pixels, () => `truncated after ${done} of ${count} images`);
    const labelBytes = await labels.readExactly(n, () => `truncated after ${done} of ${count} labels`);
    yield formatRows(pixelBytes, labelBytes, n, pixels);
    done += n;
  }
  await images.expectEnd(`${count} images`);
  await labels.expectEnd(`${count} labels`);
}

/** `n` CSV lines `label,p1,...,pN\n` as ASCII bytes. */
function formatRows(pixelBytes: Uint8Array, labelBytes: Uint8Array, n: number, pixels: number): Buffer {
  const out = Buffer.allocUnsafe(n * (pixels + 1) * 4); // at most 3 digits and a separator per value
  let at = 0;
  for (let r = 0; r < n; r++) {
    at += DIGITS[labelBytes[r]!]!.copy(out, at);
    const base = r * pixels;
    for (let p = 0; p < pixels; p++) {
      out[at++] = COMMA;
      const digits = DIGITS[pixelBytes[base + p]!]!;
      for (let d = 0; d < digits.length; d++) out[at++] = digits[d]!;
    }
    out[at++] = NEWLINE;
  }
  return out.subarray(0, at);
}

/** The dimensions after checking the magic number. */
async function readHeader(reader: ByteReader, magic: number, what: string): Promise<number[]> {
  const head = await reader.readExactly(4, () => `too short for an ${what} file`);
  const found = head.readUInt32BE(0);
  if (found !== magic) {
    const gzipHint = head[0] === 0x1f && head[1] === 0x8b ? " (this is gzip data: name the file .gz)" : "";
    throw new DataError(
      `${reader.path}: magic number 0x${found.toString(16).padStart(8, "0")} is not that of an ${what} file${gzipHint}; expected 0x${magic.toString(16).padStart(8, "0")}`,
    );
  }
  const dims = magic & 0xff;
  const sizes = await reader.readExactly(4 * dims, () => `too short for an ${what} file header`);
  return Array.from({ length: dims }, (_, i) => sizes.readUInt32BE(4 * i));
}

/** Writes `data` to a temp file beside `path`, then renames it over `path`. */
async function writeAtomically(path: string, data: Readable): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const file = createWriteStream(temp, { flags: "wx", flush: true });
  try {
    await (isGzipName(path) ? pipeline(data, createGzip(), file) : pipeline(data, file));
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {}); // may never have been created
    throw error instanceof DataError ? error : ioError(path, error);
  }
}

/** Exact-size reads from a streamed (and maybe gunzipped) file. */
class ByteReader {
  private readonly chunks: AsyncIterator<Buffer>;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;

  constructor(readonly path: string) {
    this.chunks = openBytes(path)[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes; a DataError naming the file (with `short()`) when it ends first. */
  async readExactly(n: number, short: () => string): Promise<Buffer> {
    while (this.pendingBytes < n && !this.ended) {
      let next: IteratorResult<Buffer>;
      try {
        next = await this.chunks.next();
      } catch (error) {
        throw ioError(this.path, error);
      }
      if (next.done) {
        this.ended = true;
      } else {
        this.pending.push(next.value);
        this.pendingBytes += next.value.length;
      }
    }
    if (this.pendingBytes < n) throw new DataError(`${this.path}: ${short()}`);
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return all.subarray(0, n);
  }

  /** Throws if anything follows the `expected` contents. */
  async expectEnd(expected: string): Promise<void> {
    let extra = this.pendingBytes;
    if (!this.ended) {
      try {
        for (let next = await this.chunks.next(); !next.done; next = await this.chunks.next()) extra += next.value.length;
      } catch (error) {
        throw ioError(this.path, error);
      }
      this.ended = true;
    }
    if (extra > 0) throw new DataError(`${this.path}: ${extra} bytes after the ${expected}; expected the file to end there`);
  }

  /** Stops reading and releases the file. */
  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await this.chunks.return?.().catch(() => {});
    }
  }
}
