// The partial evaluator: runs the compile-time part of a model and records
// the run-time part as IR.
//
// It walks the ts-morph syntax tree of a TypeScript subset. Numbers, strings,
// arrays, objects and closures are computed on the spot; loops and `if`s on
// such values are unrolled; calls are inlined. Tensor operations build IR
// nodes instead of computing. Nothing of the model is ever executed by Node:
// a call reaches only the evaluator's own builtins, so a model that imports
// `node:fs` can name `writeFileSync` but never call it.
//
// Every failure is a CompileError pointing at the model's source.

import { Node as Ast, SyntaxKind, type BindingElement, type Expression, type Statement } from "ts-morph";
import { atLoc } from "../ops/make.js";
import { NotDifferentiableError, ShapeError } from "../ops/types.js";
import { closest, compileError, type DiagnosticCode, type Span } from "./diagnostics.js";
import { applyBinary, applyUnary, OperatorError } from "./operators.js";
import { Scope } from "./scope.js";
import { Builtin, Closure, ObjectValue, Opaque, TensorValue, show, typeName, type CallSite, type FunctionNode, type Value } from "./values.js";
import { memberOf } from "./methods.js";

export const LIMITS = {
  /** Iterations of one loop before it is reported as runaway. */
  loopIterations: 100_000,
  /** Nested model-function calls. */
  callDepth: 200,
  /** Statements and calls evaluated in one compilation. */
  steps: 20_000_000,
};

type Completion =
  | undefined
  | { readonly kind: "return"; readonly value: Value }
  | { readonly kind: "break" | "continue"; readonly label: string | undefined };

interface Frame {
  readonly name: string;
  readonly site: Ast;
}

export function spanOf(node: Ast): Span {
  const sf = node.getSourceFile();
  const start = node.getStart();
  const { line, column } = sf.getLineAndColumnAtPos(start);
  return { file: sf.getFilePath(), line, col: column, length: Math.max(1, node.getEnd() - start) };
}

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

export class Evaluator {
  private steps = 0;
  private readonly stack: Frame[] = [];

  constructor(readonly globals: Scope) {}

  // ---------------------------------------------------------------- errors

  fail(code: DiagnosticCode, message: string, hint: string, node: Ast): never {
    throw compileError(code, message, hint, spanOf(node), this.callNotes());
  }

  /** "called from" notes, innermost first, for errors inside helpers. */
  private callNotes(): string[] {
    const notes: string[] = [];
    let repeats = 0;
    // Entry points are traced, not called: their frame's site is their own declaration.
    const frames = this.stack.filter((f) => Ast.isCallExpression(f.site));
    for (let i = frames.length - 1; i >= 0 && notes.length < 4; i--) {
      const f = frames[i]!;
      const s = spanOf(f.site);
      const note = `in ${f.name}(), called at ${s.file.split("/").pop()}:${s.line}:${s.col}`;
      if (note === notes.at(-1)) repeats++;
      else {
        if (repeats > 0) notes[notes.length - 1] += ` (and ${repeats} more times)`;
        repeats = 0;
        notes.push(note);
      }
    }
    if (repeats > 0) notes[notes.length - 1] += ` (and ${repeats} more times)`;
    return notes;
  }

  /** Runs `f` as the evaluation of `node`: new IR nodes get its location, and library errors its span. */
  at<T>(node: Ast, f: () => T): T {
    const span = spanOf(node);
    try {
      return atLoc({ file: span.file, line: span.line, col: span.col }, f);
    } catch (e) {
      if (e instanceof ShapeError) this.fail("DLC2001", e.message, e.hint, node);
      if (e instanceof OperatorError) this.fail("DLC1006", e.message, e.hint, node);
      if (e instanceof BuiltinError) this.fail(e.code, e.message, e.hint, node);
      if (e instanceof NotDifferentiableError) this.fail("DLC3006", e.message, e.hint, node);
      throw e;
    }
  }

  private tick(node: Ast): void {
    if (++this.steps > LIMITS.steps) {
      this.fail("DLC3002", `compile-time evaluation did not finish within ${LIMITS.steps} steps`, "a loop or recursion runs too long at compile time; check its bounds", node);
    }
  }

  /** A value used as a condition: compile-time only. */
  truthy(v: Value, node: Ast, hint = "a condition must be known at compile time; for an elementwise choice use where(cond, a, b)"): boolean {
    if (v instanceof TensorValue) {
      this.fail("DLC3001", `this condition depends on a tensor (${typeName(v)}), whose value is only known at run time`, hint, node);
    }
    if (v instanceof Opaque) this.opaque(v, node);
    return Boolean(v);
  }

