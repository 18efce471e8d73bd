// Pooling over NHWC windows. Padding never wins a max and is not counted in an
// average. maxPool2d sends each window's gradient to its first maximal element
// (row-major within the window), as PyTorch and TensorFlow do; a NaN in a
// window propagates to the max (as in the `max` reduction) and takes the
// gradient (the first NaN). maxPool2dGrad is not differentiable itself (its
// own gradient would need a gather by argmax position): a second derivative
// through max pooling is reported as such. Type rules: runtime/program/shapes/pool.ts.

import { make } from "./make.js";
import { NotDifferentiableError, type OpTable } from "./types.js";

export const POOLING: OpTable<"maxPool2d" | "maxPool2dGrad" | "avgPool2d" | "avgPool2dGrad"> = {
  maxPool2d: {
    vjp: (node, g) => [make("maxPool2dGrad", [node.inputs[0]!, g], node.attrs)],
  },
  maxPool2dGrad: {
    vjp: () => {
      throw new NotDifferentiableError("maxPool2dGrad", "second derivatives through maxPool2d are not supported; use avgPool2d or a smooth function");
    },
  },
  avgPool2d: {
    vjp: (node, g) => {
      const x = node.inputs[0]!;
      return [make("avgPool2dGrad", [g], { ...node.attrs, inputSize: [x.shape[1] as number, x.shape[2] as number] })];
    },
  },
  avgPool2dGrad: {
    // avgPool2dGrad is the adjoint of avgPool2d, and the adjoint of an adjoint is the map itself.
    vjp: (node, g) => {
      const { size, stride, pad } = node.attrs;
      return [make("avgPool2d", [g], { size, stride, pad })];
    },
  },
};
