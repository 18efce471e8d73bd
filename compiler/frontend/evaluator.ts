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
// This file is the core: the limits, error reporting with "called from" notes,
// and dispatch by syntax kind. What each kind means is in the rule tables of
//   statements.ts   declarations, blocks, if, switch, labels, return/break/throw
//   loops.ts        for, for...of, for...in, while, do (unrolled)
//   literals.ts     numbers, strings, templates, array and object literals
//   bindings.ts     names: reading, declaring, destructuring, assigning
//   access.ts       obj.key and obj[key]
//   calls.ts        calls, closures, inlining of model functions
//   expressions.ts  operators, conditionals, typeof (operators.ts gives their meaning on values)
// which take the evaluator as a parameter and import only its type, so that
// no module cycle exists at run time.
//
// Every failure is a CompileError pointing at the model's source, including
// running out of resources: values are bounded by the budget (budget.ts),
// source nesting by LIMITS.nesting (checked when a module is read), and a
// JavaScript stack overflow or RangeError that still escapes becomes a
// diagnostic at the innermost expression being evaluated.

import { Node as Ast, SyntaxKind, type Expression, type Statement } from "ts-morph";
import { atLoc } from "../ops/make.js";
import { NotDifferentiableError, ShapeError } from "../ops/types.js";
import { accessRules, member } from "./access.js";
import { assign, bindingRules, bindPattern } from "./bindings.js";
import { apply, callRules } from "./calls.js";
import { Budget } from "./budget.js";
import { BuiltinError, closest, CompileError, compileError, type DiagnosticCode, type Span } from "./diagnostics.js";
import { expressionRules } from "./expressions.js";
import { literalRules } from "./literals.js";
import { loopRules } from "./loops.js";
import { OperatorError } from "./operators.js";
import { Scope } from "./scope.js";
import { hoist, statementRules } from "./statements.js";
import { Opaque, TensorValue, typeName, type Value } from "./values.js";

/** Builtins (library.ts, globals.ts) import their error type from here. */
export { BuiltinError };

export const LIMITS = {
  /** Iterations of one loop before it is reported as runaway. */
  loopIterations: 100_000,
  /** Nested model-function calls. */
  callDepth: 200,
  /** Statements and calls evaluated in one compilation. */
  steps: 20_000_000,
  /** Depth of the syntax tree of a module: x + x + ... + x is this deep in its number of terms. */
  nesting: 3_000,
  /** Brackets ( [ { nested in one another: TypeScript's parser recurses on them, with a deeper stack per level. */
  brackets: 256,
};

/** How a statement ended, when not by falling through to the next one. */
export type Completion =
  | undefined
  | { readonly kind: "return"; readonly value: Value }
  | { readonly kind: "break" | "continue"; readonly label: string | undefined };

/** What one syntax kind means; `node` is always of that kind. */
export type ExpressionRule = (ev: Evaluator, node: Ast, scope: Scope) => Value;
export type StatementRule = (ev: Evaluator, node: Statement, scope: Scope) => Completion;
export type Rules<R> = Partial<Record<SyntaxKind, R>>;

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

/** One table from several; a kind claimed twice is a bug in the tables. */
function merge<R>(...tables: Rules<R>[]): ReadonlyMap<SyntaxKind, R> {
  const out = new Map<SyntaxKind, R>();
  for (const table of tables) {
    for (const [kind, rule] of Object.entries(table) as unknown as [SyntaxKind, R][]) {
      if (out.has(Number(kind))) throw new Error(`two evaluator rules for ${SyntaxKind[Number(kind)]}`);
      out.set(Number(kind), rule);
    }
  }
  return out;
}

const EXPRESSIONS = merge<ExpressionRule>(literalRules, bindingRules, accessRules, callRules, expressionRules);
const STATEMENTS = merge<StatementRule>(statementRules, loopRules);

export class Evaluator {
  private steps = 0;
  private readonly stack: Frame[] = [];
  /** The strings, arrays and objects this compilation may still make. */
  readonly budget = new Budget();

  constructor(readonly globals: Scope) {}

  // ---------------------------------------------------------------- dispatch

  expr(e: Ast, scope: Scope): Value {
    const rule = EXPRESSIONS.get(e.getKind());
    try {
      return rule ? rule(this, e, scope) : this.unsupported(e);
    } catch (err) {
      throw this.exhausted(err, e);
    }
  }

