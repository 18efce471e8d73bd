// An embedding model written with the library's gather (and cumsum, clip):
// it compiles, its step differentiates through gather into the table
// (scatterAdd), and three training steps on WebGPU give the CPU
// interpreter's losses and weights. Diagnostics for bad gathers point at the
// call.

import test from "ava";
import { graphNodes } from "../../../compiler/ir/graph.js";
import { CompileError } from "../../../compiler/frontend/diagnostics.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { entryOf } from "../../../runtime/program/model.js";
import { Random } from "../../../runtime/random.js";
import { compileSource, sourceCompilation } from "../../helpers/compile.js";
import { bothBackends, sameWeights } from "../../helpers/backends.js";
import { closeGpu } from "../../helpers/gpu.js";
import { relativeError } from "../../helpers/gradcheck.js";

test.after.always(closeGpu);

const MODEL = `
import { type Tensor, param, matmul, mean, gather, cumsum, clip, softmaxCrossEntropy, adam } from "dlc";

export function logits(tokens: Tensor<["batch", 8], "i32">): Tensor<["batch", 4]> {
  const e = gather(param("emb", [100, 16], { normal: 0.5 }), tokens);
  const running = cumsum(e, 1, { exclusive: true });
  const h = clip(mean(e, 1) + 0.1 * mean(running, 1), -3, 3);
  return matmul(h, param("w", [16, 4], "glorot")) + param("b", [4], "zeros");
}

export function loss(tokens: Tensor<["batch", 8], "i32">, label: Tensor<["batch"], "i32">): Tensor<[]> {
  return softmaxCrossEntropy(logits(tokens), label);
}

export const train = { optimizer: adam({ lr: 0.05 }), batch: 6, epochs: 1 };
`;

test.serial("an embedding model compiles: gather in the forward pass, scatterAdd into the table's gradient", (t) => {
  const c = sourceCompilation(MODEL);
  const step = c.step().graph;
  const ops = graphNodes(step).map((n) => n.op);
  t.true(ops.includes("gather"));
  t.true(ops.includes("scatterAdd"));
  t.true(ops.includes("cumsum"));
  t.true(c.wgsl(step).kernels.some((k) => k.ops.includes("scatterAdd")));
});

test.serial("an embedding model trains 3 steps alike on WebGPU and on the CPU", async (t) => {
  const model = sourceCompilation(MODEL).model({ training: true, webgpu: true });
  const { onGpu, onCpu, values } = await bothBackends(t, model);
  const loss = entryOf(model, "loss")!;
  const rng = new Random(13, 13);
  for (let step = 1; step <= 3; step++) {
    const batch = 6;
    const inputs = new Map<string, NDArray>();
    for (const i of loss.inputs) {
      const shape = i.shape.map((d) => (typeof d === "number" ? d : batch));
      const n = shape.reduce((a, b) => a * b, 1);
      // Few distinct tokens, so rows of the table repeat within a batch.
      const bound = i.name === "tokens" ? 12 : 4;
      inputs.set(i.name, { shape, data: Int32Array.from({ length: n }, () => rng.int(bound)) });
    }
    const a = await onGpu.step(inputs, 0.05, step, true);
    const b = await onCpu.step(inputs, 0.05, step, true);
    t.true(Number.isFinite(b!));
    t.true(Math.abs(a! - b!) <= 1e-4 * Math.max(1, Math.abs(b!)), `step ${step}: loss ${a} on WebGPU, ${b} on the CPU`);
  }
  t.true(relativeError((await onCpu.read()).get("emb")!, values.get("emb")!) > 0, "the table was trained");
  await sameWeights(t, onGpu, onCpu);
});

function diagnostic(t: import("ava").ExecutionContext, body: string): CompileError {
  const src = `import { type Tensor, param, gather, cumsum } from "dlc";\nexport function f(x: Tensor<[4, 3]>, i: Tensor<[5], "i32">): Tensor {\n  return ${body};\n}\n`;
  const e = t.throws(() => compileSource(src), { instanceOf: CompileError }) as CompileError;
  return e;
}

test("gather with float indices or an axis out of range is a located diagnostic", (t) => {
  const floatIdx = diagnostic(t, "gather(x, x)");
  t.regex(floatIdx.message, /indices must be i32/);
  t.is(floatIdx.diagnostic.span?.line, 3);
  const axis = diagnostic(t, "gather(x, i, 2)");
  t.regex(axis.message, /axis 2 is out of range/);
  t.is(axis.diagnostic.span?.line, 3);
  t.regex(diagnostic(t, "cumsum(x, -3)").message, /axis -3 is out of range/);
});
