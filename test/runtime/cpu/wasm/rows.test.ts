// Row chains (runtime/cpu/wasm/rows.ts): which consecutive steps run together
// block of rows by block of rows, and that what they compute is what the
// steps compute one after the other: softmax, layer norm and log-softmax
// over awkward shapes (row widths of 1, 3, 13 and 257, rows not a multiple of
// a block or of 4, a leading batch of 5x3 rows) against the float64
// evaluator, and on two threads against one, bit for bit.

import test from "ava";
import { lowerCpu } from "../../../../compiler/codegen/cpu.js";
import type { Graph, Node } from "../../../../compiler/ir/node.js";
import * as ops from "../../../../compiler/ops/composite.js";
import { CpuExecutable, type StepTiming } from "../../../../runtime/cpu/executable.js";
import type { NDArray } from "../../../../runtime/cpu/ndarray.js";
import { createProducts, type Products } from "../../../../runtime/cpu/wasm/engine.js";
import { blockRows, rowChains, splitRange, type RangeStep } from "../../../../runtime/cpu/wasm/rows.js";
import { wasmFeatures } from "../../../../runtime/wasm/features.js";
import { input } from "../../../helpers/gradcheck.js";
import { graph, randomFeeds } from "../../../helpers/feeds.js";

// ---- planning ------------------------------------------------------------------------

const flat = { kind: "flat" } as const;
const perRow = (rows: number, width: number) => ({ kind: "rows", rows, width }) as const;
/** softmax over [rows, width] as the CPU program has it: max, a reshape, exp(x - max), sum, the division. */
function softmaxSteps(rows: number, width: number): RangeStep[] {
  const [x, max, m, e, sum, y] = [0, 1, 2, 3, 4, 5];
  return [
    { node: max, size: rows, reduce: { rows, width }, reads: [{ buffer: x, access: flat }] },
    { node: m, size: rows, reads: [{ buffer: max, access: flat }] },
    { node: e, size: rows * width, reads: [{ buffer: x, access: flat }, { buffer: m, access: perRow(rows, width) }] },
    { node: sum, size: rows, reduce: { rows, width }, reads: [{ buffer: e, access: flat }] },
    { node: y, size: rows * width, reads: [{ buffer: e, access: flat }, { buffer: sum, access: perRow(rows, width) }] },
  ];
}
const ownCells = (node: number): number => node;

test("softmax's five steps are one chain; row boundaries fall on whole vectors of every member", (t) => {
  const chains = rowChains(softmaxSteps(4096, 1024), ownCells);
  t.is(chains.length, 1);
  t.is(chains[0]!.rows, 4096);
  t.deepEqual(
    chains[0]!.members.map((m) => m.width),
    [1, 1, 1024, 1, 1024],
  );
  // The per-row elementwise step (width 1) starts on a vector every 4 rows.
  t.is(chains[0]!.unit, 4);
  t.is(rowChains(softmaxSteps(10, 3), ownCells)[0]!.unit, 4);
  // Rows of 1024 are 33 KB across the members: a block is the least whole unit.
  t.is(blockRows(chains[0]!), 4);
  const narrow = rowChains(softmaxSteps(4096, 16), ownCells)[0]!;
  t.is(blockRows(narrow), Math.floor((128 << 10) / narrow.rowBytes / 4) * 4);
});

test("elementwise steps of one size chain element by element, and a row reduction over them makes their elements rows", (t) => {
  // Adam: m' = f(m, g), v' = f(v, g), p' = f(p, m', v'), each of 1000 elements.
  const [p, g, m, v, m1, v1, p1] = [0, 1, 2, 3, 4, 5, 6];
  const adam: RangeStep[] = [
    { node: m1, size: 1000, reads: [{ buffer: m, access: flat }, { buffer: g, access: flat }] },
    { node: v1, size: 1000, reads: [{ buffer: v, access: flat }, { buffer: g, access: flat }] },
    { node: p1, size: 1000, reads: [{ buffer: p, access: flat }, { buffer: m1, access: flat }, { buffer: v1, access: flat }] },
  ];
  const [chain] = rowChains(adam, ownCells);
  t.deepEqual(chain && { rows: chain.rows, widths: chain.members.map((w) => w.width), unit: chain.unit }, { rows: 1000, widths: [1, 1, 1], unit: 4 });
  // gelu(x) then its softmax over rows of 16: one chain of 8 rows.
  const gelu: RangeStep = { node: 10, size: 128, reads: [{ buffer: 11, access: flat }] };
  const softmax = softmaxSteps(8, 16).map((st) => ({ ...st, node: st.node + 20, reads: st.reads.map((r) => ({ ...r, buffer: r.buffer === 0 ? 10 : r.buffer + 20 })) }));
  const chains = rowChains([gelu, ...softmax], ownCells);
  t.deepEqual(
    chains.map((c) => ({ rows: c.rows, widths: c.members.map((w) => w.width) })),
    [{ rows: 8, widths: [16, 1, 1, 16, 1, 16] }],
  );
});

test("a chain ends where a step reads a chain's buffer other than row by row, or starts at a row reduction only", (t) => {
  const steps = softmaxSteps(8, 16);
  // The division reads e transposed: rows no longer stay apart.
  const transposed = [...steps.slice(0, 4), { ...steps[4]!, reads: [{ buffer: 3, access: { kind: "other" } as const }, steps[4]!.reads[1]!] }];
  t.deepEqual(
    rowChains(transposed, ownCells).map((c) => c.members.map((m) => m.step)),
    [[0, 1, 2, 3]],
  );
  // A per-row value broadcast over a different width.
  const misread = [...steps.slice(0, 2), { ...steps[2]!, reads: [steps[2]!.reads[0]!, { buffer: 2, access: perRow(8, 8) }] }];
  t.deepEqual(
    rowChains(misread, ownCells).map((c) => c.members.map((m) => m.step)),
    [[0, 1]],
  );
  // A product in between breaks the chain; elementwise steps alone make none.
  t.deepEqual(
    rowChains([steps[0], steps[1], undefined, steps[3], steps[4]], ownCells).map((c) => c.members.map((m) => m.step)),
    [[0, 1], [3, 4]],
  );
  // Before a reduction, elementwise steps of different sizes make none: each stays whole, to be split by elements.
  t.deepEqual(rowChains([steps[1], steps[2]], ownCells), []);
});

