// Modules: reading a model's files with ts-morph and linking their imports.
//
// "dlc" is recognized by name and never resolved, so a model compiles from any
// folder. Relative imports load the model's own .ts files ("./x", "./x.js" and
// "./x.ts" all name x.ts). Anything else (node:fs, npm packages) exists only at
// run time: its names are bound to opaque values that the evaluator refuses to
// use. A module's top level is evaluated once, on first import.
//
// The model's own files are those under the folder of the model file given to
// the compiler: an import is resolved through symlinks (realpath) and refused
// if it lands outside that folder or in a file that is not TypeScript, so that
// a model cannot make the compiler read, and a diagnostic repeat, any other
// file. Reading a file is guarded too: brackets nested deeper than
// LIMITS.brackets, or a syntax tree deeper than LIMITS.nesting, are reported
// before TypeScript's parser or the evaluator would overflow the stack.

import { createHash } from "node:crypto";
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { Node as Ast, Project, ts, type SourceFile } from "ts-morph";
import { bindingNames } from "./bindings.js";
import { closest, compileError, isTypeScriptFile, type Span } from "./diagnostics.js";
import { Evaluator, LIMITS, spanOf } from "./evaluator.js";
import { Scope, type Binding } from "./scope.js";
import { Builtin, ObjectValue, Opaque } from "./values.js";

/** Type-only exports of lang/dlc.d.ts: importing them binds nothing. */
const DLC_TYPES = new Set(["Tensor", "IntTensor", "TensorLike", "Dim", "DType", "Init", "Padding", "PoolOptions", "Schedule", "Optimizer", "TrainConfig"]);

export interface ModuleRecord {
  readonly path: string;
  readonly file: SourceFile;
  readonly scope: Scope;
  readonly exports: Map<string, Binding>;
  loaded: boolean;
}

export class ModuleLoader {
  private readonly project = new Project({
    skipAddingFilesFromTsConfig: true,
    skipFileDependencyResolution: true,
    skipLoadingLibFiles: true,
    compilerOptions: { noLib: true, allowJs: false },
  });
  private readonly modules = new Map<string, ModuleRecord>();
  /** The folder that imports may not leave: the main model's folder, symlinks resolved. */
  private readonly root: string;

  constructor(
    private readonly evaluator: Evaluator,
    private readonly library: ReadonlyMap<string, Builtin>,
    main: string,
  ) {
    this.root = realpathSync(dirname(main));
  }

  /** The files loaded so far, with content hashes. */
  sources(): { path: string; sha256: string }[] {
    return [...this.modules.values()].map((m) => ({ path: m.path, sha256: createHash("sha256").update(m.file.getFullText()).digest("hex") }));
  }

  sourceLine(file: string, line: number): string | undefined {
    const sf = this.project.getSourceFile(file);
    return sf?.getFullText().split(/\r?\n/)[line - 1];
  }

  load(path: string): ModuleRecord {
    const existing = this.modules.get(path);
    if (existing) return existing;
    const file = this.parse(path);
    const record: ModuleRecord = { path, file, scope: new Scope(this.evaluator.globals), exports: new Map(), loaded: false };
    this.modules.set(path, record);
    this.link(record);
    this.evaluator.block(file.getStatements(), record.scope);
    record.loaded = true;
    return record;
  }

  /** Reads and parses a module, refusing one that is not TypeScript or nests too deep to parse and evaluate. */
  private parse(path: string): SourceFile {
    if (!isTypeScriptFile(realpathSync(path))) {
      throw compileError("DLC1009", `${path} is not a TypeScript file`, "a model is a .ts file (or .mts, .cts)");
    }
    const text = readFileSync(path, "utf8");
    const at = (pos: number, length: number): Span => {
      const { line, character } = lineAndColumn(text, pos);
      return { file: path, line, col: character + 1, length };
    };
    const bracket = tooDeepBrackets(text, LIMITS.brackets);
    if (bracket !== undefined) {
      throw compileError("DLC1007", `brackets nest more than ${LIMITS.brackets} deep here`, "name the inner parts (const inner = ...) and use the names", at(bracket, 1));
    }
    let file: SourceFile;
    try {
      file = this.project.createSourceFile(path, text, { overwrite: true });
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      throw compileError("DLC1007", "this file nests too deep for the TypeScript parser", "operators, arrow functions or conditionals nest too deep; split long expressions into named parts", at(0, 1));
    }
    const deep = tooDeepNode(file.compilerNode, LIMITS.nesting);
    if (deep) {
      const start = deep.getStart(file.compilerNode);
      throw compileError("DLC1007", `the syntax here nests more than ${LIMITS.nesting} levels deep`, "split the expression into named parts (const a = ...; const b = a + ...), or build it in a loop", at(start, deep.getEnd() - start));
    }
    const parseErrors = (file.compilerNode as unknown as { parseDiagnostics?: { start: number; length: number; messageText: unknown }[] }).parseDiagnostics ?? [];
    if (parseErrors.length > 0) {
      const d = parseErrors[0]!;
      const { line, column } = file.getLineAndColumnAtPos(d.start);
      const message = typeof d.messageText === "string" ? d.messageText : "invalid syntax";
      throw compileError("DLC1000", message.replace(/\.$/, ""), "fix the syntax; `tsc --noEmit` shows the same error", { file: path, line, col: column, length: Math.max(1, d.length) });
    }
    return file;
  }

