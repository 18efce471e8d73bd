// The artifact checks know random: a graph drawing from a key input passes,
// and an edited salt, shape, extra attribute or key is refused in one line
// naming the node (an artifact is untrusted input).

import test from "ava";
import type { Graph } from "../../../compiler/ir/node.js";
import { toProgram } from "../../../compiler/ir/lower.js";
import { full, mul, random } from "../../../compiler/ops/build.js";
import { make } from "../../../compiler/ops/make.js";
import { GraphTypeError, typecheckGraph } from "../../../runtime/artifact/typecheck.js";
import type { GraphProgram } from "../../../runtime/program/program.js";
import { input } from "../../helpers/gradcheck.js";

function program(): GraphProgram {
  const key = input("key", [2], "i32");
  const x = make("input", [], { name: "x", shape: ["batch", 3], dtype: "f32" });
  const y = mul(x, random(key, ["batch", 3], 4000000000));
  return toProgram({ name: "g", inputs: [key, x] as never, outputs: [{ name: "y", node: y }] } as Graph);
}

/** The program after `edit` of the random node's JSON copy. */
interface EditNode {
  op: string;
  attrs: Record<string, unknown>;
  inputs: number[];
}

function edited(edit: (n: EditNode) => void): GraphProgram {
  const p = JSON.parse(JSON.stringify(program())) as { nodes: EditNode[] };
  edit(p.nodes.find((n) => n.op === "random")!);
  return p as unknown as GraphProgram;
}

const refused = (t: import("ava").ExecutionContext, p: GraphProgram, message: RegExp) => {
  const e = t.throws(() => typecheckGraph(p, "payload.g"), { instanceOf: GraphTypeError });
  t.regex(e?.message ?? "", message);
};

test("a graph with a random draw passes", (t) => {
  t.notThrows(() => typecheckGraph(program(), "payload.g"));
});

test("a salt that is negative, fractional, 2^32 or a string is refused", (t) => {
  for (const salt of [-1, 0.5, 2 ** 32, "3", null]) {
    refused(t, edited((n) => void (n.attrs.salt = salt)), /payload\.g\.nodes\[\d+\]\.attrs\.salt: expected an integer from 0 to 2\^32 - 1/);
  }
});

test("a malformed shape, a missing salt and an unknown attribute are refused", (t) => {
  refused(t, edited((n) => void (n.attrs.shape = ["batch", -3])), /\.attrs\.shape: expected a shape/);
  refused(t, edited((n) => void delete n.attrs.salt), /\.attrs\.salt: expected an integer/);
  refused(t, edited((n) => void (n.attrs.seed = 1)), /\.attrs\.seed: not an attribute of random/);
});

test("a key that is not the i32[2] input is refused by the type rule", (t) => {
  // Node 1 is x, f32[batch, 3].
  refused(t, edited((n) => void (n.inputs = [1])), /\(random\): random: the key must be i32\[2\], got f32\[batch, 3\]/);
});
