// The assembler against the binary format: LEB128 against the spec's
// examples, modules that validate and compute small known functions (scalar
// i32/f32, control flow, memory, every SIMD op it emits), the operand-stack
// type checks that refuse bad code at the line that emits it, and the probes.

import test from "ava";
import { requireWasm, type WasmMemory } from "../../../runtime/wasm/api.js";
import { encodeS32, encodeU32, ModuleBuilder, type FunctionBuilder, type Local, type ValType } from "../../../runtime/wasm/assembler.js";
import { relaxedSimdProbe, sharedMemoryProbe, simdProbe, wasmFeatures } from "../../../runtime/wasm/features.js";

const api = requireWasm();

function instantiate(m: ModuleBuilder, memory?: WasmMemory): Record<string, unknown> {
  const bytes = m.toBytes();
  if (!api.validate(bytes)) throw new Error(`invalid module:\n${m.toText()}`);
  return new api.Instance(new api.Module(bytes), memory ? { env: { memory } } : {}).exports;
}

/** A module of one exported function `f`. */
function single(params: readonly (readonly [string, ValType])[], results: readonly ValType[], body: (f: FunctionBuilder, p: readonly Local[]) => void, memory?: WasmMemory): (...args: number[]) => number {
  const m = new ModuleBuilder();
  if (memory) m.importMemory({ module: "env", name: "memory", initial: 1 });
  m.function("f", params, results, (f) => body(f, f.params));
  return instantiate(m, memory)["f"] as (...args: number[]) => number;
}

