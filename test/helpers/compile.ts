// Compiling model sources written inline in a test.

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Compilation, type CompilationOptions } from "../../compiler/compilation.js";
import { compileModel, type CompileOptions } from "../../compiler/frontend/compile.js";
import type { Program } from "../../compiler/ir/program.js";

/** Writes `files` (the first is the model) into a fresh folder; the model's path. */
function writeSource(files: Record<string, string> | string): string {
  const all = typeof files === "string" ? { "model.ts": files } : files;
  const dir = mkdtempSync(join(tmpdir(), "dlc-test-"));
  for (const [name, text] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return join(dir, Object.keys(all)[0]!);
}

/** Writes `files` (the first is the model) into a fresh folder and runs the frontend on the model. */
export function compileSource(files: Record<string, string> | string, options?: CompileOptions): Program {
  return compileModel(writeSource(files), options);
}

/** Writes `files` (the first is the model) into a fresh folder; the model's Compilation. */
export function sourceCompilation(files: Record<string, string> | string, options?: CompilationOptions): Compilation {
  return new Compilation(writeSource(files), options);
}
