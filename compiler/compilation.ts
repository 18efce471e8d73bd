// One compilation of one model file. Every stage of the pipeline is a method
// that computes its result the first time it is asked for and keeps it, so
// the CLI (every --emit, inspect, -o), the builder, the benchmarks and the
// tests ask for the stage they want instead of chaining passes, and a command
// that needs several stages parses, differentiates and fuses the model once.
// The stages, in order:
//
//   source      the frontend's Program: parameters, one graph per entry point, the `train` export
//   simplified  an entry point's graph after CSE and simplification
//   training    the loss and its gradients (autodiff, simplified), with node counts per pass
//   gradient    a scalar entry point with its gradients (parameters and f32 inputs), run as an entry
//   step        the training step: the training graph and the optimizer's update
//   plan        a graph's WebGPU fusion plan (kernel groups, and why each value got a buffer)
//   cpu, wgsl   a graph lowered to the CPU program and to WGSL kernels
//   model       the ModelProgram the runtime executes
//   artifact    the bytes of a .dlc file
//
// A Compilation is identified by its model file and its training
// configuration override. What selects a variant of a result (fusion on or
// off, WebGPU programs or not, with or without the training step) is part of
// the stage's key. Stages keyed by a graph (plan, cpu, wgsl) take a graph that
// another stage returned.

import { createHash } from "node:crypto";
import { basename } from "node:path";
import type { CpuProgram } from "../runtime/program/program.js";
import type { GpuProgram } from "../runtime/program/gpu.js";
import type { EntryProgram, ModelProgram, TensorSpec } from "../runtime/program/model.js";
import { FALLBACK_TRAIN, type TrainConfig } from "../runtime/program/train-config.js";
import { artifactBytes } from "./artifact/write.js";
import { gradientGraph, trainingGraph, type TrainingGraph } from "./autodiff/training.js";
import { lowerCpu } from "./codegen/cpu.js";
import { lowerGpu } from "./codegen/wgsl/program.js";
import { compileModel, requireLoss } from "./frontend/compile.js";
import { compileError } from "./frontend/diagnostics.js";
import { partition, type Partition } from "./fusion/kernels.js";
import { classCount } from "./ir/analysis.js";
import type { Graph } from "./ir/node.js";
import { entry, type Program } from "./ir/program.js";
import { trainStep, type TrainStep } from "./optim/step.js";
import { CSE } from "./passes/cse.js";
import { simplify, type SimplifyOptions } from "./passes/simplify.js";

export type Stage = "source" | "simplified" | "training" | "gradient" | "step" | "plan" | "cpu" | "wgsl" | "model" | "artifact";

export interface CompilationOptions {
  /** Replaces the model's `train` export, or supplies one. */
  readonly trainConfig?: TrainConfig;
  /** Called after every simplification pass with its result (the tests verify each graph). */
  readonly check?: SimplifyOptions["check"];
  /** Called each time a stage is computed, not when it is served again (the tests count them). */
  readonly onStage?: (stage: Stage, key: string) => void;
}

/** Which ModelProgram (and artifact) to build. */
export interface ModelOptions {
  /** Fuse (default); false gives one kernel per primitive. */
  readonly fusion?: boolean;
  /** Also generate WebGPU programs (WGSL kernels). */
  readonly webgpu?: boolean;
  /** Build the training step (needs `loss` and a training configuration). */
  readonly training?: boolean;
  /**
   * Scalar entry points to compile with their gradients, each as one more
   * entry (`gradEntryName`): their names, or true for every f32 scalar entry.
   */
  readonly grad?: readonly string[] | boolean;
}


/** A model's identity: the names and digests of the files it is made of. */
export function modelHash(program: Program): string {
  const h = createHash("sha256");
  for (const s of [...program.sources].sort((a, b) => a.path.localeCompare(b.path))) h.update(`${basename(s.path)}\0${s.sha256}\n`);
  return h.digest("hex");
}

const variant = (fusion: boolean) => (fusion ? "fused" : "unfused");

export class Compilation {
  private readonly results = new Map<string, unknown>();
  private readonly perGraph = new WeakMap<Graph, Map<string, unknown>>();

  constructor(
    readonly file: string,
    readonly options: CompilationOptions = {},
  ) {}

  /** The frontend's Program (or its CompileError). */
  source(): Program {
    return this.stage("source", "", () => compileModel(this.file));
  }

  /** Whether the model has a `loss` entry point, and so a training step. */
  hasLoss(): boolean {
    return entry(this.source(), "loss") !== undefined;
  }

  /** The training configuration: the override, the model's `train` export, or the fallback. */
  trainConfig(): TrainConfig {
    return this.options.trainConfig ?? this.source().train ?? FALLBACK_TRAIN;
  }

  /** An entry point's graph, CSE'd and simplified. */
  simplified(name: string): Graph {
    return this.stage("simplified", name, () => {
      const g = entry(this.source(), name);
      if (!g) throw new Error(`the model has no entry point '${name}'`);
      return simplify(CSE.run(g), { check: this.options.check }).graph;
    });
  }

  /** The loss and its gradients; a CompileError when the model has no `loss`. */
  training(): TrainingGraph {
    return this.stage("training", "", () => trainingGraph(requireLoss(this.source()), { check: this.options.check }));
  }

