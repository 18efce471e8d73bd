// Hostile model sources: each asks the compile-time interpreter or the parser
// for more memory or stack than the compiler has. Each must end, quickly, in a
// located diagnostic (file:line:col, the source line with a caret, a hint),
// never in a crash, a stack trace or an exhausted heap; and models that are
// deep but reasonable must still compile.

import test from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileModel } from "../../../compiler/frontend/compile.js";
import { CompileError, formatDiagnostic } from "../../../compiler/frontend/diagnostics.js";
import { LIMITS } from "../../../compiler/frontend/evaluator.js";
import { dlc } from "../../helpers/cli.js";

const HEAD = `import { type Tensor, mean } from "dlc";`;
const LOSS = `export function loss(x: Tensor<["batch", 2]>): Tensor<[]> { return mean(x); }`;

function modelFile(body: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "dlc-hostile-")), "model.ts");
  writeFileSync(file, `${HEAD}\n${body}\n${LOSS}\n`);
  return file;
}

const sourceLine = (file: string, line: number) => readFileSync(file, "utf8").split(/\r?\n/)[line - 1];

interface Case {
  readonly what: string;
  /** Model lines after the import (line 2 on). */
  readonly body: string;
  readonly code: string;
  /** The line the diagnostic points at. */
  readonly line: number;
  readonly message: RegExp;
}

const cases: Case[] = [
  { what: "'x'.repeat(2 ** 30)", body: `const s = "x".repeat(2 ** 30);`, code: "DLC3007", line: 2, message: /repeat would make a string of 1073741824 characters/ },
  { what: "Array.from({ length: 2 ** 31 })", body: `const a = Array.from({ length: 2 ** 31 });`, code: "DLC3007", line: 2, message: /Array.from would make an array of 2147483648 elements/ },
  { what: "padStart to 2 ** 30", body: `const s = "x".padStart(2 ** 30, "ab");`, code: "DLC3007", line: 2, message: /padStart/ },
  { what: "a string doubled in a loop", body: `let s = "ab";\nfor (let i = 0; i < 40; i++) s = s + s;`, code: "DLC3007", line: 3, message: /'\+' would make a string/ },
  { what: "a string doubled with +=", body: `let s = "ab";\nfor (let i = 0; i < 40; i++) s += s;`, code: "DLC3007", line: 3, message: /'\+' would make a string/ },
  { what: "a doubled array", body: `let a: number[] = [1];\nfor (let i = 0; i < 40; i++) a = a.concat(a);`, code: "DLC3007", line: 3, message: /concat would make an array/ },
  { what: "an array spread into itself", body: `let a: number[] = [1];\nfor (let i = 0; i < 40; i++) a = [...a, ...a];`, code: "DLC3007", line: 3, message: /spread would make an array/ },
  { what: "a push loop", body: `const a: unknown[] = [];\nconst chunk = Array.from({ length: 1000 });\nfor (let i = 0; i < 100000; i++) a.push(...chunk);`, code: "DLC3007", line: 4, message: /push would make an array of 1001000 elements/ },
  { what: "a join longer than a string may be", body: `const s = "x".repeat(999999);\nconst j = [s, s].join();`, code: "DLC3007", line: 3, message: /join would make a string of 1999999 characters/ },
  { what: "an element far past the end", body: `const a: number[] = [];\na[2 ** 31] = 1;`, code: "DLC3007", line: 3, message: /this assignment would make an array of 2147483649 elements/ },
  { what: "a million spread arguments", body: `const a = Array.from({ length: 1000000 });\nconst m = Math.max(...a);`, code: "DLC3007", line: 3, message: /would pass 1000000 arguments/ },
  { what: "a cyclic array thrown", body: `const a: any[] = [1];\na.push(a);\nthrow a;`, code: "DLC3005", line: 4, message: /^\[1, \[circular\]\]$/ },
  { what: "a cyclic array in a thrown message", body: `const a: any[] = [1];\na.push(a);\nthrow new Error(a);`, code: "DLC3005", line: 4, message: /^1,$/ },
  { what: "a cyclic object in a thrown message", body: `const o: any = { n: 1 };\no.self = o;\nthrow { reason: o };`, code: "DLC3005", line: 4, message: /^\{ reason: \{ n: 1, self: \[circular\] \} \}$/ },
  { what: "String() of a cyclic array in a thrown message", body: `const a: any[] = [1];\na.push(a);\nthrow new Error("bad " + String(a) + " " + a.join("-"));`, code: "DLC3005", line: 4, message: /^bad 1, 1-$/ },
  { what: "a cyclic array in a template", body: `const a: any[] = [1];\na.push(a);\nthrow new Error(\`bad \${a}\`);`, code: "DLC3005", line: 4, message: /^bad 1,$/ },
  { what: "an array nested 50,000 deep in a template", body: `let a: any = [];\nfor (let i = 0; i < 50000; i++) a = [a];\nconst s = \`\${a}\`;`, code: "DLC3007", line: 4, message: /nested more than 100 deep/ },
  { what: "a long thrown message", body: `throw new Error("x".repeat(100000));`, code: "DLC3005", line: 2, message: /^x{500}… \(100000 characters\)$/ },
  { what: "20,000 nested brackets", body: `const x = 1;\nconst y = ${"(".repeat(20000)}x${")".repeat(20000)};`, code: "DLC1007", line: 3, message: new RegExp(`brackets nest more than ${LIMITS.brackets} deep`) },
  { what: "20,000 nested array literals", body: `const y = ${"[".repeat(20000)}${"]".repeat(20000)};`, code: "DLC1007", line: 2, message: /brackets nest/ },
  { what: "a 30,000-term sum", body: `const x = 1;\nconst y = ${Array(30000).fill("x").join(" + ")};`, code: "DLC1007", line: 3, message: new RegExp(`nests more than ${LIMITS.nesting} levels deep`) },
  { what: "a 10,000-deep conditional chain", body: `const x = 1;\nconst y = ${"x ? x : ".repeat(10000)}x;`, code: "DLC1007", line: 1, message: /too deep for the TypeScript parser/ },
  {
    what: "a 1,500-deep unary chain evaluated 190 calls deep",
    body: `function f(n: number, x: number): number { return n === 0 ? ${"- ".repeat(1500)}x : f(n - 1, x); }\nconst y = f(190, 1);`,
    code: "DLC3003",
    line: 2,
    message: /ran out of stack/,
  },
  { what: "(1).toFixed(1000)", body: `const s = (1).toFixed(1000);`, code: "DLC1006", line: 2, message: /toFixed\(\) digits argument/ },
];

