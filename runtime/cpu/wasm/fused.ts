// A fused elementwise group as one WebAssembly SIMD128 loop over its output,
// four elements per iteration, every member's value in a v128 local: no
// scratch buffer, no pass per member. Shapes and heap addresses are constants
// of the plan (kernel.ts), so the loop carries only counters.
//
// Operands, per iteration:
// - a materialized node read contiguously: one v128.load at the loop's byte
//   offset (the slot's address is the load's constant offset);
// - an index map of a materialized node (broadcast, transpose, slice, pad)
//   and iota: a walker keeps the multi-index of the current element and its
//   source offset, carrying from the innermost axis outwards (and wrapping
//   the outermost, so that lanes past the end stay inside the source). After
//   merging axes the map walks contiguously, a walker whose innermost run is
//   a multiple of 4 and contiguous (stride 1) or repeated (stride 0) loads
//   four lanes at once (v128.load or load32_splat), as does a pad whose
//   innermost padding comes in whole vectors (concat's); any other gathers
//   lane by lane;
// - random: four Philox draws from the lanes' flat indices (random.ts);
// - constants: splats set once before the loop.
// The elementwise members then compute from these locals (elementwise.ts),
// and the root's value is stored. Slots are padded to whole vectors, so the
// last iteration needs no scalar tail.

import { evalDim, type DimEnv } from "../../program/dim.js";
import { isElementwise } from "../../program/elementwise.js";
import type { ProgramNode } from "../../program/program.js";
import type { FunctionBuilder, Local } from "../../wasm/assembler.js";
import { bump, doWhileBelow } from "../../wasm/loops.js";
import { strides } from "../ndarray.js";
import { WASM_ELEMENTWISE } from "./elementwise.js";
import type { Slot } from "./kernel.js";
import { emitRandom4 } from "./random.js";
import type { Read } from "./rows.js";

/** A walk over an index space: its axes (outermost first), the source stride of each in elements, and what it yields. */
interface Walk {
  readonly dims: readonly number[];
  readonly strides: readonly number[];
  /** Byte address the source offset is relative to (unused for iota). */
  readonly base: number;
  /** Source offset of index 0, in elements (negative before a pad's leading padding). */
  readonly start: number;
  readonly kind: { readonly tag: "load" } | { readonly tag: "pad"; readonly before: readonly number[]; readonly inShape: readonly number[]; readonly bits: number } | { readonly tag: "iota"; readonly axis: number };
  readonly dtype: "f32" | "i32";
}

/** Drops size-1 axes and merges neighbours that walk the source as one axis. */
function merged(dims: readonly number[], srcStrides: readonly number[]): { dims: number[]; strides: number[] } {
  const out = { dims: [] as number[], strides: [] as number[] };
  dims.forEach((d, k) => {
    if (d === 1) return;
    const last = out.dims.length - 1;
    if (last >= 0 && out.strides[last] === srcStrides[k]! * d) {
      out.dims[last] = out.dims[last]! * d;
      out.strides[last] = srcStrides[k]!;
    } else {
      out.dims.push(d);
      out.strides.push(srcStrides[k]!);
    }
  });
  return out;
}

/** The walk of an index-map member m over materialized x, or undefined where m is not one. */
function walkOf(n: ProgramNode, shape: readonly number[], inShape: readonly number[], x: Slot | undefined): Walk | undefined {
  const inStrides = strides(inShape);
  const load = { tag: "load" } as const;
  switch (n.op) {
    case "broadcast": {
      const src = shape.map(() => 0);
      n.attrs.dims.forEach((d, i) => {
        if (inShape[i] !== 1) src[d] = inStrides[i]!;
      });
      return { ...merged(shape, src), base: x!.at, start: 0, kind: load, dtype: n.dtype };
    }
    case "transpose":
      return { ...merged(shape, n.attrs.perm.map((p) => inStrides[p]!)), base: x!.at, start: 0, kind: load, dtype: n.dtype };
    case "slice": {
      const offset = n.attrs.begin.reduce((o, b, i) => o + b * inStrides[i]!, 0);
      return { ...merged(shape, inStrides), base: x!.at, start: offset, kind: load, dtype: n.dtype };
    }
    case "pad": {
      const { before, value } = n.attrs;
      const bits = n.dtype === "i32" ? value | 0 : new Int32Array(Float32Array.of(value).buffer)[0]!;
      const start = -before.reduce((o, b, i) => o + b * inStrides[i]!, 0);
      return { dims: shape, strides: inStrides, base: x!.at, start, kind: { tag: "pad", before, inShape, bits }, dtype: n.dtype };
    }
    case "iota":
      return { dims: shape, strides: shape.map(() => 0), base: 0, start: 0, kind: { tag: "iota", axis: n.attrs.axis }, dtype: n.dtype };
    default:
      return undefined;
  }
}

