// The loop of a fused elementwise group, interpreted block by block.
//
// The group's output index space is walked in blocks of BLOCK elements. For
// each block every member is computed in order into a small scratch buffer
// (or, for the root, straight into its output), reading materialized inputs in
// place at the block's offset. Like numexpr, this keeps the working set in
// cache and allocates nothing per node or per step. Each member runs its op's
// loop, generated from the op table (kernels/loops.ts); nothing from a
// program is ever evaluated as JavaScript. This object is the
// pluggable part: a WebAssembly implementation of the same interface is the
// next step for CPU speed.

import { evalDim, type DimEnv } from "../program/dim.js";
import { isElementwise } from "../program/elementwise.js";
import { randomAt } from "../program/philox.js";
import type { ProgramNode } from "../program/program.js";
import { elementwiseLoop, type ElementwiseLoop } from "./kernels/loops.js";
import { strides, type Data, type Precision } from "./ndarray.js";

export const BLOCK = 2048;

/** Runs one fused step: `buffers[i]` is the materialized buffer of node i (or undefined). */
export type FusedRunner = (buffers: readonly (Data | undefined)[]) => void;

/** What turns a fused group into a runner; CpuExecutable takes any implementation of it. */
export type FusedCompiler = (
  nodes: readonly ProgramNode[],
  members: readonly number[],
  root: number,
  shapes: readonly (readonly number[])[],
  env: DimEnv,
  precision: Precision,
) => FusedRunner;

/** Where a member's values for the current block are: a scratch block, or a materialized buffer at the block's offset. */
interface Operand {
  scratch?: Data;
  /** Index of a materialized node read in place. */
  node?: number;
}

type Loop = (start: number, len: number, buffers: readonly (Data | undefined)[]) => void;
type Buffers = readonly (Data | undefined)[];

/** One member's step: its op's loop over the block, one closure per arity so that nothing is allocated per block. */
function elementwiseBlock(
  loop: ElementwiseLoop,
  t: Operand,
  ins: readonly Operand[],
  arr: (o: Operand, b: Buffers) => Data,
  off: (o: Operand, start: number) => number,
): Loop {
  const [a, b, c] = ins;
  switch (ins.length) {
    case 1:
      return (start, len, bs) => loop(arr(t, bs), off(t, start), arr(a!, bs), off(a!, start), len);
    case 2:
      return (start, len, bs) => loop(arr(t, bs), off(t, start), arr(a!, bs), off(a!, start), arr(b!, bs), off(b!, start), len);
    default:
      return (start, len, bs) => loop(arr(t, bs), off(t, start), arr(a!, bs), off(a!, start), arr(b!, bs), off(b!, start), arr(c!, bs), off(c!, start), len);
  }
}

function scratchFor(dtype: "f32" | "i32", precision: Precision): Data {
  return dtype === "i32" ? new Int32Array(BLOCK) : precision === "f64" ? new Float64Array(BLOCK) : new Float32Array(BLOCK);
}

/** Copies elements [start, start + len) of a strided view (shape, source strides, first element at `offset`) into dst[0..len). */
function gatherRange(dst: Data, src: Data, shape: readonly number[], srcStrides: readonly number[], start: number, len: number, offset = 0): void {
  const rank = shape.length;
  if (rank === 0) {
    dst.fill(src[offset]!, 0, len);
    return;
  }
  // The multi-index of `start`, and its source offset.
  const idx = new Array<number>(rank);
  let rest = start;
  let base = offset;
  for (let a = rank - 1; a >= 0; a--) {
    idx[a] = rest % shape[a]!;
    rest = Math.floor(rest / shape[a]!);
    base += idx[a]! * srcStrides[a]!;
  }
  const inner = shape[rank - 1]!;
  const innerStride = srcStrides[rank - 1]!;
  let k = 0;
  while (k < len) {
    const run = Math.min(inner - idx[rank - 1]!, len - k);
    if (innerStride === 0) dst.fill(src[base]!, k, k + run);
    else for (let j = 0, s = base; j < run; j++, s += innerStride) dst[k + j] = src[s]!;
    k += run;
    base += run * innerStride;
    idx[rank - 1]! += run;
    // Carry into the outer axes.
    for (let a = rank - 1; a > 0 && idx[a]! >= shape[a]!; a--) {
      base -= shape[a]! * srcStrides[a]!;
      idx[a] = 0;
      idx[a - 1]!++;
      base += srcStrides[a - 1]!;
    }
  }
}

/**
 * Elements [start, start + len) of a padded view into dst[0..len): the source
 * (row-major over `inShape`) at index - before where that lies inside it,
 * else `value`. Runs along the innermost axis, checking the outer axes once per run.
 */
function padRange(dst: Data, src: Data, shape: readonly number[], inShape: readonly number[], before: readonly number[], value: number, start: number, len: number): void {
  const rank = shape.length;
  if (rank === 0) {
    dst.fill(src[0]!, 0, len);
    return;
  }
  const inStrides = strides(inShape);
  const idx = new Array<number>(rank);
  let rest = start;
  for (let a = rank - 1; a >= 0; a--) {
    idx[a] = rest % shape[a]!;
    rest = Math.floor(rest / shape[a]!);
  }
  const last = rank - 1;
  const lo = before[last]!;
  const n = inShape[last]!;
  let k = 0;
  while (k < len) {
    const c = idx[last]!;
    const run = Math.min(shape[last]! - c, len - k);
    let base = 0;
    let inside = true;
    for (let a = 0; a < last && inside; a++) {
      const ci = idx[a]! - before[a]!;
      inside = ci >= 0 && ci < inShape[a]!;
      base += ci * inStrides[a]!;
    }
    if (!inside) dst.fill(value, k, k + run);
    else {
      for (let j = 0; j < run; j++) {
        const ci = c + j - lo;
        dst[k + j] = ci >= 0 && ci < n ? src[base + ci]! : value;
      }
    }
    k += run;
    idx[last]! += run;
    for (let a = last; a > 0 && idx[a]! >= shape[a]!; a--) {
      idx[a] = 0;
      idx[a - 1]!++;
    }
  }
}

