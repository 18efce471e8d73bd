// The WebAssembly kernels of the float32 executable, other than the products:
// each op's kernel is an emitter that writes one function's body for fixed
// shapes and fixed heap addresses. A plan lays out every buffer in the heap
// once (runtime/cpu/executable.ts), so a kernel is specialized to its sizes
// and addresses, takes no arguments and allocates nothing; the plan's kernels
// are emitted into one module, compiled once per plan.
//
// Slots follow one convention that lets vector loops skip scalar tails: a
// slot starts on a 16-byte boundary and owns its bytes up to the next one, so
// a kernel may read the whole last vector of an input (the lanes past its last
// element are garbage) and write the whole last vector of its output (nobody
// reads the lanes past the end).

import type { Op, OpAttrs } from "../../program/ops.js";
import { requireWasm, type WasmInstance, type WasmMemory, type WasmModule } from "../../wasm/api.js";
import { ModuleBuilder, type FunctionBuilder } from "../../wasm/assembler.js";

/** A buffer of a plan in the heap. */
export interface Slot {
  /** Byte address: a multiple of 16. */
  readonly at: number;
  readonly shape: readonly number[];
  readonly dtype: "f32" | "i32";
}

/**
 * Writes the body of a kernel computing `out` from `ins` (a function of no
 * parameters and no results). `scratch` is the byte address of the plan's
 * scratch region, which holds at least what the op's WasmScratch asks for
 * while the kernel runs.
 */
export type WasmKernelEmitter<O extends Op> = (f: FunctionBuilder, out: Slot, ins: readonly Slot[], attrs: OpAttrs[O], scratch: number) => void;

export type WasmKernelTable<K extends Op> = { readonly [O in K]: WasmKernelEmitter<O> };

/** Scratch bytes a kernel needs, from its output's shape and dtype (ops without an entry need none). */
export type WasmScratch<K extends Op> = { readonly [O in K]?: (out: { readonly shape: readonly number[]; readonly dtype: "f32" | "i32" }) => number };

/** Bytes a slot of `elements` 4-byte values owns: rounded up to whole vectors. */
export function slotBytes(elements: number): number {
  return Math.ceil(elements / 4) * 16;
}

/** A kernel to emit: its export name, parameters (none, or a range's) and body. */
export interface KernelSource {
  readonly name: string;
  readonly params?: readonly (readonly [string, "i32"])[];
  /** Writes the body; `indexOf` gives the function index of a kernel listed before this one (for calls). */
  readonly emit: (f: FunctionBuilder, indexOf: (name: string) => number) => void;
}

export interface CompiledKernels {
  /** Each kernel's entry, by name. */
  readonly entries: ReadonlyMap<string, (...args: number[]) => void>;
  /** The compiled module, for workers to instantiate over the same memory. */
  readonly module: WasmModule;
}

/** The kernels emitted into one module over `memory` (imported as env.memory, shared if it is). */
function emitKernels(memory: WasmMemory, kernels: readonly KernelSource[]): Uint8Array {
  return moduleOf(memory, kernels, false).toBytes();
}

/** The same module as WebAssembly text: what `dlc compile --emit wasm` prints. */
export function kernelsText(memory: WasmMemory, kernels: readonly KernelSource[]): string {
  return moduleOf(memory, kernels, true).toText();
}

function moduleOf(memory: WasmMemory, kernels: readonly KernelSource[], text: boolean): ModuleBuilder {
  const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
  const m = new ModuleBuilder(text);
  m.importMemory({ module: "env", name: "memory", initial: 1, ...(shared ? { maximum: 65536, shared: true } : {}) });
  const index = new Map<string, number>();
  const indexOf = (name: string): number => {
    const i = index.get(name);
    if (i === undefined) throw new Error(`internal: kernel ${name} called before it is emitted`);
    return i;
  };
  for (const k of kernels) index.set(k.name, m.function(k.name, k.params ?? [], [], (f) => k.emit(f, indexOf)));
  return m;
}

function entriesOf(kernels: readonly KernelSource[], instance: WasmInstance): Map<string, (...args: number[]) => void> {
  return new Map(kernels.map((k) => [k.name, instance.exports[k.name] as (...args: number[]) => void]));
}

/** Emits the kernels into one module over `memory` and compiles and instantiates it synchronously. */
export function compileKernels(memory: WasmMemory, kernels: readonly KernelSource[]): CompiledKernels {
  const api = requireWasm();
  const module = new api.Module(emitKernels(memory, kernels));
  return { entries: entriesOf(kernels, new api.Instance(module, { env: { memory } })), module };
}

/**
 * The same, compiled and instantiated asynchronously: a browser's main thread
 * refuses to do either synchronously for a module over 4 KB, and a plan's
 * module is often megabytes.
 */
export async function compileKernelsAsync(memory: WasmMemory, kernels: readonly KernelSource[]): Promise<CompiledKernels> {
  const api = requireWasm();
  const module = await api.compile(emitKernels(memory, kernels));
  return { entries: entriesOf(kernels, await api.instantiate(module, { env: { memory } })), module };
}
