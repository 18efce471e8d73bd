// Entry points: the exported functions whose parameters are all typed
// `Tensor<[dims], dtype>`. Each is traced once: its parameters become `input`
// nodes with the declared shapes, its body is evaluated, and what it returns
// becomes the graph's outputs. A declared return type is checked against the
// traced result.

import { Node as Ast, type ParameterDeclaration, type TypeNode } from "ts-morph";
import { canonical, dimEq, formatShape, isSymbolName, symbolsOf, type Dim } from "../../runtime/program/dim.js";
import { topoSort } from "../ir/graph.js";
import { typeString } from "../ir/print.js";
import type { DType } from "../../runtime/program/ops.js";
import type { Graph, Node, NodeOf, Output } from "../ir/node.js";
import { full } from "../ops/build.js";
import { make } from "../ops/make.js";
import type { Evaluator } from "./evaluator.js";
import { Closure, ObjectValue, TensorValue, typeName, type Value } from "./values.js";

export interface TensorAnnotation {
  readonly shape: Dim[];
  readonly dtype: DType;
}

/**
 * Reads `Tensor<["batch", 784]>` or `Tensor<[], "i32">` (also through a local
 * type alias). Returns undefined for a type that is not Tensor at all, and
 * reports a Tensor type that dlc cannot read.
 */
export function readTensorType(ev: Evaluator, type: TypeNode | undefined): TensorAnnotation | undefined {
  if (!type || !Ast.isTypeReference(type)) return undefined;
  const nameNode = type.getTypeName();
  const name = Ast.isQualifiedName(nameNode) ? nameNode.getRight().getText() : nameNode.getText();
  if (name !== "Tensor") {
    const alias = type.getSourceFile().getTypeAlias(name);
    return alias ? readTensorType(ev, alias.getTypeNode()) : undefined;
  }
  const [shapeArg, dtypeArg] = type.getTypeArguments();
  const hint = 'write the shape as a tuple of numbers and names: Tensor<["batch", 784]> or Tensor<["batch"], "i32">';
  if (!shapeArg || !Ast.isTupleTypeNode(shapeArg)) ev.fail("DLC4002", "an entry point's tensor parameter needs a shape", hint, type);
  const shape = shapeArg.getElements().map((el) => {
    const lit = Ast.isLiteralTypeNode(el) ? el.getLiteral() : undefined;
    if (lit && Ast.isNumericLiteral(lit) && Number.isInteger(lit.getLiteralValue()) && lit.getLiteralValue() >= 0) return lit.getLiteralValue();
    if (lit && Ast.isStringLiteral(lit) && isSymbolName(lit.getLiteralValue())) return lit.getLiteralValue();
    return ev.fail("DLC4002", `'${el.getText()}' is not a dimension`, "a dimension is a non-negative integer or a name such as \"batch\"", el);
  });
  let dtype: DType = "f32";
  if (dtypeArg) {
    const lit = Ast.isLiteralTypeNode(dtypeArg) ? dtypeArg.getLiteral() : undefined;
    const v = lit && Ast.isStringLiteral(lit) ? lit.getLiteralValue() : undefined;
    if (v !== "f32" && v !== "i32") ev.fail("DLC4002", `'${dtypeArg.getText()}' is not a dtype`, 'dtypes are "f32" and "i32"', dtypeArg);
    dtype = v;
  }
  return { shape, dtype };
}

/** Whether a type is written Tensor<[...]> (directly or through a local alias), without reading it. */
function hasShapedTensorType(type: TypeNode | undefined): boolean {
  if (!type || !Ast.isTypeReference(type)) return false;
  const nameNode = type.getTypeName();
  const name = Ast.isQualifiedName(nameNode) ? nameNode.getRight().getText() : nameNode.getText();
  if (name === "Tensor") return type.getTypeArguments().length > 0;
  const alias = type.getSourceFile().getTypeAlias(name);
  return alias ? hasShapedTensorType(alias.getTypeNode()) : false;
}

