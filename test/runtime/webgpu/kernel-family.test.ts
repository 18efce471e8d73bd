// Which kernels a device runs (kernel-family.ts, tile-cost.ts), without an
// adapter: the family from the adapter's kind or the flag, the tile from the
// device's limits and the product's size, the software kernel where no tile
// fits; and what the artifact carries (one variant per tile worth having,
// checked by the validator, older artifacts without variants).

import test from "ava";
import { join } from "node:path";
import { Compilation } from "../../../compiler/compilation.js";
import { tilesFor } from "../../../compiler/codegen/wgsl/hardware.js";
import { lowerGpu } from "../../../compiler/codegen/wgsl/program.js";
import { matmul } from "../../../compiler/ops/build.js";
import { make } from "../../../compiler/ops/make.js";
import { parseArtifact } from "../../../runtime/artifact/read.js";
import { tileBytes, tileThreads, type GpuKernel, type ProductShape } from "../../../runtime/program/gpu.js";
import { DEFAULT_LIMITS, tileCost, type TileLimits } from "../../../runtime/program/tile-cost.js";
import { chooseKernel, familyFor, selectKernels } from "../../../runtime/webgpu/kernel-family.js";
import { refusedArtifact, reDigested } from "../../helpers/artifact.js";
import { ROOT } from "../../helpers/paths.js";

const mlp = new Compilation(join(ROOT, "models/mlp.ts"));
const model = mlp.model({ training: true, webgpu: true });
const step = model.train!.step.gpu!;
const products = step.kernels.filter((k) => k.variants);

/** lavapipe's device limits, as Dawn reports them (WebGPU's defaults). */
const LAVAPIPE: TileLimits = { maxComputeWorkgroupSizeX: 256, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384 };
/** A large GPU's, as an adapter offers them. */
const DISCRETE: TileLimits = { maxComputeWorkgroupSizeX: 1024, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupStorageSize: 49152 };

const large: ProductShape = { rows: 4096, cols: 4096, depth: 1024, count: 1 };

test("a software adapter gets the software family, a GPU the hardware family, and a forced family wins", (t) => {
  t.is(familyFor(true), "software");
  t.is(familyFor(false), "hardware");
  t.is(familyFor(true, "auto"), "software");
  t.is(familyFor(true, "hardware"), "hardware");
  t.is(familyFor(false, "software"), "software");
});

test("every contraction of the training step carries hardware variants; no other kernel does", (t) => {
  t.true(products.length > 0);
  for (const k of step.kernels) t.is(k.variants !== undefined, k.ops.some((o) => ["matmul", "conv2d", "conv2dInputGrad", "conv2dFilterGrad"].includes(o)) && k.name.includes("_contraction_"), k.name);
  for (const k of products) {
    for (const v of k.variants!) {
      t.is(v.family, "hardware");
      t.true(v.name.startsWith(`${k.name}_wg${v.tile.rows}x${v.tile.cols}x${v.tile.depth}`), v.name);
      t.true(v.wgsl.includes(`@workgroup_size(${tileThreads(v.tile)})`), `${v.name}: its workgroup is its tile's`);
      t.true(v.wgsl.includes("var<workgroup> lhsTile") && v.wgsl.includes("workgroupBarrier()"), `${v.name}: tiled through workgroup memory`);
    }
  }
});

test("under the hardware family each product runs its cheapest variant that fits; the software family runs the software kernels", (t) => {
  for (const k of products) {
    const hw = chooseKernel(k, "hardware", LAVAPIPE);
    t.is(hw.family, "hardware");
    const cheapest = Math.min(...k.variants!.map((v) => tileCost(v.tile, v.product)));
    t.is(tileCost(hw.tile!, k.variants![0]!.product), cheapest);
    t.deepEqual(chooseKernel(k, "software", LAVAPIPE), { code: { name: k.name, wgsl: k.wgsl, bindings: k.bindings, grid: k.grid, ops: k.ops, bytes: k.bytes }, family: "software" });
  }
  const pointwise = step.kernels.find((k) => !k.variants)!;
  t.is(chooseKernel(pointwise, "hardware", LAVAPIPE).family, undefined, "a kernel both families share");
  const selected = selectKernels(step, "hardware", DISCRETE);
  t.is(selected.kernels.length, step.kernels.length);
  t.true(selected.kernels.every((k) => !("variants" in k)));
  t.true(selected.kernels.filter((k) => k.name.includes("_wg")).length === products.length);
});

test("large products take 64x64 tiles, double-buffered; a reduction that fits one slice gets one buffer", (t) => {
  const tiles = tilesFor(large);
  const best = tiles.reduce((a, b) => (tileCost(a, large) <= tileCost(b, large) ? a : b));
  t.like(best, { rows: 64, cols: 64, buffers: 2 });
  t.true(tilesFor({ rows: 4096, cols: 4096, depth: 16, count: 1 }).every((x) => x.buffers === 1));
  t.true(tilesFor({ rows: 300, cols: 300, depth: "batch", count: 1 }).every((x) => x.buffers === 2), "a symbolic reduction may be long");
});

