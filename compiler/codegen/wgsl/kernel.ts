// What every WGSL kernel shares: the dims uniform, buffer bindings recorded as
// the body reads and writes them, the linear workgroup index, and the
// emitter context that knows which values this kernel computes itself.

import type { GpuBinding, GpuKernel, GridTerm } from "../../../runtime/program/gpu.js";
import { numel, mulDim } from "../../../runtime/program/dim.js";
import { lookup } from "../../ir/checked.js";
import type { Node } from "../../ir/node.js";
import { Emitter, wgslType, type EmitContext } from "./expr.js";

export interface KernelEnv {
  /** Graph node index of each node (binding identities). */
  readonly index: ReadonlyMap<Node, number>;
  /** Materialized nodes, and the buffer node a view reads. */
  readonly bufferOf: (n: Node) => Node | undefined;
  readonly symbols: readonly string[];
}

/** Builds one kernel: the body is emitted first, and the bindings it used become its header. */
export class KernelBuilder {
  readonly emitter: Emitter;
  private readonly reads = new Map<Node, string>();
  private readonly writes = new Map<Node, string>();
  /** Buffers also bound as vec4 arrays (read four aligned elements at once), after the others. */
  private readonly vectors = new Map<Node, string>();
  private readonly order: Node[] = [];
  private readonly ops = new Set<string>();
  /** Values this kernel computes: never read from their buffers. */
  private readonly computed = new Set<Node>();
  mapBroadcast: EmitContext["mapBroadcast"];

  constructor(
    private readonly env: KernelEnv,
    readonly name: string,
    computes: Iterable<Node>,
  ) {
    for (const n of computes) this.computed.add(n);
    const ctx: EmitContext = {
      buffer: (n) => this.readBuffer(n),
      mapBroadcast: (n, idx) => this.mapBroadcast?.(n, idx),
    };
    this.emitter = new Emitter(ctx, 1);
  }

  private name_(n: Node): string {
    return `b${lookup(this.env.index, n, "the node index")}`;
  }

  /** The binding to read n from, or undefined when n is computed inline. */
  readBuffer(n: Node): string | undefined {
    if (this.computed.has(n)) return undefined;
    const buf = this.env.bufferOf(n);
    // A view of a value this kernel computes reads it where it is computed, not from its buffer (written later, or by another thread).
    if (!buf || this.computed.has(buf)) {
      this.ops.add(n.op);
      return undefined;
    }
    let name = this.reads.get(buf);
    if (!name) {
      name = this.name_(buf);
      this.reads.set(buf, name);
      this.order.push(buf);
    }
    return name;
  }

  /** Whether n is read from a buffer (rather than computed inline), without binding it. */
  hasBuffer(n: Node): boolean {
    if (this.computed.has(n)) return false;
    const buf = this.env.bufferOf(n);
    return buf !== undefined && !this.computed.has(buf);
  }

  /**
   * n's buffer bound once more as \`array<vec4<f32>>\`: element i of it is n's elements 4i..4i+3.
   * The caller guarantees n has a buffer of a multiple of 4 elements.
   */
  vectorBuffer(n: Node): string {
    const buf = this.env.bufferOf(n);
    if (!this.hasBuffer(n) || buf === undefined || n.dtype !== "f32") throw new Error(`internal: ${this.name} reads ${n.op} as vec4 without an f32 buffer`);
    let name = this.vectors.get(buf);
    if (!name) this.vectors.set(buf, (name = `${this.name_(buf)}v4`));
    return name;
  }

  /** The binding of an operand that has a buffer (a window's operands always do). */
  operandBuffer(n: Node): string {
    const buffer = this.readBuffer(n);
    if (buffer === undefined) throw new Error(`internal: ${this.name} reads ${n.op} from a buffer it does not have`);
    return buffer;
  }

  /**
   * Element `index` of an operand: a load from its buffer, or, for a cheap
   * prologue the partition left inline (pixels / 255), its expression there.
   */
  operand(n: Node, index: string): string {
    const buffer = this.readBuffer(n);
    return buffer !== undefined ? `${buffer}[${index}]` : this.emitter.value(n, index);
  }

  /** The binding to write n's buffer through. */
  writeBuffer(n: Node): string {
    let name = this.writes.get(n);
    if (!name) {
      name = this.name_(n);
      this.writes.set(n, name);
      this.order.push(n);
    }
    return name;
  }

  /** Records that `n` at `idx` is held in WGSL variable `v`. */
  setLocal(n: Node, idx: string, v: string): void {
    this.emitter.bind(n, idx, v);
  }

  noteOp(op: string): void {
    this.ops.add(op);
  }

  /** Writes output `n` at `idx` and makes its value available to later outputs. */
  store(n: Node, idx: string): void {
    this.noteOp(n.op);
    const v = this.emitter.value(n, idx);
    this.emitter.line(`${this.writeBuffer(n)}[${idx}] = ${v};`);
    this.setLocal(n, idx, v);
  }

  build(options: { workgroupSize: number; grid: readonly GridTerm[]; preamble?: string; body: string }): GpuKernel {
    const bindings: GpuBinding[] = [];
    const decls: string[] = [];
    // Written buffers may also be read by this kernel at other indices only through its own locals, so each node binds once.
    const nodes = [...new Set(this.order)];
    nodes.forEach((n, k) => {
      const write = this.writes.has(n);
      bindings.push({ node: lookup(this.env.index, n, "the node index"), write });
      decls.push(`@group(0) @binding(${k + 1}) var<storage, ${write ? "read_write" : "read"}> ${this.name_(n)}: array<${wgslType(n)}>;`);
    });
    // A second, read-only binding of the same buffer aliases nothing that is written.
    for (const [n, name] of this.vectors) {
      bindings.push({ node: lookup(this.env.index, n, "the node index"), write: false });
      decls.push(`@group(0) @binding(${bindings.length}) var<storage, read> ${name}: array<vec4<f32>>;`);
    }
    const fields = this.env.symbols.length ? this.env.symbols.map((s) => `${s}: u32`).join(", ") : "unused: u32";
    const wgsl = [
      `// ${this.name}: ${[...this.ops].join(", ")}`,
      `struct Dims { ${fields} }`,
      `@group(0) @binding(0) var<uniform> dims: Dims;`,
      ...decls,
      ...this.emitter.helperFunctions(),
      options.preamble ?? "",
      `@compute @workgroup_size(${options.workgroupSize})`,
      `fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {`,
      `  let wg = wid.x + wid.y * nwg.x;`,
      options.body,
      `}`,
      ``,
    ].join("\n");
    // One term per buffer, however many times it is bound.
    const bytes = [...new Set([...nodes, ...this.vectors.keys()])].map((n) => mulDim(numel(n.shape), 4));
    return { name: this.name, wgsl, bindings, grid: options.grid, ops: [...this.ops], bytes };
  }
}

