// What fusion makes of the common patterns: how many WebGPU kernels, and what
// each computes. (That the fused kernels compute the right values is tested
// against the CPU interpreter in test/runtime/webgpu.)

import test from "ava";
import { join } from "node:path";
import { grad } from "../../../compiler/autodiff/grad.js";
import { Compilation } from "../../../compiler/compilation.js";
import { lowerCpu } from "../../../compiler/codegen/cpu.js";
import { lowerGpu } from "../../../compiler/codegen/wgsl/program.js";
import { CONTRACTION_OPS, INDEXED_OPS, MAX_KERNEL_BUFFERS, partition, REDUCTION_OPS, rowOf, sameRow, WINDOW_OPS } from "../../../compiler/fusion/kernels.js";
import { graphNodes } from "../../../compiler/ir/graph.js";
import type { Graph, Node } from "../../../compiler/ir/node.js";
import { broadcastInDim, matmul as matmulPrim, reduce } from "../../../compiler/ops/build.js";
import * as ops from "../../../compiler/ops/composite.js";
import { make } from "../../../compiler/ops/make.js";
import { eraseStopGradient } from "../../../compiler/passes/algebra.js";
import { simplify } from "../../../compiler/passes/simplify.js";
import { OP_FAMILY, OPS } from "../../../runtime/program/ops.js";
import { input } from "../../helpers/gradcheck.js";
import { ROOT } from "../../helpers/paths.js";
import { randomGraph } from "../../helpers/random-graph.js";
import { sourceCompilation } from "../../helpers/compile.js";

const graph = (inputs: Node[], outputs: Record<string, Node>): Graph => ({ name: "g", inputs: inputs as never, outputs: Object.entries(outputs).map(([name, node]) => ({ name, node })) });
const kinds = (g: Graph) => partition(simplify(eraseStopGradient(g)).graph).kernels.map((k) => k.kind);

test("an elementwise chain with broadcasting is one kernel (GELU, tanh form)", (t) => {
  const x = input("x", [64, 33]);
  const b = input("b", [33]);
  t.deepEqual(kinds(graph([x, b], { y: ops.gelu(ops.binaryOp("add", x, b)) })), ["pointwise"]);
});

test("softmax, log-softmax and layer norm are one row kernel each", (t) => {
  const x = input("x", [64, 100]);
  t.deepEqual(kinds(graph([x], { y: ops.softmax(x) })), ["row"]);
  t.deepEqual(kinds(graph([x], { y: ops.logSoftmax(x) })), ["row"]);
  t.deepEqual(kinds(graph([x], { y: ops.layerNorm(x) })), ["row"]);
});

test("softmax cross-entropy computes the per-example loss and the logits' gradient in one kernel, then the batch mean", (t) => {
  const z = make("input", [], { name: "z", shape: ["batch", 10], dtype: "f32" });
  const y = make("input", [], { name: "y", shape: ["batch"], dtype: "i32" });
  const g = grad(graph([z, y], { loss: ops.softmaxCrossEntropy(z, y) }), { inputs: ["z"] });
  const p = partition(simplify(eraseStopGradient(g)).graph);
  t.is(p.kernels.length, 2);
  const ce = p.kernels.find((k) => k.outputs.some((o) => o.shape.length === 2));
  if (ce?.kind !== "row") return t.fail(`the cross-entropy kernel is ${ce?.kind}`);
  t.is(ce.reductions.length, 3, "max, sum of exponentials, and the label's logit, in one pass over each row");
});

test("a matmul takes its bias and activation as an epilogue, writing both the pre-activation and the activation when both are needed", (t) => {
  const x = input("x", [32, 20]);
  const w = input("w", [20, 16]);
  const b = input("b", [16]);
  const z = ops.binaryOp("add", ops.matmul(x, w), b);
  t.deepEqual(kinds(graph([x, w, b], { h: ops.relu(z) })), ["contraction"]);
  const both = partition(graph([x, w, b], { z, h: ops.relu(z) }));
  t.is(both.kernels.length, 1);
  t.is(both.kernels[0]!.outputs.length, 2);
});

test("a transposed operand is read in place by the matmul, never copied", (t) => {
  const a = input("a", [20, 32]);
  const w = input("w", [16, 20]);
  const y = make("matmul", [ops.transpose(a), ops.transpose(w)], { transA: false, transB: false });
  const g = simplify(graph([a, w], { y })).graph;
  t.deepEqual(partition(g).kernels.map((k) => k.kind), ["contraction"]);
  t.false(graphNodes(g).some((n) => n.op === "transpose"));
});

