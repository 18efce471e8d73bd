// The artifact checks know gather, scatterAdd and cumsum: a trained
// embedding model's artifact (forward and step graphs, CPU and WebGPU) loads,
// and edited attributes of each op are refused in one line naming the node.

import test from "ava";
import { ArtifactError, decodeNumbers, encodeNumbers } from "../../../runtime/artifact/format.js";
import { parseArtifact } from "../../../runtime/artifact/read.js";
import { sourceCompilation } from "../../helpers/compile.js";
import { reDigested, refusedArtifact } from "../../helpers/artifact.js";

const MODEL = `
import { type Tensor, param, matmul, mean, gather, cumsum, softmaxCrossEntropy, sgd } from "dlc";
export function logits(tokens: Tensor<["batch", 5], "i32">): Tensor<["batch", 3]> {
  return matmul(mean(cumsum(gather(param("emb", [20, 4], { normal: 0.1 }), tokens), 1, { reverse: true }), 1), param("w", [4, 3], "glorot"));
}
export function loss(tokens: Tensor<["batch", 5], "i32">, y: Tensor<["batch"], "i32">): Tensor<[]> {
  return softmaxCrossEntropy(logits(tokens), y);
}
export const train = { optimizer: sgd({ lr: 0.1 }), batch: 4, epochs: 1 };
`;

const [headerLine, payloadLine] = Buffer.from(sourceCompilation(MODEL).artifact({ training: true, webgpu: true })).toString("utf8").split("\n") as [string, string];

interface Node {
  op: string;
  attrs: Record<string, unknown>;
}

/** The payload with `edit` applied to the first node of `op` in every graph holding one, digest recomputed. */
function edited(op: string, edit: (n: Node) => void): Uint8Array {
  return reDigested(headerLine, payloadLine, (p: any) => {
    let found = false;
    for (const e of [...p.model.entries, p.model.train.step]) {
      for (const g of [e.cpu.graph, e.gpu?.graph]) {
        const n = g?.nodes.find((x: Node) => x.op === op);
        if (n) {
          edit(n);
          found = true;
        }
      }
    }
    if (!found) throw new Error(`no ${op} in the artifact`);
  });
}

const refused = refusedArtifact;

test("an embedding model's artifact, with gather, scatterAdd and cumsum, loads", (t) => {
  t.true(payloadLine.includes('"op":"gather"') && payloadLine.includes('"op":"scatterAdd"') && payloadLine.includes('"op":"cumsum"'));
  t.truthy(parseArtifact(Buffer.from(`${headerLine}\n${payloadLine}\n`), "m.dlc").model.train);
});

test("edited gather, scatterAdd and cumsum attributes are refused", (t) => {
  refused(t, edited("gather", (n) => void (n.attrs.axis = 2)), /\(gather\): gather: axis 2 is out of range/);
  refused(t, edited("gather", (n) => void (n.attrs.axis = -1)), /\.attrs\.axis: expected an integer >= 0/);
  refused(t, edited("scatterAdd", (n) => void (n.attrs.size = 0)), /\.attrs\.size: expected a positive size/);
  refused(t, edited("scatterAdd", (n) => void (n.attrs.size = 21)), /\(scatterAdd\): recorded as f32\[20, 4\]/);
  refused(t, edited("cumsum", (n) => void (n.attrs.exclusive = "yes")), /\.attrs\.exclusive: expected true or false/);
  refused(t, edited("cumsum", (n) => void delete n.attrs.reverse), /\.attrs\.reverse: expected true or false/);
});
