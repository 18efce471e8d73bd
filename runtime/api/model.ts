// A compiled model, from an artifact (`Model.load("iris.dlc")`) or from the
// compiler (`compile(...)` in dlc/compiler returns a subclass): its entry
// points and parameters, and `on(backend)`, which binds it to the CPU or to
// WebGPU with fresh, seeded parameters. Loading one never loads the compiler.

import { loadArtifact } from "../artifact/file.js";
import { parseArtifact } from "../artifact/read.js";
import { createBackend, type BackendChoice } from "../backends.js";
import { entryOf, gradEntryName, type EntryProgram, type ModelProgram, type ParamSpec } from "../program/model.js";
import { FALLBACK_TRAIN, type TrainConfig } from "../program/train-config.js";
import { startSession } from "../train/session.js";
import { BoundModel } from "./bound.js";
import { ArgumentError } from "./errors.js";
import { KERNEL_CHOICES, type KernelChoice } from "../webgpu/kernel-family.js";

export interface BindOptions {
  /** Seeds the parameters' initialization, the shuffles and dropout (default: the model's `train.seed`). */
  readonly seed?: number;
  /** Threads of the CPU backend's products (default 1). */
  readonly threads?: number;
  /** A checkpoint to load the parameters (and normalization) from, as `dlc eval --weights`. */
  readonly weights?: string;
  /** WebGPU's kernels: "auto" (default: the software family on a software adapter, else the hardware family), "software" or "hardware". */
  readonly kernels?: KernelChoice;
}

export class Model {
  constructor(readonly program: ModelProgram) {}

  /** Reads and validates a `.dlc` artifact. */
  static load(path: string): Model {
    return new Model(loadArtifact(path));
  }

  /** An artifact's bytes (`name` is what errors call it). */
  static fromBytes(bytes: Uint8Array, name = "<artifact>"): Model {
    return new Model(parseArtifact(bytes, name).model);
  }

  /** The entry points (their inputs and outputs), gradient entries aside. */
  get entries(): readonly EntryProgram[] {
    return this.program.entries.filter((e) => !this.gradients.some((g) => gradEntryName(g) === e.name));
  }

  /** The entry points compiled with their gradients. */
  get gradients(): readonly string[] {
    return this.program.entries.filter((e) => entryOf(this.program, gradEntryName(e.name))).map((e) => e.name);
  }

  get params(): readonly ParamSpec[] {
    return this.program.params;
  }

  /** The training configuration it was compiled with (the model's `train` export), if it has a training step. */
  get trainConfig(): TrainConfig | undefined {
    return this.program.train?.config;
  }

  /** The model on a backend, with parameters initialized from the seed: "cpu" (WebAssembly SIMD), "cpu-js" (the reference interpreter), "webgpu", or "auto". */
  async on(backend: BackendChoice, options: BindOptions = {}): Promise<BoundModel> {
    if (!["cpu", "cpu-js", "webgpu", "auto"].includes(backend)) throw new ArgumentError(`unknown backend '${String(backend)}': expected cpu, cpu-js, webgpu or auto`);
    if (backend === "webgpu" && !this.program.entries.every((e) => e.gpu)) throw new ArgumentError("the model was compiled without WebGPU programs: compile with { webgpu: true }, or bind it to the CPU");
    // The optimizer is compiled into the training step; what a binding may change is the seed (fit and step take the rest).
    const base = this.program.train?.config ?? FALLBACK_TRAIN;
    const config = options.seed === undefined ? base : { ...base, seed: options.seed };
    // auto without WebGPU programs can only be the CPU.
    const choice = backend === "auto" && !this.program.entries.every((e) => e.gpu) ? "cpu" : backend;
    if (options.kernels !== undefined && !KERNEL_CHOICES.includes(options.kernels)) throw new ArgumentError(`unknown kernels '${String(options.kernels)}': expected ${KERNEL_CHOICES.join(", ")}`);
    const b = await createBackend(this.program, choice, { threads: options.threads ?? 1, kernels: options.kernels });
    try {
      const bound = new BoundModel(await startSession(this.program, b, config));
      if (options.weights !== undefined) await bound.load(options.weights);
      return bound;
    } catch (e) {
      b.dispose();
      throw e;
    }
  }
}

/** Reads an artifact file or bytes: `Model.load` / `Model.fromBytes`. */
export function loadModel(artifact: string | Uint8Array): Model {
  return typeof artifact === "string" ? Model.load(artifact) : Model.fromBytes(artifact);
}

