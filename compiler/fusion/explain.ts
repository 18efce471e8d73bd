// `--explain-fusion`: for the training step, every value that got a buffer
// and why, and what each kernel computes.

import type { Graph } from "../ir/node.js";
import { numbering, opString } from "../ir/print.js";
import { anchorOf, closure, type Partition } from "./kernels.js";
import { basename } from "node:path";

/** `part` is the fusion plan of `step` (a Compilation's `plan(step().graph)`). */
export function explainFusion(step: Graph, part: Partition): string[] {
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
