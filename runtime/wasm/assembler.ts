// A minimal typed WebAssembly binary assembler, written by hand: enough of the
// binary format (sections, LEB128, locals, structured control flow, i32/f32
// scalar code and the SIMD128 ops the kernels use) to emit the CPU kernels,
// and no more. In the spirit of jax-js's wasmblr:
//
// - Each instruction is a method named after its text-format mnemonic, grouped
//   by type (`f.i32.add()`, `f.f32x4.mul()`, `f.v128.load(16)`), so emitting
//   code reads like the WebAssembly text it produces.
// - The builder tracks the operand stack's types and refuses a wrong one at
//   the line that emits it, with the function and instruction in the message,
//   instead of leaving WebAssembly.validate to report a byte offset later.
// - Branch targets are label objects handed to the body of `block`, `loop`
//   and `if`, so relative depths are computed, never counted by hand.
// - Every instruction is also recorded as a line of text (unless the module is
//   built without: kernels emitted per plan); `toText()` lists a
//   module in a WAT-like form for dumps and test failures.
//
// Blocks here take no parameters and yield no results (the kernels keep values
// in locals), which keeps the type checking to a stack of value types per
// control frame.

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

const VALTYPE: { readonly [T in ValType]: number } = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };
const EMPTY_BLOCK = 0x40;
const SIMD_PREFIX = 0xfd;

// ---- encoding ----------------------------------------------------------------

/** Unsigned LEB128 of a 32-bit value. */
export function encodeU32(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`not a u32: ${value}`);
  const out: number[] = [];
  let v = value;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit value. */
export function encodeS32(value: number): number[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`not an s32: ${value}`);
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function encodeF32(value: number): number[] {
  scratchF32[0] = value;
  return [scratchBytes[0]!, scratchBytes[1]!, scratchBytes[2]!, scratchBytes[3]!];
}

function encodeName(name: string): number[] {
  const utf8 = new TextEncoder().encode(name);
  return [...encodeU32(utf8.length), ...utf8];
}

/** Appends `bytes` to `out` (a loop, not push(...bytes): a module's code can exceed the engine's argument limit). */
function append(out: number[], bytes: readonly number[]): number[] {
  const n = bytes.length;
  for (let i = 0; i < n; i++) out.push(bytes[i]!);
  return out;
}

/** Scratch for a constant's bytes: one vector's worth, seen as each lane type. */
const scratch = new ArrayBuffer(16);
const scratchBytes = new Uint8Array(scratch);
const scratchF32 = new Float32Array(scratch);
const scratchI32 = new Int32Array(scratch);
const scratchF64 = new Float64Array(scratch);

function encodeVec(items: readonly number[][]): number[] {
  const out = encodeU32(items.length);
  for (const item of items) append(out, item);
  return out;
}

function section(id: number, body: number[]): number[] {
  return append([id, ...encodeU32(body.length)], body);
}

