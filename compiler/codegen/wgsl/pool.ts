// Pooling and its gradients. Cells in the padding never win a max and are
// not counted in an average; a max window's gradient goes to its first
// maximal cell in row-major order.
//
// Windows are unrolled (their size is static) with out-of-range cells masked
// by select rather than skipped by a loop: on llvmpipe, where this code is
// measured (bench/webgpu/kernels.ts), a loop iteration costs about as much as
// a load. The forward kernels and the average gradient run one invocation per
// element of their result (the gradients gather over the windows holding an
// input cell). The max gradient of windows that do not overlap (stride >=
// size, the common 2x2 stride 2) instead runs one invocation per window,
// finds its maximal cell once and writes every input cell of its stride
// block: the winner gets the gradient, the others zero.

import { numel, type Dim } from "../../../runtime/program/dim.js";
import type { GpuKernel } from "../../../runtime/program/gpu.js";
import { inputAt } from "../../ir/checked.js";
import type { Node, NodeOf } from "../../ir/node.js";
import { dimExpr } from "./index-math.js";
import { KernelBuilder, type KernelEnv } from "./kernel.js";
import { storeTile } from "./epilogue.js";

const WG = 64;
const LOWEST = "-3.4028234663852886e38";

type Pool = NodeOf<"maxPool2d"> | NodeOf<"maxPool2dGrad"> | NodeOf<"avgPool2d"> | NodeOf<"avgPool2dGrad">;

export function poolKernel(env: KernelEnv, name: string, pool: Pool, outputs: readonly Node[]): GpuKernel {
  const k = new KernelBuilder(env, name, [...outputs, pool]);
  k.noteOp(pool.op);
  const { size, stride } = pool.attrs;
  if (pool.op === "maxPool2dGrad" && stride[0] >= size[0] && stride[1] >= size[1]) return maxGradByWindow(k, env, pool, outputs);
  const e = k.emitter;
  const [kh, kw] = size;
  const [sh, sw] = stride;
  const [pt, , pl] = pool.attrs.pad;
  const input = pool.op === "avgPool2dGrad" ? pool.shape : inputAt(pool, 0).shape; // [N, H, W, C]
  const [, H, W, C] = input as number[];
  const total = numel(pool.shape);
  const X = pool.op === "avgPool2dGrad" ? "" : k.operandBuffer(inputAt(pool, 0));
  const DY = pool.op === "maxPool2dGrad" ? k.operandBuffer(inputAt(pool, 1)) : pool.op === "avgPool2dGrad" ? k.operandBuffer(inputAt(pool, 0)) : "";
  const outShape = pool.op === "maxPool2d" || pool.op === "avgPool2d" ? pool.shape : pool.op === "maxPool2dGrad" ? inputAt(pool, 1).shape : inputAt(pool, 0).shape;
  const [, OH, OW] = outShape as number[];
  e.line(`let e = wg * ${WG}u + lid;`);
  e.line(`if (e >= ${dimExpr(total)}) { return; }`);
  const cell = (y: string, x: string) => `((n * ${H}u + u32(${y})) * ${W}u + u32(${x})) * ${C}u + c`;
  if (pool.op === "maxPool2d" || pool.op === "avgPool2d") {
    e.line(`let c = e % ${C}u; let p1 = e / ${C}u; let ox = i32(p1 % ${OW}u); let p2 = p1 / ${OW}u; let oy = i32(p2 % ${OH}u); let n = p2 / ${OH}u;`);
    e.line(pool.op === "maxPool2d" ? `var acc = ${LOWEST};` : `var acc = 0.0;`);
    window(k, kh, kw, "oy", "ox", sh, sw, pt, pl, H, W, (y, x, ok) => {
      const v = `${X}[${cell(`select(0, ${y}, ${ok})`, `select(0, ${x}, ${ok})`)}]`;
      e.line(pool.op === "maxPool2d" ? `acc = select(acc, max(acc, ${v}), ${ok});` : `acc = acc + select(0.0, ${v}, ${ok});`);
    });
    if (pool.op === "avgPool2d") e.line(`acc = acc / f32(${windowCount("oy", "ox", kh, kw, sh, sw, pt, pl, H, W)});`);
  } else {
    // The gradient at input cell (iy, ix): over the windows that contain it.
    e.line(`let c = e % ${C}u; let p1 = e / ${C}u; let ix = i32(p1 % ${W}u); let p2 = p1 / ${W}u; let iy = i32(p2 % ${H}u); let n = p2 / ${H}u;`);
    e.line(`var acc = 0.0;`);
    e.line(`let oyLo = max((iy + ${pt} - ${kh} + ${sh}) / ${sh}, 0); let oyHi = min((iy + ${pt}) / ${sh}, ${OH - 1});`);
    e.line(`let oxLo = max((ix + ${pl} - ${kw} + ${sw}) / ${sw}, 0); let oxHi = min((ix + ${pl}) / ${sw}, ${OW - 1});`);
    e.block(`for (var oy = oyLo; oy <= oyHi; oy = oy + 1)`, () => {
      e.block(`for (var ox = oxLo; ox <= oxHi; ox = ox + 1)`, () => {
        e.line(`let g = ${DY}[((n * ${OH}u + u32(oy)) * ${OW}u + u32(ox)) * ${C}u + c];`);
        if (pool.op === "avgPool2dGrad") {
          e.line(`acc = acc + g / f32(${windowCount("oy", "ox", kh, kw, sh, sw, pt, pl, H, W)});`);
        } else {
          e.line(`var best = ${LOWEST}; var by = -1; var bx = -1;`);
          window(k, kh, kw, "oy", "ox", sh, sw, pt, pl, H, W, (y, x, ok) => {
            e.line(`let v = ${X}[${cell(`select(0, ${y}, ${ok})`, `select(0, ${x}, ${ok})`)}];`);
            e.line(`if (${ok} && (by < 0 || v > best)) { best = v; by = ${y}; bx = ${x}; }`);
          });
          e.line(`if (by == iy && bx == ix) { acc = acc + g; }`);
        }
      });
    });
  }
  k.setLocal(pool, "e", "acc");
  for (const o of outputs) {
    if (o === pool) e.line(`${k.writeBuffer(pool)}[e] = acc;`);
    else k.store(o, "e");
  }
  return k.build({ workgroupSize: WG, grid: [{ size: total, per: WG }], body: e.code() });
}

