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
// make any step fail. Every failure is rethrown as a FileWriteError: one line
// with the path and the reason (ENOSPC reads "no space left on device").
//
// A process killed mid-write (kill -9, a power cut) leaves its temp file behind.
// Each write therefore first removes the temp files of the same target whose
// process (the PID in the name) no longer exists; a live process's temp file is
// never touched, since it may be about to be renamed.

import { randomBytes } from "node:crypto";
import * as nodeFs from "node:fs";
import { basename, dirname, join } from "node:path";
import { FileWriteError } from "./error.js";

/** The subset of node:fs that writeFileAtomic uses. */
export interface AtomicFs {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  readdirSync(path: string): string[];
}

/** Whether a process exists: signal 0 checks without sending; EPERM means it exists but is not ours. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

export function writeFileAtomic(path: string, bytes: Uint8Array, fs: AtomicFs = nodeFs, alive: (pid: number) => boolean = processAlive): void {
  try {
    writeThroughTemp(path, bytes, fs, alive);
  } catch (error) {
    throw error instanceof FileWriteError ? error : new FileWriteError(path, error);
  }
}

/** The temp file names of `target`'s writers: `.NAME.PID.HEX.tmp`, PID captured. */
function tempPattern(target: string): RegExp {
  const name = basename(target).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^\\.${name}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
}

/** Removes the temp files that dead writers of `target` left; best effort, never fails the write. */
export function removeStaleTemps(target: string, fs: AtomicFs = nodeFs, alive: (pid: number) => boolean = processAlive): string[] {
  const dir = dirname(target);
  const pattern = tempPattern(target);
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    try {
      fs.unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // Removed by someone else meanwhile, or not ours to remove.
    }
  }
  return removed;
}

function writeThroughTemp(path: string, bytes: Uint8Array, fs: AtomicFs, alive: (pid: number) => boolean): void {
  const dir = dirname(path);
  removeStaleTemps(path, fs, alive);
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
