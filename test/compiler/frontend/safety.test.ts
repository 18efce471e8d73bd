// The compiler never executes model code: a model that reaches for the file
// system, a subprocess or eval is compiled (or rejected) without any effect.

import test from "ava";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileModel } from "../../../compiler/frontend/compile.js";
import { CompileError } from "../../../compiler/frontend/diagnostics.js";

function modelIn(dir: string, source: string): string {
  const file = join(dir, "model.ts");
  writeFileSync(file, source);
  return file;
}

test("a model that writes a file at top level and inside loss writes nothing", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "dlc-safety-"));
  const target = join(dir, "pwned.txt");
  const file = modelIn(
    dir,
    `import { type Tensor, mean } from "dlc";
import { writeFileSync } from "node:fs";
import * as fs from "node:fs";
writeFileSync(${JSON.stringify(target)}, "top level ran");
export function loss(x: Tensor<["batch", 2]>): Tensor<[]> {
  fs.writeFileSync(${JSON.stringify(target)}, "loss ran");
  return mean(x);
}
`,
  );
  const error = t.throws(() => compileModel(file), { instanceOf: CompileError });
  t.is(error.diagnostic.code, "DLC1004");
  t.is(error.diagnostic.span?.line, 4);
  t.false(existsSync(target));
  t.deepEqual(readdirSync(dir), ["model.ts"]);
});

test("a write hidden in a function that only loss calls is also refused, and nothing is written", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "dlc-safety-"));
  const target = join(dir, "pwned.txt");
  const file = modelIn(
    dir,
    `import { type Tensor, mean } from "dlc";
import { appendFileSync as log } from "node:fs";
function record(v: number) { log(${JSON.stringify(target)}, String(v)); return v; }
export function loss(x: Tensor<["batch", 2]>): Tensor<[]> {
  return mean(x) * record(2);
}
`,
  );
  const error = t.throws(() => compileModel(file), { instanceOf: CompileError });
  t.is(error.diagnostic.code, "DLC1004");
  t.regex(error.diagnostic.message, /'appendFileSync' comes from 'node:fs'/);
  t.false(existsSync(target));
});

test("an import of node:fs that is never used does not stop compilation", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "dlc-safety-"));
  const file = modelIn(
    dir,
    `import { type Tensor, mean } from "dlc";
import { writeFileSync } from "node:fs";
export function loss(x: Tensor<["batch", 2]>): Tensor<[]> {
  return mean(x);
}
export function save() { writeFileSync("never", "called"); }
`,
  );
  const program = compileModel(file);
  t.deepEqual(program.entries.map((g) => g.name), ["loss"]);
  t.deepEqual(readdirSync(dir), ["model.ts"]);
});

const escapes: [string, string, string][] = [
  ["require", `const cp = require("node:child_process");`, "DLC1002"],
  ["eval", `const v = eval("1 + 1");`, "DLC1002"],
  ["the Function constructor", `const f = Function("return process")();`, "DLC1002"],
  ["globalThis", `const p = globalThis.process;`, "DLC1002"],
  ["process", `process.exit(3);`, "DLC1002"],
  ["a constructor's constructor", `const f = [].constructor.constructor("return process")();`, "DLC1006"],
  ["a string's constructor", `const f = "".constructor;`, "DLC1006"],
  ["dynamic import", `import("node:fs");`, "DLC1001"],
  ["an object's prototype", `const o = {} as any; o.__proto__.polluted = 1;`, "DLC1006"],
];

for (const [what, line, code] of escapes) {
  test(`reaching ${what} is a diagnostic, not an effect`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), "dlc-safety-"));
    const file = modelIn(dir, `import { type Tensor, mean } from "dlc";\n${line}\nexport function loss(x: Tensor<["batch", 2]>): Tensor<[]> { return mean(x); }\n`);
    const error = t.throws(() => compileModel(file), { instanceOf: CompileError });
    t.is(error.diagnostic.code as string, code, error.message);
    t.is(error.diagnostic.span?.line, 2);
    t.is(({} as Record<string, unknown>).polluted, undefined);
  });
}
