// A row kernel: reductions of one full shape over the same axes, with the
// elementwise work before, between and after them. Each output row is owned
// either by one thread (short rows, many of them: softmax over 10 classes, a
// bias gradient over the batch) or by one workgroup that reduces in
// workgroup memory (long rows). Reductions run one after the other over the
// row, so a later one can use an earlier one's result (softmax, layer norm,
// cross-entropy with its gradient).

import { REDUCTIONS } from "../../../runtime/program/reductions.js";
import { dimEq, numel, type Dim } from "../../../runtime/program/dim.js";
import type { GpuKernel } from "../../../runtime/program/gpu.js";
import type { Node } from "../../ir/node.js";
import { readsRowIndex, reducedShape, type ReduceNode, type RowStructure } from "../../fusion/kernels.js";
import { inputAt } from "../../ir/checked.js";
import { wgslType } from "./expr.js";
import { coord, dimExpr, stridesOf } from "./index-math.js";
import { KernelBuilder, type KernelEnv } from "./kernel.js";

const THREAD_ROWS = 64;
const WG_ROW = 256;

/** The flat index into the full shape of row `o`, position `r` within the row. */
function fullIndex(row: RowStructure, o: string, r: string): string {
  const kept = row.full.map((_, i) => i).filter((i) => !row.axes.includes(i));
  const keptShape = kept.map((i) => row.full[i]);
  const redShape = row.axes.map((i) => row.full[i]);
  const strides = stridesOf(row.full);
  const trailing = row.axes.every((a, j) => a === row.full.length - row.axes.length + j);
  if (trailing) return `${o} * ${dimExpr(numel(redShape))} + ${r}`;
  const term = (idx: string, shape: readonly Dim[], j: number, stride: Dim) => {
    const c = coord(idx, shape, j);
    return stride === 1 ? c : `${c} * ${dimExpr(stride)}`;
  };
  const terms = [...kept.map((axis, j) => term(o, keptShape, j, strides[axis])), ...row.axes.map((axis, j) => term(r, redShape, j, strides[axis]))];
  return terms.join(" + ");
}

export function rowKernel(env: KernelEnv, name: string, row: RowStructure, reductions: readonly ReduceNode[], outputs: readonly Node[]): GpuKernel {
  const k = new KernelBuilder(env, name, [...outputs, ...reductions]);
  const e = k.emitter;
  const rows = numel(reducedShape(row));
  const length = numel(row.axes.map((a) => row.full[a]));
  // A workgroup per row only when there are few rows to spread over the device and each is long:
  // a thread per row wins otherwise (and by 4x on a software adapter, where barriers are dear).
  const fewRows = typeof rows === "number" && rows <= 64;
  const perWorkgroup = fewRows && (typeof length !== "number" || length >= 256);
  // Reductions are held at the row's index "o"; legality (readsRowIndex) lets outputs reach them only through broadcasts that read there.
  // A scalar is read at its one index, 0u: a kernel of one row holds its reductions there as well.
  const oneRow = dimEq(rows, 1);
  k.mapBroadcast = (n, idx) => ((idx === "f" && readsRowIndex(n, row, "full")) || (idx === "o" && inputAt(n, 0).shape.length > 0 && readsRowIndex(n, row, "row")) ? "o" : undefined);
  const hold = (red: ReduceNode, v: string) => {
    k.setLocal(red, "o", v);
    if (oneRow) k.setLocal(red, "0u", v);
  };
  // Outputs of the row's size are written once per row; the others walk the full row. (When the
  // reduced axes have one element in all, the two coincide and the row's index serves both.)
  const isFull = (n: Node) => !dimEq(numel(n.shape), rows);

  let preamble = "";
  if (perWorkgroup) {
    e.line(`let o = wg;`);
    e.line(`if (o >= ${dimExpr(rows)}) { return; }`);
  } else {
    e.line(`let o = wg * ${THREAD_ROWS}u + lid;`);
    e.line(`if (o >= ${dimExpr(rows)}) { return; }`);
  }
  const loopHeader = perWorkgroup ? `for (var r = lid; r < ${dimExpr(length)}; r = r + ${WG_ROW}u)` : `for (var r = 0u; r < ${dimExpr(length)}; r = r + 1u)`;
  const scratch: string[] = [];

  reductions.forEach((red, j) => {
    k.noteOp(red.op);
    const input = inputAt(red, 0);
    const t = wgslType(input);
    const acc = `acc${j}`;
    const isArg = red.op === "argmax";
    const rule = REDUCTIONS[red.op];
    e.line(`var ${acc}: ${t} = ${rule.wgslStart(input.dtype)};`);
    if (isArg) e.line(`var ${acc}i: u32 = 0u;`);
    e.block(loopHeader, () => {
      e.line(`let f = ${fullIndex(row, "o", "r")};`);
      const v = e.value(input, "f");
      e.line(rule.wgslFold(acc, v, `${acc}i`, "r"));
    });
    if (perWorkgroup) {
      const sv = `sv${j}`;
      scratch.push(`var<workgroup> ${sv}: array<${t}, ${WG_ROW}>;`);
      if (isArg) scratch.push(`var<workgroup> ${sv}i: array<u32, ${WG_ROW}>;`);
      e.line(`${sv}[lid] = ${acc};`);
      if (isArg) e.line(`${sv}i[lid] = ${acc}i;`);
      e.line(`workgroupBarrier();`);
      e.block(`for (var s = ${WG_ROW / 2}u; s > 0u; s = s >> 1u)`, () => {
        e.block(`if (lid < s)`, () => {
          e.line(rule.wgslCombine(`${sv}[lid]`, `${sv}[lid + s]`, `${sv}i[lid]`, `${sv}i[lid + s]`));
        });
        e.line(`workgroupBarrier();`);
      });
      e.line(`let ${acc}r = ${isArg ? `i32(${sv}i[0])` : `${sv}[0]`};`);
      e.line(`workgroupBarrier();`);
      hold(red, `${acc}r`);
    } else {
      hold(red, isArg ? `i32(${acc}i)` : acc);
    }
  });

  // Outputs at the row's index first (one write per row), then over the full row.
  for (const out of outputs.filter((x) => !isFull(x))) {
    if (!perWorkgroup) {
      k.store(out, "o");
      continue;
    }
    // Every thread of the workgroup holds the row's values; one writes them.
    k.noteOp(out.op);
    const v = e.value(out, "o");
    e.line(`if (lid == 0u) { ${k.writeBuffer(out)}[o] = ${v}; }`);
    k.setLocal(out, "o", v);
  }
  const full = outputs.filter(isFull);
  if (full.length) {
    e.block(loopHeader, () => {
      e.line(`let f = ${fullIndex(row, "o", "r")};`);
      for (const out of full) k.store(out, "f");
    });
  }
  if (scratch.length) preamble = scratch.join("\n");
  const grid = [perWorkgroup ? { size: rows, per: 1 } : { size: rows, per: THREAD_ROWS }];
  return k.build({ workgroupSize: perWorkgroup ? WG_ROW : THREAD_ROWS, grid, preamble, body: e.code() });
}
