// `npm run bench`: three suites, each case timed with the `benchmark` package
// and bounded in time, written to bench/RESULTS.md (and bench/training.svg).
//
//   fusion    micro-benchmarks, dlc fused and unfused on WebGPU and on the CPU
//             (fused also on 2 threads), beside TensorFlow.js (cpu, wasm,
//             webgpu) and jax-js (wasm, webgpu)
//   training  steps/s of models/mlp.ts and models/cnn.ts on Fashion-MNIST, all
//             of the above in one run on the same adapter (dlc's CPU on 1 and 2
//             threads); compile time and the time to the first finished step
//   memory    peak buffer bytes of a training step, with and without the memory plan
//
// Options: --suite fusion|training|memory (repeatable), --quick (shorter sampling),
// --gpu: only the WebGPU contenders, on whatever adapter is present, beside a
// reference WGSL matmul (bench/webgpu/reference-matmul.ts), written to
// bench/gpu/RESULTS-<adapter>.md with the adapter's name and the GPU targets.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem, type as osType, release } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Compilation } from "../compiler/compilation.js";
import { loadDataset } from "../runtime/data/load.js";
import { entryOf } from "../runtime/program/model.js";
import { inputSpecs } from "../runtime/train/data.js";
import { openDevice, type GpuContext } from "../runtime/webgpu/device.js";
import { planMemory } from "../runtime/webgpu/memory.js";
import { VERSION } from "../runtime/version.js";
import { dlcCpuMicro, dlcGpuMicro, memoryPass, microGraph, MICROS, type Micro } from "./dlc/micro.js";
import { referenceMatmul } from "./webgpu/reference-matmul.js";
import { dlcTraining, type DlcKind, type TrainingData } from "./dlc/training.js";
import { flag } from "./args.js";
import { measure, type Timing } from "./measure.js";
import { isComputeBound, writeReport, type FusionRow, type MemoryRow, type Report, type TrainingRow } from "./report.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const quick = flag("--quick");
const gpuOnly = flag("--gpu");
const suites = args.flatMap((a, i) => (a === "--suite" ? [args[i + 1]!] : []));
const wanted = (s: string) => suites.length === 0 || suites.includes(s);
const log = (s: string) => process.stderr.write(`${s}\n`);
const SAMPLE = { maxTime: quick ? 1 : 3, minSamples: quick ? 3 : 5 };
// dlc's CPU contenders run on 1 thread and, where the machine has 2 cores or more, on 2.
const CORES = availableParallelism();
const CPU_THREADS = [1, 2].filter((t) => t <= CORES);
const tooFewCores = `not run: this machine has ${CORES} core${CORES === 1 ? "" : "s"}`;

type PeerModule = typeof import("./peers/index.js");
async function peers(): Promise<PeerModule | undefined> {
  try {
    return await import("./peers/index.js");
  } catch (e) {
    log(`peers unavailable: ${(e as Error).message}`);
    return undefined;
  }
}

function version(pkg: string): string {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "not installed";
  }
}