/**
 * Whether four consecutive elements of the walk are one vector load
 * (contiguous), one splat (repeated), or, for a pad whose innermost padding
 * and source run are whole vectors, one load or the fill value.
 */
function vectorLoad(w: Walk): "load" | "splat" | "pad" | undefined {
  const r = w.dims.length;
  if (w.kind.tag === "pad") {
    const last = r - 1;
    const whole = r > 0 && [w.dims[last]!, w.kind.before[last]!, w.kind.inShape[last]!].every((v) => v % 4 === 0);
    return whole ? "pad" : undefined;
  }
  if (w.kind.tag !== "load") return undefined;
  if (r === 0) return "splat";
  if (w.dims[r - 1]! % 4 !== 0) return undefined;
  return w.strides[r - 1] === 1 ? "load" : w.strides[r - 1] === 0 ? "splat" : undefined;
}

/** The walker's state: a counter per axis and the source offset in bytes. */
class Walker {
  private readonly idx: Local[];
  private readonly src: Local;
  readonly value: Local;

  constructor(
    private readonly f: FunctionBuilder,
    private readonly w: Walk,
    name: string,
  ) {
    this.idx = w.dims.map((_, k) => f.addLocal("i32", `${name}_i${k}`));
    this.src = f.addLocal("i32", `${name}_src`);
    this.value = f.addLocal("v128", name);
  }

  /** Before the loop: the counters and the source offset of element `lo` (a local). */
  init(lo: Local): void {
    const { f, w } = this;
    f.i32.const(4 * w.start);
    f.set(this.src);
    let inner = 1;
    for (let k = w.dims.length - 1; k >= 0; k--) {
      // idx[k] = (lo / inner) % dims[k]; src += 4 · strides[k] · idx[k].
      f.get(lo);
      if (inner > 1) {
        f.i32.const(inner);
        f.i32.div_u();
      }
      f.i32.const(w.dims[k]!);
      f.i32.rem_u();
      f.set(this.idx[k]!);
      if (w.strides[k] !== 0) {
        f.get(this.src);
        f.get(this.idx[k]!);
        f.i32.const(4 * w.strides[k]!);
        f.i32.mul();
        f.i32.add();
        f.set(this.src);
      }
      inner *= w.dims[k]!;
    }
  }

  /** Sets `value` to the walk's next four elements and steps past them. */
  next(): void {
    const { f, w } = this;
    const mode = vectorLoad(w);
    if (mode === "pad" && w.kind.tag === "pad") {
      // All four lanes inside the source or all in the padding: one load, or the fill value.
      f.get(this.src);
      f.i32.const(0);
      this.inside();
      f.select("i32");
      f.v128.load(w.base);
      f.v128.const_i32x4([w.kind.bits, w.kind.bits, w.kind.bits, w.kind.bits]);
      this.inside();
      f.i32x4.splat();
      f.i32x4.neg();
      f.v128.bitselect();
      f.set(this.value);
      this.advance(4);
      return;
    }
    if (mode) {
      f.get(this.src);
      if (mode === "load") f.v128.load(w.base);
      else f.v128.load32_splat(w.base);
      f.set(this.value);
      this.advance(4);
      return;
    }
    for (const lane of [0, 1, 2, 3] as const) {
      f.get(this.value);
      this.scalar();
      f.i32x4.replace_lane(lane);
      f.set(this.value);
      this.advance(1);
    }
  }

