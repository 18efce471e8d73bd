// TensorFlow.js peers: the plain-JS cpu backend, the Wasm backend (XNNPACK,
// SIMD; single-threaded in Node, which has no Worker global) and the WebGPU
// backend on Dawn.
//
// Usage notes:
// - TensorFlow.js has one global engine with one active backend, so each peer
//   switches to its backend before it builds or runs anything (use()). Tensors
//   live on the backend that made them; running one tfjs peer's workloads
//   between another's moves data between backends, so benchmark one tfjs
//   backend at a time.
// - Every op is its own kernel (no fusion across ops); the workloads use the
//   library's fused ops where it has them (fused.matMul / fused.conv2d with
//   bias and relu, which also have gradients) and its own softmax, moments,
//   softmax cross-entropy and Adam (tf.train.adam).
// - cpu and wasm execute synchronously; webgpu queues work, so run() ends with
//   a one-element readback, which waits for everything queued before it.
// - @tensorflow/tfjs-backend-webgpu registers its backend when imported only if
//   navigator.gpu exists then: it is imported after ensureWebGpu().
// - enableProdMode() drops debug checks and the "install tfjs-node" notice.

import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { ensureWebGpu } from "./env.js";
import { ADAM, Batches, CLASSES, GELU_C, initialParams, LAYERNORM_EPS, MICRO_SHAPES, microInputs, PIXELS } from "./workloads.js";
import { Unavailable, type HostTensor, type Micro, type Model, type Peer, type Runner, type TrainingData, type TrainingRunner } from "./types.js";

type TfName = "cpu" | "wasm" | "webgpu";

const geluOf = (x: tf.Tensor): tf.Tensor => {
  const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(GELU_C);
  return x.mul(0.5).mul(tf.tanh(inner).add(1));
};

/** The new p, m, v of dlc's Adam at step t (counting from 1). */
function adamOf(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, t: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const { lr, beta1: b1, beta2: b2, eps } = ADAM;
  const m1 = m.mul(b1).add(g.mul(1 - b1));
  const v1 = v.mul(b2).add(g.square().mul(1 - b2));
  const step = m1.div(1 - b1 ** t).div(tf.sqrt(v1.div(1 - b2 ** t)).add(eps));
  return [p.sub(step.mul(lr)), m1, v1];
}

/** The micro workloads except adam, whose state is kept in variables (see micro()). */
const MICRO_OPS: Record<Exclude<Micro, "adam">, (xs: tf.Tensor[]) => tf.Tensor> = {
  gelu: ([x]) => geluOf(x!),
  softmax: ([x]) => tf.softmax(x!),
  layernorm: ([x]) => {
    const { mean, variance } = tf.moments(x!, -1, true);
    return x!.sub(mean).div(tf.sqrt(variance.add(LAYERNORM_EPS)));
  },
  matmul: ([a, b]) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
  "matmul-bias-relu": ([a, b, bias]) => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: bias!, activation: "relu" }),
};

/** Waits for everything queued before it: a one-element readback. */
async function fence(x: tf.Tensor): Promise<void> {
  const one = tf.tidy(() => x.reshape([-1]).slice(0, 1));
  await one.data();
  one.dispose();
}

const upload = (h: HostTensor): tf.Tensor => tf.tensor(h.data, [...h.shape], "float32");

type Params = Map<string, tf.Variable>;

function forward(model: Model, p: Params, pixels: tf.Tensor2D): tf.Tensor2D {
  const w = (name: string) => p.get(name)!;
  const dense = (a: tf.Tensor, name: string, relu: boolean): tf.Tensor2D =>
    tf.fused.matMul({ a: a as tf.Tensor2D, b: w(`${name}.w`) as tf.Tensor2D, bias: w(`${name}.b`), activation: relu ? "relu" : "linear" }) as tf.Tensor2D;
  const x = pixels.div(255);
  if (model === "mlp") return dense(dense(dense(x, "fc0", true), "fc1", true), "out", false);
  const conv = (h: tf.Tensor4D, name: string) =>
    tf.fused.conv2d({ x: h, filter: w(`${name}.k`) as tf.Tensor4D, strides: 1, pad: "same", bias: w(`${name}.b`), activation: "relu" });
  let h = x.reshape([-1, 28, 28, 1]) as tf.Tensor4D;
  h = tf.maxPool(conv(h, "conv1"), 2, 2, "valid"); // 14x14x16
  h = tf.maxPool(conv(h, "conv2"), 2, 2, "valid"); // 7x7x32
  return dense(h.reshape([-1, 7 * 7 * 32]), "out", false);
}

