// Legality: whether an expression over buffers can be computed by one kernel,
// and, when it cannot, which value should get a buffer (and why). partition
// (kernels.ts) gives buffers until every expression passes.

import { dimEq, numel } from "../../runtime/program/dim.js";
import { OP_FAMILY } from "../../runtime/program/ops.js";
import { inputAt, isNonEmpty, lookup } from "../ir/checked.js";
import type { Node } from "../ir/node.js";
import { MAX_KERNEL_BUFFERS, byOrder, closure, dependents, dependsOn, isAnchor, isFlat, isReduce, isSource, reaching, readsRowIndex, reducedShape, rowOf, sameRow, type AnchorNode, type ReduceNode, type RowStructure } from "./groups.js";

/** Why x's inline expression cannot be one kernel, and which node should get a buffer to fix it; undefined if it can. */
export function violation(x: Node, inline: readonly Node[], order: ReadonlyMap<Node, number>): { fix: Node; why: string } | undefined {
  return structural(x, inline, order) ?? tooManyBuffers(x, inline, order);
}

/**
 * When x's expression reads more buffers than a kernel may bind: the inline
 * value to give a buffer, the one that reads the most buffers while fitting in
 * a kernel of its own (the longest piece of a chain that one kernel can
 * compute), else the one that reads the most; undefined when no inline value
 * reads two (a concat of too many tensors: nothing to cut).
 */
function tooManyBuffers(x: Node, inline: readonly Node[], order: ReadonlyMap<Node, number>): { fix: Node; why: string } | undefined {
  const inlineSet = new Set(inline);
  const reads = new Set(inline.flatMap((n) => n.inputs).filter((i) => !inlineSet.has(i)));
  if (reads.size + 1 <= MAX_KERNEL_BUFFERS) return undefined;
  // The buffers each inline value reads, inputs first (topological order, no recursion).
  const leaves = new Map<Node, ReadonlySet<Node>>();
  for (const n of [...inline].sort(byOrder(order))) {
    const s = new Set<Node>();
    for (const i of n.inputs) {
      const l = leaves.get(i);
      if (l) for (const b of l) s.add(b);
      else if (!inlineSet.has(i)) s.add(i);
    }
    leaves.set(n, s);
  }
  let fits: Node | undefined;
  let widest: Node | undefined;
  const count = (n: Node | undefined) => (n === undefined ? 0 : lookup(leaves, n, "an inline value's reads").size);
  for (const n of inline) {
    if (n === x || isAnchor(n) || isFlat(n) || OP_FAMILY[n.op] !== "elementwise") continue;
    const k = count(n);
    if (k < 2 || k >= reads.size) continue;
    if (k + 1 <= MAX_KERNEL_BUFFERS && k > count(fits)) fits = n;
    if (k > count(widest)) widest = n;
  }
  const fix = fits ?? widest;
  return fix && { fix, why: `the expression reads ${reads.size} buffers, more than a kernel may bind (${MAX_KERNEL_BUFFERS} with its output)` };
}

function structural(x: Node, inline: readonly Node[], order: ReadonlyMap<Node, number>): { fix: Node; why: string } | undefined {
  const anchors = inline.filter(isAnchor).sort(byOrder(order));
  const cores = anchors.filter((a) => !isReduce(a));
  const reductions = anchors.filter(isReduce);
  const inlineSet = new Set(inline);
  if (isNonEmpty(cores)) {
    // Keep the latest contraction as this kernel's; the earlier ones get buffers.
    const [core, second] = cores;
    if (second !== undefined) return { fix: core === x ? second : core, why: "two contractions in one expression" };
    if (reductions.length > 0) return { fix: domainEnd(core, inline, inlineSet), why: "a reduction reads a contraction's result" };
    if (core !== x && !dimEq(numel(core.shape), numel(x.shape))) return { fix: domainEnd(core, inline, inlineSet), why: "the epilogue has another size than the contraction" };
    // The epilogue reads the accumulator at the output's own index: only elementwise steps may lie between.
    const afterCore = dependents(inline, [core], inlineSet);
    for (const n of inline) {
      if (n === core || !afterCore.has(n)) continue;
      if (!(OP_FAMILY[n.op] === "elementwise" || isFlat(n))) return { fix: domainEnd(core, inline, inlineSet), why: `the epilogue reads the ${core.op} through ${n.op}` };
    }
    return undefined;
  }
  if (isNonEmpty(reductions)) {
    // The kernel's row is the last reduction's; reductions over other rows happen before its input.
    const last = reductions[reductions.length - 1];
    const first = reductions[0];
    const row = rowOf(last);
    const other = reductions.find((r) => !sameRow(row, rowOf(r)));
    if (other) {
      const input = inputAt(last, 0);
      const upstream = !isSource(input) && inline.includes(input) && dependsOn(input, other, inlineSet);
      return { fix: upstream ? input : other, why: "reductions over different rows" };
    }
    const full = numel(row.full);
    const reduced = numel(reducedShape(row));
    const afterReductions = dependents(inline, reductions, inlineSet);
    for (const n of inline) {
      if (!afterReductions.has(n) || isReduce(n)) continue;
      // Values computed from the reductions live on the row's full or reduced shape (scalars broadcast anywhere).
      if (!dimEq(numel(n.shape), full) && !dimEq(numel(n.shape), reduced) && n.shape.length > 0) return { fix: first, why: `a value of another size (${n.op}) depends on the reduction` };
    }
    if (!dimEq(numel(x.shape), full) && !dimEq(numel(x.shape), reduced) && x.shape.length > 0) return { fix: first, why: "the output has another size than the row" };
    const off = offRowRead(x, inline, reductions, row);
    if (off) return { fix: off.reduction, why: `a ${off.reduction.op} read off its row (by ${off.reader.op})` };
    return undefined;
  }
  return undefined;
}

