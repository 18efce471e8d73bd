// Inverted dropout (Srivastava et al. 2014): in training, each element is
// zeroed with probability `rate` and the survivors are scaled by
// 1 / (1 - rate), so inference is the identity. The mask comes from the
// `random` primitive, keyed by the step's key and a salt per call site, so
// both backends draw the same mask, the backward pass reuses the forward's
// (it is the same node), and a resumed run draws the masks of the
// uninterrupted one.

import type { Node } from "../ir/node.js";
import { binary, full, mul, random, where } from "./build.js";

export function dropout(x: Node, rate: number, key: Node, salt: number): Node {
  if (rate === 0) return x;
  const dropped = binary("less", random(key, x.shape, salt), full(rate, x.shape));
  return where(dropped, full(0, x.shape), mul(x, full(1 / (1 - rate), x.shape)));
}
