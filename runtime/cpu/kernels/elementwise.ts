// Elementwise kernels over operands of equal shape (the IR makes every
// broadcast explicit): each runs its op's generated loop (loops.ts) over the
// whole arrays. What each op computes is in runtime/program/elementwise.ts.

import { ELEMENTWISE, ELEMENTWISE_OPS, type ElementwiseOp } from "../../program/elementwise.js";
import { elementwiseLoop } from "./loops.js";
import type { Kernel, KernelTable } from "./types.js";

function kernel(op: ElementwiseOp): Kernel<ElementwiseOp> | "alias" {
  if (ELEMENTWISE[op].identity) return "alias";
  return (out, inputs) => {
    const loop = elementwiseLoop(op, out.data instanceof Int32Array ? "i32" : "f32");
    const args: (number | (typeof out)["data"])[] = [];
    for (const x of inputs) args.push(x.data, 0);
    args.push(out.data.length);
    loop(out.data, 0, ...args);
  };
}

export const ELEMENTWISE_KERNELS = Object.fromEntries(ELEMENTWISE_OPS.map((op) => [op, kernel(op)])) as KernelTable<ElementwiseOp>;