/** Where a row kernel evaluates a value: at a row's index, at the full index of the row's element, or at any other index. */
type RowIndex = "row" | "full" | "elsewhere";

/**
 * A row kernel holds its reductions' results at the row's index, so its
 * expressions may read a reduction there only: outputs of the row's size are
 * computed at the row's index, the other outputs and the reductions' inputs
 * at the full index, and a broadcast takes the full index (or the row's) to
 * the row's when it spreads the row (readsRowIndex; the WGSL row kernel maps
 * the same broadcasts). Returns the first reduction x's expression reads
 * anywhere else (across rows, or through a transpose), and the node reading it.
 */
function offRowRead(x: Node, inline: readonly Node[], reductions: readonly ReduceNode[], row: RowStructure): { reduction: ReduceNode; reader: Node } | undefined {
  const inlineSet = new Set(inline);
  const start: RowIndex = dimEq(numel(x.shape), numel(reducedShape(row))) ? "row" : "full";
  const stack: { n: Node; at: RowIndex; reader: Node }[] = [{ n: x, at: start, reader: x }, ...reductions.map((r) => ({ n: inputAt(r, 0), at: "full" as const, reader: r }))];
  const seen = new Set<string>();
  for (let s = stack.pop(); s !== undefined; s = stack.pop()) {
    const { n, at, reader } = s;
    const key = `${n.id}@${at}`;
    if (!inlineSet.has(n) || seen.has(key)) continue;
    seen.add(key);
    if (isReduce(n)) {
      // Its own input is walked from the full index (the start).
      if (at !== "row") return { reduction: n, reader };
      continue;
    }
    const next: RowIndex = OP_FAMILY[n.op] === "elementwise" || isFlat(n) ? at : n.op === "broadcast" && at !== "elsewhere" && readsRowIndex(n, row, at) ? "row" : "elsewhere";
    for (const i of n.inputs) stack.push({ n: i, at: next, reader: n });
  }
  return undefined;
}

/**
 * The last value still computed at the contraction's own index: following
 * elementwise consumers from the core while they keep its size. Giving this a
 * buffer keeps the contraction's epilogue and hands its result to the rest.
 */
function domainEnd(core: Node, inline: readonly Node[], inlineSet: ReadonlySet<Node>): Node {
  const pointwise = (m: Node) => OP_FAMILY[m.op] === "elementwise" || isFlat(m);
  const afterCore = dependents(inline, [core], inlineSet);
  // Nodes with a path from the core that goes through something not elementwise.
  const offPath = reaching(inline, (m) => m !== core && afterCore.has(m) && !pointwise(m), inlineSet);
  // Nodes read by an inline node that leaves the contraction's domain (another size, or not elementwise).
  const feedsOutside = new Set(inline.filter((m) => !pointwise(m) || !dimEq(numel(m.shape), numel(core.shape))).flatMap((m) => m.inputs));
  let end = core;
  for (const n of inline) {
    if (n === core || !afterCore.has(n)) continue;
    if (!pointwise(n) || !dimEq(numel(n.shape), numel(core.shape))) continue;
    // Every inline path from the core to n must stay elementwise.
    if (!offPath.has(n) && feedsOutside.has(n)) end = n;
  }
  return end;
}

/**
 * An operand worth recomputing at every load: at most two arithmetic ops on
 * buffers, through reshapes and broadcasts only (no reduction, no transpose,
 * slice or pad: a tile would gather its elements one by one; no random draw,
 * ten Philox rounds per load).
 */
export function isCheapPrologue(x: Node, materialized: ReadonlySet<Node>): boolean {
  const inline = closure(x, materialized);
  if (inline.some((n) => isAnchor(n) || n.op === "transpose" || n.op === "slice" || n.op === "pad" || n.op === "random")) return false;
  return inline.filter((n) => OP_FAMILY[n.op] === "elementwise" && n.op !== "const").length <= 2;
}

/** A view (reshape) of a buffer reads the buffer itself. */
export function isFlatOfMaterialized(n: Node, m: ReadonlySet<Node>): boolean {
  let v = n;
  while (!m.has(v) && isFlat(v)) v = inputAt(v, 0);
  return m.has(v);
}

/** Whether two buffers whose expressions both contain anchor `a` can be written by a's one kernel. */
export function compatible(x: Node, y: Node, a: AnchorNode, m: ReadonlySet<Node>): boolean {
  if (!isReduce(a)) return dimEq(numel(x.shape), numel(y.shape)) && dimEq(numel(x.shape), numel(a.shape));
  const row = rowOf(a);
  const fits = (n: Node) => dimEq(numel(n.shape), numel(row.full)) || dimEq(numel(n.shape), numel(reducedShape(row)));
  return fits(x) && fits(y) && [x, y].every((n) => closure(n, m).filter(isReduce).every((r) => sameRow(row, rowOf(r))));
}
