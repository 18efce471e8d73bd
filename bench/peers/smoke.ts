// A smoke test of the peers: for each backend, every micro workload checked
// against the float64 reference on small inputs and timed at benchmark size,
// and a few training steps of each model on synthetic data (first loss against
// the float64 forward pass, loss decreasing), with rough timings. Prints what
// is unavailable and why. Not the benchmark: few runs, medians only.
//
//   node --import tsx bench/peers/smoke.ts [BACKEND ...] [--only WORD] [--steps N]
//
// Exits with 1 if a check failed or a workload threw (Unavailable is not a failure).

import { createPeer, MICROS, PEER_BACKENDS, Unavailable, type Micro, type Model, type Peer, type PeerBackend, type Runner, type TrainingData } from "./index.js";
import { referenceLoss, referenceMicro } from "./reference.js";
import { initialParams, microInputs, PIXELS } from "./workloads.js";
import { Random } from "../../runtime/random.js";

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const only = option("--only");
const steps = Number(option("--steps") ?? 20);
const backends = args.length > 0 ? (args as PeerBackend[]) : PEER_BACKENDS;
for (const b of backends) if (!PEER_BACKENDS.includes(b)) throw new Error(`unknown backend ${b}; one of ${PEER_BACKENDS.join(", ")}`);
const wanted = (name: string) => !only || name.includes(only);
const TRAINING_BUDGET_MS = 30_000;

const MODELS: readonly { model: Model; batch: number }[] = [
  { model: "mlp", batch: 128 },
  { model: "cnn", batch: 64 },
];

// Small shapes for the correctness checks; adam's step t goes last.
const CHECK_SHAPES: Record<Micro, readonly (readonly number[])[]> = {
  gelu: [[1000]],
  softmax: [[7, 33]],
  layernorm: [[7, 64]],
  matmul: [[17, 33], [33, 9]],
  "matmul-bias-relu": [[17, 33], [33, 9], [9]],
  adam: [[1000], [1000], [1000], [1000]],
};
// |peer - reference| <= atol + rtol |reference|
const TOLERANCE: Record<Micro, { atol: number; rtol: number }> = {
  gelu: { atol: 1e-5, rtol: 1e-4 },
  softmax: { atol: 1e-6, rtol: 1e-4 },
  layernorm: { atol: 1e-4, rtol: 1e-4 },
  matmul: { atol: 1e-4, rtol: 1e-4 },
  "matmul-bias-relu": { atol: 1e-4, rtol: 1e-4 },
  adam: { atol: 1e-6, rtol: 1e-5 },
};

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const rate = (perSecond: number) => (perSecond >= 10 ? perSecond.toFixed(1) : perSecond.toPrecision(2));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const timed = async (f: () => Promise<unknown>) => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

/** Timings of run(): the first (compiles), then the median of at least 3, at most 10, within about 2 s. */
async function time(runner: Runner): Promise<{ first: number; median: number; runs: number }> {
  const first = await timed(() => runner.run());
  const samples: number[] = [];
  let total = 0;
  while (samples.length < 3 || (samples.length < 10 && total < 2000)) {
    const ms = await timed(() => runner.run());
    samples.push(ms);
    total += ms;
  }
  return { first, median: median(samples), runs: samples.length };
}

/** Learnable synthetic Fashion-MNIST: ten random prototype images, each row one of them plus noise. */
function syntheticData(rows: number): TrainingData {
  const rng = new Random(7, 0x736d6b);
  const prototypes = Array.from({ length: 10 }, () => Float32Array.from({ length: PIXELS }, () => 255 * rng.uniform()));
  const x = new Float32Array(rows * PIXELS);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    y[r] = rng.int(10);
    const p = prototypes[y[r]!]!;
    for (let i = 0; i < PIXELS; i++) x[r * PIXELS + i] = Math.round(0.6 * p[i]! + 0.4 * 255 * rng.uniform());
  }
  return { x, y, rows };
}

type Cell = string;
const table = new Map<string, Map<PeerBackend, Cell>>();
const cell = (row: string, backend: PeerBackend, text: Cell) => {
  if (!table.has(row)) table.set(row, new Map());
  table.get(row)!.set(backend, text);
};
let failures = 0;
const unavailable: string[] = [];
const lossesOf = new Map<Model, Map<PeerBackend, number[]>>();

async function microCase(backend: PeerBackend, peer: Peer, kind: Micro) {
  const small = microInputs(kind, CHECK_SHAPES[kind], 2);
  if (kind === "adam") small.push({ data: new Float32Array([3]), shape: [] });
  if (kind === "softmax") for (let i = 0; i < small[0]!.data.length; i++) small[0]!.data[i]! *= 10;
  if (kind === "layernorm") for (let i = 0; i < small[0]!.data.length; i++) small[0]!.data[i]! += 2;
  const got = await peer.compute(kind, small);
  const want = referenceMicro(kind, small);
  const { atol, rtol } = TOLERANCE[kind];
  let worst = 0;
  let bad = got.length !== want.length;
  want.forEach((w, o) => {
    const g = got[o];
    if (!g || g.length !== w.length) return void (bad = true);
    for (let i = 0; i < w.length; i++) {
      const err = Math.abs(g[i]! - w[i]!);
      worst = Math.max(worst, err);
      if (!(err <= atol + rtol * Math.abs(w[i]!))) bad = true;
    }
  });
  if (bad) failures++;
  let runner: Runner | undefined;
  const setup = await timed(async () => void (runner = await peer.micro(kind)));
  const t = await time(runner!);
  runner!.dispose();
  console.log(
    `  ${kind.padEnd(17)} check ${bad ? "FAILED" : "ok"} (max abs err ${worst.toExponential(1)})  setup ${fmt(setup)} ms  first ${fmt(t.first)} ms  median ${fmt(t.median)} ms (${t.runs} runs)`,
  );
  cell(kind, backend, `${fmt(t.median)} ms${bad ? " (check FAILED)" : ""}`);
}

