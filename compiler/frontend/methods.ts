// Members of compile-time arrays, strings and numbers: the parts of the
// JavaScript standard library that model code uses to build layer lists,
// names and shapes. Callbacks are model functions, inlined by the evaluator.
// Every member that makes or grows a string or an array asks the budget
// (budget.ts) with the size first, so that no model can exhaust the heap.

import { BuiltinError } from "./diagnostics.js";
import { Builtin, TensorValue, text, typeName, type CallSite, type Value } from "./values.js";

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

/** A count for repeat and padStart: a non-negative integer. */
function count(v: Value, name: string): number {
  const n = num(v, name);
  if (!Number.isInteger(n) || n < 0) throw new BuiltinError("DLC1006", `${name} needs a non-negative integer, got ${n}`, "pass a compile-time count");
  return n;
}

/** A string argument, as JavaScript would convert it. */
const str = (v: Value, s: CallSite, name: string) => {
  const t = text(v, name);
  s.budget.string(t.length, name);
  return t;
};

/** Charges a made array or string after the fact: for results no larger than their inputs. */
function made<T extends Value[] | string>(v: T, s: CallSite, name: string): T {
  if (typeof v === "string") s.budget.string(v.length, name);
  else s.budget.array(v.length, name);
  return v;
}

const ARRAY: Record<string, Method<Value[]>> = {
  map: (a, [f], s) => {
    s.budget.array(a.length, "map");
    return a.map((x, i) => fn(s, f, "map")(x, i, a));
  },
  forEach: (a, [f], s) => {
    a.forEach((x, i) => fn(s, f, "forEach")(x, i, a));
    return undefined;
  },
  filter: (a, [f], s) => made(a.filter((x, i) => truth(fn(s, f, "filter")(x, i, a))), s, "filter"),
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
  push: (a, args, s) => {
    s.budget.array(a.length + args.length, "push", args.length);
    return a.push(...args);
  },
  pop: (a) => a.pop(),
  shift: (a) => a.shift(),
  unshift: (a, args, s) => {
    s.budget.array(a.length + args.length, "unshift", args.length);
    return a.unshift(...args);
  },
  slice: (a, [b, e], s) => made(a.slice(b as number | undefined, e as number | undefined), s, "slice"),
  concat: (a, args, s) => {
    const parts = args.map((x) => (Array.isArray(x) ? x : [x]));
    s.budget.array(parts.reduce((n, p) => n + p.length, a.length), "concat");
    return a.concat(...parts);
  },
  includes: (a, [x]) => a.includes(x),
  indexOf: (a, [x]) => a.indexOf(x),
  join: (a, [sep], s) => made(text(a, "join", sep === undefined ? "," : str(sep, s, "join")), s, "join"),
  reverse: (a) => a.reverse(),
  at: (a, [i]) => a.at(num(i, "at")),
  fill: (a, [v, b, e]) => a.fill(v, b as number | undefined, e as number | undefined),
  flat: (a, _, s) => {
    s.budget.array(a.reduce<number>((n, x) => n + (Array.isArray(x) ? x.length : 1), 0), "flat");
    return a.flat() as Value[];
  },
  keys: (a, _, s) => made([...a.keys()], s, "keys"),
  entries: (a, _, s) => {
    s.budget.array(3 * a.length, "entries");
    return a.map((x, i) => [i, x]);
  },
};

const STRING: Record<string, Method<string>> = {
  toUpperCase: (s, _, site) => made(s.toUpperCase(), site, "toUpperCase"),
  toLowerCase: (s, _, site) => made(s.toLowerCase(), site, "toLowerCase"),
  slice: (s, [b, e], site) => made(s.slice(b as number | undefined, e as number | undefined), site, "slice"),
  includes: (s, [x]) => s.includes(String(x)),
  startsWith: (s, [x]) => s.startsWith(String(x)),
  endsWith: (s, [x]) => s.endsWith(String(x)),
  split: (s, [sep], site) => made(s.split(String(sep)), site, "split"),
  padStart: (s, [n, f], site) => {
    site.budget.string(Math.max(s.length, count(n, "padStart")), "padStart");
    return s.padStart(n as number, f === undefined ? " " : str(f, site, "padStart"));
  },
  padEnd: (s, [n, f], site) => {
    site.budget.string(Math.max(s.length, count(n, "padEnd")), "padEnd");
    return s.padEnd(n as number, f === undefined ? " " : str(f, site, "padEnd"));
  },
  repeat: (s, [n], site) => {
    site.budget.string(s.length * count(n, "repeat"), "repeat");
    return s.repeat(n as number);
  },
  trim: (s) => s.trim(),
  indexOf: (s, [x]) => s.indexOf(String(x)),
  concat: (s, args, site) => {
    const parts = args.map((x) => text(x, "concat"));
    site.budget.string(parts.reduce((n, p) => n + p.length, s.length), "concat");
    return s.concat(...parts);
  },
  replace: (s, [a, b], site) => made(s.replace(String(a), str(b, site, "replace")), site, "replace"),
  replaceAll: (s, [a, b], site) => {
    const from = String(a);
    const to = str(b, site, "replaceAll");
    const times = from === "" ? s.length + 1 : s.split(from).length - 1;
    site.budget.string(s.length + times * (to.length - from.length), "replaceAll");
    return s.replaceAll(from, to);
  },
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