async function fusionSuite(ctx: GpuContext | undefined, peerModule: PeerModule | undefined): Promise<FusionRow[]> {
  const rows: FusionRow[] = [];
  const add = (workload: Micro, device: "webgpu" | "cpu", contender: string, t: Timing | string, stats?: { dispatches: number; bytes: number; flops: number }) => {
    rows.push({ workload, device, contender, timing: typeof t === "string" ? undefined : t, note: typeof t === "string" ? t : undefined, ...stats });
    log(`fusion ${workload} ${device} ${contender}: ${typeof t === "string" ? t : `${(t.median * 1e3).toFixed(2)} ms`}`);
  };
  // On the CPU: fused on 1 and 2 threads, unfused on 1 (against fused on 1), and the JavaScript reference interpreter, fused.
  const cpuContenders: [name: string, fusion: boolean, engine: "wasm" | "js", threads: number][] = [
    ["dlc fused", true, "wasm", 1],
    ["dlc fused, 2 threads", true, "wasm", 2],
    ["dlc unfused", false, "wasm", 1],
    ["dlc fused (cpu-js)", true, "js", 1],
  ];
  for (const workload of MICROS) {
    for (const fusion of [true, false]) {
      const name = fusion ? "dlc fused" : "dlc unfused";
      if (ctx) {
        const r = await dlcGpuMicro(ctx, workload, fusion);
        await r.run();
        add(workload, "webgpu", name, await measure(`${workload} webgpu ${name}`, () => r.run(), SAMPLE), r);
      } else add(workload, "webgpu", name, "no WebGPU adapter");
    }
    if (ctx && workload === "matmul") {
      const [a, b] = microGraph("matmul").inputs.map((i) => Float32Array.from({ length: 1024 * 1024 }, (_, k) => ((k * (i.attrs.name === "a" ? 7919 : 104729)) % 1000) / 500 - 1));
      const r = await referenceMatmul(ctx, a!, b!, 1024, 1024, 1024);
      await r.run();
      add(workload, "webgpu", REFERENCE, await measure(`${workload} webgpu ${REFERENCE}`, () => r.run(), SAMPLE), { dispatches: 1, bytes: 3 * 1024 * 1024 * 4, flops: 2 * 1024 ** 3 });
      r.dispose();
    }
    for (const [name, fusion, engine, threads] of gpuOnly ? [] : cpuContenders) {
      if (!CPU_THREADS.includes(threads)) {
        add(workload, "cpu", name, tooFewCores);
        continue;
      }
      const c = dlcCpuMicro(workload, fusion, engine, threads);
      if (c.oneThread) add(workload, "cpu", name, `not run: ${c.oneThread}`);
      else {
        await c.run();
        add(workload, "cpu", name, await measure(`${workload} cpu ${name}`, () => c.run(), SAMPLE), c);
      }
      c.dispose();
    }
    // The floor of a memory-bound workload: one pass over its bytes (a copy).
    const pass = memoryPass(workload);
    const fused = rows.find((r) => r.workload === workload && r.device === "cpu" && r.contender === "dlc fused" && r.flops !== undefined && r.bytes !== undefined);
    if (!gpuOnly && fused && !isComputeBound({ flops: fused.flops!, bytes: fused.bytes! })) add(workload, "cpu", "one memory pass (copy)", await measure(`${workload} cpu memory pass`, () => pass.run(), SAMPLE), pass);
    if (!peerModule) continue;
    for (const backend of peerBackends(peerModule)) {
      const device = backend.endsWith("webgpu") ? "webgpu" : "cpu";
      try {
        const peer = await peerModule.createPeer(backend);
        if ("unavailable" in peer) {
          add(workload, device, backend, peer.unavailable);
          continue;
        }
        const r = await peer.micro(workload);
        await r.run();
        add(workload, device, backend, await measure(`${workload} ${backend}`, () => r.run(), SAMPLE));
        r.dispose();
      } catch (e) {
        add(workload, device, backend, `failed: ${(e as Error).message.split("\n")[0]}`);
      }
    }
  }
  return rows;
}

/** The reference matmul's contender name. */
const REFERENCE = "reference WGSL matmul";

/** The peers to run: with --gpu, their WebGPU backends only. */
function peerBackends(peerModule: PeerModule): PeerModule["PEER_BACKENDS"] {
  return peerModule.PEER_BACKENDS.filter((b) => !gpuOnly || b.endsWith("webgpu"));
}

