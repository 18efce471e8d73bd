// GFLOP/s of the WebAssembly SIMD128 SGEMM (runtime/wasm/gemm.ts) against the
// JavaScript blocked GEMM the CPU backend uses today (runtime/cpu/kernels/gemm.ts),
// on the same f32 square products in the same process, alternating the two so
// both see the same machine load. Each product is checked once against the
// other (normwise relative difference), then timed: a warmup, then the median
// of the samples. The wasm figure includes copying A and B into linear memory
// and C out of it.
//
//   node --import tsx bench/cpu/wasm-gemm.ts [--quick] [--sizes 256,512,1024] [--layouts]
//
// --quick takes fewer samples; --layouts also times the three transposed
// layouts. On a shared machine the medians move by 10-30% between runs.

import { gemm, stridedPacker } from "../../runtime/cpu/kernels/gemm.js";
import { createGemm } from "../../runtime/wasm/gemm.js";
import { flag, LAYOUTS, option } from "../args.js";

const quick = flag("--quick");
const sizes = (option("--sizes") ?? "256,512,1024").split(",").map(Number);
const layouts = flag("--layouts") ? LAYOUTS : LAYOUTS.slice(0, 1);

function jsMatmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean): Float32Array {
  const c = new Float32Array(m * n);
  const [ai, ak] = transA ? [1, m] : [k, 1];
  const [bj, bk] = transB ? [k, 1] : [1, n];
  gemm(m, n, k, stridedPacker(a, 0, ai, ak), stridedPacker(b, 0, bj, bk), { data: c, offset: 0, rowStride: n, colStride: 1 });
  return c;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

function relativeDifference(x: Float32Array, y: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    d += (x[i]! - y[i]!) ** 2;
    s += y[i]! ** 2;
  }
  return Math.sqrt(d / s);
}

async function main(): Promise<void> {
  const wasm = await createGemm();
  console.log(`wasm SGEMM (4x8 SIMD128, 1 thread) vs JS gemm.ts, f32, median of samples; ${quick ? "quick" : "full"} run`);
  console.log("size  layout  wasm GFLOP/s  JS GFLOP/s  speedup  rel.diff");
  for (const size of sizes) {
    for (const [transA, transB] of layouts) {
      const m = size;
      const k = size;
      const n = size;
      const a = Float32Array.from({ length: m * k }, () => Math.random() - 0.5);
      const b = Float32Array.from({ length: k * n }, () => Math.random() - 0.5);
      const diff = relativeDifference(wasm.matmul(a, b, m, k, n, transA, transB), jsMatmul(a, b, m, k, n, transA, transB));
      if (!(diff <= 1e-5)) throw new Error(`wasm and JS products differ at ${size}: ${diff}`);
      const flops = 2 * m * n * k;
      const samples = quick ? 3 : size >= 1024 ? 5 : 9;
      const times = { wasm: [] as number[], js: [] as number[] };
      const run = (name: "wasm" | "js", record: boolean): void => {
        const t0 = performance.now();
        if (name === "wasm") wasm.matmul(a, b, m, k, n, transA, transB);
        else jsMatmul(a, b, m, k, n, transA, transB);
        if (record) times[name].push(performance.now() - t0);
      };
      run("wasm", false);
      run("js", false);
      for (let i = 0; i < samples; i++) {
        run("wasm", true);
        run("js", true);
      }
      const gw = flops / median(times.wasm) / 1e6;
      const gj = flops / median(times.js) / 1e6;
      const layout = `${transA ? "T" : "N"}${transB ? "T" : "N"}`;
      console.log(
        `${String(size).padStart(4)}  ${layout.padEnd(6)}  ${gw.toFixed(1).padStart(12)}  ${gj.toFixed(1).padStart(10)}  ${(gw / gj).toFixed(1).padStart(6)}x  ${diff.toExponential(1)}`,
      );
    }
  }
}

await main();