  /** Binds imports and collects exports, before the module's statements run. */
  private link(m: ModuleRecord): void {
    const statements = m.file.getStatements();
    for (const s of statements) {
      if (Ast.isImportDeclaration(s)) this.bindImport(m, s);
    }
    this.evaluator.hoist(statements, m.scope);
    for (const s of statements) {
      if (Ast.isExportAssignment(s)) this.evaluator.unsupported(s);
      // The keywords, not isExported(): that asks TypeScript's binder, which recurses as deep as the syntax.
      if ((Ast.isFunctionDeclaration(s) || Ast.isVariableStatement(s)) && s.hasExportKeyword()) {
        if (s.hasDefaultKeyword()) {
          this.evaluator.fail("DLC1001", "default exports are not supported in dlc models", "export named functions: `export function loss(...)`", s);
        }
        const names = Ast.isFunctionDeclaration(s) ? [s.getName()!] : s.getDeclarations().flatMap((d) => bindingNames(d.getNameNode()));
        for (const n of names) m.exports.set(n, m.scope.ownBinding(n)!);
      }
      if (Ast.isExportDeclaration(s)) this.bindExport(m, s);
    }
  }

  private bindImport(m: ModuleRecord, s: import("ts-morph").ImportDeclaration): void {
    const spec = s.getModuleSpecifierValue();
    if (s.isTypeOnly()) return;
    const clause = s.getImportClause();
    if (spec === "dlc") {
      if (s.getDefaultImport()) this.evaluator.fail("DLC1003", '"dlc" has no default export', 'import { param, matmul } from "dlc"', s.getDefaultImport()!);
      const ns = s.getNamespaceImport();
      if (ns) m.scope.declare(ns.getText(), ObjectValue.of(Object.fromEntries(this.library), "module dlc"), false);
      for (const named of s.getNamedImports()) {
        const name = named.getName();
        if (named.isTypeOnly() || DLC_TYPES.has(name)) continue;
        const builtin = this.library.get(name);
        if (!builtin) {
          const guess = closest(name, [...this.library.keys(), ...DLC_TYPES]);
          this.evaluator.fail("DLC1003", `"dlc" has no export named '${name}'`, guess ? `did you mean '${guess}'?` : "see lang/dlc.d.ts for the library", named.getNameNode());
        }
        m.scope.declare(named.getAliasNode()?.getText() ?? name, builtin, false);
      }
      return;
    }
    if (isRelative(spec)) {
      const target = this.load(this.resolve(m, spec, s));
      if (!clause) return;
      const ns = s.getNamespaceImport();
      if (ns) m.scope.declare(ns.getText(), ObjectValue.of(Object.fromEntries([...target.exports].map(([k, b]) => [k, b.value])), `module ${spec}`), false);
      const def = s.getDefaultImport();
      if (def) this.evaluator.fail("DLC1001", `'${spec}' has no default export`, "use named exports and imports", def);
      for (const named of s.getNamedImports()) {
        if (named.isTypeOnly()) continue;
        const name = named.getName();
        const b = target.exports.get(name);
        if (!b) {
          // An exported type or interface binds nothing at compile time.
          if (target.file.getTypeAlias(name) || target.file.getInterface(name)) continue;
          const guess = closest(name, target.exports.keys());
          this.evaluator.fail("DLC1002", `'${spec}' has no export named '${name}'`, guess ? `did you mean '${guess}'?` : "export it from that module", named.getNameNode());
        }
        m.scope.alias(named.getAliasNode()?.getText() ?? name, b);
      }
      return;
    }
    // A package or a Node built-in: it exists only at run time.
    if (!clause) return;
    const bindOpaque = (local: string, name: string) => m.scope.declare(local, new Opaque(name, spec), false);
    const def = s.getDefaultImport();
    if (def) bindOpaque(def.getText(), "default");
    const ns = s.getNamespaceImport();
    if (ns) bindOpaque(ns.getText(), `* as ${ns.getText()}`);
    for (const named of s.getNamedImports()) bindOpaque(named.getAliasNode()?.getText() ?? named.getName(), named.getName());
  }

