// Pooling over NHWC windows. Padding never wins a max and is not counted in an
// average. maxPool2d sends each window's gradient to its first maximal element
// (row-major within the window), as PyTorch and TensorFlow do; a NaN in a
// window propagates to the max (as in the `max` reduction) and takes the
// gradient (the first NaN). maxPool2dGrad is not differentiable itself (its
// own gradient would need a gather by argmax position): a second derivative
// through max pooling is reported as such.

import { formatShape } from "../../runtime/program/dim.js";
import { make } from "./make.js";
import { NotDifferentiableError, ShapeError, type OpTable } from "./types.js";
import { checkGradSize, nhwc, windowOutput } from "./window.js";
import type { TensorType } from "../ir/node.js";

function pooled(op: string, x: TensorType, size: readonly [number, number], stride: readonly [number, number], pad: readonly [number, number, number, number]): TensorType {
  const xi = nhwc(op, "input", x);
  if (pad[0] >= size[0] || pad[1] >= size[0] || pad[2] >= size[1] || pad[3] >= size[1]) {
    throw new ShapeError(`${op}: padding [${pad.join(", ")}] is as large as the ${size.join("x")} window`, "a window must always cover part of the input");
  }
  const [oh, ow] = windowOutput(op, xi.h, xi.w, size, stride, pad);
  return { shape: [xi.n, oh, ow, xi.c], dtype: "f32" };
}

export const POOLING: OpTable<"maxPool2d" | "maxPool2dGrad" | "avgPool2d" | "avgPool2dGrad"> = {
  maxPool2d: {
    arity: 1,
    infer: ([x], { size, stride, pad }) => pooled("maxPool2d", x!, size, stride, pad),
    vjp: (node, g) => [make("maxPool2dGrad", [node.inputs[0]!, g], node.attrs)],
  },
  maxPool2dGrad: {
    arity: 2,
    infer: ([x, dy], { size, stride, pad }) => {
      const y = pooled("maxPool2dGrad", x!, size, stride, pad);
      if (formatShape(y.shape) !== formatShape(dy!.shape)) {
        throw new ShapeError(`maxPool2dGrad: gradient ${formatShape(dy!.shape)} does not match the pooled shape ${formatShape(y.shape)}`, "pass the gradient of maxPool2d's output");
      }
      return x!;
    },
    vjp: () => {
      throw new NotDifferentiableError("maxPool2dGrad", "second derivatives through maxPool2d are not supported; use avgPool2d or a smooth function");
    },
  },
  avgPool2d: {
    arity: 1,
    infer: ([x], { size, stride, pad }) => pooled("avgPool2d", x!, size, stride, pad),
    vjp: (node, g) => {
      const x = node.inputs[0]!;
      return [make("avgPool2dGrad", [g], { ...node.attrs, inputSize: [x.shape[1] as number, x.shape[2] as number] })];
    },
  },
  avgPool2dGrad: {
    arity: 1,
    infer: ([dy], { size, stride, pad, inputSize }) => {
      const d = nhwc("avgPool2dGrad", "gradient", dy!);
      checkGradSize("avgPool2dGrad", inputSize, size, stride, pad, d);
      return { shape: [d.n, inputSize[0], inputSize[1], d.c], dtype: "f32" };
    },
    // avgPool2dGrad is the adjoint of avgPool2d, and the adjoint of an adjoint is the map itself.
    vjp: (node, g) => {
      const { size, stride, pad } = node.attrs;
      return [make("avgPool2d", [g], { size, stride, pad })];
    },
  },
};
