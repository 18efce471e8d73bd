// The dlc library as the compiler sees it: every export of lang/dlc.d.ts as a
// compile-time function. Arguments are checked here (shapes and options must
// be compile-time values), then the graph is built by compiler/ops.

import type { Dim } from "../../runtime/program/dim.js";
import { isSymbolName } from "../../runtime/program/dim.js";
import { BINARY_OPS, ELEMENTWISE, UNARY_OPS, type BinaryOp, type UnaryOp } from "../../runtime/program/elementwise.js";
import type { DType, Init } from "../../runtime/program/ops.js";
import type { Node } from "../ir/node.js";
import { broadcastTo, cast, full } from "../ops/build.js";
import { batchNormInference, batchNormTraining } from "../ops/batchnorm.js";
import * as ops from "../ops/composite.js";
import { dropout } from "../ops/dropout.js";
import { make } from "../ops/make.js";
import { closest } from "./diagnostics.js";
import { BuiltinError } from "./evaluator.js";
import type { TraceContext } from "./trace.js";
import { Builtin, ObjectValue, TensorValue, show, typeName, type CallSite, type Value } from "./values.js";


// ---------------------------------------------------------------- argument checks

const bad = (message: string, hint: string) => new BuiltinError("DLC1006", message, hint);

function tensorArg(v: Value, what: string): Node {
  if (v instanceof TensorValue) return v.node;
  if (typeof v === "number") return full(v, []);
  throw bad(`${what} must be a tensor or a number, got ${typeName(v)}`, "pass a tensor");
}

function operandArg(v: Value, what: string): ops.Operand {
  if (v instanceof TensorValue) return v.node;
  if (typeof v === "number") return v;
  throw bad(`${what} must be a tensor or a number, got ${typeName(v)}`, "pass a tensor or a number");
}

function compileTime(v: Value, what: string): void {
  if (v instanceof TensorValue) throw new BuiltinError("DLC3004", `${what} must be known at compile time, but it is a tensor`, "shapes, axes and options are compile-time values");
}

function intArg(v: Value, what: string): number {
  compileTime(v, what);
  if (typeof v !== "number" || !Number.isInteger(v)) throw bad(`${what} must be an integer, got ${show(v)}`, "pass a compile-time integer");
  return v;
}

function numberArg(v: Value, what: string): number {
  compileTime(v, what);
  if (typeof v !== "number" || !Number.isFinite(v)) throw bad(`${what} must be a finite number, got ${show(v)}`, "pass a compile-time number");
  return v;
}

function boolArg(v: Value, what: string, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  compileTime(v, what);
  if (typeof v !== "boolean") throw bad(`${what} must be true or false, got ${show(v)}`, "pass a boolean");
  return v;
}

function axesArg(v: Value, what: string): number[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v.map((a, i) => intArg(a, `${what}[${i}]`));
  return [intArg(v, what)];
}

function intList(v: Value, what: string): number[] {
  compileTime(v, what);
  if (!Array.isArray(v)) throw bad(`${what} must be an array of integers, got ${show(v)}`, "e.g. [784, 256]");
  return v.map((d, i) => intArg(d, `${what}[${i}]`));
}

function tensorList(v: Value, what: string): Node[] {
  if (!Array.isArray(v)) throw bad(`${what} must be an array of tensors, got ${typeName(v)}`, "e.g. [a, b]");
  return v.map((x, i) => tensorArg(x, `${what}[${i}]`));
}

function dimList(v: Value, what: string): Dim[] {
  compileTime(v, what);
  if (!Array.isArray(v)) throw bad(`${what} must be an array of dimensions, got ${show(v)}`, 'e.g. [-1, 28, 28, 1] or ["batch", 10]');
  return v.map((d, i) => {
    if (typeof d === "string" && isSymbolName(d)) return d;
    return intArg(d, `${what}[${i}]`);
  });
}

/** Reads an options object, rejecting keys it does not know. */
function optionsArg(v: Value, what: string, known: readonly string[]): Map<string, Value> {
  if (v === undefined) return new Map();
  if (!(v instanceof ObjectValue) || v.tag) throw bad(`${what} must be an options object, got ${typeName(v)}`, `known options: ${known.join(", ")}`);
  for (const k of v.props.keys()) {
    if (!known.includes(k)) {
      const guess = closest(k, known);
      throw bad(`unknown option '${k}' in ${what}`, guess ? `did you mean '${guess}'?` : `known options: ${known.join(", ")}`);
    }
  }
  return v.props;
}

