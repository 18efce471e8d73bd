// What this host's WebAssembly supports, probed once, in one place: the
// kernels ask here and never sniff versions. Each probe validates or builds
// the smallest thing that needs the feature.

import { wasmApi } from "./api.js";
import { ModuleBuilder } from "./assembler.js";

export interface WasmFeatures {
  /** WebAssembly at all. */
  readonly wasm: boolean;
  /** The 128-bit SIMD proposal (v128, f32x4.*): on by default since Node 16.4 / Chrome 91. */
  readonly simd: boolean;
  /** Shared memories (threads proposal) and SharedArrayBuffer: what workers need to share one heap. */
  readonly sharedMemory: boolean;
  /** Relaxed SIMD (f32x4.relaxed_madd): on by default since Node 22 / Chrome 114; turned on here for Node 20 (see below). */
  readonly relaxedSimd: boolean;
}

/** A module whose one function adds two f32x4 splats and extracts a lane: valid only with SIMD128. */
export function simdProbe(): Uint8Array {
  const m = new ModuleBuilder();
  m.function("probe", [], ["f32"], (f) => {
    f.f32.const(1);
    f.f32x4.splat();
    f.f32.const(2);
    f.f32x4.splat();
    f.f32x4.add();
    f.f32x4.extract_lane(0);
  });
  return m.toBytes();
}

/** A module importing a shared memory: valid (and instantiable) only with the threads proposal. */
export function sharedMemoryProbe(): Uint8Array {
  return new ModuleBuilder().importMemory({ module: "env", name: "memory", initial: 1, maximum: 1, shared: true }).toBytes();
}

/** A module whose one function is a relaxed multiply-add of three splats: valid only with relaxed SIMD. */
export function relaxedSimdProbe(): Uint8Array {
  const m = new ModuleBuilder();
  m.function("probe", [], ["f32"], (f) => {
    for (const v of [1, 2, 3]) {
      f.f32.const(v);
      f.f32x4.splat();
    }
    f.f32x4.relaxed_madd();
    f.f32x4.extract_lane(0);
  });
  return m.toBytes();
}

/**
 * Relaxed SIMD, turning it on first where the engine has it behind a flag.
 * Node 20's V8 (11.3) implements the finished proposal but ships it behind
 * --experimental-wasm-relaxed-simd; the flag only adds the proposal's
 * instructions, and V8 reads it when it validates a module, so setting it
 * at run time works for every module compiled afterwards (and in workers: V8's
 * flags are per process). It is worth it: the products' multiply-add becomes
 * one FMA, which doubles the GEMM's rate on cores whose front end, not their
 * arithmetic, bounds a separate multiply and add (Zen 3 here: 20 -> 38 GFLOP/s
 * in cache). Elsewhere (a browser without it) the plain path stays.
 */
function relaxedSimd(api: NonNullable<ReturnType<typeof wasmApi>>): boolean {
  if (api.validate(relaxedSimdProbe())) return true;
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const v8 = get?.("node:v8") as { setFlagsFromString(flags: string): void } | undefined;
  if (!v8) return false;
  v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  return api.validate(relaxedSimdProbe());
}

let cached: WasmFeatures | undefined;

/** The host's features, probed on the first call. */
export function wasmFeatures(): WasmFeatures {
  if (cached) return cached;
  const api = wasmApi();
  if (!api) return (cached = { wasm: false, simd: false, sharedMemory: false, relaxedSimd: false });
  const simd = api.validate(simdProbe());
  let sharedMemory = false;
  try {
    const memory = new api.Memory({ initial: 1, maximum: 1, shared: true });
    sharedMemory = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer && api.validate(sharedMemoryProbe());
  } catch {
    sharedMemory = false;
  }
  return (cached = { wasm: true, simd, sharedMemory, relaxedSimd: simd && relaxedSimd(api) });
}
