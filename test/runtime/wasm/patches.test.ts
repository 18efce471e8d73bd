// The convolutions' implicit im2col in WebAssembly against the patch matrix
// built here from its definition: P[(b, oy, ox)][(ky, kx, ch)] =
// x[b, oy·sh − pt + ky·dh, ox·sw − pl + kx·dw, c0 + ch], 0 in the padding.
// Both packers must put exactly P's (or Pᵀ's) block, any range of rows and
// depth (starting mid-tap, mid-panel, ending mid-panel), into the 4-row panel
// layout of f32_pack_4, zeros past the last row; the scatter must add dP's
// rows back into x exactly (every value is a small integer, so sums are
// exact in float32). The module stays under the 4 KB that browsers compile
// synchronously on the main thread.

import test from "ava";
import { createGemmSync, emitGemmModule } from "../../../runtime/wasm/gemm.js";
import { Heap } from "../../../runtime/wasm/heap.js";
import { GEOMETRY_BYTES, writeGeometry, type PatchGeometry } from "../../../runtime/wasm/patches.js";
import { Random } from "../../../runtime/random.js";

interface Case {
  readonly n: number; readonly h: number; readonly w: number; readonly c: number;
  readonly kh: number; readonly kw: number; readonly groups: number;
  readonly sh: number; readonly sw: number; readonly pt: number; readonly pl: number; readonly pb: number; readonly pr: number;
  readonly dh: number; readonly dw: number;
}

const CASES: readonly Case[] = [
  { n: 2, h: 5, w: 4, c: 3, kh: 3, kw: 3, groups: 1, sh: 1, sw: 1, pt: 1, pl: 1, pb: 1, pr: 1, dh: 1, dw: 1 },
  { n: 1, h: 7, w: 9, c: 8, kh: 2, kw: 3, groups: 2, sh: 2, sw: 1, pt: 0, pl: 2, pb: 1, pr: 0, dh: 2, dw: 1 },
  { n: 3, h: 4, w: 6, c: 12, kh: 3, kw: 2, groups: 3, sh: 1, sw: 2, pt: 2, pl: 0, pb: 0, pr: 1, dh: 1, dw: 3 },
  { n: 1, h: 6, w: 6, c: 1, kh: 5, kw: 5, groups: 1, sh: 3, sw: 3, pt: 2, pl: 2, pb: 2, pr: 2, dh: 1, dw: 1 },
  { n: 2, h: 3, w: 3, c: 16, kh: 1, kw: 1, groups: 1, sh: 1, sw: 1, pt: 0, pl: 0, pb: 0, pr: 0, dh: 1, dw: 1 },
];

function dims(k: Case) {
  const oh = Math.floor((k.h + k.pt + k.pb - (k.kh - 1) * k.dh - 1) / k.sh) + 1;
  const ow = Math.floor((k.w + k.pl + k.pr - (k.kw - 1) * k.dw - 1) / k.sw) + 1;
  const cg = k.c / k.groups;
  return { oh, ow, cg, positions: k.n * oh * ow, depth: k.kh * k.kw * cg };
}

/** The x offset of P[p][d] for group grp, or -1 in the padding. */
function source(k: Case, grp: number, p: number, d: number): number {
  const { oh, ow, cg } = dims(k);
  const [ox, oy, b] = [p % ow, Math.floor(p / ow) % oh, Math.floor(p / (ow * oh))];
  const [t, ch] = [Math.floor(d / cg), d % cg];
  const [ky, kx] = [Math.floor(t / k.kw), t % k.kw];
  const iy = oy * k.sh - k.pt + ky * k.dh;
  const ix = ox * k.sw - k.pl + kx * k.dw;
  return iy < 0 || iy >= k.h || ix < 0 || ix >= k.w ? -1 : ((b * k.h + iy) * k.w + ix) * k.c + grp * cg + ch;
}

function geometryOf(k: Case, grp: number, xAt: number, zero: number): PatchGeometry {
  const { oh, ow, cg } = dims(k);
  return { x: xAt + 4 * grp * cg, h: k.h, w: k.w, c: k.c, cg, oh, ow, kh: k.kh, kw: k.kw, sh: k.sh, sw: k.sw, pt: k.pt, pl: k.pl, dh: k.dh, dw: k.dw, zero };
}

