// The names a model calls elementwise ops by come from the op table: each
// import of "dlc" and each Math function on a tensor builds that primitive;
// Math functions the table gives no tensor spelling are a located error.

import test from "ava";
import { CompileError } from "../../../compiler/frontend/diagnostics.js";
import { graphNodes } from "../../../compiler/ir/graph.js";
import type { Graph } from "../../../compiler/ir/node.js";
import { ELEMENTWISE, UNARY_OPS } from "../../../runtime/program/elementwise.js";
import { compileSource } from "../../helpers/compile.js";

const ops = (g: Graph) => graphNodes(g).map((n) => n.op);

for (const op of UNARY_OPS) {
  const { dlc, math } = ELEMENTWISE[op].names ?? {};
  if (dlc) {
    test(`${dlc}(x) imported from dlc builds ${op}`, (t) => {
      const p = compileSource(`import { type Tensor, ${dlc} } from "dlc";\nexport function f(x: Tensor<[3]>): Tensor<[3]> { return ${dlc}(x); }\n`);
      t.true(ops(p.entries[0]!).includes(op));
    });
  }
  if (math) {
    test(`Math.${math}(x) on a tensor builds ${op}, and on a number is computed at compile time`, (t) => {
      const p = compileSource(`import type { Tensor } from "dlc";\nexport function f(x: Tensor<[3]>): Tensor<[3]> { return Math.${math}(x) + Math.${math}(0.5); }\n`);
      const g = p.entries[0]!;
      t.is(ops(g).filter((o) => o === op).length, 1, "only the tensor call is a node");
    });
  }
}

test("gelu(x, { approximate: false }) is the exact erf form; the default is the tanh form, computed as x / (1 + e^-2u)", (t) => {
  const p = compileSource(`import { type Tensor, gelu } from "dlc";
export function exact(x: Tensor<[3]>): Tensor<[3]> { return gelu(x, { approximate: false }); }
export function tanhForm(x: Tensor<[3]>): Tensor<[3]> { return gelu(x); }
`);
  const [exact, tanhForm] = p.entries;
  t.true(ops(exact!).includes("erf") && !ops(exact!).includes("tanh"));
  t.true(ops(tanhForm!).includes("exp") && !ops(tanhForm!).includes("erf"));
});

test("a Math function with no tensor form is an error at the call, naming what works", (t) => {
  const e = t.throws(() => compileSource(`import type { Tensor } from "dlc";\nexport function f(x: Tensor<[3]>): Tensor<[3]> {\n  return Math.atan(x);\n}\n`), { instanceOf: CompileError });
  const d = e!.diagnostic;
  t.is(d.message, "Math.atan is not defined on tensors");
  t.is(d.span?.line, 3);
  t.is(d.hint, "on tensors dlc supports Math.exp, log, sqrt, tanh, abs, sign, sin, cos, log1p, expm1, max, min and pow");
});
