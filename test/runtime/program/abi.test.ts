// The training ABI: the compiler records what each input and output of the
// training step is for, the artifact reader refuses a record that does not
// match the step or the parameters, and runtime/program/abi.ts is the only
// source file that spells the tensor names the records stand for.

import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildModel } from "../../../compiler/build.js";
import { abiFromNames, checkTrainAbi, type TrainAbi } from "../../../runtime/program/abi.js";
import type { ModelProgram, TrainProgram } from "../../../runtime/program/model.js";
import { ROOT, sourceFiles } from "../../helpers/paths.js";

const iris = buildModel(join(ROOT, "models/iris.ts"), { training: true });
const mlp = buildModel(join(ROOT, "models/mlp.ts"), { training: true });

test("iris (SGD with momentum): data, lr, step, one velocity per parameter; loss, parameters, velocities", (t) => {
  const abi = iris.train!.abi;
  t.deepEqual(abi.inputs, [
    { name: "x", role: "data" },
    { name: "species", role: "data" },
    { name: "opt/lr", role: "hyper", hyper: "lr" },
    { name: "opt/step", role: "hyper", hyper: "step" },
    { name: "opt/velocity/w", role: "state", param: "w", kind: "velocity" },
    { name: "opt/velocity/b", role: "state", param: "b", kind: "velocity" },
  ]);
  t.deepEqual(abi.outputs, [
    { name: "loss", role: "loss" },
    { name: "param/w", role: "param", param: "w" },
    { name: "param/b", role: "param", param: "b" },
    { name: "state/opt/velocity/w", role: "state", state: "opt/velocity/w" },
    { name: "state/opt/velocity/b", role: "state", state: "opt/velocity/b" },
  ]);
  t.notThrows(() => checkTrainAbi(iris.params, iris.train!));
});

test("mlp (Adam): m and v per parameter, bound in the step's order", (t) => {
  const { abi, step, state, params } = mlp.train!;
  t.deepEqual(params, ["fc0.w", "fc0.b", "fc1.w", "fc1.b", "out.w", "out.b"]);
  t.deepEqual(
    abi.inputs.map((b) => b.name),
    step.inputs.map((i) => i.name),
  );
  t.deepEqual(
    abi.outputs.map((b) => b.name),
    step.outputs.map((o) => o.name),
  );
  t.deepEqual(abi.inputs.slice(0, 4), [
    { name: "pixels", role: "data" },
    { name: "label", role: "data" },
    { name: "opt/lr", role: "hyper", hyper: "lr" },
    { name: "opt/step", role: "hyper", hyper: "step" },
  ]);
  t.deepEqual(
    abi.inputs.slice(4),
    params.flatMap((param) => ["m", "v"].map((kind) => ({ name: `opt/${kind}/${param}`, role: "state", param, kind }))),
  );
  t.deepEqual(
    state.map((s) => s.name),
    abi.inputs.slice(4).map((b) => b.name),
  );
  t.deepEqual(abi.outputs, [
    { name: "loss", role: "loss" },
    ...params.map((param) => ({ name: `param/${param}`, role: "param", param })),
    ...state.map((s) => ({ name: `state/${s.name}`, role: "state", state: s.name })),
  ]);
  t.notThrows(() => checkTrainAbi(mlp.params, mlp.train!));
});

test("the ABI recovered from the names of an artifact that lacks one is the recorded one", (t) => {
  for (const model of [iris, mlp]) {
    const { step, state, params, abi } = model.train!;
    t.deepEqual(abiFromNames(step, state, params), abi);
  }
});

/** `model` with its training ABI edited. */
const withAbi = (model: ModelProgram, edit: (abi: TrainAbi) => TrainAbi): TrainProgram => ({ ...model.train!, abi: edit(model.train!.abi) });
const refused = (t: import("ava").ExecutionContext, train: TrainProgram, message: RegExp) => {
  const error = t.throws(() => checkTrainAbi(iris.params, train));
  t.regex(error.message, message);
};

test("an ABI that names a missing parameter is refused", (t) => {
  refused(
    t,
    withAbi(iris, (abi) => ({ ...abi, outputs: abi.outputs.map((b) => (b.role === "param" && b.param === "b" ? { ...b, param: "bias" } : b)) })),
    /^train\.abi\.outputs\[2\]: updates 'bias', which is not a parameter of the model$/,
  );
  refused(
    t,
    withAbi(iris, (abi) => ({ ...abi, inputs: abi.inputs.map((b) => (b.role === "state" && b.param === "w" ? { ...b, param: "weights" } : b)) })),
    /^train\.abi\.inputs\[4\]: state of 'weights', which is not a parameter of the model$/,
  );
});

