// The pooling kernels in WebAssembly, with the semantics of
// runtime/cpu/kernels/pool.ts: NHWC windows, padding cells never win a max
// and are not counted in an average, a max window's gradient goes to its
// first maximal cell in row-major window order, else its first NaN cell.
//
// Vectors run across channels: per output position, per f32x4 of channels,
// the window's cells are combined lane by lane. When C is not a multiple of
// 4, the last vector's spare lanes read the next cell or past the slot
// (garbage no real lane sees) and are never stored: it is stored lane by lane.
//
// Shapes are constants, so the walk is specialized: along each axis the
// outputs fall into a few segments of equal window clip (the interior, each
// padded edge), each a loop over windows of a constant size; windows of up to
// UNROLLED_CELLS cells are straight-line code, every address a local plus a
// constant offset. An axis of more than MAX_SEGMENTS segments (huge padding)
// computes its clip per position instead.
//
// The max is a select, not f32x4.max: a cell takes the lanes where it is
// greater, or NaN while the max so far is not, so ties keep the earlier cell
// (-0 before +0 too) and the winner's bits are copied, as in JavaScript. The
// max gradient keeps the winning cell's index per lane, then adds dy to the
// lanes each cell won. Where windows cannot overlap (stride >= size) each dx
// cell is stored once, unread, and dx is zeroed first only if some cell is in
// no window.

import type { WindowAttrs } from "../../program/ops.js";
import type { FunctionBuilder, Local } from "../../wasm/assembler.js";
import { forRange } from "../../wasm/loops.js";
import type { Slot, WasmKernelTable } from "./kernel.js";

/** Windows of at most this many cells are unrolled; larger ones loop over rows and columns. */
const UNROLLED_CELLS = 16;
/** Channel vectors per position unrolled up to this many; more loop. */
const UNROLLED_VECTORS = 2;
/** An axis whose outputs fall into more segments of equal clip than this computes the clip per position. */
const MAX_SEGMENTS = 5;

interface Geometry {
  readonly n: number; readonly h: number; readonly w: number; readonly c: number;
  readonly oh: number; readonly ow: number;
  readonly kh: number; readonly kw: number;
  readonly sh: number; readonly sw: number; readonly pt: number; readonly pl: number;
  /** Bytes of one cell (c floats) and of one row of the input. */
  readonly cell: number;
  readonly row: number;
}

/** The geometry of windows over `grid` (NHWC) with one output position per cell of `pos`. */
function geometry(grid: Slot, pos: Slot, { size, stride, pad }: WindowAttrs): Geometry {
  const [n, h, w, c] = grid.shape as [number, number, number, number];
  return {
    n, h, w, c, oh: pos.shape[1]!, ow: pos.shape[2]!,
    kh: size[0], kw: size[1], sh: stride[0], sw: stride[1], pt: pad[0], pl: pad[2],
    cell: 4 * c, row: 4 * c * w,
  };
}

/** Windows never share a cell. */
const disjoint = (g: Geometry): boolean => g.sh >= g.kh && g.sw >= g.kw;

/** Every input cell lies in some window. */
function covered(g: Geometry): boolean {
  const axis = (size: number, out: number, k: number, s: number, p: number): boolean => {
    const hit = new Uint8Array(size);
    for (let o = 0; o < out; o++) for (let i = Math.max(0, o * s - p); i < Math.min(size, o * s - p + k); i++) hit[i] = 1;
    return hit.every((v) => v === 1);
  };
  return axis(g.h, g.oh, g.kh, g.sh, g.pt) && axis(g.w, g.ow, g.kw, g.sw, g.pl);
}

/** A window extent along one axis: a constant, or a local computed per position. */
type Extent = number | Local;

/** One output position's window: its first in-bounds cell (a byte offset into the input, channel 0) and its in-bounds rows and columns. */
interface Window {
  readonly base: Local;
  readonly rows: Extent;
  readonly cols: Extent;
}

