// A graph of one output `y` over given inputs, and seeded feeds for it: every
// input filled uniformly from [-1, 1) in float32 (the products' tests); and
// feeds for inputs with a symbolic batch, drawn by gradcheck's sampler.

import type { Graph, Node } from "../../compiler/ir/node.js";
import type { NDArray } from "../../runtime/cpu/ndarray.js";
import { Random } from "../../runtime/random.js";
import { sample } from "./gradcheck.js";

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

/** Feeds for `xs` (inputs with names), every symbolic size `batch`, from Random(seed, stream). */
export function batchFeeds(seed: number, stream: number, xs: readonly Node[], batch = 1): Map<string, NDArray> {
  const rng = new Random(seed, stream);
  return new Map(
    xs.map((x) => {
      const shape = x.shape.map((d) => (typeof d === "number" ? d : batch));
      return [(x.attrs as { name: string }).name, { shape, data: Float32Array.from(sample(rng, shape)) }] as const;
    }),
  );
}
