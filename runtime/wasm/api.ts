// The part of the WebAssembly JavaScript API that runtime/wasm uses, typed
// here because the project's lib settings (ES2023 + node) declare no
// `WebAssembly` global. Reading it through globalThis keeps the declaration
// local to this directory instead of adding an ambient global to the whole
// program; `wasmApi()` is undefined where the host has no WebAssembly.

export interface MemoryDescriptor {
  readonly initial: number;
  readonly maximum?: number;
  readonly shared?: boolean;
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Grows by `delta` 64 KiB pages and returns the old size in pages. */
  grow(delta: number): number;
}

export type WasmModule = object;

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export type Imports = Record<string, Record<string, unknown>>;

export interface WasmApi {
  readonly Memory: new (descriptor: MemoryDescriptor) => WasmMemory;
  readonly Module: new (bytes: Uint8Array) => WasmModule;
  readonly Instance: new (module: WasmModule, imports?: Imports) => WasmInstance;
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports?: Imports): Promise<WasmInstance>;
}

/** The host's WebAssembly object, or undefined where there is none. */
export function wasmApi(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}

/** The host's WebAssembly object; throws where there is none. */
export function requireWasm(): WasmApi {
  const api = wasmApi();
  if (!api) throw new Error("this JavaScript host has no WebAssembly");
  return api;
}

/** 64 KiB, the unit of WebAssembly memory sizes. */
export const PAGE_BYTES = 65536;