  /** Pushes the current element's bits as an i32. */
  private scalar(): void {
    const { f, w } = this;
    const kind = w.kind;
    if (kind.tag === "load") {
      f.get(this.src);
      f.i32.load(w.base);
    } else if (kind.tag === "iota") {
      f.get(this.idx[kind.axis]!);
      if (w.dtype === "f32") {
        f.f32.convert_i32_s();
        f.i32.reinterpret_f32();
      }
    } else {
      // Inside the source on every padded axis: load (from a safe address otherwise), else the fill value.
      f.get(this.src);
      f.i32.const(0);
      this.inside();
      f.select("i32");
      f.i32.load(w.base);
      f.i32.const(kind.bits);
      this.inside();
      f.select("i32");
    }
  }

  /** Pushes 1 where a pad's current index lies inside its source on every padded axis, else 0. */
  private inside(): void {
    const { f, w } = this;
    const kind = w.kind;
    if (kind.tag !== "pad") throw new Error("internal: inside() of a walk that is not a pad");
    let first = true;
    w.dims.forEach((_, k) => {
      if (kind.before[k] === 0 && kind.inShape[k] === w.dims[k]) return;
      f.get(this.idx[k]!);
      f.i32.const(kind.before[k]!);
      f.i32.sub();
      f.i32.const(kind.inShape[k]!);
      f.i32.lt_u();
      if (!first) f.i32.and();
      first = false;
    });
    if (first) f.i32.const(1);
  }

  /** Steps `step` elements along the innermost axis (a divisor of its size), carrying outwards; the outermost wraps to 0. */
  private advance(step: number): void {
    const { f, w } = this;
    const r = w.dims.length;
    if (r === 0) return;
    const move = (k: number, by: number): void => {
      bump(f, this.idx[k]!, by);
      if (w.strides[k] !== 0) bump(f, this.src, 4 * by * w.strides[k]!);
    };
    const carry = (k: number, by: number): void => {
      move(k, by);
      f.get(this.idx[k]!);
      f.i32.const(w.dims[k]!);
      f.i32.eq();
      f.if(() => {
        // Back to the start of axis k, one step along axis k - 1.
        move(k, -w.dims[k]!);
        if (k > 0) carry(k - 1, 1);
      });
    };
    carry(r - 1, step);
  }
}

/**
 * The body of the kernel computing fused group `members` (ending with `root`)
 * into its slot, or the reason it must run in JavaScript. The function takes
 * (lo, hi): it computes elements [lo, hi) of the root, lo a multiple of 4
 * (the last vector is written whole, so a range ends on a multiple of 4 or at
 * the end); (0, size) is the whole group, and threads or row blocks
 * (rows.ts) take parts of it.
 */
