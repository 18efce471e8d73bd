// The epilogue of a contraction: its finished accumulators become the
// kernel's outputs through the fused expression (bias, activation, the
// activation's derivative, an optimizer update), evaluated at each element's
// flat index. Shared by the contraction kernels of both families and the
// pooling kernels.

import { numel } from "../../../runtime/program/dim.js";
import type { Node } from "../../ir/node.js";
import { KernelBuilder, type KernelEnv } from "./kernel.js";
import { acc, type RegisterBlock } from "./register-tile.js";

/**
 * The epilogue of an r x c tile: for each element inside the result, binds the anchor's value at
 * its flat index and stores every output there. `valid`, `index` and `value` get the element's
 * row and column in the tile as u32 WGSL expressions; the value defaults to the accumulator,
 * read from a copy of the tile in a private array. The epilogue is emitted once, in a loop over
 * the tile: llvmpipe compiles a kernel at its first dispatch, in time that grows quickly with
 * its length, and the epilogue runs once per element against the reduction's many steps.
 * Values of one element (the optimizer's step and learning rate, their powers) are computed
 * once, before the loop.
 */
export function storeTile(
  k: KernelBuilder,
  env: KernelEnv,
  anchor: Node,
  outputs: readonly Node[],
  t: RegisterBlock,
  valid: (i: string, j: string) => string,
  index: (i: string, j: string) => string,
  value?: (i: string, j: string) => string,
): void {
  const e = k.emitter;
  for (const n of scalarsOf(env, anchor, outputs)) e.value(n, "0u");
  const size = t.r * t.c;
  const one = (i: string, j: string, v: string) =>
    e.block(`if (${valid(i, j)})`, () => {
      e.line(`let el = ${index(i, j)};`);
      e.line(`let out = ${v};`);
      k.setLocal(anchor, "el", "out");
      for (const o of outputs) if (o !== anchor) k.store(o, "el");
      if (outputs.includes(anchor)) e.line(`${k.writeBuffer(anchor)}[el] = out;`);
    });
  if (size === 1) {
    one("0u", "0u", value ? value("0u", "0u") : acc(0, 0));
    return;
  }
  if (!value) {
    e.line(`var tileAcc: array<f32, ${size}>;`);
    for (let i = 0; i < t.r; i++) e.line(Array.from({ length: t.c }, (_, j) => `tileAcc[${i * t.c + j}] = ${acc(i, j)};`).join(" "));
  }
  e.block(`for (var te = 0u; te < ${size}u; te = te + 1u)`, () => {
    e.line(`let ti = te / ${t.c}u; let tj = te % ${t.c}u;`);
    one("ti", "tj", value ? value("ti", "tj") : "tileAcc[te]");
  });
}

/** The one-element values an epilogue reads that do not depend on the anchor, in topological order. */
function scalarsOf(env: KernelEnv, anchor: Node, outputs: readonly Node[]): Node[] {
  const found: Node[] = [];
  const depends = new Map<Node, boolean>();
  // A depth-first walk with an explicit stack (an epilogue can be thousands of operations deep).
  const enter = (n: Node) => {
    const buffer = env.bufferOf(n);
    const leaf = buffer !== undefined && buffer !== anchor && !outputs.includes(buffer);
    return { n, inputs: n.inputs[Symbol.iterator](), walk: !leaf && n !== anchor, d: n === anchor };
  };
  for (const o of outputs) {
    if (depends.has(o)) continue;
    const stack = [enter(o)];
    for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
      const next = top.walk ? top.inputs.next() : undefined;
      if (next && !next.done) {
        const known = depends.get(next.value);
        if (known !== undefined) top.d = known || top.d;
        else stack.push(enter(next.value));
        continue;
      }
      stack.pop();
      depends.set(top.n, top.d);
      if (!top.d && numel(top.n.shape) === 1 && !outputs.includes(top.n)) found.push(top.n);
      const parent = stack.at(-1);
      if (parent) parent.d ||= top.d;
    }
  }
  return found;
}
