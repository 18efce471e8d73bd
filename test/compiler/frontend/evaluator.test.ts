// The partial evaluator: compile-time JavaScript runs in the compiler, and only
// tensor operations reach the graph. Each test computes a number at compile
// time and reads it back from the constant it becomes.

import test from "ava";
import { graphNodes } from "../../../compiler/ir/graph.js";
import type { Program } from "../../../compiler/ir/program.js";
import { CompileError } from "../../../compiler/frontend/diagnostics.js";
import { LIMITS } from "../../../compiler/frontend/evaluator.js";
import { compileSource } from "../../helpers/compile.js";

/** Compiles `body` (statements computing `v`) into `x * v` and returns v. */
function valueOf(prelude: string, expr = "v"): unknown {
  const program = compileSource(`import { type Tensor } from "dlc";
${prelude}
export function f(x: Tensor<[1]>) { return x * (${expr}); }
`);
  const consts = graphNodes(program.entries[0]!).filter((n) => n.op === "const");
  return consts.length === 1 && consts[0]!.op === "const" ? consts[0]!.attrs.value : undefined;
}

const cases: [string, string, number][] = [
  ["arithmetic and precedence", "const v = 2 + 3 * 4 ** 2 - 10 / 4 % 3;", 2 + 3 * 4 ** 2 - ((10 / 4) % 3)],
  ["comparison, logic and ternary", "const v = (3 > 2 && !(1 >= 2)) || false ? 7 : 9;", 7],
  ["nullish coalescing and optional chaining", "const o: { a?: { b: number } } = {}; const v = o.a?.b ?? 5;", 5],
  ["template literals", "const s = `w${1 + 1}.${'b'}`; const v = s === 'w2.b' ? 1 : 0;", 1],
  ["array destructuring with rest and defaults", "const [a, b = 10, ...rest] = [1, undefined, 3, 4]; const v = a + b + rest.length * 100;", 211],
  ["object destructuring with rename, default and rest", "const { a: p, b = 2, ...others } = { a: 1, c: 3, d: 4 }; const v = p + b + Object.keys(others).length;", 5],
  ["spread into arrays and objects", "const base = { x: 1, y: 2 }; const o = { ...base, y: 5 }; const v = [...[1, 2], ...[3]].length + o.x + o.y;", 9],
  ["for loops with let give each iteration its own binding", "const fs: (() => number)[] = []; for (let i = 0; i < 3; i++) fs.push(() => i); const v = fs[0]!() + fs[1]!() * 10 + fs[2]!() * 100;", 210],
  ["for...of, continue and break", "let v = 0; for (const n of [1, 2, 3, 4, 5, 6]) { if (n === 2) continue; if (n === 5) break; v += n; }", 8],
  ["for...in over object keys", "let v = 0; for (const k in { a: 1, bb: 2 }) v += k.length;", 3],
  ["while and do...while", "let v = 0; let i = 0; while (i < 4) { v += i; i++; } do { v += 100; } while (false);", 106],
  ["labeled break out of nested loops", "let v = 0; outer: for (let i = 0; i < 5; i++) { for (let j = 0; j < 5; j++) { if (i * j === 6) break outer; v++; } }", 13],
  ["switch with fallthrough and default", "function g(k: string) { switch (k) { case 'a': case 'b': return 1; case 'c': return 2; default: return 3; } } const v = g('b') + g('c') * 10 + g('z') * 100;", 321],
  ["closures over compile-time values", "function counter() { let n = 0; return () => ++n; } const c = counter(); c(); c(); const v = c();", 3],
  ["default parameters see earlier parameters", "function g(a: number, b = a * 2) { return a + b; } const v = g(3);", 9],
  ["rest parameters", "function g(...xs: number[]) { return xs.length; } const v = g(1, 2, 3, 4);", 4],
  ["recursion that ends", "function fib(n: number): number { return n < 2 ? n : fib(n - 1) + fib(n - 2); } const v = fib(15);", 610],
  ["hoisted function declarations", "const v = later(); function later() { return 42; }", 42],
  ["array methods with callbacks", "const v = [1, 2, 3, 4].map((x) => x * x).filter((x) => x % 2 === 0).reduce((a, b) => a + b, 0);", 20],
  ["Array.from with a length", "const v = Array.from({ length: 5 }, (_, i) => i * 2).at(-1)!;", 8],
  ["Math on numbers", "const v = Math.max(...[3, 9, 2]) + Math.floor(Math.PI) + Math.sqrt(16);", 16],
  ["string methods", "const v = 'fc1.w'.split('.').length + 'ab'.padStart(4, '0').length + ('x'.repeat(3) === 'xxx' ? 1 : 0);", 7],
  ["compound assignment to properties and elements", "const o = { n: 1 }; const a = [1]; o.n += 4; a[0] *= 3; o.n++; const v = o.n + a[0]!;", 9],
];

