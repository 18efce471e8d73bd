// `dlc profile MODEL --data FILE`: where a training step's time goes, per
// kernel (runtime/profile): a few steps after a warm-up, as a table, JSON
// (--json) or a Chrome trace for Perfetto (--trace).

import { writeFileAtomic } from "../runtime/checkpoint/atomic.js";
import { entryOf } from "../runtime/program/model.js";
import { profileTraining } from "../runtime/profile/profile.js";
import { profileText, summarize } from "../runtime/profile/summary.js";
import { chromeTrace } from "../runtime/profile/trace.js";
import { loadFor } from "../runtime/train/load.js";
import type { BackendChoice, KernelChoice } from "./backend.js";
import { machineThreads } from "./backend.js";
import { loadModel } from "./model.js";
import { checkOutputs, named } from "./outputs.js";
import { printable } from "./terminal.js";

export interface ProfileCommandOptions {
  data: string;
  label?: string;
  backend: BackendChoice;
  kernels: KernelChoice;
  steps: number;
  warmup: number;
  batch?: number;
  threads?: number;
  seed?: number;
  timestamps: boolean;
  fusion: boolean;
  trace?: string;
  json?: boolean;
}

export async function runProfile(file: string, o: ProfileCommandOptions): Promise<void> {
  checkOutputs([named("--trace", o.trace)], [named("the model", file), named("--data", o.data)]);
  const model = await loadModel(file, { training: true, fusion: o.fusion, webgpu: !o.backend.startsWith("cpu") });
  const data = await loadFor(entryOf(model, "loss")!, o.data, o.label === undefined ? {} : { label: o.label });
  const { profile, session, reason } = await profileTraining(model, data, {
    backend: o.backend,
    steps: o.steps,
    warmup: o.warmup,
    threads: o.threads ?? machineThreads(),
    timestampQuery: o.timestamps,
    kernels: o.kernels,
    ...(o.batch === undefined ? {} : { batch: o.batch }),
    ...(o.seed === undefined ? {} : { seed: o.seed }),
  });
  session.backend.dispose();
  const name = model.file.split("/").pop()!;
  const summary = summarize(profile);
  if (o.trace !== undefined) writeFileAtomic(o.trace, new TextEncoder().encode(JSON.stringify(chromeTrace(profile, `dlc profile ${name} on ${profile.device}`))));
  if (o.json) {
    process.stdout.write(JSON.stringify({ model: name, backend_reason: reason, ...summary, ...(o.trace === undefined ? {} : { trace: o.trace }) }) + "\n");
    return;
  }
  const auto = o.backend === "auto" ? ` (auto: ${reason})` : "";
  // The model's file name comes from the artifact, which anyone may have written.
  process.stdout.write(profileText(summary, `dlc profile: ${name}${auto}`).split("\n").map(printable).join("\n"));
  if (o.trace !== undefined) process.stdout.write(printable(`trace: ${o.trace} (open in ui.perfetto.dev or chrome://tracing)`) + "\n");
}
