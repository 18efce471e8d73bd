// Training, evaluation and inspection with the WebGPU backend, through the real
// command line (the software Vulkan adapter in CI; without an adapter these fail),
// with either kernel family.

import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dlc } from "../helpers/cli.js";

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, number | string>;

test("--backend auto on a software adapter measures it against the CPU and says so, in the start line and the JSON", (t) => {
  const r = dlc(["train", "models/iris.ts", "--data", "data/iris.csv", "--epochs", "2"]);
  t.is(r.status, 0, r.stderr);
  const first = r.stdout.split("\n")[0]!;
  const m = /^dlc: training iris\.ts on (.+) \(auto: measured at batch 16: CPU ([\d.]+) steps\/s, WebGPU \(.+\(software\)\) ([\d.]+) steps\/s\): 150 examples/.exec(first);
  if (!m) return t.fail(first);
  t.regex(m[1]!, Number(m[2]) >= Number(m[3]) ? /^CPU/ : /software/, "the faster of the two it measured");
  const json = lastJson(dlc(["train", "models/iris.ts", "--data", "data/iris.csv", "--epochs", "1", "--json"]).stdout);
  const measured = /^measured at batch 16: CPU ([\d.]+) steps\/s, WebGPU .+ ([\d.]+) steps\/s$/.exec(String(json.backend_reason));
  if (!measured) return t.fail(String(json.backend_reason));
  t.is(json.backend, Number(measured[1]) >= Number(measured[2]) ? "cpu" : "webgpu");
});

test("iris trains on WebGPU to the CPU's accuracy", (t) => {
  const args = ["models/iris.ts", "--data", "data/iris.csv", "--split", "0.2", "--normalize", "standard", "--seed", "8", "--json"];
  const gpu = lastJson(dlc(["train", ...args, "--backend", "webgpu"]).stdout);
  const cpu = lastJson(dlc(["train", ...args, "--backend", "cpu"]).stdout);
  t.is(gpu.backend, "webgpu");
  t.regex(String(gpu.device), /\S/);
  t.true((gpu.test_accuracy as number) >= 0.95);
  t.is(gpu.test_accuracy, cpu.test_accuracy);
});

test("--kernels hardware runs the workgroup-tiled products on this software adapter, says so, and trains iris to the same accuracy; eval and predict take the flag too", (t) => {
  const args = ["models/iris.ts", "--data", "data/iris.csv", "--split", "0.2", "--normalize", "standard", "--seed", "8", "--backend", "webgpu"];
  const dir = mkdtempSync(join(tmpdir(), "dlc-webgpu-"));
  const weights = join(dir, "iris.safetensors");
  const hardware = dlc(["train", ...args, "--kernels", "hardware", "--save", weights, "--json"]);
  t.is(hardware.status, 0, hardware.stderr);
  const software = lastJson(dlc(["train", ...args, "--kernels", "software", "--json"]).stdout);
  const h = lastJson(hardware.stdout);
  t.regex(String(h.device), /\(software\), hardware kernels$/);
  t.notRegex(String(software.device), /kernels/, "the adapter's own family goes unsaid");
  t.is(h.test_accuracy, software.test_accuracy);
  const evaluated = lastJson(dlc(["eval", "models/iris.ts", "--weights", weights, "--data", "data/iris.csv", "--backend", "webgpu", "--kernels", "hardware", "--json"]).stdout);
  t.true((evaluated.accuracy as number) >= 0.9);
  const predicted = dlc(["predict", "models/iris.ts", "--weights", weights, "--data", "data/iris.csv", "--backend", "webgpu", "--kernels", "hardware", "--out", join(dir, "p.csv")]);
  t.is(predicted.status, 0, predicted.stderr);
  const bad = dlc(["train", ...args, "--kernels", "tensor"]);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /argument 'tensor' is invalid\. Allowed choices are auto, software, hardware/);
});

