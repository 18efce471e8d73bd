// Runs the real `dlc` command (bin/dlc.js over the built dist/).

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./paths.js";

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function dlc(args: readonly string[], options: { cwd?: string; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/dlc.js"), ...args], { cwd: options.cwd ?? ROOT, encoding: "utf8", input: options.input, timeout: 600_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
