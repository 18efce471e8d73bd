// The hardware family's product: a matrix product tiled through workgroup
// memory, the classic GPU kernel. A workgroup computes a rows x cols tile of
// the result; its invocations each accumulate a register block of it
// (register-tile.ts), strided across the tile so that neighbouring
// invocations read neighbouring words of workgroup memory and write
// neighbouring words of the result. The reduction advances `depth` steps at
// a time: all invocations stage the next slice of both operands into
// workgroup memory (zeros past the edges, so that no step needs a guard),
// wait at a barrier, and multiply out of it. With two buffers the next slice
// is staged while this one is used, one barrier per slice.
//
// Every contraction is such a product over operands read through index
// arithmetic (hardware.ts says how for matmul and each convolution); where
// an operand is a buffer whose elements lie in aligned runs of four along the
// axis staged side by side, a slice is loaded as vec4s. The epilogue is the
// software family's (epilogue.ts), on each register block.

import type { Dim } from "../../../runtime/program/dim.js";
import { tileThreads, type GpuKernel, type ProductShape, type WorkgroupTile } from "../../../runtime/program/gpu.js";
import type { Node } from "../../ir/node.js";
import { storeTile } from "./epilogue.js";
import type { Emitter } from "./expr.js";
import { dimExpr } from "./index-math.js";
import type { KernelBuilder, KernelEnv } from "./kernel.js";
import { accumulate, declareAccumulators } from "./register-tile.js";

/**
 * How to read one operand of the product: the left one is rows x depth, the right one depth x
 * cols; `outer` is a row of the left operand or a column of the right one. Both functions get
 * u32 WGSL expressions in range and may emit `let`s before the value they return.
 */
export interface OperandReader {
  /** The tile axis along which the operand is contiguous in memory: invocations side by side load along it. */
  readonly contiguous: "outer" | "depth";
  /** The element at (outer, k), as an f32 expression. */
  readonly scalar: (outer: string, k: string) => string;
  /**
   * The four elements from (outer, k) on along the contiguous axis, as one vec4 load, where the
   * operand's layout keeps them together in an aligned run (the caller guarantees outer or k is
   * a multiple of 4, and this kernel that the axis's size is).
   */
  readonly vec4?: (outer: string, k: string) => string;
}

export interface ImplicitGemm {
  readonly product: ProductShape;
  /** The WGSL name the readers and `result` use for which of the `count` products a workgroup computes. */
  readonly which: string;
  readonly lhs: OperandReader;
  readonly rhs: OperandReader;
  /** The flat index of the result's element (row, col) (u32 expressions). */
  readonly result: (row: string, col: string) => string;
}

const LHS = "lhsTile";
const RHS = "rhsTile";

/** The kernel of `gemm` with this tile; `anchor` is the contraction, `outputs` what the epilogue stores. */
export function workgroupGemm(k: KernelBuilder, env: KernelEnv, anchor: Node, outputs: readonly Node[], gemm: ImplicitGemm, tile: WorkgroupTile): GpuKernel {
  const e = k.emitter;
  const { rows: TM, cols: TN, depth: TK, block } = tile;
  const [TY, TX] = [TM / block[0], TN / block[1]];
  const threads = tileThreads(tile);
  const { rows, cols, depth, count } = gemm.product;
  const [M, N, K] = [rows, cols, depth].map(dimExpr) as [string, string, string];

  // Tiles numbered row-major within each product; the grid may round up past the last one.
  e.line(`let tilesN = (${N} + ${TN - 1}u) / ${TN}u;`);
  e.line(`let tiles = ((${M} + ${TM - 1}u) / ${TM}u) * tilesN;`);
  e.line(`let ${gemm.which} = wg / tiles;`);
  e.line(`if (${gemm.which} >= ${dimExpr(count)}) { return; }`);
  e.line(`let tile = wg % tiles;`);
  e.line(`let m0 = (tile / tilesN) * ${TM}u; let n0 = (tile % tilesN) * ${TN}u;`);
  e.line(`let ty = lid / ${TX}u; let tx = lid % ${TX}u;`);
  declareAccumulators(e, { r: block[0], c: block[1] });
  e.line(`let slices = (${K} + ${TK - 1}u) / ${TK}u;`);

  const stage = (buffer: string, k0: string) => {
    stageOperand(e, gemm.lhs, { shared: LHS, extent: TM, depth: TK, threads, buffer, origin: "m0", size: rows, k0, kSize: depth });
    stageOperand(e, gemm.rhs, { shared: RHS, extent: TN, depth: TK, threads, buffer, origin: "n0", size: cols, k0, kSize: depth });
  };
  // The slice's steps inside the reduction (the rest are zeros). A trip count the compiler cannot
  // see also keeps it from unrolling the loop whole: on llvmpipe that takes seconds per kernel.
  const multiply = (buffer: string, k0: string) => {
    e.line(`let lhsAt = ${offset(buffer, TK * TM)}ty; let rhsAt = ${offset(buffer, TK * TN)}tx;`);
    e.line(`let steps = min(${TK}u, ${K} - ${k0});`);
    e.block(`for (var kk = 0u; kk < steps; kk = kk + 1u)`, () =>
      accumulate(
        e,
        { r: block[0], c: block[1] },
        (i) => `${LHS}[lhsAt + kk * ${TM}u${i === 0 ? "" : ` + ${i * TY}u`}]`,
        (j) => `${RHS}[rhsAt + kk * ${TN}u${j === 0 ? "" : ` + ${j * TX}u`}]`,
      ),
    );
  };
  if (tile.buffers === 2) {
    // Step s stages slice s into one buffer while multiplying slice s - 1 out of the other: the
    // barrier ending step s - 1 saw every read of the buffer step s overwrites.
    e.block(`for (var s = 0u; s <= slices; s = s + 1u)`, () => {
      e.block(`if (s < slices)`, () => stage("s % 2u", `s * ${TK}u`));
      e.block(`if (s > 0u)`, () => multiply("(s - 1u) % 2u", `(s - 1u) * ${TK}u`));
      e.line("workgroupBarrier();");
    });
  } else {
    e.block(`for (var s = 0u; s < slices; s = s + 1u)`, () => {
      stage("0u", `s * ${TK}u`);
      e.line("workgroupBarrier();");
      multiply("0u", `s * ${TK}u`);
      e.line("workgroupBarrier();");
    });
  }

  const row = (i: string) => `m0 + ty${i === "0u" ? "" : ` + ${i} * ${TY}u`}`;
  const col = (j: string) => `n0 + tx${j === "0u" ? "" : ` + ${j} * ${TX}u`}`;
  storeTile(
    k,
    env,
    anchor,
    outputs,
    { r: block[0], c: block[1] },
    (i, j) => `${row(i)} < ${M} && ${col(j)} < ${N}`,
    (i, j) => gemm.result(`(${row(i)})`, `(${col(j)})`),
  );
  const preamble = [`var<workgroup> ${LHS}: array<f32, ${tile.buffers * TK * TM}>;`, `var<workgroup> ${RHS}: array<f32, ${tile.buffers * TK * TN}>;`].join("\n");
  const grid = [{ size: count, per: 1 }, { size: rows, per: TM }, { size: cols, per: TN }];
  return k.build({ workgroupSize: threads, grid, preamble, body: e.code() });
}

