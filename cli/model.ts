// Getting a compiled model from what the user named: a .ts file is compiled
// (the compiler is loaded only then), a .dlc artifact is read and checked.

import { existsSync } from "node:fs";
import type { Compilation } from "../compiler/compilation.js";
import type { ModelProgram } from "../runtime/program/model.js";
import type { TrainConfig } from "../runtime/program/train-config.js";
import { loadArtifact } from "../runtime/artifact/file.js";
import { UsageError } from "./exit.js";

export interface ModelOptions {
  readonly training?: boolean;
  readonly fusion?: boolean;
  readonly webgpu?: boolean;
  readonly trainConfig?: TrainConfig;
}

const isSource = (file: string) => file.endsWith(".ts") || file.endsWith(".mts");

export async function loadModel(file: string, options: ModelOptions = {}): Promise<ModelProgram> {
  if (isSource(file)) return (await compilationOf(file, options.trainConfig)).model(options);
  if (!existsSync(file)) throw new UsageError(`cannot read '${file}': no such file`);
  if (file.endsWith(".dlc")) {
    const model = loadArtifact(file);
    if (options.training && !model.train) throw new UsageError(`'${file}' was compiled without a training step (the model has no loss)`);
    if (options.webgpu && !model.entries.every((e) => e.gpu)) throw new UsageError(`'${file}' holds no WebGPU kernels: use --backend cpu`);
    return model;
  }
  throw new UsageError(`'${file}' is not a model: expected a .ts file or a compiled .dlc artifact`);
}

/** The compilation of a model source file, for commands that ask for more than the ModelProgram. */
export async function compilationOf(file: string, trainConfig?: TrainConfig): Promise<Compilation> {
  if (!existsSync(file)) throw new UsageError(`cannot read '${file}': no such file`);
  if (!isSource(file)) throw new UsageError(`'${file}' is not a model source: expected a .ts file`);
  const { Compilation } = await import("../compiler/compilation.js");
  return new Compilation(file, { trainConfig });
}
