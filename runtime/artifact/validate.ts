// The structure of an artifact's payload, checked field by field before the
// runtime trusts any of it: known ops, node inputs that come earlier (so a
// program is a DAG in order), indices in range, sizes that are sizes, and a
// training ABI that matches the step and the parameters. A failure names the
// path of the bad field.

import { abiFromNames, checkTrainAbi, type TrainAbi } from "../program/abi.js";
import { tileThreads, type GpuKernel, type WorkgroupTile } from "../program/gpu.js";
import type { TrainProgram } from "../program/model.js";
import { isOp } from "../program/ops.js";
import { typecheckGraph } from "./typecheck.js";
import type { ArtifactPayload } from "./format.js";

class Bad extends Error {}

type Check = (v: unknown, path: string) => void;

const fail = (path: string, what: string): never => {
  throw new Bad(`${path}: ${what}`);
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const str: Check = (v, p) => void (typeof v === "string" || fail(p, "expected a string"));
const bool: Check = (v, p) => void (typeof v === "boolean" || fail(p, "expected true or false"));
const num: Check = (v, p) => void ((typeof v === "number" && Number.isFinite(v)) || fail(p, "expected a number"));
const int = (min = 0): Check => (v, p) => void ((Number.isSafeInteger(v) && (v as number) >= min) || fail(p, `expected an integer >= ${min}`));
const dim: Check = (v, p) => void ((Number.isSafeInteger(v) && (v as number) >= 0) || (typeof v === "string" && /^(\d+\*)?[A-Za-z_]\w*(\*[A-Za-z_]\w*)*$/.test(v)) || fail(p, "expected a dimension"));
const oneOf = (...values: unknown[]): Check => (v, p) => void (values.includes(v) || fail(p, `expected one of ${values.map((x) => JSON.stringify(x)).join(", ")}`));
const arrayOf = (item: Check): Check => (v, p) => {
  if (!Array.isArray(v)) fail(p, "expected an array");
  (v as unknown[]).forEach((x, i) => item(x, `${p}[${i}]`));
};
const optional = (c: Check): Check => (v, p) => {
  if (v !== undefined) c(v, p);
};
const object = (fields: Record<string, Check>): Check => (v, p) => {
  if (!isObject(v)) fail(p, "expected an object");
  for (const [k, c] of Object.entries(fields)) c((v as Record<string, unknown>)[k], `${p}.${k}`);
};

const dtype = oneOf("f32", "i32");
const shape = arrayOf(dim);
const tensorSpec = object({ name: str, dtype, shape, classes: optional(int(1)) });

/** A node's source position: [file index, line, column], or null. */
const position: Check = (v, p) => {
  if (v === null) return;
  if (!Array.isArray(v) || v.length !== 3) fail(p, "expected [file, line, column] or null");
  (v as unknown[]).forEach((x, i) => int(i === 0 ? 0 : 1)(x, `${p}[${i}]`));
};
const locations = object({ files: arrayOf(str), nodes: arrayOf(position) });

/** A graph program: nodes in topological order, each input an earlier node; source positions, if any, one per node. */
const graphProgram: Check = (v, p) => {
  object({ name: str, nodes: arrayOf(object({ op: str, inputs: arrayOf(int()), shape, dtype })), inputs: arrayOf(object({ name: str, node: int() })), outputs: arrayOf(object({ name: str, node: int() })), locations: optional(locations) })(v, p);
  const g = v as { nodes: { op: string; inputs: number[]; attrs: unknown }[]; inputs: { node: number }[]; outputs: { node: number }[]; locations?: { files: string[]; nodes: ([number, number, number] | null)[] } };
  if (g.locations) {
    if (g.locations.nodes.length !== g.nodes.length) fail(`${p}.locations.nodes`, `has ${g.locations.nodes.length} positions for ${g.nodes.length} nodes`);
    g.locations.nodes.forEach((at, i) => {
      if (at && at[0] >= g.locations!.files.length) fail(`${p}.locations.nodes[${i}][0]`, "no such file");
    });
  }
  g.nodes.forEach((n, i) => {
    if (!isOp(n.op)) fail(`${p}.nodes[${i}].op`, `unknown op '${n.op}'`);
    if (!isObject(n.attrs)) fail(`${p}.nodes[${i}].attrs`, "expected an object");
    n.inputs.forEach((j, k) => {
      if (j >= i) fail(`${p}.nodes[${i}].inputs[${k}]`, `refers to node ${j}, which does not come before it`);
    });
  });
  for (const [what, list] of [["inputs", g.inputs], ["outputs", g.outputs]] as const) {
    list.forEach((b, i) => {
      if (b.node >= g.nodes.length) fail(`${p}.${what}[${i}].node`, "out of range");
    });
  }
};

const inRange = (p: string, n: number, nodes: number) => {
  if (n >= nodes) fail(p, `node ${n} is out of range`);
};

const cpuProgram: Check = (v, p) => {
  object({ graph: graphProgram, steps: arrayOf(object({ kind: oneOf("kernel", "alias", "fused"), node: int(), members: optional(arrayOf(int())) })) })(v, p);
  const c = v as { graph: { nodes: unknown[] }; steps: { node: number; members?: number[] }[] };
  c.steps.forEach((s, i) => {
    inRange(`${p}.steps[${i}].node`, s.node, c.graph.nodes.length);
    s.members?.forEach((m, k) => inRange(`${p}.steps[${i}].members[${k}]`, m, c.graph.nodes.length));
  });
};

const kernelCode = {
  name: str,
  wgsl: str,
  bindings: arrayOf(object({ node: int(), write: bool })),
  grid: arrayOf(object({ size: dim, per: int(1) })),
  ops: arrayOf(str),
  bytes: arrayOf(dim),
};

/** A hardware variant's workgroup tile: whole register blocks, a power-of-two count of invocations the cost model can trust. */
const workgroupTile: Check = (v, p) => {
  object({ rows: int(1), cols: int(1), depth: int(1), block: arrayOf(int(1)), buffers: oneOf(1, 2) })(v, p);
  const t = v as WorkgroupTile;
  if (t.block.length !== 2) fail(`${p}.block`, "expected [rows, cols]");
  if (t.rows % t.block[0] !== 0 || t.cols % t.block[1] !== 0) fail(p, `a ${t.rows}x${t.cols} tile is not made of ${t.block[0]}x${t.block[1]} blocks`);
  const threads = tileThreads(t);
  if (threads > 1024 || (threads & (threads - 1)) !== 0) fail(p, `${threads} invocations: expected a power of two up to 1024`);
};
const variant = object({ ...kernelCode, family: oneOf("hardware"), tile: workgroupTile, product: object({ rows: dim, cols: dim, depth: dim, count: dim }) });

const gpuProgram: Check = (v, p) => {
  const kernel = object({ ...kernelCode, variants: optional(arrayOf(variant)) });
  object({ graph: graphProgram, symbols: arrayOf(str), buffers: arrayOf(int()), views: arrayOf(object({ node: int(), of: int() })), kernels: arrayOf(kernel) })(v, p);
  const g = v as { graph: { nodes: unknown[] }; buffers: number[]; kernels: GpuKernel[] };
  const n = g.graph.nodes.length;
  g.buffers.forEach((b, i) => inRange(`${p}.buffers[${i}]`, b, n));
  g.kernels.forEach((k, i) => {
    k.bindings.forEach((b, j) => inRange(`${p}.kernels[${i}].bindings[${j}].node`, b.node, n));
    k.variants?.forEach((x, vi) => {
      const at = `${p}.kernels[${i}].variants[${vi}]`;
      x.bindings.forEach((b, j) => inRange(`${at}.bindings[${j}].node`, b.node, n));
      // The variants of a kernel are one product (the runtime compares their costs on it).
      if (JSON.stringify(x.product) !== JSON.stringify(k.variants![0]!.product)) fail(`${at}.product`, "differs from the kernel's other variants");
    });
  });
};

const entry = object({ name: str, inputs: arrayOf(tensorSpec), outputs: arrayOf(tensorSpec), cpu: cpuProgram, gpu: optional(gpuProgram) });

const init = (v: unknown, p: string) => {
  object({ kind: oneOf("zeros", "ones", "const", "he", "glorot", "lecun", "normal", "uniform") })(v, p);
  const i = v as Record<string, unknown>;
  if (i.kind === "const") num(i.value, `${p}.value`);
  if (i.kind === "normal") num(i.std, `${p}.std`);
  if (i.kind === "uniform") num(i.limit, `${p}.limit`);
};

const trainConfig = object({
  optimizer: object({ kind: oneOf("sgd", "adam", "adamw"), lr: num, schedule: object({ kind: oneOf("constant", "step", "cosine", "warmup") }) }),
  batch: int(1),
  epochs: int(1),
  seed: int(0),
  normalize: optional(oneOf("standard", "minmax", "none")),
  label: optional(str),
});

/** The step's bindings; their meaning is checked against the step and the model by checkTrainAbi. */
const stepInput: Check = (v, p) => {
  object({ name: str, role: oneOf("data", "key", "hyper", "state") })(v, p);
  const b = v as Record<string, unknown>;
  if (b.role === "hyper") oneOf("lr", "step")(b.hyper, `${p}.hyper`);
  if (b.role === "state") object({ param: str, kind: str })(v, p);
};
const stepOutput: Check = (v, p) => {
  object({ name: str, role: oneOf("loss", "param", "state") })(v, p);
  const b = v as Record<string, unknown>;
  if (b.role === "param") str(b.param, `${p}.param`);
  if (b.role === "state") str(b.state, `${p}.state`);
};
const abi = object({ inputs: arrayOf(stepInput), outputs: arrayOf(stepOutput) });

const payload = object({
  fusion: bool,
  model: object({
    file: str,
    hash: str,
    params: arrayOf(object({ name: str, shape: arrayOf(int(1)), init, trainable: optional(oneOf(false)) })),
    entries: arrayOf(entry),
    train: optional(object({ config: trainConfig, step: entry, state: arrayOf(object({ name: str, param: str, shape: arrayOf(int(1)) })), params: arrayOf(str), abi: optional(abi) })),
  }),
  memoryPlans: arrayOf(object({ entry: str, slots: arrayOf(int()), peakBytes: int() })),
});

const CONVOLUTIONS: ReadonlySet<string> = new Set(["conv2d", "conv2dInputGrad", "conv2dFilterGrad"]);

/**
 * Artifacts written before convolutions had dilation and groups: theirs are
 * 1, and the WGSL they carry is the undilated, ungrouped kernel. Fills the
 * two attributes in (in place, before anything reads the graphs).
 */
function upgradeConvolutions(p: ArtifactPayload): void {
  const graphs = [...p.model.entries, ...(p.model.train ? [p.model.train.step] : [])].flatMap((e) => [e.cpu.graph, ...(e.gpu ? [e.gpu.graph] : [])]);
  for (const g of graphs) {
    for (const n of g.nodes) {
      if (!CONVOLUTIONS.has(n.op)) continue;
      const attrs = n.attrs as Record<string, unknown>;
      if (!("dilation" in attrs)) attrs.dilation = [1, 1];
      if (!("groups" in attrs)) attrs.groups = 1;
    }
  }
}

/**
 * Every graph re-typed by the compiler's own rules, and each entry's CPU and
 * WebGPU programs over one and the same graph.
 */
function checkGraphs(p: ArtifactPayload): void {
  const entries = [...p.model.entries.map((e, i) => [e, `payload.model.entries[${i}]`] as const), ...(p.model.train ? [[p.model.train.step, "payload.model.train.step"] as const] : [])];
  for (const [e, at] of entries) {
    typecheckGraph(e.cpu.graph, `${at}.cpu.graph`);
    if (e.gpu && JSON.stringify(e.gpu.graph) !== JSON.stringify(e.cpu.graph)) throw new Error(`${at}.gpu.graph: differs from the CPU program's graph`);
  }
}

export function validatePayload(v: unknown): ArtifactPayload {
  try {
    payload(v, "payload");
  } catch (e) {
    if (e instanceof Bad) throw new Error(e.message);
    throw e;
  }
  const p = v as ArtifactPayload;
  upgradeConvolutions(p);
  checkGraphs(p);
  const train = p.model.train;
  if (!train) return p;
  // Artifacts written before the ABI was recorded: recover it from the step's names.
  const withAbi: TrainProgram = (train as { abi?: TrainAbi }).abi ? train : { ...train, abi: abiFromNames(train.step, train.state, train.params) };
  checkTrainAbi(p.model.params, withAbi, "payload.model.train");
  return withAbi === train ? p : { ...p, model: { ...p.model, train: withAbi } };
}
