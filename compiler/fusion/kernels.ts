// Kernel fusion for WebGPU: which values live in buffers, and which kernel
// computes each of them.
//
// The decision is made in two parts, as PyTorch Inductor does:
//
// 1. Materialization (legality). A value gets a buffer when it must: graph
//    inputs, parameters and outputs; the operands of contractions and windows
//    (their kernels read tiles of them); anchors whose result cannot be
//    consumed inside their own kernel. Every other value is computed inline,
//    by whichever kernel reads it, at the index it reads it at. Cheap
//    pointwise values read by several kernels are recomputed by each.
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

import { dimEq, numel, shapeEq, type Dim, type Shape } from "../../runtime/program/dim.js";
import { OP_FAMILY } from "../../runtime/program/ops.js";
import { graphNodes } from "../ir/graph.js";
import type { Graph, Node } from "../ir/node.js";

export type KernelKind = "pointwise" | "row" | "contraction" | "window";

/** The iteration space of a row kernel: reductions of `full` over `axes`. */
export interface RowStructure {
  readonly full: Shape;
  readonly axes: readonly number[];
}

export interface KernelGroup {
  readonly kind: KernelKind;
  /** The matmul, convolution or pooling op a contraction/window kernel is built around. */
  readonly anchor?: Node;
  /** A row kernel's reductions, in topological order. */
  readonly reductions: readonly Node[];
  readonly row?: RowStructure;
  /** The buffers this kernel writes, in topological order. */
  readonly outputs: readonly Node[];
}

export interface Partition {
  /** Nodes that live in buffers (sources included). */
  readonly materialized: ReadonlySet<Node>;
  /** Kernels in execution order. */
  readonly kernels: readonly KernelGroup[];
  /** Why a value that could have been computed inline got a buffer. */
  readonly reasons: ReadonlyMap<Node, string>;
}

export const isAnchor = (n: Node) => {
  const f = OP_FAMILY[n.op];
  return f === "contraction" || f === "window" || f === "reduce";
};
const isReduce = (n: Node) => OP_FAMILY[n.op] === "reduce";
const isSource = (n: Node) => n.op === "input" || n.op === "param";
/** Views whose index map is the identity on flat indices. */
const isFlat = (n: Node) => n.op === "reshape" || n.op === "stopGradient";

export function rowOf(r: Node): RowStructure {
  const x = r.inputs[0]!;
  return { full: x.shape, axes: r.op === "argmax" ? [r.attrs.axis] : (r.attrs as { axes: readonly number[] }).axes };
}

export function sameRow(a: RowStructure, b: RowStructure): boolean {
  return shapeEq(a.full, b.full) && a.axes.length === b.axes.length && a.axes.every((x, i) => x === b.axes[i]);
}

export const reducedShape = (row: RowStructure): Shape => row.full.filter((_, i) => !row.axes.includes(i));

/** The nodes an expression for `x` computes inline: back from x through values without buffers. */
export function closure(x: Node, materialized: ReadonlySet<Node>): Node[] {
  const seen = new Set<Node>([x]);
  const stack = [...x.inputs];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n) || materialized.has(n)) continue;
    seen.add(n);
    stack.push(...n.inputs);
  }
  return [...seen];
}