/** A run of channels at one position: `lanes` (4, or a last 1 to 3) from byte `off` past the `cell` and `pos` offsets. */
interface Group {
  readonly cell: Local;
  readonly pos: Local;
  readonly off: number;
  readonly lanes: number;
}

/** Outputs [from, to) along an axis whose windows start `lo` taps in and hold `count` in-bounds taps. */
interface Segment {
  readonly from: number;
  to: number;
  readonly lo: number;
  readonly count: number;
}

interface Axis {
  readonly out: number; readonly size: number; readonly k: number; readonly s: number; readonly p: number;
  /** Bytes per input step along the axis. */
  readonly step: number;
}

function segments(a: Axis): Segment[] {
  const out: Segment[] = [];
  for (let o = 0; o < a.out; o++) {
    const start = o * a.s - a.p;
    const count = Math.max(0, Math.min(a.k, a.size - start) - Math.max(0, -start));
    const lo = count > 0 ? Math.max(0, -start) : 0;
    const last = out[out.length - 1];
    if (last && last.lo === lo && last.count === count) last.to = o + 1;
    else out.push({ from: o, to: o + 1, lo, count });
  }
  return out;
}

/** The emission helpers of one kernel, over its own locals. */
/**
 * The emission helpers of one pooling kernel over geometry g. A kernel whose
 * function takes (lo, hi) computes images [lo, hi) only (threads take whole
 * images: each image's windows stay within it); one without computes all.
 */
