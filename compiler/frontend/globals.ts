// The JavaScript globals a model can use at compile time: Math (whose
// exp/log/sqrt/tanh/abs/sign/max/min/pow also take tensors), Number, Array,
// Object, String, Infinity and NaN. Nothing that touches the outside world.

import { ELEMENTWISE, UNARY_OPS, type UnaryOp } from "../../runtime/program/elementwise.js";
import { binaryOp, unaryOp, type Operand } from "../ops/composite.js";
import { BuiltinError } from "./evaluator.js";
import { Scope } from "./scope.js";
import { Builtin, ObjectValue, TensorValue, text, typeName, type CallSite, type Value } from "./values.js";

/** `Math.f(tensor)`: the unary ops the op table gives a Math spelling. */
const TENSOR_UNARY = new Map<string, UnaryOp>(
  UNARY_OPS.flatMap((op) => {
    const name = ELEMENTWISE[op].names?.math;
    return name ? [[name, op] as const] : [];
  }),
);
const ON_TENSORS = [...TENSOR_UNARY.keys(), "max", "min", "pow"];

function operand(v: Value, name: string): Operand {
  if (v instanceof TensorValue) return v.node;
  if (typeof v === "number") return v;
  throw new BuiltinError("DLC1006", `${name} needs numbers or tensors, got ${typeName(v)}`, "pass a number or a tensor");
}

function mathFunction(name: string, f: (...xs: number[]) => number): Builtin {
  return new Builtin(`Math.${name}`, (args) => {
    if (!args.some((a) => a instanceof TensorValue)) {
      for (const a of args) if (typeof a !== "number") throw new BuiltinError("DLC1006", `Math.${name} needs numbers, got ${typeName(a)}`, "pass compile-time numbers");
      return f(...(args as number[]));
    }
    const unary = TENSOR_UNARY.get(name);
    if (unary) return new TensorValue(unaryOp(unary, operand(args[0], `Math.${name}`)));
    if (name === "max" || name === "min" || name === "pow") {
      if (args.length < 2) throw new BuiltinError("DLC1006", `Math.${name} on a tensor needs at least two arguments`, name === "pow" ? "Math.pow(x, y)" : `Math.${name}(x, 0)`);
      const op = name === "max" ? "maximum" : name === "min" ? "minimum" : "pow";
      let acc = operand(args[0], `Math.${name}`);
      for (const a of args.slice(1)) acc = binaryOp(op, acc, operand(a, `Math.${name}`));
      return new TensorValue(acc as never);
    }
    throw new BuiltinError("DLC1006", `Math.${name} is not defined on tensors`, `on tensors dlc supports Math.${ON_TENSORS.slice(0, -1).join(", ")} and ${ON_TENSORS.at(-1)}`);
  });
}

function makeMath(): ObjectValue {
  const m = new ObjectValue("Math");
  for (const k of ["E", "LN10", "LN2", "LOG10E", "LOG2E", "PI", "SQRT1_2", "SQRT2"] as const) m.props.set(k, Math[k]);
  const fns = [
    "abs", "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil", "cos", "cosh", "exp", "expm1", "floor", "fround",
    "hypot", "log", "log10", "log1p", "log2", "max", "min", "pow", "round", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
  ] as const;
  for (const k of fns) m.props.set(k, mathFunction(k, Math[k] as (...xs: number[]) => number));
  return m;
}

function arrayFrom(args: Value[], site: CallSite): Value {
  const [src, f] = args;
  let items: Value[];
  if (Array.isArray(src)) items = [...src];
  else if (typeof src === "string") items = [...src];
  else if (src instanceof ObjectValue && typeof src.props.get("length") === "number") {
    const length = src.props.get("length") as number;
    if (!Number.isInteger(length) || length < 0) throw new BuiltinError("DLC1006", `Array.from needs a non-negative integer length, got ${length}`, "Array.from({ length: 3 }, (_, i) => i)");
    site.budget.array(length, "Array.from");
    items = Array.from({ length }, () => undefined);
  } else throw new BuiltinError("DLC1006", `Array.from needs an array or { length: n }, got ${typeName(src)}`, "Array.from({ length: 3 }, (_, i) => i)");
  if (!(src instanceof ObjectValue)) site.budget.array(items.length, "Array.from");
  return f === undefined ? items : items.map((x, i) => site.call(f, [x, i]));
}

function objectOf(v: Value, name: string): ObjectValue {
  if (!(v instanceof ObjectValue)) throw new BuiltinError("DLC1006", `${name} needs an object, got ${typeName(v)}`, "pass a compile-time object");
  return v;
}

export function makeGlobals(): Scope {
  const g = new Scope();
  g.declare("Math", makeMath(), false);
  g.declare("Infinity", Infinity, false);
  g.declare("NaN", NaN, false);
  g.declare(
    "Number",
    ObjectValue.of(
      {
        isInteger: new Builtin("Number.isInteger", ([x]) => Number.isInteger(x)),
        isFinite: new Builtin("Number.isFinite", ([x]) => Number.isFinite(x)),
        MAX_SAFE_INTEGER: Number.MAX_SAFE_INTEGER,
        EPSILON: Number.EPSILON,
      },
      "Number",
    ),
    false,
  );
  g.declare(
    "Array",
    ObjectValue.of({ from: new Builtin("Array.from", arrayFrom), isArray: new Builtin("Array.isArray", ([x]) => Array.isArray(x)) }, "Array"),
    false,
  );
  g.declare(
    "Object",
    ObjectValue.of(
      {
        keys: new Builtin("Object.keys", ([o], site) => {
          site.budget.array(objectOf(o, "Object.keys").props.size, "Object.keys");
          return [...(o as ObjectValue).props.keys()];
        }),
        values: new Builtin("Object.values", ([o], site) => {
          site.budget.array(objectOf(o, "Object.values").props.size, "Object.values");
          return [...(o as ObjectValue).props.values()];
        }),
        entries: new Builtin("Object.entries", ([o], site) => {
          site.budget.array(3 * objectOf(o, "Object.entries").props.size, "Object.entries");
          return [...(o as ObjectValue).props].map(([k, v]) => [k, v]);
        }),
        fromEntries: new Builtin("Object.fromEntries", ([pairs], site) => {
          site.budget.object(Array.isArray(pairs) ? pairs.length : 0, "Object.fromEntries");
          const out = new ObjectValue();
          for (const p of Array.isArray(pairs) ? pairs : []) if (Array.isArray(p)) out.props.set(String(p[0]), p[1]);
          return out;
        }),
      },
      "Object",
    ),
    false,
  );
  g.declare(
    "String",
    new Builtin("String", ([x], site) => {
      if (x instanceof TensorValue) throw new BuiltinError("DLC3004", "a tensor has no compile-time string", "its value exists only at run time");
      const s = text(x, "String");
      site.budget.string(s.length, "String");
      return s;
    }),
    false,
  );
  return g;
}
