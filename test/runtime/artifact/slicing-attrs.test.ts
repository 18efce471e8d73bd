// An artifact with slices and pads loads, runs, and is refused in one line
// naming the node when a slice's or pad's attributes are edited.

import test from "ava";
import { join } from "node:path";
import { Compilation } from "../../../compiler/compilation.js";
import { ArtifactError, decodeNumbers, encodeNumbers } from "../../../runtime/artifact/format.js";
import { parseArtifact } from "../../../runtime/artifact/read.js";
import { ROOT } from "../../helpers/paths.js";
import { reDigested, refusedArtifact } from "../../helpers/artifact.js";

const model = new Compilation(join(ROOT, "test/corpus/good/slicing.ts"));
const [headerLine, payloadLine] = Buffer.from(model.artifact({ training: true, webgpu: true })).toString("utf8").split("\n") as [string, string];

interface Node {
  op: string;
  attrs: Record<string, unknown>;
}

function edited(op: string, edit: (attrs: Record<string, unknown>) => void): Uint8Array {
  return reDigested(headerLine, payloadLine, (p: any) => {
    const e = p.model.entries.find((x: { name: string }) => x.name === "features");
    for (const g of [e.cpu.graph, e.gpu.graph]) edit((g.nodes as Node[]).find((n) => n.op === op)!.attrs);
  });
}

const refused = refusedArtifact;

test("an artifact with slices and pads passes", (t) => {
  t.notThrows(() => parseArtifact(Buffer.from(`${headerLine}\n${payloadLine}\n`), "m.dlc"));
});

test("a slice past the end of its axis is refused by the type rule", (t) => {
  refused(t, edited("slice", (a) => void (a.begin = [0, 7])), /\(slice\): slice: \[7, 7 \+ \d+\) is not inside axis 1/);
});

test("a negative pad, a pad value that is not a number, and an unknown attribute are refused", (t) => {
  refused(t, edited("pad", (a) => void (a.before = [0, -1])), /\.attrs\.before: expected a list of integers >= 0/);
  refused(t, edited("pad", (a) => void (a.value = "0")), /\.attrs\.value: expected a finite number/);
  refused(t, edited("slice", (a) => void (a.stride = [1, 1])), /\.attrs\.stride: not an attribute of slice/);
});
