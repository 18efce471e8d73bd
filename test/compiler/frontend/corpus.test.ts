// The diagnostic corpus: every model under test/corpus/good compiles to the IR
// in its .ir golden file; every model under test/corpus/bad fails with exactly
// the diagnostic in its .err golden file (file:line:col, the source line with a
// caret, a hint). A first-line comment `// dlc-corpus: train` asks for a
// training compile (a `loss` entry is required).

import test from "ava";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { compileModel } from "../../../compiler/frontend/compile.js";
import { CompileError, formatDiagnostic } from "../../../compiler/frontend/diagnostics.js";
import { printProgram } from "../../../compiler/ir/print.js";
import { verifyGraph } from "../../../compiler/ir/verify.js";
import { matchGolden } from "../../helpers/golden.js";
import { ROOT } from "../../helpers/paths.js";

const corpus = (kind: "good" | "bad") =>
  readdirSync(join(ROOT, "test/corpus", kind))
    .filter((f) => f.endsWith(".ts"))
    .sort()
    .map((f) => join("test/corpus", kind, f));

const options = (file: string) => ({ requireLoss: readFileSync(join(ROOT, file), "utf8").startsWith("// dlc-corpus: train") });

const sourceLine = (file: string, line: number) => readFileSync(file, "utf8").split(/\r?\n/)[line - 1];

for (const file of corpus("good")) {
  test(`${file} compiles to its golden IR`, (t) => {
    const program = compileModel(join(ROOT, file), options(file));
    for (const g of program.entries) verifyGraph(g);
    matchGolden(t, printProgram(program), join(ROOT, file.replace(/\.ts$/, ".ir")));
  });
}

for (const file of corpus("bad")) {
  test(`${file} is rejected with its golden diagnostic`, (t) => {
    const error = t.throws(() => compileModel(join(ROOT, file), options(file)));
    t.true(error instanceof CompileError, `expected a CompileError, got ${error?.stack}`);
    const text = formatDiagnostic((error as CompileError).diagnostic, sourceLine, ROOT);
    t.regex(text, /^test\/corpus\/bad\/[\w-]+\.ts:\d+:\d+ - error DLC\d{4}: /);
    t.regex(text, /\n *\d+ \| .*\n *\| *\^+/);
    t.regex(text, /\nhint: \S/);
    t.notRegex(text, /\n\s+at .*\(.*:\d+:\d+\)/); // never a stack trace
    matchGolden(t, text + "\n", join(ROOT, file.replace(/\.ts$/, ".err")));
  });
}

test("the corpus is not empty", (t) => {
  t.true(corpus("good").length >= 5);
  t.true(corpus("bad").length >= 30);
});
