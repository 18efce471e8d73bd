// Training and inference modes. Every entry point is traced in inference
// mode; when a layer asks for the mode (batch norm, dropout), `loss` is traced
// again in training mode, and that graph is what the step differentiates.
// Batch norm's running statistics are non-trainable parameters: no gradient,
// no optimizer state, written by the step, read by predict.

import test from "ava";
import { CompileError } from "../../../compiler/frontend/diagnostics.js";
import { graphNodes } from "../../../compiler/ir/graph.js";
import { entry, updateName } from "../../../compiler/ir/program.js";
import { compileSource, sourceCompilation } from "../../helpers/compile.js";

const BN_MODEL = `
import { type Tensor, param, matmul, relu, batchNorm, softmaxCrossEntropy, argmax, sgd } from "dlc";

function logits(x: Tensor<["batch", 4]>): Tensor<["batch", 3]> {
  const h = relu(batchNorm(matmul(x, param("w1", [4, 8], "he")), { name: "bn1", momentum: 0.9 }));
  return matmul(h, param("w2", [8, 3], "glorot"));
}
export function predict(x: Tensor<["batch", 4]>): Tensor<["batch"], "i32"> {
  return argmax(logits(x), -1);
}
export function loss(x: Tensor<["batch", 4]>, y: Tensor<["batch"], "i32">): Tensor<[]> {
  return softmaxCrossEntropy(logits(x), y);
}
export const train = { optimizer: sgd({ lr: 0.1, momentum: 0.9 }), batch: 8, epochs: 1 };
`;

test("batchNorm declares a learned scale and shift and two non-trainable running statistics", (t) => {
  const p = compileSource(BN_MODEL);
  const bn = p.params.filter((d) => d.name.startsWith("bn1."));
  t.deepEqual(bn.map((d) => [d.name, d.shape, d.init.kind, d.trainable !== false]), [
    ["bn1.scale", [8], "ones", true],
    ["bn1.shift", [8], "zeros", true],
    ["bn1.mean", [8], "zeros", false],
    ["bn1.variance", [8], "ones", false],
  ]);
});

test("entry points use the running statistics; the training loss uses the batch's and writes the running ones", (t) => {
  const p = compileSource(BN_MODEL);
  // Inference: no reduction over the batch anywhere in predict.
  const predict = entry(p, "predict")!;
  t.false(graphNodes(predict).some((n) => n.op === "sum"));
  t.true(graphNodes(predict).some((n) => n.op === "param" && n.attrs.name === "bn1.variance"));
  // Training: a second trace of loss with the statistics' new values as outputs.
  const training = p.trainingLoss!;
  t.truthy(training);
  t.deepEqual(training.outputs.map((o) => o.name), ["loss", updateName("bn1.mean"), updateName("bn1.variance")]);
  t.true(graphNodes(training).some((n) => n.op === "sum"));
});

test("the step differentiates only trainable parameters and writes the running statistics without optimizer state", (t) => {
  const step = sourceCompilation(BN_MODEL).step();
  t.deepEqual(step.params, ["w1", "bn1.scale", "bn1.shift", "w2", "bn1.mean", "bn1.variance"]);
  t.deepEqual(step.state.map((s) => s.param), ["w1", "bn1.scale", "bn1.shift", "w2"]);
  const written = step.abi.outputs.filter((b) => b.role === "param").map((b) => (b.role === "param" ? b.param : ""));
  t.true(written.includes("bn1.mean") && written.includes("bn1.variance"));
  t.false(step.abi.inputs.some((b) => b.role === "key"), "batch norm draws no random numbers");
});

test("a model without batch norm or dropout is traced once", (t) => {
  const p = compileSource(BN_MODEL.replace('batchNorm(matmul(x, param("w1", [4, 8], "he")), { name: "bn1", momentum: 0.9 })', 'matmul(x, param("w1", [4, 8], "he"))'));
  t.false(p.params.some((d) => d.name.startsWith("bn1")));
  t.is(p.trainingLoss, undefined);
});

function diagnostic(t: import("ava").ExecutionContext, source: string, code: CompileError["diagnostic"]["code"], pattern: RegExp): void {
  const e = t.throws(() => compileSource(source), { instanceOf: CompileError }) as CompileError;
  t.is(e.diagnostic.code, code);
  t.regex(e.message, pattern);
  t.regex(e.diagnostic.span?.file ?? "", /model\.ts$/);
  t.true((e.diagnostic.span?.line ?? 0) > 1, "points at the call");
}

test("bad batchNorm calls are diagnosed at the call", (t) => {
  diagnostic(t, BN_MODEL.replace('{ name: "bn1", momentum: 0.9 }', "{ momentum: 0.9 }"), "DLC1006", /batchNorm needs a name/);
  diagnostic(t, BN_MODEL.replace("momentum: 0.9", "momentum: 1.5"), "DLC1006", /momentum must be in \[0, 1\)/);
  diagnostic(t, BN_MODEL.replace("momentum: 0.9", "axis: 2"), "DLC1006", /axis 2 is out of range/);
  diagnostic(t, BN_MODEL.replace("momentum: 0.9", "momentm: 0.9"), "DLC1006", /unknown option 'momentm'/);
});

test("one batch norm applied twice in a step is an error: its running statistics would be written twice", (t) => {
  const twice = BN_MODEL.replace("return matmul(h, param", 'return matmul(batchNorm(h, { name: "bn1" }), param');
  diagnostic(t, twice, "DLC2002", /'bn1\.mean' is updated twice/);
});

const DROPOUT_MODEL = BN_MODEL.replace("return matmul(h, param", "return matmul(dropout(h, 0.5), param").replace("batchNorm, softmaxCrossEntropy", "batchNorm, dropout, softmaxCrossEntropy");

test("dropout is the identity in inference mode and draws from the step's key in training mode, one salt per call", (t) => {
  const p = compileSource(DROPOUT_MODEL.replace("dropout(h, 0.5)", "dropout(dropout(h, 0.5), 0.25)"));
  t.false(graphNodes(entry(p, "predict")!).some((n) => n.op === "random"));
  t.false(graphNodes(entry(p, "loss")!).some((n) => n.op === "random"), "the loss entry (eval, the test loss) is in inference mode");
  const training = p.trainingLoss!;
  const draws = graphNodes(training).filter((n) => n.op === "random");
  t.deepEqual(draws.map((n) => (n.op === "random" ? n.attrs.salt : -1)).sort(), [0, 1]);
  t.deepEqual(training.inputs.map((i) => i.attrs.name), ["x", "y", "opt/key"]);
  const step = sourceCompilation(DROPOUT_MODEL).step();
  t.deepEqual(step.abi.inputs.filter((b) => b.role === "key").map((b) => b.name), ["opt/key"]);
});

test("dropout with a rate of 0 draws nothing; a rate outside [0, 1) is diagnosed at the call", (t) => {
  const none = compileSource(DROPOUT_MODEL.replace("dropout(h, 0.5)", "dropout(h, 0)"));
  t.false(graphNodes(none.trainingLoss!).some((n) => n.op === "random"));
  diagnostic(t, DROPOUT_MODEL.replace("dropout(h, 0.5)", "dropout(h, 1)"), "DLC1006", /dropout's rate must be in \[0, 1\), got 1/);
  diagnostic(t, DROPOUT_MODEL.replace("dropout(h, 0.5)", "dropout(h, -0.1)"), "DLC1006", /dropout's rate must be in \[0, 1\)/);
});
