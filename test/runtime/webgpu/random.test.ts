// The random primitive on WebGPU draws the CPU's bits exactly: the WGSL
// Philox against Random123's known answers and BigInt, then whole graphs
// (odd sizes, a symbolic batch, fused into a mask, unfused, inside row and
// matmul kernels) compared bit for bit with the CPU interpreter, fused and not.

import test from "ava";
import { lowerGpu } from "../../../compiler/codegen/wgsl/program.js";
import { partition } from "../../../compiler/fusion/kernels.js";
import type { Graph, Node } from "../../../compiler/ir/node.js";
import { add, binary, full, matmul, mul, random, reduce, where } from "../../../compiler/ops/build.js";
import { make } from "../../../compiler/ops/make.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import type { Shape } from "../../../runtime/program/dim.js";
import { PHILOX_WGSL, randomAt } from "../../../runtime/program/philox.js";
import { Random } from "../../../runtime/random.js";
import { GpuExecutable } from "../../../runtime/webgpu/executable.js";
import { closeGpu, gpu, matchesCpu, runShader } from "../../helpers/gpu.js";
import { hexWords, PHILOX_KAT } from "../../helpers/philox.js";
import { input, sample } from "../../helpers/gradcheck.js";
import { lowerAndRun } from "../../helpers/run.js";

test.after.always(closeGpu);

const bits = (x: ArrayLike<number>) => new Uint32Array(Float32Array.from(x).buffer);

/** Word 0 of each case says what to compute: 0 Philox (counter, key), 1 mulhi (a, b), 2 dlc_random (i, salt, k0, k1). */
const SHADER = `@group(0) @binding(0) var<storage, read> cases: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
${PHILOX_WGSL}
@compute @workgroup_size(1) fn main(@builtin(workgroup_id) id: vec3u) {
  let c = id.x * 7u;
  let o = id.x * 4u;
  if (cases[c] == 0u) {
    let r = dlc_philox4x32(vec4<u32>(cases[c + 1u], cases[c + 2u], cases[c + 3u], cases[c + 4u]), vec2<u32>(cases[c + 5u], cases[c + 6u]));
    out[o] = r.x; out[o + 1u] = r.y; out[o + 2u] = r.z; out[o + 3u] = r.w;
  } else if (cases[c] == 1u) {
    out[o] = dlc_mulhi(cases[c + 1u], cases[c + 2u]);
  } else {
    out[o] = bitcast<u32>(dlc_random(cases[c + 1u], cases[c + 2u], bitcast<i32>(cases[c + 3u]), bitcast<i32>(cases[c + 4u])));
  }
}`;

test.serial("the WGSL Philox gives Random123's known answers, mulhi gives BigInt's, dlc_random the JavaScript bits", async (t) => {
  const rng = new Random(11);
  const cases: number[][] = PHILOX_KAT.map(({ ctr, key }) => [0, ...ctr, ...key]);
  const pairs: [number, number][] = [[0xffffffff, 0xffffffff], [0xffff, 0xffff], [0x10000, 0xffffffff], [0xd2511f53, 0x80000001]];
  for (let i = 0; i < 60; i++) pairs.push([rng.nextU32(), rng.nextU32()]);
  for (const [a, b] of pairs) cases.push([1, a, b, 0, 0, 0, 0]);
  const draws: [number, number, number, number][] = [[0, 0, 0, 0], [1, 0, -1, -1], [123456, 7, -987654321, 42], [0xffffffff, 0xffffffff, 0x7fffffff, -0x80000000]];
  for (let i = 0; i < 30; i++) draws.push([rng.nextU32(), rng.nextU32(), rng.nextU32() | 0, rng.nextU32() | 0]);
  for (const [i, salt, k0, k1] of draws) cases.push([2, i, salt, k0 >>> 0, k1 >>> 0, 0, 0]);
  const out = await runShader(t, SHADER, Uint32Array.from(cases.flat()), cases.length * 4, cases.length);
  const words = (c: number) => [...out.subarray(c * 4, c * 4 + 4)];
  PHILOX_KAT.forEach(({ out: want }, c) => t.is(hexWords(words(c)), hexWords(want), `known answer ${c}`));
  pairs.forEach(([a, b], j) => t.is(out[(PHILOX_KAT.length + j) * 4], Number((BigInt(a) * BigInt(b)) >> 32n), `mulhi(${a}, ${b})`));
  draws.forEach(([i, salt, k0, k1], j) => t.is(out[(PHILOX_KAT.length + pairs.length + j) * 4], bits([randomAt(i, salt, k0, k1)])[0], `random(${i}, ${salt}, ${k0}, ${k1})`));
});

const graph = (inputs: Node[], outputs: Record<string, Node>): Graph => ({ name: "g", inputs: inputs as never, outputs: Object.entries(outputs).map(([name, node]) => ({ name, node })) });
const KEY: NDArray = { shape: [2], data: Int32Array.from([-123456789, 42]) };

