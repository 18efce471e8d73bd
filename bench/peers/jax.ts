// jax-js peers: its Wasm backend and its WebGPU backend on Dawn, with every
// workload one jit-compiled function (jax-js fuses the ops of a jit and
// records its kernels once per input shapes).
//
// Usage notes:
// - Ownership: every jax-js function, jit-compiled ones included, consumes
//   (decrements the reference count of) its Array arguments; `a.ref` passes a
//   and keeps it alive; `data()` consumes too. Inputs kept across runs are
//   passed as `x.ref`; training and Adam state is passed by value and replaced
//   by the function's outputs. tree.ref / tree.dispose do the same for JsTrees.
// - Devices: init("wasm", "webgpu") starts the backends; arrays are placed
//   with { device }, and a jit runs where its arguments live.
// - Synchronization: blockUntilReady() submits the pending kernels and waits
//   for them (on WebGPU a zero-byte readback, ordered after them; measured to
//   be a real fence: onSubmittedWorkDone right after it returns in 0.1 ms).
// - The training step (forward, valueAndGrad, Adam for every parameter) is one
//   jit of (params, m, v, t, x, y) -> [params, m, v, loss]; the step counter t
//   is a float32 scalar argument, so the step compiles once.
// - jax-js convolutions are NCHW with OIHW kernels: the CNN's input (one
//   channel) reshapes to NCHW for free, its kernels are dlc's HWIO values
//   transposed once on the host, and the last feature map is transposed to
//   NHWC before flattening, so the dense layer sees dlc's order. Max pooling is
//   a reshape to 2x2 windows and a max over them.
// - In Node: jax-js reads navigator.userAgent (ensureNavigator()); its Wasm
//   backend is multithreaded only where a global Worker exists, which Node
//   lacks, so it runs on one thread; WebGPU works through Dawn, but only the
//   async readbacks (dataSync() needs OffscreenCanvas).

import * as jax from "@jax-js/jax";
import { readFileSync } from "node:fs";
import { ensureNavigator, ensureWebGpu } from "./env.js";
import { ADAM, Batches, CLASSES, hwioToOihw, initialParams, LAYERNORM_EPS, MICRO_SHAPES, microInputs, PIXELS } from "./workloads.js";
import type { HostTensor, Micro, Model, Peer, TrainingData, TrainingRunner } from "./types.js";

const { numpy: np, nn, lax, jit, valueAndGrad, tree } = jax;
type JArray = jax.Array;
type Device = "wasm" | "webgpu";
type Params = Record<string, JArray>;

const version = (): string => {
  const pkg = new URL("../package.json", import.meta.resolve("@jax-js/jax"));
  return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
};

/** dlc's Adam for one tensor; consumes all its arguments (c1 = 1 - b1^t, c2 = 1 - b2^t). */
function adamOf(p: JArray, g: JArray, m: JArray, v: JArray, c1: JArray, c2: JArray): [JArray, JArray, JArray] {
  const { lr, beta1: b1, beta2: b2, eps } = ADAM;
  const m1 = m.mul(b1).add(g.ref.mul(1 - b1));
  const v1 = v.mul(b2).add(g.ref.mul(g).mul(1 - b2));
  const step = m1.ref.div(c1).div(np.sqrt(v1.ref.div(c2)).add(eps));
  return [p.sub(step.mul(lr)), m1, v1];
}

const corrections = (t: JArray): [JArray, JArray] => [np.subtract(1, np.power(ADAM.beta1, t.ref)), np.subtract(1, np.power(ADAM.beta2, t))];

/** The micro workloads as pure functions (to be jit-compiled). */
const MICRO_FNS: Record<Micro, (...xs: JArray[]) => JArray[]> = {
  gelu: (x) => [nn.gelu(x!, { approximate: true })],
  softmax: (x) => [nn.softmax(x!, -1)],
  layernorm: (x) => [nn.standardize(x!, -1, { epsilon: LAYERNORM_EPS })],
  matmul: (a, b) => [np.matmul(a!, b!)],
  "matmul-bias-relu": (a, b, bias) => [nn.relu(np.matmul(a!, b!).add(bias!))],
  adam: (p, g, m, v, t) => {
    const [c1, c2] = corrections(t!);
    return adamOf(p!, g!, m!, v!, c1, c2);
  },
};

function forward(model: Model, p: Params, pixels: JArray): JArray {
  const batch = pixels.shape[0]!;
  const x = pixels.div(255);
  if (model === "mlp") {
    let h = nn.relu(np.matmul(x, p["fc0.w"]!).add(p["fc0.b"]!));
    h = nn.relu(np.matmul(h, p["fc1.w"]!).add(p["fc1.b"]!));
    return np.matmul(h, p["out.w"]!).add(p["out.b"]!);
  }
  const block = (h: JArray, name: string, channels: number, size: number) => {
    const y = nn.relu(lax.conv(h, p[`${name}.k`]!, [1, 1], "SAME").add(p[`${name}.b`]!.reshape([1, channels, 1, 1])));
    return y.reshape([batch, channels, size / 2, 2, size / 2, 2]).max([3, 5]);
  };
  let h = x.reshape([batch, 1, 28, 28]); // NHWC with one channel is NCHW
  h = block(h, "conv1", 16, 28); // [batch, 16, 14, 14]
  h = block(h, "conv2", 32, 14); // [batch, 32, 7, 7]
  const flat = np.transpose(h, [0, 2, 3, 1]).reshape([batch, 7 * 7 * 32]);
  return np.matmul(flat, p["out.w"]!).add(p["out.b"]!);
}