test("an output may take the cell of an outside input only where the chain reads that input row by row at its width", (t) => {
  // y is written into x's cell (x's last reader is e's step): x is read by rows of 64, as y is written.
  const intoX = (node: number): number => (node === 5 ? 0 : node);
  t.deepEqual(
    rowChains(softmaxSteps(64, 64), intoX).map((c) => c.members.map((m) => m.step)),
    [[0, 1, 2, 3, 4]],
  );
  // The same where e reads x across rows (a bias, say): the next block would read y's rows.
  const steps = softmaxSteps(64, 64);
  const across = [...steps.slice(0, 2), { ...steps[2]!, reads: [{ buffer: 0, access: { kind: "other" } as const }, steps[2]!.reads[1]!] }, ...steps.slice(3)];
  t.deepEqual(
    rowChains(across, intoX).map((c) => c.members.map((m) => m.step)),
    [[0, 1, 2, 3]],
  );
  // A per-row output (width 1) into the cell of a row-wide input: it chains with nothing.
  const perRowIntoX = (node: number): number => (node === 2 ? 0 : node);
  t.deepEqual(
    rowChains(softmaxSteps(64, 64), perRowIntoX).map((c) => c.members.map((m) => m.step)),
    [[0], [2, 3, 4]],
  );
});

test("ranges split at multiples of the unit, covering everything once", (t) => {
  t.deepEqual(splitRange(10, 4, 2), [
    [0, 4],
    [4, 10],
  ]);
  t.deepEqual(splitRange(3, 4, 2), [[0, 3]]);
  t.deepEqual(splitRange(4096, 1, 2), [
    [0, 2048],
    [2048, 4096],
  ]);
});

// ---- execution -------------------------------------------------------------------------

const one = createProducts("wasm", wasmFeatures(), 1);
const two = createProducts("wasm", wasmFeatures(), 2, { parallelCost: 0 });
test.after.always(() => two.kind === "wasm" && two.engine.gemm.dispose());

const CASES: readonly { readonly name: string; readonly shape: readonly number[]; readonly y: (x: Node) => Node }[] = [
  ...[
    [7, 13],
    [300, 257],
    [5, 3, 6],
    [37, 3],
    [9, 1],
    [1, 1000],
  ].flatMap((shape) => [
    { name: `softmax [${shape}]`, shape, y: (x: Node) => ops.softmax(x) },
    { name: `layer norm [${shape}]`, shape, y: (x: Node) => ops.layerNorm(x, 1e-5) },
    { name: `log-softmax [${shape}]`, shape, y: (x: Node) => ops.logSoftmax(x, -1) },
  ]),
];

function run(g: Graph, feeds: Map<string, NDArray>, products: Products | "f64", onStep?: (s: StepTiming) => void): Float64Array | Float32Array {
  const exe = products === "f64" ? new CpuExecutable(lowerCpu(g), "f64") : new CpuExecutable(lowerCpu(g), "f32", { products, ...(onStep ? { onStep } : {}) });
  return exe.run(feeds, new Map()).get("y")!.data.slice() as Float64Array | Float32Array;
}

for (const c of CASES) {
  test(`${c.name}: a row chain where rows have 4 or more elements, within 2e-6 of float64, two threads equal to one bit for bit`, (t) => {
    if (one.kind !== "wasm" || two.kind !== "wasm") return t.fail("no wasm engine");
    const x = input("x", c.shape);
    const g = graph([x], c.y(x));
    const feeds = randomFeeds(g, c.shape.length + c.shape[0]!);
    const labels: string[] = [];
    const y1 = run(g, feeds, one, (s) => labels.push(s.label));
    const width = c.shape[c.shape.length - 1]!;
    if (width >= 4) t.true(labels.some((l) => l.startsWith("rows[")), `a row chain ran: ${labels.join("; ")}`);
    const ref = run(g, feeds, "f64");
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(y1[i]! - ref[i]!) / Math.max(1, Math.abs(ref[i]!)));
    t.true(worst <= 2e-6, `${c.name}: worst error ${worst}`);
    const y2 = run(g, feeds, two);
    const [u, v] = [new Uint32Array(y1.buffer), new Uint32Array(y2.buffer)];
    for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return t.fail(`${c.name}: element ${i} is ${y2[i]} on two threads, ${y1[i]} on one`);
  });
}

test("large chains split across the workers", (t) => {
  if (two.kind !== "wasm") return t.fail(two.reason);
  const x = input("x", [512, 512]);
  const g = graph([x], ops.softmax(ops.unaryOp("tanh", x)));
  const feeds = randomFeeds(g, 5);
  const y1 = run(g, feeds, one);
  const pool = two.engine.gemm.pool!;
  const before = pool.posted;
  const labels: string[] = [];
  const y2 = run(g, feeds, two, (s) => labels.push(s.label));
  // tanh and softmax as one chain: a module load, then the chain posted to the worker.
  t.deepEqual(labels.map((l) => l.replace(/\[.*\]/, "[]")), ["rows[] 512x512"]);
  t.is(pool.posted - before, 2);
  t.deepEqual(new Uint32Array(y2.buffer), new Uint32Array(y1.buffer));
});
