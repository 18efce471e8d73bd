// Readable dumps of the IR: one node per line (`--emit ir`) and Graphviz (`--emit dot`).

import { basename } from "node:path";
import { formatShape } from "../../runtime/program/dim.js";
import type { Init } from "../../runtime/program/ops.js";
import { graphNodes } from "./graph.js";
import type { Graph, Node, TensorType } from "./node.js";
import type { Program } from "./program.js";

export const typeString = (t: TensorType) => `${t.dtype}${formatShape(t.shape)}`;

const fmtNumber = (v: number) => (Number.isInteger(v) ? String(v) : String(Math.fround(v) === v ? v : +v.toPrecision(9)));

/** The op with its attributes, as printed: `matmul transB`, `sum axes=[1]`, `const 0.5`. */
export function opString(n: Node): string {
  switch (n.op) {
    case "input":
    case "param":
      return `${n.op} ${n.attrs.name}`;
    case "const":
      return `const ${typeof n.attrs.value === "number" ? fmtNumber(n.attrs.value) : n.attrs.value}`;
    case "iota":
      return `iota axis=${n.attrs.axis}`;
    case "random":
      return `random salt=${n.attrs.salt}`;
    case "cast":
      return `cast ${n.attrs.to}`;
    case "sum":
    case "max":
      return `${n.op} axes=[${n.attrs.axes.join(", ")}]`;
    case "argmax":
      return `argmax axis=${n.attrs.axis}`;
    case "broadcast":
      return `broadcast dims=[${n.attrs.dims.join(", ")}]`;
    case "transpose":
      return `transpose perm=[${n.attrs.perm.join(", ")}]`;
    case "slice":
      return `slice begin=[${n.attrs.begin.join(", ")}] size=[${n.attrs.size.join(", ")}]`;
    case "pad":
      return `pad before=[${n.attrs.before.join(", ")}] after=[${n.attrs.after.join(", ")}] value=${fmtNumber(n.attrs.value)}`;
    case "matmul":
      return ["matmul", n.attrs.transA ? "transA" : "", n.attrs.transB ? "transB" : ""].filter(Boolean).join(" ");
    case "conv2d":
    case "conv2dInputGrad":
    case "conv2dFilterGrad":
      return [
        `${n.op} stride=${n.attrs.stride.join("x")} pad=[${n.attrs.pad.join(", ")}]`,
        n.attrs.dilation.some((d) => d !== 1) ? `dilation=${n.attrs.dilation.join("x")}` : "",
        n.attrs.groups !== 1 ? `groups=${n.attrs.groups}` : "",
      ].filter(Boolean).join(" ");
    case "maxPool2d":
    case "maxPool2dGrad":
    case "avgPool2d":
    case "avgPool2dGrad":
      return `${n.op} size=${n.attrs.size.join("x")} stride=${n.attrs.stride.join("x")} pad=[${n.attrs.pad.join(", ")}]`;
    case "gather":
      return `gather axis=${n.attrs.axis}`;
    case "scatterAdd":
      return `scatterAdd axis=${n.attrs.axis} size=${n.attrs.size}`;
    case "cumsum":
      return ["cumsum", `axis=${n.attrs.axis}`, n.attrs.exclusive ? "exclusive" : "", n.attrs.reverse ? "reverse" : ""].filter(Boolean).join(" ");
    default:
      return n.op;
  }
}

/** Numbers the nodes of a graph %0, %1, ... in topological order. */
export function numbering(g: Graph): Map<Node, string> {
  return new Map(graphNodes(g).map((n, i) => [n, `%${i}`]));
}

/** The longest text in column `k` (a fold, not Math.max(...rows): a graph can have more rows than a call has room for arguments). */
const widest = (rows: readonly (readonly string[])[], k: number, least = -Infinity) => rows.reduce((w, r) => Math.max(w, r[k]!.length), least);

export function printGraph(g: Graph): string {
  const ids = numbering(g);
  const sig = g.inputs.map((i) => `${i.attrs.name}: ${typeString(i)}`).join(", ");
  const outs = g.outputs.map((o) => `${o.name}: ${typeString(o.node)}`).join(", ");
  const lines = [`entry ${g.name}(${sig}) -> (${outs})`];
  const rows = graphNodes(g).map((n) => {
    const lhs = `  ${ids.get(n)} = ${opString(n)}${n.inputs.length ? " " + n.inputs.map((i) => ids.get(i)).join(", ") : ""}`;
    const loc = n.loc ? `${basename(n.loc.file)}:${n.loc.line}` : "";
    return [lhs, typeString(n), loc] as const;
  });
  const w0 = widest(rows, 0);
  const w1 = widest(rows, 1);
  for (const [lhs, type, loc] of rows) lines.push(`${lhs.padEnd(w0)} : ${type.padEnd(w1)}${loc ? `  ; ${loc}` : ""}`.trimEnd());
  lines.push(`  return ${g.outputs.map((o) => `${o.name}=${ids.get(o.node)}`).join(", ")}`);
  return lines.join("\n");
}

export function initString(init: Init): string {
  switch (init.kind) {
    case "const":
      return `const(${init.value})`;
    case "normal":
      return `normal(${init.std})`;
    case "uniform":
      return `uniform(${init.limit})`;
    default:
      return init.kind;
  }
}

export function printProgram(p: Program, graphs: readonly Graph[] = p.entries): string {
  const lines = [`; dlc IR of ${basename(p.file)}`];
  const count = p.params.reduce((n, d) => n + d.shape.reduce((a, b) => a * b, 1), 0);
  lines.push(`; ${p.params.length} parameters, ${count} values`);
  const rows = p.params.map((d) => [`${d.name} ${formatShape(d.shape)}`, `init=${initString(d.init)}${d.trainable === false ? " frozen" : ""}`, `${basename(d.loc.file)}:${d.loc.line}`] as const);
  const w0 = widest(rows, 0, 0);
  const w1 = widest(rows, 1, 0);
  for (const [decl, init, loc] of rows) lines.push(`param ${decl.padEnd(w0)}  f32 ${init.padEnd(w1)}  ; ${loc}`);
  for (const g of graphs) lines.push("", printGraph(g));
  return lines.join("\n") + "\n";
}

export function printDot(graphs: readonly Graph[]): string {
  const lines = ["digraph dlc {", "  rankdir=TB;", '  node [shape=box, fontname="monospace", fontsize=10];'];
  graphs.forEach((g, gi) => {
    const ids = new Map(graphNodes(g).map((n, i) => [n, `g${gi}n${i}`]));
    lines.push(`  subgraph cluster_${gi} {`, `    label=${JSON.stringify(g.name)};`);
    for (const [n, id] of ids) {
      const style = n.op === "param" ? ", style=filled, fillcolor=lightyellow" : n.op === "input" ? ", style=filled, fillcolor=lightblue" : "";
      lines.push(`    ${id} [label=${JSON.stringify(`${opString(n)}\n${typeString(n)}`)}${style}];`);
    }
    for (const [n, id] of ids) for (const i of n.inputs) lines.push(`    ${ids.get(i)} -> ${id};`);
    for (const o of g.outputs) {
      lines.push(`    out_${gi}_${o.name.replace(/\W/g, "_")} [label=${JSON.stringify(o.name)}, shape=oval];`);
      lines.push(`    ${ids.get(o.node)} -> out_${gi}_${o.name.replace(/\W/g, "_")};`);
    }
    lines.push("  }");
  });
  lines.push("}");
  return lines.join("\n") + "\n";
}
