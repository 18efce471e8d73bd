// The implicit im2col of a convolution, in WebAssembly: packers that copy a
// block of the patch matrix P of an NHWC input x (one row per output
// position, one column per (tap, channel) in the kernel's (ky, kx, c) order)
// straight into the GEMM's 4-row panels, and the scatter that adds a block of
// patch gradients back into x's layout (col2im). P is never built.
//
// Each function reads the convolution's geometry from a 64-byte block of i32
// fields in memory (GEOMETRY_FIELDS; `writeGeometry` fills it), so the window
// arithmetic of runtime/cpu/kernels/patches.ts runs here, per row and tap:
// tap (ky, kx) of output position (b, oy, ox) reads x[b, oy·sh − pt + ky·dh,
// ox·sw − pl + kx·dw, c0 ..]. A tap in the padding reads from a block of
// zeros instead, so the copy loops have no edge cases. Groups are a base
// address: `x` points at channel c0 of the group, `c` stays x's row stride.
//
// - f32_pack_patches_4 packs rows of P (positions) over a range of its depth:
//   the A operand of conv2d. Per (row, tap) a run of channels.
// - f32_pack_patches_t_4 packs rows of Pᵀ ((tap, channel) pairs) over a range
//   of positions: the A operand of conv2dFilterGrad. Where a panel's four rows
//   are four channels of one tap (always, when the group's channels are a
//   multiple of 4) each position is one v128 copy; else lane by lane.
// - f32_scatter_patches adds rows of dP (dense, kh·kw·cg wide) into x's
//   layout, v128 by v128: the col2im of conv2dInputGrad.

import type { FunctionBuilder, Local, ModuleBuilder } from "./assembler.js";

/** The i32 fields of the geometry block, in order (byte offset 4 × index). */
export const GEOMETRY_FIELDS = ["x", "h", "w", "c", "cg", "oh", "ow", "kh", "kw", "sh", "sw", "pt", "pl", "dh", "dw", "zero"] as const;
export type PatchGeometry = { readonly [F in (typeof GEOMETRY_FIELDS)[number]]: number };
export const GEOMETRY_BYTES = 4 * GEOMETRY_FIELDS.length;

/** Writes `g` as the block at byte `at` (a multiple of 4) of `heap`. */
export function writeGeometry(heap: Int32Array, at: number, g: PatchGeometry): void {
  GEOMETRY_FIELDS.forEach((f, i) => (heap[(at >> 2) + i] = g[f]));
}

type Geo = { readonly [F in (typeof GEOMETRY_FIELDS)[number]]: Local };

/** Declares a local per geometry field and loads it from the block at `geo`. */
function loadGeometry(f: FunctionBuilder, geo: Local): Geo {
  const out: Partial<Record<(typeof GEOMETRY_FIELDS)[number], Local>> = {};
  GEOMETRY_FIELDS.forEach((name, i) => {
    const local = f.addLocal("i32", `g_${name}`);
    f.get(geo);
    f.i32.load(4 * i);
    f.set(local);
    out[name] = local;
  });
  return out as Geo;
}

/** Small expression helpers over i32 locals. */
function ops(f: FunctionBuilder) {
  return {
    /** dst = value of the pushed expression. */
    let: (dst: Local, push: () => void): void => {
      push();
      f.set(dst);
    },
    /** x += k (a constant) or x += y (a local). */
    inc: (x: Local, by: number | Local): void => {
      f.get(x);
      if (typeof by === "number") f.i32.const(by);
      else f.get(by);
      f.i32.add();
      f.set(x);
    },
    /** A do-while loop: body, then repeat while the pushed condition holds. */
    doWhile: (body: () => void, cond: () => void): void => {
      f.loop((again) => {
        body();
        cond();
        f.br_if(again);
      });
    },
  };
}

