// Loops: for, for...of, for...in, while and do...while, unrolled at compile
// time. Their conditions and subjects must be compile-time values; every
// iteration is counted against LIMITS.loopIterations so that a loop that never
// ends is reported instead of hanging the compiler. As in JavaScript, each
// iteration of a `for` gets its own copy of the loop variables, so closures
// made in the body see their own.

import { Node as Ast, SyntaxKind, type DoStatement, type Expression, type ForInStatement, type ForOfStatement, type ForStatement, type Statement, type WhileStatement } from "ts-morph";
import { bindingNames } from "./bindings.js";
import type { Completion, Evaluator, Rules, StatementRule } from "./evaluator.js";
import { Scope } from "./scope.js";
import { ObjectValue, TensorValue, typeName, type Value } from "./values.js";

type Loop = ForStatement | ForOfStatement | ForInStatement | WhileStatement | DoStatement;

const CONDITION_HINT = "a loop condition must be known at compile time: loops are unrolled";

export function isLoop(s: Statement): s is Loop {
  return Ast.isForStatement(s) || Ast.isForOfStatement(s) || Ast.isForInStatement(s) || Ast.isWhileStatement(s) || Ast.isDoStatement(s);
}

/** Runs a loop; `label` is the label on it, which its `break label` and `continue label` name. */
export function loop(ev: Evaluator, s: Loop, scope: Scope, label: string | undefined): Completion {
  if (Ast.isForStatement(s)) return forLoop(ev, s, scope, label);
  if (Ast.isForOfStatement(s) || Ast.isForInStatement(s)) return forEachLoop(ev, s, scope, label);
  return whileLoop(ev, s, scope, label);
}

export const loopRules: Rules<StatementRule> = {
  [SyntaxKind.ForStatement]: (ev, s, scope) => forLoop(ev, s.asKindOrThrow(SyntaxKind.ForStatement), scope, undefined),
  [SyntaxKind.ForOfStatement]: (ev, s, scope) => forEachLoop(ev, s as ForOfStatement, scope, undefined),
  [SyntaxKind.ForInStatement]: (ev, s, scope) => forEachLoop(ev, s as ForInStatement, scope, undefined),
  [SyntaxKind.WhileStatement]: (ev, s, scope) => whileLoop(ev, s as WhileStatement, scope, undefined),
  [SyntaxKind.DoStatement]: (ev, s, scope) => whileLoop(ev, s as DoStatement, scope, undefined),
};

/** What a loop body's completion means for the loop: "next" to go on, "exit", or a completion to propagate. */
function loopControl(c: Completion, label: string | undefined): "next" | "exit" | Completion {
  if (!c) return "next";
  if (c.kind === "return") return c;
  if (c.label !== undefined && c.label !== label) return c;
  return c.kind === "break" ? "exit" : "next";
}

function forLoop(ev: Evaluator, s: ForStatement, outer: Scope, label: string | undefined): Completion {
  const scope = new Scope(outer);
  const init = s.getInitializer();
  let names: string[] = [];
  if (init && Ast.isVariableDeclarationList(init)) {
    const mutable = init.getDeclarationKind() !== "const";
    for (const d of init.getDeclarations()) {
      const i = d.getInitializer();
      ev.bindPattern(d.getNameNode(), i ? ev.expr(i, scope) : undefined, scope, mutable);
      names = names.concat(bindingNames(d.getNameNode()));
    }
  } else if (init) ev.expr(init, scope);
  let iterScope = copyBindings(scope, outer, names);
  for (let count = 1; ; count++) {
    const cond = s.getCondition();
    if (cond && !ev.truthy(ev.expr(cond, iterScope), cond, CONDITION_HINT)) break;
    ev.iteration(count, s);
    const ctl = loopControl(ev.nested(s.getStatement(), iterScope), label);
    if (ctl === "exit") break;
    if (ctl !== "next") return ctl;
    iterScope = copyBindings(iterScope, outer, names);
    const inc = s.getIncrementor();
    if (inc) ev.expr(inc, iterScope);
  }
  return undefined;
}

function forEachLoop(ev: Evaluator, s: ForOfStatement | ForInStatement, scope: Scope, label: string | undefined): Completion {
  const subject = ev.expr(s.getExpression(), scope);
  let items: Value[];
  if (Ast.isForInStatement(s)) {
    if (subject instanceof ObjectValue) items = [...subject.props.keys()];
    else if (Array.isArray(subject)) items = subject.map((_, i) => String(i));
    else ev.fail("DLC1006", `for...in needs an object, got ${typeName(subject)}`, "iterate over a compile-time object", s.getExpression());
  } else {
    if (Array.isArray(subject)) items = [...subject];
    else if (typeof subject === "string") items = [...subject];
    else if (subject instanceof TensorValue) ev.truthy(subject, s.getExpression(), "a tensor cannot be iterated at compile time; its values exist only at run time");
    else ev.fail("DLC1006", `for...of needs an array or a string, got ${typeName(subject)}`, "iterate over a compile-time array", s.getExpression());
  }
  const init = s.getInitializer();
  let count = 0;
  for (const item of items!) {
    ev.iteration(++count, s);
    const iterScope = new Scope(scope);
    if (Ast.isVariableDeclarationList(init)) {
      const d = init.getDeclarations()[0]!;
      ev.bindPattern(d.getNameNode(), item, iterScope, init.getDeclarationKind() !== "const");
    } else ev.assign(init as Expression, item, iterScope);
    const ctl = loopControl(ev.nested(s.getStatement(), iterScope), label);
    if (ctl === "exit") break;
    if (ctl !== "next") return ctl;
  }
  return undefined;
}

function whileLoop(ev: Evaluator, s: WhileStatement | DoStatement, scope: Scope, label: string | undefined): Completion {
  const cond = s.getExpression();
  const isDo = Ast.isDoStatement(s);
  for (let count = 1; ; count++) {
    if (!isDo || count > 1) {
      if (!ev.truthy(ev.expr(cond, scope), cond, CONDITION_HINT)) break;
    }
    ev.iteration(count, s);
    const ctl = loopControl(ev.nested(s.getStatement(), scope), label);
    if (ctl === "exit") break;
    if (ctl !== "next") return ctl;
  }
  return undefined;
}

/** A fresh scope under `parent` holding copies of `names` from `from`: one iteration's loop variables. */
function copyBindings(from: Scope, parent: Scope, names: readonly string[]): Scope {
  const s = new Scope(parent);
  for (const n of names) {
    const b = from.ownBinding(n)!;
    s.declare(n, b.value, b.mutable, b.initialized);
  }
  return s;
}
