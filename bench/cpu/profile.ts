// Where a CPU training step's time goes: the runtime's per-kernel profile
// (runtime/profile, what `dlc profile` prints) of models/<name>.ts's training
// step over a few steps after a warm-up, on a synthetic batch (the time does
// not depend on the data), grouped by kind (products, fused elementwise
// loops, row chains, reductions, pooling, the rest) and by where each kernel
// ran (WebAssembly or JavaScript).
//
//   node --import tsx bench/cpu/profile.ts [model] [--batch N] [--steps N] [--threads N] [--top N]

import { join } from "node:path";
import { buildModel } from "../../compiler/build.js";
import { syntheticBatch } from "../../runtime/backends.js";
import { CpuBackend } from "../../runtime/cpu/backend.js";
import { OP_FAMILY, type Op } from "../../runtime/program/ops.js";
import { profileSteps } from "../../runtime/profile/profile.js";
import { KernelRecorder } from "../../runtime/profile/recorder.js";
import { summarize } from "../../runtime/profile/summary.js";
import { startSession } from "../../runtime/train/session.js";
import { option } from "../args.js";

const ROOT = join(import.meta.dirname, "..", "..");
const name = process.argv[2] && !process.argv[2].startsWith("--") ? process.argv[2] : "cnn-bn";
const steps = Number(option("--steps") ?? 10);
const top = Number(option("--top") ?? 15);
const threads = Number(option("--threads") ?? 1);

const model = buildModel(join(ROOT, "models", `${name}.ts`), { training: true, webgpu: false });
const batch = Number(option("--batch") ?? model.train!.config.batch);
const recorder = new KernelRecorder(model.train!.step);
const backend = new CpuBackend(model, { threads, onStep: recorder.onStep });
const session = await startSession(model, backend, model.train!.config);
const inputs = syntheticBatch(model, batch);
const s = summarize(await profileSteps(session, recorder, () => inputs, { steps, warmup: 3, lr: 1e-3 }));
backend.dispose();

/** A kernel's kind, from its name: "fused[...]", "rows[...]", or its anchor op's family. */
const kind = (kernel: string) => (kernel.startsWith("fused") ? "fused elementwise" : kernel.startsWith("rows[") ? "row chains" : (OP_FAMILY[kernel.split(/[ +]/)[0] as Op] ?? kernel));
console.log(`models/${name}.ts, batch ${batch}, ${threads} thread(s): ${s.step_ms.toFixed(1)} ms a training step, ${s.kernel_ms_per_step.toFixed(1)} ms in its ${s.kernels.length} kernels (the rest: copying parameters in and out, the host)`);
const families = new Map<string, number>();
for (const r of s.kernels) families.set(`${kind(r.name)} (${r.engine})`, (families.get(`${kind(r.name)} (${r.engine})`) ?? 0) + r.ms / s.steps);
console.log("\n| kind | ms | share |\n| --- | ---: | ---: |");
for (const [f, ms] of [...families].sort((a, b) => b[1] - a[1])) console.log(`| ${f} | ${ms.toFixed(2)} | ${((100 * ms) / s.step_ms).toFixed(0)}% |`);
console.log(`\n| kernel | engine | ms | GFLOP/s | GB/s |\n| --- | --- | ---: | ---: | ---: |`);
const rate = (x: number | null) => (x === null ? "-" : x.toFixed(1));
for (const r of s.kernels.slice(0, top)) console.log(`| ${r.name} | ${r.engine} | ${(r.ms / s.steps).toFixed(2)} | ${rate(r.gflops_per_s)} | ${rate(r.gb_per_s)} |`);
