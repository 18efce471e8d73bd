// The whole compiler: a model file in, a ModelProgram out.
//
//   frontend -> IR graphs -> autodiff -> optimizer step -> simplify -> fusion -> CPU program

import { createHash } from "node:crypto";
import { basename } from "node:path";
import type { EntryProgram, ModelProgram, TensorSpec } from "../runtime/program/model.js";
import { FALLBACK_TRAIN, type TrainConfig } from "../runtime/program/train-config.js";
import { trainingGraph } from "./autodiff/training.js";
import { lowerCpu } from "./codegen/cpu.js";
import { lowerGpu } from "./codegen/wgsl/program.js";
import { compileModel } from "./frontend/compile.js";
import { classCount } from "./ir/analysis.js";
import type { Graph } from "./ir/node.js";
import type { Program } from "./ir/program.js";
import { trainStep } from "./optim/step.js";
import { CSE } from "./passes/cse.js";
import { simplify } from "./passes/simplify.js";

export interface BuildOptions {
  /** Fuse elementwise groups (default); false gives one kernel per primitive. */
  readonly fusion?: boolean;
  /** Also generate WebGPU programs (WGSL kernels). */
  readonly webgpu?: boolean;
  /** Build the training step (needs `loss` and a training configuration). */
  readonly training?: boolean;
  /** Replaces the model's `train` export, or supplies one. */
  readonly trainConfig?: TrainConfig;
}

function entryProgram(g: Graph, labelsFrom: Graph, options: BuildOptions): EntryProgram {
  const spec = (name: string, dtype: "f32" | "i32", shape: TensorSpec["shape"]): TensorSpec => {
    const classes = dtype === "i32" ? classCount(labelsFrom, name) : undefined;
    return classes === undefined ? { name, dtype, shape } : { name, dtype, shape, classes };
  };
  return {
    name: g.name,
    inputs: g.inputs.map((i) => spec(i.attrs.name, i.dtype, i.shape)),
    outputs: g.outputs.map((o) => ({ name: o.name, dtype: o.node.dtype, shape: o.node.shape })),
    cpu: lowerCpu(g, { fusion: options.fusion }),
    ...(options.webgpu ? { gpu: lowerGpu(g, { fusion: options.fusion }) } : {}),
  };
}

export function modelHash(program: Program): string {
  const h = createHash("sha256");
  for (const s of [...program.sources].sort((a, b) => a.path.localeCompare(b.path))) h.update(`${basename(s.path)}\0${s.sha256}\n`);
  return h.digest("hex");
}

export function buildModel(path: string, options: BuildOptions = {}): ModelProgram {
  const program = compileModel(path, { requireLoss: options.training === true });
  const loss = program.entries.find((g) => g.name === "loss");
  const entries = program.entries.map((g) => {
    const simplified = simplify(CSE.run(g)).graph;
    return entryProgram(simplified, loss ?? simplified, options);
  });
  const base = { file: program.file, hash: modelHash(program), params: program.params.map(({ name, shape, init }) => ({ name, shape, init })), entries };
  if (!options.training || !loss) return base;
  const config = options.trainConfig ?? program.train ?? FALLBACK_TRAIN;
  const step = trainStep(trainingGraph(program).graph, config.optimizer);
  return {
    ...base,
    train: { config, step: entryProgram(step.graph, loss, options), state: step.state, params: step.params, abi: step.abi },
  };
}