/** Emits the window of (oy, ox) cell by cell in row-major order: `body(y, x, ok, at)` with the cell's row, column, whether it is inside the input, and its place in the window. */
function window(k: KernelBuilder, kh: number, kw: number, oy: string, ox: string, sh: number, sw: number, pt: number, pl: number, H: number, W: number, body: (y: string, x: string, ok: string, at: number) => void): void {
  const e = k.emitter;
  e.block("", () => {
    for (let dy = 0; dy < kh; dy++) e.line(`let wy${dy} = ${oy} * ${sh} + ${dy - pt}; let oky${dy} = wy${dy} >= 0 && wy${dy} < ${H};`);
    for (let dx = 0; dx < kw; dx++) e.line(`let wx${dx} = ${ox} * ${sw} + ${dx - pl}; let okx${dx} = wx${dx} >= 0 && wx${dx} < ${W};`);
    for (let dy = 0; dy < kh; dy++) for (let dx = 0; dx < kw; dx++) e.block("", () => body(`wy${dy}`, `wx${dx}`, `(oky${dy} && okx${dx})`, dy * kw + dx));
  });
}

/** The number of input cells in window (oy, ox), as an i32 expression. */
function windowCount(oy: string, ox: string, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, H: number, W: number): string {
  const cy = `(min(${oy} * ${sh} - ${pt} + ${kh}, ${H}) - max(${oy} * ${sh} - ${pt}, 0))`;
  const cx = `(min(${ox} * ${sw} - ${pl} + ${kw}, ${W}) - max(${ox} * ${sw} - ${pl}, 0))`;
  return `${cy} * ${cx}`;
}

/**
 * maxPool2dGrad when windows do not overlap: one invocation per stride block (the window and
 * the gap after it), blocks tiling the input from its padded corner. Blocks past the last
 * window hold no window and write zeros.
 */
function maxGradByWindow(k: KernelBuilder, env: KernelEnv, pool: NodeOf<"maxPool2dGrad">, outputs: readonly Node[]): GpuKernel {
  const e = k.emitter;
  const [x, dy] = [inputAt(pool, 0), inputAt(pool, 1)];
  const X = k.operandBuffer(x);
  const DY = k.operandBuffer(dy);
  const [kh, kw] = pool.attrs.size;
  const [sh, sw] = pool.attrs.stride;
  const [pt, , pl] = pool.attrs.pad;
  const [, H, W, C] = x.shape as number[];
  const [, OH, OW] = dy.shape as number[];
  const BH = Math.ceil((H + pt) / sh);
  const BW = Math.ceil((W + pl) / sw);
  const blocks: Dim = numel([x.shape[0], BH, BW, C]);
  e.line(`let e = wg * ${WG}u + lid;`);
  e.line(`if (e >= ${dimExpr(blocks)}) { return; }`);
  e.line(`let c = e % ${C}u; let p1 = e / ${C}u; let bx = i32(p1 % ${BW}u); let p2 = p1 / ${BW}u; let by = i32(p2 % ${BH}u); let n = p2 / ${BH}u;`);
  // The window's gradient (zero past the last window) and its first maximal cell, as an index into the window.
  e.line(`let has = by < ${OH} && bx < ${OW};`);
  e.line(`let g = select(0.0, ${DY}[((n * ${OH}u + u32(select(0, by, has))) * ${OW}u + u32(select(0, bx, has))) * ${C}u + c], has);`);
  e.line(`var best = ${LOWEST}; var win = -1;`);
  window(k, kh, kw, "by", "bx", sh, sw, pt, pl, H, W, (y, xx, ok, at) => {
    e.line(`let v = ${X}[((n * ${H}u + u32(select(0, ${y}, ${ok}))) * ${W}u + u32(select(0, ${xx}, ${ok}))) * ${C}u + c];`);
    e.line(`let takes = ${ok} && (win < 0 || v > best);`);
    e.line(`best = select(best, v, takes); win = select(win, ${at}, takes);`);
  });
  // Cell (i, j) of the block: its input row and column.
  const cy = (i: string) => `(by * ${sh} + i32(${i}) - ${pt})`;
  const cx = (j: string) => `(bx * ${sw} + i32(${j}) - ${pl})`;
  storeTile(
    k,
    env,
    pool,
    outputs,
    { r: sh, c: sw },
    (i, j) => `${cy(i)} >= 0 && ${cy(i)} < ${H} && ${cx(j)} >= 0 && ${cx(j)} < ${W}`,
    (i, j) => `((n * ${H}u + u32(${cy(i)})) * ${W}u + u32(${cx(j)})) * ${C}u + c`,
    (i, j) => `select(0.0, g, ${i} < ${kh}u && ${j} < ${kw}u && win == i32(${i} * ${kw}u + ${j}))`,
  );
  return k.build({ workgroupSize: WG, grid: [{ size: blocks, per: WG }], body: e.code() });
}