function intOrPair(v: Value, what: string): number | number[] {
  return Array.isArray(v) ? intList(v, what) : intArg(v, what);
}

function paddingArg(v: Value, what: string): ops.Padding {
  if (v === undefined) return "valid";
  if (v === "same" || v === "valid") return v;
  if (typeof v === "string") throw bad(`${what} must be "same", "valid" or numbers, got ${show(v)}`, 'use "same" to keep the size');
  return intOrPair(v, what);
}

/** A convolution's options object: each option read by `read` if present, and the padding ("valid" by default). */
function convOptions(v: Value, op: string, known: readonly string[]) {
  const o = optionsArg(v, `${op}'s options`, known);
  return {
    padding: paddingArg(o.get("padding"), `${op}'s padding`),
    get: <T>(key: string, read: (v: Value, what: string) => T): T | undefined => (o.has(key) ? read(o.get(key), `${op}'s ${key}`) : undefined),
  };
}

function initArg(v: Value): Init {
  if (v === undefined) return { kind: "zeros" };
  if (typeof v === "number") return v === 0 ? { kind: "zeros" } : v === 1 ? { kind: "ones" } : { kind: "const", value: numberArg(v, "init") };
  if (v === "zeros" || v === "ones" || v === "he" || v === "glorot" || v === "lecun") return { kind: v };
  if (v instanceof ObjectValue && !v.tag) {
    if (v.props.size === 1 && v.props.has("normal")) return { kind: "normal", std: numberArg(v.props.get("normal"), "init normal") };
    if (v.props.size === 1 && v.props.has("uniform")) return { kind: "uniform", limit: numberArg(v.props.get("uniform"), "init uniform") };
  }
  const guess = typeof v === "string" ? closest(v, ["zeros", "ones", "he", "glorot", "lecun"]) : undefined;
  throw bad(`unknown initializer ${show(v)}`, guess ? `did you mean "${guess}"?` : '"zeros", "ones", "he", "glorot", "lecun", a number, { normal: std } or { uniform: limit }');
}

// ---------------------------------------------------------------- optimizers

const OPTIMIZER_KEYS = {
  sgd: ["lr", "momentum", "nesterov", "weightDecay", "schedule", "clipNorm"],
  adam: ["lr", "beta1", "beta2", "eps", "schedule", "clipNorm"],
  adamw: ["lr", "beta1", "beta2", "eps", "weightDecay", "schedule", "clipNorm"],
} as const;

function optimizer(kind: keyof typeof OPTIMIZER_KEYS): Builtin {
  return new Builtin(kind, ([opts]) => {
    const o = optionsArg(opts, `${kind}()`, OPTIMIZER_KEYS[kind]);
    if (!o.has("lr")) throw bad(`${kind}() needs a learning rate`, `${kind}({ lr: 1e-3 })`);
    const out = new ObjectValue("optimizer");
    out.props.set("kind", kind);
    for (const [k, v] of o) out.props.set(k, v);
    return out;
  });
}

// ---------------------------------------------------------------- layers with a training mode

const BATCH_NORM_KEYS = ["name", "axis", "momentum", "epsilon"];

