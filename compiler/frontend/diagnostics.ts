// Compiler diagnostics: one catalog of messages with stable codes, rendered
// the way tsc renders errors: `file:line:col - error CODE: message`, the source
// line with a caret under the offending expression, and a one-line hint.
//
// Codes: DLC1xxx syntax, names and modules; DLC2xxx shapes and dtypes;
// DLC3xxx compile-time evaluation (staging); DLC4xxx entry points and training
// configuration.

import { readFileSync, realpathSync } from "node:fs";
import { relative } from "node:path";
import type { SourceLoc } from "../ir/node.js";

export const CATALOG = {
  DLC1000: "syntax error",
  DLC1001: "unsupported syntax",
  DLC1002: "unknown name",
  DLC1003: "unknown dlc export",
  DLC1004: "module unavailable at compile time",
  DLC1005: "module not found",
  DLC1006: "compile-time type error",
  DLC1007: "source nests too deep",
  DLC1008: "import outside the model's folder",
  DLC1009: "not a TypeScript module",
  DLC2001: "shape or dtype error",
  DLC2002: "parameter redeclared",
  DLC2003: "return type mismatch",
  DLC3001: "data-dependent control flow",
  DLC3002: "loop limit exceeded",
  DLC3003: "recursion limit exceeded",
  DLC3004: "value not known at compile time",
  DLC3005: "error thrown by the model",
  DLC3006: "not differentiable",
  DLC3007: "compile-time value too large",
  DLC4001: "missing entry point",
  DLC4002: "bad entry point",
  DLC4003: "bad training configuration",
} as const;

export type DiagnosticCode = keyof typeof CATALOG;

/** Thrown by builtins; the evaluator adds the call site. */
export class BuiltinError extends Error {
  constructor(
    readonly code: DiagnosticCode,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

/** Where a diagnostic points: a location plus the length of the underlined text. */
export interface Span extends SourceLoc {
  readonly length: number;
}

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly message: string;
  readonly hint: string;
  readonly span: Span | undefined;
  /** Extra lines: where a helper was called from, where a name was first declared. */
  readonly notes: readonly string[];
}

/**
 * A model that does not compile. Its message is the diagnostic's first line,
 * `file:line:col - error CODE: message`, unless the thrower passes the whole
 * rendering (`renderDiagnostic`), as the programmatic API does.
 */
export class CompileError extends Error {
  constructor(
    readonly diagnostic: Diagnostic,
    message = headline(diagnostic),
  ) {
    super(message);
    this.name = "CompileError";
  }
}

function headline(d: Diagnostic): string {
  return `${d.span ? `${formatLoc(d.span)} - ` : ""}error ${d.code}: ${d.message}`;
}

/** A diagnostic as the CLI prints it, with its source line read from the file (`locate` maps a span's file to the one to read). */
export function renderDiagnostic(d: Diagnostic, cwd = process.cwd(), locate: (file: string) => string = (f) => f): string {
  return formatDiagnostic(d, (file, line) => readSourceLine(locate(file), line), cwd);
}

function readSourceLine(file: string, line: number): string | undefined {
  try {
    return readFileSync(file, "utf8").split(/\r?\n/)[line - 1];
  } catch {
    return undefined;
  }
}

export function compileError(code: DiagnosticCode, message: string, hint: string, span?: Span, notes: readonly string[] = []): CompileError {
  return new CompileError({ code, message, hint, span, notes });
}

export function formatLoc(loc: SourceLoc, cwd = process.cwd()): string {
  return `${relative(cwd, loc.file) || loc.file}:${loc.line}:${loc.col}`;
}

/** The widest source line a diagnostic shows whole. */
const LINE_CHARS = 160;

/** The files whose lines a diagnostic may show: TypeScript, by name and, through any symlink, by the real file's name. */
export function isTypeScriptFile(path: string): boolean {
  const ts = (p: string) => /\.[cm]?ts$/.test(p);
  if (!ts(path)) return false;
  try {
    return ts(realpathSync(path));
  } catch {
    return true; // not on disk: nothing to read either way
  }
}

/**
 * Renders a diagnostic for a terminal; `sourceLine` reads one line of a file.
 * It is asked only for TypeScript files: a diagnostic located in any other
 * file (a model path that names /etc/passwd) never repeats that file's text.
 */
export function formatDiagnostic(d: Diagnostic, sourceLine: (file: string, line: number) => string | undefined, cwd = process.cwd()): string {
  const lines: string[] = [];
  const where = d.span ? `${formatLoc(d.span, cwd)} - ` : "";
  lines.push(`${where}error ${d.code}: ${d.message}`);
  if (d.span && isTypeScriptFile(d.span.file)) {
    const text = sourceLine(d.span.file, d.span.line);
    if (text !== undefined) {
      const gutter = String(d.span.line);
      const pad = " ".repeat(gutter.length);
      // A long line (generated or minified code) is shown as a window around the column.
      let shown = text.replace(/\t/g, " ");
      let col = d.span.col;
      if (shown.length > LINE_CHARS) {
        const from = Math.max(0, Math.min(col - 1 - 20, shown.length - LINE_CHARS));
        const head = from > 0 ? "…" : "";
        shown = head + shown.slice(from, from + LINE_CHARS) + (from + LINE_CHARS < shown.length ? "…" : "");
        col = col - from + head.length;
      }
      const width = Math.max(1, Math.min(d.span.length, shown.length - (col - 1)));
      lines.push(`${gutter} | ${shown}`);
      lines.push(`${pad} | ${" ".repeat(col - 1)}${"^".repeat(width)}`);
    }
  }
  for (const note of d.notes) lines.push(`note: ${note}`);
  lines.push(`hint: ${d.hint}`);
  return lines.join("\n");
}

export { closest } from "../../runtime/suggest.js";
