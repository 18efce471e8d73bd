// Compile-time JavaScript: everything here runs in the compiler, and only the
// tensor operations remain in the graph.
import { type Tensor, param, matmul, relu, tanh, mean, sgd } from "dlc";

interface LayerSpec {
  name: string;
  width: number;
  act?: "relu" | "tanh";
}

const widths = [8, 6, 4];
const specs: LayerSpec[] = widths.map((width, i) => ({ name: `h${i}`, width, act: i % 2 === 0 ? "relu" : "tanh" }));
const [first, ...rest] = specs;
const all = [first!, ...rest, { name: "out", width: 1 }];
const options = { ...{ scale: 2, bias: true }, scale: 0.5 };

function activation(kind: LayerSpec["act"]): (x: Tensor) => Tensor {
  switch (kind) {
    case "relu":
      return relu;
    case "tanh":
      return (x) => tanh(x);
    default:
      return (x) => x;
  }
}

function dense(x: Tensor, inputs: number, { name, width, act }: LayerSpec, withBias = options.bias): Tensor {
  const y = matmul(x, param(`${name}.w`, [inputs, width], "glorot"));
  return activation(act)(withBias ? y + param(`${name}.b`, [width], "zeros") : y);
}

// Recursion that ends at compile time.
function stack(x: Tensor, inputs: number, layers: LayerSpec[]): Tensor {
  if (layers.length === 0) return x;
  const [head, ...tail] = layers;
  return stack(dense(x, inputs, head!), head!.width, tail);
}

let unrolled = 0;
while (unrolled < 3) unrolled++;
for (const w of widths) if (w > 100) throw new Error("too wide");

export function predict(x: Tensor<["batch", 5]>): Tensor<["batch", 1]> {
  return stack(x * options.scale, 5, all);
}

export function loss(x: Tensor<["batch", 5]>, y: Tensor<["batch", 1]>): Tensor<[]> {
  const err = predict(x) - y;
  return mean(err ** 2) * (unrolled === 3 ? 1 : 0);
}

export const train = { optimizer: sgd({ lr: 0.01, momentum: 0.9, nesterov: true }), batch: 8, epochs: 2 };