for (const [what, prelude, expected] of cases) {
  test(`compile-time ${what}`, (t) => {
    t.is(valueOf(prelude), expected);
  });
}

test("typeof a tensor parameter is 'number', as TypeScript types it", (t) => {
  const program = compileSource(`import { type Tensor } from "dlc";
export function f(x: Tensor<[1]>) { return typeof x === "number" ? x * 3 : x; }
`);
  t.true(graphNodes(program.entries[0]!).some((n) => n.op === "const" && n.attrs.value === 3));
});

test("a loop over layer widths unrolls into one matmul per layer", (t) => {
  const program = compileSource(`import { type Tensor, param, matmul, relu } from "dlc";
const widths = [16, 8, 4, 2];
export function predict(x: Tensor<["batch", 32]>): Tensor<["batch", 2]> {
  let h = x;
  let n = 32;
  for (const [i, w] of widths.entries()) { h = relu(matmul(h, param(\`l\${i}\`, [n, w], "he"))); n = w; }
  return h;
}
`);
  t.deepEqual(program.params.map((p) => `${p.name} [${p.shape.join(", ")}]`), ["l0 [32, 16]", "l1 [16, 8]", "l2 [8, 4]", "l3 [4, 2]"]);
  t.is(graphNodes(program.entries[0]!).filter((n) => n.op === "matmul").length, 4);
});

test("a parameter used by several entry points is declared once", (t) => {
  const program = compileSource(`import { type Tensor, param, matmul, mean, argmax } from "dlc";
const w = () => param("w", [3, 2], "glorot");
export function predict(x: Tensor<["batch", 3]>) { return argmax(matmul(x, w())); }
export function loss(x: Tensor<["batch", 3]>): Tensor<[]> { return mean(matmul(x, w()) * matmul(x, w())); }
`);
  t.is(program.params.length, 1);
  const loss = program.entries.find((g) => g.name === "loss")!;
  t.is(graphNodes(loss).filter((n) => n.op === "param").length, 1);
});

test("the training configuration is read statically with defaults filled in", (t) => {
  const program = compileSource(`import { type Tensor, mean, adam } from "dlc";
export function loss(x: Tensor<["batch", 3]>): Tensor<[]> { return mean(x); }
const lr = 10 ** -3;
export const train = { optimizer: adam({ lr, schedule: { kind: "step", every: 100, gamma: 0.5 } }), epochs: 3 };
`);
  t.deepEqual(program.train, {
    optimizer: { kind: "adam", lr: 0.001, schedule: { kind: "step", every: 100, gamma: 0.5 }, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    batch: 32,
    epochs: 3,
    seed: 0,
  });
});

test("a loop past the iteration limit is reported, not hung on", (t) => {
  const error = t.throws(() => valueOf(`let v = 0; for (let i = 0; i < ${LIMITS.loopIterations + 1}; i++) v++;`), { instanceOf: CompileError });
  t.is(error.diagnostic.code, "DLC3002");
});

test("imports resolve ./x, ./x.js and ./x.ts to the same module, evaluated once", (t) => {
  const program = compileSource({
    "model.ts": `import { type Tensor } from "dlc";
import { count as a } from "./lib";
import { count as b } from "./lib.js";
import { count as c, bump } from "./lib.ts";
bump();
export function f(x: Tensor<[1]>) { return x * (a * 100 + b * 10 + c); }
`,
    "lib.ts": `export let count = 1;
export function bump() { count++; }
`,
  });
  t.true(graphNodes(program.entries[0]!).some((n) => n.op === "const" && n.attrs.value === 222));
  t.is(program.sources.length, 2);
});