const gemm = createGemmSync();
const heap = new Heap(gemm.memory);
heap.reserve(1 << 20);

// Layout: geometry at 0, zeros at 256, x at 1024, panels (or dP) at 65536.
const [ZERO, X, OUT] = [256, 1024, 65536];

/** A range [start, start + len) inside [0, total), from the generator. */
function range(r: Random, total: number): [number, number] {
  const start = r.int(total);
  return [start, 1 + r.int(total - start)];
}

test("packing P and Pᵀ: any block of rows and depth, into 4-row panels, for every group", (t) => {
  const r = new Random(21);
  for (const k of CASES) {
    const { positions, depth, cg } = dims(k);
    const x = Float32Array.from({ length: k.n * k.h * k.w * k.c }, () => 1 + r.int(100));
    const f = heap.f32;
    f.set(x, X >> 2);
    f.fill(0, ZERO >> 2, (ZERO >> 2) + Math.max(cg, 4));
    for (let grp = 0; grp < k.groups; grp++) {
      writeGeometry(heap.i32, 0, geometryOf(k, grp, X, ZERO));
      for (let trial = 0; trial < 12; trial++) {
        for (const transposed of [false, true]) {
          // Rows are positions for P, (tap, channel) for Pᵀ; depth the other way round.
          const [r0, rows] = range(r, transposed ? depth : positions);
          const [d0, len] = range(r, transposed ? positions : depth);
          const panels = Math.ceil(rows / 4);
          f.fill(NaN, OUT >> 2, (OUT >> 2) + panels * 4 * len);
          (transposed ? gemm.patches.packColumns : gemm.patches.packRows)(0, r0, rows, d0, len, OUT);
          const what = `${JSON.stringify(k)} group ${grp} ${transposed ? "Pᵀ" : "P"} rows ${r0}+${rows} depth ${d0}+${len}`;
          let bad: string | undefined;
          for (let q = 0; q < panels * 4 && !bad; q++) {
            for (let p = 0; p < len && !bad; p++) {
              const [pos, d] = transposed ? [d0 + p, r0 + q] : [r0 + q, d0 + p];
              const s = q < rows ? source(k, grp, pos, d) : -1;
              const want = s < 0 ? 0 : x[s]!;
              const got = f[(OUT >> 2) + (q >> 2) * 4 * len + 4 * p + (q & 3)];
              if (got !== want) bad = `${what}: row ${q} depth ${p} is ${got}, expected ${want}`;
            }
          }
          t.is(bad, undefined);
        }
      }
    }
  }
});

test("the scatter adds blocks of dP back into x's layout, skipping the padding", (t) => {
  const r = new Random(22);
  for (const k of CASES) {
    const { positions, depth } = dims(k);
    const size = k.n * k.h * k.w * k.c;
    const f = heap.f32;
    for (let grp = 0; grp < k.groups; grp++) {
      const [p0, rows] = range(r, positions);
      const dP = Float32Array.from({ length: rows * depth }, () => r.int(50) - 25);
      const start = Float32Array.from({ length: size }, () => r.int(10));
      const want = Float64Array.from(start);
      for (let i = 0; i < rows; i++) {
        for (let d = 0; d < depth; d++) {
          const s = source(k, grp, p0 + i, d);
          if (s >= 0) want[s]! += dP[i * depth + d]!;
        }
      }
      f.set(start, X >> 2);
      f.set(dP, OUT >> 2);
      writeGeometry(heap.i32, 0, geometryOf(k, grp, X, -1));
      gemm.patches.scatter(0, p0, rows, OUT);
      t.deepEqual(Array.from(f.subarray(X >> 2, (X >> 2) + size)), Array.from(want), `${JSON.stringify(k)} group ${grp} rows ${p0}+${rows}`);
    }
  }
});

test("the module, patch functions included, stays under 4 KB and names them by what they compute", (t) => {
  const module = emitGemmModule({ initial: 1 });
  t.true(module.toBytes().length < 4096, `${module.toBytes().length} bytes`);
  for (const name of ["f32_pack_patches_4", "f32_pack_patches_t_4", "f32_scatter_patches"]) t.regex(gemm.text, new RegExp(`\\(func \\$${name} `));
  t.is(GEOMETRY_BYTES, 64);
});