/**
 * Pushes the byte address tap (ky, kx) of position (b, oy, ox) reads, plus
 * `extra` bytes, or `zero` when the tap is in the padding:
 * iy = oy·sh − pt + ky·dh, ix = ox·sw − pl + kx·dw, unsigned-compared with h and w.
 */
function emitTapAddress(f: FunctionBuilder, g: Geo, pos: { b: Local; oy: Local; ox: Local }, ky: Local, kx: Local, extra: Local, iy: Local, ix: Local): void {
  for (const [dst, o, s, p, k, d] of [[iy, pos.oy, g.sh, g.pt, ky, g.dh], [ix, pos.ox, g.sw, g.pl, kx, g.dw]] as const) {
    f.get(o);
    f.get(s);
    f.i32.mul();
    f.get(p);
    f.i32.sub();
    f.get(k);
    f.get(d);
    f.i32.mul();
    f.i32.add();
    f.set(dst);
  }
  // x + (((b·h + iy)·w + ix)·c)·4 + extra
  f.get(g.x);
  f.get(pos.b);
  f.get(g.h);
  f.i32.mul();
  f.get(iy);
  f.i32.add();
  f.get(g.w);
  f.i32.mul();
  f.get(ix);
  f.i32.add();
  f.get(g.c);
  f.i32.mul();
  f.i32.const(2);
  f.i32.shl();
  f.i32.add();
  f.get(extra);
  f.i32.add();
  f.get(g.zero);
  f.get(iy);
  f.get(g.h);
  f.i32.lt_u();
  f.get(ix);
  f.get(g.w);
  f.i32.lt_u();
  f.i32.and();
  f.select("i32");
}

/** (b, oy, ox) = position p: ox = p mod ow, oy = (p / ow) mod oh, b = p / (ow·oh). */
function emitPosition(f: FunctionBuilder, g: Geo, p: Local, pos: { b: Local; oy: Local; ox: Local }): void {
  f.get(p);
  f.get(g.ow);
  f.i32.rem_u();
  f.set(pos.ox);
  f.get(p);
  f.get(g.ow);
  f.i32.div_u();
  f.local.tee(pos.b);
  f.get(g.oh);
  f.i32.rem_u();
  f.set(pos.oy);
  f.get(pos.b);
  f.get(g.oh);
  f.i32.div_u();
  f.set(pos.b);
}

/** The next position in row-major order. */
function emitNextPosition(f: FunctionBuilder, g: Geo, pos: { b: Local; oy: Local; ox: Local }): void {
  const { inc } = ops(f);
  inc(pos.ox, 1);
  f.get(pos.ox);
  f.get(g.ow);
  f.i32.eq();
  f.if(() => {
    f.i32.const(0);
    f.set(pos.ox);
    inc(pos.oy, 1);
    f.get(pos.oy);
    f.get(g.oh);
    f.i32.eq();
    f.if(() => {
      f.i32.const(0);
      f.set(pos.oy);
      inc(pos.b, 1);
    });
  });
}

/** (ky, kx, ch) = the tap and channel of depth index d: t = d / cg, ch = d mod cg, ky = t / kw, kx = t mod kw. */
function emitTap(f: FunctionBuilder, g: Geo, d: Local, ky: Local, kx: Local, ch: Local): void {
  f.get(d);
  f.get(g.cg);
  f.i32.rem_u();
  f.set(ch);
  f.get(d);
  f.get(g.cg);
  f.i32.div_u();
  f.local.tee(ky);
  f.get(g.kw);
  f.i32.rem_u();
  f.set(kx);
  f.get(ky);
  f.get(g.kw);
  f.i32.div_u();
  f.set(ky);
}

/** The next tap in (ky, kx) order. */
function emitNextTap(f: FunctionBuilder, g: Geo, ky: Local, kx: Local): void {
  const { inc } = ops(f);
  inc(kx, 1);
  f.get(kx);
  f.get(g.kw);
  f.i32.eq();
  f.if(() => {
    f.i32.const(0);
    f.set(kx);
    inc(ky, 1);
  });
}