interface Staging {
  /** The workgroup array, laid out [buffer][depth][extent]. */
  readonly shared: string;
  /** The tile's extent along the operand's outer axis, and along the reduction. */
  readonly extent: number;
  readonly depth: number;
  readonly threads: number;
  /** Which buffer (a u32 expression), the slice's first outer index and first reduction step. */
  readonly buffer: string;
  readonly origin: string;
  readonly k0: string;
  /** The operand's sizes along the outer axis and the reduction. */
  readonly size: Dim;
  readonly kSize: Dim;
}

const multipleOf4 = (d: Dim) => typeof d === "number" && d % 4 === 0;

/** `buffer * size + `, nothing for buffer 0. */
const offset = (buffer: string, size: number) => (buffer === "0u" ? "" : `${/^\w+$/.test(buffer) ? buffer : `(${buffer})`} * ${size}u + `);

/**
 * One slice of an operand into workgroup memory: each invocation loads `w` elements (4 as a
 * vec4, or 1) per round, side by side along the contiguous axis, zeros outside the operand.
 * A vec4 never straddles the edge: it is used only when the contiguous axis's size is a multiple of 4.
 */
function stageOperand(e: Emitter, op: OperandReader, s: Staging): void {
  const alongDepth = op.contiguous === "depth";
  const vec4 = op.vec4 && multipleOf4(alongDepth ? s.kSize : s.size) ? op.vec4 : undefined;
  const w = vec4 ? 4 : 1;
  const runs = (s.extent * s.depth) / w;
  const across = (alongDepth ? s.depth : s.extent) / w;
  const times = (v: string) => (w === 1 ? v : `(${v}) * ${w}u`);
  e.block(`for (var slot = lid; slot < ${runs}u; slot = slot + ${s.threads}u)`, () => {
    e.line(alongDepth ? `let o = slot / ${across}u; let d = ${times(`slot % ${across}u`)};` : `let d = slot / ${across}u; let o = ${times(`slot % ${across}u`)};`);
    e.line(`let go = ${s.origin} + o; let gk = ${s.k0} + d;`);
    e.line(`var v = ${w === 4 ? "vec4<f32>()" : "0.0"};`);
    e.block(`if (go < ${dimExpr(s.size)} && gk < ${dimExpr(s.kSize)})`, () => e.line(`v = ${vec4 ? vec4("go", "gk") : op.scalar("go", "gk")};`));
    e.line(`let at = ${offset(s.buffer, s.depth * s.extent)}d * ${s.extent}u + o;`);
    // Along the reduction, consecutive elements are a row of the slice apart; along the outer axis, adjacent.
    const step = alongDepth ? s.extent : 1;
    if (w === 1) e.line(`${s.shared}[at] = v;`);
    else e.line([0, 1, 2, 3].map((c) => `${s.shared}[at${c === 0 ? "" : ` + ${c * step}u`}] = v[${c}];`).join(" "));
  });
}
