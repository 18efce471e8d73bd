// `dlc compile MODEL.ts`: the frontend, and the dumps of what it built.

import { readFileSync } from "node:fs";
import { compileModel } from "../compiler/frontend/compile.js";
import { CompileError, formatDiagnostic } from "../compiler/frontend/diagnostics.js";
import { printDot, printProgram } from "../compiler/ir/print.js";
import { verifyGraph } from "../compiler/ir/verify.js";
import { UsageError } from "./exit.js";

export const EMIT_KINDS = ["ir", "dot"] as const;
export type EmitKind = (typeof EMIT_KINDS)[number];

export interface CompileCommandOptions {
  emit: EmitKind;
}

export function runCompile(file: string, opts: CompileCommandOptions, out: (s: string) => void): void {
  const program = compileModel(file);
  for (const g of program.entries) verifyGraph(g);
  switch (opts.emit) {
    case "ir":
      out(printProgram(program));
      return;
    case "dot":
      out(printDot(program.entries));
      return;
  }
  throw new UsageError(`unknown --emit kind '${opts.emit as string}'`);
}

/** Renders a compile error with its source line, reading the file the error points into. */
export function renderCompileError(e: CompileError): string {
  return formatDiagnostic(e.diagnostic, (file, line) => {
    try {
      return readFileSync(file, "utf8").split(/\r?\n/)[line - 1];
    } catch {
      return undefined;
    }
  });
}