/** Pushes dst + (q >> 2)·depth·16 + (q & 3)·4: row q of 4-row panels of `depth` at dst, at depth 0. */
function emitLaneAddress(f: FunctionBuilder, dst: Local, q: Local, depth: Local): void {
  f.get(dst);
  f.get(q);
  f.i32.const(2);
  f.i32.shr_u();
  f.get(depth);
  f.i32.mul();
  f.i32.const(4);
  f.i32.shl();
  f.i32.add();
  f.get(q);
  f.i32.const(3);
  f.i32.and();
  f.i32.const(2);
  f.i32.shl();
  f.i32.add();
}

const PACK_PARAMS = [["geo", "i32"], ["r0", "i32"], ["rows", "i32"], ["d0", "i32"], ["depth", "i32"], ["dst", "i32"]] as const;

/** f32_pack_patches_4(geo, r0, rows, d0, depth, dst): rows [r0, r0 + rows) of P, depth [d0, d0 + depth), into 4-row panels at dst (rows, depth >= 1). */
function emitPackRows(m: ModuleBuilder): number {
  return m.function("f32_pack_patches_4", PACK_PARAMS, [], (f) => {
    const [geo, r0, rows, d0, depth, dst] = f.params as [Local, Local, Local, Local, Local, Local];
    const g = loadGeometry(f, geo);
    const { let: set, inc, doWhile } = ops(f);
    const L = (name: string) => f.addLocal("i32", name);
    const pos = { b: L("b"), oy: L("oy"), ox: L("ox") };
    const [ky0, kx0, ch0, ky, kx, ch, q, o, src, run, left, iy, ix, zeroBytes] = ["ky0", "kx0", "ch0", "ky", "kx", "ch", "q", "o", "src", "run", "left", "iy", "ix", "zb"].map(L) as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
    emitTap(f, g, d0, ky0, kx0, ch0);
    emitPosition(f, g, r0, pos);
    doWhile(
      () => {
        set(o, () => emitLaneAddress(f, dst, q, depth));
        set(ky, () => f.get(ky0));
        set(kx, () => f.get(kx0));
        set(ch, () => f.get(ch0));
        set(left, () => f.get(depth));
        // One tap's run of channels per iteration.
        doWhile(
          () => {
            f.get(ch);
            f.i32.const(2);
            f.i32.shl();
            f.set(zeroBytes);
            set(src, () => emitTapAddress(f, g, pos, ky, kx, zeroBytes, iy, ix));
            // run = min(cg - ch, left)
            set(run, () => {
              f.get(g.cg);
              f.get(ch);
              f.i32.sub();
              f.get(left);
              f.get(g.cg);
              f.get(ch);
              f.i32.sub();
              f.get(left);
              f.i32.lt_s();
              f.select("i32");
            });
            set(left, () => {
              f.get(left);
              f.get(run);
              f.i32.sub();
            });
            doWhile(
              () => {
                f.get(o);
                f.get(src);
                f.f32.load();
                f.f32.store();
                inc(o, 16);
                inc(src, 4);
                inc(run, -1);
              },
              () => f.get(run),
            );
            set(ch, () => f.i32.const(0));
            emitNextTap(f, g, ky, kx);
          },
          () => f.get(left),
        );
        emitNextPosition(f, g, pos);
        inc(q, 1);
      },
      () => {
        f.get(q);
        f.get(rows);
        f.i32.lt_s();
      },
    );
    // Zero the lanes of the last panel past the last row.
    f.block((done) => {
      f.loop((again) => {
        f.get(q);
        f.i32.const(3);
        f.i32.and();
        f.i32.eqz();
        f.br_if(done);
        set(o, () => emitLaneAddress(f, dst, q, depth));
        set(left, () => f.get(depth));
        doWhile(
          () => {
            f.get(o);
            f.f32.const(0);
            f.f32.store();
            inc(o, 16);
            inc(left, -1);
          },
          () => f.get(left),
        );
        inc(q, 1);
        f.br(again);
      });
    });
  });
}

