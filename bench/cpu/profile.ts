// Where a CPU training step's time goes: every step of models/<name>.ts's
// compiled training step timed as it runs (CpuExecutable's onStep), summed
// over a few training steps after a warm-up, by kernel and by kind (products,
// fused elementwise loops, reductions, pooling, the rest), with where each ran
// (WebAssembly or JavaScript). Synthetic data: the time does not depend on it.
//
//   node --import tsx bench/cpu/profile.ts [model] [--batch N] [--steps N] [--threads N] [--top N]

import { join } from "node:path";
import { buildModel } from "../../compiler/build.js";
import { syntheticBatch } from "../../runtime/backends.js";
import { CpuBackend } from "../../runtime/cpu/backend.js";
import type { StepTiming } from "../../runtime/cpu/executable.js";
import { initialize } from "../../runtime/init/init.js";
import { OP_FAMILY, type Op } from "../../runtime/program/ops.js";
import { option } from "../args.js";

const ROOT = join(import.meta.dirname, "..", "..");
const name = process.argv[2] && !process.argv[2].startsWith("--") ? process.argv[2] : "cnn-bn";
const steps = Number(option("--steps") ?? 10);
const top = Number(option("--top") ?? 15);
const threads = Number(option("--threads") ?? 1);

const model = buildModel(join(ROOT, "models", `${name}.ts`), { training: true, webgpu: false });
const batch = Number(option("--batch") ?? model.train!.config.batch);
let recording = false;
const byLabel = new Map<string, { ms: number; engine: StepTiming["engine"]; family: string }>();
const backend = new CpuBackend(model, {
  threads,
  onStep: (s) => {
    if (!recording) return;
    const op = s.label.startsWith("fused") ? "fused" : s.label.startsWith("rows[") ? "rows" : s.label.split(" ")[0]!;
    const family = op === "fused" ? "fused elementwise" : op === "rows" ? "row chains" : (OP_FAMILY[op as Op] ?? op);
    const row = byLabel.get(s.label) ?? { ms: 0, engine: s.engine, family };
    row.ms += s.ms;
    byLabel.set(s.label, row);
  },
});
await backend.load(new Map(model.params.map((p) => [p.name, initialize(p.init, p.shape, 0, p.name)])));
const inputs = syntheticBatch(model, batch);
for (let t = 1; t <= 3; t++) await backend.step(inputs, 1e-3, t, true);
recording = true;
const t0 = performance.now();
for (let t = 4; t < 4 + steps; t++) await backend.step(inputs, 1e-3, t, true);
const perStep = (performance.now() - t0) / steps;
backend.dispose();

const rows = [...byLabel].map(([label, r]) => ({ label, ...r, ms: r.ms / steps })).sort((a, b) => b.ms - a.ms);
const inSteps = rows.reduce((a, r) => a + r.ms, 0);
console.log(`models/${name}.ts, batch ${batch}, ${threads} thread(s): ${perStep.toFixed(1)} ms a training step, ${inSteps.toFixed(1)} ms in its ${rows.length} kinds of steps (the rest: copying parameters in and out, the host)`);
const families = new Map<string, number>();
for (const r of rows) families.set(`${r.family} (${r.engine})`, (families.get(`${r.family} (${r.engine})`) ?? 0) + r.ms);
console.log("\n| kind | ms | share |\n| --- | ---: | ---: |");
for (const [f, ms] of [...families].sort((a, b) => b[1] - a[1])) console.log(`| ${f} | ${ms.toFixed(2)} | ${((100 * ms) / perStep).toFixed(0)}% |`);
console.log(`\n| step | engine | ms |\n| --- | --- | ---: |`);
for (const r of rows.slice(0, top)) console.log(`| ${r.label} | ${r.engine} | ${r.ms.toFixed(2)} |`);
