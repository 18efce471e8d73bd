// Grouping: once every value that needs a buffer has one (legality.ts), which
// kernel writes each buffer, and in what order the kernels run.

import { dimEq, numel, type Dim } from "../../runtime/program/dim.js";
import { inputAt, isNonEmpty, lookup, nonEmpty } from "../ir/checked.js";
import type { Node } from "../ir/node.js";
import {
  MAX_KERNEL_BUFFERS,
  byOrder,
  closure,
  isAnchor,
  isContraction,
  isFlat,
  isIndexed,
  isReduce,
  isSource,
  isWindow,
  readsAtSameIndex,
  reducedShape,
  resolveView,
  rowOf,
  type ContractionNode,
  type IndexedNode,
  type KernelGroup,
  type ReduceNode,
  type RowStructure,
  type WindowNode,
} from "./groups.js";

/** A kernel being assembled: its first output (and anchor) at once, more outputs and reductions as they come. */
type Draft = { outputs: [Node, ...Node[]] } & (
  | { readonly kind: "pointwise" }
  /** `row` is the first reduction's, as joinable reads it. */
  | { readonly kind: "row"; readonly row: RowStructure; readonly reductions: Set<ReduceNode> }
  | { readonly kind: "contraction"; readonly anchor: ContractionNode }
  | { readonly kind: "window"; readonly anchor: WindowNode }
  | { readonly kind: "indexed"; readonly anchor: IndexedNode }
);

function draft(x: Node, core: ContractionNode | WindowNode | IndexedNode | undefined, reductions: readonly ReduceNode[]): Draft {
  if (core && isIndexed(core)) return { kind: "indexed", anchor: core, outputs: [x] };
  if (core) return isContraction(core) ? { kind: "contraction", anchor: core, outputs: [x] } : { kind: "window", anchor: core, outputs: [x] };
  if (isNonEmpty(reductions)) return { kind: "row", row: rowOf(reductions[0]), reductions: new Set(), outputs: [x] };
  return { kind: "pointwise", outputs: [x] };
}

/** Kernels for the buffers (`schedule` orders them). */
export function group(nodes: readonly Node[], order: ReadonlyMap<Node, number>, materialized: ReadonlySet<Node>, join: boolean): KernelGroup[] {
  const targets = nodes.filter((n) => materialized.has(n) && !isSource(n) && !(isFlat(n) && materialized.has(inputAt(n, 0))));
  const drafts: Draft[] = [];
  const draftOf = new Map<Node, Draft>(); // output or anchor -> its kernel
  const leaves = (x: Node) => closure(x, materialized).flatMap((n) => n.inputs).filter((i) => materialized.has(i) && i !== x);
  // The buffers that share an anchor join its kernel whatever it binds (partition keeps that within
  // MAX_KERNEL_BUFFERS): a buffer may join a kernel only if all of them still fit.
  const anchorsOf = new Map(targets.map((x) => [x, closure(x, materialized).filter(isAnchor)] as const));
  const sharers = new Map<Node, Node[]>();
  for (const [x, anchors] of anchorsOf) {
    for (const a of anchors) {
      const list = sharers.get(a);
      if (list) list.push(x);
      else sharers.set(a, [x]);
    }
  }
  const fits = (x: Node, d: Draft): boolean => {
    const outputs = new Set<Node>(d.outputs);
    for (const o of outputs) for (const a of anchorsOf.get(o) ?? []) for (const y of sharers.get(a) ?? []) outputs.add(y);
    const bound = new Set([x, ...leaves(x)]);
    for (const o of outputs) for (const b of [o, ...leaves(o)]) bound.add(b);
    return bound.size <= MAX_KERNEL_BUFFERS;
  };

  for (const x of targets) {
    const inline = closure(x, materialized);
    const anchors = inline.filter(isAnchor);
    const core = anchors.find((a): a is ContractionNode | WindowNode | IndexedNode => isContraction(a) || isWindow(a) || isIndexed(a));
    const reductions = anchors.filter(isReduce);
    let d: Draft | undefined = anchors.map((a) => draftOf.get(a)).find((k) => k !== undefined);
    // A pointwise buffer joins an earlier pointwise or epilogue kernel of its size that writes what it reads.
    if (!d && join && anchors.length === 0) d = joinable(x, leaves(x), drafts, draftOf, materialized, fits);
    if (d) d.outputs.push(x);
    else {
      d = draft(x, core, reductions);
      drafts.push(d);
    }
    if (reductions.length > 0) {
      // Legality leaves reductions and a contraction apart, and a kernel's reductions over one row.
      if (d.kind !== "row") throw new Error(`internal: a ${d.kind} kernel was given a reduction`);
      for (const r of reductions) {
        d.reductions.add(r);
        draftOf.set(r, d);
      }
    }
    if (core) draftOf.set(core, d);
    draftOf.set(x, d);
  }
  // Views of buffers share them; they need no kernel.
  return drafts.map((d): KernelGroup => {
    if (d.kind !== "row") return d;
    const reductions = nonEmpty([...d.reductions].sort(byOrder(order)), "a row kernel's reductions");
    return { kind: "row", row: rowOf(reductions[0]), reductions, outputs: d.outputs };
  });
}