test("dlc inspect --json and --emit wgsl name each product's family and tile", (t) => {
  const hardware = lastJson(dlc(["inspect", "models/cnn.ts", "--json"]).stdout) as unknown as { kernel_family: string; entries: { name: string; kernels: { name: string; family: string | null; tile: string | null; ops: string[] }[] }[] };
  t.is(hardware.kernel_family, "hardware");
  const step = hardware.entries.find((e) => e.name === "train")!;
  const products = step.kernels.filter((k) => k.ops.some((o) => o === "matmul" || o.startsWith("conv2d")) && /_contraction_/.test(k.name));
  t.true(products.length > 0 && products.every((k) => k.family === "hardware" && /^k\d+_contraction_\w+_wg\d+x\d+x\d+/.test(k.name) && /invocations/.test(k.tile!)));
  t.true(step.kernels.filter((k) => !products.includes(k)).every((k) => k.family === null && k.tile === null));
  const software = lastJson(dlc(["inspect", "models/cnn.ts", "--json", "--kernels", "software"]).stdout) as unknown as typeof hardware;
  t.true(software.entries.find((e) => e.name === "train")!.kernels.every((k) => k.family !== "hardware" && !k.name.includes("_wg")));
  const text = dlc(["inspect", "models/cnn.ts"]).stdout;
  t.regex(text, /^kernels: the hardware family's products/m);
  const all = dlc(["compile", "models/mlp.ts", "--emit", "wgsl"]).stdout;
  t.regex(all, /^\/\/ ---- train: k\d+_contraction_matmul \(software\)$/m);
  t.regex(all, /^\/\/ ---- train: k\d+_contraction_matmul_wg32x32x16(_db)? \(hardware: 32x32x16, 4x4 per invocation, 64 invocations, \d buffers? \(\d+ KiB\)\)$/m);
  const onGpu = dlc(["compile", "models/mlp.ts", "--emit", "wgsl", "--kernels", "hardware"]).stdout;
  t.notRegex(onGpu, /\(software\)/);
  t.regex(onGpu, /var<workgroup> lhsTile/);
  t.notRegex(dlc(["compile", "models/mlp.ts", "--emit", "wgsl", "--kernels", "software"]).stdout, /\(hardware|var<workgroup> lhsTile/);
});

test("weights trained on WebGPU evaluate the same on the CPU", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "dlc-webgpu-"));
  const weights = join(dir, "d.safetensors");
  const trained = dlc(["train", "models/digits.ts", "--data", "data/digits.csv", "--epochs", "2", "--backend", "webgpu", "--save", weights, "--test", "data/digits.csv", "--json"]);
  t.is(trained.status, 0, trained.stderr);
  const onCpu = lastJson(dlc(["eval", "models/digits.ts", "--weights", weights, "--data", "data/digits.csv", "--backend", "cpu", "--json"]).stdout);
  const onGpu = lastJson(dlc(["eval", "models/digits.ts", "--weights", weights, "--data", "data/digits.csv", "--backend", "webgpu", "--json"]).stdout);
  t.is(onCpu.accuracy, lastJson(trained.stdout).test_accuracy);
  t.is(onGpu.accuracy, onCpu.accuracy);
  t.true(Math.abs((onGpu.loss as number) - (onCpu.loss as number)) < 1e-4);
});

test("dlc inspect --json counts the kernels of a training step, fused and unfused", (t) => {
  const r = dlc(["inspect", "models/mlp.ts", "--json"]);
  t.is(r.status, 0, r.stderr);
  const s = lastJson(r.stdout);
  t.log(`kernels_per_train_step ${s.kernels_per_train_step}, unfused ${s.kernels_per_train_step_unfused}, peak ${s.peak_bytes} bytes`);
  t.true((s.kernels_per_train_step as number) <= 20);
  t.true((s.kernels_per_train_step_unfused as number) >= 2 * (s.kernels_per_train_step as number));
  t.true((s.bytes_per_train_step_unfused as number) > 2 * (s.bytes_per_train_step as number));
  t.is(s.param_count, 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
  t.true((s.peak_bytes as number) > 0);
});

test("dlc inspect prints each kernel with its fused ops and workgroups", (t) => {
  const r = dlc(["inspect", "models/cnn.ts", "--batch", "64"]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^training step \(forward, backward, adam\), batch 64: \d+ kernels, \d+ unfused/m);
  t.regex(r.stdout, /contraction_conv2d_wg\d+x\d+x\d+(_db)? +\d+ workgroups .*conv2d/);
});

test("dlc compile --emit wgsl prints the training step's kernels, --emit fused explains them", (t) => {
  const wgsl = dlc(["compile", "models/iris.ts", "--emit", "wgsl"]);
  t.is(wgsl.status, 0, wgsl.stderr);
  t.regex(wgsl.stdout, /@compute @workgroup_size\(\d+\)/);
  const fused = dlc(["compile", "models/iris.ts", "--emit", "fused"]);
  t.regex(fused.stdout, /graph output 'param\/w'/);
  t.regex(fused.stdout, /^ {2}k\d+ contraction around %\d+ matmul/m);
});

test("a loss that becomes infinite is named at the step where it did, on WebGPU as on the CPU (not the step that read it back)", (t) => {
  const model = join(mkdtempSync(join(tmpdir(), "dlc-webgpu-")), "explode.ts");
  writeFileSync(
    model,
    `import { type Tensor, param, matmul, mean, sgd } from "dlc";
export function loss(x: Tensor<["batch", 4]>, species: Tensor<["batch"], "i32">): Tensor<[]> {
  const y = matmul(x, param("w", [4, 1], "ones"));
  return mean(y * y);
}
export const train = { optimizer: sgd({ lr: 0.1 }), batch: 16, epochs: 5 };
`,
  );
  const stopped = (backend: string) => {
    const r = dlc(["train", model, "--data", "data/iris.csv", "--backend", backend]);
    t.is(r.status, 1, r.stderr);
    return /training stopped: the loss became Infinity at step (\d+)\n/.exec(r.stderr)?.[1];
  };
  const onCpu = stopped("cpu");
  t.truthy(onCpu);
  // WebGPU reads the loss back at steps 10, 20, 25, 30...: the step named comes from its device-side log.
  t.not(Number(onCpu) % 5, 0, `step ${onCpu}`);
  t.is(stopped("webgpu"), onCpu);
});