  opaque(v: Opaque, node: Ast): never {
    this.fail(
      "DLC1004",
      `'${v.name}' comes from '${v.module}', which does not exist at compile time`,
      "a model may import only \"dlc\" and its own .ts files; dlc never runs model code",
      node,
    );
  }

  // ---------------------------------------------------------------- statements

  /** Declares a block's functions and lexical names before its statements run (hoisting, TDZ). */
  hoist(statements: readonly Statement[], scope: Scope): void {
    for (const s of statements) {
      if (Ast.isFunctionDeclaration(s) && s.getBody()) {
        const name = s.getName();
        if (name) scope.declare(name, new Closure(s, scope, name), true);
      } else if (Ast.isVariableStatement(s)) {
        for (const d of s.getDeclarations()) {
          for (const name of bindingNames(d.getNameNode())) {
            if (!scope.ownBinding(name)) scope.declare(name, undefined, true, false);
          }
        }
      }
    }
  }

  block(statements: readonly Statement[], scope: Scope): Completion {
    this.hoist(statements, scope);
    for (const s of statements) {
      const c = this.stmt(s, scope);
      if (c) return c;
    }
    return undefined;
  }

  stmt(s: Statement, scope: Scope): Completion {
    this.tick(s);
    switch (s.getKind()) {
      case SyntaxKind.VariableStatement: {
        const vs = s.asKindOrThrow(SyntaxKind.VariableStatement);
        const mutable = vs.getDeclarationKind() !== "const";
        for (const d of vs.getDeclarations()) {
          const init = d.getInitializer();
          const value = init ? this.expr(init, scope) : undefined;
          this.bindPattern(d.getNameNode(), value, scope, mutable);
        }
        return undefined;
      }
      case SyntaxKind.ExpressionStatement:
        this.expr(s.asKindOrThrow(SyntaxKind.ExpressionStatement).getExpression(), scope);
        return undefined;
      case SyntaxKind.ReturnStatement: {
        const e = s.asKindOrThrow(SyntaxKind.ReturnStatement).getExpression();
        return { kind: "return", value: e ? this.expr(e, scope) : undefined };
      }
      case SyntaxKind.IfStatement: {
        const is = s.asKindOrThrow(SyntaxKind.IfStatement);
        if (this.truthy(this.expr(is.getExpression(), scope), is.getExpression())) return this.nested(is.getThenStatement(), scope);
        const other = is.getElseStatement();
        return other ? this.nested(other, scope) : undefined;
      }
      case SyntaxKind.Block:
        return this.block(s.asKindOrThrow(SyntaxKind.Block).getStatements(), new Scope(scope));
      case SyntaxKind.ForStatement:
        return this.forLoop(s.asKindOrThrow(SyntaxKind.ForStatement), scope, undefined);
      case SyntaxKind.ForOfStatement:
      case SyntaxKind.ForInStatement:
        return this.forEachLoop(s as never, scope, undefined);
      case SyntaxKind.WhileStatement:
      case SyntaxKind.DoStatement:
        return this.whileLoop(s as never, scope, undefined);
      case SyntaxKind.LabeledStatement: {
        const ls = s.asKindOrThrow(SyntaxKind.LabeledStatement);
        const label = ls.getLabel().getText();
        const body = ls.getStatement();
        let c: Completion;
        if (Ast.isForStatement(body)) c = this.forLoop(body, scope, label);
        else if (Ast.isForOfStatement(body) || Ast.isForInStatement(body)) c = this.forEachLoop(body, scope, label);
        else if (Ast.isWhileStatement(body) || Ast.isDoStatement(body)) c = this.whileLoop(body, scope, label);
        else c = this.nested(body, scope);
        return c && c.kind === "break" && c.label === label ? undefined : c;
      }
      case SyntaxKind.BreakStatement:
        return { kind: "break", label: s.asKindOrThrow(SyntaxKind.BreakStatement).getLabel()?.getText() };
      case SyntaxKind.ContinueStatement:
        return { kind: "continue", label: s.asKindOrThrow(SyntaxKind.ContinueStatement).getLabel()?.getText() };
      case SyntaxKind.SwitchStatement:
        return this.switchStatement(s.asKindOrThrow(SyntaxKind.SwitchStatement), scope);
      case SyntaxKind.ThrowStatement: {
        const ts = s.asKindOrThrow(SyntaxKind.ThrowStatement);
        const v = this.expr(ts.getExpression(), scope);
        const message = v instanceof ObjectValue && typeof v.props.get("message") === "string" ? (v.props.get("message") as string) : show(v);
        this.fail("DLC3005", message, "the model threw this while it was being compiled", ts);
      }
      case SyntaxKind.FunctionDeclaration:
      case SyntaxKind.EmptyStatement:
      case SyntaxKind.TypeAliasDeclaration:
      case SyntaxKind.InterfaceDeclaration:
      case SyntaxKind.ImportDeclaration:
      case SyntaxKind.ExportDeclaration:
        return undefined;
    }
    return this.unsupported(s);
  }

