// Dead code elimination. A graph holds exactly the nodes its outputs reach
// (the IR has no side effects and no node list of its own), so rebuilding it
// from its outputs is the whole pass: whatever no output reaches is gone. It
// never removes an input: inputs are the graph's signature.

import { mapGraph } from "../ir/graph.js";
import type { Graph } from "../ir/node.js";
import { remake } from "../ops/make.js";
import type { Pass } from "./pass.js";

export const dce = (g: Graph): Graph => mapGraph(g, remake);

export const DCE: Pass = { name: "dce", run: dce };
