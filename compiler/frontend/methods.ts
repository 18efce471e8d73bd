// Members of compile-time arrays, strings and numbers: the parts of the
// JavaScript standard library that model code uses to build layer lists,
// names and shapes. Callbacks are model functions, inlined by the evaluator.

import { BuiltinError } from "./diagnostics.js";
import { Builtin, TensorValue, typeName, type CallSite, type Value } from "./values.js";

type Method<T> = (self: T, args: Value[], site: CallSite) => Value;

function fn(site: CallSite, f: Value, name: string): (...args: Value[]) => Value {
  if (!(f instanceof Builtin) && !(typeof f === "object" && f !== null && "decl" in f)) {
    throw new BuiltinError("DLC1006", `${name} needs a function, got ${typeName(f)}`, "pass an arrow function");
  }
  return (...args) => site.call(f, args);
}

function num(v: Value, name: string): number {
  if (typeof v !== "number") throw new BuiltinError("DLC1006", `${name} needs a number, got ${typeName(v)}`, "pass a compile-time number");
  return v;
}

/** JavaScript truthiness of a callback's result, refusing tensors (they are decided at run time). */
function truth(v: Value): boolean {
  if (v instanceof TensorValue) throw new BuiltinError("DLC3001", "a callback's result depends on a tensor, whose value is only known at run time", "decide with compile-time values");
  return Boolean(v);
}

const ARRAY: Record<string, Method<Value[]>> = {
  map: (a, [f], s) => a.map((x, i) => fn(s, f, "map")(x, i, a)),
  forEach: (a, [f], s) => {
    a.forEach((x, i) => fn(s, f, "forEach")(x, i, a));
    return undefined;
  },
  filter: (a, [f], s) => a.filter((x, i) => truth(fn(s, f, "filter")(x, i, a))),
  find: (a, [f], s) => a.find((x, i) => truth(fn(s, f, "find")(x, i, a))),
  findIndex: (a, [f], s) => a.findIndex((x, i) => truth(fn(s, f, "findIndex")(x, i, a))),
  some: (a, [f], s) => a.some((x, i) => truth(fn(s, f, "some")(x, i, a))),
  every: (a, [f], s) => a.every((x, i) => truth(fn(s, f, "every")(x, i, a))),
  reduce: (a, args, s) => {
    const f = fn(s, args[0], "reduce");
    if (args.length < 2 && a.length === 0) throw new BuiltinError("DLC1006", "reduce of an empty array with no initial value", "pass an initial value");
    let acc = args.length >= 2 ? args[1] : a[0];
    for (let i = args.length >= 2 ? 0 : 1; i < a.length; i++) acc = f(acc, a[i], i, a);
    return acc;
  },
  push: (a, args) => a.push(...args),
  pop: (a) => a.pop(),
  shift: (a) => a.shift(),
  unshift: (a, args) => a.unshift(...args),
  slice: (a, [b, e]) => a.slice(b as number | undefined, e as number | undefined),
  concat: (a, args) => a.concat(...args.map((x) => (Array.isArray(x) ? x : [x]))),
  includes: (a, [x]) => a.includes(x),
  indexOf: (a, [x]) => a.indexOf(x),
  join: (a, [sep]) => a.map((x) => (typeof x === "object" && x !== null ? typeName(x) : String(x ?? ""))).join(sep === undefined ? "," : String(sep)),
  reverse: (a) => a.reverse(),
  at: (a, [i]) => a.at(num(i, "at")),
  fill: (a, [v, b, e]) => a.fill(v, b as number | undefined, e as number | undefined),
  flat: (a) => a.flat() as Value[],
  keys: (a) => [...a.keys()],
  entries: (a) => a.map((x, i) => [i, x]),
};

const STRING: Record<string, Method<string>> = {
  toUpperCase: (s) => s.toUpperCase(),
  toLowerCase: (s) => s.toLowerCase(),
  slice: (s, [b, e]) => s.slice(b as number | undefined, e as number | undefined),
  includes: (s, [x]) => s.includes(String(x)),
  startsWith: (s, [x]) => s.startsWith(String(x)),
  endsWith: (s, [x]) => s.endsWith(String(x)),
  split: (s, [sep]) => s.split(String(sep)),
  padStart: (s, [n, f]) => s.padStart(num(n, "padStart"), f === undefined ? " " : String(f)),
  padEnd: (s, [n, f]) => s.padEnd(num(n, "padEnd"), f === undefined ? " " : String(f)),
  repeat: (s, [n]) => s.repeat(num(n, "repeat")),
  trim: (s) => s.trim(),
  indexOf: (s, [x]) => s.indexOf(String(x)),
  concat: (s, args) => s.concat(...args.map(String)),
  replace: (s, [a, b]) => s.replace(String(a), String(b)),
  replaceAll: (s, [a, b]) => s.replaceAll(String(a), String(b)),
  at: (s, [i]) => s.at(num(i, "at")),
  charAt: (s, [i]) => s.charAt(num(i, "charAt")),
  toString: (s: string) => s,
};

const NUMBER: Record<string, Method<number>> = {
  toFixed: (n, [d]) => n.toFixed(d === undefined ? 0 : num(d, "toFixed")),
  toString: (n: number, [radix]: Value[]) => n.toString(radix === undefined ? 10 : num(radix, "toString")),
};

/** The member `key` of a compile-time array, string or number, or "missing". */
export function memberOf(obj: Value, key: string | number): Value | "missing" {
  if (Array.isArray(obj)) {
    if (typeof key === "number") return obj[key];
    if (key === "length") return obj.length;
    if (/^\d+$/.test(key)) return obj[Number(key)];
    const m = Object.hasOwn(ARRAY, key) ? ARRAY[key]! : undefined;
    return m ? new Builtin(`Array.prototype.${key}`, (args, site) => m(obj, args, site)) : "missing";
  }
  if (typeof obj === "string") {
    if (typeof key === "number") return obj[key];
    if (key === "length") return obj.length;
    const m = Object.hasOwn(STRING, key) ? STRING[key]! : undefined;
    return m ? new Builtin(`String.prototype.${key}`, (args, site) => m(obj, args, site)) : "missing";
  }
  if (typeof obj === "number" && typeof key === "string" && Object.hasOwn(NUMBER, key)) {
    const m = NUMBER[key]!;
    return new Builtin(`Number.prototype.${key}`, (args, site) => m(obj, args, site));
  }
  return "missing";
}
