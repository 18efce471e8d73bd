// Operator expressions: binary, logical, assignment and compound assignment,
// prefix and postfix, the conditional `?:`, typeof, void, the comma, and the
// wrappers that only TypeScript sees (parentheses, `as`, `!`, `satisfies`).
// What an operator computes on numbers, strings and tensors is in
// operators.ts; here is the order of evaluation and what must be known at
// compile time: `&&`, `||`, `!` and `?:` decide now, so their operands cannot
// be tensors (an elementwise choice is where(cond, a, b)).

import { Node as Ast, SyntaxKind, type BinaryExpression, type Expression, type PrefixUnaryExpression } from "ts-morph";
import { checkSize } from "./budget.js";
import type { Evaluator, ExpressionRule, Rules } from "./evaluator.js";
import { applyBinary, applyUnary } from "./operators.js";
import type { Scope } from "./scope.js";
import { Builtin, Closure, ObjectValue, Opaque, TensorValue, type Value } from "./values.js";

const LOGICAL_HINT = "logical operators decide at compile time; for an elementwise choice use where(cond, a, b)";

const inner: ExpressionRule = (ev, e, scope) => ev.expr((e as unknown as { getExpression(): Expression }).getExpression(), scope);

export const expressionRules: Rules<ExpressionRule> = {
  [SyntaxKind.ParenthesizedExpression]: inner,
  [SyntaxKind.AsExpression]: inner,
  [SyntaxKind.NonNullExpression]: inner,
  [SyntaxKind.SatisfiesExpression]: inner,
  [SyntaxKind.TypeAssertionExpression]: inner,
  [SyntaxKind.BinaryExpression]: (ev, e, scope) => binary(ev, e.asKindOrThrow(SyntaxKind.BinaryExpression), scope),
  [SyntaxKind.PrefixUnaryExpression]: (ev, e, scope) => prefix(ev, e.asKindOrThrow(SyntaxKind.PrefixUnaryExpression), scope),
  [SyntaxKind.PostfixUnaryExpression]: (ev, e, scope) => {
    const pe = e.asKindOrThrow(SyntaxKind.PostfixUnaryExpression);
    const operand = pe.getOperand();
    const old = ev.expr(operand, scope);
    const delta = pe.getOperatorToken() === SyntaxKind.PlusPlusToken ? 1 : -1;
    ev.assign(operand, ev.at(pe, () => applyBinary("+", applyUnary("+", old), delta)), scope);
    return typeof old === "number" ? old : applyUnary("+", old);
  },
  [SyntaxKind.ConditionalExpression]: (ev, e, scope) => {
    const ce = e.asKindOrThrow(SyntaxKind.ConditionalExpression);
    return ev.truthy(ev.expr(ce.getCondition(), scope), ce.getCondition()) ? ev.expr(ce.getWhenTrue(), scope) : ev.expr(ce.getWhenFalse(), scope);
  },
  [SyntaxKind.TypeOfExpression]: (ev, e, scope) => {
    const v = ev.expr(e.asKindOrThrow(SyntaxKind.TypeOfExpression).getExpression(), scope);
    // A tensor is a number to TypeScript, so typeof says so too.
    if (v instanceof TensorValue) return "number";
    if (v instanceof Closure || v instanceof Builtin) return "function";
    if (v instanceof ObjectValue || Array.isArray(v) || v instanceof Opaque) return "object";
    return typeof v;
  },
  [SyntaxKind.VoidExpression]: (ev, e, scope) => {
    ev.expr(e.asKindOrThrow(SyntaxKind.VoidExpression).getExpression(), scope);
    return undefined;
  },
};

/** Operators that combine two values without assigning: a chain of them is folded in a loop. */
function folds(op: string): boolean {
  if (op === "in" || op === "instanceof") return false;
  return !op.endsWith("=") || op === "==" || op === "===" || op === "!=" || op === "!==" || op === "<=" || op === ">=";
}