  unsupported(node: Ast): never {
    const hints: Partial<Record<SyntaxKind, string>> = {
      [SyntaxKind.ClassDeclaration]: "models are functions: write a function that returns the layer's output",
      [SyntaxKind.TryStatement]: "compile-time errors stop compilation with a diagnostic; there is nothing to catch",
      [SyntaxKind.EnumDeclaration]: "use a const object or string literals",
      [SyntaxKind.AwaitExpression]: "models are synchronous",
      [SyntaxKind.ThisKeyword]: "models are functions: pass values as parameters",
      [SyntaxKind.ImportKeyword]: "a model may import only \"dlc\" and its own .ts files, with static imports",
    };
    const kind = node.getKind() === SyntaxKind.ImportKeyword ? "dynamic import" : node.getKindName().replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
    this.fail("DLC1001", `${kind} is not supported in dlc models`, hints[node.getKind()] ?? "dlc compiles a TypeScript subset: functions, const/let, if, loops, arrays and objects", node);
  }

  private nested(s: Statement, scope: Scope): Completion {
    return Ast.isBlock(s) ? this.block(s.getStatements(), new Scope(scope)) : this.stmt(s, new Scope(scope));
  }

  /** Counts one loop iteration; reports a runaway loop. */
  private iteration(count: number, loop: Ast): void {
    if (count > LIMITS.loopIterations) {
      this.fail("DLC3002", `this loop ran more than ${LIMITS.loopIterations} times at compile time`, "loops are unrolled at compile time; check that the loop condition becomes false", loop);
    }
  }

  /** What a loop body's completion means for the loop: undefined to go on, "exit", or a completion to propagate. */
  private loopControl(c: Completion, label: string | undefined): "next" | "exit" | Completion {
    if (!c) return "next";
    if (c.kind === "return") return c;
    if (c.label !== undefined && c.label !== label) return c;
    return c.kind === "break" ? "exit" : "next";
  }

  private forLoop(s: import("ts-morph").ForStatement, outer: Scope, label: string | undefined): Completion {
    const scope = new Scope(outer);
    const init = s.getInitializer();
    let names: string[] = [];
    if (init && Ast.isVariableDeclarationList(init)) {
      const mutable = init.getDeclarationKind() !== "const";
      for (const d of init.getDeclarations()) {
        const i = d.getInitializer();
        this.bindPattern(d.getNameNode(), i ? this.expr(i, scope) : undefined, scope, mutable);
        names = names.concat(bindingNames(d.getNameNode()));
      }
    } else if (init) this.expr(init, scope);
    // Each iteration gets its own copy of the loop variables, as in JavaScript, so closures see their own.
    let iterScope = copyBindings(scope, outer, names);
    for (let count = 1; ; count++) {
      const cond = s.getCondition();
      if (cond && !this.truthy(this.expr(cond, iterScope), cond, "a loop condition must be known at compile time: loops are unrolled")) break;
      this.iteration(count, s);
      const ctl = this.loopControl(this.nested(s.getStatement(), iterScope), label);
      if (ctl === "exit") break;
      if (ctl !== "next") return ctl;
      iterScope = copyBindings(iterScope, outer, names);
      const inc = s.getIncrementor();
      if (inc) this.expr(inc, iterScope);
    }
    return undefined;
  }

  private forEachLoop(s: import("ts-morph").ForOfStatement | import("ts-morph").ForInStatement, scope: Scope, label: string | undefined): Completion {
    const subject = this.expr(s.getExpression(), scope);
    let items: Value[];
    if (Ast.isForInStatement(s)) {
      if (subject instanceof ObjectValue) items = [...subject.props.keys()];
      else if (Array.isArray(subject)) items = subject.map((_, i) => String(i));
      else this.fail("DLC1006", `for...in needs an object, got ${typeName(subject)}`, "iterate over a compile-time object", s.getExpression());
    } else {
      if (Array.isArray(subject)) items = [...subject];
      else if (typeof subject === "string") items = [...subject];
      else if (subject instanceof TensorValue) this.truthy(subject, s.getExpression(), "a tensor cannot be iterated at compile time; its values exist only at run time");
      else this.fail("DLC1006", `for...of needs an array or a string, got ${typeName(subject)}`, "iterate over a compile-time array", s.getExpression());
    }
    const init = s.getInitializer();
    let count = 0;
    for (const item of items!) {
      this.iteration(++count, s);
      const iterScope = new Scope(scope);
      if (Ast.isVariableDeclarationList(init)) {
        const d = init.getDeclarations()[0]!;
        this.bindPattern(d.getNameNode(), item, iterScope, init.getDeclarationKind() !== "const");
      } else this.assign(init as Expression, item, iterScope);
      const ctl = this.loopControl(this.nested(s.getStatement(), iterScope), label);
      if (ctl === "exit") break;
      if (ctl !== "next") return ctl;
    }
    return undefined;
  }

