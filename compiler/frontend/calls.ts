// Functions and calls. A function expression evaluates to a Closure over its
// scope; a call of a closure is inlined: its body is evaluated in a new scope
// bound to the arguments, so a model's helper functions leave no trace in the
// IR but the nodes they build. A call of a Builtin (the dlc library, Math,
// array methods) runs in the compiler. Calls nest at most LIMITS.callDepth
// deep, and each call adds a frame that errors inside it name ("called from").
// `new` makes only Error objects, for `throw`.

import { Node as Ast, SyntaxKind, type CallExpression } from "ts-morph";
import type { Evaluator, ExpressionRule, Rules } from "./evaluator.js";
import { spread } from "./literals.js";
import { Scope } from "./scope.js";
import { Builtin, Closure, ObjectValue, Opaque, text, typeName, type CallSite, type FunctionNode, type Value } from "./values.js";

const closure: ExpressionRule = (ev, e, scope) => {
  const fn = e as FunctionNode;
  if (fn.isAsync()) ev.unsupported(fn);
  const name = Ast.isFunctionExpression(fn) ? (fn.getName() ?? "anonymous") : nameFromContext(fn);
  return new Closure(fn, scope, name);
};

export const callRules: Rules<ExpressionRule> = {
  [SyntaxKind.CallExpression]: (ev, e, scope) => call(ev, e.asKindOrThrow(SyntaxKind.CallExpression), scope),
  [SyntaxKind.NewExpression]: (ev, e, scope) => {
    const ne = e.asKindOrThrow(SyntaxKind.NewExpression);
    const ctor = ne.getExpression().getText();
    if (ctor === "Error" || ctor === "RangeError" || ctor === "TypeError") {
      const arg = ne.getArguments()[0];
      const v = arg ? ev.expr(arg, scope) : "";
      return ObjectValue.of({ message: ev.charge(ne, () => text(v, "this message")) }, "error");
    }
    return ev.unsupported(ne);
  },
  [SyntaxKind.ArrowFunction]: closure,
  [SyntaxKind.FunctionExpression]: closure,
};

/** Arguments of one call: builtins pass them on to JavaScript functions, whose own limit is lower than the budget's. */
const MAX_ARGUMENTS = 10_000;

function call(ev: Evaluator, c: CallExpression, scope: Scope): Value {
  ev.tick(c);
  const callee = c.getExpression();
  const fn = ev.expr(callee, scope);
  if ((fn === undefined || fn === null) && c.hasQuestionDotToken()) return undefined;
  const args: Value[] = [];
  for (const a of c.getArguments()) {
    if (!Ast.isSpreadElement(a)) args.push(ev.expr(a, scope));
    else {
      const items = spread(ev, a.getExpression(), scope);
      if (args.length + items.length > MAX_ARGUMENTS) {
        ev.fail("DLC3007", `this call would pass ${args.length + items.length} arguments; dlc allows at most ${MAX_ARGUMENTS}`, "pass the array itself rather than spreading it", a);
      }
      for (const x of items) args.push(x);
    }
  }
  return apply(ev, fn, args, c, callee.getText());
}

/** Calls a function value: a builtin runs in the compiler, a closure is inlined. */
export function apply(ev: Evaluator, fn: Value, args: Value[], site: Ast, calleeText = "this value"): Value {
  if (fn instanceof Builtin) {
    const callSite: CallSite = { node: site, call: (f, a) => apply(ev, f, a, site), budget: ev.budget };
    return ev.at(site, () => fn.impl(args, callSite));
  }
  if (fn instanceof Closure) return inline(ev, fn, args, site);
  if (fn instanceof Opaque) ev.opaque(fn, site);
  return ev.fail("DLC1006", `'${calleeText}' is not a function (it is ${typeName(fn)})`, "call a function declared in the model or imported from \"dlc\"", site);
}

function inline(ev: Evaluator, fn: Closure, args: Value[], site: Ast): Value {
  ev.checkCallDepth(fn.name, site);
  const decl = fn.decl;
  if (Ast.isFunctionDeclaration(decl) || Ast.isFunctionExpression(decl)) {
    if (decl.isGenerator()) ev.unsupported(decl);
    if (decl.isAsync()) ev.unsupported(decl);
  }
  const scope = new Scope(fn.scope);
  return ev.inFrame(fn.name, site, () => {
    decl.getParameters().forEach((p, i) => {
      let v: Value = p.isRestParameter() ? args.slice(i) : args[i];
      const init = p.getInitializer();
      if (v === undefined && init) v = ev.expr(init, scope);
      ev.bindPattern(p.getNameNode(), v, scope, true);
    });
    const body = decl.getBody();
    if (!body) return undefined;
    if (Ast.isBlock(body)) {
      const c = ev.block(body.getStatements(), scope);
      if (c && c.kind === "return") return c.value;
      return undefined;
    }
    return ev.expr(body, scope);
  });
}

/** The name a function expression gets from `const name = () => ...` or `{ name: () => ... }`. */
function nameFromContext(fn: Ast): string {
  const parent = fn.getParent();
  if (parent && (Ast.isVariableDeclaration(parent) || Ast.isPropertyAssignment(parent))) return parent.getName();
  return "anonymous";
}