function emitter(f: FunctionBuilder, g: Geometry) {
  const range = f.params.length === 2 ? (f.params as [Local, Local]) : undefined;
  const i32 = (name: string) => f.addLocal("i32", name);
  const [pos, b, img, row, base, oy, ox, rows, cols, t, cv, bc, pc, r, c, k, ra, ca] =
    ["pos", "b", "img", "row", "base", "oy", "ox", "rows", "cols", "t", "cv", "bc", "pc", "r", "c", "k", "ra", "ca"].map(i32) as Local[] as [
      Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];

  const push = (e: Extent): void => (typeof e === "number" ? f.i32.const(e) : f.get(e));
  const inc = (x: Local, by: number | Local): void => {
    f.get(x);
    push(by);
    f.i32.add();
    f.set(x);
  };
  const countedLoop = (counter: Local, from: number, to: number, body: () => void): void => forRange(f, counter, from, to, body);
  /** for (counter = from; counter < limit; counter++) body, either bound possibly a local (the range then maybe empty). */
  const fromTo = (counter: Local, from: Extent, limit: Extent, body: () => void): void => {
    if (typeof from === "number" && typeof limit === "number") return countedLoop(counter, from, limit, body);
    push(from);
    f.set(counter);
    f.block((done) => {
      f.loop((again) => {
        f.get(counter);
        push(limit);
        f.i32.ge_s();
        f.br_if(done);
        body();
        inc(counter, 1);
        f.br(again);
      });
    });
  };
  const upTo = (counter: Local, limit: Extent, body: () => void): void => fromTo(counter, 0, limit, body);

  /**
   * The loops of one axis: `child` = `parent` plus the offset of each window's
   * first in-bounds row (or column), `body` emitted per segment with its extent.
   */
  const axisLoops = (a: Axis, parent: Local, child: Local, counter: Local, extent: Local, body: (e: Extent) => void): void => {
    const segs = segments(a);
    if (segs.length <= MAX_SEGMENTS) {
      for (const s of segs) {
        f.get(parent);
        f.i32.const((s.from * a.s - a.p + s.lo) * a.step);
        f.i32.add();
        f.set(child);
        countedLoop(counter, s.from, s.to, () => {
          body(s.count);
          inc(child, a.s * a.step);
        });
      }
      return;
    }
    countedLoop(counter, 0, a.out, () => {
      // t = o·s − p; extent = max(0, min(size, t + k) − max(0, t)); child = parent + max(0, t)·step
      f.get(counter);
      f.i32.const(a.s);
      f.i32.mul();
      f.i32.const(a.p);
      f.i32.sub();
      f.local.tee(t);
      f.i32.const(a.k);
      f.i32.add();
      f.set(extent);
      f.get(extent);
      f.i32.const(a.size);
      f.get(extent);
      f.i32.const(a.size);
      f.i32.lt_s();
      f.select("i32");
      f.set(extent);
      f.get(t);
      f.i32.const(0);
      f.get(t);
      f.i32.const(0);
      f.i32.gt_s();
      f.select("i32");
      f.set(t);
      f.get(extent);
      f.get(t);
      f.i32.sub();
      f.local.tee(extent);
      f.i32.const(0);
      f.get(extent);
      f.i32.const(0);
      f.i32.gt_s();
      f.select("i32");
      f.set(extent);
      f.get(parent);
      f.get(t);
      f.i32.const(a.step);
      f.i32.mul();
      f.i32.add();
      f.set(child);
      body(extent);
    });
  };

  /** Emits `visit` for every output position in row-major order; `pos` is the position's byte offset (a cell of the output, or of dy). */
  const walk = (visit: (win: Window) => void): void => {
    if (g.n * g.oh * g.ow * g.c === 0) return;
    const vertical: Axis = { out: g.oh, size: g.h, k: g.kh, s: g.sh, p: g.pt, step: g.row };
    const horizontal: Axis = { out: g.ow, size: g.w, k: g.kw, s: g.sw, p: g.pl, step: g.cell };
    const image = (): void => {
      axisLoops(vertical, img, row, oy, rows, (rowsExtent) =>
        axisLoops(horizontal, row, base, ox, cols, (colsExtent) => {
          visit({ base, rows: rowsExtent, cols: colsExtent });
          inc(pos, g.cell);
        }),
      );
      inc(img, g.h * g.row);
    };
    if (!range) {
      f.i32.const(0);
      f.set(pos);
      f.i32.const(0);
      f.set(img);
      return countedLoop(b, 0, g.n, image);
    }
    // Images [lo, hi): the offsets of image lo, then hi - lo of them.
    const [lo, hi] = range;
    for (const [x, bytes] of [[pos, g.oh * g.ow * g.cell], [img, g.h * g.row]] as const) {
      f.get(lo);
      f.i32.const(bytes);
      f.i32.mul();
      f.set(x);
    }
    fromTo(b, lo, hi, image);
  };

  /** Emits `body` for each channel group of a position: whole vectors, then the last 1 to 3 channels. */
  const groups = (win: Window, body: (grp: Group) => void): void => {
    const full = Math.floor(g.c / 4);
    if (full <= UNROLLED_VECTORS) {
      for (let j = 0; j < full; j++) body({ cell: win.base, pos, off: 16 * j, lanes: 4 });
    } else {
      countedLoop(cv, 0, full, () => {
        f.get(cv);
        f.i32.const(4);
        f.i32.shl();
        f.local.tee(pc);
        f.get(win.base);
        f.i32.add();
        f.set(bc);
        inc(pc, pos);
        body({ cell: bc, pos: pc, off: 0, lanes: 4 });
      });
    }
    if (g.c % 4) body({ cell: win.base, pos, off: 16 * full, lanes: g.c % 4 });
  };

  /** Whether a window's cells are emitted one by one. */
  const unrolled = (win: Window): boolean => typeof win.rows === "number" && typeof win.cols === "number" && win.rows * win.cols <= UNROLLED_CELLS;

  /**
   * Emits `visit` for each cell of a window in row-major order, with the cell's
   * address as a local plus a constant offset (`off` added) and its index in the window.
   */
  const cells = (win: Window, cell: Local, off: number, visit: (at: Local, off: number, index: number | Local) => void): void => {
    if (unrolled(win)) {
      const [nr, nc] = [win.rows as number, win.cols as number];
      for (let y = 0; y < nr; y++) for (let x = 0; x < nc; x++) visit(cell, off + y * g.row + x * g.cell, y * nc + x);
      return;
    }
    f.get(cell);
    f.set(ra);
    f.i32.const(0);
    f.set(k);
    upTo(r, win.rows, () => {
      f.get(ra);
      f.set(ca);
      upTo(c, win.cols, () => {
        visit(ca, off, k);
        inc(ca, g.cell);
        inc(k, 1);
      });
      inc(ra, g.row);
    });
  };

  /** Pushes the window's cell count, as f32x4. */
  const count = (win: Window): void => {
    if (typeof win.rows === "number" && typeof win.cols === "number") return f.v128.const_f32x4(splat4(win.rows * win.cols));
    push(win.rows);
    push(win.cols);
    f.i32.mul();
    f.f32.convert_i32_s();
    f.f32x4.splat();
  };

  /** Stores the group's lanes of vector `v` at `at` + `off`. */
  const store = (at: Local, off: number, v: Local, lanes: number): void => {
    if (lanes === 4) {
      f.get(at);
      f.get(v);
      f.v128.store(off);
      return;
    }
    for (let l = 0; l < lanes; l++) {
      f.get(at);
      f.get(v);
      f.v128.store32_lane(l as 0 | 1 | 2, off + 4 * l);
    }
  };

  /** Pushes a cell index as i32x4. */
  const index4 = (i: number | Local): void => {
    if (typeof i === "number") return f.v128.const_i32x4(splat4(i));
    f.get(i);
    f.i32x4.splat();
  };

  /** Zeroes a slot's elements (of images [lo, hi) in a range kernel). */
  const zero = (s: Slot): void => {
    const bytes = 4 * s.shape.reduce((a, d) => a * d, 1);
    if (bytes === 0) return;
    if (!range) {
      f.i32.const(s.at);
      f.i32.const(0);
      f.i32.const(bytes);
      return f.memory.fill();
    }
    const per = bytes / g.n;
    f.get(range[0]);
    f.i32.const(per);
    f.i32.mul();
    f.i32.const(s.at);
    f.i32.add();
    f.i32.const(0);
    f.get(range[1]);
    f.get(range[0]);
    f.i32.sub();
    f.i32.const(per);
    f.i32.mul();
    f.memory.fill();
  };

  return { walk, groups, cells, unrolled, count, store, index4, zero };
}