for (const c of cases) {
  test(`${c.what} is a located diagnostic`, (t) => {
    const file = modelFile(c.body);
    const started = Date.now();
    const error = t.throws(() => compileModel(file));
    t.true(error instanceof CompileError, `expected a CompileError, got ${error?.stack?.slice(0, 500)}`);
    const d = (error as CompileError).diagnostic;
    t.is(d.code as string, c.code, d.message);
    t.is(d.span?.file, file);
    t.is(d.span?.line, c.line);
    t.regex(d.message, c.message);
    const text = formatDiagnostic(d, sourceLine);
    t.regex(text, /model\.ts:\d+:\d+ - error DLC\d{4}: /);
    t.regex(text, /\n *\d+ \| .*\n *\| *\^+/);
    t.regex(text, /\nhint: \S/);
    t.true(text.length < 2000, "a diagnostic stays short");
    t.true(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });
}

test("a model that creates too much in all is stopped by the total budget", (t) => {
  const file = modelFile(`for (let i = 0; i < 1000; i++) {\n  const b = Array.from({ length: 900000 });\n}`);
  const error = t.throws(() => compileModel(file), { instanceOf: CompileError });
  t.is(error.diagnostic.code, "DLC3007");
  t.is(error.diagnostic.span?.line, 3);
  t.regex(error.diagnostic.message, /in all/);
});

test("deeply nested but reasonable models compile", (t) => {
  const terms = (n: number) => Array(n).fill("x").join(" + ");
  const file = modelFile(
    [
      `const n = 1;`,
      `const deep = ${"(".repeat(200)}n${")".repeat(200)};`,
      `const list = ${"[".repeat(200)}n${"]".repeat(200)};`,
      `const total = ${Array(2000).fill("n").join(" + ")};`,
      // A long sum inside a helper, inlined at a call depth of 100.
      `function sumAt(depth: number, x: Tensor<["batch", 2]>): Tensor<["batch", 2]> { return depth === 0 ? ${terms(2000)} : sumAt(depth - 1, x); }`,
      `export function predict(x: Tensor<["batch", 2]>): Tensor<["batch", 2]> { return sumAt(100, x) * (deep + total); }`,
    ].join("\n"),
  );
  const program = compileModel(file);
  t.deepEqual(program.entries.map((g) => g.name).sort(), ["loss", "predict"]);
});

test("dlc compile exits 2 with a located diagnostic and no stack trace on hostile models", (t) => {
  for (const body of [`const s = "x".repeat(2 ** 30);`, `const a = Array.from({ length: 2 ** 31 });`, `const y = ${"(".repeat(20000)}1${")".repeat(20000)};`, `const y = ${Array(30000).fill("1").join(" + ")};`]) {
    const r = dlc(["compile", modelFile(body)]);
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr, /model\.ts:2:\d+ - error DLC\d{4}: /);
    t.regex(r.stderr, /\nhint: \S/);
    t.notRegex(r.stderr, /\n\s+at .*:\d+:\d+/);
  }
});
