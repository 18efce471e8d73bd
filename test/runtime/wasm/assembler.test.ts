// The assembler against the binary format: LEB128 against the spec's
// examples, modules that validate and compute small known functions (scalar
// i32/f32, control flow, memory, every SIMD op it emits), the operand-stack
// type checks that refuse bad code at the line that emits it, and the probes.

import test from "ava";
import { requireWasm, type WasmMemory } from "../../../runtime/wasm/api.js";
import { encodeS32, encodeU32, ModuleBuilder, type FunctionBuilder, type Local, type ValType } from "../../../runtime/wasm/assembler.js";
import { sharedMemoryProbe, simdProbe, wasmFeatures } from "../../../runtime/wasm/features.js";

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

test("the feature probes: SIMD128 and shared memory in this Node", (t) => {
  t.true(api.validate(simdProbe()));
  t.true(api.validate(sharedMemoryProbe()));
  const features = wasmFeatures();
  t.deepEqual(features, { wasm: true, simd: true, sharedMemory: true });
  // A module importing a shared memory instantiates against one.
  const memory = new api.Memory({ initial: 1, maximum: 1, shared: true });
  t.notThrows(() => new api.Instance(new api.Module(sharedMemoryProbe()), { env: { memory } }));
});