/** Why x's inline expression cannot be one kernel, and which node should get a buffer to fix it; undefined if it can. */
function violation(x: Node, inline: readonly Node[], order: ReadonlyMap<Node, number>): { fix: Node; why: string } | undefined {
  const byOrder = (a: Node, b: Node) => order.get(a)! - order.get(b)!;
  const anchors = inline.filter(isAnchor).sort(byOrder);
  const cores = anchors.filter((a) => !isReduce(a));
  const reductions = anchors.filter(isReduce);
  const inlineSet = new Set(inline);
  if (cores.length > 0) {
    // Keep the latest contraction as this kernel's; the earlier ones get buffers.
    if (cores.length > 1) return { fix: cores[0] === x ? cores[1]! : cores[0]!, why: "two contractions in one expression" };
    const core = cores[0]!;
    if (reductions.length > 0) return { fix: domainEnd(core, inline, inlineSet), why: "a reduction reads a contraction's result" };
    if (core !== x && !dimEq(numel(core.shape), numel(x.shape))) return { fix: domainEnd(core, inline, inlineSet), why: "the epilogue has another size than the contraction" };
    // The epilogue reads the accumulator at the output's own index: only elementwise steps may lie between.
    for (const n of inline) {
      if (n === core || !dependsOn(n, core, inlineSet)) continue;
      if (!(OP_FAMILY[n.op] === "elementwise" || isFlat(n))) return { fix: domainEnd(core, inline, inlineSet), why: `the epilogue reads the ${core.op} through ${n.op}` };
    }
    return undefined;
  }
  if (reductions.length > 0) {
    // The kernel's row is the last reduction's; reductions over other rows happen before its input.
    const last = reductions.at(-1)!;
    const row = rowOf(last);
    const other = reductions.find((r) => !sameRow(row, rowOf(r)));
    if (other) {
      const input = last.inputs[0]!;
      const upstream = !isSource(input) && inline.includes(input) && dependsOn(input, other, inlineSet);
      return { fix: upstream ? input : other, why: "reductions over different rows" };
    }
    const full = numel(row.full);
    const reduced = numel(reducedShape(row));
    for (const n of inline) {
      if (!dependsOnAny(n, reductions, inlineSet) || isReduce(n)) continue;
      // Values computed from the reductions live on the row's full or reduced shape (scalars broadcast anywhere).
      if (!dimEq(numel(n.shape), full) && !dimEq(numel(n.shape), reduced) && n.shape.length > 0) return { fix: reductions[0]!, why: `a value of another size (${n.op}) depends on the reduction` };
      if (n.op === "transpose") return { fix: reductions[0]!, why: "a transpose of a reduction's result" };
    }
    if (!dimEq(numel(x.shape), full) && !dimEq(numel(x.shape), reduced) && x.shape.length > 0) return { fix: reductions[0]!, why: "the output has another size than the row" };
    return undefined;
  }
  return undefined;
}

/**
 * The last value still computed at the contraction's own index: following
 * elementwise consumers from the core while they keep its size. Giving this a
 * buffer keeps the contraction's epilogue and hands its result to the rest.
 */
function domainEnd(core: Node, inline: readonly Node[], inlineSet: ReadonlySet<Node>): Node {
  let end = core;
  for (const n of inline) {
    if (n === core || !dependsOn(n, core, inlineSet)) continue;
    if (!(OP_FAMILY[n.op] === "elementwise" || isFlat(n)) || !dimEq(numel(n.shape), numel(core.shape))) continue;
    // Every inline path from the core to n must stay elementwise.
    const path = inline.filter((m) => m !== core && dependsOn(m, core, inlineSet) && dependsOn(n, m, inlineSet));
    if (path.every((m) => OP_FAMILY[m.op] === "elementwise" || isFlat(m)) && feedsOutsideDomain(n, core, inline)) end = n;
  }
  return end;
}

/** Whether n is read by an inline node that leaves the contraction's domain (another size, or not elementwise). */
function feedsOutsideDomain(n: Node, core: Node, inline: readonly Node[]): boolean {
  return inline.some((m) => m.inputs.includes(n) && (!(OP_FAMILY[m.op] === "elementwise" || isFlat(m)) || !dimEq(numel(m.shape), numel(core.shape))));
}

function dependsOn(n: Node, target: Node, within: ReadonlySet<Node>): boolean {
  return dependsOnAny(n, [target], within);
}

function dependsOnAny(n: Node, targets: readonly Node[], within: ReadonlySet<Node>): boolean {
  const goal = new Set(targets);
  const seen = new Set<Node>();
  const stack = [n];
  while (stack.length) {
    const m = stack.pop()!;
    if (goal.has(m)) return true;
    if (seen.has(m)) continue;
    seen.add(m);
    for (const i of m.inputs) if (within.has(i)) stack.push(i);
  }
  return false;
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
  // Contractions and windows read their operands from buffers, but for a cheap elementwise
  // prologue (pixels / 255) that a contraction computes as it loads.
  for (const n of nodes) {
    if (!isAnchor(n) || isReduce(n)) continue;
    for (const i of n.inputs) {
      if (isFlatOfMaterialized(i, materialized) || (OP_FAMILY[n.op] === "contraction" && options.fusion !== false && isCheapPrologue(i, materialized))) continue;
      give(i, `operand of ${n.op}`);
    }
  }
  for (;;) {
    let changed = false;
    for (const x of [...materialized].filter((n) => !isSource(n)).sort((a, b) => order.get(a)! - order.get(b)!)) {
      const v = violation(x, closure(x, materialized), order);
      if (v && !materialized.has(v.fix)) {
        give(v.fix, v.why);
        changed = true;
      }
    }
    if (changed) continue;
    // A non-materialized anchor read by two buffers' expressions must be computed by one kernel for both.
    const owner = new Map<Node, Node>();
    for (const x of [...materialized].filter((n) => !isSource(n))) {
      for (const a of closure(x, materialized).filter((n) => isAnchor(n) && n !== x)) {
        const other = owner.get(a);
        if (other && !compatible(other, x, a, materialized)) {
          give(a, `read by two kernels (${other.op} and ${x.op})`);
          changed = true;
        } else owner.set(a, x);
      }
    }
    if (changed) continue;
    // Writing several buffers from one kernel must not make it depend on itself through another kernel.
    const kernels = group(nodes, order, materialized, options.fusion !== false);
    const cyclic = findCycle(kernels, materialized);
    if (!cyclic) return { materialized, kernels: schedule(kernels, materialized), reasons };
    const shared = cyclic.anchor ?? cyclic.reductions[0];
    if (!shared || materialized.has(shared)) throw new Error(`internal: kernel fusion made a cycle through ${cyclic.outputs.map((o) => o.op).join(", ")}`);
    give(shared, "its kernel would wait for itself");
  }
}

