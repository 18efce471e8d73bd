// Compile-time values of the partial evaluator.
//
// Everything a model computes before run time is an ordinary value here
// (numbers, strings, arrays, objects, closures); what it computes at run time is
// a TensorValue, a handle on an IR node. Arrays are JS arrays of values; objects
// are maps, so that no key of a model's object can reach a JS prototype.

import type { ArrowFunction, FunctionDeclaration, FunctionExpression, MethodDeclaration, Node as AstNode } from "ts-morph";
import type { Node } from "../ir/node.js";
import type { Scope } from "./scope.js";

export type Value = number | string | boolean | undefined | null | Value[] | ObjectValue | Closure | Builtin | TensorValue | Opaque;

export class TensorValue {
  constructor(readonly node: Node) {}
}

export class ObjectValue {
  readonly props = new Map<string, Value>();
  /** Set on objects that only a dlc function can make (optimizers), naming the kind. */
  constructor(readonly tag?: string) {}
  static of(entries: Record<string, Value>, tag?: string): ObjectValue {
    const o = new ObjectValue(tag);
    for (const [k, v] of Object.entries(entries)) o.props.set(k, v);
    return o;
  }
}

export type FunctionNode = FunctionDeclaration | FunctionExpression | ArrowFunction | MethodDeclaration;

/** A function of the model, closed over the scope it was declared in. */
export class Closure {
  constructor(
    readonly decl: FunctionNode,
    readonly scope: Scope,
    readonly name: string,
  ) {}
}

/** Where a builtin is called from, so that its errors and nodes point there. */
export interface CallSite {
  readonly node: AstNode;
  /** Calls a model function (for callbacks such as Array.prototype.map). */
  readonly call: (fn: Value, args: Value[]) => Value;
}

/** A function implemented by the compiler: the dlc library, Math, array methods. */
export class Builtin {
  constructor(
    readonly name: string,
    readonly impl: (args: Value[], site: CallSite) => Value,
  ) {}
}

/** A binding from a module that only exists at run time (node:fs, npm packages): never usable. */
export class Opaque {
  constructor(
    readonly name: string,
    readonly module: string,
  ) {}
}

export function typeName(v: Value): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (v instanceof TensorValue) return `tensor ${v.node.dtype}[${v.node.shape.join(", ")}]`;
  if (v instanceof ObjectValue) return v.tag ?? "object";
  if (v instanceof Closure || v instanceof Builtin) return "function";
  if (v instanceof Opaque) return `'${v.name}' from '${v.module}'`;
  return typeof v;
}

export function isFunction(v: Value): v is Closure | Builtin {
  return v instanceof Closure || v instanceof Builtin;
}

/** A short rendering of a compile-time value for messages. */
export function show(v: Value): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
  if (v instanceof ObjectValue) return `{ ${[...v.props].map(([k, x]) => `${k}: ${show(x)}`).join(", ")} }`;
  if (v instanceof TensorValue || v instanceof Closure || v instanceof Builtin || v instanceof Opaque) return typeName(v);
  return String(v);
}