/** Mean softmax cross-entropy with integer labels. */
function lossOf(model: Model, p: Params, x: JArray, y: JArray): JArray {
  const batch = x.shape[0]!;
  return nn.logSoftmax(forward(model, p, x), -1).mul(nn.oneHot(y, CLASSES)).sum().mul(-1 / batch);
}

/**
 * Waits until `outs` are computed: blockUntilReady submits their pending
 * kernels and waits for them (on WebGPU, a zero-byte readback ordered after
 * them); the queue's onSubmittedWorkDone makes sure of it at no measurable cost.
 */
async function settle(device: Device, outs: jax.JsTree<JArray>): Promise<void> {
  await jax.blockUntilReady(outs);
  if (device === "webgpu") await jax.getWebGPUDevice().queue.onSubmittedWorkDone();
}

export async function createJaxPeer(backend: "jax-wasm" | "jax-webgpu"): Promise<Peer | { unavailable: string }> {
  ensureNavigator();
  const device: Device = backend === "jax-wasm" ? "wasm" : "webgpu";
  // jax-js's own test for its Wasm worker pool.
  const threaded = typeof SharedArrayBuffer !== "undefined" && typeof (globalThis as { Worker?: unknown }).Worker !== "undefined";
  let detail = threaded ? "wasm (multithreaded)" : "wasm (1 thread: no Worker global)";
  if (device === "webgpu") {
    const gpu = await ensureWebGpu();
    if (!gpu) return { unavailable: "no WebGPU adapter" };
    detail = `webgpu on ${gpu.description}`;
  }
  const started = await jax.init(device);
  if (!started.includes(device)) return { unavailable: `jax-js init("${device}") did not start the ${device} backend` };

  const use = () => jax.defaultDevice(device);
  const ready = (outs: JArray[]) => settle(device, outs);
  const upload = (h: HostTensor): JArray => np.array(h.data, { shape: [...h.shape], device });

  const peer: Peer = {
    backend,
    description: `jax-js ${version()} ${detail}`,

    async compute(kind, inputs) {
      use();
      const f = jit(MICRO_FNS[kind]);
      const outs = f(...inputs.map(upload));
      const values = await Promise.all(outs.map(async (o) => new Float32Array(await o.data())));
      f.dispose();
      return values;
    },

    async micro(kind) {
      use();
      const f = jit(MICRO_FNS[kind]);
      const xs = microInputs(kind, MICRO_SHAPES[kind]).map(upload);
      if (kind === "adam") {
        let [p, g, m, v] = xs as [JArray, JArray, JArray, JArray];
        let t = 0;
        return {
          async run() {
            use();
            t += 1;
            [p, m, v] = f(p, g.ref, m, v, np.full([], t, { dtype: np.float32, device })) as [JArray, JArray, JArray];
            await ready([p, m, v]);
          },
          dispose() {
            tree.dispose([p, g, m, v]);
            f.dispose();
          },
        };
      }
      return {
        async run() {
          use();
          const [y] = f(...xs.map((x) => x.ref));
          await ready([y!]);
          y!.dispose();
        },
        dispose() {
          tree.dispose(xs);
          f.dispose();
        },
      };
    },

    async training(model, batch, data) {
      use();
      return jaxTraining(model, batch, data, device);
    },
  };
  return peer;
}

async function jaxTraining(model: Model, batch: number, data: TrainingData, device: Device): Promise<TrainingRunner> {
  const batches = new Batches(data, batch);
  let params: Params = {};
  for (const [name, h] of initialParams(model)) {
    const v = name.endsWith(".k") ? hwioToOihw(h) : h;
    params[name] = np.array(v.data, { shape: [...v.shape], device });
  }
  let m: Params = tree.map((a: JArray) => np.zerosLike(a.ref), params);
  let v: Params = tree.map((a: JArray) => np.zerosLike(a.ref), params);

  const step = jit((p: Params, m: Params, v: Params, t: JArray, x: JArray, y: JArray): [Params, Params, Params, JArray] => {
    const [loss, grads] = valueAndGrad((q: Params, x: JArray, y: JArray) => lossOf(model, q, x, y))(tree.ref(p), x, y);
    const [c1, c2] = corrections(t);
    const p1: Params = {}, m1: Params = {}, v1: Params = {};
    for (const k of Object.keys(p)) [p1[k], m1[k], v1[k]] = adamOf(p[k]!, grads[k]!, m[k]!, v[k]!, c1.ref, c2.ref);
    c1.dispose();
    c2.dispose();
    return [p1, m1, v1, loss];
  });

  let t = 0;
  let lastLoss: JArray | undefined;
  return {
    async run() {
      jax.defaultDevice(device);
      const b = batches.take();
      const x = np.array(b.x, { shape: [batch, PIXELS], device });
      const y = np.array(b.y, { shape: [batch], dtype: np.int32, device });
      t += 1;
      lastLoss?.dispose();
      [params, m, v, lastLoss] = step(params, m, v, np.full([], t, { dtype: np.float32, device }), x, y);
      await settle(device, [params, m, v, lastLoss]);
    },
    async loss() {
      return lastLoss ? (await lastLoss.ref.data())[0]! : NaN;
    },
    dispose() {
      tree.dispose([params, m, v]);
      lastLoss?.dispose();
      step.dispose();
    },
  };
}