/**
 * An operand worth recomputing at every load: at most two arithmetic ops on
 * buffers, through reshapes and broadcasts only (no reduction, no transpose).
 */
function isCheapPrologue(x: Node, materialized: ReadonlySet<Node>): boolean {
  const inline = closure(x, materialized);
  if (inline.some((n) => isAnchor(n) || n.op === "transpose")) return false;
  return inline.filter((n) => OP_FAMILY[n.op] === "elementwise" && n.op !== "const").length <= 2;
}

/** A view (reshape) of a buffer reads the buffer itself. */
function isFlatOfMaterialized(n: Node, m: ReadonlySet<Node>): boolean {
  return m.has(n) || (isFlat(n) && isFlatOfMaterialized(n.inputs[0]!, m));
}

/** Whether two buffers whose expressions both contain anchor `a` can be written by a's one kernel. */
function compatible(x: Node, y: Node, a: Node, m: ReadonlySet<Node>): boolean {
  if (!isReduce(a)) return dimEq(numel(x.shape), numel(y.shape)) && dimEq(numel(x.shape), numel(a.shape));
  const row = rowOf(a);
  const fits = (n: Node) => dimEq(numel(n.shape), numel(row.full)) || dimEq(numel(n.shape), numel(reducedShape(row)));
  return fits(x) && fits(y) && [x, y].every((n) => closure(n, m).filter(isReduce).every((r) => sameRow(row, rowOf(r))));
}

/** Kernels for the buffers (`schedule` orders them). */
function group(nodes: readonly Node[], order: ReadonlyMap<Node, number>, materialized: ReadonlySet<Node>, join: boolean): KernelGroup[] {
  const targets = nodes.filter((n) => materialized.has(n) && !isSource(n) && !(isFlat(n) && materialized.has(n.inputs[0]!)));
  interface Draft {
    kind: KernelKind;
    anchor?: Node;
    reductions: Set<Node>;
    outputs: Node[];
  }
  const drafts: Draft[] = [];
  const draftOf = new Map<Node, Draft>(); // output or anchor -> its kernel
  const leaves = (x: Node) => closure(x, materialized).flatMap((n) => n.inputs).filter((i) => materialized.has(i) && i !== x);

  for (const x of targets) {
    const inline = closure(x, materialized);
    const anchors = inline.filter(isAnchor);
    const core = anchors.find((a) => !isReduce(a));
    const reductions = anchors.filter(isReduce);
    let d: Draft | undefined = anchors.map((a) => draftOf.get(a)).find((k) => k !== undefined);
    if (!d) {
      // A pointwise buffer joins an earlier pointwise or epilogue kernel of its size that writes what it reads.
      if (join && anchors.length === 0) d = joinable(x, leaves(x), drafts, draftOf, materialized);
      if (!d) {
        d = { kind: core ? (OP_FAMILY[core.op] as KernelKind) : reductions.length ? "row" : "pointwise", reductions: new Set(), outputs: [] };
        if (core) d.anchor = core;
        drafts.push(d);
      }
    }
    for (const r of reductions) {
      d.reductions.add(r);
      draftOf.set(r, d);
    }
    if (core) draftOf.set(core, d);
    d.outputs.push(x);
    draftOf.set(x, d);
  }
  // Views of buffers share them; they need no kernel.
  const kernels = drafts.map((d) => {
    const reductions = [...d.reductions].sort((a, b) => order.get(a)! - order.get(b)!);
    const k: KernelGroup = { kind: d.kind, reductions, outputs: d.outputs, ...(d.anchor ? { anchor: d.anchor } : {}), ...(reductions.length ? { row: rowOf(reductions[0]!) } : {}) };
    return k;
  });
  return kernels;
}