/** f32_pack_patches_t_4(geo, r0, rows, d0, depth, dst): rows [r0, r0 + rows) of Pᵀ, depth (positions) [d0, d0 + depth), into 4-row panels at dst. */
function emitPackColumns(m: ModuleBuilder): number {
  return m.function("f32_pack_patches_t_4", PACK_PARAMS, [], (f) => {
    const [geo, r0, rows, d0, depth, dst] = f.params as [Local, Local, Local, Local, Local, Local];
    const g = loadGeometry(f, geo);
    const { let: set, inc, doWhile } = ops(f);
    const L = (name: string) => f.addLocal("i32", name);
    const pos = { b: L("b"), oy: L("oy"), ox: L("ox") };
    const [q, r, i, ky, kx, ch, chBytes, o, p, iy, ix, panel] = ["q", "r", "i", "ky", "kx", "ch", "chb", "o", "p", "iy", "ix", "panel"].map(L) as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];

    /** Walks `depth` positions from d0, with the tap of row r: `step` stores one position's value(s) at o, then o += 16. */
    const walkPositions = (step: () => void): void => {
      emitPosition(f, g, d0, pos);
      set(o, () => f.get(panel));
      set(p, () => f.get(depth));
      doWhile(
        () => {
          step();
          inc(o, 16);
          emitNextPosition(f, g, pos);
          inc(p, -1);
        },
        () => f.get(p),
      );
    };
    const tapOfRow = (): void => {
      emitTap(f, g, r, ky, kx, ch);
      set(chBytes, () => {
        f.get(ch);
        f.i32.const(2);
        f.i32.shl();
      });
    };

    doWhile(
      () => {
        set(panel, () => emitLaneAddress(f, dst, q, depth));
        set(r, () => {
          f.get(r0);
          f.get(q);
          f.i32.add();
        });
        tapOfRow();
        // Four rows left and four channels of one tap: a v128 per position.
        f.get(rows);
        f.get(q);
        f.i32.sub();
        f.i32.const(4);
        f.i32.ge_s();
        f.get(ch);
        f.i32.const(4);
        f.i32.add();
        f.get(g.cg);
        f.i32.le_s();
        f.i32.and();
        f.if(
          () =>
            walkPositions(() => {
              f.get(o);
              emitTapAddress(f, g, pos, ky, kx, chBytes, iy, ix);
              f.v128.load();
              f.v128.store();
            }),
          () => {
            set(i, () => f.i32.const(0));
            doWhile(
              () => {
                f.get(i);
                f.get(q);
                f.i32.add();
                f.get(rows);
                f.i32.lt_s();
                f.if(
                  () => {
                    set(r, () => {
                      f.get(r0);
                      f.get(q);
                      f.i32.add();
                      f.get(i);
                      f.i32.add();
                    });
                    tapOfRow();
                    walkPositions(() => {
                      f.get(o);
                      emitTapAddress(f, g, pos, ky, kx, chBytes, iy, ix);
                      f.f32.load();
                      f.f32.store();
                    });
                  },
                  () =>
                    walkPositions(() => {
                      f.get(o);
                      f.f32.const(0);
                      f.f32.store();
                    }),
                );
                inc(panel, 4);
                inc(i, 1);
              },
              () => {
                f.get(i);
                f.i32.const(4);
                f.i32.lt_s();
              },
            );
          },
        );
        inc(q, 4);
      },
      () => {
        f.get(q);
        f.get(rows);
        f.i32.lt_s();
      },
    );
  });
}

