// Compile-time values of the partial evaluator.
//
// Everything a model computes before run time is an ordinary value here
// (numbers, strings, arrays, objects, closures); what it computes at run time is
// a TensorValue, a handle on an IR node. Arrays are JS arrays of values; objects
// are maps, so that no key of a model's object can reach a JS prototype.

import type { ArrowFunction, FunctionDeclaration, FunctionExpression, MethodDeclaration, Node as AstNode } from "ts-morph";
import type { Node } from "../ir/node.js";
import { checkSize, type Budget } from "./budget.js";
import { BuiltinError } from "./diagnostics.js";
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
  /** What the compilation may still create: builtins ask before making a string or an array. */
  readonly budget: Budget;
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

/** A short rendering of a compile-time value for messages: bounded in length and depth, and safe on cycles. */
export function show(v: Value): string {
  const out = showIn(v, new Set(), 0);
  return out.length > SHOW_CHARS ? `${out.slice(0, SHOW_CHARS)}… (${out.length} characters)` : out;
}

const SHOW_CHARS = 200;
const SHOW_ITEMS = 16;
const SHOW_DEPTH = 4;

function showIn(v: Value, open: Set<Value>, depth: number): string {
  if (typeof v === "string") return JSON.stringify(v.length > SHOW_CHARS ? v.slice(0, SHOW_CHARS) : v) + (v.length > SHOW_CHARS ? `… (${v.length} characters)` : "");
  if (Array.isArray(v) || v instanceof ObjectValue) {
    if (open.has(v)) return "[circular]";
    if (depth >= SHOW_DEPTH) return Array.isArray(v) ? "[…]" : "{ … }";
    open.add(v);
    const entries: [string, Value][] = Array.isArray(v) ? v.slice(0, SHOW_ITEMS).map((x) => ["", x]) : [...v.props].slice(0, SHOW_ITEMS);
    const size = Array.isArray(v) ? v.length : v.props.size;
    const items = entries.map(([k, x]) => (k ? `${k}: ` : "") + showIn(x, open, depth + 1));
    if (size > SHOW_ITEMS) items.push(`… ${size - SHOW_ITEMS} more`);
    open.delete(v);
    return Array.isArray(v) ? `[${items.join(", ")}]` : `{ ${items.join(", ")} }`;
  }
  if (v instanceof TensorValue || v instanceof Closure || v instanceof Builtin || v instanceof Opaque) return typeName(v);
  return String(v);
}

/**
 * JavaScript's String(v) on a compile-time value, as templates, String() and
 * join use it: an array is its elements joined by commas (null and undefined
 * as "", an array that contains itself as ""; `separator` between the
 * elements of `v` itself, for join), other objects are their type names. A string longer than the budget allows, or arrays nested too deep to
 * walk, are refused while it is built; the caller charges the result.
 */
export function text(v: Value, what: string, separator = ","): string {
  const parts: string[] = [];
  let length = 0;
  const add = (s: string) => {
    length += s.length;
    checkSize(length, what, "string");
    parts.push(s);
  };
  const open = new Set<Value[]>();
  const visit = (x: Value, depth: number, inArray: boolean): void => {
    if (Array.isArray(x)) {
      if (open.has(x)) return;
      if (depth >= TEXT_DEPTH) throw new BuiltinError("DLC3007", `${what} meets arrays nested more than ${TEXT_DEPTH} deep`, "flatten the array before making a string of it");
      open.add(x);
      x.forEach((el, i) => {
        if (i > 0) add(depth === 0 ? separator : ",");
        visit(el, depth + 1, true);
      });
      open.delete(x);
    } else if (inArray && (x === null || x === undefined)) return;
    else if (typeof x === "object" && x !== null) add(typeName(x));
    else add(String(x));
  };
  visit(v, 0, false);
  return parts.join("");
}

const TEXT_DEPTH = 100;
