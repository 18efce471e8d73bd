// The frontend: a model file in, a Program (parameters and one graph per
// entry point) out, or a CompileError.

import { resolve } from "node:path";
import { formatShape } from "../../runtime/program/dim.js";
import type { Graph } from "../ir/node.js";
import type { Program } from "../ir/program.js";
import { readTrainConfig } from "./config.js";
import { compileError } from "./diagnostics.js";
import { entrySignature, traceEntry } from "./entry.js";
import { Evaluator } from "./evaluator.js";
import { makeGlobals } from "./globals.js";
import { dlcLibrary } from "./library.js";
import { ModuleLoader } from "./modules.js";
import { Trace } from "./trace.js";
import { Closure } from "./values.js";

export interface CompileOptions {
  /** Report a missing `loss` entry point (training needs one). */
  readonly requireLoss?: boolean;
}

export function compileModel(path: string, options: CompileOptions = {}): Program {
  const file = resolve(path);
  try {
    return compile(file, options);
  } catch (e) {
    // The evaluator and the module loader report stack overflows where they happen; this is the last guard.
    if (!(e instanceof RangeError)) throw e;
    throw compileError("DLC3003", "compilation ran out of stack", "the model nests too deep; split long expressions into named parts and make recursion shallower", { file, line: 1, col: 1, length: 1 });
  }
}

function compile(file: string, options: CompileOptions): Program {
  const trace = new Trace();
  const evaluator = new Evaluator(makeGlobals());
  const loader = new ModuleLoader(evaluator, dlcLibrary(trace), file);
  const main = loader.load(file);

  const entries: Graph[] = [];
  let trainingLoss: Graph | undefined;
  for (const [name, binding] of main.exports) {
    const fn = binding.value;
    if (!(fn instanceof Closure)) continue;
    const signature = entrySignature(evaluator, name, fn);
    if (!signature) continue;
    trace.begin("inference");
    const graph = trace.finish(traceEntry(evaluator, name, fn, signature));
    if (name !== "loss") {
      entries.push(graph);
      continue;
    }
    checkLoss(evaluator, graph, fn);
    entries.push(graph);
    // Dropout or batch norm asked for the mode: trace the loss again as the training step runs it.
    if (trace.modal) {
      trace.begin("training");
      trainingLoss = trace.finish(traceEntry(evaluator, name, fn, signature));
    }
  }
  const start = { file, line: 1, col: 1, length: 1 };
  if (entries.length === 0) {
    throw compileError("DLC4001", "the model exports no entry point", 'export a function of tensors, e.g. export function loss(x: Tensor<["batch", 4]>, y: Tensor<["batch"], "i32">)', start);
  }
  if (options.requireLoss) requireLoss({ file, entries });

  const trainBinding = main.exports.get("train");
  const trainDecl = main.file.getVariableDeclaration("train");
  const train = trainBinding && trainDecl ? readTrainConfig(evaluator, trainBinding.value, trainDecl) : undefined;

  const params = [...trace.decls.values()];
  return { file, sources: loader.sources(), params, entries, train, ...(trainingLoss ? { trainingLoss } : {}) };
}

/** The program itself, or the error that training a model without a `loss` entry point reports. */
export function requireLoss<P extends Pick<Program, "file" | "entries">>(program: P): P {
  const { file, entries } = program;
  if (!entries.some((g) => g.name === "loss")) {
    throw compileError("DLC4001", "the model has no `loss` entry point, which training needs", `export a function loss(...) returning a scalar; found: ${entries.map((g) => g.name).join(", ")}`, { file, line: 1, col: 1, length: 1 });
  }
  return program;
}

function checkLoss(ev: Evaluator, g: Graph, fn: Closure): void {
  const out = g.outputs[0]!.node;
  if (g.outputs.length !== 1 || out.shape.length !== 0 || out.dtype !== "f32") {
    const got = g.outputs.length === 1 ? `${out.dtype}${formatShape(out.shape)}` : `${g.outputs.length} outputs`;
    ev.fail("DLC4002", `loss must return one f32 scalar, got ${got}`, "reduce it to a scalar, e.g. with mean(...)", fn.decl.getReturnTypeNode() ?? fn.decl);
  }
}