/** batchNorm(x, { name, axis = -1, momentum = 0.99, epsilon = 1e-3 }): Keras's defaults and names. */
function batchNorm(trace: TraceContext, x: Node, options: Value, site: CallSite): Node {
  const o = optionsArg(options, "batchNorm's options", BATCH_NORM_KEYS);
  const name = o.get("name");
  if (typeof name !== "string" || name === "") throw bad("batchNorm needs a name for its parameters", 'batchNorm(x, { name: "bn1" }) declares bn1.scale, bn1.shift, bn1.mean and bn1.variance');
  if (x.dtype !== "f32") throw bad(`batchNorm's input must be f32, got ${x.dtype}`, "cast it first");
  const rank = x.shape.length;
  const a = o.has("axis") ? intArg(o.get("axis"), "batchNorm's axis") : -1;
  if (rank < 2 || a < -rank || a >= rank) throw bad(`batchNorm's axis ${a} is out of range for a rank-${rank} input`, "the feature axis, e.g. -1 for channels last; the statistics are taken over the other axes");
  const axis = a < 0 ? a + rank : a;
  const features = x.shape[axis]!;
  if (typeof features !== "number") throw bad(`batchNorm's feature axis has the symbolic size '${features}'`, "normalize along an axis of static size (the channels)");
  const momentum = o.has("momentum") ? numberArg(o.get("momentum"), "batchNorm's momentum") : 0.99;
  if (momentum < 0 || momentum >= 1) throw bad(`batchNorm's momentum must be in [0, 1), got ${momentum}`, "running = momentum * running + (1 - momentum) * batch; Keras uses 0.99");
  const epsilon = o.has("epsilon") ? numberArg(o.get("epsilon"), "batchNorm's epsilon") : 1e-3;
  if (epsilon <= 0) throw bad(`batchNorm's epsilon must be positive, got ${epsilon}`, "e.g. 1e-3");
  const declare = (what: string, init: Init, trainable = true) => trace.declare(`${name}.${what}`, [features], init, site, trainable);
  const p = { scale: declare("scale", { kind: "ones" }), shift: declare("shift", { kind: "zeros" }), mean: declare("mean", { kind: "zeros" }, false), variance: declare("variance", { kind: "ones" }, false) };
  const opts = { axis, momentum, epsilon };
  if (trace.mode() === "inference") return batchNormInference(x, p, opts);
  const { y, mean, variance } = batchNormTraining(x, p, opts);
  trace.update(`${name}.mean`, mean);
  trace.update(`${name}.variance`, variance);
  return y;
}

// ---------------------------------------------------------------- the library

type Impl = (args: Value[], site: CallSite) => Value;
const T = (n: Node) => new TensorValue(n);