  stmt(s: Statement, scope: Scope): Completion {
    this.tick(s);
    const rule = STATEMENTS.get(s.getKind());
    try {
      return rule ? rule(this, s, scope) : this.unsupported(s);
    } catch (err) {
      throw this.exhausted(err, s);
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

  /** A statement nested in another (a branch, a loop body): it gets its own scope. */
  nested(s: Statement, scope: Scope): Completion {
    return Ast.isBlock(s) ? this.block(s.getStatements(), new Scope(scope)) : this.stmt(s, new Scope(scope));
  }

  /** Declares a block's functions and lexical names before its statements run (hoisting, TDZ). */
  hoist(statements: readonly Statement[], scope: Scope): void {
    hoist(statements, scope);
  }

  bindPattern(name: Ast, value: Value, scope: Scope, mutable: boolean): void {
    bindPattern(this, name, value, scope, mutable);
  }

  /** Assigns to an identifier, a property, an element or a destructuring pattern. */
  assign(target: Expression, value: Value, scope: Scope): void {
    assign(this, target, value, scope);
  }

  /** obj.key for every kind of value: objects, arrays, strings, builtin namespaces. */
  member(obj: Value, key: string | number, node: Ast): Value {
    return member(this, obj, key, node);
  }

  /** Calls a function value: a builtin runs in the compiler, a closure is inlined. */
  apply(fn: Value, args: Value[], site: Ast, calleeText = "this value"): Value {
    return apply(this, fn, args, site, calleeText);
  }

  // ---------------------------------------------------------------- limits and calls

  /** Runs `f` with the budget; a refusal is reported at `node`. */
  charge<T>(node: Ast, f: (budget: Budget) => T): T {
    try {
      return f(this.budget);
    } catch (e) {
      if (e instanceof BuiltinError) this.fail(e.code, e.message, e.hint, node);
      throw e;
    }
  }

  /**
   * An error that escaped evaluating `node`: a stack overflow or another
   * RangeError of JavaScript becomes a diagnostic there. The frame that
   * catches an overflow first may have too little stack left to build the
   * diagnostic; then the overflow happens again and the next frame out tries.
   */
  private exhausted(err: unknown, node: Ast): unknown {
    if (!(err instanceof RangeError)) return err;
    try {
      if (err.message.includes("call stack")) {
        return compileError("DLC3003", "compile-time evaluation ran out of stack here", "expressions or calls nest too deep to evaluate; split the expression into named parts, or make recursion shallower", spanOf(node), this.callNotes());
      }
      return compileError("DLC1006", `compile-time evaluation failed: ${err.message}`, "check the values used here", spanOf(node), this.callNotes());
    } catch {
      return err; // no stack left to report it: the next frame out tries
    }
  }

  /** Counts one statement or call; reports a compilation that runs too long. */
  tick(node: Ast): void {
    if (++this.steps > LIMITS.steps) {
      this.fail("DLC3002", `compile-time evaluation did not finish within ${LIMITS.steps} steps`, "a loop or recursion runs too long at compile time; check its bounds", node);
    }
  }

  /** Counts one loop iteration; reports a runaway loop. */
  iteration(count: number, loop: Ast): void {
    if (count > LIMITS.loopIterations) {
      this.fail("DLC3002", `this loop ran more than ${LIMITS.loopIterations} times at compile time`, "loops are unrolled at compile time; check that the loop condition becomes false", loop);
    }
  }

  /** Reports recursion that nests too deep, before a call of `name` at `site`. */
  checkCallDepth(name: string, site: Ast): void {
    if (this.stack.length >= LIMITS.callDepth) {
      this.fail("DLC3003", `calls nest deeper than ${LIMITS.callDepth} levels (in ${name}())`, "recursion must end at compile time; check its base case", site);
    }
  }

  /** Runs `f` as the body of a call of `name` at `site`, so that errors inside say where it was called from. */
  inFrame<T>(name: string, site: Ast, f: () => T): T {
    this.stack.push({ name, site });
    try {
      return f();
    } finally {
      this.stack.pop();
    }
  }

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

  unknownName(node: Ast, scope: Scope): never {
    const name = node.getText();
    const guess = closest(name, scope.names());
    const hint = guess ? `did you mean '${guess}'?` : name === "console" ? "models cannot print at run time; use `dlc compile --emit ir` to see the graph" : "declare it, or import it from \"dlc\" or a local module";
    this.fail("DLC1002", `cannot find name '${name}'`, hint, node);
  }
}
