// Fashion-MNIST GRU: each image is read as a sequence of 28 rows of 28 pixels, top to bottom,
// by a GRU of 64 units unrolled over the rows (a `for` loop over slice(x, [0, t, 0], [-1, 1, 28]));
// a dense layer classifies the last hidden state. 18,698 parameters.
// Train: npx dlc train models/gru.ts --data data/fashion-mnist/train.csv.gz --test data/fashion-mnist/test.csv.gz --backend cpu
// (data/fashion-mnist/ comes from `npx dlc fetch fashion-mnist`; see README.md)
// Its 8 epochs (Adam 2e-3, cosine, batch 64) reach 0.8845 test accuracy (0.829 after the first, 0.878 after
// the fourth), in about 18 minutes on the CPU backend of a shared 2-core machine (7 to 8.4 steps/s, 112 to
// 159 s an epoch: timings there are noisy). The CPU backend is the faster one for this model: the step is
// 293 small kernels, and on the software WebGPU adapter (lavapipe) it ran at about half the CPU's rate.
import { type Tensor, param, matmul, sigmoid, tanh, reshape, slice, split, softmaxCrossEntropy, argmax, adam } from "dlc";

const rows = 28;
const width = 28;
const hidden = 64;

export function logits(pixels: Tensor<["batch", 784]>): Tensor<["batch", 10]> {
  const x = reshape(pixels / 255, [-1, rows, width]); // [batch, 28, 28]
  // The input and the recurrent halves of the three gates (update, reset, candidate).
  const wx = param("gru.wx", [width, 3 * hidden], "glorot");
  const wh = param("gru.wh", [hidden, 3 * hidden], "glorot");
  const bx = param("gru.bx", [3 * hidden], "zeros");
  const bh = param("gru.bh", [3 * hidden], "zeros");
  let h: Tensor = 0;
  for (let t = 0; t < rows; t++) {
    const row = reshape(slice(x, [0, t, 0], [-1, 1, width]), [-1, width]); // [batch, 28]
    const [xz, xr, xn] = split(matmul(row, wx) + bx, 3, 1);
    if (t === 0) {
      // h = 0: the recurrent half is just its bias.
      const [hz, hr, hn] = split(bh, 3, 0);
      const z = sigmoid(xz + hz);
      h = (1 - z) * tanh(xn + sigmoid(xr + hr) * hn);
    } else {
      const [hz, hr, hn] = split(matmul(h, wh) + bh, 3, 1);
      const z = sigmoid(xz + hz);
      h = (1 - z) * tanh(xn + sigmoid(xr + hr) * hn) + z * h;
    }
  }
  return matmul(h, param("out.w", [hidden, 10], "glorot")) + param("out.b", [10], "zeros");
}

export function predict(pixels: Tensor<["batch", 784]>): Tensor<["batch"], "i32"> {
  return argmax(logits(pixels), -1);
}

export function loss(pixels: Tensor<["batch", 784]>, label: Tensor<["batch"], "i32">): Tensor<[]> {
  return softmaxCrossEntropy(logits(pixels), label);
}

export const train = { optimizer: adam({ lr: 2e-3, schedule: { kind: "cosine" } }), batch: 64, epochs: 8 };