export function fusedKernel(
  nodes: readonly ProgramNode[],
  members: readonly number[],
  root: number,
  shapes: readonly (readonly number[])[],
  env: DimEnv,
  slotOf: (i: number) => Slot,
): ((f: FunctionBuilder) => void) | string {
  const inGroup = new Set(members);
  for (const m of members) {
    const n = nodes[m]!;
    if (n.op === "const" || n.op === "reshape" || n.op === "random" || INDEX_MAPS.has(n.op)) continue;
    if (!isElementwise(n.op)) return `${n.op} is not elementwise`;
    if (!WASM_ELEMENTWISE[n.op]) return `${n.op} has no WebAssembly lanes`;
    if ((n.op === "sqrt" || n.op === "div") && n.dtype !== "f32") return `${n.op} of i32`;
  }
  const total = shapes[root]!.reduce((a, b) => a * b, 1);
  return (f) => {
    const [lo, hi] = f.params as [Local, Local];
    if (total === 0) return;
    const value = new Map<number, Local>();
    const loads: { node: number; local: Local }[] = [];
    const walkers: Walker[] = [];
    const randoms: { local: Local; salt: number; key: number }[] = [];
    const p = f.addLocal("i32", "p");
    const index = f.addLocal("i32", "index");
    const operand = (i: number): Local => {
      const known = value.get(i);
      if (known) return known;
      if (inGroup.has(i)) throw new Error(`internal: fused member ${i} read before it is computed`);
      // A materialized node: loaded each iteration.
      const local = f.addLocal("v128", `in${i}`);
      loads.push({ node: i, local });
      value.set(i, local);
      return local;
    };
    const computed: { local: Local; emit: () => void }[] = [];
    for (const m of members) {
      const n = nodes[m]!;
      if (n.op === "reshape" || n.op === "stopGradient") {
        value.set(m, operand(n.inputs[0]!));
        continue;
      }
      if (n.op === "const") {
        const v = typeof n.attrs.value === "number" ? n.attrs.value : evalDim(n.attrs.value, env);
        const local = f.addLocal("v128", `c${m}`);
        if (n.dtype === "i32") f.v128.const_i32x4([v, v, v, v]);
        else f.v128.const_f32x4([v, v, v, v]);
        f.set(local);
        value.set(m, local);
        continue;
      }
      if (n.op === "random") {
        const local = f.addLocal("v128", `random${m}`);
        randoms.push({ local, salt: n.attrs.salt, key: slotOf(n.inputs[0]!).at });
        value.set(m, local);
        continue;
      }
      const x = n.inputs[0];
      const walk = walkOf(n, shapes[m]!, x === undefined ? [] : shapes[x]!, x === undefined ? undefined : slotOf(x));
      if (walk) {
        const walker = new Walker(f, walk, `${n.op}${m}`);
        walker.init(lo);
        walkers.push(walker);
        value.set(m, walker.value);
        continue;
      }
      const lanes = isElementwise(n.op) ? WASM_ELEMENTWISE[n.op] : undefined;
      if (!lanes) throw new Error(`internal: ${n.op} in a fused kernel`);
      const ins = n.inputs.map(operand);
      const types = n.inputs.map((i) => nodes[i]!.dtype);
      const local = f.addLocal("v128", `${n.op}${m}`);
      computed.push({ local, emit: () => lanes(f, ins, types, n.dtype) });
      value.set(m, local);
    }
    const result = operand(root);
    const at = slotOf(root).at;
    // p = 4 lo, end = 4 hi: byte offsets; the index of the first lane = lo.
    const end = f.addLocal("i32", "end");
    f.get(hi);
    f.i32.const(2);
    f.i32.shl();
    f.set(end);
    f.get(lo);
    f.local.tee(index);
    f.i32.const(2);
    f.i32.shl();
    f.local.tee(p);
    f.get(end);
    f.i32.ge_u();
    f.if(() => f.return());
    doWhileBelow(f, p, 16, end, () => {
      for (const { node, local } of loads) {
        f.get(p);
        f.v128.load(slotOf(node).at);
        f.set(local);
      }
      for (const w of walkers) w.next();
      for (const r of randoms) {
        emitRandom4(f, index, r.salt, r.key);
        f.set(r.local);
      }
      for (const c of computed) {
        c.emit();
        f.set(c.local);
      }
      f.get(p);
      f.get(result);
      f.v128.store(at);
      if (randoms.length) bump(f, index, 4);
    });
  };
}

/** The parameters of a range kernel: elements (or rows) [lo, hi). */
export const RANGE_PARAMS = [["lo", "i32"], ["hi", "i32"]] as const;

/**
 * The materialized nodes a fused group reads and how, in its element space
 * (for rows.ts): loads and reshapes read element for element; a broadcast
 * whose walk is [rows, width] with strides [1, 0] reads a value per row; any
 * other index map or a random draw's key reads elsewhere.
 */
export function groupReads(nodes: readonly ProgramNode[], members: readonly number[], shapes: readonly (readonly number[])[]): Read[] {
  const inGroup = new Set(members);
  const reads: Read[] = [];
  for (const m of members) {
    const n = nodes[m]!;
    for (const x of n.inputs) {
      if (inGroup.has(x)) continue;
      if (n.op === "broadcast") {
        const { dims, strides } = walkOf(n, shapes[m]!, shapes[x]!, { at: 0, shape: shapes[x]!, dtype: nodes[x]!.dtype })!;
        const perRow = dims.length === 2 && strides[0] === 1 && strides[1] === 0;
        reads.push({ buffer: x, access: perRow ? { kind: "rows", rows: dims[0]!, width: dims[1]! } : { kind: "other" } });
      } else if (INDEX_MAPS.has(n.op) || n.op === "random") reads.push({ buffer: x, access: { kind: "other" } });
      else reads.push({ buffer: x, access: { kind: "flat" } });
    }
  }
  return reads;
}

/** Members that read a materialized node (or nothing) through an index map: each gets a walker. */
const INDEX_MAPS = new Set(["broadcast", "transpose", "slice", "pad", "iota"]);
