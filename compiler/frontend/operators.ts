// JavaScript operators over compile-time values, lifted to tensors.
//
// On numbers, strings and booleans an operator means what it means in
// JavaScript. When either side is a tensor, arithmetic becomes the
// broadcasting primitive and a comparison becomes an i32 mask: the model's
// types say `boolean`, so a mask can only reach a condition, where the
// evaluator reports data-dependent control flow.

import type { BinaryOp } from "../../runtime/program/ops.js";
import { binaryOp, unaryOp, type Operand } from "../ops/composite.js";
import { TensorValue, typeName, type Value } from "./values.js";

const ARITHMETIC: Record<string, BinaryOp> = { "+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow" };

export class OperatorError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

function operand(v: Value, op: string): Operand {
  if (v instanceof TensorValue) return v.node;
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  throw new OperatorError(`'${op}' cannot combine a tensor with ${typeName(v)}`, "tensor operators take tensors and numbers");
}

function tensorBinary(op: string, a: Value, b: Value): Value {
  const x = operand(a, op);
  const y = operand(b, op);
  const arithmetic = ARITHMETIC[op];
  if (arithmetic) return new TensorValue(binaryOp(arithmetic, x, y));
  const mask = (p: BinaryOp, l: Operand, r: Operand) => binaryOp(p, l, r);
  const not = (m: Operand) => binaryOp("sub", 1, m);
  switch (op) {
    case ">": return new TensorValue(mask("greater", x, y));
    case "<": return new TensorValue(mask("less", x, y));
    case ">=": return new TensorValue(not(mask("less", x, y)));
    case "<=": return new TensorValue(not(mask("greater", x, y)));
    case "==": case "===": return new TensorValue(mask("equal", x, y));
    case "!=": case "!==": return new TensorValue(not(mask("equal", x, y)));
  }
  throw new OperatorError(`operator '${op}' is not defined on tensors`, "tensors support + - * / ** and comparisons; see the dlc ops for the rest");
}

export function applyBinary(op: string, a: Value, b: Value): Value {
  if (a instanceof TensorValue || b instanceof TensorValue) return tensorBinary(op, a, b);
  const prim = (v: Value): v is number | string | boolean | undefined | null =>
    v === null || v === undefined || typeof v === "number" || typeof v === "string" || typeof v === "boolean";
  switch (op) {
    case "===": return a === b;
    case "!==": return a !== b;
    case "==": return prim(a) && prim(b) ? a == b : a === b;
    case "!=": return prim(a) && prim(b) ? a != b : a !== b;
  }
  if (op === "+" && (typeof a === "string" || typeof b === "string")) {
    if (!prim(a) || !prim(b)) throw new OperatorError(`'+' cannot join a string and ${typeName(prim(a) ? b : a)}`, "use a template literal with compile-time values");
    return String(a) + String(b);
  }
  if (!prim(a) || !prim(b)) throw new OperatorError(`operator '${op}' is not defined on ${typeName(prim(a) ? b : a)}`, "compile-time arithmetic works on numbers, strings and booleans");
  const x = a as number;
  const y = b as number;
  switch (op) {
    case "+": return x + y;
    case "-": return x - y;
    case "*": return x * y;
    case "/": return x / y;
    case "%": return x % y;
    case "**": return x ** y;
    case "<": return x < y;
    case ">": return x > y;
    case "<=": return x <= y;
    case ">=": return x >= y;
    case "&": return x & y;
    case "|": return x | y;
    case "^": return x ^ y;
    case "<<": return x << y;
    case ">>": return x >> y;
    case ">>>": return x >>> y;
  }
  throw new OperatorError(`operator '${op}' is not supported`, "see the dlc language reference in README.md");
}

export function applyUnary(op: "-" | "+" | "~", v: Value): Value {
  if (v instanceof TensorValue) {
    if (op === "-") return new TensorValue(unaryOp("neg", v.node));
    if (op === "+") return v;
    throw new OperatorError(`operator '${op}' is not defined on tensors`, "tensors support unary - and +");
  }
  if (typeof v !== "number" && typeof v !== "boolean" && typeof v !== "string" && v !== null && v !== undefined) {
    throw new OperatorError(`operator '${op}' is not defined on ${typeName(v)}`, "compile-time arithmetic works on numbers");
  }
  const x = v as number;
  return op === "-" ? -x : op === "+" ? +x : ~x;
}