  private whileLoop(s: import("ts-morph").WhileStatement | import("ts-morph").DoStatement, scope: Scope, label: string | undefined): Completion {
    const cond = s.getExpression();
    const isDo = Ast.isDoStatement(s);
    for (let count = 1; ; count++) {
      if (!isDo || count > 1) {
        if (!this.truthy(this.expr(cond, scope), cond, "a loop condition must be known at compile time: loops are unrolled")) break;
      }
      this.iteration(count, s);
      const ctl = this.loopControl(this.nested(s.getStatement(), scope), label);
      if (ctl === "exit") break;
      if (ctl !== "next") return ctl;
    }
    return undefined;
  }

  private switchStatement(s: import("ts-morph").SwitchStatement, outer: Scope): Completion {
    const subject = this.expr(s.getExpression(), outer);
    if (subject instanceof TensorValue) this.truthy(subject, s.getExpression());
    const scope = new Scope(outer);
    const clauses = s.getCaseBlock().getClauses();
    this.hoist(clauses.flatMap((c) => c.getStatements()), scope);
    let matched = clauses.findIndex((c) => Ast.isCaseClause(c) && applyBinary("===", subject, this.expr(c.getExpression(), scope)) === true);
    if (matched < 0) matched = clauses.findIndex((c) => Ast.isDefaultClause(c));
    if (matched < 0) return undefined;
    for (const clause of clauses.slice(matched)) {
      for (const st of clause.getStatements()) {
        const c = this.stmt(st, scope);
        if (c && c.kind === "break" && c.label === undefined) return undefined;
        if (c) return c;
      }
    }
    return undefined;
  }

  // ---------------------------------------------------------------- bindings

  bindPattern(name: Ast, value: Value, scope: Scope, mutable: boolean): void {
    if (Ast.isIdentifier(name)) {
      const existing = scope.ownBinding(name.getText());
      if (existing && !existing.initialized) {
        existing.value = value;
        existing.initialized = true;
        (existing as { mutable: boolean }).mutable = mutable;
      } else scope.declare(name.getText(), value, mutable);
      return;
    }
    if (Ast.isObjectBindingPattern(name)) {
      if (!(value instanceof ObjectValue)) this.fail("DLC1006", `cannot destructure ${typeName(value)} as an object`, "destructure a compile-time object", name);
      const used = new Set<string>();
      for (const el of name.getElements()) {
        if (el.getDotDotDotToken()) {
          const rest = new ObjectValue();
          for (const [k, v] of value.props) if (!used.has(k)) rest.props.set(k, v);
          this.bindPattern(el.getNameNode(), rest, scope, mutable);
          continue;
        }
        const key = this.propertyKey(el.getPropertyNameNode() ?? el.getNameNode(), scope);
        used.add(key);
        this.bindPattern(el.getNameNode(), this.withDefault(value.props.get(key), el, scope), scope, mutable);
      }
      return;
    }
    if (Ast.isArrayBindingPattern(name)) {
      if (!Array.isArray(value)) this.fail("DLC1006", `cannot destructure ${typeName(value)} as an array`, "destructure a compile-time array", name);
      name.getElements().forEach((el, i) => {
        if (Ast.isOmittedExpression(el)) return;
        if (el.getDotDotDotToken()) this.bindPattern(el.getNameNode(), value.slice(i), scope, mutable);
        else this.bindPattern(el.getNameNode(), this.withDefault(value[i], el, scope), scope, mutable);
      });
      return;
    }
    this.unsupported(name);
  }

  private withDefault(v: Value, el: BindingElement, scope: Scope): Value {
    const init = el.getInitializer();
    return v === undefined && init ? this.expr(init, scope) : v;
  }

  private propertyKey(node: Ast, scope: Scope): string {
    if (Ast.isIdentifier(node) || Ast.isPrivateIdentifier(node)) return node.getText();
    if (Ast.isStringLiteral(node) || Ast.isNoSubstitutionTemplateLiteral(node)) return node.getLiteralValue();
    if (Ast.isNumericLiteral(node)) return String(node.getLiteralValue());
    if (Ast.isComputedPropertyName(node)) {
      const k = this.expr(node.getExpression(), scope);
      if (typeof k !== "string" && typeof k !== "number") this.fail("DLC1006", `a property key must be a string or a number, got ${typeName(k)}`, "compute keys from compile-time values", node);
      return String(k);
    }
    return this.unsupported(node);
  }

