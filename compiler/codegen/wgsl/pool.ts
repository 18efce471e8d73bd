// Pooling and its gradients, one thread per element of the result. Cells in
// the padding never win a max and are not counted in an average; a max
// window's gradient goes to its first maximal cell in row-major order (the
// gradient kernels gather: each input cell sums over the windows it lies in).

import { numel } from "../../../runtime/program/dim.js";
import type { GpuKernel } from "../../../runtime/program/gpu.js";
import type { Node, NodeOf } from "../../ir/node.js";
import { dimExpr } from "./index-math.js";
import { KernelBuilder, type KernelEnv } from "./kernel.js";

const WG = 64;

type Pool = NodeOf<"maxPool2d"> | NodeOf<"maxPool2dGrad"> | NodeOf<"avgPool2d"> | NodeOf<"avgPool2dGrad">;

export function poolKernel(env: KernelEnv, name: string, pool: Pool, outputs: readonly Node[]): GpuKernel {
  const k = new KernelBuilder(env, name, [...outputs, pool]);
  k.noteOp(pool.op);
  const e = k.emitter;
  const { size, stride, pad } = pool.attrs;
  const [kh, kw] = size;
  const [sh, sw] = stride;
  const [pt, , pl] = pad;
  const input = pool.op === "avgPool2dGrad" ? pool.shape : pool.inputs[0]!.shape; // [N, H, W, C]
  const [, H, W, C] = input as number[];
  const total = numel(pool.shape);
  const X = pool.op === "avgPool2dGrad" ? "" : k.readBuffer(pool.inputs[0]!)!;
  const DY = pool.op === "maxPool2dGrad" ? k.readBuffer(pool.inputs[1]!)! : pool.op === "avgPool2dGrad" ? k.readBuffer(pool.inputs[0]!)! : "";
  const outShape = pool.op === "maxPool2d" || pool.op === "avgPool2d" ? pool.shape : pool.op === "maxPool2dGrad" ? pool.inputs[1]!.shape : pool.inputs[0]!.shape;
  const [, OH, OW] = outShape as number[];
  e.line(`let e = wg * ${WG}u + lid;`);
  e.line(`if (e >= ${dimExpr(total)}) { return; }`);
  // Window (oy, ox): rows oy*sh - pt .. + kh - 1, clipped to the input.
  const windowScan = (body: () => void) => {
    e.line(`let y0 = max(oy * ${sh} - ${pt}, 0); let y1 = min(oy * ${sh} - ${pt} + ${kh}, ${H});`);
    e.line(`let x0 = max(ox * ${sw} - ${pl}, 0); let x1 = min(ox * ${sw} - ${pl} + ${kw}, ${W});`);
    e.block(`for (var y = y0; y < y1; y = y + 1)`, () => e.block(`for (var x = x0; x < x1; x = x + 1)`, body));
  };
  const cell = (y: string, x: string) => `((n * ${H}u + u32(${y})) * ${W}u + u32(${x})) * ${C}u + c`;
  if (pool.op === "maxPool2d" || pool.op === "avgPool2d") {
    e.line(`let c = e % ${C}u; let p1 = e / ${C}u; let ox = i32(p1 % ${OW}u); let p2 = p1 / ${OW}u; let oy = i32(p2 % ${OH}u); let n = p2 / ${OH}u;`);
    e.line(pool.op === "maxPool2d" ? `var acc = -3.4028234663852886e38;` : `var acc = 0.0;`);
    windowScan(() => e.line(pool.op === "maxPool2d" ? `acc = max(acc, ${X}[${cell("y", "x")}]);` : `acc = acc + ${X}[${cell("y", "x")}];`));
    if (pool.op === "avgPool2d") e.line(`acc = acc / f32((y1 - y0) * (x1 - x0));`);
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
          e.line(`let cy = min(oy * ${sh} - ${pt} + ${kh}, ${H}) - max(oy * ${sh} - ${pt}, 0);`);
          e.line(`let cx = min(ox * ${sw} - ${pl} + ${kw}, ${W}) - max(ox * ${sw} - ${pl}, 0);`);
          e.line(`acc = acc + g / f32(cy * cx);`);
        } else {
          e.line(`var best = -3.4028234663852886e38; var by = -1; var bx = -1;`);
          windowScan(() => e.line(`let v = ${X}[${cell("y", "x")}]; if (v > best) { best = v; by = y; bx = x; }`));
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
