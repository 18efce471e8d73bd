// ONNX export against an independent engine: every model in models/ and every
// example in ../shared/examples is compiled, given weights (runtime/init's,
// plus noise so that zero-initialized biases and iris's zero weights count),
// exported entry point by entry point, and run in onnxruntime on random inputs
// at a batch size that is not the training batch. Its outputs must match
// dlc's on the CPU and on WebGPU: f32 outputs within a normwise relative
// error of 1e-5 (‖onnx - dlc‖ / ‖dlc‖), i32 outputs (classes) exactly.

import test from "ava";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { compile, type CompiledModel } from "../../../../compiler/api.js";
import type { Tensor } from "../../../../runtime/api/tensor.js";
import { decodeModel, exportOnnx, OnnxExportError, OPSET } from "../../../../runtime/export/onnx/index.js";
import { initialize } from "../../../../runtime/init/init.js";
import type { EntryProgram } from "../../../../runtime/program/model.js";
import { Random } from "../../../../runtime/random.js";
import { relativeError } from "../../../helpers/gradcheck.js";
import { ROOT } from "../../../helpers/paths.js";

const TOLERANCE = 1e-5;
/** Not a training batch of any model (16, 32, 64, 128). */
const BATCH = 5;

const MODELS = join(ROOT, "models");
// CI checks the repository out next to the shared folder.
const EXAMPLES = join(ROOT, "../shared/examples");
const sources = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".ts")).map((f) => join(dir, f));

/** Seeded weights: the model's initializers, plus uniform noise in [-0.1, 0.1]. */
function weightsOf(model: CompiledModel, seed: number): Record<string, Float32Array> {
  const rng = new Random(seed);
  return Object.fromEntries(model.params.map((p) => [p.name, initialize(p.init, p.shape, seed, p.name).map((v) => v + (rng.uniform() - 0.5) * 0.2)]));
}

/** Random inputs for an entry at batch size `batch`: features in [0, 2] (pixels in 0..255 for the transformer, as its data), classes below their count. */
function inputsOf(entry: EntryProgram, file: string, batch: number, rng: Random): Record<string, Tensor> {
  const hi = file.endsWith("transformer.ts") ? 255 : 2;
  return Object.fromEntries(
    entry.inputs.map((i) => {
      const shape = i.shape.map((d) => (typeof d === "number" ? d : batch));
      const n = shape.reduce((a, b) => a * b, 1);
      const data = i.dtype === "i32" ? Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * (i.classes ?? 2))) : Float32Array.from({ length: n }, () => rng.uniform() * hi);
      return [i.name, { shape, dtype: i.dtype, data }];
    }),
  );
}

async function runOnnx(bytes: Uint8Array, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  const feeds = Object.fromEntries(Object.entries(inputs).map(([name, x]) => [name, new ort.Tensor(x.dtype === "f32" ? "float32" : "int32", x.data, x.shape)]));
  const out = await session.run(feeds);
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([name, v]) => [name, { shape: v.dims.map(Number), dtype: v.type === "float32" ? "f32" : "i32", data: v.data as Float32Array | Int32Array } as Tensor]));
}

/** Exports every entry but gradient entries. */
const exported = (model: CompiledModel) => model.entries;

/** The largest error seen per model, for the log. */
const worst: string[] = [];

for (const file of [...sources(MODELS), ...sources(EXAMPLES)]) {
  const label = file.startsWith(EXAMPLES) ? `examples/${file.slice(EXAMPLES.length + 1)}` : `models/${file.slice(MODELS.length + 1)}`;
  test.serial(`${label}: every entry point runs in onnxruntime as on dlc's CPU and WebGPU backends`, async (t) => {
    const model = compile(file);
    t.true(model.entries.some((e) => e.name === "predict"), "the model has a predict entry");
    const weights = weightsOf(model, 7);
    const rng = new Random(11);
    let max = 0;
    for (const backend of ["cpu", "webgpu"] as const) {
      const bound = await model.on(backend);
      try {
        await bound.setParams(weights);
        for (const entry of exported(model)) {
          const bytes = exportOnnx(model.program, { entry: entry.name, weights });
          const inputs = inputsOf(entry, file, BATCH, rng);
          const [onnx, ours] = [await runOnnx(bytes, inputs), await bound.run(entry.name, inputs)];
          for (const o of entry.outputs) {
            const [got, want] = [onnx[o.name]!, ours[o.name]!];
            t.deepEqual(got.shape, want.shape, `${entry.name}.${o.name}: shape`);
            t.is(got.dtype, want.dtype, `${entry.name}.${o.name}: dtype`);
            if (want.dtype === "i32") t.deepEqual([...got.data], [...want.data], `${backend} ${entry.name}.${o.name}: i32 values`);
            else {
              const err = relativeError(got.data, want.data);
              max = Math.max(max, err);
              t.true(err <= TOLERANCE, `${backend} ${entry.name}.${o.name}: relative error ${err.toExponential(2)} > ${TOLERANCE}`);
            }
          }
        }
      } finally {
        bound.dispose();
      }
    }
    worst.push(`${label}: ${max.toExponential(2)}`);
    t.log(`max relative error ${max.toExponential(2)} over ${exported(model).map((e) => e.name).join(", ")}`);
  });
}