/** Runs g on WebGPU (fused or not) and on the CPU (fused and not, float32): every output bit-identical. */
async function sameBits(t: import("ava").ExecutionContext, g: Graph, feeds: ReadonlyMap<string, NDArray>): Promise<Map<string, NDArray>> {
  const ctx = await gpu(t);
  const cpu = lowerAndRun(g, feeds, new Map(), { precision: "f32", fusion: false });
  const cpuFused = lowerAndRun(g, feeds, new Map(), { precision: "f32", fusion: true });
  for (const fusion of [true, false]) {
    const exe = await GpuExecutable.create(ctx, lowerGpu(g, { fusion }));
    const onGpu = await exe.run(feeds, new Map());
    for (const [name, want] of cpu) {
      const got = onGpu.get(name)!;
      t.deepEqual(got.shape, want.shape, `${name}: shape`);
      t.deepEqual(bits(got.data), bits(want.data), `${name}: WebGPU (fusion ${fusion}) and CPU bits`);
      t.deepEqual(bits(cpuFused.get(name)!.data), bits(want.data), `${name}: CPU fused and unfused bits`);
    }
  }
  return cpu;
}

const SHAPES: { shape: Shape; batch?: number }[] = [{ shape: [1] }, { shape: [7] }, { shape: [1001] }, { shape: [3, 5, 17] }, { shape: ["batch", 13], batch: 5 }, { shape: [] }];

for (const { shape, batch } of SHAPES) {
  test.serial(`random of [${shape}] alone and fused into where(r < 0.3, x * 2.5, 0): the same bits on WebGPU and CPU`, async (t) => {
    const concrete = shape.map((d) => (typeof d === "number" ? d : batch!));
    const key = input("key", [2], "i32");
    const x = make("input", [], { name: "x", shape, dtype: "f32" });
    const r = random(key, shape, 0xfffffffe);
    const masked = where(binary("less", random(key, shape, 3), full(0.3, shape)), mul(x, full(2.5, shape)), full(0, shape));
    const g = graph([key, x], { r, masked });
    const xs: NDArray = { shape: concrete, data: Float32Array.from(sample(new Random(concrete.length), concrete)) };
    const out = await sameBits(t, g, new Map([["key", KEY], ["x", xs]]));
    // The definition, element by element.
    const want = Float32Array.from(out.get("r")!.data, (_, i) => randomAt(i, 0xfffffffe, -123456789, 42));
    t.deepEqual(bits(out.get("r")!.data), bits(want));
    const keep = Float32Array.from(xs.data, (v, i) => (randomAt(i, 3, -123456789, 42) < Math.fround(0.3) ? Math.fround(v * 2.5) : 0));
    t.deepEqual(bits(out.get("masked")!.data), bits(keep));
  });
}

test.serial("fused, the mask is one pointwise kernel that reads the key's buffer; unfused, random has a kernel of its own", (t) => {
  const key = input("key", [2], "i32");
  const x = input("x", [64]);
  const masked = where(binary("less", random(key, [64], 1), full(0.5, [64])), x, full(0, [64]));
  const g = graph([key, x], { masked });
  const fused = partition(g);
  t.deepEqual(fused.kernels.map((k) => k.kind), ["pointwise"]);
  t.false([...fused.materialized].some((n) => n.op === "random"));
  const wgsl = lowerGpu(g).kernels[0]!.wgsl;
  t.regex(wgsl, /let (v\d+): i32 = b\d+\[0u\];\s*let (v\d+): i32 = b\d+\[1u\];[\s\S]*dlc_random\(i, 1u, \1, \2\)/);
  t.notRegex(wgsl, /NaN|inf/i);
  t.true([...partition(g, { fusion: false }).materialized].some((n) => n.op === "random"));
  const own = lowerGpu(g, { fusion: false }).kernels.filter((k) => k.ops.includes("random"));
  t.deepEqual(own.map((k) => k.ops), [["random"]]);
});

test.serial("a computed key gets a buffer of its own, and draws match", async (t) => {
  const seed = input("seed", [2], "i32");
  const key = add(seed, full(7, [2], "i32"));
  const r = random(key, [300], 0);
  const g = graph([seed], { r: mul(r, full(2, [300])) });
  const part = partition(g);
  t.is(part.reasons.get(key), "key of random");
  const out = await sameBits(t, g, new Map([["seed", { shape: [2], data: Int32Array.from([1, -8]) }]]));
  t.is(out.get("r")!.data[299], Math.fround(2 * randomAt(299, 0, 8, -1)));
});

test.serial("random inside a row kernel, a broadcast and a matmul operand matches the CPU", async (t) => {
  const key = input("key", [2], "i32");
  const x = make("input", [], { name: "x", shape: ["batch", 40], dtype: "f32" });
  const w = input("w", [40, 6]);
  const spread = make("broadcast", [random(key, [40], 5)], { shape: ["batch", 40], dims: [1] });
  const rowSum = reduce("sum", mul(x, spread), [1]);
  const dropped = matmul(mul(x, random(key, ["batch", 40], 6)), w);
  const g = graph([key, x, w], { rowSum, dropped, spread });
  const rng = new Random(2);
  const feeds = new Map<string, NDArray>([["key", KEY], ["x", { shape: [3, 40], data: Float32Array.from(sample(rng, [3, 40])) }], ["w", { shape: [40, 6], data: Float32Array.from(sample(rng, [40, 6])) }]]);
  await matchesCpu(t, g, feeds, new Map(), { tol: 1e-5 });
  await matchesCpu(t, g, feeds, new Map(), { tol: 1e-5, fusion: false });
  const spreadOut = lowerAndRun(g, feeds, new Map(), { precision: "f32" }).get("spread")!;
  t.is(spreadOut.data[2 * 40 + 9], randomAt(9, 5, -123456789, 42));
});
