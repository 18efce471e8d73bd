// An artifact with dilated, grouped, depthwise, 1-D and transposed
// convolutions loads, and is refused in one line naming the node when a
// convolution's dilation or groups are edited: missing, zero, fractional, or
// consistent in themselves but not with the shapes the node records.

import test from "ava";
import { join } from "node:path";
import { Compilation } from "../../../compiler/compilation.js";
import { parseArtifact } from "../../../runtime/artifact/read.js";
import { ROOT } from "../../helpers/paths.js";
import { reDigested, refusedArtifact as refused } from "../../helpers/artifact.js";

const model = new Compilation(join(ROOT, "test/corpus/good/convolutions.ts"));
const [headerLine, payloadLine] = Buffer.from(model.artifact({ training: true, webgpu: true })).toString("utf8").split("\n") as [string, string];

interface Node {
  op: string;
  attrs: Record<string, unknown>;
}

/** The artifact with the attributes of the first `op` node of the training step that `pick`s edited. */
function edited(op: string, edit: (attrs: Record<string, unknown>) => void, pick: (attrs: Record<string, unknown>) => boolean = () => true): Uint8Array {
  return reDigested(headerLine, payloadLine, (p: any) => {
    const step = p.model.train.step;
    for (const g of [step.cpu.graph, step.gpu.graph]) edit((g.nodes as Node[]).find((n) => n.op === op && pick(n.attrs))!.attrs);
  });
}

const grouped = (a: Record<string, unknown>) => a.groups !== 1;
const dilated = (a: Record<string, unknown>) => (a.dilation as number[]).some((d) => d !== 1);

test("an artifact with every kind of convolution passes", (t) => {
  t.notThrows(() => parseArtifact(Buffer.from(`${headerLine}\n${payloadLine}\n`), "m.dlc"));
});

test("a convolution written before dilation and groups existed loads with 1 for both; where that contradicts its shapes it is refused", (t) => {
  const plain = (a: Record<string, unknown>) => a.groups === 1 && (a.dilation as number[]).every((d) => d === 1);
  t.notThrows(() => parseArtifact(edited("conv2d", (a) => void (delete a.dilation, delete a.groups), plain), "m.dlc"));
  refused(t, edited("conv2d", (a) => void delete a.dilation, dilated), /\(conv2d\): recorded as f32\[batch, 9, 9, 8\], but its inputs and attributes give f32\[batch, 11, 11, 8\]/);
});

test("a convolution with zero or fractional dilation or groups is refused", (t) => {
  refused(t, edited("conv2dFilterGrad", (a) => void (a.dilation = [0, 1])), /\.attrs\.dilation: expected two integers >= 1/);
  refused(t, edited("conv2dInputGrad", (a) => void (a.groups = 1.5)), /\.attrs\.groups: expected an integer >= 1/);
  refused(t, edited("conv2dInputGrad", (a) => void (a.groups = 0)), /\.attrs\.groups: expected an integer >= 1/);
});

test("groups or a dilation that disagree with the recorded shapes are refused by the type rules", (t) => {
  // The grouped conv2d's 8 input channels do not split into 3 groups.
  refused(t, edited("conv2d", (a) => void (a.groups = 3), grouped), /\(conv2d\): conv2d: the input's 8 channels do not split into 3 groups/);
  // The depthwise kernel [3, 3, 1, 16] with 4 groups reads 2 channels per group, not 1.
  refused(t, edited("conv2d", (a) => void (a.groups = 4), (a) => a.groups === 8), /\(conv2d\): conv2d: the input's 8 channels in 4 groups are 2 per group, but the kernel \[3, 3, 1, 16\] expects 1/);
  // Another dilation gives another output size than the node records.
  refused(t, edited("conv2d", (a) => void (a.dilation = [1, 1]), dilated), /\(conv2d\): recorded as f32\[batch, 9, 9, 8\], but its inputs and attributes give f32\[batch, 11, 11, 8\]/);
  refused(t, edited("conv2dFilterGrad", (a) => void (a.dilation = [3, 3]), dilated), /conv2dFilterGrad: .*(spans|gradient is)/);
  refused(t, edited("conv2dFilterGrad", (a) => void (a.groups = 1), grouped), /\(conv2dFilterGrad\): recorded as f32\[3, 3, \d+, \d+\], but its inputs and attributes give/);
});