async function loadFashion(): Promise<TrainingData> {
  const file = join(ROOT, "data/fashion-mnist/train.csv.gz");
  if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/fetch-fashion-mnist.sh first`);
  const model = new Compilation(join(ROOT, "models/mlp.ts")).model();
  const ds = await loadDataset(file, inputSpecs(entryOf(model, "loss")!));
  return { x: ds.inputs.get("pixels")!.data as Float32Array, y: ds.inputs.get("label")!.data as Int32Array, rows: ds.rows };
}

async function trainingSuite(ctx: GpuContext | undefined, peerModule: PeerModule | undefined): Promise<TrainingRow[]> {
  const data = await loadFashion();
  const rows: TrainingRow[] = [];
  const sample = { maxTime: quick ? 2 : 5, minSamples: 3 };
  for (const [model, batch] of [["mlp", 128], ["cnn", 64]] as const) {
    const add = (row: TrainingRow) => {
      rows.push(row);
      log(`training ${model} ${row.contender}: ${row.stepsPerSecond !== undefined ? `${row.stepsPerSecond.toFixed(2)} steps/s` : row.note}`);
    };
    // Every contender reads the loss every step (the peers synchronize every step); WebGPU also at the CLI's cadence.
    const contenders: [DlcKind, number, number][] = [["webgpu", 1, 1], ["webgpu", 25, 1], ["cpu", 1, 1], ["cpu", 1, 2], ["cpu-js", 1, 1]];
    for (const [kind, cadence, threads] of contenders.filter(([kind]) => !gpuOnly || kind === "webgpu")) {
      const contender = `dlc ${kind}${cadence > 1 ? ` (loss every ${cadence})` : ""}${kind === "cpu" ? ` (${threads} thread${threads > 1 ? "s" : ""})` : ""}`;
      if (kind === "webgpu" && !ctx) {
        add({ model, batch, contender, note: "no WebGPU adapter" });
        continue;
      }
      if (!CPU_THREADS.includes(threads)) {
        add({ model, batch, contender, note: tooFewCores });
        continue;
      }
      const r = await dlcTraining(ROOT, model, kind, batch, data, ctx, cadence, threads);
      if (r.oneThread) {
        add({ model, batch, contender, note: `not run: ${r.oneThread}` });
        r.dispose();
        continue;
      }
      const t = await measure(`${model} ${contender}`, () => r.run(), sample);
      add({ model, batch, contender, timing: t, stepsPerSecond: r.stepsPerRun / t.median, compileSeconds: r.compileSeconds, firstStepSeconds: r.firstStepSeconds, loss: await r.loss() });
      r.dispose();
    }
    if (!peerModule) continue;
    for (const backend of peerBackends(peerModule)) {
      try {
        const t0 = performance.now();
        const peer = await peerModule.createPeer(backend);
        if ("unavailable" in peer) {
          add({ model, batch, contender: backend, note: peer.unavailable });
          continue;
        }
        const r = await peer.training(model, batch, data);
        await r.run();
        const firstStepSeconds = (performance.now() - t0) / 1000;
        const t = await measure(`${model} ${backend}`, () => r.run(), sample);
        add({ model, batch, contender: backend, timing: t, stepsPerSecond: 1 / t.median, firstStepSeconds, loss: await r.loss() });
        r.dispose();
      } catch (e) {
        add({ model, batch, contender: backend, note: `unavailable: ${(e as Error).message.split("\n")[0]}` });
      }
    }
  }
  return rows;
}

function memorySuite(): MemoryRow[] {
  const rows: MemoryRow[] = [];
  for (const [model, batch] of [["mlp", 128], ["cnn", 64]] as const) {
    const compilation = new Compilation(join(ROOT, "models", `${model}.ts`));
    const fused = compilation.model({ training: true, webgpu: true });
    const unfused = compilation.model({ training: true, webgpu: true, fusion: false });
    const f = planMemory(fused.train!.step.gpu!, { batch });
    const u = planMemory(unfused.train!.step.gpu!, { batch });
    rows.push({ model, batch, planned: f.peakBytes, unplanned: f.unplannedBytes, unfusedPlanned: u.peakBytes, unfusedUnplanned: u.unplannedBytes });
  }
  return rows;
}

const started = performance.now();
// One WebGPU instance for the whole run: the peers install it as navigator.gpu, where dlc looks first.
const peerModule = wanted("fusion") || wanted("training") ? await peers() : undefined;
await peerModule?.ensureWebGpu();
const ctx = await openDevice();
const report: Report = {
  date: new Date().toISOString(),
  machine: `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${osType()} ${release()}, Node ${process.version}`,
  adapter: ctx?.description ?? "none",
  versions: { dlc: VERSION, "@tensorflow/tfjs": version("@tensorflow/tfjs"), "@jax-js/jax": version("@jax-js/jax"), webgpu: version("webgpu") },
  sampling: `median of at least ${SAMPLE.minSamples} samples per case (Benchmark.js, ${SAMPLE.maxTime} s per micro case)`,
  fusion: wanted("fusion") ? await fusionSuite(ctx, peerModule) : [],
  training: wanted("training") ? await trainingSuite(ctx, peerModule) : [],
  memory: wanted("memory") ? memorySuite() : [],
  seconds: 0,
};
report.seconds = (performance.now() - started) / 1000;
// A GPU run is named after its adapter, so that runs on several machines sit side by side.
const name = gpuOnly ? `RESULTS-${report.adapter.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60) || "none"}` : "RESULTS";
const dir = join(ROOT, "bench", gpuOnly ? "gpu" : "");
mkdirSync(dir, { recursive: true });
writeReport(dir, report, name);
log(`wrote ${join(dir, `${name}.md`)} in ${report.seconds.toFixed(0)} s`);
ctx?.destroy();
process.exit(0);
