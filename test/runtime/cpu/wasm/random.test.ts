// emitRandom4 against `randomAt` (runtime/program/philox.ts), bit for bit:
// four lanes of Philox4x32-10 per vector must equal the JavaScript value at
// each index, for runs of indices from 0, across 2^31 (where i32 turns
// negative but the counter is a u32), up to 2^32 − 1 (the last lane wraps to
// 0, as `i >>> 0` does), and at random indices; under salts 0, 1, large and
// with the top bit set, and keys of 0, all ones, the top bit set and random.

import test from "ava";
import type { Local } from "../../../../runtime/wasm/assembler.js";
import { requireWasm } from "../../../../runtime/wasm/api.js";
import { compileKernels } from "../../../../runtime/cpu/wasm/kernel.js";
import { emitRandom4 } from "../../../../runtime/cpu/wasm/random.js";
import { randomAt } from "../../../../runtime/program/philox.js";
import { Random } from "../../../../runtime/random.js";

// Heap: the key at 0, the i32 start indices at 16, the values at 1024 (a run of RUN per start).
const [KEY, STARTS, OUT] = [0, 16, 1024];
const RUN = 64;
const SALTS = [0, 1, 7, 0x12345, 0x7fffffff, 0x80000000, 0xffffffff];

const memory = new (requireWasm().Memory)({ initial: 1 });
const i32 = new Int32Array(memory.buffer);
const f32 = new Float32Array(memory.buffer);

/** One kernel per salt: out[j] = random at start + j, for j < RUN, from the start index in memory. */
const kernels = compileKernels(
  memory,
  SALTS.map((salt) => ({
    name: `random_${salt}`,
    emit: (f) => {
      const [i, j] = [f.addLocal("i32", "i"), f.addLocal("i32", "j")] as [Local, Local];
      f.loop((again) => {
        f.i32.const(STARTS);
        f.i32.load();
        f.get(j);
        f.i32.add();
        f.set(i);
        f.get(j);
        f.i32.const(2);
        f.i32.shl();
        emitRandom4(f, i, salt, KEY);
        f.v128.store(OUT);
        f.get(j);
        f.i32.const(4);
        f.i32.add();
        f.local.tee(j);
        f.i32.const(RUN);
        f.i32.lt_s();
        f.br_if(again);
      });
    },
  })),
);

const rng = new Random(5);
const u32 = (): number => Math.floor(rng.uniform() * 2 ** 32);
const KEYS: readonly [number, number][] = [[0, 0], [-1, -1], [0x80000000 | 0, 1], [1, 0x80000001 | 0], [42, -7], ...Array.from({ length: 4 }, () => [u32() | 0, u32() | 0] as [number, number])];
const STARTS_OF = [0, 1, 2 ** 31 - 2 * RUN, 2 ** 31 - RUN / 2, 2 ** 31, 2 ** 32 - RUN, 2 ** 32 - RUN + 2, ...Array.from({ length: 6 }, u32)];

for (const salt of SALTS) {
  test(`salt ${salt}: bit-identical to randomAt`, (t) => {
    const run = kernels.entries.get(`random_${salt}`)!;
    let checked = 0;
    for (const [k0, k1] of KEYS) {
      for (const start of STARTS_OF) {
        i32[KEY >> 2] = k0;
        i32[(KEY >> 2) + 1] = k1;
        i32[STARTS >> 2] = start | 0;
        f32.fill(NaN, OUT >> 2, (OUT >> 2) + RUN);
        run();
        for (let j = 0; j < RUN; j++) {
          const index = (start + j) >>> 0;
          const expected = Math.fround(randomAt(index, salt, k0, k1));
          const got = f32[(OUT >> 2) + j]!;
          if (got !== expected) return t.fail(`key (${k0}, ${k1}), index ${index}: ${got}, expected ${expected}`);
          checked++;
        }
      }
    }
    t.is(checked, KEYS.length * STARTS_OF.length * RUN);
  });
}
