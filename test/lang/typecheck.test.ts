// The model language's declarations (lang/dlc.d.ts) type-check every model
// under `tsc --strict`, reject ill-typed ones, and declare exactly the library
// that the compiler implements.

import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Project } from "ts-morph";
import { dlcLibrary } from "../../compiler/frontend/library.js";
import { Trace } from "../../compiler/frontend/trace.js";
import { ROOT } from "../helpers/paths.js";

const tsc = join(ROOT, "node_modules/.bin/tsc");

test("models/ and the good corpus pass tsc --strict against lang/dlc.d.ts", (t) => {
  const r = spawnSync(tsc, ["-p", join(ROOT, "tsconfig.models.json")], { encoding: "utf8", cwd: ROOT });
  t.is(r.status, 0, r.stdout + r.stderr);
});

function typecheck(source: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "dlc-tsc-"));
  writeFileSync(join(dir, "model.ts"), source);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", types: [], paths: { dlc: [join(ROOT, "lang/dlc.d.ts")] } },
      files: ["model.ts"],
    }),
  );
  const r = spawnSync(tsc, ["-p", dir], { encoding: "utf8" });
  return { status: r.status, output: r.stdout + r.stderr };
}

test("tensor arithmetic, unary minus and Math on tensors type-check", (t) => {
  const r = typecheck(`import { type Tensor, matmul, param } from "dlc";
export function f(x: Tensor<["batch", 3]>): Tensor<["batch", 2]> {
  const h = matmul(x, param("w", [3, 2])) + param("b", [2]);
  return -((2 * h - 1) ** 2) + Math.exp(h) / Math.max(h, 0) - Math.log(Math.sqrt(Math.abs(h))) + Math.tanh(Math.min(h, 1));
}
`);
  t.is(r.status, 0, r.output);
});

test("an i32 result does not type-check where an f32 tensor is declared", (t) => {
  const r = typecheck(`import { type Tensor, argmax } from "dlc";
export function f(x: Tensor<["batch", 3]>): Tensor<["batch"]> { return argmax(x, -1); }
`);
  t.not(r.status, 0);
  t.regex(r.output, /TS2322/);
});

test("wrong argument types are type errors", (t) => {
  const r = typecheck(`import { param, conv2d } from "dlc";
const w = param("w", "784x10");
const y = conv2d(w, w, { padding: "full" });
`);
  t.not(r.status, 0);
  t.regex(r.output, /model\.ts\(2,/);
  t.regex(r.output, /model\.ts\(3,/);
});

test("the declared library and the compiler's library are the same set of functions", (t) => {
  const project = new Project({ skipAddingFilesFromTsConfig: true });
  const dts = project.addSourceFileAtPath(join(ROOT, "lang/dlc.d.ts"));
  const declared = dts.getFunctions().filter((f) => f.isExported()).map((f) => f.getName()!).sort();
  const implemented = [...dlcLibrary(new Trace()).keys()].sort();
  t.deepEqual(implemented, declared);
});
