// Runs the real `dlc` command (bin/dlc.js over the built dist/).

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./paths.js";

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function dlc(args: readonly string[], options: { cwd?: string; input?: string; env?: Record<string, string> } = {}): CliResult {
  const env = { ...process.env, ...options.env };
  const r = spawnSync(process.execPath, [join(ROOT, "bin/dlc.js"), ...args], { cwd: options.cwd ?? ROOT, encoding: "utf8", input: options.input, env, timeout: 600_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Compiles models/iris.ts to an artifact in `dir` and trains it one epoch on the CPU: `{ artifact, weights }`. */
export function irisArtifactAndWeights(dir: string): { artifact: string; weights: string } {
  const artifact = join(dir, "iris.dlc");
  const weights = join(dir, "iris.safetensors");
  const compiled = dlc(["compile", "models/iris.ts", "-o", artifact, "--quiet"]);
  if (compiled.status !== 0) throw new Error(compiled.stderr);
  const trained = dlc(["train", "--backend", "cpu", artifact, "--data", "data/iris.csv", "--epochs", "1", "--quiet", "--save", weights]);
  if (trained.status !== 0) throw new Error(trained.stderr);
  return { artifact, weights };
}
