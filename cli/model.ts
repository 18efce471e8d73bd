// Getting a compiled model from what the user named: a .ts file is compiled
// (the compiler is loaded only then), a .dlc artifact is read and checked.

import { existsSync } from "node:fs";
import type { ModelProgram } from "../runtime/program/model.js";
import type { TrainConfig } from "../runtime/program/train-config.js";
import { loadArtifact } from "../runtime/artifact/read.js";
import { UsageError } from "./exit.js";

export interface ModelOptions {
  readonly training?: boolean;
  readonly fusion?: boolean;
  readonly webgpu?: boolean;
  readonly trainConfig?: TrainConfig;
}

export async function loadModel(file: string, options: ModelOptions = {}): Promise<ModelProgram> {
  if (!existsSync(file)) throw new UsageError(`cannot read '${file}': no such file`);
  if (file.endsWith(".ts") || file.endsWith(".mts")) {
    const { buildModel } = await import("../compiler/build.js");
    return buildModel(file, options);
  }
  if (file.endsWith(".dlc")) {
    const model = loadArtifact(file);
    if (options.training && !model.train) throw new UsageError(`'${file}' was compiled without a training step (the model has no loss)`);
    if (options.webgpu && !model.entries.every((e) => e.gpu)) throw new UsageError(`'${file}' holds no WebGPU kernels: use --backend cpu`);
    return model;
  }
  throw new UsageError(`'${file}' is not a model: expected a .ts file or a compiled .dlc artifact`);
}
