// `compile`: the compiler as one function, for code that uses dlc the way a
// JAX or TensorFlow.js user would. It compiles a model file (or source text)
// with the options that select what to build, and returns a CompiledModel:
// a runtime Model (entry points, parameters, `on(backend)`) that also holds
// the artifact's bytes and the Compilation, whose stages (source, training,
// step, plan, wgsl...) are there for inspection. A model with an error throws
// a CompileError whose message is the diagnostic as the CLI prints it.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Model } from "../runtime/api/model.js";
import type { TrainConfig } from "../runtime/program/train-config.js";
import { writeArtifact } from "./artifact/write.js";
import { Compilation, type ModelOptions, type Stage } from "./compilation.js";
import { CompileError, renderDiagnostic, type Diagnostic } from "./frontend/diagnostics.js";

/** A model file's path, or a model's source text (`name` is the file name diagnostics show; local imports are not available). */
export type ModelSource = string | URL | { readonly source: string; readonly name?: string };

export interface CompileOptions {
  /** Fuse kernels (default true); false gives one kernel per primitive. */
  readonly fusion?: boolean;
  /** Also generate WebGPU programs (default true), so that the model runs on("webgpu"). */
  readonly webgpu?: boolean;
  /** Build the training step (default: when the model has a `loss`). */
  readonly training?: boolean;
  /** Scalar entry points to compile with their gradients (`grad`, `valueAndGrad`), or true for all of them. */
  readonly grad?: readonly string[] | boolean;
  /** Replaces the model's `train` export (optimizer, batch, epochs, seed), or supplies one. */
  readonly trainConfig?: TrainConfig;
  /** Called each time a pipeline stage is computed. */
  readonly onStage?: (stage: Stage, key: string) => void;
}

export class CompiledModel extends Model {
  constructor(
    /** The pipeline's stages, each computed once (compiler/compilation.ts). */
    readonly compilation: Compilation,
    /** The variant built: what `artifact` and `save` write. */
    readonly variant: Required<Pick<ModelOptions, "fusion" | "webgpu" | "training" | "grad">>,
  ) {
    super(compilation.model(variant));
  }

  /** The `.dlc` artifact's bytes: what `dlc compile -o` writes and `Model.load` reads. */
  get artifact(): Uint8Array {
    return this.compilation.artifact(this.variant);
  }

  /** Writes the artifact (atomically). */
  save(path: string): void {
    writeArtifact(path, this.program, this.variant.fusion);
  }
}

export function compile(model: ModelSource, options: CompileOptions = {}): CompiledModel {
  if (typeof model === "object" && !(model instanceof URL)) return fromSource(model.source, model.name ?? "model.ts", options);
  const file = model instanceof URL ? fileURLToPath(model) : model;
  if (typeof file !== "string") throw new TypeError("compile: expected a model file's path, a file URL or { source }");
  if (!existsSync(file)) throw new Error(`compile: cannot read '${file}': no such file`);
  return withRenderedErrors(() => build(compilationOf(file, options), options));
}

function compilationOf(file: string, o: CompileOptions): Compilation {
  return new Compilation(file, { ...(o.trainConfig ? { trainConfig: o.trainConfig } : {}), ...(o.onStage ? { onStage: o.onStage } : {}) });
}

function build(c: Compilation, options: CompileOptions): CompiledModel {
  const variant = { fusion: options.fusion !== false, webgpu: options.webgpu !== false, training: options.training ?? c.hasLoss(), grad: options.grad ?? [] };
  return new CompiledModel(c, variant);
}

/** Source text is compiled from a file of its own in a fresh folder, removed afterwards; diagnostics name it `name`. */
function fromSource(source: string, name: string, options: CompileOptions): CompiledModel {
  if (typeof source !== "string") throw new TypeError("compile: { source } must be a string of TypeScript");
  const dir = mkdtempSync(join(tmpdir(), "dlc-source-"));
  const file = join(dir, basename(name).replace(/\.[cm]?ts$/, "") + ".ts");
  try {
    writeFileSync(file, source);
    return withRenderedErrors(() => build(compilationOf(file, options), options), { file, name });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function renamed(d: Diagnostic, from: string, to: string): Diagnostic {
  return d.span?.file === from ? { ...d, span: { ...d.span, file: to } } : d;
}

/** Rethrows a CompileError with the whole diagnostic (location, source line, caret, hint) as its message. */
function withRenderedErrors<T>(f: () => T, source?: { file: string; name: string }): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    if (!source) throw new CompileError(e.diagnostic, renderDiagnostic(e.diagnostic));
    // Rendered before the folder of a source text is removed: the caret line is read from its file.
    const d = renamed(e.diagnostic, source.file, source.name);
    throw new CompileError(d, renderDiagnostic(d, process.cwd(), (f) => (f === source.name ? source.file : f)));
  }
}
