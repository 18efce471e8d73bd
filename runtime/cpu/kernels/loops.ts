// The elementwise loops, one per primitive and result dtype, generated from
// the op table's JavaScript formulas (runtime/program/elementwise.ts). The
// unfused kernels call them on whole arrays, the fused groups on blocks.
//
// Each op gets a loop of its own, compiled from its formula, so that its
// arithmetic is inlined: a shared loop calling a function per element would
// see every op at one call site and run several times slower. The generated
// code is dlc's own table text; nothing from a program or an artifact (names,
// values) ever becomes part of it.

import { ELEMENTWISE, JS_HELPERS, jsOperandName, type ElementwiseOp } from "../../program/elementwise.js";
import type { DType } from "../../program/ops.js";
import type { Data } from "../ndarray.js";

/**
 * out[oo + i] = op(x0[o0 + i], x1[o1 + i], ...) for i < n. The operands follow
 * `out, outOffset` as (array, offset) pairs, one pair per operand, then `n`.
 */
export type ElementwiseLoop = (o: Data, oo: number, ...operandsThenCount: (Data | number)[]) => void;

const cache = new Map<string, ElementwiseLoop>();

function generate(op: ElementwiseOp, type: DType): ElementwiseLoop {
  const def = ELEMENTWISE[op];
  const ks = Array.from({ length: def.arity }, (_, k) => k);
  const params = ["o", "oo", ...ks.flatMap((k) => [`x${k}`, `o${k}`]), "n"];
  const loads = ks.map((k) => `const ${jsOperandName(k)} = x${k}[o${k} + i];`).join(" ");
  const body = `for (let i = 0; i < n; i++) { ${loads} o[oo + i] = ${def.js(jsOperandName, type)}; }`;
  const loop = new Function("h", `return function ${op}_${type}(${params.join(", ")}) { ${body} };`)(JS_HELPERS) as ElementwiseLoop;
  return loop;
}

/** The loop computing `op` into an array of dtype `type` (compiled once, then cached). */
export function elementwiseLoop(op: ElementwiseOp, type: DType): ElementwiseLoop {
  const key = `${op}:${type}`;
  let loop = cache.get(key);
  if (!loop) {
    loop = generate(op, type);
    cache.set(key, loop);
  }
  return loop;
}
