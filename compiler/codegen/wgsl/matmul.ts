// Tiled matmul: a 64x64 output tile per workgroup of 256 threads, each thread
// a 4x4 block of accumulators in registers, the K axis walked in steps of 16
// through workgroup memory. Either operand may be read transposed (no copy);
// sizes that are not multiples of the tile are guarded. The epilogue (bias,
// activation, the activation's derivative, an optimizer update) is the fused
// expression of the kernel's outputs, evaluated on the accumulators.

import { numel, type Dim } from "../../../runtime/program/dim.js";
import type { GpuKernel } from "../../../runtime/program/gpu.js";
import type { Node, NodeOf } from "../../ir/node.js";
import { dimExpr } from "./index-math.js";
import { KernelBuilder, type KernelEnv } from "./kernel.js";

const T = 64; // tile rows and columns
const KT = 16; // tile depth
const R = 4; // accumulators per thread per axis
const THREADS = (T / R) * (T / R);

export function matmulKernel(env: KernelEnv, name: string, mm: NodeOf<"matmul">, outputs: readonly Node[]): GpuKernel {
  const k = new KernelBuilder(env, name, [...outputs, mm]);
  k.noteOp("matmul");
  const e = k.emitter;
  const [a, b] = mm.inputs as [Node, Node];
  const { transA, transB } = mm.attrs;
  const r = mm.shape.length;
  const M = dimExpr(mm.shape[r - 2]!);
  const N = dimExpr(mm.shape[r - 1]!);
  const Kd: Dim = transA ? a.shape[r - 2]! : a.shape[r - 1]!;
  const K = dimExpr(Kd);
  const batch = numel(mm.shape.slice(0, -2));
  const A = k.readBuffer(a)!;
  const B = k.readBuffer(b)!;
  const preamble = `var<workgroup> As: array<f32, ${KT * T}>;\nvar<workgroup> Bs: array<f32, ${KT * T}>;`;

  e.line(`let tilesN = (${N} + ${T - 1}u) / ${T}u;`);
  e.line(`let tiles = ((${M} + ${T - 1}u) / ${T}u) * tilesN;`);
  e.line(`let bt = wg / tiles;`);
  e.line(`if (bt >= ${dimExpr(batch)}) { return; }`);
  e.line(`let t = wg % tiles;`);
  e.line(`let m0 = (t / tilesN) * ${T}u;`);
  e.line(`let n0 = (t % tilesN) * ${T}u;`);
  e.line(`let aBase = bt * ${M} * ${K};`);
  e.line(`let bBase = bt * ${K} * ${N};`);
  e.line(`let tx = lid % ${T / R}u;`);
  e.line(`let ty = lid / ${T / R}u;`);
  for (let i = 0; i < R; i++) e.line(`var acc${i} = vec4f(0.0);`);
  e.block(`for (var k0 = 0u; k0 < ${K}; k0 = k0 + ${KT}u)`, () => {
    // Each thread loads 4 elements of each tile, walking memory contiguously.
    for (let l = 0; l < (KT * T) / THREADS; l++) {
      const idx = `(lid + ${l * THREADS}u)`;
      // A tile: element (mm, kk) of op(A); stored [M, K] (contiguous in k) or, transposed, [K, M].
      const [mmA, kkA] = transA ? [`${idx} % ${T}u`, `${idx} / ${T}u`] : [`${idx} / ${KT}u`, `${idx} % ${KT}u`];
      e.block("", () => {
        e.line(`let mm = ${mmA}; let kk = ${kkA}; let m = m0 + mm; let kq = k0 + kk;`);
        e.line(`var v = 0.0;`);
        e.line(`if (m < ${M} && kq < ${K}) { v = ${A}[aBase + ${transA ? `kq * ${M} + m` : `m * ${K} + kq`}]; }`);
        e.line(`As[kk * ${T}u + mm] = v;`);
      });
      const [kkB, nnB] = transB ? [`${idx} % ${KT}u`, `${idx} / ${KT}u`] : [`${idx} / ${T}u`, `${idx} % ${T}u`];
      e.block("", () => {
        e.line(`let kk = ${kkB}; let nn = ${nnB}; let n = n0 + nn; let kq = k0 + kk;`);
        e.line(`var v = 0.0;`);
        e.line(`if (n < ${N} && kq < ${K}) { v = ${B}[bBase + ${transB ? `n * ${K} + kq` : `kq * ${N} + n`}]; }`);
        e.line(`Bs[kk * ${T}u + nn] = v;`);
      });
    }
    e.line("workgroupBarrier();");
    e.block(`for (var kk = 0u; kk < ${KT}u; kk = kk + 1u)`, () => {
      e.line(`let bv = vec4f(Bs[kk * ${T}u + tx * ${R}u], Bs[kk * ${T}u + tx * ${R}u + 1u], Bs[kk * ${T}u + tx * ${R}u + 2u], Bs[kk * ${T}u + tx * ${R}u + 3u]);`);
      for (let i = 0; i < R; i++) e.line(`acc${i} = acc${i} + As[kk * ${T}u + ty * ${R}u + ${i}u] * bv;`);
    });
    e.line("workgroupBarrier();");
  });
  // The epilogue, per accumulator: the outputs at the accumulator's flat index.
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < R; j++) {
      e.block("", () => {
        e.line(`let m = m0 + ty * ${R}u + ${i}u;`);
        e.line(`let n = n0 + tx * ${R}u + ${j}u;`);
        e.block(`if (m < ${M} && n < ${N})`, () => {
          e.line(`let el = (bt * ${M} + m) * ${N} + n;`);
          k.setLocal(mm, "el", `acc${i}[${j}]`);
          for (const o of outputs) if (o !== mm) k.store(o, "el");
          if (outputs.includes(mm)) {
            e.line(`${k.writeBuffer(mm)}[el] = acc${i}[${j}];`);
          }
        });
      });
    }
  }
  // One workgroup per 64x64 tile per batch element.
  const grid = [{ size: batch, per: 1 }, { size: mm.shape[r - 2]!, per: T }, { size: mm.shape[r - 1]!, per: T }];
  return k.build({ workgroupSize: THREADS, grid, preamble, body: e.code() });
}

