// Kernel fusion for WebGPU: which values live in buffers, and which kernel
// computes each of them.
//
// The decision is made in two parts, as PyTorch Inductor does:
//
// 1. Materialization (legality). A value gets a buffer when it must: graph
//    inputs, parameters and outputs; the operands of contractions and windows
//    (their kernels read tiles of them); the keys of random draws; anchors
//    whose result cannot be consumed inside their own kernel. Every other
//    value is computed inline, by whichever kernel reads it, at the index it
//    reads it at. Cheap pointwise values read by several kernels are
//    recomputed by each.
//
// 2. Grouping. Each buffer's value is an expression over other buffers,
//    through inline values. The non-materialized "anchors" in that expression
//    decide its kernel: none gives a pointwise kernel; one matmul, convolution
//    or pooling op gives that op's kernel with the expression as its epilogue;
//    reductions over one row structure (the same shape, the same axes) give a
//    row kernel, where one workgroup or thread owns an output row and runs the
//    reductions one after the other (softmax, layer norm and cross-entropy
//    with its gradient each become one kernel). Buffers whose expressions share
//    an anchor are written by the same kernel (multi-output). Finally a
//    pointwise buffer joins an earlier kernel of the same iteration space when
//    it reads that kernel's outputs at the same index (the Adam update writes
//    m, v and the parameter in one kernel; relu(z) is written next to z).
//
// Every refusal to fuse is recorded with its reason (`dlc inspect
// --explain-fusion`).
//
// This file runs the two parts to a fixed point: legality.ts says what one
// kernel cannot compute, grouping.ts assembles and orders the kernels, and
// groups.ts says what a kernel group is (one kind each: pointwise, row,
// contraction, window, with exactly the fields of its kind).

import { graphNodes } from "../ir/graph.js";
import type { Graph, Node } from "../ir/node.js";
import { MAX_KERNEL_BUFFERS, anchorOf, byOrder, closure, isAnchor, isContraction, isFlat, isReduce, isSource, type AnchorNode, type KernelGroup } from "./groups.js";
import { findCycle, group, schedule } from "./grouping.js";
import { compatible, isCheapPrologue, isFlatOfMaterialized, violation } from "./legality.js";

export * from "./groups.js";

export interface Partition {
  /** Nodes that live in buffers (sources included). */
  readonly materialized: ReadonlySet<Node>;
  /** Kernels in execution order. */
  readonly kernels: readonly KernelGroup[];
  /** Why a value that could have been computed inline got a buffer. */
  readonly reasons: ReadonlyMap<Node, string>;
}

export interface PartitionOptions {
  /** false: every node gets a buffer and a kernel of its own (--no-fusion). */
  readonly fusion?: boolean;
}

export function partition(g: Graph, options: PartitionOptions = {}): Partition {
  const nodes = graphNodes(g);
  const order = new Map(nodes.map((n, i) => [n, i]));
  const reasons = new Map<Node, string>();
  const materialized = new Set<Node>();
  const give = (n: Node, why: string) => {
    if (!materialized.has(n)) {
      materialized.add(n);
      if (!isSource(n)) reasons.set(n, why);
    }
  };
  for (const n of nodes) if (isSource(n)) materialized.add(n);
  for (const o of g.outputs) give(o.node, `graph output '${o.name}'`);
  if (options.fusion === false) {
    for (const n of nodes) if (!isFlat(n)) give(n, "fusion is off");
  }
  // A random draw reads its key at indices 0 and 1 whatever its own index: the key is a buffer.
  for (const n of nodes) {
    if (n.op !== "random") continue;
    for (const key of n.inputs) if (!isFlatOfMaterialized(key, materialized)) give(key, "key of random");
  }
  // Contractions and windows read their operands from buffers, but for a cheap elementwise
  // prologue (pixels / 255) that a contraction computes as it loads.
  for (const n of nodes) {
    if (!isAnchor(n) || isReduce(n)) continue;
    for (const i of n.inputs) {
      if (isFlatOfMaterialized(i, materialized) || (isContraction(n) && options.fusion !== false && isCheapPrologue(i, materialized))) continue;
      give(i, `operand of ${n.op}`);
    }
  }
  for (;;) {
    let changed = false;
    for (const x of [...materialized].filter((n) => !isSource(n)).sort(byOrder(order))) {
      const v = violation(x, closure(x, materialized), order);
      if (v && !materialized.has(v.fix)) {
        give(v.fix, v.why);
        changed = true;
      }
    }
    if (changed) continue;
    // A non-materialized anchor read by two buffers' expressions must be computed by one kernel for both.
    // Its kernel must also fit an adapter's bindings: the buffers it writes and those they read.
    const owner = new Map<Node, Node>();
    const bound = new Map<Node, Set<Node>>();
    for (const x of [...materialized].filter((n) => !isSource(n))) {
      const inline = closure(x, materialized);
      const reads = inline.flatMap((n) => n.inputs).filter((i) => materialized.has(i));
      for (const a of inline.filter((n): n is AnchorNode => isAnchor(n) && n !== x)) {
        const other = owner.get(a);
        const buffers = bound.get(a) ?? new Set<Node>();
        for (const b of [x, ...reads]) buffers.add(b);
        if (other && !compatible(other, x, a, materialized)) {
          give(a, `read by two kernels (${other.op} and ${x.op})`);
          changed = true;
        } else if (other && buffers.size > MAX_KERNEL_BUFFERS) {
          give(a, `its kernel would bind ${buffers.size} buffers, more than ${MAX_KERNEL_BUFFERS}`);
          changed = true;
        } else {
          owner.set(a, x);
          bound.set(a, buffers);
        }
      }
    }
    if (changed) continue;
    // Writing several buffers from one kernel must not make it depend on itself through another kernel.
    const kernels = group(nodes, order, materialized, options.fusion !== false);
    const cyclic = findCycle(kernels, materialized);
    if (!cyclic) return { materialized, kernels: schedule(kernels, materialized), reasons };
    const shared = anchorOf(cyclic) ?? (cyclic.kind === "row" ? cyclic.reductions[0] : undefined);
    if (!shared || materialized.has(shared)) throw new Error(`internal: kernel fusion made a cycle through ${cyclic.outputs.map((o) => o.op).join(", ")}`);
    give(shared, "its kernel would wait for itself");
  }
}