test("an ABI whose state or update does not have its parameter's shape is refused", (t) => {
  // The velocity of `b` bound as state of `w`: [3] against [4, 3].
  refused(
    t,
    withAbi(iris, (abi) => ({ ...abi, inputs: abi.inputs.map((b) => (b.role === "state" && b.param === "b" ? { ...b, param: "w" } : b)) })),
    /^train\.abi\.inputs\[5\]: 'opt\/velocity\/b' is state of 'b', the binding says 'w'$/,
  );
  // The update of `b` bound as the update of `w`.
  refused(
    t,
    withAbi(iris, (abi) => ({ ...abi, outputs: abi.outputs.map((b) => (b.role === "param" && b.param === "b" ? { ...b, param: "w" } : b)) })),
    /^train\.abi\.outputs\[2\]: 'param\/b' is f32\[3\], the parameter 'w' is f32\[4, 3\]$/,
  );
  // A parameter whose declared shape no longer matches the step.
  const params = iris.params.map((p) => (p.name === "b" ? { ...p, shape: [4] } : p));
  const error = t.throws(() => checkTrainAbi(params, iris.train!));
  t.regex(error.message, /^train\.abi\.inputs\[5\]: 'opt\/velocity\/b' has shape \[3\], its parameter 'b' \[4\]$/);
});

test("an ABI with inconsistent roles is refused", (t) => {
  const swap = (i: number, j: number) => (abi: TrainAbi) => {
    const inputs = [...abi.inputs];
    [inputs[i], inputs[j]] = [inputs[j]!, inputs[i]!];
    return { ...abi, inputs };
  };
  refused(t, withAbi(iris, swap(2, 3)), /^train\.abi\.inputs\[2\]: binds 'opt\/step', but the step's input 2 is 'opt\/lr'$/);
  refused(
    t,
    withAbi(iris, (abi) => ({ ...abi, inputs: abi.inputs.map((b) => (b.role === "hyper" ? { ...b, hyper: "lr" as const } : b)) })),
    /^train\.abi\.inputs\[3\]: the hyperparameter 'lr' is bound twice$/,
  );
  refused(
    t,
    withAbi(iris, (abi) => ({ ...abi, outputs: abi.outputs.map((b) => (b.role === "state" ? { name: b.name, role: "loss" as const } : b)) })),
    /^train\.abi\.outputs\[3\]: the loss is bound twice$/,
  );
  refused(t, withAbi(iris, (abi) => ({ ...abi, outputs: abi.outputs.slice(0, -1) })), /^train\.abi\.outputs: 4 bindings for the step's 5 outputs$/);
});

test("cnn-bn (dropout and batch norm): the random key after the data, the running statistics written as parameters without state", (t) => {
  const cnn = buildModel(join(ROOT, "models/cnn-bn.ts"), { training: true });
  const { abi } = cnn.train!;
  t.deepEqual(abi.inputs.slice(0, 5).map((b) => [b.name, b.role]), [["pixels", "data"], ["label", "data"], ["opt/key", "key"], ["opt/lr", "hyper"], ["opt/step", "hyper"]]);
  const key = cnn.train!.step.inputs[2]!;
  t.deepEqual([key.dtype, key.shape], ["i32", [2]]);
  const running = cnn.params.filter((p) => p.trainable === false).map((p) => p.name);
  // Every batch norm's running mean and variance, and nothing else.
  const norms = cnn.params.filter((p) => p.name.endsWith(".bn.scale")).map((p) => p.name.slice(0, -".scale".length));
  t.true(norms.length >= 3, norms.join(", "));
  t.deepEqual(running, norms.flatMap((bn) => [`${bn}.mean`, `${bn}.variance`]));
  for (const name of running) {
    t.true(abi.outputs.some((b) => b.role === "param" && b.param === name), `${name} is written`);
    t.false(abi.inputs.some((b) => b.role === "state" && b.param === name), `${name} has no optimizer state`);
  }
  t.notThrows(() => checkTrainAbi(cnn.params, cnn.train!));
  // A data input bound as the key is refused.
  const keyAt = (abi: TrainAbi) => abi.inputs.findIndex((b) => b.role === "key");
  refused(t, withAbi(cnn, (a) => ({ ...a, inputs: a.inputs.map((b, i) => (i === 0 ? { name: b.name, role: "key" as const } : b)) })), /^train\.abi\.inputs\[0\]: 'pixels' is f32\[batch, 784\], the random key is i32\[2\]$/);
  t.is(keyAt(abi), 2);
});

test("no source file but runtime/program/abi.ts spells the training ABI's names", (t) => {
  const files = sourceFiles("compiler", "runtime", "cli", "lang", "bin");
  t.true(files.length > 50, `${files.length} files`);
  t.true(files.includes("runtime/program/abi.ts"));
  const offending = files
    .filter((f) => f !== "runtime/program/abi.ts")
    .flatMap((f) => {
      const text = readFileSync(join(ROOT, f), "utf8");
      return ["opt/lr", "opt/step", "param/", "state/", "norm/"].filter((s) => text.includes(s)).map((s) => `${f}: ${s}`);
    });
  t.deepEqual(offending, []);
});
