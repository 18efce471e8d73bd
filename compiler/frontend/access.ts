// Property and element access: `obj.key`, `obj[key]` and their `?.` forms.
// Model objects are maps and arrays are arrays of values; arrays, strings and
// numbers also have the standard members of methods.ts. A key must be known
// at compile time, and a tensor has no properties to read: its values exist
// only at run time.

import { SyntaxKind, type Node as Ast } from "ts-morph";
import type { Evaluator, ExpressionRule, Rules } from "./evaluator.js";
import type { Scope } from "./scope.js";
import { memberOf } from "./methods.js";
import { ObjectValue, Opaque, TensorValue, typeName, type Value } from "./values.js";

export const accessRules: Rules<ExpressionRule> = {
  [SyntaxKind.PropertyAccessExpression]: (ev, e, scope) => {
    const pa = e.asKindOrThrow(SyntaxKind.PropertyAccessExpression);
    const obj = ev.expr(pa.getExpression(), scope);
    if ((obj === undefined || obj === null) && pa.hasQuestionDotToken()) return undefined;
    return member(ev, obj, pa.getName(), pa);
  },
  [SyntaxKind.ElementAccessExpression]: elementAccess,
};

function elementAccess(ev: Evaluator, e: Ast, scope: Scope): Value {
  const ea = e.asKindOrThrow(SyntaxKind.ElementAccessExpression);
  const obj = ev.expr(ea.getExpression(), scope);
  if ((obj === undefined || obj === null) && ea.hasQuestionDotToken()) return undefined;
  const key = ev.expr(ea.getArgumentExpressionOrThrow(), scope);
  if (key instanceof TensorValue) {
    ev.fail("DLC3004", "an index must be known at compile time, not a tensor", "use oneHot or a mask to select by a run-time index", ea.getArgumentExpressionOrThrow());
  }
  if (typeof key !== "string" && typeof key !== "number") ev.fail("DLC1006", `cannot index with ${typeName(key)}`, "index with a number or a string", ea);
  return member(ev, obj, key, ea);
}

/** obj.key for every kind of value: objects, arrays, strings, builtin namespaces. */
export function member(ev: Evaluator, obj: Value, key: string | number, node: Ast): Value {
  if (obj instanceof Opaque) ev.opaque(obj, node);
  if (obj === undefined || obj === null) ev.fail("DLC1006", `cannot read '${key}' of ${obj}`, "the value is missing at compile time; check the name or the index", node);
  if (obj instanceof ObjectValue) return obj.props.get(String(key));
  if (obj instanceof TensorValue) {
    ev.fail("DLC1006", `tensors have no property '${key}' at compile time`, "use dlc ops on tensors; their values exist only at run time", node);
  }
  const m = memberOf(obj, key);
  if (m === "missing") ev.fail("DLC1006", `${typeName(obj)} has no property '${key}'`, "dlc supports the common array and string members; see README.md", node);
  return m;
}
