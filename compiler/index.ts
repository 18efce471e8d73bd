// dlc's compiler as a library (`import ... from "dlc/compiler"`): compile a
// model file, ask for any stage of the pipeline, write the artifact the
// runtime loads, and catch compile errors with their diagnostics.
//
//   const model = compile("models/iris.ts", { grad: ["loss"] });
//   const cpu = await model.on("cpu");
//   const { value, grads } = await cpu.valueAndGrad("loss")(x, labels);
//
// or stage by stage:
//
//   const compilation = new Compilation("models/iris.ts");
//   console.log(printProgram(compilation.source()));                  // the IR of every entry point
//   const model = compilation.model({ training: true, webgpu: true }); // what the runtime executes
//   writeArtifact("iris.dlc", model, true);
//
// A model with an error throws a CompileError: `formatDiagnostic(e.diagnostic, ...)`
// renders it with its code, span and hint.

export { FALLBACK_TRAIN } from "../runtime/program/train-config.js";
export { compile, CompiledModel, type CompileOptions, type ModelSource } from "./api.js";
export { Model, loadModel, type BindOptions } from "../runtime/api/model.js";
export { BoundModel, type EntryFunction, type Gradients, type ValueAndGrad } from "../runtime/api/bound.js";
export type { FitOptions, FitResult } from "../runtime/api/fit.js";
export type { Tensor, TensorInput } from "../runtime/api/tensor.js";
export { ArgumentError } from "../runtime/api/errors.js";
export { Compilation, modelHash, type CompilationOptions, type ModelOptions, type Stage } from "./compilation.js";
export { buildModel, type BuildOptions } from "./build.js";
export { artifactBytes, writeArtifact } from "./artifact/write.js";
export { CATALOG, CompileError, formatDiagnostic, renderDiagnostic, type Diagnostic, type DiagnosticCode, type Span } from "./frontend/diagnostics.js";
export { printDot, printGraph, printProgram } from "./ir/print.js";
export { explainFusion } from "./fusion/explain.js";
export type { Graph, Node, Output, SourceLoc } from "./ir/node.js";
export type { ParamDecl, Program } from "./ir/program.js";
export type { TrainingGraph } from "./autodiff/training.js";
export type { TrainStep } from "./optim/step.js";
export type { Partition, KernelGroup } from "./fusion/kernels.js";
export type { PassStat } from "./passes/simplify.js";
export type { ModelProgram, EntryProgram } from "../runtime/program/model.js";
export type { TrainConfig } from "../runtime/program/train-config.js";