function binary(ev: Evaluator, b: BinaryExpression, scope: Scope): Value {
  const op = b.getOperatorToken().getText();
  if (folds(op)) {
    // A left-deep chain such as x + x + ... + x is walked in a loop rather
    // than by recursion, so that its length costs no stack.
    const spine = [b];
    let first = b.getLeft();
    while (Ast.isBinaryExpression(first) && folds(first.getOperatorToken().getText())) {
      spine.push(first);
      first = first.getLeft();
    }
    let acc = ev.expr(first, scope);
    for (let i = spine.length - 1; i >= 0; i--) acc = fold(ev, spine[i]!, acc, scope);
    return acc;
  }
  const left = b.getLeft();
  const right = b.getRight();
  switch (op) {
    case "=": {
      const v = ev.expr(right, scope);
      ev.assign(left, v, scope);
      return v;
    }
    case "&&=":
    case "||=":
    case "??=": {
      const l = ev.expr(left, scope);
      const go = op === "&&=" ? ev.truthy(l, left) : op === "||=" ? !ev.truthy(l, left) : l === undefined || l === null;
      if (!go) return l;
      const v = ev.expr(right, scope);
      ev.assign(left, v, scope);
      return v;
    }
    case "in":
    case "instanceof":
      return ev.unsupported(b.getOperatorToken());
  }
  // A compound assignment: x += y.
  const base = op.slice(0, -1);
  const v = ev.at(b, () => {
    const l = ev.expr(left, scope);
    const r = ev.expr(right, scope);
    checkConcat(base, l, r);
    return applyBinary(base, l, r);
  });
  ev.assign(left, v, scope);
  return v;
}

/** One operator of a chain, given the value of everything to its left. */
function fold(ev: Evaluator, b: BinaryExpression, l: Value, scope: Scope): Value {
  const op = b.getOperatorToken().getText();
  const left = b.getLeft();
  const right = b.getRight();
  switch (op) {
    case "&&":
      return ev.truthy(l, left, LOGICAL_HINT) ? ev.expr(right, scope) : l;
    case "||":
      return ev.truthy(l, left, LOGICAL_HINT) ? l : ev.expr(right, scope);
    case "??":
      return l === undefined || l === null ? ev.expr(right, scope) : l;
    case ",":
      return ev.expr(right, scope);
  }
  const r = ev.expr(right, scope);
  if (l instanceof Opaque) ev.opaque(l, left);
  if (r instanceof Opaque) ev.opaque(r, right);
  return ev.at(b, () => {
    checkConcat(op, l, r);
    return applyBinary(op, l, r);
  });
}

/** Refuses a string concatenation longer than one compile-time string may be (JavaScript makes it lazily, so only its length is checked). */
function checkConcat(op: string, l: Value, r: Value): void {
  if (op !== "+" || (typeof l !== "string" && typeof r !== "string")) return;
  const length = (v: Value) => (typeof v === "string" ? v.length : typeof v === "number" || typeof v === "boolean" || v === null || v === undefined ? String(v).length : 0);
  checkSize(length(l) + length(r), "'+'", "string");
}

function prefix(ev: Evaluator, p: PrefixUnaryExpression, scope: Scope): Value {
  const operand = p.getOperand();
  switch (p.getOperatorToken()) {
    case SyntaxKind.ExclamationToken:
      return !ev.truthy(ev.expr(operand, scope), operand, LOGICAL_HINT);
    case SyntaxKind.MinusToken:
      return ev.at(p, () => applyUnary("-", ev.expr(operand, scope)));
    case SyntaxKind.PlusToken:
      return ev.at(p, () => applyUnary("+", ev.expr(operand, scope)));
    case SyntaxKind.TildeToken:
      return ev.at(p, () => applyUnary("~", ev.expr(operand, scope)));
    case SyntaxKind.PlusPlusToken:
    case SyntaxKind.MinusMinusToken: {
      const delta = p.getOperatorToken() === SyntaxKind.PlusPlusToken ? 1 : -1;
      const v = ev.at(p, () => applyBinary("+", applyUnary("+", ev.expr(operand, scope)), delta));
      ev.assign(operand, v, scope);
      return v;
    }
  }
  return ev.unsupported(p);
}
