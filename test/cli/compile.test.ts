// `dlc compile` through the real command line.

import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadArtifact } from "../../runtime/artifact/file.js";
import { dlc } from "../helpers/cli.js";

for (const model of ["iris", "diabetes", "mlp", "cnn"]) {
  test(`dlc compile models/${model}.ts --emit ir succeeds and prints every entry point`, (t) => {
    const r = dlc(["compile", `models/${model}.ts`, "--emit", "ir"]);
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, /^entry loss\(/m);
    t.regex(r.stdout, /^entry predict\(/m);
    t.is(r.stderr, "");
  });
}

test("the IR shows parameter shapes and source lines", (t) => {
  const r = dlc(["compile", "models/mlp.ts"]);
  t.regex(r.stdout, /^param fc0\.w \[784, 256\] +f32 init=he +; mlp\.ts:\d+$/m);
  t.regex(r.stdout, /^ {2}%\d+ = matmul %\d+, %\d+ +: f32\[batch, 256\] +; mlp\.ts:\d+$/m);
});

test("--emit dot prints a Graphviz digraph", (t) => {
  const r = dlc(["compile", "models/iris.ts", "--emit", "dot"]);
  t.is(r.status, 0);
  t.regex(r.stdout, /^digraph dlc \{/);
  t.regex(r.stdout, /-> /);
});

test("a model with an error prints one diagnostic and exits with 2, without a stack trace", (t) => {
  const r = dlc(["compile", "test/corpus/bad/matmul-mismatch.ts"]);
  t.is(r.status, 2);
  t.is(r.stdout, "");
  t.regex(r.stderr, /^test\/corpus\/bad\/matmul-mismatch\.ts:5:30 - error DLC2001: matmul: inner dimensions differ: \[batch, 784\] @ \[128, 10\]\n/);
  t.notRegex(r.stderr, /\bat .*\.js:\d+/);
});

test("a message the model throws reaches the terminal with its control characters escaped, the source line as written", (t) => {
  const model = join(mkdtempSync(join(tmpdir(), "dlc-compile-")), "throws.ts");
  writeFileSync(
    model,
    `import { type Tensor, param, matmul, mean } from "dlc";
export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  throw new Error("bad \\u001b[2Jthing\\nsecond line\\u202e");
}
`,
  );
  const r = dlc(["compile", model]);
  t.is(r.status, 2);
  t.notRegex(r.stderr, /[\u001b\u202e]/);
  const lines = r.stderr.split("\n");
  t.regex(lines[0]!, / - error DLC3005: bad \\x1b\[2Jthing\\x0asecond line\\u202e$/);
  t.is(lines[1], `3 |   throw new Error("bad \\u001b[2Jthing\\nsecond line\\u202e");`);
  t.is(lines[3], "hint: the model threw this while it was being compiled");
});

test("a missing model file is a usage error", (t) => {
  const r = dlc(["compile", "models/nope.ts"]);
  t.is(r.status, 2);
  t.is(r.stderr, "dlc: cannot read 'models/nope.ts': no such file\n");
});

test("an unknown flag is rejected with a suggestion", (t) => {
  const r = dlc(["compile", "models/iris.ts", "--emitt", "ir"]);
  t.is(r.status, 2);
  t.regex(r.stderr, /unknown option '--emitt'/);
  t.regex(r.stderr, /Did you mean --emit\?/);
});

test("--emit wasm prints the CPU plan's WebAssembly module as text, for the sizes --batch gives", (t) => {
  const r = dlc(["compile", "models/mlp.ts", "--emit", "wasm"]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^;; ---- train, every symbolic size 128: the plan's kernels/);
  t.regex(r.stdout, /^\(module\n {2}\(import "env" "memory" \(memory 1 65536( shared)?\)\)$/m);
  const funcs = [...r.stdout.matchAll(/^ {2}\(func \$(\w+)/gm)].map((m) => m[1]);
  t.true(funcs.length >= 10, `${funcs.length} functions`);
  t.true(funcs.some((f) => f!.startsWith("rows_")), "row chains are kernels of their own");
  // The sizes are compiled in: another batch, other constants.
  const small = dlc(["compile", "models/mlp.ts", "--emit", "wasm", "--batch", "7"]);
  t.is(small.status, 0, small.stderr);
  t.regex(small.stdout, /every symbolic size 7:/);
  t.not(small.stdout, r.stdout);
  const misplaced = dlc(["compile", "models/mlp.ts", "--emit", "ir", "--batch", "7"]);
  t.is(misplaced.status, 2);
  t.is(misplaced.stderr, "dlc: --batch applies to --emit wasm\n");
});

test("an unknown --emit kind is rejected with the choices", (t) => {
  const r = dlc(["compile", "models/iris.ts", "--emit", "llvm"]);
  t.is(r.status, 2);
  t.regex(r.stderr, /Allowed choices are ir, grad, stats, fused, wgsl, wasm, dot/);
});

test("--emit grad prints the training graph: the loss and a gradient per parameter", (t) => {
  const r = dlc(["compile", "models/mlp.ts", "--emit", "grad"]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^entry train\(pixels: f32\[batch, 784\], label: i32\[batch\]\) -> \(loss: f32\[\], grad\/fc0\.w: f32\[784, 256\], /m);
  t.regex(r.stdout, /matmul transA/);
  t.notRegex(r.stdout, /stopGradient/);
});

test("--emit stats prints node counts before and after each pass", (t) => {
  const r = dlc(["compile", "models/iris.ts", "--emit", "stats"]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^grad +\d+ +\d+$/m);
  t.regex(r.stdout, /^cse +\d+ +\d+$/m);
  t.regex(r.stdout, /^total +27 +\d+$/m);
});

test("--emit grad needs a loss entry point", (t) => {
  const r = dlc(["compile", "test/corpus/bad/missing-loss.ts", "--emit", "grad"]);
  t.is(r.status, 2);
  t.regex(r.stderr, /error DLC4001: the model has no `loss` entry point/);
});

test("--version and --help exit with 0", (t) => {
  t.regex(dlc(["--version"]).stdout, /^\d+\.\d+\.\d+\n$/);
  const help = dlc(["compile", "--help"]);
  t.is(help.status, 0);
  t.regex(help.stdout, /Examples:/);
});

test("compile --grad adds gradient entries to the artifact; an unknown entry or --grad without -o is a usage error", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "dlc-grad-"));
  const r = dlc(["compile", "models/iris.ts", "-o", join(dir, "iris.dlc"), "--grad", "loss", "--json"]);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout).entries, ["logits", "predict", "loss", "loss.grad"]);
  const all = loadArtifact(join(dir, "iris.dlc"));
  t.deepEqual(all.entries.at(-1)!.outputs.map((o) => o.name), ["loss", "grad/w", "grad/b", "grad/x"]);
  const nope = dlc(["compile", "models/iris.ts", "-o", join(dir, "nope.dlc"), "--grad", "nope"]);
  t.is(nope.status, 2);
  t.regex(nope.stderr, /error DLC4001: the model has no entry point 'nope' to differentiate\n/);
  const scalar = dlc(["compile", "models/iris.ts", "-o", join(dir, "p.dlc"), "--grad", "predict"]);
  t.is(scalar.status, 2);
  t.regex(scalar.stderr, /^models\/iris\.ts:\d+:\d+ - error DLC3006: cannot differentiate i32\[batch\]/);
  const noOut = dlc(["compile", "models/iris.ts", "--grad", "loss"]);
  t.is(noOut.status, 2);
  t.is(noOut.stderr, "dlc: --grad applies to the artifact: add -o model.dlc\n");
});
