// The whole compiler in one call: a model file in, a ModelProgram out. It is
// the `model` stage of a Compilation (compiler/compilation.ts); callers that
// need more than one stage keep the Compilation instead.

import type { ModelProgram } from "../runtime/program/model.js";
import type { TrainConfig } from "../runtime/program/train-config.js";
import { Compilation, type ModelOptions } from "./compilation.js";

export { FALLBACK_TRAIN } from "../runtime/program/train-config.js";
export { modelHash } from "./compilation.js";

export interface BuildOptions extends ModelOptions {
  /** Replaces the model's `train` export, or supplies one. */
  readonly trainConfig?: TrainConfig;
}

export function buildModel(path: string, options: BuildOptions = {}): ModelProgram {
  return new Compilation(path, { trainConfig: options.trainConfig }).model(options);
}
