// dlc's runtime as a library (`import ... from "dlc/runtime"`): load a
// compiled artifact, train it, evaluate it, predict with it, on the CPU or on
// WebGPU. It never loads the compiler or ts-morph.
//
//   const model = await Model.load("iris.dlc").on("cpu");
//   await model.fit("data/iris.csv", { epochs: 50, split: 0.2 });
//   const classes = await model.entries.predict!(new Float32Array([5.1, 3.5, 1.4, 0.2]));
//
// or, piece by piece, what `dlc train` does:
//
//   const model = loadArtifact("iris.dlc");
//   const backend = await createBackend(model, "auto");
//   const session = await startSession(model, backend, model.train!.config);
//   const data = await loadFor(entryOf(model, "loss")!, "data/iris.csv");
//   await trainEpochs(session, { ds: data, rows: allRows(data) }, undefined, { epochs: 50, batch: 16, dropLast: false, lr: 0.1 });
//   const predictions = await predict(session, data);
//   backend.dispose();

export { loadArtifact, readArtifact } from "./artifact/file.js";
export { parseArtifact } from "./artifact/read.js";
export { ArtifactError, type ArtifactPayload } from "./artifact/format.js";
export { createBackend, type BackendChoice, type BackendOptions } from "./backends.js";
export type { Backend, BackendKind } from "./train/backend.js";
export { CpuBackend, type CpuBackendOptions } from "./cpu/backend.js";
export { WebGpuBackend, type WebGpuBackendOptions } from "./webgpu/backend.js";
export { KERNEL_CHOICES, type KernelChoice } from "./webgpu/kernel-family.js";
export { openDevice, type GpuContext } from "./webgpu/device.js";
export { entryOf, type ModelProgram, type EntryProgram } from "./program/model.js";
export type { TrainConfig } from "./program/train-config.js";
export { startSession, type Session } from "./train/session.js";
export { trainEpochs, DivergedError, diverges, DIVERGING_FACTOR, type DivergingEvent, type EpochEvent, type LoopOptions, type Split } from "./train/loop.js";
export { evaluate, batchInputs, labelInput, type Metrics } from "./train/metrics.js";
export { saveSession, readCheckpoint } from "./train/checkpoint-file.js";
export { encodeSession, decodeWeights } from "./train/checkpoint.js";
export { loadFor } from "./train/load.js";
export { textFor, inputSpecs, fitNorm, normalize, allRows } from "./train/data.js";
export { loadDataset, DataError, type Dataset } from "./data/index.js";
export { predict } from "./train/predict.js";
export type { NDArray } from "./cpu/ndarray.js";
export { Model, loadModel, type BindOptions } from "./api/model.js";
export { BoundModel, type EntryFunction, type Gradients, type ValueAndGrad } from "./api/bound.js";
export type { FitOptions, FitResult } from "./api/fit.js";
export type { DataSource } from "./api/data.js";
export type { Tensor, TensorData, TensorInput } from "./api/tensor.js";
export { ArgumentError } from "./api/errors.js";
export { gradEntryName, gradOutputName, type ParamSpec, type TensorSpec } from "./program/model.js";
export { CheckpointError } from "./checkpoint/error.js";
export { GpuError } from "./webgpu/executable.js";
export { RunError } from "./cpu/bind.js";