  // ---------------------------------------------------------------- assignment

  /** Assigns to an identifier, a property, an element or a destructuring pattern. */
  assign(target: Expression, value: Value, scope: Scope): void {
    if (Ast.isParenthesizedExpression(target) || Ast.isNonNullExpression(target) || Ast.isAsExpression(target)) {
      return this.assign(target.getExpression(), value, scope);
    }
    if (Ast.isIdentifier(target)) {
      const name = target.getText();
      const b = scope.lookup(name);
      if (!b) this.unknownName(target, scope);
      if (!b.mutable && b.initialized) this.fail("DLC1006", `cannot assign to '${name}' because it is a constant`, "declare it with let", target);
      b.value = value;
      b.initialized = true;
      return;
    }
    if (Ast.isPropertyAccessExpression(target) || Ast.isElementAccessExpression(target)) {
      const obj = this.expr(target.getExpression(), scope);
      const key = Ast.isPropertyAccessExpression(target) ? target.getName() : this.expr(target.getArgumentExpressionOrThrow(), scope);
      if (Array.isArray(obj)) {
        if (typeof key !== "number" || !Number.isInteger(key) || key < 0) this.fail("DLC1006", `array index must be a non-negative integer, got ${show(key)}`, "index arrays with compile-time integers", target);
        obj[key] = value;
        return;
      }
      if (obj instanceof ObjectValue && !obj.tag && (typeof key === "string" || typeof key === "number")) {
        obj.props.set(String(key), value);
        return;
      }
      if (obj instanceof Opaque) this.opaque(obj, target);
      this.fail("DLC1006", `cannot set a property on ${typeName(obj)}`, "only compile-time arrays and objects can be modified", target);
    }
    if (Ast.isArrayLiteralExpression(target)) {
      if (!Array.isArray(value)) this.fail("DLC1006", `cannot destructure ${typeName(value)} as an array`, "destructure a compile-time array", target);
      target.getElements().forEach((el, i) => {
        if (Ast.isOmittedExpression(el)) return;
        if (Ast.isSpreadElement(el)) this.assign(el.getExpression(), value.slice(i), scope);
        else this.assign(el, value[i], scope);
      });
      return;
    }
    if (Ast.isObjectLiteralExpression(target)) {
      if (!(value instanceof ObjectValue)) this.fail("DLC1006", `cannot destructure ${typeName(value)} as an object`, "destructure a compile-time object", target);
      for (const p of target.getProperties()) {
        if (Ast.isShorthandPropertyAssignment(p)) this.assign(p.getNameNode(), value.props.get(p.getName()), scope);
        else if (Ast.isPropertyAssignment(p)) this.assign(p.getInitializerOrThrow(), value.props.get(this.propertyKey(p.getNameNode(), scope)), scope);
        else this.unsupported(p);
      }
      return;
    }
    this.unsupported(target);
  }

  private unknownName(node: Ast, scope: Scope): never {
    const name = node.getText();
    const guess = closest(name, scope.names());
    const hint = guess ? `did you mean '${guess}'?` : name === "console" ? "models cannot print at run time; use `dlc compile --emit ir` to see the graph" : "declare it, or import it from \"dlc\" or a local module";
    this.fail("DLC1002", `cannot find name '${name}'`, hint, node);
  }

  // ---------------------------------------------------------------- expressions