  private bindExport(m: ModuleRecord, s: import("ts-morph").ExportDeclaration): void {
    if (s.isTypeOnly()) return;
    const spec = s.getModuleSpecifierValue();
    let source: Map<string, Binding> | undefined;
    if (spec !== undefined) {
      if (!isRelative(spec)) this.evaluator.fail("DLC1004", `cannot re-export from '${spec}'`, "a model may export only its own code", s);
      source = this.load(this.resolve(m, spec, s)).exports;
      if (s.isNamespaceExport()) {
        for (const [k, b] of source) if (k !== "default") m.exports.set(k, b);
        return;
      }
    }
    for (const named of s.getNamedExports()) {
      const local = named.getName();
      const b = source ? source.get(local) : m.scope.ownBinding(local);
      if (!b) this.evaluator.fail("DLC1002", `cannot export '${local}': no such name`, "declare it before exporting it", named);
      m.exports.set(named.getAliasNode()?.getText() ?? local, b);
    }
  }

  /** The real path of the module `spec` names, which must be a TypeScript file under the model's folder. */
  private resolve(m: ModuleRecord, spec: string, site: Ast): string {
    const base = resolve(dirname(m.path), spec);
    const candidates = [base.replace(/\.(m?js)$/, ".ts"), base.replace(/\.mjs$/, ".mts"), base.replace(/\.cjs$/, ".cts"), `${base}.ts`, resolve(base, "index.ts"), base];
    const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
    if (!found) {
      const stem = base.replace(/\.(m?js|ts)$/, "");
      throw compileError("DLC1005", `cannot find module '${spec}'`, `looked for ${relative(dirname(m.path), stem)}.ts and ${relative(dirname(m.path), stem)}/index.ts next to ${m.path.split("/").pop()}`, spanOf(site));
    }
    const real = realpathSync(found);
    const rel = relative(this.root, real);
    if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      this.evaluator.fail("DLC1008", `'${spec}' resolves to ${real}, outside the model's folder ${this.root}`, "a model may import only files in the folder of the model file given to dlc, or below it (symlinks are followed); move the module there", site);
    }
    if (!isTypeScriptFile(real)) {
      this.evaluator.fail("DLC1009", `'${spec}' resolves to ${real}, which is not a TypeScript file`, "a model may import only its own .ts, .mts and .cts modules", site);
    }
    return real;
  }
}

/** Line and 0-based column of a position in a text. */
function lineAndColumn(text: string, pos: number): { line: number; character: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < pos; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, character: pos - start };
}

/**
 * Where brackets ( [ { and template substitutions first nest deeper than
 * `limit`, found with TypeScript's scanner (which does not recurse), or
 * undefined. TypeScript's parser recurses once or more per level and
 * overflows the stack a few hundred levels deep.
 */
function tooDeepBrackets(text: string, limit: number): number | undefined {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
  const open: ts.SyntaxKind[] = [];
  for (let t = scanner.scan(); t !== ts.SyntaxKind.EndOfFileToken; t = scanner.scan()) {
    switch (t) {
      case ts.SyntaxKind.OpenParenToken:
      case ts.SyntaxKind.OpenBracketToken:
      case ts.SyntaxKind.OpenBraceToken:
      case ts.SyntaxKind.TemplateHead:
        open.push(t);
        if (open.length > limit) return scanner.getTokenStart();
        break;
      case ts.SyntaxKind.CloseParenToken:
      case ts.SyntaxKind.CloseBracketToken:
        open.pop();
        break;
      case ts.SyntaxKind.CloseBraceToken:
        // The brace that ends a template substitution continues the template.
        if (open.at(-1) === ts.SyntaxKind.TemplateHead) {
          if (scanner.reScanTemplateToken(false) === ts.SyntaxKind.TemplateTail) open.pop();
        } else open.pop();
        break;
    }
  }
  return undefined;
}

/** The first node found deeper than `limit` in a syntax tree, walked without recursion, or undefined. */
function tooDeepNode(root: ts.Node, limit: number): ts.Node | undefined {
  const stack: [ts.Node, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > limit) return node;
    const children: ts.Node[] = [];
    ts.forEachChild(node, (child) => {
      children.push(child);
    });
    // Last pushed, first walked: the first child is walked first, so that a left-deep chain is reported where it starts.
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, depth + 1]);
  }
  return undefined;
}

function isRelative(spec: string): boolean {
  return spec.startsWith("./") || spec.startsWith("../") || spec.startsWith("/");
}

