// Convolutions in direct form: one thread per element of the result, with
// the channel loop innermost over contiguous memory, and the fused epilogue
// (bias, activation) applied to the accumulator.

import { numel } from "../../../runtime/program/dim.js";
import type { GpuKernel } from "../../../runtime/program/gpu.js";
import type { Node, NodeOf } from "../../ir/node.js";
import { dimExpr } from "./index-math.js";
import { KernelBuilder, type KernelEnv } from "./kernel.js";

const WG = 64;

type Conv = NodeOf<"conv2d"> | NodeOf<"conv2dInputGrad"> | NodeOf<"conv2dFilterGrad">;

/** Unpacks the flat index `e` of an NHWC-like 4-D shape into named coordinates. */
function unpack(e: string, names: [string, string, string, string], shape: readonly (number | string)[]): string {
  const [a, b, c, d] = names;
  const [, s1, s2, s3] = shape.map((x) => dimExpr(x));
  return `let ${d} = ${e} % ${s3}; let p1 = ${e} / ${s3}; let ${c} = p1 % ${s2}; let p2 = p1 / ${s2}; let ${b} = p2 % ${s1}; let ${a} = p2 / ${s1};`;
}

export function convKernel(env: KernelEnv, name: string, conv: Conv, outputs: readonly Node[]): GpuKernel {
  const k = new KernelBuilder(env, name, [...outputs, conv]);
  k.noteOp(conv.op);
  const e = k.emitter;
  const [p, q] = conv.inputs as [Node, Node];
  const P = k.readBuffer(p)!;
  const Q = k.readBuffer(q)!;
  const { stride, pad } = conv.attrs;
  const [sh, sw] = stride;
  const [pt, , pl] = pad;
  const total = numel(conv.shape);
  e.line(`let e = wg * ${WG}u + lid;`);
  e.line(`if (e >= ${dimExpr(total)}) { return; }`);
  e.line(`var acc = 0.0;`);
  if (conv.op === "conv2d") {
    // p = x [N, H, W, C], q = kernel [KH, KW, C, O]; e indexes y [N, OH, OW, O].
    const [, H, W, C] = p.shape as number[];
    const [KH, KW, , O] = q.shape as number[];
    const [, OH, OW] = conv.shape as number[];
    e.line(unpack("e", ["n", "oy", "ox", "o"], conv.shape));
    e.block(`for (var ky = 0; ky < ${KH}; ky = ky + 1)`, () => {
      e.line(`let iy = i32(oy) * ${sh} + ky - ${pt};`);
      e.line(`if (iy < 0 || iy >= ${H}) { continue; }`);
      e.block(`for (var kx = 0; kx < ${KW}; kx = kx + 1)`, () => {
        e.line(`let ix = i32(ox) * ${sw} + kx - ${pl};`);
        e.line(`if (ix < 0 || ix >= ${W}) { continue; }`);
        e.line(`let xb = ((n * ${H}u + u32(iy)) * ${W}u + u32(ix)) * ${C}u;`);
        e.line(`let kb = (u32(ky) * ${KW}u + u32(kx)) * ${C * O}u + o;`);
        e.line(`for (var c = 0u; c < ${C}u; c = c + 1u) { acc = acc + ${P}[xb + c] * ${Q}[kb + c * ${O}u]; }`);
      });
    });
    void OH;
    void OW;
  } else if (conv.op === "conv2dInputGrad") {
    // p = dy [N, OH, OW, O], q = kernel [KH, KW, C, O]; e indexes dx [N, H, W, C].
    const [, OH, OW, O] = p.shape as number[];
    const [KH, KW, C] = q.shape as number[];
    e.line(unpack("e", ["n", "iy", "ix", "c"], conv.shape));
    e.block(`for (var ky = 0; ky < ${KH}; ky = ky + 1)`, () => {
      e.line(`let ty = i32(iy) + ${pt} - ky;`);
      e.line(`if (ty < 0 || ty % ${sh} != 0 || ty / ${sh} >= ${OH}) { continue; }`);
      e.block(`for (var kx = 0; kx < ${KW}; kx = kx + 1)`, () => {
        e.line(`let tx = i32(ix) + ${pl} - kx;`);
        e.line(`if (tx < 0 || tx % ${sw} != 0 || tx / ${sw} >= ${OW}) { continue; }`);
        e.line(`let yb = ((n * ${OH}u + u32(ty / ${sh})) * ${OW}u + u32(tx / ${sw})) * ${O}u;`);
        e.line(`let kb = ((u32(ky) * ${KW}u + u32(kx)) * ${C}u + c) * ${O}u;`);
        e.line(`for (var o = 0u; o < ${O}u; o = o + 1u) { acc = acc + ${P}[yb + o] * ${Q}[kb + o]; }`);
      });
    });
  } else {
    // p = x [N, H, W, C], q = dy [N, OH, OW, O]; e indexes dk [KH, KW, C, O].
    const [, H, W, C] = p.shape as number[];
    const [, OH, OW, O] = q.shape as number[];
    const N = dimExpr(p.shape[0]!);
    e.line(unpack("e", ["ky", "kx", "c", "o"], conv.shape));
    e.block(`for (var n = 0u; n < ${N}; n = n + 1u)`, () => {
      e.block(`for (var oy = 0; oy < ${OH}; oy = oy + 1)`, () => {
        e.line(`let iy = oy * ${sh} + i32(ky) - ${pt};`);
        e.line(`if (iy < 0 || iy >= ${H}) { continue; }`);
        e.block(`for (var ox = 0; ox < ${OW}; ox = ox + 1)`, () => {
          e.line(`let ix = ox * ${sw} + i32(kx) - ${pl};`);
          e.line(`if (ix < 0 || ix >= ${W}) { continue; }`);
          e.line(`acc = acc + ${P}[((n * ${H}u + u32(iy)) * ${W}u + u32(ix)) * ${C}u + c] * ${Q}[((n * ${OH}u + u32(oy)) * ${OW}u + u32(ox)) * ${O}u + o];`);
        });
      });
    });
  }
  k.setLocal(conv, "e", "acc");
  for (const o of outputs) {
    if (o === conv) e.line(`${k.writeBuffer(conv)}[e] = acc;`);
    else k.store(o, "e");
  }
  return k.build({ workgroupSize: WG, grid: [{ size: total, per: WG }], body: e.code() });
}