  expr(e: Ast, scope: Scope): Value {
    switch (e.getKind()) {
      case SyntaxKind.NumericLiteral:
        return e.asKindOrThrow(SyntaxKind.NumericLiteral).getLiteralValue();
      case SyntaxKind.StringLiteral:
        return e.asKindOrThrow(SyntaxKind.StringLiteral).getLiteralValue();
      case SyntaxKind.NoSubstitutionTemplateLiteral:
        return e.asKindOrThrow(SyntaxKind.NoSubstitutionTemplateLiteral).getLiteralValue();
      case SyntaxKind.TemplateExpression: {
        const t = e.asKindOrThrow(SyntaxKind.TemplateExpression);
        let out = t.getHead().getLiteralText();
        for (const span of t.getTemplateSpans()) {
          const v = this.expr(span.getExpression(), scope);
          if (v instanceof TensorValue || v instanceof Opaque) this.fail("DLC3004", `a template literal cannot hold ${typeName(v)}`, "template literals are built at compile time", span.getExpression());
          out += (Array.isArray(v) ? v.join(",") : String(v)) + span.getLiteral().getLiteralText();
        }
        return out;
      }
      case SyntaxKind.TrueKeyword:
        return true;
      case SyntaxKind.FalseKeyword:
        return false;
      case SyntaxKind.NullKeyword:
        return null;
      case SyntaxKind.Identifier: {
        const name = e.getText();
        const b = scope.lookup(name);
        if (!b) {
          if (name === "undefined") return undefined;
          this.unknownName(e, scope);
        }
        if (!b.initialized) this.fail("DLC1002", `'${name}' is used before its declaration`, "move the declaration above this use", e);
        return b.value;
      }
      case SyntaxKind.ParenthesizedExpression:
      case SyntaxKind.AsExpression:
      case SyntaxKind.NonNullExpression:
      case SyntaxKind.SatisfiesExpression:
      case SyntaxKind.TypeAssertionExpression:
        return this.expr((e as unknown as { getExpression(): Expression }).getExpression(), scope);
      case SyntaxKind.ArrayLiteralExpression: {
        const out: Value[] = [];
        for (const el of e.asKindOrThrow(SyntaxKind.ArrayLiteralExpression).getElements()) {
          if (Ast.isSpreadElement(el)) out.push(...this.spread(el.getExpression(), scope));
          else if (Ast.isOmittedExpression(el)) out.push(undefined);
          else out.push(this.expr(el, scope));
        }
        return out;
      }
      case SyntaxKind.ObjectLiteralExpression:
        return this.objectLiteral(e.asKindOrThrow(SyntaxKind.ObjectLiteralExpression), scope);
      case SyntaxKind.PropertyAccessExpression: {
        const pa = e.asKindOrThrow(SyntaxKind.PropertyAccessExpression);
        const obj = this.expr(pa.getExpression(), scope);
        if ((obj === undefined || obj === null) && pa.hasQuestionDotToken()) return undefined;
        return this.member(obj, pa.getName(), pa);
      }
      case SyntaxKind.ElementAccessExpression: {
        const ea = e.asKindOrThrow(SyntaxKind.ElementAccessExpression);
        const obj = this.expr(ea.getExpression(), scope);
        if ((obj === undefined || obj === null) && ea.hasQuestionDotToken()) return undefined;
        const key = this.expr(ea.getArgumentExpressionOrThrow(), scope);
        if (key instanceof TensorValue) {
          this.fail("DLC3004", "an index must be known at compile time, not a tensor", "use oneHot or a mask to select by a run-time index", ea.getArgumentExpressionOrThrow());
        }
        if (typeof key !== "string" && typeof key !== "number") this.fail("DLC1006", `cannot index with ${typeName(key)}`, "index with a number or a string", ea);
        return this.member(obj, key, ea);
      }
      case SyntaxKind.CallExpression:
        return this.call(e.asKindOrThrow(SyntaxKind.CallExpression), scope);
      case SyntaxKind.NewExpression: {
        const ne = e.asKindOrThrow(SyntaxKind.NewExpression);
        const ctor = ne.getExpression().getText();
        if (ctor === "Error" || ctor === "RangeError" || ctor === "TypeError") {
          const arg = ne.getArguments()[0];
          return ObjectValue.of({ message: arg ? show(this.expr(arg, scope)).replace(/^"(.*)"$/, "$1") : "" }, "error");
        }
        return this.unsupported(ne);
      }
      case SyntaxKind.ArrowFunction:
      case SyntaxKind.FunctionExpression: {
        const fn = e as FunctionNode;
        if (fn.isAsync()) this.unsupported(fn);
        const name = Ast.isFunctionExpression(fn) ? (fn.getName() ?? "anonymous") : nameFromContext(fn);
        return new Closure(fn, scope, name);
      }
      case SyntaxKind.BinaryExpression:
        return this.binary(e.asKindOrThrow(SyntaxKind.BinaryExpression), scope);
      case SyntaxKind.PrefixUnaryExpression:
        return this.prefix(e.asKindOrThrow(SyntaxKind.PrefixUnaryExpression), scope);
      case SyntaxKind.PostfixUnaryExpression: {
        const pe = e.asKindOrThrow(SyntaxKind.PostfixUnaryExpression);
        const operand = pe.getOperand();
        const old = this.expr(operand, scope);
        const delta = pe.getOperatorToken() === SyntaxKind.PlusPlusToken ? 1 : -1;
        this.assign(operand, this.at(pe, () => applyBinary("+", applyUnary("+", old), delta)), scope);
        return typeof old === "number" ? old : applyUnary("+", old);
      }
      case SyntaxKind.ConditionalExpression: {
        const ce = e.asKindOrThrow(SyntaxKind.ConditionalExpression);
        return this.truthy(this.expr(ce.getCondition(), scope), ce.getCondition())
          ? this.expr(ce.getWhenTrue(), scope)
          : this.expr(ce.getWhenFalse(), scope);
      }
      case SyntaxKind.TypeOfExpression: {
        const v = this.expr(e.asKindOrThrow(SyntaxKind.TypeOfExpression).getExpression(), scope);
        // A tensor is a number to TypeScript, so typeof says so too.
        if (v instanceof TensorValue) return "number";
        if (v instanceof Closure || v instanceof Builtin) return "function";
        if (v instanceof ObjectValue || Array.isArray(v) || v instanceof Opaque) return "object";
        return typeof v;
      }
      case SyntaxKind.VoidExpression:
        this.expr(e.asKindOrThrow(SyntaxKind.VoidExpression).getExpression(), scope);
        return undefined;
    }
    return this.unsupported(e);
  }

