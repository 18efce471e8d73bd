// One Compilation per model: each stage runs at most once however many
// commands ask for it, the options that change a result select a separate
// result, and the stages compute what the CLI printed before they were shared.

import test from "ava";
import { join } from "node:path";
import { printModel, runCompile } from "../../cli/compile.js";
import { EMIT_KINDS } from "../../cli/emit.js";
import { inspectReport } from "../../cli/inspect.js";
import { Compilation, type Stage } from "../../compiler/compilation.js";
import { CompileError } from "../../compiler/frontend/diagnostics.js";
import type { TrainConfig } from "../../runtime/program/train-config.js";
import { ROOT } from "../helpers/paths.js";

const IRIS = join(ROOT, "models/iris.ts");
const STAGES: readonly Stage[] = ["source", "simplified", "training", "step", "plan", "cpu", "wgsl", "model", "artifact"];

/** Everything `dlc inspect --explain-fusion`, `dlc compile -o` and every `--emit` print, from one compilation. */
async function everything(c: Compilation): Promise<string[]> {
  const printed = [await inspectReport(IRIS, { explainFusion: true }, c)];
  printed.push(Buffer.from(c.artifact({ training: c.hasLoss(), webgpu: true, fusion: true })).toString("utf8"));
  for (const kind of EMIT_KINDS) {
    let text = "";
    printModel(c, kind, (s) => (text += s));
    printed.push(text);
  }
  return printed;
}

test("inspect --explain-fusion, the artifact and every --emit compute each stage once", async (t) => {
  const counts = new Map<string, number>();
  const c = new Compilation(IRIS, { onStage: (stage, key) => counts.set(`${stage} ${key}`, (counts.get(`${stage} ${key}`) ?? 0) + 1) });
  const printed = await everything(c);
  t.regex(printed[0]!, /^fusion of the training step/m);
  for (const [stage, n] of counts) t.is(n, 1, `${stage} ran ${n} times`);
  t.deepEqual(STAGES.filter((s) => ![...counts.keys()].some((k) => k.startsWith(`${s} `))), [], "every stage ran");
  t.is(counts.get("source "), 1);
  // inspect builds fused and unfused programs: the frontend and autodiff are shared, lowering is not.
  t.true(counts.has("model fused webgpu training") && counts.has("model unfused webgpu training"));
  t.true(counts.has("plan train fused") && counts.has("plan train unfused"));

  // Asking again computes nothing.
  const before = counts.size;
  await everything(c);
  t.is(counts.size, before);
  for (const n of counts.values()) t.is(n, 1);
});

test("a shared compilation prints what fresh ones print for each command", async (t) => {
  const shared = await everything(new Compilation(IRIS));
  const fresh = new Compilation(IRIS);
  t.is(await inspectReport(IRIS, { explainFusion: true }, fresh), shared[0]);
  EMIT_KINDS.forEach((kind, i) => {
    let text = "";
    printModel(new Compilation(IRIS), kind, (s) => (text += s));
    t.is(text, shared[2 + i], kind);
  });
});

test("fusion and WebGPU select a result; the same request gets the same object", (t) => {
  const c = new Compilation(IRIS);
  const fused = c.model({ training: true, webgpu: true });
  t.is(c.model({ training: true, webgpu: true, fusion: true }), fused);
  const unfused = c.model({ training: true, webgpu: true, fusion: false });
  t.not(unfused, fused);
  t.true(unfused.train!.step.gpu!.kernels.length > fused.train!.step.gpu!.kernels.length);
  const cpuOnly = c.model({ training: true });
  t.is(cpuOnly.train!.step.gpu, undefined);
  t.is(cpuOnly.train!.step.cpu, fused.train!.step.cpu, "the CPU program is lowered once for both");
  t.is(c.model().train, undefined);
  const step = c.step().graph;
  t.is(c.plan(step), c.plan(step, true));
  t.not(c.plan(step, false), c.plan(step));
});

test("a training configuration override is part of the compilation", (t) => {
  const own = new Compilation(IRIS);
  const config: TrainConfig = { ...own.trainConfig(), optimizer: { kind: "sgd", lr: 0.5, schedule: { kind: "constant" } } };
  const other = new Compilation(IRIS, { trainConfig: config });
  t.is(other.model({ training: true }).train!.config, config);
  t.deepEqual(other.step().state, []);
  t.not(own.model({ training: true }).train!.config, config);
  t.true(own.step().state.length > 0);
});

test("a model without `loss` compiles its entry points; a training stage reports DLC4001", (t) => {
  const c = new Compilation(join(ROOT, "test/corpus/bad/missing-loss.ts"));
  t.deepEqual(c.model({ webgpu: true }).entries.map((e) => e.name), ["predict"]);
  t.false(c.hasLoss());
  for (const ask of [() => c.training(), () => c.step(), () => c.model({ training: true })]) {
    const error = t.throws(ask, { instanceOf: CompileError });
    t.is(error.diagnostic.code, "DLC4001");
    t.regex(error.message, /no `loss` entry point/);
  }
});

test("dlc compile --emit wgsl and --emit fused honour --no-fusion: one kernel per primitive", async (t) => {
  const c = new Compilation(IRIS);
  const print = async (emit: "wgsl" | "fused", fusion: boolean) => {
    let text = "";
    // One family: every kernel once (without --kernels, a product is printed in both).
    await runCompile(IRIS, { emit, fusion, ...(emit === "wgsl" ? { kernels: "software" as const } : {}) }, (s) => (text += s));
    return text;
  };
  const kernels = (wgsl: string) => [...wgsl.matchAll(/^\/\/ k\d+_\w+: (.*)$/gm)].map((m) => m[1]!.split(", "));
  const fused = kernels(await print("wgsl", true));
  const unfused = kernels(await print("wgsl", false));
  t.true(unfused.length > fused.length, `${unfused.length} unfused kernels, ${fused.length} fused`);
  for (const ops of unfused) t.is(ops.length, 1, `an unfused kernel computes ${ops.join(", ")}`);
  t.is(unfused.length, c.plan(c.step().graph, false).kernels.length);
  t.true(fused.some((ops) => ops.length > 1));

  const explainFused = await print("fused", true);
  const explainUnfused = await print("fused", false);
  t.notRegex(explainFused, /fusion is off/);
  t.regex(explainUnfused, /fusion is off/);
  t.is(explainUnfused.match(/^ {2}k\d+ /gm)!.length, unfused.length);
});
