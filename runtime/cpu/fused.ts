// The loop of a fused elementwise group, interpreted block by block.
//
// The group's output index space is walked in blocks of BLOCK elements. For
// each block every member is computed in order into a small scratch buffer
// (or, for the root, straight into its output), reading materialized inputs in
// place at the block's offset. Like numexpr, this keeps the working set in
// cache and allocates nothing per node or per step; unlike generated code,
// nothing from a program is ever evaluated as JavaScript. This object is the
// pluggable part: a WebAssembly implementation of the same interface is the
// next step for CPU speed.

import { evalDim, type DimEnv } from "../program/dim.js";
import { isBinary, isUnary } from "../program/ops.js";
import type { ProgramNode } from "../program/program.js";
import { BINARY_LOOPS, UNARY_LOOPS } from "./kernels/loops.js";
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

function scratchFor(dtype: "f32" | "i32", precision: Precision): Data {
  return dtype === "i32" ? new Int32Array(BLOCK) : precision === "f64" ? new Float64Array(BLOCK) : new Float32Array(BLOCK);
}

/** Copies elements [start, start + len) of a strided view (shape, source strides) into dst[0..len). */
function gatherRange(dst: Data, src: Data, shape: readonly number[], srcStrides: readonly number[], start: number, len: number): void {
  const rank = shape.length;
  if (rank === 0) {
    dst.fill(src[0]!, 0, len);
    return;
  }
  // The multi-index of `start`, and its source offset.
  const idx = new Array<number>(rank);
  let rest = start;
  let base = 0;
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
    }
    const ins = n.inputs.map(operandOf);
    const target = out;
    if (isUnary(n.op)) {
      const loop = UNARY_LOOPS[n.op];
      const a = ins[0]!;
      loops.push((start, len, buffers) => loop(arr(target, buffers), off(target, start), arr(a, buffers), off(a, start), len));
    } else if (isBinary(n.op)) {
      const loop = BINARY_LOOPS[n.op];
      const [a, b] = ins as [Operand, Operand];
      loops.push((start, len, buffers) => loop(arr(target, buffers), off(target, start), arr(a, buffers), off(a, start), arr(b, buffers), off(b, start), len));
    } else if (n.op === "where") {
      const [c, a, b] = ins as [Operand, Operand, Operand];
      loops.push((start, len, buffers) => {
        const o = arr(target, buffers);
        const oo = off(target, start);
        const cc = arr(c, buffers);
        const co = off(c, start);
        const x = arr(a, buffers);
        const xo = off(a, start);
        const y = arr(b, buffers);
        const yo = off(b, start);
        for (let i = 0; i < len; i++) o[oo + i] = cc[co + i] !== 0 ? x[xo + i]! : y[yo + i]!;
      });
    } else if (n.op === "cast") {
      const a = ins[0]!;
      const toInt = n.attrs.to === "i32";
      loops.push((start, len, buffers) => {
        const o = arr(target, buffers);
        const oo = off(target, start);
        const x = arr(a, buffers);
        const xo = off(a, start);
        if (toInt) for (let i = 0; i < len; i++) o[oo + i] = Math.trunc(x[xo + i]!);
        else for (let i = 0; i < len; i++) o[oo + i] = x[xo + i]!;
      });
    } else {
      throw new Error(`fused group: ${n.op} cannot be computed in an elementwise loop`);
    }
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
