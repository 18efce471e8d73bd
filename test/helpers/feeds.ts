// A graph of one output `y` over given inputs, and seeded feeds for it: every
// input filled uniformly from [-1, 1) in float32 (the products' tests).

import type { Graph, Node } from "../../compiler/ir/node.js";
import type { NDArray } from "../../runtime/cpu/ndarray.js";
import { Random } from "../../runtime/random.js";

export function graph(inputs: readonly Node[], y: Node): Graph {
  return { name: "product", inputs: inputs as never, outputs: [{ name: "y", node: y }] };
}

export function randomFeeds(g: Graph, seed: number): Map<string, NDArray> {
  const r = new Random(seed);
  return new Map(
    g.inputs.map((i) => {
      const shape = i.shape.map(Number);
      const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * r.uniform() - 1);
      return [i.attrs.name, { shape, data }];
    }),
  );
}