async function trainingCase(backend: PeerBackend, peer: Peer, model: Model, batch: number) {
  const label = `${model} b${batch}`;
  const data = syntheticData(8 * batch);
  let runner;
  const started = performance.now();
  try {
    runner = await peer.training(model, batch, data);
  } catch (e) {
    if (!(e instanceof Unavailable)) throw e;
    console.log(`  ${label.padEnd(17)} unavailable: ${e.message}`);
    unavailable.push(`${backend} ${model}: ${e.message}`);
    cell(`${model} steps/s`, backend, "unavailable");
    return;
  }
  const setup = performance.now() - started;
  const expected = referenceLoss(model, initialParams(model), data.x, data.y, batch);
  const losses: number[] = [];
  const times: number[] = [];
  // steps + 2 steps (the first two not in the median), fewer (at least 6) where steps are slow.
  let total = 0;
  for (let s = 0; s < steps + 2 && (s < 6 || total < TRAINING_BUDGET_MS); s++) {
    times.push(await timed(() => runner.run()));
    if (s >= 2) total += times.at(-1)!;
    losses.push(await runner.loss());
  }
  runner.dispose();
  const firstOk = Math.abs(losses[0]! - expected) <= 1e-3 * Math.max(1, expected);
  const third = Math.max(1, Math.floor(losses.length / 3));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
  const decreasing = mean(losses.slice(-third)) < 0.98 * mean(losses.slice(0, third)) && losses.every(Number.isFinite);
  if (!firstOk || !decreasing) failures++;
  const ms = median(times.slice(2));
  if (!lossesOf.has(model)) lossesOf.set(model, new Map());
  lossesOf.get(model)!.set(backend, losses);
  console.log(
    `  ${label.padEnd(17)} first loss ${losses[0]!.toFixed(5)} (float64 ${expected.toFixed(5)}: ${firstOk ? "ok" : "FAILED"}), ` +
      `loss ${losses[0]!.toFixed(3)} -> ${losses.at(-1)!.toFixed(3)} over ${losses.length} steps (${decreasing ? "decreasing" : "NOT decreasing"})`,
  );
  console.log(`  ${"".padEnd(17)} setup ${fmt(setup)} ms, first step ${fmt(times[0]!)} ms, then median ${fmt(ms)} ms/step = ${rate(1000 / ms)} steps/s`);
  cell(`${model} steps/s`, backend, `${rate(1000 / ms)}${firstOk && decreasing ? "" : " (check FAILED)"}`);
}

for (const backend of backends) {
  const peer = await createPeer(backend);
  if ("unavailable" in peer) {
    console.log(`${backend}: unavailable: ${peer.unavailable}`);
    unavailable.push(`${backend}: ${peer.unavailable}`);
    continue;
  }
  console.log(`${backend}: ${peer.description}`);
  for (const kind of MICROS.filter(wanted)) {
    try {
      await microCase(backend, peer, kind);
    } catch (e) {
      failures++;
      console.log(`  ${kind.padEnd(17)} ERROR ${(e as Error).stack ?? e}`);
      cell(kind, backend, "error");
    }
  }
  for (const { model, batch } of MODELS.filter((m) => wanted(m.model))) {
    try {
      await trainingCase(backend, peer, model, batch);
    } catch (e) {
      failures++;
      console.log(`  ${model.padEnd(17)} ERROR ${(e as Error).stack ?? e}`);
      cell(`${model} steps/s`, backend, "error");
    }
  }
}

// Same initial weights and data everywhere: the losses of the same step should agree across backends
// (which checks the gradients and the optimizer, not only the forward pass).
for (const [model, byBackend] of lossesOf) {
  const n = Math.min(...[...byBackend.values()].map((l) => l.length));
  const at = [...byBackend].map(([b, l]) => [b, l[n - 1]!] as const);
  const first = at[0]![1];
  const agree = at.every(([, l]) => Math.abs(l - first) <= 1e-3 + 1e-2 * Math.abs(first));
  if (!agree) failures++;
  console.log(`\n${model}: loss of step ${n}: ${at.map(([b, l]) => `${b} ${l.toFixed(4)}`).join(", ")} (${agree ? "agree" : "DISAGREE"})`);
}

const shown = backends.filter((b) => [...table.values()].some((r) => r.has(b)));
if (shown.length > 0) {
  const width = 16;
  console.log(`\n${"median".padEnd(20)}${shown.map((b) => b.padStart(width)).join("")}`);
  for (const [row, byBackend] of table) console.log(`${row.padEnd(20)}${shown.map((b) => (byBackend.get(b) ?? "-").padStart(width)).join("")}`);
}
if (unavailable.length > 0) console.log(`\nunavailable:\n${unavailable.map((u) => `  ${u}`).join("\n")}`);
console.log(failures === 0 ? "\nall checks passed" : `\n${failures} check(s) FAILED`);
// A live WebGPU device keeps Node from exiting.
process.exit(failures === 0 ? 0 : 1);
