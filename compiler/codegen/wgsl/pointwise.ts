// A pointwise kernel: one thread per element of its outputs (which all have
// the same number of elements), each output an expression over buffers.

import { numel } from "../../../runtime/program/dim.js";
import type { GpuKernel } from "../../../runtime/program/gpu.js";
import type { NonEmpty } from "../../ir/checked.js";
import type { Node } from "../../ir/node.js";
import { dimExpr } from "./index-math.js";
import { KernelBuilder, type KernelEnv } from "./kernel.js";

const WG = 256;

export function pointwiseKernel(env: KernelEnv, name: string, outputs: NonEmpty<Node>): GpuKernel {
  const k = new KernelBuilder(env, name, outputs);
  const size = numel(outputs[0].shape);
  const e = k.emitter;
  e.line(`let i = wg * ${WG}u + lid;`);
  e.line(`if (i >= ${dimExpr(size)}) { return; }`);
  for (const o of outputs) k.store(o, "i");
  return k.build({ workgroupSize: WG, grid: [{ size, per: WG }], body: e.code() });
}