const mlp = new Compilation(join(ROOT, "models/mlp.ts"));

test("the MLP's training step (forward, backward, Adam) runs in at most 20 kernels; unfused, one per primitive", (t) => {
  const step = mlp.step().graph;
  const fused = mlp.plan(step);
  const unfused = mlp.plan(step, false);
  t.log(`${fused.kernels.length} kernels fused, ${unfused.kernels.length} unfused`);
  t.true(fused.kernels.length <= 20);
  const primitives = graphNodes(step).filter((n) => !["input", "param", "reshape", "stopGradient"].includes(n.op)).length;
  t.is(unfused.kernels.length, primitives);
});

test("each Adam update (moments, bias correction, the write) is fused into the kernel of its gradient", (t) => {
  const step = mlp.step().graph;
  const p = mlp.plan(step);
  const outputsOf = (name: string) => step.outputs.find((o) => o.name === name)!.node;
  for (const param of mlp.source().params) {
    const k = p.kernels.filter((k) => k.outputs.includes(outputsOf(`param/${param.name}`)));
    t.is(k.length, 1);
    t.true(k[0]!.outputs.includes(outputsOf(`state/opt/m/${param.name}`)) && k[0]!.outputs.includes(outputsOf(`state/opt/v/${param.name}`)), param.name);
    t.true(k[0]!.kind === "contraction" || k[0]!.kind === "row", `${param.name}'s update is in its gradient's ${k[0]!.kind} kernel`);
  }
});

// A gated recurrence, as in a GRU: the gradient of h = z * h + ... is a pointwise
// chain back through every step, which each step's kernel used to recompute
// whole, reading every step's buffers (17 and more: more than lavapipe binds).
const RECURRENCE = `import { type Tensor, param, matmul, sigmoid, tanh, reshape, slice, sum, adam } from "dlc";
export function loss(x: Tensor<["batch", 24, 6]>): Tensor<[]> {
  const w = param("w", [6, 8], "glorot");
  const u = param("u", [8, 8], "glorot");
  const v = param("v", [8, 8], "glorot");
  let h = tanh(matmul(reshape(slice(x, [0, 0, 0], [-1, 1, 6]), [-1, 6]), w));
  for (let t = 1; t < 24; t++) {
    const row = reshape(slice(x, [0, t, 0], [-1, 1, 6]), [-1, 6]);
    const z = sigmoid(matmul(row, w) + matmul(h, u));
    h = z * h + (1 - z) * tanh(matmul(row, w) + matmul(h, v));
  }
  return sum(h);
}
export const train = { optimizer: adam({ lr: 1e-3 }) };
`;

test("no kernel binds more buffers than MAX_KERNEL_BUFFERS: a recurrence's gradient chain is cut into pieces", (t) => {
  const c = sourceCompilation(RECURRENCE);
  const step = c.step().graph;
  const p = c.plan(step);
  const widest = Math.max(...c.wgsl(step).kernels.map((k) => k.bindings.length));
  t.true(widest <= MAX_KERNEL_BUFFERS, `a kernel binds ${widest} buffers`);
  t.true([...p.reasons.values()].some((why) => /more than a kernel may bind|would bind/.test(why)), "the cut has its reason");
});

test("a sum of 30 buffers is cut into kernels that each bind at most MAX_KERNEL_BUFFERS", (t) => {
  const xs = Array.from({ length: 30 }, (_, i) => input(`x${i}`, [16]));
  const y = xs.slice(1).reduce((a, b) => ops.binaryOp("add", a, b), xs[0]!);
  const g = graph(xs, { y });
  const program = lowerGpu(g, { fusion: true }, partition(g));
  t.true(program.kernels.every((k) => k.bindings.length <= MAX_KERNEL_BUFFERS), program.kernels.map((k) => k.bindings.length).join(" "));
  t.true(program.kernels.length <= 4, `${program.kernels.length} kernels`);
});

test("every value that gets a buffer has a reason", (t) => {
  const x = input("x", [8, 4]);
  const w = input("w", [4, 3]);
  const h = ops.relu(matmulPrim(x, w));
  const p = partition(graph([x, w], { y: ops.sum(matmulPrim(h, make("input", [], { name: "v", shape: [3, 2], dtype: "f32" }))) }));
  for (const n of p.materialized) if (n.op !== "input" && n.op !== "param") t.truthy(p.reasons.get(n), n.op);
});