export const prepareFused: FusedCompiler = (nodes, members, root, shapes, env, precision) => {
  const inGroup = new Set(members);
  const operands = new Map<number, Operand>();
  const loops: Loop[] = [];
  const total = shapes[root]!.reduce((a, b) => a * b, 1);
  const operandOf = (i: number): Operand => operands.get(i) ?? { node: i };
  // An operand's array and offset for the block at `start`, without allocating (this runs per op per block).
  const arr = (o: Operand, buffers: readonly (Data | undefined)[]): Data => o.scratch ?? buffers[o.node!]!;
  const off = (o: Operand, start: number): number => (o.scratch ? 0 : start);

  for (const m of members) {
    const n = nodes[m]!;
    const isRoot = m === root;
    // The root computes straight into its buffer; other members into scratch.
    const out: Operand = isRoot ? { node: m } : { scratch: scratchFor(n.dtype, precision) };
    switch (n.op) {
      case "const": {
        const s = scratchFor(n.dtype, precision);
        s.fill(typeof n.attrs.value === "number" ? n.attrs.value : evalDim(n.attrs.value, env));
        operands.set(m, { scratch: s });
        continue;
      }
      case "reshape":
      case "stopGradient":
        operands.set(m, operandOf(n.inputs[0]!));
        continue;
      case "iota": {
        const shape = shapes[m]!;
        const stride = strides(shape)[n.attrs.axis]!;
        const size = shape[n.attrs.axis]!;
        const s = out.scratch!;
        loops.push((start, len) => {
          for (let i = 0; i < len; i++) s[i] = Math.floor((start + i) / stride) % size;
        });
        operands.set(m, out);
        continue;
      }
      case "random": {
        // Each element from its own index; the key's buffer is looked up per block (a run may bind another array).
        const key = n.inputs[0]!;
        if (inGroup.has(key)) throw new Error("fused group: random's key is a member, not a materialized value");
        const { salt } = n.attrs;
        loops.push((start, len, buffers) => {
          const k = buffers[key]!;
          const t = arr(out, buffers);
          const o = off(out, start);
          for (let i = 0; i < len; i++) t[o + i] = randomAt(start + i, salt, k[0]!, k[1]!);
        });
        operands.set(m, out);
        continue;
      }
      case "broadcast":
      case "transpose": {
        const x = n.inputs[0]!;
        if (inGroup.has(x)) throw new Error(`fused group: ${n.op} of a member is not an index map of a materialized value`);
        const inShape = shapes[x]!;
        const inStrides = strides(inShape);
        let src: number[];
        if (n.op === "transpose") src = n.attrs.perm.map((p) => inStrides[p]!);
        else {
          src = shapes[m]!.map(() => 0);
          n.attrs.dims.forEach((d, i) => {
            if (inShape[i] !== 1) src[d] = inStrides[i]!;
          });
        }
        const shape = shapes[m]!;
        const s = out.scratch!;
        loops.push((start, len, buffers) => gatherRange(s, buffers[x]!, shape, src, start, len));
        operands.set(m, out);
        continue;
      }
      case "slice":
      case "pad": {
        const x = n.inputs[0]!;
        if (inGroup.has(x)) throw new Error(`fused group: ${n.op} of a member is not an index map of a materialized value`);
        const inShape = shapes[x]!;
        const shape = shapes[m]!;
        const s = out.scratch!;
        if (n.op === "slice") {
          const inStrides = strides(inShape);
          const offset = n.attrs.begin.reduce((o, b, i) => o + b * inStrides[i]!, 0);
          loops.push((start, len, buffers) => gatherRange(s, buffers[x]!, shape, inStrides, start, len, offset));
        } else {
          const { before, value } = n.attrs;
          loops.push((start, len, buffers) => padRange(s, buffers[x]!, shape, inShape, before, value, start, len));
        }
        operands.set(m, out);
        continue;
      }
    }
    if (!isElementwise(n.op)) throw new Error(`fused group: ${n.op} cannot be computed in an elementwise loop`);
    loops.push(elementwiseBlock(elementwiseLoop(n.op, n.dtype), out, n.inputs.map(operandOf), arr, off));
    operands.set(m, out);
  }

  // A root that forwards a member (a reshape of it) copies the member's block out.
  const rootOperand = operandOf(root);
  const copyOut = rootOperand.node !== root;
  return (buffers) => {
    for (let start = 0; start < total; start += BLOCK) {
      const len = Math.min(BLOCK, total - start);
      for (const loop of loops) loop(start, len, buffers);
      if (copyOut) {
        const x = arr(rootOperand, buffers);
        const xo = off(rootOperand, start);
        const o = buffers[root]!;
        for (let i = 0; i < len; i++) o[start + i] = x[xo + i]!;
      }
    }
  };
};
