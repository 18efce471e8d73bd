// An artifact is checked for validity, not only integrity: with a correct
// digest, an edited graph (an attribute, a recorded shape or dtype, a size
// past the limit, a value of the wrong type, WebGPU and CPU programs over
// different graphs) is refused in one line naming the node, because every
// node is re-typed by the compiler's own rules on load.

import test from "ava";
import { join } from "node:path";
import { Compilation } from "../../../compiler/compilation.js";
import { ArtifactError, decodeNumbers, encodeNumbers } from "../../../runtime/artifact/format.js";
import { parseArtifact } from "../../../runtime/artifact/read.js";
import { CpuExecutable } from "../../../runtime/cpu/executable.js";
import { entryOf } from "../../../runtime/program/model.js";
import { compileSource } from "../../helpers/compile.js";
import { ROOT } from "../../helpers/paths.js";
import { reDigested, refusedArtifact } from "../../helpers/artifact.js";

const cnn = new Compilation(join(ROOT, "models/cnn.ts"));
const [headerLine, payloadLine] = Buffer.from(cnn.artifact({ training: true, webgpu: true })).toString("utf8").split("\n") as [string, string];

interface Node {
  op: string;
  inputs: number[];
  attrs: Record<string, unknown>;
  shape: unknown[];
  dtype: string;
}

/** The payload with `edit` applied to the predict entry's CPU graph (and the same edit to its WebGPU graph), digest recomputed. */
function edited(edit: (nodes: Node[]) => void, both = true): Uint8Array {
  return reDigested(headerLine, payloadLine, (p: any) => {
    const e = p.model.entries.find((x: { name: string }) => x.name === "predict");
    edit(e.cpu.graph.nodes);
    if (both) edit(e.gpu.graph.nodes);
  });
}

const refused = refusedArtifact;

const first = (nodes: Node[], op: string) => {
  const n = nodes.find((x) => x.op === op);
  if (!n) throw new Error(`no ${op} in the graph`);
  return n;
};

test("the unedited artifact passes", (t) => {
  t.truthy(parseArtifact(edited(() => {}), "m.dlc").model.train);
});

test("a broadcast whose dims were edited is refused", (t) => {
  refused(t, edited((ns) => void (first(ns, "broadcast").attrs.dims = [7])), /invalid payload: payload\.model\.entries\[\d\]\.cpu\.graph\.nodes\[\d+\] \(broadcast\): cannot broadcast/);
});

test("an argmax axis out of range is refused", (t) => {
  refused(t, edited((ns) => void (first(ns, "argmax").attrs.axis = 3)), /\(argmax\): argmax: axes \[3\] are not increasing axes of/);
});

test("a recorded shape that disagrees with the op's rule is refused", (t) => {
  refused(t, edited((ns) => void (first(ns, "matmul").shape = ["batch", 11])), /\(matmul\): recorded as f32\[batch, 11\], but its inputs and attributes give f32\[batch, 10\]/);
});

test("a recorded dtype that disagrees is refused", (t) => {
  refused(t, edited((ns) => void (first(ns, "argmax").dtype = "f32")), /\(argmax\): recorded as f32\[batch\], but its inputs and attributes give i32\[batch\]/);
});

test("a shape of 2 ** 40 elements is refused before anything is allocated", (t) => {
  refused(t, edited((ns) => void (first(ns, "param").shape = [2 ** 20, 2 ** 20])), /has 1099511627776 elements, more than the limit of 1073741824/);
});

test("a string where a number belongs, and an unknown attribute, are refused", (t) => {
  refused(t, edited((ns) => void (first(ns, "conv2d").attrs.stride = ["1", 1])), /\.attrs\.stride: expected two integers >= 1/);
  refused(t, edited((ns) => void (first(ns, "matmul").attrs.transA = "yes")), /\.attrs\.transA: expected true or false/);
  refused(t, edited((ns) => void (first(ns, "matmul").attrs.evil = 1)), /\.attrs\.evil: not an attribute of matmul/);
});

test("WebGPU and CPU programs over different graphs are refused", (t) => {
  const bytes = reDigested(headerLine, payloadLine, (p: any) => {
    const e = p.model.entries.find((x: { name: string }) => x.name === "predict");
    const c = first(e.gpu.graph.nodes, "const");
    c.attrs.value = (c.attrs.value as number) + 1;
  });
  refused(t, bytes, /gpu\.graph: differs from the CPU program's graph/);
});

test("an infinite constant (a mask's fill) survives the artifact and computes", (t) => {
  const c = new Compilation(
    sourceFile(`import { type Tensor, where, greater, max } from "dlc";
export function predict(x: Tensor<["batch", 3]>): Tensor<["batch"]> { return max(where(greater(x, 0), x, -Infinity), -1); }
`),
  );
  const payload = parseArtifact(c.artifact({ webgpu: true }), "m.dlc");
  const exe = new CpuExecutable(entryOf(payload.model, "predict")!.cpu);
  const [y] = exe.run(new Map([["x", { shape: [2, 3], data: Float32Array.from([1, -2, 3, -1, -2, -3]) }]]), new Map()).values();
  t.deepEqual([...y!.data], [3, -Infinity]);
});

function sourceFile(source: string): string {
  return compileSource(source).file;
}
