// Pooling over NHWC windows; padding must leave every window part of the input.

import { formatShape } from "../dim.js";
import type { Pads, Pair } from "../ops.js";
import { operand, ShapeError, type TensorType, type TypeRules } from "./rule.js";
import { checkGradSize, nhwc, windowOutput } from "./window.js";

function pooled(op: string, x: TensorType, size: Pair, stride: Pair, pad: Pads): TensorType {
  const xi = nhwc(op, "input", x);
  if (pad[0] >= size[0] || pad[1] >= size[0] || pad[2] >= size[1] || pad[3] >= size[1]) {
    throw new ShapeError(`${op}: padding [${pad.join(", ")}] is as large as the ${size.join("x")} window`, "a window must always cover part of the input");
  }
  const [oh, ow] = windowOutput(op, xi.h, xi.w, size, stride, pad);
  return { shape: [xi.n, oh, ow, xi.c], dtype: "f32" };
}

export const POOL_TYPES: TypeRules<"maxPool2d" | "maxPool2dGrad" | "avgPool2d" | "avgPool2dGrad"> = {
  maxPool2d: { arity: 1, infer: (xs, { size, stride, pad }) => pooled("maxPool2d", operand(xs, 0), size, stride, pad) },
  maxPool2dGrad: {
    arity: 2,
    infer: (xs, { size, stride, pad }) => {
      const x = operand(xs, 0);
      const dy = operand(xs, 1);
      const y = pooled("maxPool2dGrad", x, size, stride, pad);
      if (formatShape(y.shape) !== formatShape(dy.shape)) {
        throw new ShapeError(`maxPool2dGrad: gradient ${formatShape(dy.shape)} does not match the pooled shape ${formatShape(y.shape)}`, "pass the gradient of maxPool2d's output");
      }
      return x;
    },
  },
  avgPool2d: { arity: 1, infer: (xs, { size, stride, pad }) => pooled("avgPool2d", operand(xs, 0), size, stride, pad) },
  avgPool2dGrad: {
    arity: 1,
    infer: (xs, { size, stride, pad, inputSize }) => {
      const d = nhwc("avgPool2dGrad", "gradient", operand(xs, 0));
      checkGradSize("avgPool2dGrad", inputSize, size, stride, pad, d);
      return { shape: [d.n, inputSize[0], inputSize[1], d.c], dtype: "f32" };
    },
  },
};
