// Gathers and scans: one invocation per element of the result, which reads
// its operands from their buffers at the indices it computes, then runs the
// epilogue at its own index. Every operand is viewed as [outer, n, inner]
// around the op's axis.
//
// - gather reads one table element, at its index clamped to [0, n - 1].
// - scatterAdd (gather's gradient) has each invocation own one element of the
//   table's gradient and loop over all the indices, adding the updates of
//   those that (clamped) name its row, in index order. Repeated indices are
//   summed by one thread: no atomics, no race, and the same order as the CPU
//   kernel. The work is K per element of the table (K indices), fine for the
//   vocabularies and batches dlc trains; a sort-based two-pass would cut it.
// - cumsum has each invocation sum its own prefix (or suffix) of its line:
//   n(n + 1) / 2 additions per line instead of n, but no synchronization
//   and every element in parallel, which suits the short lines (sequence
//   lengths) a model scans. The order of additions is the CPU kernel's.

import { numel, type Dim } from "../../../runtime/program/dim.js";
import type { GpuKernel } from "../../../runtime/program/gpu.js";
import type { IndexedNode } from "../../fusion/groups.js";
import { inputAt } from "../../ir/checked.js";
import type { Node } from "../../ir/node.js";
import { wgslType } from "./expr.js";
import { dimExpr } from "./index-math.js";
import { KernelBuilder, type KernelEnv } from "./kernel.js";

const WG = 64;

/** [outer, n, inner] of a shape around `axis`, as u32 expressions. */
function blocks(shape: readonly Dim[], axis: number): [string, string, string] {
  const n = shape[axis];
  if (n === undefined) throw new Error(`internal: axis ${axis} of a rank-${shape.length} operand`);
  return [dimExpr(numel(shape.slice(0, axis))), dimExpr(n), dimExpr(numel(shape.slice(axis + 1)))];
}

export function indexedKernel(env: KernelEnv, name: string, anchor: IndexedNode, outputs: readonly Node[]): GpuKernel {
  const k = new KernelBuilder(env, name, [...outputs, anchor]);
  k.noteOp(anchor.op);
  const e = k.emitter;
  const total = numel(anchor.shape);
  e.line(`let e = wg * ${WG}u + lid;`);
  e.line(`if (e >= ${dimExpr(total)}) { return; }`);
  const t = wgslType(anchor);
  switch (anchor.op) {
    case "gather": {
      const table = inputAt(anchor, 0);
      const indices = inputAt(anchor, 1);
      const T = k.operandBuffer(table);
      const I = k.operandBuffer(indices);
      const [, n, inner] = blocks(table.shape, anchor.attrs.axis);
      const K = dimExpr(numel(indices.shape));
      e.line(`let q = e % ${inner}; let r = e / ${inner}; let j = r % ${K}; let o = r / ${K};`);
      e.line(`let at = u32(clamp(${I}[j], 0i, i32(${n}) - 1i));`);
      e.line(`let acc: ${t} = ${T}[(o * ${n} + at) * ${inner} + q];`);
      break;
    }
    case "scatterAdd": {
      const updates = inputAt(anchor, 0);
      const indices = inputAt(anchor, 1);
      const U = k.operandBuffer(updates);
      const I = k.operandBuffer(indices);
      const [, n, inner] = blocks(anchor.shape, anchor.attrs.axis);
      const K = dimExpr(numel(indices.shape));
      e.line(`let q = e % ${inner}; let r = e / ${inner}; let row = i32(r % ${n}); let o = r / ${n};`);
      e.line(`let last = i32(${n}) - 1i;`);
      e.line(`var acc: f32 = 0.0;`);
      e.block(`for (var j = 0u; j < ${K}; j = j + 1u)`, () => {
        e.line(`if (clamp(${I}[j], 0i, last) == row) { acc = acc + ${U}[(o * ${K} + j) * ${inner} + q]; }`);
      });
      break;
    }
    case "cumsum": {
      const x = inputAt(anchor, 0);
      const X = k.operandBuffer(x);
      const { axis, exclusive, reverse } = anchor.attrs;
      const [, n, inner] = blocks(x.shape, axis);
      e.line(`let q = e % ${inner}; let r = e / ${inner}; let j = r % ${n}; let o = r / ${n};`);
      e.line(`let base = o * ${n} * ${inner} + q;`);
      e.line(`var acc: ${t} = ${t}(0);`);
      // Positions [lo, hi) of the line, added from the scan's start.
      const [lo, hi] = reverse ? [exclusive ? "j + 1u" : "j", n] : ["0u", exclusive ? "j" : "j + 1u"];
      const loop = reverse ? `for (var s = ${hi}; s > ${lo}; s = s - 1u)` : `for (var s = ${lo} + 1u; s <= ${hi}; s = s + 1u)`;
      e.block(loop, () => e.line(`acc = acc + ${X}[base + (s - 1u) * ${inner}];`));
      break;
    }
  }
  k.setLocal(anchor, "e", "acc");
  for (const o of outputs) {
    if (o === anchor) e.line(`${k.writeBuffer(anchor)}[e] = acc;`);
    else k.store(o, "e");
  }
  return k.build({ workgroupSize: WG, grid: [{ size: total, per: WG }], body: e.code() });
}
