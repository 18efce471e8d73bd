// Traversals over graphs.

import type { Graph, Node, NodeOf } from "./node.js";

/** The nodes reachable from `roots`, each after all of its inputs. */
export function topoSort(roots: readonly Node[]): Node[] {
  const order: Node[] = [];
  const done = new Set<Node>();
  const stack: { node: Node; next: number }[] = [];
  for (const root of roots) {
    if (done.has(root)) continue;
    stack.push({ node: root, next: 0 });
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.node.inputs.length) {
        const input = top.node.inputs[top.next++]!;
        if (!done.has(input)) stack.push({ node: input, next: 0 });
      } else {
        stack.pop();
        if (!done.has(top.node)) {
          done.add(top.node);
          order.push(top.node);
        }
      }
    }
  }
  return order;
}

export function graphNodes(g: Graph): Node[] {
  return topoSort([...g.inputs, ...g.outputs.map((o) => o.node)]);
}

export function paramsOf(g: Graph): NodeOf<"param">[] {
  return graphNodes(g).filter((n): n is NodeOf<"param"> => n.op === "param");
}

/** How many times each node is used as an input (outputs count once each). */
export function useCounts(g: Graph): Map<Node, number> {
  const uses = new Map<Node, number>();
  for (const n of graphNodes(g)) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of g.outputs) uses.set(o.node, (uses.get(o.node) ?? 0) + 1);
  return uses;
}

/**
 * Rebuilds a graph bottom-up: `rewrite` sees each node with its inputs already
 * rewritten and returns its replacement. The backbone of every pass.
 */
export function mapGraph(g: Graph, rewrite: (node: Node, inputs: readonly Node[]) => Node): Graph {
  const memo = new Map<Node, Node>();
  for (const n of graphNodes(g)) {
    const inputs = n.inputs.map((i) => memo.get(i)!);
    memo.set(n, rewrite(n, inputs));
  }
  const inputs = g.inputs.map((i) => memo.get(i) as NodeOf<"input">);
  return { name: g.name, inputs, outputs: g.outputs.map((o) => ({ name: o.name, node: memo.get(o.node)! })) };
}