const splat4 = (v: number): [number, number, number, number] => [v, v, v, v];

/**
 * Leaves in `m` the group's max over the window, read at `xAt`; in `best`
 * (when given) each lane's winning cell index. A cell takes the lanes where
 * it is greater than m, or is NaN while m is not: ties keep the earlier cell.
 * An empty window leaves -Infinity (and cell 0).
 */
function emitMax(f: FunctionBuilder, e: ReturnType<typeof emitter>, win: Window, grp: Group, xAt: number, r: { m: Local; v: Local; takes: Local; best?: Local }): void {
  // Unrolled, the first cell is the max so far; looped (or empty), -Infinity is.
  let first = e.unrolled(win) && (win.rows as number) * (win.cols as number) > 0;
  if (!first) {
    f.v128.const_f32x4(splat4(-Infinity));
    f.set(r.m);
  }
  if (r.best) {
    f.v128.const_i32x4(splat4(0));
    f.set(r.best);
  }
  e.cells(win, grp.cell, xAt + grp.off, (at, off, i) => {
    f.get(at);
    f.v128.load(off);
    if (first) {
      first = false;
      f.set(r.m);
      return;
    }
    f.set(r.v);
    // takes = (m == m) & ~(v <= m)
    f.get(r.m);
    f.get(r.m);
    f.f32x4.eq();
    f.get(r.v);
    f.get(r.m);
    f.f32x4.le();
    f.v128.andnot();
    f.set(r.takes);
    f.get(r.v);
    f.get(r.m);
    f.get(r.takes);
    f.v128.bitselect();
    f.set(r.m);
    if (r.best) {
      e.index4(i);
      f.get(r.best);
      f.get(r.takes);
      f.v128.bitselect();
      f.set(r.best);
    }
  });
}

