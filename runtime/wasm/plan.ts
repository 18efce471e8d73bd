// Tile planning for the WebAssembly GEMM, kept apart from emission: the
// micro-tile is fixed by what the emitted kernel holds in registers, and the
// cache blocks are chosen here from a cache model, as plain numbers a test or
// a dump can read.
//
// The micro-tile is 4x8 (MR x NR): 8 f32x4 accumulators, 2 B vectors and the
// broadcast A values stay under V8's ~14 live xmm registers; a 6x8 or 4x16
// tile, or an unrolled k-loop, spills on every k-step and runs at half the
// speed (shared/notes/wasm-performance.md).
//
// The loops around it are Goto's: for each NC-wide block of columns, for each
// KC-deep block of the depth, pack a KC x NC block of B into NR-wide panels;
// for each MC-tall block of rows, pack an MC x KC block of A into MR-tall
// panels and sweep the micro-kernel over the block, B panel by B panel. So a
// KC x NR panel of B sits in L1 while the MC x KC block of A streams past it
// from L2, and the KC x NC block of B is reused from L3 by every row block.

/** Rows of op(A) per packed panel and per micro-tile. */
export const MR = 4;
/** Columns of op(B) per packed panel and per micro-tile: two f32x4 vectors. */
export const NR = 8;

/** The cache sizes the blocks are fitted to, in bytes (per core for L1/L2). */
export interface CacheModel {
  readonly l1: number;
  readonly l2: number;
  readonly l3: number;
}

/** Conservative sizes of a current x86 or Arm core: 32 KiB L1d, 512 KiB L2, a 4 MiB share of L3. */
export const DEFAULT_CACHE: CacheModel = { l1: 32 << 10, l2: 512 << 10, l3: 4 << 20 };

export interface GemmPlan {
  readonly mr: number;
  readonly nr: number;
  /** Rows of op(A) per packed block (a multiple of MR). */
  readonly mc: number;
  /** Depth per packed block. */
  readonly kc: number;
  /** Columns of op(B) per packed block (a multiple of NR). */
  readonly nc: number;
}

const F32 = 4;

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function roundDown(n: number, to: number): number {
  return Math.max(to, Math.floor(n / to) * to);
}

/** The block size that splits `n` into equal blocks of at most `max`, rounded up to a multiple of `align`. */
export function blockSize(n: number, max: number, align: number): number {
  return roundUp(Math.ceil(n / Math.ceil(n / max)), align);
}

/** Blocks for C[m, n] = op(A)[m, k] · op(B)[k, n] (m, n, k > 0). */
export function planGemm(m: number, n: number, k: number, cache: CacheModel = DEFAULT_CACHE): GemmPlan {
  // One KC x NR panel of B in a quarter of L1, leaving room for the A panel
  // streaming past and the C tile.
  const kcMax = roundDown(cache.l1 / 4 / (NR * F32), 16);
  const kc = blockSize(k, kcMax, 1);
  // The MC x KC block of A in half of L2.
  const mcMax = roundDown(cache.l2 / 2 / (kc * F32), MR);
  // The KC x NC block of B in half of the L3 share.
  const ncMax = roundDown(cache.l3 / 2 / (kc * F32), NR);
  return { mr: MR, nr: NR, kc, mc: blockSize(m, mcMax, MR), nc: blockSize(n, ncMax, NR) };
}
