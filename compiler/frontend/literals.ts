// Literals: numbers, strings, template strings, booleans, null, and array and
// object literals with their spreads and computed keys. All are compile-time
// values; a tensor may sit in an array or an object but not in a template
// string or a spread, whose elements would have to be known now. Templates
// and spreads ask the budget (budget.ts) before they make a long string or
// array.

import { Node as Ast, SyntaxKind, type Expression, type ObjectLiteralExpression } from "ts-morph";
import type { Evaluator, ExpressionRule, Rules } from "./evaluator.js";
import type { Scope } from "./scope.js";
import { checkSize } from "./budget.js";
import { Closure, ObjectValue, Opaque, TensorValue, text, typeName, type Value } from "./values.js";

export const literalRules: Rules<ExpressionRule> = {
  [SyntaxKind.NumericLiteral]: (_, e) => e.asKindOrThrow(SyntaxKind.NumericLiteral).getLiteralValue(),
  [SyntaxKind.StringLiteral]: (_, e) => e.asKindOrThrow(SyntaxKind.StringLiteral).getLiteralValue(),
  [SyntaxKind.NoSubstitutionTemplateLiteral]: (_, e) => e.asKindOrThrow(SyntaxKind.NoSubstitutionTemplateLiteral).getLiteralValue(),
  [SyntaxKind.TemplateExpression]: (ev, e, scope) => {
    const t = e.asKindOrThrow(SyntaxKind.TemplateExpression);
    let out = t.getHead().getLiteralText();
    for (const span of t.getTemplateSpans()) {
      const v = ev.expr(span.getExpression(), scope);
      if (v instanceof TensorValue || v instanceof Opaque) ev.fail("DLC3004", `a template literal cannot hold ${typeName(v)}`, "template literals are built at compile time", span.getExpression());
      const part = ev.charge(span.getExpression(), () => text(v, "this template literal"));
      out += part + span.getLiteral().getLiteralText();
      ev.charge(t, () => checkSize(out.length, "this template literal", "string"));
    }
    ev.charge(t, (b) => b.string(out.length, "this template literal"));
    return out;
  },
  [SyntaxKind.TrueKeyword]: () => true,
  [SyntaxKind.FalseKeyword]: () => false,
  [SyntaxKind.NullKeyword]: () => null,
  [SyntaxKind.ArrayLiteralExpression]: (ev, e, scope) => {
    const out: Value[] = [];
    for (const el of e.asKindOrThrow(SyntaxKind.ArrayLiteralExpression).getElements()) {
      if (Ast.isSpreadElement(el)) {
        const items = spread(ev, el.getExpression(), scope);
        ev.charge(el, () => checkSize(out.length + items.length, "this spread", "array"));
        for (const x of items) out.push(x);
      } else if (Ast.isOmittedExpression(el)) out.push(undefined);
      else out.push(ev.expr(el, scope));
    }
    return out;
  },
  [SyntaxKind.ObjectLiteralExpression]: (ev, e, scope) => objectLiteral(ev, e.asKindOrThrow(SyntaxKind.ObjectLiteralExpression), scope),
};

/** The elements of `...e` in an array literal or a call's arguments. */
export function spread(ev: Evaluator, e: Expression, scope: Scope): Value[] {
  const v = ev.expr(e, scope);
  if (Array.isArray(v) || typeof v === "string") ev.charge(e, (b) => b.array(v.length, "this spread"));
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return [...v];
  if (v instanceof TensorValue) ev.fail("DLC3004", "a tensor cannot be spread at compile time", "its elements exist only at run time", e);
  return ev.fail("DLC1006", `cannot spread ${typeName(v)}`, "spread a compile-time array", e);
}

function objectLiteral(ev: Evaluator, o: ObjectLiteralExpression, scope: Scope): ObjectValue {
  const out = new ObjectValue();
  for (const p of o.getProperties()) {
    if (Ast.isPropertyAssignment(p)) out.props.set(propertyKey(ev, p.getNameNode(), scope), ev.expr(p.getInitializerOrThrow(), scope));
    else if (Ast.isShorthandPropertyAssignment(p)) out.props.set(p.getName(), ev.expr(p.getNameNode(), scope));
    else if (Ast.isSpreadAssignment(p)) {
      const v = ev.expr(p.getExpression(), scope);
      if (v instanceof ObjectValue || Array.isArray(v)) {
        const size = v instanceof ObjectValue ? v.props.size : v.length;
        ev.charge(p, (b) => b.object(out.props.size + size, "this spread", size));
      }
      if (v instanceof ObjectValue) for (const [k, x] of v.props) out.props.set(k, x);
      else if (Array.isArray(v)) v.forEach((x, i) => out.props.set(String(i), x));
      else if (v !== undefined && v !== null) ev.fail("DLC1006", `cannot spread ${typeName(v)} into an object`, "spread a compile-time object", p);
    } else if (Ast.isMethodDeclaration(p)) {
      const key = propertyKey(ev, p.getNameNode(), scope);
      out.props.set(key, new Closure(p, scope, key));
    } else ev.unsupported(p);
  }
  return out;
}

/** The key a property name stands for, in an object literal or a destructuring pattern. */
export function propertyKey(ev: Evaluator, node: Ast, scope: Scope): string {
  if (Ast.isIdentifier(node) || Ast.isPrivateIdentifier(node)) return node.getText();
  if (Ast.isStringLiteral(node) || Ast.isNoSubstitutionTemplateLiteral(node)) return node.getLiteralValue();
  if (Ast.isNumericLiteral(node)) return String(node.getLiteralValue());
  if (Ast.isComputedPropertyName(node)) {
    const k = ev.expr(node.getExpression(), scope);
    if (typeof k !== "string" && typeof k !== "number") ev.fail("DLC1006", `a property key must be a string or a number, got ${typeName(k)}`, "compute keys from compile-time values", node);
    return String(k);
  }
  return ev.unsupported(node);
}