/** The parts one after the other in one array (one copy of each: code runs to megabytes). */
function concat(parts: readonly (readonly number[] | Uint8Array)[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- functions -----------------------------------------------------------------

/** A parameter or local of a function under construction. */
export class Local {
  constructor(
    readonly index: number,
    readonly type: ValType,
    readonly name: string,
  ) {}
}

/** A branch target: the control frame of a `block` (br exits it), `loop` (br repeats it) or `if`. */
export class Label {
  constructor(readonly kind: "block" | "loop" | "if") {}
}

interface Frame {
  readonly label: Label | undefined; // undefined for the function body
  readonly height: number; // operand stack height on entry
  unreachable: boolean; // after br/return: the stack is polymorphic until the frame ends
}

/** A natural-alignment log2 for each access width, the `align` hint of a memarg. */
const ALIGN = { 1: 0, 4: 2, 8: 3, 16: 4 } as const;

export class FunctionBuilder {
  readonly params: readonly Local[];
  private readonly locals: Local[] = [];
  private readonly code: number[] = [];
  /** The text of each instruction, where recorded (`text`): dumps and failing tests want it, plan kernels do not pay for it. */
  private readonly lines: string[] = [];
  private readonly stack: ValType[] = [];
  private readonly frames: Frame[] = [{ label: undefined, height: 0, unreachable: false }];

  constructor(
    readonly name: string,
    params: readonly (readonly [string, ValType])[],
    readonly results: readonly ValType[],
    private readonly text = true,
  ) {
    this.params = params.map(([n, t], i) => new Local(i, t, n));
  }

  /** Declares a local of `type`, zero-initialized on entry. */
  addLocal(type: ValType, name: string): Local {
    const local = new Local(this.params.length + this.locals.length, type, name);
    this.locals.push(local);
    return local;
  }

  // ---- the operand stack ----

  private pop(expected: ValType, op: string): void {
    const frame = this.frames[this.frames.length - 1]!;
    if (this.stack.length === frame.height) {
      if (frame.unreachable) return;
      throw new Error(`${this.name}: ${op} expects ${expected} on the stack, but it is empty`);
    }
    const got = this.stack.pop()!;
    if (got !== expected) throw new Error(`${this.name}: ${op} expects ${expected} on the stack, found ${got}`);
  }

  /** Records a line of text (a thunk where making it costs: constants' values), where text is recorded. */
  private line(text: string | (() => string), indent = this.frames.length): void {
    if (this.text) this.lines.push("  ".repeat(indent) + (typeof text === "string" ? text : text()));
  }

  /** Emits one instruction: checks and pops `pops` (the last is the top), pushes `pushes`. */
  private op(text: string | (() => string), bytes: readonly number[], pops: readonly ValType[], pushes: readonly ValType[]): void {
    for (let i = pops.length - 1; i >= 0; i--) this.pop(pops[i]!, typeof text === "string" ? text : "a constant");
    for (let i = 0; i < pushes.length; i++) this.stack.push(pushes[i]!);
    append(this.code, bytes);
    this.line(text);
  }

  private simd(text: string | (() => string), opcode: number, pops: readonly ValType[], pushes: readonly ValType[], imm: readonly number[] = []): void {
    this.op(text, [SIMD_PREFIX, ...encodeU32(opcode), ...imm], pops, pushes);
  }

  private memarg(offset: number, width: 1 | 4 | 8 | 16): number[] {
    return [...encodeU32(ALIGN[width]), ...encodeU32(offset)];
  }

  private static offsetText(offset: number): string {
    return offset ? ` offset=${offset}` : "";
  }

  // ---- variables ----

  readonly local = {
    get: (x: Local): void => this.op(`local.get $${x.name}`, [0x20, ...encodeU32(x.index)], [], [x.type]),
    set: (x: Local): void => this.op(`local.set $${x.name}`, [0x21, ...encodeU32(x.index)], [x.type], []),
    tee: (x: Local): void => this.op(`local.tee $${x.name}`, [0x22, ...encodeU32(x.index)], [x.type], [x.type]),
  };

  /** local.get, the commonest instruction, under a short name. */
  get(x: Local): void {
    this.local.get(x);
  }

  /** local.set. */
  set(x: Local): void {
    this.local.set(x);
  }

  // ---- parametric ----

  drop(type: ValType): void {
    this.op("drop", [0x1a], [type], []);
  }

  /** select: [a, b, cond] -> cond ? a : b (a and b of `type`, i32/f32/f64/i64 only). */
  select(type: Exclude<ValType, "v128">): void {
    this.op("select", [0x1b], [type, type, "i32"], [type]);
  }

  // ---- numeric ----

  readonly i32 = {
    const: (v: number): void => this.op(`i32.const ${v | 0}`, [0x41, ...encodeS32(v | 0)], [], ["i32"]),
    load: (offset = 0): void => this.op(`i32.load${FunctionBuilder.offsetText(offset)}`, [0x28, ...this.memarg(offset, 4)], ["i32"], ["i32"]),
    store: (offset = 0): void => this.op(`i32.store${FunctionBuilder.offsetText(offset)}`, [0x36, ...this.memarg(offset, 4)], ["i32", "i32"], []),
    eqz: (): void => this.op("i32.eqz", [0x45], ["i32"], ["i32"]),
    eq: (): void => this.binary("i32.eq", 0x46),
    ne: (): void => this.binary("i32.ne", 0x47),
    lt_s: (): void => this.binary("i32.lt_s", 0x48),
    lt_u: (): void => this.binary("i32.lt_u", 0x49),
    gt_s: (): void => this.binary("i32.gt_s", 0x4a),
    gt_u: (): void => this.binary("i32.gt_u", 0x4b),
    le_s: (): void => this.binary("i32.le_s", 0x4c),
    ge_s: (): void => this.binary("i32.ge_s", 0x4e),
    add: (): void => this.binary("i32.add", 0x6a),
    sub: (): void => this.binary("i32.sub", 0x6b),
    mul: (): void => this.binary("i32.mul", 0x6c),
    div_u: (): void => this.binary("i32.div_u", 0x6e),
    rem_u: (): void => this.binary("i32.rem_u", 0x70),
    and: (): void => this.binary("i32.and", 0x71),
    or: (): void => this.binary("i32.or", 0x72),
    shl: (): void => this.binary("i32.shl", 0x74),
    shr_u: (): void => this.binary("i32.shr_u", 0x76),
    shr_s: (): void => this.binary("i32.shr_s", 0x75),
    xor: (): void => this.binary("i32.xor", 0x73),
    le_u: (): void => this.binary("i32.le_u", 0x4d),
    ge_u: (): void => this.binary("i32.ge_u", 0x4f),
    div_s: (): void => this.binary("i32.div_s", 0x6d),
    rem_s: (): void => this.binary("i32.rem_s", 0x6f),
    reinterpret_f32: (): void => this.op("i32.reinterpret_f32", [0xbc], ["f32"], ["i32"]),
    trunc_sat_f32_s: (): void => this.op("i32.trunc_sat_f32_s", [0xfc, 0x00], ["f32"], ["i32"]),
  };

  private binary(text: string, opcode: number, type: ValType = "i32"): void {
    this.op(text, [opcode], [type, type], [type]);
  }

  readonly f32 = {
    const: (v: number): void => this.op(() => `f32.const ${v}`, [0x43, ...encodeF32(v)], [], ["f32"]),
    load: (offset = 0): void => this.op(`f32.load${FunctionBuilder.offsetText(offset)}`, [0x2a, ...this.memarg(offset, 4)], ["i32"], ["f32"]),
    store: (offset = 0): void => this.op(`f32.store${FunctionBuilder.offsetText(offset)}`, [0x38, ...this.memarg(offset, 4)], ["i32", "f32"], []),
    add: (): void => this.binary("f32.add", 0x92, "f32"),
    sub: (): void => this.binary("f32.sub", 0x93, "f32"),
    mul: (): void => this.binary("f32.mul", 0x94, "f32"),
    div: (): void => this.binary("f32.div", 0x95, "f32"),
    min: (): void => this.binary("f32.min", 0x96, "f32"),
    max: (): void => this.binary("f32.max", 0x97, "f32"),
    abs: (): void => this.op("f32.abs", [0x8b], ["f32"], ["f32"]),
    neg: (): void => this.op("f32.neg", [0x8c], ["f32"], ["f32"]),
    ceil: (): void => this.op("f32.ceil", [0x8d], ["f32"], ["f32"]),
    floor: (): void => this.op("f32.floor", [0x8e], ["f32"], ["f32"]),
    sqrt: (): void => this.op("f32.sqrt", [0x91], ["f32"], ["f32"]),
    eq: (): void => this.op("f32.eq", [0x5b], ["f32", "f32"], ["i32"]),
    ne: (): void => this.op("f32.ne", [0x5c], ["f32", "f32"], ["i32"]),
    lt: (): void => this.op("f32.lt", [0x5d], ["f32", "f32"], ["i32"]),
    gt: (): void => this.op("f32.gt", [0x5e], ["f32", "f32"], ["i32"]),
    le: (): void => this.op("f32.le", [0x5f], ["f32", "f32"], ["i32"]),
    ge: (): void => this.op("f32.ge", [0x60], ["f32", "f32"], ["i32"]),
    convert_i32_s: (): void => this.op("f32.convert_i32_s", [0xb2], ["i32"], ["f32"]),
    reinterpret_i32: (): void => this.op("f32.reinterpret_i32", [0xbe], ["i32"], ["f32"]),
  };

  /** Bulk memory: memory.copy [dst, src, bytes] and memory.fill [dst, byte, bytes] on memory 0. */
  readonly memory = {
    copy: (): void => this.op("memory.copy", [0xfc, ...encodeU32(10), 0x00, 0x00], ["i32", "i32", "i32"], []),
    fill: (): void => this.op("memory.fill", [0xfc, ...encodeU32(11), 0x00], ["i32", "i32", "i32"], []),
  };

  // ---- SIMD128 ----

  private v2(text: string, opcode: number): void {
    this.simd(text, opcode, ["v128", "v128"], ["v128"]);
  }

  private v1(text: string, opcode: number): void {
    this.simd(text, opcode, ["v128"], ["v128"]);
  }

  readonly v128 = {
    load: (offset = 0): void => this.simd(`v128.load${FunctionBuilder.offsetText(offset)}`, 0x00, ["i32"], ["v128"], this.memarg(offset, 16)),
    /** Loads one f32 (or i32) and broadcasts it to the four lanes. */
    load32_splat: (offset = 0): void => this.simd(`v128.load32_splat${FunctionBuilder.offsetText(offset)}`, 0x09, ["i32"], ["v128"], this.memarg(offset, 4)),
    /** Loads one 32-bit value into lane 0, the other lanes zero. */
    load32_zero: (offset = 0): void => this.simd(`v128.load32_zero${FunctionBuilder.offsetText(offset)}`, 0x5c, ["i32"], ["v128"], this.memarg(offset, 4)),
    /** Loads 64 bits into the low half, the high half zero. */
    load64_zero: (offset = 0): void => this.simd(`v128.load64_zero${FunctionBuilder.offsetText(offset)}`, 0x5d, ["i32"], ["v128"], this.memarg(offset, 8)),
    /** [address, vector] -> vector with `lane` replaced by the 32-bit value at the address. */
    load32_lane: (lane: 0 | 1 | 2 | 3, offset = 0): void =>
      this.simd(`v128.load32_lane${FunctionBuilder.offsetText(offset)} ${lane}`, 0x56, ["i32", "v128"], ["v128"], [...this.memarg(offset, 4), lane]),
    store: (offset = 0): void => this.simd(`v128.store${FunctionBuilder.offsetText(offset)}`, 0x0b, ["i32", "v128"], [], this.memarg(offset, 16)),
    /** [address, vector]: stores lane `lane`'s 32 bits at the address. */
    store32_lane: (lane: 0 | 1 | 2 | 3, offset = 0): void =>
      this.simd(`v128.store32_lane${FunctionBuilder.offsetText(offset)} ${lane}`, 0x5a, ["i32", "v128"], [], [...this.memarg(offset, 4), lane]),
    /** [address, vector]: stores lane `lane`'s 64 bits at the address. */
    store64_lane: (lane: 0 | 1, offset = 0): void =>
      this.simd(`v128.store64_lane${FunctionBuilder.offsetText(offset)} ${lane}`, 0x5b, ["i32", "v128"], [], [...this.memarg(offset, 8), lane]),
    /** A constant vector of four 32-bit lanes, given as their bits (i32) or values (f32). */
    const_i32x4: (lanes: readonly [number, number, number, number]): void => {
      for (let i = 0; i < 4; i++) scratchI32[i] = lanes[i]! | 0;
      this.simd(() => `v128.const i32x4 ${lanes.map((v) => v | 0).join(" ")}`, 0x0c, [], ["v128"], Array.from(scratchBytes));
    },
    const_f32x4: (lanes: readonly [number, number, number, number]): void => {
      for (let i = 0; i < 4; i++) scratchF32[i] = lanes[i]!;
      this.simd(() => `v128.const f32x4 ${lanes.join(" ")}`, 0x0c, [], ["v128"], Array.from(scratchBytes));
    },
    /** A constant vector of two f64 lanes. */
    const_f64x2: (lanes: readonly [number, number]): void => {
      scratchF64[0] = lanes[0];
      scratchF64[1] = lanes[1];
      this.simd(() => `v128.const f64x2 ${lanes.join(" ")}`, 0x0c, [], ["v128"], Array.from(scratchBytes));
    },
    not: (): void => this.v1("v128.not", 0x4d),
    and: (): void => this.v2("v128.and", 0x4e),
    /** a & ~b. */
    andnot: (): void => this.v2("v128.andnot", 0x4f),
    or: (): void => this.v2("v128.or", 0x50),
    xor: (): void => this.v2("v128.xor", 0x51),
    /** [a, b, mask] -> (a & mask) | (b & ~mask). */
    bitselect: (): void => this.simd("v128.bitselect", 0x52, ["v128", "v128", "v128"], ["v128"]),
    any_true: (): void => this.simd("v128.any_true", 0x53, ["v128"], ["i32"]),
  };

  /** i8x16.shuffle of two vectors by 16 byte indices (0-15 from a, 16-31 from b). */
  shuffle(bytes: readonly number[]): void {
    if (bytes.length !== 16 || bytes.some((b) => b < 0 || b > 31)) throw new Error(`${this.name}: a shuffle takes 16 lane indices below 32`);
    this.simd(`i8x16.shuffle ${bytes.join(" ")}`, 0x0d, ["v128", "v128"], ["v128"], [...bytes]);
  }

  readonly f32x4 = {
    splat: (): void => this.simd("f32x4.splat", 0x13, ["f32"], ["v128"]),
    extract_lane: (lane: 0 | 1 | 2 | 3): void => this.simd(`f32x4.extract_lane ${lane}`, 0x1f, ["v128"], ["f32"], [lane]),
    replace_lane: (lane: 0 | 1 | 2 | 3): void => this.simd(`f32x4.replace_lane ${lane}`, 0x20, ["v128", "f32"], ["v128"], [lane]),
    eq: (): void => this.v2("f32x4.eq", 0x41),
    ne: (): void => this.v2("f32x4.ne", 0x42),
    lt: (): void => this.v2("f32x4.lt", 0x43),
    gt: (): void => this.v2("f32x4.gt", 0x44),
    le: (): void => this.v2("f32x4.le", 0x45),
    ge: (): void => this.v2("f32x4.ge", 0x46),
    ceil: (): void => this.v1("f32x4.ceil", 0x67),
    floor: (): void => this.v1("f32x4.floor", 0x68),
    trunc: (): void => this.v1("f32x4.trunc", 0x69),
    nearest: (): void => this.v1("f32x4.nearest", 0x6a),
    abs: (): void => this.v1("f32x4.abs", 0xe0),
    neg: (): void => this.v1("f32x4.neg", 0xe1),
    sqrt: (): void => this.v1("f32x4.sqrt", 0xe3),
    add: (): void => this.v2("f32x4.add", 0xe4),
    sub: (): void => this.v2("f32x4.sub", 0xe5),
    mul: (): void => this.v2("f32x4.mul", 0xe6),
    div: (): void => this.v2("f32x4.div", 0xe7),
    /**
     * Relaxed SIMD: [a, b, c] -> a * b + c, fused (one rounding) where the
     * hardware has FMA, else a multiply and an add; either way the same on
     * every run of one machine. Only where wasmFeatures().relaxedSimd.
     */
    relaxed_madd: (): void => this.simd("f32x4.relaxed_madd", 0x105, ["v128", "v128", "v128"], ["v128"]),
    /** IEEE minimum and maximum: NaN if either lane is NaN. */
    min: (): void => this.v2("f32x4.min", 0xe8),
    max: (): void => this.v2("f32x4.max", 0xe9),
    /** b < a ? b : a, and a < b ? b : a: one instruction on x86, NaN-unaware. */
    pmin: (): void => this.v2("f32x4.pmin", 0xea),
    pmax: (): void => this.v2("f32x4.pmax", 0xeb),
    convert_i32x4_s: (): void => this.v1("f32x4.convert_i32x4_s", 0xfa),
    convert_i32x4_u: (): void => this.v1("f32x4.convert_i32x4_u", 0xfb),
    /** The two f64 lanes rounded to f32 in lanes 0 and 1; lanes 2 and 3 are zero. */
    demote_f64x2_zero: (): void => this.v1("f32x4.demote_f64x2_zero", 0x5e),
  };

  readonly f64x2 = {
    /** f32 lanes 0 and 1 widened to f64 (exactly). */
    promote_low_f32x4: (): void => this.v1("f64x2.promote_low_f32x4", 0x5f),
    nearest: (): void => this.v1("f64x2.nearest", 0x94),
    add: (): void => this.v2("f64x2.add", 0xf0),
    sub: (): void => this.v2("f64x2.sub", 0xf1),
    mul: (): void => this.v2("f64x2.mul", 0xf2),
    div: (): void => this.v2("f64x2.div", 0xf3),
  };

  readonly i32x4 = {
    splat: (): void => this.simd("i32x4.splat", 0x11, ["i32"], ["v128"]),
    extract_lane: (lane: 0 | 1 | 2 | 3): void => this.simd(`i32x4.extract_lane ${lane}`, 0x1b, ["v128"], ["i32"], [lane]),
    replace_lane: (lane: 0 | 1 | 2 | 3): void => this.simd(`i32x4.replace_lane ${lane}`, 0x1c, ["v128", "i32"], ["v128"], [lane]),
    eq: (): void => this.v2("i32x4.eq", 0x37),
    ne: (): void => this.v2("i32x4.ne", 0x38),
    lt_s: (): void => this.v2("i32x4.lt_s", 0x39),
    lt_u: (): void => this.v2("i32x4.lt_u", 0x3a),
    gt_s: (): void => this.v2("i32x4.gt_s", 0x3b),
    gt_u: (): void => this.v2("i32x4.gt_u", 0x3c),
    le_s: (): void => this.v2("i32x4.le_s", 0x3d),
    ge_s: (): void => this.v2("i32x4.ge_s", 0x3f),
    abs: (): void => this.v1("i32x4.abs", 0xa0),
    neg: (): void => this.v1("i32x4.neg", 0xa1),
    all_true: (): void => this.simd("i32x4.all_true", 0xa3, ["v128"], ["i32"]),
    bitmask: (): void => this.simd("i32x4.bitmask", 0xa4, ["v128"], ["i32"]),
    /** [vector, i32 count] shifts. */
    shl: (): void => this.simd("i32x4.shl", 0xab, ["v128", "i32"], ["v128"]),
    shr_s: (): void => this.simd("i32x4.shr_s", 0xac, ["v128", "i32"], ["v128"]),
    shr_u: (): void => this.simd("i32x4.shr_u", 0xad, ["v128", "i32"], ["v128"]),
    add: (): void => this.v2("i32x4.add", 0xae),
    sub: (): void => this.v2("i32x4.sub", 0xb1),
    mul: (): void => this.v2("i32x4.mul", 0xb5),
    min_s: (): void => this.v2("i32x4.min_s", 0xb6),
    min_u: (): void => this.v2("i32x4.min_u", 0xb7),
    max_s: (): void => this.v2("i32x4.max_s", 0xb8),
    max_u: (): void => this.v2("i32x4.max_u", 0xb9),
    /** Toward zero, saturating; NaN becomes 0. */
    trunc_sat_f32x4_s: (): void => this.v1("i32x4.trunc_sat_f32x4_s", 0xf8),
    trunc_sat_f32x4_u: (): void => this.v1("i32x4.trunc_sat_f32x4_u", 0xf9),
  };

  readonly i64x2 = {
    /** The full 64-bit products of lanes 0 and 1 (low) or 2 and 3 (high) of two u32x4. */
    extmul_low_i32x4_u: (): void => this.v2("i64x2.extmul_low_i32x4_u", 0xde),
    extmul_high_i32x4_u: (): void => this.v2("i64x2.extmul_high_i32x4_u", 0xdf),
    shr_u: (): void => this.simd("i64x2.shr_u", 0xcd, ["v128", "i32"], ["v128"]),
  };

  /** call of function `index` of the module, whose parameter and result types the caller states. */
  call(index: number, params: readonly ValType[], results: readonly ValType[]): void {
    this.op(`call ${index}`, [0x10, ...encodeU32(index)], params, results);
  }

  // ---- control ----

  private enter(kind: Label["kind"], opcode: number, body: (label: Label) => void): void {
    const label = new Label(kind);
    this.op(kind, [opcode, EMPTY_BLOCK], kind === "if" ? ["i32"] : [], []);
    this.frames.push({ label, height: this.stack.length, unreachable: false });
    body(label);
    this.leave(kind);
  }

  /** Pops a frame, checking it left the stack as it found it (blocks yield nothing). */
  private leave(text: string): void {
    const frame = this.frames.pop()!;
    if (this.stack.length !== frame.height) {
      throw new Error(`${this.name}: ${text} ends with ${this.stack.length - frame.height} value(s) left on the stack (${this.stack.slice(frame.height).join(", ")})`);
    }
    this.code.push(0x0b);
    this.line("end");
  }

  /** block ... end: `br label` inside jumps past the end. */
  block(body: (label: Label) => void): void {
    this.enter("block", 0x02, body);
  }

  /** loop ... end: `br label` inside jumps back to the start. */
  loop(body: (label: Label) => void): void {
    this.enter("loop", 0x03, body);
  }

  /** if ... [else ...] end, on an i32 condition popped from the stack. */
  if(then: (label: Label) => void, otherwise?: (label: Label) => void): void {
    const label = new Label("if");
    this.op("if", [0x04, EMPTY_BLOCK], ["i32"], []);
    this.frames.push({ label, height: this.stack.length, unreachable: false });
    then(label);
    if (otherwise) {
      const frame = this.frames[this.frames.length - 1]!;
      if (this.stack.length !== frame.height) throw new Error(`${this.name}: the then-branch of an if leaves values on the stack`);
      frame.unreachable = false;
      this.code.push(0x05);
      this.line("else", this.frames.length - 1);
      otherwise(label);
    }
    this.leave("if");
  }

  private depth(label: Label): number {
    for (let i = this.frames.length - 1; i >= 0; i--) if (this.frames[i]!.label === label) return this.frames.length - 1 - i;
    throw new Error(`${this.name}: branch to a label that is not enclosing`);
  }

  private markUnreachable(): void {
    const frame = this.frames[this.frames.length - 1]!;
    this.stack.length = frame.height;
    frame.unreachable = true;
  }

  br(label: Label): void {
    this.op(`br ${this.depth(label)}`, [0x0c, ...encodeU32(this.depth(label))], [], []);
    this.markUnreachable();
  }

  br_if(label: Label): void {
    this.op(`br_if ${this.depth(label)}`, [0x0d, ...encodeU32(this.depth(label))], ["i32"], []);
  }

  return(): void {
    for (let i = this.results.length - 1; i >= 0; i--) this.pop(this.results[i]!, "return");
    this.code.push(0x0f);
    this.line("return");
    this.markUnreachable();
  }

  // ---- output ----

  /** The function's code-section entry: locals, then the body and its final end. */
  encode(): Uint8Array {
    if (this.frames.length !== 1) throw new Error(`${this.name}: unclosed block`);
    const frame = this.frames[0]!;
    const left = this.stack.slice(frame.height);
    const fits = left.length === this.results.length && left.every((t, i) => t === this.results[i]);
    if (!fits && !(frame.unreachable && left.length === 0)) {
      throw new Error(`${this.name}: the body leaves [${left.join(", ")}] but the function returns [${this.results.join(", ")}]`);
    }
    const groups: number[][] = [];
    for (let i = 0; i < this.locals.length; ) {
      let j = i;
      while (j < this.locals.length && this.locals[j]!.type === this.locals[i]!.type) j++;
      groups.push([...encodeU32(j - i), VALTYPE[this.locals[i]!.type]]);
      i = j;
    }
    const locals = encodeVec(groups);
    return concat([encodeU32(locals.length + this.code.length + 1), locals, this.code, [0x0b]]);
  }

  toText(): string {
    const params = this.params.map((p) => ` (param $${p.name} ${p.type})`).join("");
    const results = this.results.length ? ` (result ${this.results.join(" ")})` : "";
    const locals = this.locals.map((l) => `  (local $${l.name} ${l.type})\n`).join("");
    const body = this.text ? this.lines.join("\n") : "  ;; (text not recorded)";
    return `(func $${this.name}${params}${results}\n${locals}${body})`;
  }
}

// ---- modules -------------------------------------------------------------------

export interface MemoryImport {
  readonly module: string;
  readonly name: string;
  /** Sizes in 64 KiB pages; a shared memory needs a maximum. */
  readonly initial: number;
  readonly maximum?: number;
  readonly shared?: boolean;
}

export class ModuleBuilder {
  private memory: MemoryImport | undefined;

  /** `text`: record each instruction's text for toText() (off for kernels emitted per plan, where it is a third of the emission time). */
  constructor(private readonly text = true) {}

  private readonly functions: { readonly builder: FunctionBuilder; readonly exported: boolean }[] = [];

  /** Imports the module's one linear memory. */
  importMemory(memory: MemoryImport): this {
    if (memory.shared && memory.maximum === undefined) throw new Error("a shared memory needs a maximum size");
    this.memory = memory;
    return this;
  }

  /** Adds a function, exported under its name unless `exported` is false, and returns its index. */
  function(
    name: string,
    params: readonly (readonly [string, ValType])[],
    results: readonly ValType[],
    body: (f: FunctionBuilder) => void,
    exported = true,
  ): number {
    const builder = new FunctionBuilder(name, params, results, this.text);
    body(builder);
    this.functions.push({ builder, exported });
    return this.functions.length - 1;
  }

  toBytes(): Uint8Array {
    const types: string[] = [];
    const typeBytes: number[][] = [];
    const typeOf = this.functions.map(({ builder: f }) => {
      const bytes = [0x60, ...encodeVec(f.params.map((p) => [VALTYPE[p.type]])), ...encodeVec(f.results.map((t) => [VALTYPE[t]]))];
      const key = bytes.join(",");
      let index = types.indexOf(key);
      if (index < 0) {
        index = types.push(key) - 1;
        typeBytes.push(bytes);
      }
      return index;
    });
    const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    append(out, section(1, encodeVec(typeBytes)));
    if (this.memory) {
      const m = this.memory;
      const flags = (m.maximum !== undefined ? 1 : 0) | (m.shared ? 2 : 0);
      const limits = [flags, ...encodeU32(m.initial), ...(m.maximum !== undefined ? encodeU32(m.maximum) : [])];
      out.push(...section(2, encodeVec([[...encodeName(m.module), ...encodeName(m.name), 0x02, ...limits]])));
    }
    append(out, section(3, encodeVec(typeOf.map((t) => encodeU32(t)))));
    const exports = this.functions.flatMap(({ builder, exported }, i) => (exported ? [[...encodeName(builder.name), 0x00, ...encodeU32(i)]] : []));
    append(out, section(7, encodeVec(exports)));
    const bodies = this.functions.map(({ builder }) => builder.encode());
    const count = encodeU32(bodies.length);
    const size = bodies.reduce((n, b) => n + b.length, count.length);
    return concat([out, [10, ...encodeU32(size)], count, ...bodies]);
  }

  /** The module in a WAT-like text form, for dumps and failing tests. */
  toText(): string {
    const m = this.memory;
    const memory = m ? `  (import "${m.module}" "${m.name}" (memory ${m.initial}${m.maximum !== undefined ? " " + m.maximum : ""}${m.shared ? " shared" : ""}))\n` : "";
    const fns = this.functions.map(({ builder }) => builder.toText().replace(/^/gm, "  ")).join("\n");
    return `(module\n${memory}${fns})\n`;
  }
}