/** The tensor types of an exported function's parameters, or undefined if it is not an entry point. */
export function entrySignature(ev: Evaluator, name: string, fn: Closure): { param: ParameterDeclaration; type: TensorAnnotation }[] | undefined {
  const params = fn.decl.getParameters();
  const special = name === "loss" || name === "predict";
  // A helper such as dense(name: string, x: Tensor) is exported freely; an entry point's
  // parameters all have shaped tensor types. `loss` and `predict` must be entry points.
  if (!special && (params.length === 0 || !params.every((p) => hasShapedTensorType(p.getTypeNode())))) return undefined;
  if (params.length === 0) ev.fail("DLC4002", `'${name}' must take tensor parameters`, `declare them, e.g. ${name}(x: Tensor<["batch", 4]>)`, fn.decl);
  const types = params.map((p) => readTensorType(ev, p.getTypeNode()));
  params.forEach((p, i) => {
    if (!types[i]) {
      ev.fail("DLC4002", `parameter '${p.getName()}' of entry point '${name}' is not typed as a tensor`, 'every parameter of an entry point is a Tensor<[dims], dtype>, e.g. Tensor<["batch", 784]>', p);
    }
    if (p.isRestParameter() || p.hasInitializer()) ev.fail("DLC4002", `parameter '${p.getName()}' of entry point '${name}' cannot be optional or rest`, "entry points take exactly their tensor inputs", p);
  });
  return params.map((param, i) => ({ param, type: types[i]! }));
}

/** Evaluates an entry point on fresh inputs and returns its graph. */
export function traceEntry(ev: Evaluator, name: string, fn: Closure, signature: { param: ParameterDeclaration; type: TensorAnnotation }[]): Graph {
  const inputs = signature.map(({ param, type }) =>
    ev.at(param, () => make("input", [], { name: param.getName(), shape: type.shape.map(canonical), dtype: type.dtype })),
  );
  const result = ev.apply(fn, inputs.map((n) => new TensorValue(n)), fn.decl, name);
  const outputs = collectOutputs(ev, name, result, fn);
  checkSymbols(ev, name, inputs, outputs, fn);
  const declared = readTensorType(ev, fn.decl.getReturnTypeNode());
  if (declared && outputs.length === 1) checkReturn(ev, name, outputs[0]!.node, declared, fn);
  return { name, inputs: inputs as NodeOf<"input">[], outputs };
}

function collectOutputs(ev: Evaluator, name: string, result: Value, fn: Closure): Output[] {
  const asNode = (v: Value, what: string) => {
    if (v instanceof TensorValue) return v.node;
    if (typeof v === "number") return ev.at(fn.decl, () => full(v, []));
    return ev.fail("DLC4002", `${what} must be a tensor, got ${typeName(v)}`, "return a tensor, or an object of tensors for several outputs", fn.decl.getReturnTypeNode() ?? fn.decl);
  };
  if (result instanceof ObjectValue && !result.tag) return [...result.props].map(([k, v]) => ({ name: k, node: asNode(v, `output '${k}' of ${name}`) }));
  return [{ name, node: asNode(result, `the result of ${name}`) }];
}

/** Every symbolic size must be bound by an input at run time. */
function checkSymbols(ev: Evaluator, name: string, inputs: readonly Node[], outputs: readonly Output[], fn: Closure): void {
  const bound = new Set(inputs.flatMap((i) => symbolsOf(i.shape)));
  for (const n of topoSort(outputs.map((o) => o.node))) {
    const free = symbolsOf(n.shape).find((s) => !bound.has(s));
    if (free !== undefined) {
      ev.fail("DLC4002", `'${free}' in ${typeString(n)} is not a dimension of any input of ${name}`, `symbolic sizes get their values from the inputs; add '${free}' to an input's shape or use a number`, fn.decl);
    }
  }
}

function checkReturn(ev: Evaluator, name: string, node: Node, declared: TensorAnnotation, fn: Closure): void {
  const ok = node.shape.length === declared.shape.length && node.shape.every((d, i) => dimEq(d, declared.shape[i]!)) && node.dtype === declared.dtype;
  if (!ok) {
    ev.fail(
      "DLC2003",
      `${name} returns ${node.dtype}${formatShape(node.shape)} but is declared to return ${declared.dtype}${formatShape(declared.shape)}`,
      "fix the declared return type or the computation",
      fn.decl.getReturnTypeNode()!,
    );
  }
}