export function dlcLibrary(trace: TraceContext): Map<string, Builtin> {
  const unary = (op: UnaryOp): Impl => ([x]) => T(ops.unaryOp(op, operandArg(x, `${op}'s argument`)));
  const binary = (op: BinaryOp): Impl => ([a, b]) =>
    T(ops.binaryOp(op, operandArg(a, `${op}'s first argument`), operandArg(b, `${op}'s second argument`)));
  // The elementwise primitives a model imports by name, as the op table names them.
  const primitives: Record<string, Impl> = {};
  for (const op of UNARY_OPS) {
    const name = ELEMENTWISE[op].names?.dlc;
    if (name) primitives[name] = unary(op);
  }
  for (const op of BINARY_OPS) {
    const name = ELEMENTWISE[op].names?.dlc;
    if (name) primitives[name] = binary(op);
  }
  const reduction = (f: (x: Node, axes: number[] | undefined, keepDims: boolean) => Node, name: string): Impl => ([x, axis, keepDims]) =>
    T(f(tensorArg(x, `${name}'s argument`), axesArg(axis, `${name}'s axis`), boolArg(keepDims, `${name}'s keepDims`, false)));

  const impls: Record<string, Impl> = {
    param: ([name, shape, init], site) => {
      if (typeof name !== "string" || name === "") throw bad(`a parameter name must be a non-empty string, got ${show(name)}`, 'param("fc1.w", [784, 256], "he")');
      const dims = intList(shape, `the shape of '${name}'`);
      if (dims.some((d) => d < 1)) throw bad(`the shape of '${name}' must have positive sizes, got [${dims.join(", ")}]`, "parameters have static, positive dimensions");
      return T(trace.declare(name, dims, initArg(init), site));
    },
    relu: ([x]) => T(ops.relu(operandArg(x, "relu's argument"))),
    sigmoid: ([x]) => T(ops.sigmoid(operandArg(x, "sigmoid's argument"))),
    gelu: ([x, options]) => {
      const o = optionsArg(options, "gelu's options", ["approximate"]);
      return T(ops.gelu(operandArg(x, "gelu's argument"), boolArg(o.get("approximate"), "gelu's approximate", true)));
    },
    square: ([x]) => {
      const v = operandArg(x, "square's argument");
      return T(ops.binaryOp("mul", v, v));
    },
    ...primitives,
    where: ([c, a, b]) => T(ops.where(operandArg(c, "where's condition"), operandArg(a, "where's second argument"), operandArg(b, "where's third argument"))),
    cast: ([x, dtype]) => {
      if (dtype !== "f32" && dtype !== "i32") throw bad(`unknown dtype ${show(dtype)}`, 'dtypes are "f32" and "i32"');
      return T(cast(tensorArg(x, "cast's argument"), dtype as DType));
    },
    stopGradient: ([x]) => T(make("stopGradient", [tensorArg(x, "stopGradient's argument")], {})),
    sum: reduction(ops.sum, "sum"),
    mean: reduction(ops.mean, "mean"),
    max: reduction(ops.max, "max"),
    min: reduction(ops.min, "min"),
    argmax: ([x, axis]) => T(ops.argmax(tensorArg(x, "argmax's argument"), axis === undefined ? -1 : intArg(axis, "argmax's axis"))),
    reshape: ([x, shape]) => T(ops.reshapeTo(tensorArg(x, "reshape's argument"), intList(shape, "reshape's shape"))),
    transpose: ([x, perm]) => T(ops.transpose(tensorArg(x, "transpose's argument"), perm === undefined ? undefined : intList(perm, "transpose's axes"))),
    broadcastTo: ([x, shape]) => T(broadcastTo(tensorArg(x, "broadcastTo's argument"), dimList(shape, "broadcastTo's shape"))),
    oneHot: ([x, depth]) => T(ops.oneHot(tensorArg(x, "oneHot's labels"), intArg(depth, "oneHot's depth"))),
    matmul: ([a, b]) => T(ops.matmul(tensorArg(a, "matmul's left operand"), tensorArg(b, "matmul's right operand"))),
    conv2d: ([x, k, options]) => {
      const o = convOptions(options, "conv2d", ["stride", "padding", "dilation", "groups"]);
      const geometry = { stride: o.get("stride", intOrPair), padding: o.padding, dilation: o.get("dilation", intOrPair), groups: o.get("groups", intArg) };
      return T(ops.conv2d(tensorArg(x, "conv2d's input"), tensorArg(k, "conv2d's kernel"), geometry));
    },
    depthwiseConv2d: ([x, k, options]) => {
      const o = convOptions(options, "depthwiseConv2d", ["stride", "padding", "dilation"]);
      const geometry = { stride: o.get("stride", intOrPair), padding: o.padding, dilation: o.get("dilation", intOrPair) };
      return T(ops.depthwiseConv2d(tensorArg(x, "depthwiseConv2d's input"), tensorArg(k, "depthwiseConv2d's kernel"), geometry));
    },
    conv1d: ([x, k, options]) => {
      const o = convOptions(options, "conv1d", ["stride", "padding", "dilation", "groups"]);
      const geometry = { stride: o.get("stride", intArg), padding: o.padding, dilation: o.get("dilation", intArg), groups: o.get("groups", intArg) };
      return T(ops.conv1d(tensorArg(x, "conv1d's input"), tensorArg(k, "conv1d's kernel"), geometry));
    },
    conv2dTranspose: ([x, k, options]) => {
      const o = convOptions(options, "conv2dTranspose", ["stride", "padding", "dilation", "groups", "outputShape"]);
      const geometry = { stride: o.get("stride", intOrPair), padding: o.padding, dilation: o.get("dilation", intOrPair), groups: o.get("groups", intArg), outputShape: o.get("outputShape", intList) };
      return T(ops.conv2dTranspose(tensorArg(x, "conv2dTranspose's input"), tensorArg(k, "conv2dTranspose's kernel"), geometry));
    },
    maxPool2d: ([x, options]) => T(pool("maxPool2d", x, options)),
    avgPool2d: ([x, options]) => T(pool("avgPool2d", x, options)),
    softmax: ([x, axis]) => T(ops.softmax(tensorArg(x, "softmax's argument"), axis === undefined ? -1 : intArg(axis, "softmax's axis"))),
    logSoftmax: ([x, axis]) => T(ops.logSoftmax(tensorArg(x, "logSoftmax's argument"), axis === undefined ? -1 : intArg(axis, "logSoftmax's axis"))),
    logSumExp: reduction(ops.logSumExp, "logSumExp"),
    layerNorm: ([x, eps]) => T(ops.layerNorm(tensorArg(x, "layerNorm's argument"), eps === undefined ? 1e-5 : numberArg(eps, "layerNorm's eps"))),
    softmaxCrossEntropy: ([logits, labels]) => T(ops.softmaxCrossEntropy(tensorArg(logits, "the logits"), tensorArg(labels, "the labels"))),
    mse: ([p, t]) => T(ops.mse(operandArg(p, "mse's prediction"), operandArg(t, "mse's target"))),
    gather: ([table, indices, axis]) => {
      const idx = typeof indices === "number" && Number.isInteger(indices) ? full(indices, [], "i32") : tensorArg(indices, "gather's indices");
      return T(ops.gather(tensorArg(table, "gather's table"), idx, axis === undefined ? 0 : intArg(axis, "gather's axis")));
    },
    clip: ([x, lo, hi]) => T(ops.clip(operandArg(x, "clip's argument"), operandArg(lo, "clip's lower bound"), operandArg(hi, "clip's upper bound"))),
    cumsum: ([x, axis, options]) => {
      if (axis === undefined) throw bad("cumsum needs an axis", "cumsum(x, -1) sums along the last axis");
      const o = optionsArg(options, "cumsum's options", ["exclusive", "reverse"]);
      const exclusive = boolArg(o.get("exclusive"), "cumsum's exclusive", false);
      return T(ops.cumsum(tensorArg(x, "cumsum's argument"), intArg(axis, "cumsum's axis"), exclusive, boolArg(o.get("reverse"), "cumsum's reverse", false)));
    },
    slice: ([x, begin, size]) => T(ops.slice(tensorArg(x, "slice's argument"), intList(begin, "slice's begin"), intList(size, "slice's size"))),
    pad: ([x, paddings, value]) => {
      compileTime(paddings, "pad's paddings");
      if (!Array.isArray(paddings)) throw bad(`pad's paddings must be an array of [before, after] pairs, got ${show(paddings)}`, "e.g. [[0, 0], [1, 1]]");
      const pairs = paddings.map((p, i) => intList(p, `pad's paddings[${i}]`));
      return T(ops.pad(tensorArg(x, "pad's argument"), pairs, value === undefined ? 0 : numberArg(value, "pad's value")));
    },
    concat: ([xs, axis]) => T(ops.concat(tensorList(xs, "concat's tensors"), axis === undefined ? 0 : intArg(axis, "concat's axis"))),
    stack: ([xs, axis]) => T(ops.stack(tensorList(xs, "stack's tensors"), axis === undefined ? 0 : intArg(axis, "stack's axis"))),
    split: ([x, sizes, axis]) =>
      ops.split(tensorArg(x, "split's argument"), typeof sizes === "number" ? intArg(sizes, "split's parts") : intList(sizes, "split's sizes"), axis === undefined ? 0 : intArg(axis, "split's axis")).map(T),
    batchNorm: ([x, options], site) => T(batchNorm(trace, tensorArg(x, "batchNorm's input"), options, site)),
    dropout: ([x, rate]) => {
      const input = tensorArg(x, "dropout's input");
      const r = numberArg(rate, "dropout's rate");
      if (r < 0 || r >= 1) throw bad(`dropout's rate must be in [0, 1), got ${r}`, "the fraction of elements zeroed in training, e.g. 0.25");
      if (input.dtype !== "f32") throw bad(`dropout's input must be f32, got ${input.dtype}`, "cast it first");
      if (trace.mode() === "inference" || r === 0) return T(input);
      const { key, salt } = trace.draw();
      return T(dropout(input, r, key, salt));
    },
    sgd: optimizer("sgd").impl,
    adam: optimizer("adam").impl,
    adamw: optimizer("adamw").impl,
  };

  function pool(op: "maxPool2d" | "avgPool2d", x: Value, options: Value): Node {
    const o = optionsArg(options, `${op}'s options`, ["size", "stride", "padding"]);
    if (!o.has("size")) throw bad(`${op} needs a window size`, `${op}(x, { size: 2 })`);
    const size = intOrPair(o.get("size"), `${op}'s size`);
    const stride = o.has("stride") ? intOrPair(o.get("stride"), `${op}'s stride`) : undefined;
    return ops.pool(op, tensorArg(x, `${op}'s input`), size, stride, paddingArg(o.get("padding"), `${op}'s padding`));
  }

  return new Map(Object.entries(impls).map(([k, f]) => [k, new Builtin(k, f)]));
}

