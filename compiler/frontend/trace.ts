// One trace of an entry point, and what outlives it: the parameters.
//
// Every entry point is traced in inference mode. Layers whose behaviour
// differs in training (dropout, batch norm) ask the trace for its mode and
// note that they did; the `loss` entry point is then traced a second time in
// training mode, and that graph is what the training step differentiates.
// A training trace may also draw random numbers (keyed by the step's random
// key, an extra input) and write new values of non-trainable parameters
// (batch norm's running statistics, extra outputs).

import { KEY_INPUT } from "../../runtime/program/abi.js";
import { formatShape } from "../../runtime/program/dim.js";
import type { Init } from "../../runtime/program/ops.js";
import type { Graph, Node, NodeOf } from "../ir/node.js";
import { updateName, type ParamDecl } from "../ir/program.js";
import { make } from "../ops/make.js";
import { formatLoc } from "./diagnostics.js";
import { BuiltinError, spanOf } from "./evaluator.js";
import type { CallSite } from "./values.js";

export type Mode = "training" | "inference";

/** What the dlc library may ask of the trace it runs in. */
export interface TraceContext {
  /** How dropout and batch norm behave in this trace; asking marks the model as having a training mode. */
  mode(): Mode;
  /** The parameter of this name (one node per name per trace); the same name must come with the same shape, initializer and trainability. */
  declare(name: string, shape: readonly number[], init: Init, site: CallSite, trainable?: boolean): Node;
  /** The value a non-trainable parameter takes after the training step (once per parameter per trace). */
  update(name: string, value: Node): void;
  /** The step's random key, an i32[2] input, and a salt no other draw of this trace uses. */
  draw(): { key: Node; salt: number };
}

export class Trace implements TraceContext {
  readonly decls = new Map<string, ParamDecl>();
  /** Whether this trace asked for its mode: only then is `loss` traced again for training. */
  modal = false;
  private current: Mode = "inference";
  private nodes = new Map<string, Node>();
  private updates = new Map<string, Node>();
  private key: NodeOf<"input"> | undefined;
  private salt = 0;

  begin(mode: Mode): void {
    this.current = mode;
    this.modal = false;
    this.nodes = new Map();
    this.updates = new Map();
    this.key = undefined;
    this.salt = 0;
  }

  /** The traced graph with this trace's extra input (the key) and outputs (the updates). */
  finish(g: Graph): Graph {
    const updates = [...this.updates].map(([name, node]) => ({ name: updateName(name), node }));
    return { ...g, inputs: this.key ? [...g.inputs, this.key] : g.inputs, outputs: [...g.outputs, ...updates] };
  }

  mode(): Mode {
    this.modal = true;
    return this.current;
  }

  declare(name: string, shape: readonly number[], init: Init, site: CallSite, trainable = true): Node {
    const prev = this.decls.get(name);
    const span = spanOf(site.node);
    if (prev) {
      const sameShape = formatShape(prev.shape) === formatShape(shape);
      const wasTrainable = prev.trainable !== false;
      if (!sameShape || JSON.stringify(prev.init) !== JSON.stringify(init) || wasTrainable !== trainable) {
        const what = !sameShape ? `shape ${formatShape(shape)}` : wasTrainable !== trainable ? (trainable ? "as trainable" : "as non-trainable") : `initializer ${JSON.stringify(init)}`;
        throw new BuiltinError(
          "DLC2002",
          `parameter '${name}' is redeclared with ${what}`,
          `it was first declared at ${formatLoc(prev.loc)} with shape ${formatShape(prev.shape)}; use another name for another parameter`,
        );
      }
    } else {
      const loc = { file: span.file, line: span.line, col: span.col };
      this.decls.set(name, trainable ? { name, shape, init, loc } : { name, shape, init, loc, trainable: false });
    }
    let node = this.nodes.get(name);
    if (!node) {
      node = make("param", [], { name, shape, init });
      this.nodes.set(name, node);
    }
    return node;
  }

  update(name: string, value: Node): void {
    if (this.updates.has(name)) {
      throw new BuiltinError("DLC2002", `the running statistic '${name}' is updated twice in one step`, "give each batchNorm its own name");
    }
    this.updates.set(name, value);
  }

  draw(): { key: Node; salt: number } {
    this.key ??= make("input", [], { name: KEY_INPUT, shape: [2], dtype: "i32" });
    return { key: this.key, salt: this.salt++ };
  }
}