test("LEB128 encodes as the spec's examples", (t) => {
  t.deepEqual(encodeU32(0), [0]);
  t.deepEqual(encodeU32(127), [0x7f]);
  t.deepEqual(encodeU32(128), [0x80, 0x01]);
  t.deepEqual(encodeU32(624485), [0xe5, 0x8e, 0x26]);
  t.deepEqual(encodeU32(0xffffffff), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  t.deepEqual(encodeS32(0), [0]);
  t.deepEqual(encodeS32(-1), [0x7f]);
  t.deepEqual(encodeS32(63), [0x3f]);
  t.deepEqual(encodeS32(64), [0xc0, 0x00]);
  t.deepEqual(encodeS32(-64), [0x40]);
  t.deepEqual(encodeS32(-65), [0xbf, 0x7f]);
  t.deepEqual(encodeS32(-123456), [0xc0, 0xbb, 0x78]);
  t.deepEqual(encodeS32(-0x80000000), [0x80, 0x80, 0x80, 0x80, 0x78]);
  t.throws(() => encodeU32(-1));
  t.throws(() => encodeS32(2 ** 31));
});

test("an empty module and a scalar i32 function validate and run", (t) => {
  t.true(api.validate(new ModuleBuilder().toBytes()));
  const f = single([["a", "i32"], ["b", "i32"]], ["i32"], (f, [a, b]) => {
    f.get(a!);
    f.get(b!);
    f.i32.mul();
    f.i32.const(-70000);
    f.i32.add();
  });
  t.is(f(300, 7), 2100 - 70000);
  t.is(f(-3, 5), -70015);
  const divRem = single([["a", "i32"], ["b", "i32"]], ["i32"], (f, [a, b]) => {
    // (a / b) * 1000 + a % b, unsigned
    f.get(a!);
    f.get(b!);
    f.i32.div_u();
    f.i32.const(1000);
    f.i32.mul();
    f.get(a!);
    f.get(b!);
    f.i32.rem_u();
    f.i32.add();
  });
  t.is(divRem(47, 5), 9002);
  t.is(divRem(4, 9), 4);
});

test("a counted loop sums 1..n, and if/else computes |x| in f32", (t) => {
  const sum = single([["n", "i32"]], ["i32"], (f, [n]) => {
    const s = f.addLocal("i32", "s");
    f.block((done) => {
      f.get(n!);
      f.i32.eqz();
      f.br_if(done);
      f.loop((again) => {
        f.get(s);
        f.get(n!);
        f.i32.add();
        f.set(s);
        f.get(n!);
        f.i32.const(1);
        f.i32.sub();
        f.local.tee(n!);
        f.br_if(again);
      });
    });
    f.get(s);
  });
  t.is(sum(0), 0);
  t.is(sum(1), 1);
  t.is(sum(100), 5050);
  const abs = single([["x", "f32"], ["early", "i32"]], ["f32"], (f, [x, early]) => {
    const r = f.addLocal("f32", "r");
    f.get(x!);
    f.f32.const(0);
    f.f32.max();
    f.get(x!);
    f.f32.const(0);
    f.f32.min();
    f.f32.sub();
    f.set(r);
    // an if/else that returns early from one branch; the other multiplies by select(1, 0, early) = 0
    f.get(early!);
    f.if(
      () => {
        f.get(r);
        f.return();
      },
      () => {
        f.get(r);
        f.f32.const(1);
        f.f32.const(0);
        f.get(early!);
        f.select("f32");
        f.f32.mul();
        f.set(r);
      },
    );
    f.get(r);
  });
  t.is(abs(-2.5, 1), 2.5);
  t.is(abs(3, 1), 3);
  t.is(abs(3, 0), 0);
});

test("f32 and SIMD loads and stores over an imported memory", (t) => {
  const memory = new api.Memory({ initial: 1 });
  const heap = new Float32Array(memory.buffer);
  heap.set([1, 2, 3, 4, 5, 6, 7, 8, 10]);
  // out[12..16) = max(x, y) * splat(x[8]) - min(x, y) + splat(2), then returns lane 2 + f32 out[13].
  const f = single([], ["f32"], (f) => {
    const x = f.addLocal("v128", "x");
    const y = f.addLocal("v128", "y");
    f.i32.const(0);
    f.v128.load();
    f.set(x);
    f.i32.const(0);
    f.v128.load(16);
    f.set(y);
    f.i32.const(48);
    f.get(x);
    f.get(y);
    f.f32x4.max();
    f.i32.const(0);
    f.v128.load32_splat(32);
    f.f32x4.mul();
    f.get(x);
    f.get(y);
    f.f32x4.min();
    f.f32x4.sub();
    f.f32.const(2);
    f.f32x4.splat();
    f.f32x4.add();
    f.v128.store();
    f.i32.const(48);
    f.v128.load();
    f.f32x4.extract_lane(2);
    f.i32.const(0);
    f.f32.load(52);
    f.f32.add();
  }, memory);
  t.is(f(), 7 * 10 - 3 + 2 + (6 * 10 - 2 + 2));
  t.deepEqual([...heap.subarray(12, 16)], [5 * 10 - 1 + 2, 60, 69, 80 - 4 + 2]);
});

test("the operand-stack checks refuse bad code where it is emitted", (t) => {
  const m = new ModuleBuilder();
  t.throws(
    () =>
      m.function("bad", [["x", "f32"]], [], (f) => {
        f.get(f.params[0]!);
        f.i32.const(1);
        f.i32.add();
      }),
    { message: /bad: i32\.add expects i32 on the stack, found f32/ },
  );
  t.throws(() => m.function("empty", [], [], (f) => f.f32x4.add()), { message: /f32x4\.add expects v128 on the stack, but it is empty/ });
  t.throws(() => m.function("leftover", [], [], (f) => f.block(() => f.i32.const(1))), { message: /block ends with 1 value/ });
  t.throws(() => m.function("store", [], [], (f) => (f.f32.const(1), f.i32.const(0), f.f32.store())), { message: /f32\.store expects f32 on the stack, found i32/ });
  t.throws(() => m.function("shared", [], [], () => new ModuleBuilder().importMemory({ module: "env", name: "memory", initial: 1, shared: true })));
  const g = new ModuleBuilder();
  g.function("result", [], ["i32"], () => {});
  t.throws(() => g.toBytes(), { message: /result: the body leaves \[\] but the function returns \[i32\]/ });
  const h = new ModuleBuilder();
  h.function("label", [], [], (f) => {
    let outer: Parameters<FunctionBuilder["br"]>[0] | undefined;
    f.block((l) => (outer = l));
    t.throws(() => f.br(outer!), { message: /not enclosing/ });
  });
});

test("toText lists the module in WAT-like form", (t) => {
  const m = new ModuleBuilder().importMemory({ module: "env", name: "memory", initial: 1, maximum: 4, shared: true });
  m.function("k", [["p", "i32"]], [], (f) => {
    f.loop((l) => {
      f.get(f.params[0]!);
      f.br_if(l);
    });
  });
  const text = m.toText();
  t.regex(text, /\(import "env" "memory" \(memory 1 4 shared\)\)/);
  t.regex(text, /\(func \$k \(param \$p i32\)/);
  t.regex(text, /loop\n\s+local\.get \$p\n\s+br_if 0\n\s+end/);
});

test("the feature probes: SIMD128, shared memory and relaxed SIMD in this Node", (t) => {
  t.true(api.validate(simdProbe()));
  t.true(api.validate(sharedMemoryProbe()));
  const features = wasmFeatures();
  // Relaxed SIMD too: on Node 20 the probe turns on V8's flag for it.
  t.deepEqual(features, { wasm: true, simd: true, sharedMemory: true, relaxedSimd: true });
  t.true(api.validate(relaxedSimdProbe()));
  // A module importing a shared memory instantiates against one.
  const memory = new api.Memory({ initial: 1, maximum: 1, shared: true });
  t.notThrows(() => new api.Instance(new api.Module(sharedMemoryProbe()), { env: { memory } }));
});

/** Runs `op` on vectors a (and b) stored at bytes 0 and 16 of a fresh memory, returning the result's four lanes as i32 bits. */
function lanes(op: (f: FunctionBuilder) => void, arity: 1 | 2, a: Int32Array, b = new Int32Array(4)): Int32Array {
  const memory = new api.Memory({ initial: 1 });
  const f = single([], [], (f) => {
    f.i32.const(32);
    f.i32.const(0);
    f.v128.load();
    if (arity === 2) {
      f.i32.const(16);
      f.v128.load();
    }
    op(f);
    f.v128.store();
  }, memory);
  const ints = new Int32Array(memory.buffer);
  ints.set(a, 0);
  ints.set(b, 4);
  f();
  return ints.slice(8, 12);
}

const bitsOf = (xs: readonly number[]) => new Int32Array(Float32Array.from(xs).buffer);
const floatsOf = (bits: Int32Array) => Array.from(new Float32Array(bits.buffer));

test("every SIMD lane op computes what its name says, lane by lane", (t) => {
  const x = [1.5, -2.25, 0, 9];
  const y = [0.5, -2.25, -3, 16];
  const f2: [string, (f: FunctionBuilder) => void, (a: number, b: number) => number][] = [
    ["f32x4.div", (f) => f.f32x4.div(), (a, b) => a / b],
    ["f32x4.pmax", (f) => f.f32x4.pmax(), (a, b) => (a < b ? b : a)],
    ["f32x4.pmin", (f) => f.f32x4.pmin(), (a, b) => (b < a ? b : a)],
  ];
  for (const [name, op, ref] of f2) t.deepEqual(floatsOf(lanes(op, 2, bitsOf(x), bitsOf(y))), x.map((a, i) => Math.fround(ref(a, y[i]!))), name);
  const f1: [string, (f: FunctionBuilder) => void, (a: number) => number][] = [
    ["f32x4.abs", (f) => f.f32x4.abs(), Math.abs],
    ["f32x4.neg", (f) => f.f32x4.neg(), (a) => (a === 0 ? 0 : -a)], // deepEqual tells -0 from 0; neg flips the sign bit
    ["f32x4.floor", (f) => f.f32x4.floor(), Math.floor],
    ["f32x4.ceil", (f) => f.f32x4.ceil(), Math.ceil],
    ["f32x4.trunc", (f) => f.f32x4.trunc(), Math.trunc],
    ["f32x4.nearest", (f) => f.f32x4.nearest(), (a) => (Math.abs(a % 1) === 0.5 ? 2 * Math.round(a / 2) : Math.round(a))],
  ];
  for (const [name, op, ref] of f1) t.deepEqual(floatsOf(lanes(op, 1, bitsOf(x))).map((v) => v + 0), x.map((a) => ref(a) + 0), name);
  const sqrt = floatsOf(lanes((f) => f.f32x4.sqrt(), 1, bitsOf([4, 2, 0, 9])));
  t.deepEqual(sqrt, [2, Math.fround(Math.SQRT2), 0, 3]);
  const cmp: [string, (f: FunctionBuilder) => void, (a: number, b: number) => boolean][] = [
    ["f32x4.eq", (f) => f.f32x4.eq(), (a, b) => a === b],
    ["f32x4.ne", (f) => f.f32x4.ne(), (a, b) => a !== b],
    ["f32x4.lt", (f) => f.f32x4.lt(), (a, b) => a < b],
    ["f32x4.gt", (f) => f.f32x4.gt(), (a, b) => a > b],
    ["f32x4.le", (f) => f.f32x4.le(), (a, b) => a <= b],
    ["f32x4.ge", (f) => f.f32x4.ge(), (a, b) => a >= b],
  ];
  for (const [name, op, ref] of cmp) t.deepEqual([...lanes(op, 2, bitsOf(x), bitsOf(y))], x.map((a, i) => (ref(a, y[i]!) ? -1 : 0)), name);

  const p = Int32Array.from([7, -3, 0x7fffffff, -8]);
  const q = Int32Array.from([2, 5, 1, -8]);
  const i2: [string, (f: FunctionBuilder) => void, (a: number, b: number) => number][] = [
    ["i32x4.add", (f) => f.i32x4.add(), (a, b) => (a + b) | 0],
    ["i32x4.sub", (f) => f.i32x4.sub(), (a, b) => (a - b) | 0],
    ["i32x4.mul", (f) => f.i32x4.mul(), Math.imul],
    ["i32x4.min_s", (f) => f.i32x4.min_s(), Math.min],
    ["i32x4.max_s", (f) => f.i32x4.max_s(), Math.max],
    ["i32x4.min_u", (f) => f.i32x4.min_u(), (a, b) => ((a >>> 0) < (b >>> 0) ? a : b)],
    ["i32x4.max_u", (f) => f.i32x4.max_u(), (a, b) => ((a >>> 0) > (b >>> 0) ? a : b)],
    ["i32x4.eq", (f) => f.i32x4.eq(), (a, b) => -(a === b)],
    ["i32x4.ne", (f) => f.i32x4.ne(), (a, b) => -(a !== b)],
    ["i32x4.lt_s", (f) => f.i32x4.lt_s(), (a, b) => -(a < b)],
    ["i32x4.lt_u", (f) => f.i32x4.lt_u(), (a, b) => -((a >>> 0) < (b >>> 0))],
    ["i32x4.gt_s", (f) => f.i32x4.gt_s(), (a, b) => -(a > b)],
    ["i32x4.gt_u", (f) => f.i32x4.gt_u(), (a, b) => -((a >>> 0) > (b >>> 0))],
    ["i32x4.le_s", (f) => f.i32x4.le_s(), (a, b) => -(a <= b)],
    ["i32x4.ge_s", (f) => f.i32x4.ge_s(), (a, b) => -(a >= b)],
    ["v128.and", (f) => f.v128.and(), (a, b) => a & b],
    ["v128.andnot", (f) => f.v128.andnot(), (a, b) => a & ~b],
    ["v128.or", (f) => f.v128.or(), (a, b) => a | b],
    ["v128.xor", (f) => f.v128.xor(), (a, b) => a ^ b],
  ];
  for (const [name, op, ref] of i2) t.deepEqual([...lanes(op, 2, p, q)], [...p].map((a, i) => ref(a, q[i]!) | 0), name);
  const i1: [string, (f: FunctionBuilder) => void, (a: number) => number][] = [
    ["i32x4.abs", (f) => f.i32x4.abs(), (a) => Math.abs(a) | 0],
    ["i32x4.neg", (f) => f.i32x4.neg(), (a) => -a | 0],
    ["v128.not", (f) => f.v128.not(), (a) => ~a],
    ["i32x4.shl 3", (f) => (f.i32.const(3), f.i32x4.shl()), (a) => a << 3],
    ["i32x4.shr_s 3", (f) => (f.i32.const(3), f.i32x4.shr_s()), (a) => a >> 3],
    ["i32x4.shr_u 3", (f) => (f.i32.const(3), f.i32x4.shr_u()), (a) => (a >>> 3) | 0],
  ];
  for (const [name, op, ref] of i1) t.deepEqual([...lanes(op, 1, p)], [...p].map(ref), name);

  // Conversions, select, shuffles, constants and 64-bit products.
  t.deepEqual(floatsOf(lanes((f) => f.f32x4.convert_i32x4_s(), 1, Int32Array.from([1, -2, 3, 1 << 24]))), [1, -2, 3, 16777216]);
  t.deepEqual([...lanes((f) => f.i32x4.trunc_sat_f32x4_s(), 1, bitsOf([1.9, -2.9, 3e10, NaN]))], [1, -2, 0x7fffffff, 0]);
  t.deepEqual([...lanes((f) => (f.v128.const_i32x4([-1, 0, -1, 0]), f.v128.bitselect()), 2, p, q)], [7, 5, 0x7fffffff, -8]);
  t.deepEqual([...lanes((f) => f.shuffle([4, 5, 6, 7, 0, 1, 2, 3, 28, 29, 30, 31, 16, 17, 18, 19]), 2, p, q)], [-3, 7, -8, 2]);
  t.deepEqual(floatsOf(lanes((f) => (f.drop("v128"), f.v128.const_f32x4([0.5, -1, 2, 3])), 1, p)), [0.5, -1, 2, 3]);
  const a = Int32Array.from([0xd2511f53 | 0, 3, -1, 0x10000]);
  const b = Int32Array.from([0x12345678, 5, -1, 0x10000]);
  const lo = lanes((f) => f.i64x2.extmul_low_i32x4_u(), 2, a, b);
  const hi = lanes((f) => f.i64x2.extmul_high_i32x4_u(), 2, a, b);
  const product = (x: number, y: number) => BigInt(x >>> 0) * BigInt(y >>> 0);
  const words = (v: Int32Array) => [BigInt(v[0]! >>> 0) | (BigInt(v[1]! >>> 0) << 32n), BigInt(v[2]! >>> 0) | (BigInt(v[3]! >>> 0) << 32n)];
  t.deepEqual(words(lo), [product(a[0]!, b[0]!), product(a[1]!, b[1]!)]);
  t.deepEqual(words(hi), [product(a[2]!, b[2]!), product(a[3]!, b[3]!)]);
  t.deepEqual([...lanes((f) => (f.i32.const(32), f.i64x2.shr_u()), 1, Int32Array.from([1, 2, 3, 4]))], [2, 0, 4, 0]);
  t.is(lanes((f) => (f.i32x4.all_true(), f.i32x4.splat()), 1, p)[0], 1);
  t.is(lanes((f) => (f.i32x4.all_true(), f.i32x4.splat()), 1, q.map((v, i) => (i === 2 ? 0 : v)))[0], 0);
  t.deepEqual([...lanes((f) => (f.i32x4.bitmask(), f.i32x4.splat()), 1, p)], [0b1010, 0b1010, 0b1010, 0b1010]);
});

test("scalar f32 ops, bulk memory and calls between functions", (t) => {
  const memory = new api.Memory({ initial: 1 });
  const m = new ModuleBuilder();
  m.importMemory({ module: "env", name: "memory", initial: 1 });
  const square = m.function("square", [["x", "f32"]], ["f32"], (f) => {
    f.get(f.params[0]!);
    f.get(f.params[0]!);
    f.f32.mul();
  }, false);
  m.function("f", [["x", "f32"]], ["f32"], (f) => {
    f.get(f.params[0]!);
    f.call(square, ["f32"], ["f32"]);
    f.f32.sqrt();
    f.f32.neg();
    f.f32.abs();
    f.f32.const(3);
    f.f32.div();
  });
  m.function("copy", [], [], (f) => {
    f.i32.const(64);
    f.i32.const(0);
    f.i32.const(8);
    f.memory.copy();
    f.i32.const(72);
    f.i32.const(7);
    f.i32.const(4);
    f.memory.fill();
  });
  const exports = instantiate(m, memory);
  t.is((exports["f"] as (x: number) => number)(-6), 2);
  const bytes = new Uint8Array(memory.buffer);
  bytes.set([1, 2, 3, 4, 5, 6, 7, 8]);
  (exports["copy"] as () => void)();
  t.deepEqual([...bytes.slice(64, 76)], [1, 2, 3, 4, 5, 6, 7, 8, 7, 7, 7, 7]);
});
