// Choosing a backend. Asked for by name, each is what it says. On auto, this
// machine's only adapter is a software one (lavapipe, as in CI), so auto times
// training steps on it and on the CPU, keeps the faster of the two it reports,
// and hands it back as it was made: a session trained on it matches one
// trained on a fresh backend of the same kind bit for bit.

import test from "ava";
import { join } from "node:path";
import { buildModel } from "../../compiler/build.js";
import { chooseBackend } from "../../runtime/backends.js";
import type { ModelProgram } from "../../runtime/program/model.js";
import { Random } from "../../runtime/random.js";
import type { Backend } from "../../runtime/train/backend.js";
import { startSession } from "../../runtime/train/session.js";
import { stepInputs } from "../helpers/backends.js";
import { ROOT } from "../helpers/paths.js";

const model = buildModel(join(ROOT, "models", "iris.ts"), { training: true, webgpu: true });

/** Three steps of a session (seeded initialization) on `backend`, and its weights after them. */
async function trained(backend: Backend, m: ModelProgram): Promise<Map<string, Float32Array>> {
  await startSession(m, backend, m.train!.config);
  const rng = new Random(4);
  for (let t = 1; t <= 3; t++) await backend.step(stepInputs(m, "iris.ts", rng, 16), 0.1, t, true);
  return backend.read();
}

test.serial("by name: cpu is WebAssembly, cpu-js the JavaScript interpreter, webgpu the adapter", async (t) => {
  for (const [choice, pattern] of [["cpu", /WebAssembly SIMD128/], ["cpu-js", /JavaScript/], ["webgpu", /software/]] as const) {
    const { backend, reason } = await chooseBackend(model, choice);
    t.is(reason, "asked for");
    t.is(backend.kind, choice === "webgpu" ? "webgpu" : "cpu");
    t.regex(backend.description, pattern);
    backend.dispose();
  }
});

test.serial("auto on a software adapter keeps what measured faster, and leaves it as new", async (t) => {
  const { backend, reason } = await chooseBackend(model, "auto");
  const m = /^measured at batch 16: CPU ([\d.]+) steps\/s, WebGPU \(.*software.*\) ([\d.]+) steps\/s$/.exec(reason);
  if (!m) return t.fail(`unexpected reason: ${reason}`);
  const [cpu, gpu] = [Number(m[1]), Number(m[2])];
  t.is(backend.kind, cpu >= gpu ? "cpu" : "webgpu", reason);
  t.deepEqual(await backend.takeLosses(), new Float32Array(0), "the measured steps' losses are gone");
  const after = await trained(backend, model);
  backend.dispose();
  const fresh = (await chooseBackend(model, backend.kind === "cpu" ? "cpu" : "webgpu")).backend;
  const expected = await trained(fresh, model);
  fresh.dispose();
  for (const [name, v] of expected) t.deepEqual(after.get(name), v, name);
});