  private spread(e: Expression, scope: Scope): Value[] {
    const v = this.expr(e, scope);
    if (Array.isArray(v)) return v;
    if (typeof v === "string") return [...v];
    if (v instanceof TensorValue) this.fail("DLC3004", "a tensor cannot be spread at compile time", "its elements exist only at run time", e);
    return this.fail("DLC1006", `cannot spread ${typeName(v)}`, "spread a compile-time array", e);
  }

  private objectLiteral(o: import("ts-morph").ObjectLiteralExpression, scope: Scope): ObjectValue {
    const out = new ObjectValue();
    for (const p of o.getProperties()) {
      if (Ast.isPropertyAssignment(p)) out.props.set(this.propertyKey(p.getNameNode(), scope), this.expr(p.getInitializerOrThrow(), scope));
      else if (Ast.isShorthandPropertyAssignment(p)) out.props.set(p.getName(), this.expr(p.getNameNode(), scope));
      else if (Ast.isSpreadAssignment(p)) {
        const v = this.expr(p.getExpression(), scope);
        if (v instanceof ObjectValue) for (const [k, x] of v.props) out.props.set(k, x);
        else if (Array.isArray(v)) v.forEach((x, i) => out.props.set(String(i), x));
        else if (v !== undefined && v !== null) this.fail("DLC1006", `cannot spread ${typeName(v)} into an object`, "spread a compile-time object", p);
      } else if (Ast.isMethodDeclaration(p)) {
        const key = this.propertyKey(p.getNameNode(), scope);
        out.props.set(key, new Closure(p, scope, key));
      } else this.unsupported(p);
    }
    return out;
  }

  /** obj.key for every kind of value: objects, arrays, strings, builtin namespaces. */
  member(obj: Value, key: string | number, node: Ast): Value {
    if (obj instanceof Opaque) this.opaque(obj, node);
    if (obj === undefined || obj === null) this.fail("DLC1006", `cannot read '${key}' of ${obj}`, "the value is missing at compile time; check the name or the index", node);
    if (obj instanceof ObjectValue) return obj.props.get(String(key));
    if (obj instanceof TensorValue) {
      this.fail("DLC1006", `tensors have no property '${key}' at compile time`, "use dlc ops on tensors; their values exist only at run time", node);
    }
    const m = memberOf(obj, key);
    if (m === "missing") this.fail("DLC1006", `${typeName(obj)} has no property '${key}'`, "dlc supports the common array and string members; see README.md", node);
    return m;
  }

  private call(c: import("ts-morph").CallExpression, scope: Scope): Value {
    this.tick(c);
    const callee = c.getExpression();
    const fn = this.expr(callee, scope);
    if ((fn === undefined || fn === null) && c.hasQuestionDotToken()) return undefined;
    const args: Value[] = [];
    for (const a of c.getArguments()) {
      if (Ast.isSpreadElement(a)) args.push(...this.spread(a.getExpression(), scope));
      else args.push(this.expr(a, scope));
    }
    return this.apply(fn, args, c, callee.getText());
  }

  /** Calls a function value: a builtin runs in the compiler, a closure is inlined. */
  apply(fn: Value, args: Value[], site: Ast, calleeText = "this value"): Value {
    if (fn instanceof Builtin) {
      const callSite: CallSite = { node: site, call: (f, a) => this.apply(f, a, site) };
      return this.at(site, () => fn.impl(args, callSite));
    }
    if (fn instanceof Closure) return this.inline(fn, args, site);
    if (fn instanceof Opaque) this.opaque(fn, site);
    return this.fail("DLC1006", `'${calleeText}' is not a function (it is ${typeName(fn)})`, "call a function declared in the model or imported from \"dlc\"", site);
  }

