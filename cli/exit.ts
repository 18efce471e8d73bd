// Exit codes and the one-line errors the CLI prints.

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** A usage or input error: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** A failure while running (no GPU adapter, a device lost): one line, exit code 1. */
export class RuntimeError extends Error {}