/** An existing kernel that x can join: same iteration space, reading its outputs at the same index, and nothing in between. */
function joinable(
  x: Node,
  reads: readonly Node[],
  drafts: readonly { kind: KernelKind; anchor?: Node; reductions: Set<Node>; outputs: Node[] }[],
  draftOf: ReadonlyMap<Node, (typeof drafts)[number]>,
  materialized: ReadonlySet<Node>,
) {
  const size = numel(x.shape);
  for (const r of reads) {
    const d = draftOf.get(r);
    if (!d) continue;
    // Another thread of the kernel writes what lies at any other index: only same-index reads of its outputs are safe.
    if (!d.outputs.every((o) => readsAtSameIndex(x, o, materialized))) continue;
    // A row kernel's thread owns a row: x may join at the row's reduced size, reading the row's own values.
    const row = d.kind === "row" ? rowOf([...d.reductions][0]!) : undefined;
    const space: Dim = row ? numel(reducedShape(row)) : d.anchor ? numel(d.anchor.shape) : numel(d.outputs[0]!.shape);
    if (!dimEq(space, size) || (row && !d.outputs.every((o) => dimEq(numel(o.shape), space)))) continue;
    // Every other buffer x reads must come from a kernel before d (or d itself).
    const position = drafts.indexOf(d);
    if (reads.every((y) => {
      const k = draftOf.get(y);
      return k === undefined || drafts.indexOf(k) <= position;
    })) return d;
  }
  return undefined;
}

/** Whether x's expression reads buffer `b` only at x's own flat index (through elementwise ops and reshapes). */
export function readsAtSameIndex(x: Node, b: Node, materialized: ReadonlySet<Node>): boolean {
  const inline = closure(x, materialized);
  const within = new Set(inline);
  within.add(b);
  return inline.every((n) => !dependsOn(n, b, within) || n === b || OP_FAMILY[n.op] === "elementwise" || isFlat(n));
}

function dependencies(kernels: readonly KernelGroup[], materialized: ReadonlySet<Node>): Map<KernelGroup, Set<KernelGroup>> {
  const producer = new Map<Node, KernelGroup>();
  for (const k of kernels) for (const o of k.outputs) producer.set(o, k);
  const deps = new Map<KernelGroup, Set<KernelGroup>>();
  for (const k of kernels) {
    const s = new Set<KernelGroup>();
    for (const o of k.outputs) {
      for (const n of closure(o, materialized)) {
        for (const i of n.inputs) {
          const p = producer.get(resolveView(i, materialized));
          if (p && p !== k) s.add(p);
        }
      }
    }
    deps.set(k, s);
  }
  return deps;
}

/** A kernel on a dependency cycle, if there is one. */
function findCycle(kernels: readonly KernelGroup[], materialized: ReadonlySet<Node>): KernelGroup | undefined {
  const deps = dependencies(kernels, materialized);
  const state = new Map<KernelGroup, "visiting" | "done">();
  const visit = (k: KernelGroup): KernelGroup | undefined => {
    if (state.get(k) === "done") return undefined;
    if (state.get(k) === "visiting") return k;
    state.set(k, "visiting");
    for (const d of deps.get(k)!) {
      const c = visit(d);
      if (c) return c;
    }
    state.set(k, "done");
    return undefined;
  };
  for (const k of kernels) {
    const c = visit(k);
    if (c) return c;
  }
  return undefined;
}

/** Orders kernels so that each follows the producers of what it reads (there is no cycle: see partition). */
function schedule(kernels: readonly KernelGroup[], materialized: ReadonlySet<Node>): KernelGroup[] {
  const deps = dependencies(kernels, materialized);
  const out: KernelGroup[] = [];
  const done = new Set<KernelGroup>();
  const visit = (k: KernelGroup) => {
    if (done.has(k)) return;
    done.add(k);
    for (const d of deps.get(k)!) visit(d);
    out.push(k);
  };
  for (const k of kernels) visit(k);
  return out;
}

/** The buffer a view reads. */
export function resolveView(n: Node, materialized: ReadonlySet<Node>): Node {
  let v = n;
  while (isFlat(v) && !isProducedHere(v, materialized)) v = v.inputs[0]!;
  return v;
}

function isProducedHere(n: Node, materialized: ReadonlySet<Node>): boolean {
  return materialized.has(n) && !materialized.has(n.inputs[0]!);
}
