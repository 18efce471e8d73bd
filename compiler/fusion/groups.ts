// What the WebGPU partition is made of: the kernel groups, one kind each with
// exactly the fields that kind has, the anchors kernels are built around, and
// the walks over inline expressions that legality (legality.ts) and grouping
// (grouping.ts) share.

import { dimEq, numel, shapeEq, type Shape } from "../../runtime/program/dim.js";
import { OP_FAMILY, type Op } from "../../runtime/program/ops.js";
import { inputAt, lookup, type NonEmpty } from "../ir/checked.js";
import type { Node, NodeOf } from "../ir/node.js";

/** A node of any one of the ops O (discriminated by `op`, like Node). */
export type NodeIn<O extends Op> = { [K in O]: NodeOf<K> }[O];

/** OP_FAMILY's contractions, windows and reductions by name (test/compiler/fusion checks the lists against it). */
export const CONTRACTION_OPS = ["matmul", "conv2d", "conv2dInputGrad", "conv2dFilterGrad"] as const;
export const WINDOW_OPS = ["maxPool2d", "maxPool2dGrad", "avgPool2d", "avgPool2dGrad"] as const;
export const REDUCTION_OPS = ["sum", "max", "argmax"] as const;
/** OP_FAMILY's gathers and scans: each is its own kernel, one thread per output element (see IndexedGroup). */
export const INDEXED_OPS = ["gather", "scatterAdd", "cumsum"] as const;

export type ContractionNode = NodeIn<(typeof CONTRACTION_OPS)[number]>;
export type WindowNode = NodeIn<(typeof WINDOW_OPS)[number]>;
export type ReduceNode = NodeIn<(typeof REDUCTION_OPS)[number]>;
export type IndexedNode = NodeIn<(typeof INDEXED_OPS)[number]>;
/** What a kernel is built around: a contraction, a window, a gather or scan, or a row's reduction. */
export type AnchorNode = ContractionNode | WindowNode | IndexedNode | ReduceNode;

export const isContraction = (n: Node): n is ContractionNode => OP_FAMILY[n.op] === "contraction";
export const isWindow = (n: Node): n is WindowNode => OP_FAMILY[n.op] === "window";
export const isReduce = (n: Node): n is ReduceNode => OP_FAMILY[n.op] === "reduce";
export const isIndexed = (n: Node): n is IndexedNode => OP_FAMILY[n.op] === "gather" || OP_FAMILY[n.op] === "scan";
export const isAnchor = (n: Node): n is AnchorNode => isContraction(n) || isWindow(n) || isIndexed(n) || isReduce(n);
export const isSource = (n: Node) => n.op === "input" || n.op === "param";
/**
 * The most buffers one kernel may bind (those it reads and those it writes):
 * as many as dlc's widest kernels (a contraction with the Adam update as its
 * epilogue) bind. An adapter has a limit (maxStorageBuffersPerShaderStage: 8
 * by default, 16 on lavapipe). Legality cuts an expression that reads more
 * (a value recomputed by every reader is recomputed once per kernel: the
 * gradient of a recurrence, h = z * h + ..., is a pointwise chain back through
 * every step, which every step's kernel recomputed whole, reading every step's
 * buffers), and grouping joins no buffer to a kernel that would then bind more.
 */
export const MAX_KERNEL_BUFFERS = 10;

/** Views whose index map is the identity on flat indices. */
export const isFlat = (n: Node) => n.op === "reshape" || n.op === "stopGradient";

/** The iteration space of a row kernel: reductions of `full` over `axes`. */
export interface RowStructure {
  readonly full: Shape;
  readonly axes: readonly number[];
}

/** One thread per element of the outputs (which all have the same number of elements). */
export interface PointwiseGroup {
  readonly kind: "pointwise";
  /** The buffers this kernel writes, in topological order. */
  readonly outputs: NonEmpty<Node>;
}

/** Reductions over one row structure, with the elementwise work before, between and after them. */
export interface RowGroup {
  readonly kind: "row";
  readonly row: RowStructure;
  /** In topological order. */
  readonly reductions: NonEmpty<ReduceNode>;
  readonly outputs: NonEmpty<Node>;
}

/** A matmul or convolution with its prologues and its epilogue. */
export interface ContractionGroup {
  readonly kind: "contraction";
  readonly anchor: ContractionNode;
  readonly outputs: NonEmpty<Node>;
}

/** A pooling op or its gradient, with its epilogue. */
export interface WindowGroup {
  readonly kind: "window";
  readonly anchor: WindowNode;
  readonly outputs: NonEmpty<Node>;
}

/**
 * A gather, scatterAdd or cumsum, with its epilogue: one thread per element
 * of its result, reading its operands from buffers at indices it computes
 * (the index data, or a loop along the scanned axis), so its operands always
 * have buffers and it never runs inside another kernel.
 */
export interface IndexedGroup {
  readonly kind: "indexed";
  readonly anchor: IndexedNode;
  readonly outputs: NonEmpty<Node>;
}

export type KernelGroup = PointwiseGroup | RowGroup | ContractionGroup | WindowGroup | IndexedGroup;
export type KernelKind = KernelGroup["kind"];

/** The contraction, window, gather or scan a kernel is built around, if it has one. */
export function anchorOf(k: KernelGroup): ContractionNode | WindowNode | IndexedNode | undefined {
  return k.kind === "contraction" || k.kind === "window" || k.kind === "indexed" ? k.anchor : undefined;
}

