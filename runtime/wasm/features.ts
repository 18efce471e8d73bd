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

let cached: WasmFeatures | undefined;

/** The host's features, probed on the first call. */
export function wasmFeatures(): WasmFeatures {
  if (cached) return cached;
  const api = wasmApi();
  if (!api) return (cached = { wasm: false, simd: false, sharedMemory: false });
  const simd = api.validate(simdProbe());
  let sharedMemory = false;
  try {
    const memory = new api.Memory({ initial: 1, maximum: 1, shared: true });
    sharedMemory = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer && api.validate(sharedMemoryProbe());
  } catch {
    sharedMemory = false;
  }
  return (cached = { wasm: true, simd, sharedMemory });
}
