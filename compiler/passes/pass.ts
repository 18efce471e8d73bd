// A pass is a pure function from graph to graph.

import type { Graph } from "../ir/node.js";

export interface Pass {
  readonly name: string;
  readonly run: (g: Graph) => Graph;
}