/** An existing kernel that x can join: same iteration space, reading its outputs at the same index, nothing in between, and bindings to spare. */
function joinable(x: Node, reads: readonly Node[], drafts: readonly Draft[], draftOf: ReadonlyMap<Node, Draft>, materialized: ReadonlySet<Node>, fits: (x: Node, d: Draft) => boolean): Draft | undefined {
  const size = numel(x.shape);
  for (const r of reads) {
    const d = draftOf.get(r);
    if (!d) continue;
    // Another thread of the kernel writes what lies at any other index: only same-index reads of its outputs are safe.
    if (!d.outputs.every((o) => readsAtSameIndex(x, o, materialized))) continue;
    // A row kernel's thread owns a row: x may join at the row's reduced size, reading the row's own values.
    const space: Dim = d.kind === "row" ? numel(reducedShape(d.row)) : d.kind === "pointwise" ? numel(d.outputs[0].shape) : numel(d.anchor.shape);
    if (!dimEq(space, size) || (d.kind === "row" && !d.outputs.every((o) => dimEq(numel(o.shape), space)))) continue;
    // Every other buffer x reads must come from a kernel before d (or d itself).
    const position = drafts.indexOf(d);
    if (!reads.every((y) => {
      const k = draftOf.get(y);
      return k === undefined || drafts.indexOf(k) <= position;
    })) continue;
    if (fits(x, d)) return d;
  }
  return undefined;
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

/**
 * A depth-first walk of the kernels' dependencies from each kernel in turn,
 * with an explicit stack (an unfused chain of primitives is a chain of
 * thousands of kernels): `finish` sees each kernel after its dependencies;
 * the walk stops at the first kernel found on a cycle and returns it.
 */
function walkDependencies(kernels: readonly KernelGroup[], materialized: ReadonlySet<Node>, finish: (k: KernelGroup) => void): KernelGroup | undefined {
  const deps = dependencies(kernels, materialized);
  const state = new Map<KernelGroup, "visiting" | "done">();
  for (const root of kernels) {
    if (state.has(root)) continue;
    state.set(root, "visiting");
    const frame = (k: KernelGroup) => ({ k, next: lookup(deps, k, "the kernels' dependencies")[Symbol.iterator]() });
    const stack = [frame(root)];
    for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
      const next = top.next.next();
      if (!next.done) {
        const d = next.value;
        if (state.get(d) === "visiting") return d;
        if (state.has(d)) continue;
        state.set(d, "visiting");
        stack.push(frame(d));
      } else {
        stack.pop();
        state.set(top.k, "done");
        finish(top.k);
      }
    }
  }
  return undefined;
}

/** A kernel on a dependency cycle, if there is one. */
export function findCycle(kernels: readonly KernelGroup[], materialized: ReadonlySet<Node>): KernelGroup | undefined {
  return walkDependencies(kernels, materialized, () => {});
}

/** Orders kernels so that each follows the producers of what it reads (there is no cycle: see partition). */
export function schedule(kernels: readonly KernelGroup[], materialized: ReadonlySet<Node>): KernelGroup[] {
  const out: KernelGroup[] = [];
  walkDependencies(kernels, materialized, (k) => out.push(k));
  return out;
}
