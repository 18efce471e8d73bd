// The frontend: a model file in, a Program (parameters and one graph per
// entry point) out, or a CompileError.

import { resolve } from "node:path";
import { formatShape } from "../../runtime/program/dim.js";
import type { Init } from "../../runtime/program/ops.js";
import type { Graph, Node } from "../ir/node.js";
import type { ParamDecl, Program } from "../ir/program.js";
import { make } from "../ops/make.js";
import { readTrainConfig } from "./config.js";
import { compileError, formatLoc } from "./diagnostics.js";
import { entrySignature, traceEntry } from "./entry.js";
import { BuiltinError, Evaluator, spanOf } from "./evaluator.js";
import { makeGlobals } from "./globals.js";
import { dlcLibrary, type ParamRegistry } from "./library.js";
import { ModuleLoader } from "./modules.js";
import { Closure, type CallSite } from "./values.js";

export interface CompileOptions {
  /** Report a missing `loss` entry point (training needs one). */
  readonly requireLoss?: boolean;
}

/** Parameters by name across the whole model; one node per name within a trace. */
class Params implements ParamRegistry {
  readonly decls = new Map<string, ParamDecl>();
  private trace = new Map<string, Node>();

  newTrace(): void {
    this.trace = new Map();
  }

  declare(name: string, shape: readonly number[], init: Init, site: CallSite): Node {
    const prev = this.decls.get(name);
    const span = spanOf(site.node);
    if (prev) {
      const sameShape = formatShape(prev.shape) === formatShape(shape);
      if (!sameShape || JSON.stringify(prev.init) !== JSON.stringify(init)) {
        const what = sameShape ? `initializer ${JSON.stringify(init)}` : `shape ${formatShape(shape)}`;
        throw new BuiltinError(
          "DLC2002",
          `parameter '${name}' is redeclared with ${what}`,
          `it was first declared at ${formatLoc(prev.loc)} with shape ${formatShape(prev.shape)}; use another name for another parameter`,
        );
      }
    } else {
      this.decls.set(name, { name, shape, init, loc: { file: span.file, line: span.line, col: span.col } });
    }
    let node = this.trace.get(name);
    if (!node) {
      node = make("param", [], { name, shape, init });
      this.trace.set(name, node);
    }
    return node;
  }
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
  const params = new Params();
  const evaluator = new Evaluator(makeGlobals());
  const loader = new ModuleLoader(evaluator, dlcLibrary(params), file);
  const main = loader.load(file);

  const entries: Graph[] = [];
  for (const [name, binding] of main.exports) {
    const fn = binding.value;
    if (!(fn instanceof Closure)) continue;
    const signature = entrySignature(evaluator, name, fn);
    if (!signature) continue;
    params.newTrace();
    const graph = traceEntry(evaluator, name, fn, signature);
    if (name === "loss") checkLoss(evaluator, graph, fn);
    entries.push(graph);
  }
  const start = { file, line: 1, col: 1, length: 1 };
  if (entries.length === 0) {
    throw compileError("DLC4001", "the model exports no entry point", 'export a function of tensors, e.g. export function loss(x: Tensor<["batch", 4]>, y: Tensor<["batch"], "i32">)', start);
  }
  if (options.requireLoss) requireLoss({ file, entries });

  const trainBinding = main.exports.get("train");
  const trainDecl = main.file.getVariableDeclaration("train");
  const train = trainBinding && trainDecl ? readTrainConfig(evaluator, trainBinding.value, trainDecl) : undefined;

  return { file, sources: loader.sources(), params: [...params.decls.values()], entries, train };
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