  private inline(fn: Closure, args: Value[], site: Ast): Value {
    if (this.stack.length >= LIMITS.callDepth) {
      this.fail("DLC3003", `calls nest deeper than ${LIMITS.callDepth} levels (in ${fn.name}())`, "recursion must end at compile time; check its base case", site);
    }
    const decl = fn.decl;
    if (Ast.isFunctionDeclaration(decl) || Ast.isFunctionExpression(decl)) {
      if (decl.isGenerator()) this.unsupported(decl);
      if (decl.isAsync()) this.unsupported(decl);
    }
    const scope = new Scope(fn.scope);
    this.stack.push({ name: fn.name, site });
    try {
      decl.getParameters().forEach((p, i) => {
        let v: Value = p.isRestParameter() ? args.slice(i) : args[i];
        const init = p.getInitializer();
        if (v === undefined && init) v = this.expr(init, scope);
        this.bindPattern(p.getNameNode(), v, scope, true);
      });
      const body = decl.getBody();
      if (!body) return undefined;
      if (Ast.isBlock(body)) {
        const c = this.block(body.getStatements(), scope);
        if (c && c.kind === "return") return c.value;
        return undefined;
      }
      return this.expr(body, scope);
    } finally {
      this.stack.pop();
    }
  }

  private binary(b: import("ts-morph").BinaryExpression, scope: Scope): Value {
    const op = b.getOperatorToken().getText();
    const left = b.getLeft();
    const right = b.getRight();
    switch (op) {
      case "=": {
        const v = this.expr(right, scope);
        this.assign(left, v, scope);
        return v;
      }
      case "&&":
      case "||":
      case "??": {
        const l = this.expr(left, scope);
        const hint = "logical operators decide at compile time; for an elementwise choice use where(cond, a, b)";
        if (op === "&&") return this.truthy(l, left, hint) ? this.expr(right, scope) : l;
        if (op === "||") return this.truthy(l, left, hint) ? l : this.expr(right, scope);
        return l === undefined || l === null ? this.expr(right, scope) : l;
      }
      case "&&=":
      case "||=":
      case "??=": {
        const l = this.expr(left, scope);
        const go = op === "&&=" ? this.truthy(l, left) : op === "||=" ? !this.truthy(l, left) : l === undefined || l === null;
        if (!go) return l;
        const v = this.expr(right, scope);
        this.assign(left, v, scope);
        return v;
      }
      case ",":
        this.expr(left, scope);
        return this.expr(right, scope);
      case "in":
      case "instanceof":
        return this.unsupported(b.getOperatorToken());
    }
    if (op.endsWith("=") && !["==", "===", "!=", "!==", "<=", ">="].includes(op)) {
      const base = op.slice(0, -1);
      const v = this.at(b, () => applyBinary(base, this.expr(left, scope), this.expr(right, scope)));
      this.assign(left, v, scope);
      return v;
    }
    const l = this.expr(left, scope);
    const r = this.expr(right, scope);
    if (l instanceof Opaque) this.opaque(l, left);
    if (r instanceof Opaque) this.opaque(r, right);
    return this.at(b, () => applyBinary(op, l, r));
  }

  private prefix(p: import("ts-morph").PrefixUnaryExpression, scope: Scope): Value {
    const operand = p.getOperand();
    switch (p.getOperatorToken()) {
      case SyntaxKind.ExclamationToken:
        return !this.truthy(this.expr(operand, scope), operand, "logical operators decide at compile time; for an elementwise choice use where(cond, a, b)");
      case SyntaxKind.MinusToken:
        return this.at(p, () => applyUnary("-", this.expr(operand, scope)));
      case SyntaxKind.PlusToken:
        return this.at(p, () => applyUnary("+", this.expr(operand, scope)));
      case SyntaxKind.TildeToken:
        return this.at(p, () => applyUnary("~", this.expr(operand, scope)));
      case SyntaxKind.PlusPlusToken:
      case SyntaxKind.MinusMinusToken: {
        const delta = p.getOperatorToken() === SyntaxKind.PlusPlusToken ? 1 : -1;
        const v = this.at(p, () => applyBinary("+", applyUnary("+", this.expr(operand, scope)), delta));
        this.assign(operand, v, scope);
        return v;
      }
    }
    return this.unsupported(p);
  }
}

/** The identifiers a binding pattern declares. */
export function bindingNames(name: Ast): string[] {
  if (Ast.isIdentifier(name)) return [name.getText()];
  if (Ast.isObjectBindingPattern(name) || Ast.isArrayBindingPattern(name)) {
    return name.getElements().flatMap((el) => (Ast.isOmittedExpression(el) ? [] : bindingNames(el.getNameNode())));
  }
  return [];
}

function copyBindings(from: Scope, parent: Scope, names: readonly string[]): Scope {
  const s = new Scope(parent);
  for (const n of names) {
    const b = from.ownBinding(n)!;
    s.declare(n, b.value, b.mutable, b.initialized);
  }
  return s;
}

/** The name a function expression gets from `const name = () => ...` or `{ name: () => ... }`. */
function nameFromContext(fn: Ast): string {
  const parent = fn.getParent();
  if (parent && (Ast.isVariableDeclaration(parent) || Ast.isPropertyAssignment(parent))) return parent.getName();
  return "anonymous";
}
