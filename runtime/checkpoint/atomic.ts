// Atomic file replacement: a reader of `path` sees the old file or the new one,
// never a mix, and a crash or a failed write never truncates the old file.
//
// The bytes go to a temp file in the same directory (a rename is only atomic
// within one file system), which is fsynced before it is renamed over the
// target, so the rename never publishes data that is not yet on disk; then the
// directory is fsynced so the rename itself survives a crash, where the platform
// allows it. On any error the temp file is removed and the error rethrown.
//
// The file operations come through `AtomicFs`, node:fs by default, so tests can
// make any step fail.

import { randomBytes } from "node:crypto";
import * as nodeFs from "node:fs";
import { basename, dirname, join } from "node:path";

/** The subset of node:fs that writeFileAtomic uses. */
export interface AtomicFs {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

export function writeFileAtomic(path: string, bytes: Uint8Array, fs: AtomicFs = nodeFs): void {
  const dir = dirname(path);
  // Unique per process and call; "wx" refuses to open a file that already exists.
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = fs.openSync(temp, "wx", 0o666);

  let failure: { error: unknown } | undefined;
  try {
    let written = 0;
    while (written < bytes.length) {
      const n = fs.writeSync(fd, bytes, written, bytes.length - written, written);
      if (n <= 0) throw new Error(`${temp}: write made no progress at byte ${written} of ${bytes.length}`);
      written += n;
    }
    fs.fsyncSync(fd);
  } catch (error) {
    failure = { error };
  }
  try {
    fs.closeSync(fd);
  } catch (error) {
    failure ??= { error };
  }
  if (failure === undefined) {
    try {
      fs.renameSync(temp, path);
    } catch (error) {
      failure = { error };
    }
  }
  if (failure !== undefined) {
    try {
      fs.unlinkSync(temp);
    } catch {
      // Already gone, or the directory refuses; the original error is what matters.
    }
    throw failure.error;
  }
  syncDirectory(dir, fs);
}

/** Makes a rename in `dir` durable; not possible everywhere (e.g. Windows), so best effort. */
function syncDirectory(dir: string, fs: AtomicFs): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, "r");
  } catch {
    return;
  }
  try {
    fs.fsyncSync(fd);
  } catch {
    // EINVAL/EPERM on file systems that cannot sync a directory: the data is in place regardless.
  }
  try {
    fs.closeSync(fd);
  } catch {
    // Nothing was written through this descriptor.
  }
}
