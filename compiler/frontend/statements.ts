// Statements: declarations, blocks, if, switch, labels, return, break,
// continue and throw. A statement's result is a Completion, which is how
// `return` and `break` leave nested blocks; `if` and `switch` decide on
// compile-time values, so only the branch taken is evaluated (a condition on
// a tensor is an error: it would need run-time control flow). Loops are in
// loops.ts.

import { Node as Ast, SyntaxKind, type Statement } from "ts-morph";
import { bindingNames } from "./bindings.js";
import type { Completion, Evaluator, Rules, StatementRule } from "./evaluator.js";
import { isLoop, loop } from "./loops.js";
import { applyBinary } from "./operators.js";
import { Scope } from "./scope.js";
import { Closure, ObjectValue, show, TensorValue } from "./values.js";

/** Declares a block's functions and lexical names before its statements run (hoisting, TDZ). */
export function hoist(statements: readonly Statement[], scope: Scope): void {
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

function switchStatement(ev: Evaluator, s: import("ts-morph").SwitchStatement, outer: Scope): Completion {
  const subject = ev.expr(s.getExpression(), outer);
  if (subject instanceof TensorValue) ev.truthy(subject, s.getExpression());
  const scope = new Scope(outer);
  const clauses = s.getCaseBlock().getClauses();
  hoist(clauses.flatMap((c) => c.getStatements()), scope);
  let matched = clauses.findIndex((c) => Ast.isCaseClause(c) && applyBinary("===", subject, ev.expr(c.getExpression(), scope)) === true);
  if (matched < 0) matched = clauses.findIndex((c) => Ast.isDefaultClause(c));
  if (matched < 0) return undefined;
  for (const clause of clauses.slice(matched)) {
    for (const st of clause.getStatements()) {
      const c = ev.stmt(st, scope);
      if (c && c.kind === "break" && c.label === undefined) return undefined;
      if (c) return c;
    }
  }
  return undefined;
}

/** The longest message of a thrown error that a diagnostic repeats. */
const THROWN_CHARS = 500;

/** Declarations with nothing to run: functions are hoisted, types and imports are resolved elsewhere. */
const nothing: StatementRule = () => undefined;

export const statementRules: Rules<StatementRule> = {
  [SyntaxKind.VariableStatement]: (ev, s, scope) => {
    const vs = s.asKindOrThrow(SyntaxKind.VariableStatement);
    const mutable = vs.getDeclarationKind() !== "const";
    for (const d of vs.getDeclarations()) {
      const init = d.getInitializer();
      const value = init ? ev.expr(init, scope) : undefined;
      ev.bindPattern(d.getNameNode(), value, scope, mutable);
    }
    return undefined;
  },
  [SyntaxKind.ExpressionStatement]: (ev, s, scope) => {
    ev.expr(s.asKindOrThrow(SyntaxKind.ExpressionStatement).getExpression(), scope);
    return undefined;
  },
  [SyntaxKind.ReturnStatement]: (ev, s, scope) => {
    const e = s.asKindOrThrow(SyntaxKind.ReturnStatement).getExpression();
    return { kind: "return", value: e ? ev.expr(e, scope) : undefined };
  },
  [SyntaxKind.IfStatement]: (ev, s, scope) => {
    const is = s.asKindOrThrow(SyntaxKind.IfStatement);
    if (ev.truthy(ev.expr(is.getExpression(), scope), is.getExpression())) return ev.nested(is.getThenStatement(), scope);
    const other = is.getElseStatement();
    return other ? ev.nested(other, scope) : undefined;
  },
  [SyntaxKind.Block]: (ev, s, scope) => ev.block(s.asKindOrThrow(SyntaxKind.Block).getStatements(), new Scope(scope)),
  [SyntaxKind.LabeledStatement]: (ev, s, scope) => {
    const ls = s.asKindOrThrow(SyntaxKind.LabeledStatement);
    const label = ls.getLabel().getText();
    const body = ls.getStatement();
    const c = isLoop(body) ? loop(ev, body, scope, label) : ev.nested(body, scope);
    return c && c.kind === "break" && c.label === label ? undefined : c;
  },
  [SyntaxKind.BreakStatement]: (_, s) => ({ kind: "break", label: s.asKindOrThrow(SyntaxKind.BreakStatement).getLabel()?.getText() }),
  [SyntaxKind.ContinueStatement]: (_, s) => ({ kind: "continue", label: s.asKindOrThrow(SyntaxKind.ContinueStatement).getLabel()?.getText() }),
  [SyntaxKind.SwitchStatement]: (ev, s, scope) => switchStatement(ev, s.asKindOrThrow(SyntaxKind.SwitchStatement), scope),
  [SyntaxKind.ThrowStatement]: (ev, s, scope) => {
    const ts = s.asKindOrThrow(SyntaxKind.ThrowStatement);
    const v = ev.expr(ts.getExpression(), scope);
    const m = v instanceof ObjectValue && typeof v.props.get("message") === "string" ? (v.props.get("message") as string) : show(v);
    const message = m === "" ? "the model threw an error with an empty message" : m.length > THROWN_CHARS ? `${m.slice(0, THROWN_CHARS)}… (${m.length} characters)` : m;
    ev.fail("DLC3005", message, "the model threw this while it was being compiled", ts);
  },
  [SyntaxKind.FunctionDeclaration]: nothing,
  [SyntaxKind.EmptyStatement]: nothing,
  [SyntaxKind.TypeAliasDeclaration]: nothing,
  [SyntaxKind.InterfaceDeclaration]: nothing,
  [SyntaxKind.ImportDeclaration]: nothing,
  [SyntaxKind.ExportDeclaration]: nothing,
};