/** The kernel of a 1024 x 1024 x 1024 product: large enough for both tiles. */
function largeProduct(): GpuKernel {
  const input = (name: string) => make("input", [], { name, shape: [1024, 1024], dtype: "f32" });
  const [a, b] = [input("a"), input("b")];
  return lowerGpu({ name: "g", inputs: [a, b] as never, outputs: [{ name: "y", node: matmul(a, b) }] }).kernels[0]!;
}

test("too little workgroup memory or too few invocations: smaller tiles, then the software kernel", (t) => {
  const k = largeProduct();
  t.deepEqual(k.variants!.map((v) => v.tile.rows), [64, 32], "a product with both tiles");
  t.is(chooseKernel(k, "hardware", DEFAULT_LIMITS).tile?.rows, 64);
  const eight = { ...DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 8192 };
  t.like(chooseKernel(k, "hardware", eight), { family: "hardware", tile: { rows: 32, cols: 32 } });
  const fewThreads = { ...DEFAULT_LIMITS, maxComputeInvocationsPerWorkgroup: 64 };
  t.like(chooseKernel(k, "hardware", fewThreads), { family: "hardware", tile: { rows: 32 } });
  const narrow = { ...DEFAULT_LIMITS, maxComputeWorkgroupSizeX: 128 };
  t.like(chooseKernel(k, "hardware", narrow), { tile: { rows: 32 } });
  const tiny = { ...DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 4096 };
  const fallback = chooseKernel(k, "hardware", tiny);
  t.is(fallback.family, "software");
  t.is(fallback.code.wgsl, k.wgsl);
  for (const v of k.variants!) t.true(tileBytes(v.tile) > 4096);
});

test("small products take the small tile, whose more workgroups keep more of the device busy; the large tile is not even emitted", (t) => {
  const small: ProductShape = { rows: 128, cols: 256, depth: 784, count: 1 };
  t.deepEqual(tilesFor(small).map((x) => x.rows), [32]);
  // mlp's products at the nominal batch of 128 are all small.
  t.true(products.every((k) => k.variants!.length === 1 && k.variants![0]!.tile.rows === 32));
  const [t64, t32] = [64, 32].map((n) => tilesFor(large).find((x) => x.rows === n)!);
  t.true(tileCost(t64!, large) < tileCost(t32!, large), "on a large product the large tile's fewer loads per multiply-add win");
});

test("the artifact carries the variants, and reads back with them", (t) => {
  const bytes = mlp.artifact({ training: true, webgpu: true });
  const read = parseArtifact(bytes, "m.dlc");
  const kernels = read.model.train!.step.gpu!.kernels;
  t.deepEqual(
    kernels.filter((k) => k.variants).map((k) => k.variants!.length),
    products.map((k) => k.variants!.length),
  );
});

test("an artifact without variants (an older compiler's) loads, and runs the software kernels under either family", (t) => {
  const [header, payload] = Buffer.from(mlp.artifact({ training: true, webgpu: true })).toString("utf8").split("\n") as [string, string];
  const old = reDigested(header, payload, (p) => {
    for (const e of [...p.model.entries, p.model.train.step]) for (const k of e.gpu.kernels) delete k.variants;
  });
  const read = parseArtifact(old, "m.dlc");
  const gpu = read.model.train!.step.gpu!;
  t.true(gpu.kernels.every((k) => k.variants === undefined));
  t.deepEqual(selectKernels(gpu, "hardware", DISCRETE).kernels.map((k) => k.wgsl), gpu.kernels.map((k) => k.wgsl));
});

test("the validator refuses malformed variants", (t) => {
  const [header, payload] = Buffer.from(mlp.artifact({ training: true, webgpu: true })).toString("utf8").split("\n") as [string, string];
  const firstProduct = (p: any) => p.model.train.step.gpu.kernels.find((k: any) => k.variants);
  const edit = (f: (v: any, k: any) => void) => reDigested(header, payload, (p) => f(firstProduct(p).variants[0], firstProduct(p)));
  refusedArtifact(t, edit((v) => (v.family = "tensor-cores")), /variants\[0\]\.family: expected one of "hardware"/);
  refusedArtifact(t, edit((v) => (v.tile.block = [3, 4])), /is not made of 3x4 blocks/);
  refusedArtifact(t, edit((v) => (v.tile = { ...v.tile, rows: 48, block: [4, 4] })), /12 invocations|768 invocations|invocations: expected a power of two/);
  refusedArtifact(t, edit((v) => (v.tile.buffers = 3)), /tile\.buffers: expected one of 1, 2/);
  refusedArtifact(t, edit((v) => (v.bindings[0].node = 1e6)), /variants\[0\]\.bindings\[0\]\.node: node 1000000 is out of range/);
  refusedArtifact(t, edit((v) => (v.product.rows = "1batch")), /product\.rows: expected a dimension/);
  refusedArtifact(
    t,
    edit((_v, k) => {
      if (k.variants.length > 1) k.variants[1].product = { ...k.variants[1].product, depth: 7 };
      else k.variants.push({ ...k.variants[0], product: { ...k.variants[0].product, depth: 7 } });
    }),
    /variants\[1\]\.product: differs from the kernel's other variants/,
  );
});