  /** A scalar entry point and its gradients, as the entry `gradEntryName(name)`; a CompileError when its output is not an f32 scalar. */
  gradient(name: string): TrainingGraph {
    return this.stage("gradient", name, () => gradientGraph(this.source(), name, { check: this.options.check }));
  }

  /** The entry points that `grad: true` differentiates: those returning an f32 scalar. */
  scalarEntries(): string[] {
    return this.source()
      .entries.filter((g) => g.outputs.length === 1 && g.outputs[0]!.node.shape.length === 0 && g.outputs[0]!.node.dtype === "f32")
      .map((g) => g.name);
  }

  /** The training step: the training graph and the optimizer's update. */
  step(): TrainStep {
    return this.stage("step", "", () => trainStep(this.training().graph, this.trainConfig().optimizer));
  }

  /** A graph's WebGPU fusion plan. */
  plan(g: Graph, fusion = true): Partition {
    return this.graphStage("plan", g, variant(fusion), () => partition(g, { fusion }));
  }

  cpu(g: Graph, fusion = true): CpuProgram {
    return this.graphStage("cpu", g, variant(fusion), () => lowerCpu(g, { fusion }));
  }

  wgsl(g: Graph, fusion = true): GpuProgram {
    return this.graphStage("wgsl", g, variant(fusion), () => lowerGpu(g, { fusion }, this.plan(g, fusion)));
  }

  /** The ModelProgram: every entry point, and the training step when asked for (a CompileError without `loss`). */
  model(options: ModelOptions = {}): ModelProgram {
    const o = normalize(options);
    return this.stage("model", modelKey(o), () => {
      const program = this.source();
      if (o.training) requireLoss(program);
      const loss = entry(program, "loss");
      const entries = program.entries.map((g) => {
        const simplified = this.simplified(g.name);
        return this.entryProgram(simplified, loss ?? simplified, o);
      });
      for (const name of o.grad === true ? this.scalarEntries() : o.grad === false ? [] : o.grad) {
        if (!entry(program, name)) {
          throw compileError("DLC4001", `the model has no entry point '${name}' to differentiate`, `the entry points are ${program.entries.map((g) => g.name).join(", ")}`, { file: program.file, line: 1, col: 1, length: 1 });
        }
        const g = this.gradient(name).graph;
        entries.push(this.entryProgram(g, loss ?? g, o));
      }
      const base = { file: program.file, hash: modelHash(program), params: program.params.map(({ name, shape, init, trainable }) => (trainable === false ? { name, shape, init, trainable } : { name, shape, init })), entries };
      if (!o.training || !loss) return base;
      const step = this.step();
      return { ...base, train: { config: this.trainConfig(), step: this.entryProgram(step.graph, loss, o), state: step.state, params: step.params, abi: step.abi } };
    });
  }

  /** The bytes of the .dlc artifact of `model(options)`. */
  artifact(options: ModelOptions = {}): Uint8Array {
    const o = normalize(options);
    return this.stage("artifact", modelKey(o), () => artifactBytes(this.model(o), o.fusion));
  }

  /** An entry point as the runtime sees it; integer inputs take their class count from `labelsFrom`. */
  private entryProgram(g: Graph, labelsFrom: Graph, o: Required<ModelOptions>): EntryProgram {
    const spec = (name: string, dtype: "f32" | "i32", shape: TensorSpec["shape"]): TensorSpec => {
      const classes = dtype === "i32" ? classCount(labelsFrom, name) : undefined;
      return classes === undefined ? { name, dtype, shape } : { name, dtype, shape, classes };
    };
    return {
      name: g.name,
      inputs: g.inputs.map((i) => spec(i.attrs.name, i.dtype, i.shape)),
      outputs: g.outputs.map((out) => ({ name: out.name, dtype: out.node.dtype, shape: out.node.shape })),
      cpu: this.cpu(g, o.fusion),
      ...(o.webgpu ? { gpu: this.wgsl(g, o.fusion) } : {}),
    };
  }

  private stage<T>(stage: Stage, key: string, compute: () => T, results: Map<string, unknown> = this.results, label = key): T {
    const id = `${stage} ${key}`;
    if (results.has(id)) return results.get(id) as T;
    this.options.onStage?.(stage, label);
    const value = compute();
    results.set(id, value);
    return value;
  }

  private graphStage<T>(stage: Stage, g: Graph, key: string, compute: () => T): T {
    let results = this.perGraph.get(g);
    if (!results) this.perGraph.set(g, (results = new Map()));
    return this.stage(stage, key, compute, results, `${g.name} ${key}`);
  }
}

const normalize = (o: ModelOptions): Required<ModelOptions> => ({
  fusion: o.fusion !== false,
  webgpu: o.webgpu === true,
  training: o.training === true,
  grad: o.grad === true ? true : o.grad === false || o.grad === undefined ? [] : [...new Set(o.grad)],
});
const modelKey = (o: Required<ModelOptions>) => {
  const grads = o.grad === true ? ["grad *"] : o.grad === false || o.grad.length === 0 ? [] : [`grad ${o.grad.join(",")}`];
  return [variant(o.fusion), o.webgpu ? "webgpu" : "cpu", o.training ? "training" : "inference", ...grads].join(" ");
};