export function rowOf(r: ReduceNode): RowStructure {
  return { full: inputAt(r, 0).shape, axes: r.op === "argmax" ? [r.attrs.axis] : r.attrs.axes };
}

export function sameRow(a: RowStructure, b: RowStructure): boolean {
  return shapeEq(a.full, b.full) && a.axes.length === b.axes.length && a.axes.every((x, i) => x === b.axes[i]);
}

export const reducedShape = (row: RowStructure): Shape => row.full.filter((_, i) => !row.axes.includes(i));

/**
 * Whether a broadcast in a row kernel reads its input at the row's own index,
 * where the kernel holds its reductions' results: evaluated at the full index
 * ("full": it spreads the row's reduced values over the row), or at the row
 * index ("row": it only adds axes of one element). Axes of one element carry
 * no index, on either side. Legality and the WGSL row kernel both ask this.
 */
export function readsRowIndex(n: NodeOf<"broadcast">, row: RowStructure, at: "full" | "row"): boolean {
  const x = inputAt(n, 0);
  const mapped = n.attrs.dims.filter((_, i) => x.shape[i] !== 1);
  if (!dimEq(numel(x.shape), numel(reducedShape(row)))) return false;
  if (at === "row") return dimEq(numel(n.shape), numel(x.shape)) && mapped.every((d, i) => i === 0 || d > mapped[i - 1]);
  // The output has the full shape's layout (up to axes of one element); the kept axes of the full shape, as output axes.
  const outAxes = axesBeyondOne(n.shape);
  const fullAxes = axesBeyondOne(row.full);
  if (!shapeEq(outAxes.map((i) => n.shape[i]), fullAxes.map((i) => row.full[i]))) return false;
  const kept = fullAxes.flatMap((a, j) => (row.axes.includes(a) ? [] : [outAxes[j]]));
  return mapped.length === kept.length && mapped.every((d, i) => d === kept[i]);
}

const axesBeyondOne = (s: Shape): number[] => s.map((_, i) => i).filter((i) => s[i] !== 1);

/** Compares nodes by their place in `order` (the graph's topological order). */
export const byOrder = (order: ReadonlyMap<Node, number>) => (a: Node, b: Node) => lookup(order, a, "the node order") - lookup(order, b, "the node order");

/** The nodes an expression for `x` computes inline: back from x through values without buffers. */
export function closure(x: Node, materialized: ReadonlySet<Node>): Node[] {
  const seen = new Set<Node>([x]);
  const stack = [...x.inputs];
  for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
    if (seen.has(n) || materialized.has(n)) continue;
    seen.add(n);
    stack.push(...n.inputs);
  }
  return [...seen];
}

export function dependsOn(n: Node, target: Node, within: ReadonlySet<Node>): boolean {
  return dependsOnAny(n, [target], within);
}

export function dependsOnAny(n: Node, targets: readonly Node[], within: ReadonlySet<Node>): boolean {
  const goal = new Set(targets);
  const seen = new Set<Node>();
  const stack = [n];
  for (let m = stack.pop(); m !== undefined; m = stack.pop()) {
    if (goal.has(m)) return true;
    if (seen.has(m)) continue;
    seen.add(m);
    for (const i of m.inputs) if (within.has(i)) stack.push(i);
  }
  return false;
}

/**
 * The nodes among `nodes` from which a node satisfying `goal` can be reached
 * back through inputs in `within` (a node reaches itself): dependsOnAny for
 * every node at once, each node visited once, with an explicit stack.
 */
export function reaching(nodes: readonly Node[], goal: (n: Node) => boolean, within: ReadonlySet<Node>): Set<Node> {
  const reaches = new Map<Node, boolean>();
  for (const start of nodes) {
    if (reaches.has(start)) continue;
    const frame = (n: Node) => ({ n, inputs: n.inputs[Symbol.iterator](), found: goal(n) });
    const stack = [frame(start)];
    for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
      const next = top.found ? undefined : top.inputs.next();
      if (next && !next.done) {
        if (!within.has(next.value)) continue;
        const known = reaches.get(next.value);
        if (known !== undefined) top.found = known;
        else stack.push(frame(next.value));
      } else {
        stack.pop();
        reaches.set(top.n, top.found);
        const parent = stack.at(-1);
        if (parent && top.found) parent.found = true;
      }
    }
  }
  return new Set(nodes.filter((n) => reaches.get(n)));
}

/** The nodes among `nodes` that depend on one of `targets` through nodes of `within` (each target depends on itself). */
export function dependents(nodes: readonly Node[], targets: readonly Node[], within: ReadonlySet<Node>): Set<Node> {
  const goal = new Set(targets);
  return reaching(nodes, (n) => goal.has(n), within);
}

/** Whether x's expression reads buffer `b` only at x's own flat index (through elementwise ops and reshapes). */
export function readsAtSameIndex(x: Node, b: Node, materialized: ReadonlySet<Node>): boolean {
  const inline = closure(x, materialized);
  const within = new Set(inline);
  within.add(b);
  const reads = dependents(inline, [b], within);
  return inline.every((n) => !reads.has(n) || n === b || OP_FAMILY[n.op] === "elementwise" || isFlat(n));
}

/** The buffer a view reads. */
export function resolveView(n: Node, materialized: ReadonlySet<Node>): Node {
  let v = n;
  while (isFlat(v) && !isProducedHere(v, materialized)) v = inputAt(v, 0);
  return v;
}

function isProducedHere(n: Node, materialized: ReadonlySet<Node>): boolean {
  return materialized.has(n) && !materialized.has(inputAt(n, 0));
}