// The kernels a training step of each model needs, forward and backward.
const TRAINING_KERNELS: Record<Model, readonly string[]> = {
  mlp: ["_FusedMatMul", "BatchMatMul", "Relu", "Softmax", "OneHot"],
  cnn: ["FusedConv2D", "Conv2DBackpropFilter", "Conv2DBackpropInput", "MaxPool", "MaxPoolGrad", "_FusedMatMul", "BatchMatMul", "Softmax", "OneHot"],
};

export async function createTfjsPeer(backend: "tfjs-cpu" | "tfjs-wasm" | "tfjs-webgpu"): Promise<Peer | { unavailable: string }> {
  tf.enableProdMode();
  const name = backend.slice("tfjs-".length) as TfName;
  let detail = name === "cpu" ? "cpu (plain JavaScript)" : name;
  if (name === "webgpu") {
    const gpu = await ensureWebGpu();
    if (!gpu) return { unavailable: "no WebGPU adapter" };
    await import("@tensorflow/tfjs-backend-webgpu");
    detail = `webgpu on ${gpu.description}`;
  }
  try {
    if (!(await tf.setBackend(name))) return { unavailable: `tf.setBackend("${name}") failed` };
    await tf.ready();
  } catch (e) {
    return { unavailable: `TensorFlow.js ${name} backend: ${(e as Error).message}` };
  }
  if (name === "wasm") {
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
    detail = `wasm (${simd ? "SIMD" : "no SIMD"}, ${threads ? "multithreaded" : "1 thread"})`;
  }

  const use = async () => {
    if (tf.getBackend() !== name) await tf.setBackend(name);
  };

  const peer: Peer = {
    backend,
    description: `TensorFlow.js ${tf.version_core} ${detail}`,

    async compute(kind, inputs) {
      await use();
      const xs = inputs.map(upload);
      const outs = tf.tidy(() => (kind === "adam" ? adamOf(xs[0]!, xs[1]!, xs[2]!, xs[3]!, inputs[4]!.data[0]!) : [MICRO_OPS[kind](xs)]));
      const values = await Promise.all(outs.map(async (o) => new Float32Array(await o.data())));
      tf.dispose([...xs, ...outs]);
      return values;
    },

    async micro(kind) {
      await use();
      const inputs = microInputs(kind, MICRO_SHAPES[kind]);
      if (kind === "adam") {
        const [p, m, v] = [inputs[0]!, inputs[2]!, inputs[3]!].map((h) => tf.variable(upload(h), false));
        const g = upload(inputs[1]!);
        let t = 0;
        return {
          async run() {
            await use();
            t += 1;
            tf.tidy(() => {
              const [p1, m1, v1] = adamOf(p!, g, m!, v!, t);
              p!.assign(p1);
              m!.assign(m1);
              v!.assign(v1);
            });
            await fence(p!);
          },
          dispose: () => tf.dispose([p!, m!, v!, g]),
        };
      }
      const xs = inputs.map(upload);
      const op = MICRO_OPS[kind];
      return {
        async run() {
          await use();
          const y = tf.tidy(() => op(xs));
          await fence(y);
          y.dispose();
        },
        dispose: () => tf.dispose(xs),
      };
    },

    async training(model, batch, data) {
      await use();
      const missing = TRAINING_KERNELS[model].filter((k) => !tf.getKernel(k, name));
      if (missing.length > 0) {
        throw new Unavailable(`TensorFlow.js ${name} has no ${missing.join(", ")} kernel${missing.length > 1 ? "s" : ""}, which training the ${model} needs`);
      }
      return tfjsTraining(model, batch, data, use);
    },
  };
  return peer;
}

async function tfjsTraining(model: Model, batch: number, data: TrainingData, use: () => Promise<void>): Promise<TrainingRunner> {
  const batches = new Batches(data, batch);
  const params: Params = new Map([...initialParams(model)].map(([n, h]) => [n, tf.variable(upload(h), true)]));
  const varList = [...params.values()];
  const optimizer = tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
  const lossOf = (x: tf.Tensor2D, y: tf.Tensor1D): tf.Scalar => tf.losses.softmaxCrossEntropy(tf.oneHot(y, CLASSES), forward(model, params, x)) as tf.Scalar;
  let last = NaN;
  return {
    async run() {
      await use();
      const b = batches.take();
      const cost = tf.tidy(() => {
        const x = tf.tensor2d(b.x, [batch, PIXELS]);
        const y = tf.tensor1d(b.y, "int32");
        return optimizer.minimize(() => lossOf(x, y), true, varList)!;
      });
      last = (await cost.data())[0]!;
      cost.dispose();
    },
    loss: async () => last,
    dispose() {
      optimizer.dispose();
      tf.dispose(varList);
    },
  };
}