const vectors = (f: FunctionBuilder, ...names: string[]): Local[] => names.map((n) => f.addLocal("v128", n));

export const WASM_POOL: WasmKernelTable<"maxPool2d" | "maxPool2dGrad" | "avgPool2d" | "avgPool2dGrad"> = {
  maxPool2d(f, out, [x], attrs) {
    const g = geometry(x!, out, attrs);
    const e = emitter(f, g);
    const [m, v, takes] = vectors(f, "m", "v", "takes") as [Local, Local, Local];
    e.walk((win) =>
      e.groups(win, (grp) => {
        emitMax(f, e, win, grp, x!.at, { m, v, takes });
        e.store(grp.pos, out.at + grp.off, m, grp.lanes);
      }),
    );
  },

  maxPool2dGrad(f, out, [x, dy], attrs) {
    const g = geometry(x!, dy!, attrs);
    const e = emitter(f, g);
    const [m, v, takes, best, d] = vectors(f, "m", "v", "takes", "best", "d") as [Local, Local, Local, Local, Local];
    const once = disjoint(g);
    if (!once || !covered(g)) e.zero(out);
    e.walk((win) =>
      e.groups(win, (grp) => {
        emitMax(f, e, win, grp, x!.at, { m, v, takes, best });
        f.get(grp.pos);
        f.v128.load(dy!.at + grp.off);
        if (once) {
          // dx = 0 + dy, as in JavaScript: -0 becomes +0.
          f.v128.const_f32x4(splat4(0));
          f.f32x4.add();
        }
        f.set(d);
        e.cells(win, grp.cell, out.at + grp.off, (at, off, i) => {
          if (!once) {
            f.get(at);
            f.v128.load(off);
          }
          // dy in the lanes this cell won, +0 elsewhere
          f.get(d);
          f.get(best);
          e.index4(i);
          f.i32x4.eq();
          f.v128.and();
          if (!once) f.f32x4.add();
          f.set(v);
          e.store(at, off, v, grp.lanes);
        });
      }),
    );
  },

  avgPool2d(f, out, [x], attrs) {
    const g = geometry(x!, out, attrs);
    const e = emitter(f, g);
    const [s] = vectors(f, "s") as [Local];
    e.walk((win) =>
      e.groups(win, (grp) => {
        f.v128.const_f32x4(splat4(0));
        f.set(s);
        e.cells(win, grp.cell, x!.at + grp.off, (at, off) => {
          f.get(s);
          f.get(at);
          f.v128.load(off);
          f.f32x4.add();
          f.set(s);
        });
        f.get(s);
        e.count(win);
        f.f32x4.div();
        f.set(s);
        e.store(grp.pos, out.at + grp.off, s, grp.lanes);
      }),
    );
  },

  avgPool2dGrad(f, out, [dy], attrs) {
    const g = geometry(out, dy!, attrs);
    const e = emitter(f, g);
    const [share, v] = vectors(f, "share", "v") as [Local, Local];
    const once = disjoint(g);
    if (!once || !covered(g)) e.zero(out);
    e.walk((win) =>
      e.groups(win, (grp) => {
        f.get(grp.pos);
        f.v128.load(dy!.at + grp.off);
        e.count(win);
        f.f32x4.div();
        if (once) {
          f.v128.const_f32x4(splat4(0));
          f.f32x4.add();
        }
        f.set(share);
        e.cells(win, grp.cell, out.at + grp.off, (at, off) => {
          if (once) return e.store(at, off, share, grp.lanes);
          f.get(at);
          f.v128.load(off);
          f.get(share);
          f.f32x4.add();
          f.set(v);
          e.store(at, off, v, grp.lanes);
        });
      }),
    );
  },
};
