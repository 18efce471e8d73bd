// `--explain-fusion`: for the training step, every value that got a buffer
// and why, and what each kernel computes.

import { trainingGraph } from "../autodiff/training.js";
import { compileModel } from "../frontend/compile.js";
import { FALLBACK_TRAIN } from "../../runtime/program/train-config.js";
import { numbering, opString } from "../ir/print.js";
import { trainStep } from "../optim/step.js";
import { anchorOf, closure, partition } from "./kernels.js";
import { basename } from "node:path";

export function explainFusion(file: string): string[] {
  const program = compileModel(file, { requireLoss: true });
  const step = trainStep(trainingGraph(program).graph, (program.train ?? FALLBACK_TRAIN).optimizer).graph;
  const part = partition(step);
  const ids = numbering(step);
  const where = (n: { loc?: { file: string; line: number } | undefined }) => (n.loc ? ` (${basename(n.loc.file)}:${n.loc.line})` : "");
  const lines = ["fusion of the training step (values with buffers, and why):"];
  for (const [n, why] of part.reasons) lines.push(`  ${ids.get(n)} ${opString(n)}${where(n)}: ${why}`);
  lines.push("", "kernels (outputs <- the values they compute inline):");
  part.kernels.forEach((k, i) => {
    const inline = new Set(k.outputs.flatMap((o) => closure(o, part.materialized)));
    const ops = [...inline].filter((n) => n.op !== "const" && n.op !== "reshape").map((n) => ids.get(n)).join(" ");
    const anchor = anchorOf(k);
    lines.push(`  k${i} ${k.kind}${anchor ? ` around ${ids.get(anchor)} ${anchor.op}` : ""}: ${k.outputs.map((o) => ids.get(o)).join(", ")} <- ${ops}`);
  });
  return lines;
}