test.after.always(() => {
  if (worst.length) console.log(`onnx export, max relative error per model: ${worst.join("; ")}`);
});

test.serial("the batch dimension stays symbolic: one exported model runs at batch sizes 1 and 7, and the opset is 17", async (t) => {
  const model = compile(join(MODELS, "cnn.ts"), { webgpu: false });
  const weights = weightsOf(model, 3);
  const bytes = exportOnnx(model.program, { weights });
  const proto = decodeModel(bytes) as { opset_import: { version: number }[]; graph: { input: { name: string; type: { tensor_type: { shape: { dim: object[] } } } }[]; initializer: { name: string }[] } };
  t.deepEqual(proto.opset_import.map((o) => o.version), [OPSET]);
  t.is(OPSET >= 17, true);
  t.deepEqual(proto.graph.input.map((i) => [i.name, i.type.tensor_type.shape.dim]), [["pixels", [{ dim_param: "batch" }, { dim_value: 784 }]]]);
  t.deepEqual(proto.graph.initializer.filter((i) => weights[i.name]).map((i) => i.name).sort(), Object.keys(weights).sort(), "the weights are initializers under their names");
  const bound = await model.on("cpu");
  await bound.setParams(weights);
  const rng = new Random(5);
  for (const batch of [1, 7]) {
    const inputs = inputsOf(model.program.entries.find((e) => e.name === "logits")!, "cnn.ts", batch, rng);
    const logits = exportOnnx(model.program, { entry: "logits", weights });
    const [onnx, ours] = [await runOnnx(logits, inputs), await bound.run("logits", inputs)];
    t.deepEqual(onnx.logits!.shape, [batch, 10]);
    t.true(relativeError(onnx.logits!.data, ours.logits!.data) <= TOLERANCE);
    t.deepEqual((await runOnnx(bytes, inputs)).predict!.shape, [batch]);
  }
  bound.dispose();
});

test("an op with no ONNX form is an error naming the op and the model line it comes from, never a graph", (t) => {
  const model = compile(join(MODELS, "cnn.ts"), { grad: ["loss"], webgpu: false });
  const weights = weightsOf(model, 3);
  const e = t.throws(() => exportOnnx(model.program, { entry: "loss.grad", weights }), { instanceOf: OnnxExportError });
  const m = /^cnn\.ts:(\d+):(\d+): cannot export (conv2dFilterGrad|conv2dInputGrad|maxPool2dGrad) to ONNX: it occurs only in gradients and the training step; export an inference entry point such as predict$/.exec(e.message);
  if (!m) return t.fail(e.message);
  // The line is the call in cnn.ts whose gradient it is.
  const line = readFileSync(join(MODELS, "cnn.ts"), "utf8").split("\n")[Number(m[1]) - 1]!;
  t.true(line.slice(Number(m[2]) - 1).startsWith(m[3]!.startsWith("maxPool2d") ? "maxPool2d" : "conv"), `${e.message}: ${line}`);
  t.is(e.entry, "loss.grad");
  t.truthy(e.op);
  t.throws(() => exportOnnx(model.program, { entry: "train", weights }), { instanceOf: OnnxExportError, message: "the model has no entry point 'train' (it has logits, predict, loss, loss.grad)" });
  const { ["conv1.k"]: _dropped, ...partial } = weights;
  t.throws(() => exportOnnx(model.program, { weights: partial }), { instanceOf: OnnxExportError, message: /^cnn\.ts:\d+:\d+: no weights for parameter 'conv1\.k'$/ });
});

test("an entry that draws random numbers is refused, naming random and the entry", (t) => {
  const model = compile(join(MODELS, "iris.ts"), { webgpu: false });
  const key = { name: "key", dtype: "i32" as const, shape: [2] };
  const noisy: EntryProgram = {
    name: "noisy",
    inputs: [key],
    outputs: [{ name: "noise", dtype: "f32", shape: [3] }],
    cpu: {
      graph: {
        name: "noisy",
        nodes: [
          { op: "input", inputs: [], attrs: key, shape: [2], dtype: "i32" },
          { op: "random", inputs: [0], attrs: { shape: [3], salt: 1 }, shape: [3], dtype: "f32" },
        ],
        inputs: [{ name: "key", node: 0 }],
        outputs: [{ name: "noise", node: 1 }],
      },
      steps: [],
    },
  };
  t.throws(() => exportOnnx({ ...model.program, entries: [...model.program.entries, noisy] }, { entry: "noisy", weights: {} }), {
    instanceOf: OnnxExportError,
    message: "entry 'noisy', node 1: cannot export random to ONNX: it draws random numbers (dropout's masks in training mode), which an exported inference graph does not; export an entry point that runs in inference mode",
  });
});