/** f32_scatter_patches(geo, p0, rows, src): x[position p0 + r @ tap, ch] += src[r][tap·cg + ch] for r < rows (taps in the padding skipped). */
function emitScatter(m: ModuleBuilder): number {
  const params = [["geo", "i32"], ["p0", "i32"], ["rows", "i32"], ["src", "i32"]] as const;
  return m.function("f32_scatter_patches", params, [], (f) => {
    const [geo, p0, rows, src] = f.params as [Local, Local, Local, Local];
    const g = loadGeometry(f, geo);
    const { let: set, inc, doWhile } = ops(f);
    const L = (name: string) => f.addLocal("i32", name);
    const pos = { b: L("b"), oy: L("oy"), ox: L("ox") };
    const [ky, kx, d, n, iy, ix, none] = ["ky", "kx", "d", "n", "iy", "ix", "noExtra"].map(L) as [Local, Local, Local, Local, Local, Local, Local];
    emitPosition(f, g, p0, pos);
    set(none, () => f.i32.const(0));
    doWhile(
      () => {
        set(ky, () => f.i32.const(0));
        set(kx, () => f.i32.const(0));
        doWhile(
          () => {
            set(d, () => emitTapAddress(f, g, pos, ky, kx, none, iy, ix));
            f.get(d);
            f.get(g.zero);
            f.i32.eq();
            f.if(
              () => {
                // In the padding: skip this tap's run of src.
                f.get(g.cg);
                f.i32.const(2);
                f.i32.shl();
                f.get(src);
                f.i32.add();
                f.set(src);
              },
              () => {
                set(n, () => f.get(g.cg));
                f.block((tail) => {
                  f.loop((again) => {
                    f.get(n);
                    f.i32.const(4);
                    f.i32.lt_s();
                    f.br_if(tail);
                    f.get(d);
                    f.get(d);
                    f.v128.load();
                    f.get(src);
                    f.v128.load();
                    f.f32x4.add();
                    f.v128.store();
                    inc(d, 16);
                    inc(src, 16);
                    inc(n, -4);
                    f.br(again);
                  });
                });
                f.block((done) => {
                  f.loop((again) => {
                    f.get(n);
                    f.i32.eqz();
                    f.br_if(done);
                    f.get(d);
                    f.get(d);
                    f.f32.load();
                    f.get(src);
                    f.f32.load();
                    f.f32.add();
                    f.f32.store();
                    inc(d, 4);
                    inc(src, 4);
                    inc(n, -1);
                    f.br(again);
                  });
                });
              },
            );
            emitNextTap(f, g, ky, kx);
          },
          () => {
            f.get(ky);
            f.get(g.kh);
            f.i32.lt_s();
          },
        );
        emitNextPosition(f, g, pos);
        inc(rows, -1);
      },
      () => f.get(rows),
    );
  });
}

/** Adds the three patch functions to `m` (whose memory they use) and returns their indices. */
export function emitPatchFunctions(m: ModuleBuilder): { readonly packRows: number; readonly packColumns: number; readonly scatter: number } {
  return { packRows: emitPackRows(m), packColumns: emitPackColumns(m), scatter: emitScatter(m) };
}

type Pack = (geo: number, r0: number, rows: number, d0: number, depth: number, dst: number) => void;

/** The patch functions of an instance, by what they compute. */
export interface PatchKernels {
  /** Rows of P (positions) over a range of its depth, into 4-row panels. */
  readonly packRows: Pack;
  /** Rows of Pᵀ ((tap, channel) pairs) over a range of positions, into 4-row panels. */
  readonly packColumns: Pack;
  /** Adds `rows` rows of dP from `src` into x's layout, from position p0; taps in the padding are skipped, so `zero` must be no address in x (-1). */
  readonly scatter: (geo: number, p0: number, rows: number, src: number) => void;
}

export function patchKernels(exports: Record<string, unknown>): PatchKernels {
  return {
    packRows: exports["f32_pack_patches_4"] as Pack,
    packColumns: exports["f32_pack_patches_t_4"] as Pack,
    scatter: exports["f32_scatter_patches"] as PatchKernels["scatter"],
  };
}
