/** A checkpoint that cannot be read, written or used; the message is one line naming the file. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

/** Why a file-system call failed, in words, by its error code. */
const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EIO: "input/output error",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or folder",
  ENOTDIR: "a component of the path is not a folder",
  EISDIR: "it is a folder",
  EEXIST: "a file of that name appeared meanwhile",
  EMFILE: "too many open files",
  ENAMETOOLONG: "the name is too long",
  EXDEV: "the temp file and the target are on different file systems",
};

export function describeIoError(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === "string" ? e.code : undefined;
  const reason = code !== undefined ? REASONS[code] : undefined;
  if (reason !== undefined) return `${reason} (${code})`;
  const message = typeof e?.message === "string" ? e.message : String(error);
  return message.split("\n")[0]!;
}

/**
 * A file that could not be written (a full disk, a read-only or vanished
 * folder): one line with the path and the reason; the error code, when there
 * is one, stays in `code`. The CLI exits with 1: the run failed, not its input.
 */
export class FileWriteError extends Error {
  readonly code: string | undefined;
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot write '${path}': ${describeIoError(cause)}`, { cause });
    this.name = "FileWriteError";
    const code = (cause as { code?: unknown } | undefined)?.code;
    this.code = typeof code === "string" ? code : undefined;
  }
}