test("a cheap elementwise operand of a matmul (pixels / 255) is computed as the matmul loads it", (t) => {
  const x = input("x", [32, 20]);
  const w = input("w", [20, 16]);
  const p = partition(graph([x, w], { y: ops.matmul(ops.binaryOp("div", x, 255), w) }));
  t.deepEqual(p.kernels.map((k) => k.kind), ["contraction"]);
  const costly = partition(graph([x, w], { y: ops.matmul(ops.unaryOp("exp", ops.unaryOp("tanh", ops.binaryOp("div", x, 255))), w) }));
  t.is(costly.kernels.length, 2, "a longer chain gets a buffer of its own");
});

test("kernel groups carry exactly the fields of their kind: the MLP's step is contractions around its matmuls and row kernels over their rows", (t) => {
  const step = mlp.step().graph;
  const p = mlp.plan(step);
  const fields = { pointwise: ["kind", "outputs"], row: ["kind", "outputs", "reductions", "row"], contraction: ["anchor", "kind", "outputs"], window: ["anchor", "kind", "outputs"], indexed: ["anchor", "kind", "outputs"] };
  for (const k of p.kernels) {
    t.deepEqual(Object.keys(k).sort(), fields[k.kind], k.kind);
    t.true(k.outputs.length > 0 && k.outputs.every((o) => p.materialized.has(o)));
    if (k.kind === "contraction" || k.kind === "window") t.is(OP_FAMILY[k.anchor.op], k.kind, k.anchor.op);
    if (k.kind === "indexed") t.true(OP_FAMILY[k.anchor.op] === "gather" || OP_FAMILY[k.anchor.op] === "scan", k.anchor.op);
    if (k.kind === "row") for (const r of k.reductions) t.true(OP_FAMILY[r.op] === "reduce" && sameRow(rowOf(r), k.row), r.op);
  }
  t.deepEqual([...new Set(p.kernels.map((k) => k.kind))].sort(), ["contraction", "row"]);
  // Every matmul of the step is the anchor of one kernel.
  const anchors = p.kernels.flatMap((k) => (k.kind === "contraction" ? [k.anchor] : []));
  const matmuls = graphNodes(step).filter((n) => n.op === "matmul");
  t.is(anchors.length, matmuls.length);
  t.true(matmuls.every((m) => anchors.includes(m)));
});

test("the kernel groups' op lists are OP_FAMILY's contractions, windows and reductions", (t) => {
  const family = (f: string) => OPS.filter((op) => OP_FAMILY[op] === f).sort();
  t.deepEqual([...CONTRACTION_OPS].sort(), family("contraction"));
  t.deepEqual([...WINDOW_OPS].sort(), family("window"));
  t.deepEqual([...REDUCTION_OPS].sort(), family("reduce"));
  t.deepEqual([...INDEXED_OPS].sort(), [...family("gather"), ...family("scan")].sort());
});

test("a reduction read off its row (a broadcast over other axes) gets a buffer, with the reason", (t) => {
  const x = input("x", [2, 3]);
  const s = reduce("sum", x, [1]);
  // y[i, j] reads s[j]: the thread owning row j of x does not compute y[i, j].
  const g = graph([x], { y: ops.unaryOp("exp", broadcastInDim(s, [3, 2], [1])) });
  const p = partition(g);
  t.regex(p.reasons.get(s) ?? "", /sum read off its row \(by broadcast\)/);
  t.deepEqual(p.kernels.map((k) => k.kind), ["row", "pointwise"]);
  t.notThrows(() => lowerGpu(g, { fusion: true }));
});

test("a row read back through axes of one element stays in its row kernel", (t) => {
  // max over [1, 3] is [1], spread back over the row by a broadcast onto the reduced axis (the axis of one element carries no index).
  const x = input("x", [1, 3]);
  const m = reduce("max", x, [1]);
  const g = graph([x], { y: ops.binaryOp("sub", x, broadcastInDim(m, [1, 3], [1])) });
  t.deepEqual(partition(g).kernels.map((k) => k.kind), ["row"]);
  t.notThrows(() => lowerGpu(g, { fusion: true }));
});

test("fusion lowers 300 random simplified graphs, for WebGPU and for the CPU program", (t) => {
  for (let seed = 0; seed < 300; seed++) {
    const g = simplify(randomGraph(seed, 14, { finite: true }).graph).graph;
    t.notThrows(() => lowerGpu(g, { fusion: true }), `seed ${seed}: WebGPU`);
    t.notThrows(() => lowerCpu(g, { fusion: true }), `seed ${seed}: CPU`);
  }
});
