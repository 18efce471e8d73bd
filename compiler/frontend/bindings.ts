// Names: reading an identifier, declaring the names of a binding pattern
// (`const { a, b: [c] } = ...`, parameters, loop variables) and assigning to
// identifiers, properties, elements and destructuring targets. Scopes hold
// the bindings (scope.ts); here are the rules for what may be read and
// written: no use before declaration, no assignment to a const, and only
// compile-time arrays and objects may be modified.

import { Node as Ast, SyntaxKind, type BindingElement, type Expression } from "ts-morph";
import type { Evaluator, ExpressionRule, Rules } from "./evaluator.js";
import { propertyKey } from "./literals.js";
import type { Scope } from "./scope.js";
import { ObjectValue, Opaque, show, typeName, type Value } from "./values.js";

/** A name read as a value; reading it before its declaration is an error (the temporal dead zone). */
function identifier(ev: Evaluator, e: Ast, scope: Scope): Value {
  const name = e.getText();
  const b = scope.lookup(name);
  if (!b) {
    if (name === "undefined") return undefined;
    ev.unknownName(e, scope);
  }
  if (!b.initialized) ev.fail("DLC1002", `'${name}' is used before its declaration`, "move the declaration above this use", e);
  return b.value;
}

export const bindingRules: Rules<ExpressionRule> = {
  [SyntaxKind.Identifier]: identifier,
};

/** The identifiers a binding pattern declares. */
export function bindingNames(name: Ast): string[] {
  if (Ast.isIdentifier(name)) return [name.getText()];
  if (Ast.isObjectBindingPattern(name) || Ast.isArrayBindingPattern(name)) {
    return name.getElements().flatMap((el) => (Ast.isOmittedExpression(el) ? [] : bindingNames(el.getNameNode())));
  }
  return [];
}

/** Binds the names of a declaration's pattern to `value` (and its parts) in `scope`. */
export function bindPattern(ev: Evaluator, name: Ast, value: Value, scope: Scope, mutable: boolean): void {
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
    if (!(value instanceof ObjectValue)) ev.fail("DLC1006", `cannot destructure ${typeName(value)} as an object`, "destructure a compile-time object", name);
    const used = new Set<string>();
    for (const el of name.getElements()) {
      if (el.getDotDotDotToken()) {
        const rest = new ObjectValue();
        for (const [k, v] of value.props) if (!used.has(k)) rest.props.set(k, v);
        bindPattern(ev, el.getNameNode(), rest, scope, mutable);
        continue;
      }
      const key = propertyKey(ev, el.getPropertyNameNode() ?? el.getNameNode(), scope);
      used.add(key);
      bindPattern(ev, el.getNameNode(), withDefault(ev, value.props.get(key), el, scope), scope, mutable);
    }
    return;
  }
  if (Ast.isArrayBindingPattern(name)) {
    if (!Array.isArray(value)) ev.fail("DLC1006", `cannot destructure ${typeName(value)} as an array`, "destructure a compile-time array", name);
    name.getElements().forEach((el, i) => {
      if (Ast.isOmittedExpression(el)) return;
      if (el.getDotDotDotToken()) bindPattern(ev, el.getNameNode(), value.slice(i), scope, mutable);
      else bindPattern(ev, el.getNameNode(), withDefault(ev, value[i], el, scope), scope, mutable);
    });
    return;
  }
  ev.unsupported(name);
}

function withDefault(ev: Evaluator, v: Value, el: BindingElement, scope: Scope): Value {
  const init = el.getInitializer();
  return v === undefined && init ? ev.expr(init, scope) : v;
}

/** Assigns to an identifier, a property, an element or a destructuring pattern. */
export function assign(ev: Evaluator, target: Expression, value: Value, scope: Scope): void {
  if (Ast.isParenthesizedExpression(target) || Ast.isNonNullExpression(target) || Ast.isAsExpression(target)) {
    return assign(ev, target.getExpression(), value, scope);
  }
  if (Ast.isIdentifier(target)) {
    const name = target.getText();
    const b = scope.lookup(name);
    if (!b) ev.unknownName(target, scope);
    if (!b.mutable && b.initialized) ev.fail("DLC1006", `cannot assign to '${name}' because it is a constant`, "declare it with let", target);
    b.value = value;
    b.initialized = true;
    return;
  }
  if (Ast.isPropertyAccessExpression(target) || Ast.isElementAccessExpression(target)) {
    const obj = ev.expr(target.getExpression(), scope);
    const key = Ast.isPropertyAccessExpression(target) ? target.getName() : ev.expr(target.getArgumentExpressionOrThrow(), scope);
    if (Array.isArray(obj)) {
      if (typeof key !== "number" || !Number.isInteger(key) || key < 0) ev.fail("DLC1006", `array index must be a non-negative integer, got ${show(key)}`, "index arrays with compile-time integers", target);
      if (key >= obj.length) ev.charge(target, (b) => b.array(key + 1, "this assignment", key + 1 - obj.length));
      obj[key] = value;
      return;
    }
    if (obj instanceof ObjectValue && !obj.tag && (typeof key === "string" || typeof key === "number")) {
      if (!obj.props.has(String(key))) ev.charge(target, (b) => b.object(obj.props.size + 1, "this assignment", 1));
      obj.props.set(String(key), value);
      return;
    }
    if (obj instanceof Opaque) ev.opaque(obj, target);
    ev.fail("DLC1006", `cannot set a property on ${typeName(obj)}`, "only compile-time arrays and objects can be modified", target);
  }
  if (Ast.isArrayLiteralExpression(target)) {
    if (!Array.isArray(value)) ev.fail("DLC1006", `cannot destructure ${typeName(value)} as an array`, "destructure a compile-time array", target);
    target.getElements().forEach((el, i) => {
      if (Ast.isOmittedExpression(el)) return;
      if (Ast.isSpreadElement(el)) assign(ev, el.getExpression(), value.slice(i), scope);
      else assign(ev, el, value[i], scope);
    });
    return;
  }
  if (Ast.isObjectLiteralExpression(target)) {
    if (!(value instanceof ObjectValue)) ev.fail("DLC1006", `cannot destructure ${typeName(value)} as an object`, "destructure a compile-time object", target);
    for (const p of target.getProperties()) {
      if (Ast.isShorthandPropertyAssignment(p)) assign(ev, p.getNameNode(), value.props.get(p.getName()), scope);
      else if (Ast.isPropertyAssignment(p)) assign(ev, p.getInitializerOrThrow(), value.props.get(propertyKey(ev, p.getNameNode(), scope)), scope);
      else ev.unsupported(p);
    }
    return;
  }
  ev.unsupported(target);
}
