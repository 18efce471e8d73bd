// dlc's runtime in a browser (`dlc/browser`, bundled as dist/browser/runtime.js):
// what runtime/index.ts offers, less everything that reads or writes files.
// Artifacts, CSV data and checkpoints come and go as bytes and text (fetch, a
// file picker, a download); the backends are WebGPU through navigator.gpu and
// the CPU in WebAssembly. Run training in a Web Worker (web/trainer.ts does):
// the page stays responsive, and there the CPU backend's `threads` are Web
// Workers over one shared memory where the page is cross-origin isolated
// (runtime/wasm/workers-web.ts; elsewhere it runs one thread and its
// description says why). scripts/build-browser.ts bundles this module and
// fails if anything it reaches imports a Node module.
//
//   const model = parseArtifact(new Uint8Array(await (await fetch("iris.dlc")).arrayBuffer()), "iris.dlc").model;
//   const session = await startSession(model, await createBackend(model, "auto", { threads: 4 }), model.train!.config);
//   const data = textFor(entryOf(model, "loss")!, await (await fetch("iris.csv")).text(), "iris.csv");
//   const { test, testRows } = await fitDatasets(session, data, undefined, { epochs: 50, split: 0.2, normalize: "standard" });
//   const weights = await encodeSession(session); // a safetensors checkpoint: dlc eval --weights reads it

export { parseArtifact } from "./artifact/read.js";
export { ArtifactError, type ArtifactPayload } from "./artifact/format.js";
export { chooseBackend, createBackend, type BackendChoice, type ChosenBackend } from "./backends.js";
export type { Backend, BackendKind } from "./train/backend.js";
export { CpuBackend, type CpuBackendOptions } from "./cpu/backend.js";
export { WebGpuBackend } from "./webgpu/backend.js";
export { openDevice, type GpuContext } from "./webgpu/device.js";
export { entryOf, type ModelProgram, type EntryProgram, type ParamSpec, type TensorSpec } from "./program/model.js";
export type { TrainConfig } from "./program/train-config.js";
export { startSession, type Session } from "./train/session.js";
export { trainEpochs, DivergedError, type DivergingEvent, type EpochEvent, type LoopOptions, type Split, type StepEvent } from "./train/loop.js";
export { fitDatasets, evaluateDataset, type FitSettings, type FitResult } from "./api/fit.js";
export { evaluate, batchInputs, labelInput, type Metrics } from "./train/metrics.js";
export { predict } from "./train/predict.js";
export { textFor, inputSpecs, fitNorm, normalize, allRows } from "./train/data.js";
export { datasetFromText } from "./data/csv.js";
export { splitRows } from "./data/batches.js";
export { DataError, type Dataset } from "./data/types.js";
export { encodeSession, decodeWeights, type LoadedWeights } from "./train/checkpoint.js";
export { decodeCheckpoint } from "./checkpoint/checkpoint.js";
export { encodeSafetensors, decodeSafetensors, type TensorEntry } from "./checkpoint/safetensors.js";
export { CheckpointError } from "./checkpoint/error.js";
export { GpuError } from "./webgpu/executable.js";
export { RunError } from "./cpu/bind.js";
