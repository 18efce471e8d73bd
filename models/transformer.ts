// Fashion-MNIST patch transformer (a small ViT): the 28x28 image is cut into 16 patches of 7x7 pixels
// (a reshape and a transpose of [batch, 28, 28] into [batch, 16, 49]), each embedded linearly into
// d_model = 64; a learned class token is joined in front (concat) and learned position embeddings,
// gathered from a [17, 64] table by the indices 0..16, are added; two pre-norm encoder blocks
// (4-head self-attention, then an MLP 64 -> 128 -> 64 with GELU, each around a residual) follow, and a
// dense layer classifies the class token's final state. 71,946 parameters.
// Train: npx dlc train models/transformer.ts --data data/fashion-mnist/train.csv.gz --test data/fashion-mnist/test.csv.gz --backend webgpu
// (data/fashion-mnist/ comes from `npx dlc fetch fashion-mnist`; see README.md)
// Its 5 epochs (Adam 3e-3, 500 warmup steps then cosine, batch 64) reach 0.8818 test accuracy (0.807 after
// the first, 0.878 after the fourth). That run's attention also had a bias on the keys, removed since:
// a softmax over the keys does not change when every key's score moves by the same amount, so that
// bias's gradient is exactly zero and the model computes the same function without it (its 128
// parameters only took steps of rounding noise). A re-run of this file stood at 0.814 after the first
// epoch when it was stopped. On the software WebGPU adapter (lavapipe) of a shared 2-core machine
// this run took 30 minutes while another training and a test suite shared the cores (2.6 to 3.4 steps/s,
// 277 to 363 s an epoch). A loop of the step alone ran at 4.6 steps/s: on a quiet machine the 5 epochs
// should take about 19 minutes (an estimate, not measured). The CPU backend ran the step at 2.7 to 3.2
// steps/s where WebGPU ran 3.1 to 4.1 (lavapipe uses both cores): WebGPU is the faster one here.
// The token-wise layers multiply [batch * 17, 64] by their weights: written as [batch, 17, 64] @ [64, n],
// the product broadcasts the weight over the batch and the step took 1.3 times as long.
import {
  type Tensor,
  param,
  matmul,
  reshape,
  transpose,
  broadcastTo,
  concat,
  slice,
  gather,
  cumsum,
  cast,
  softmax,
  layerNorm,
  gelu,
  softmaxCrossEntropy,
  argmax,
  adam,
} from "dlc";

const patch = 7; // 7x7 patches: a 4x4 grid of 16 tokens of 49 pixels
const grid = 28 / patch;
const patches = grid * grid;
const tokens = patches + 1; // the class token first
const dModel = 64;
const heads = 4;
const dHead = dModel / heads;
const dMlp = 128;
const blocks = 2;

// Token-wise layers act on [batch * tokens, features]: one [rows, in] x [in, out] product per layer.
function dense(name: string, x: Tensor, inputs: number, outputs: number): Tensor {
  return matmul(x, param(`${name}.w`, [inputs, outputs], "glorot")) + param(`${name}.b`, [outputs], "zeros");
}

// Layer normalization over d_model with a learned scale and shift.
function norm(name: string, x: Tensor): Tensor {
  return layerNorm(x) * param(`${name}.g`, [dModel], "ones") + param(`${name}.b`, [dModel], "zeros");
}

// Columns [from, from + d_model) of [batch * tokens, 3 * d_model] as [batch, heads, tokens, d_head].
function heads_(qkv: Tensor, from: number): Tensor {
  return transpose(reshape(slice(qkv, [0, from], [-1, dModel]), [-1, tokens, heads, dHead]), [0, 2, 1, 3]);
}

// Multi-head self-attention over x: [batch * tokens, d_model].
function attention(name: string, x: Tensor): Tensor {
  // The keys have no bias: q . (k + b) adds q . b to every score of a query, which the softmax cancels, so
  // its gradient is zero (rounding noise, which Adam would scale up to steps of the full learning rate).
  const bias = concat([param(`${name}.q.b`, [dModel], "zeros"), broadcastTo(0, [dModel]), param(`${name}.v.b`, [dModel], "zeros")], 0);
  const qkv = matmul(x, param(`${name}.qkv.w`, [dModel, 3 * dModel], "glorot")) + bias; // [batch * tokens, q | k | v]
  const q = heads_(qkv, 0);
  const k = heads_(qkv, dModel);
  const v = heads_(qkv, 2 * dModel);
  const weights = softmax(matmul(q, transpose(k, [0, 1, 3, 2])) / Math.sqrt(dHead), -1); // [batch, heads, tokens, tokens]
  const mixed = reshape(transpose(matmul(weights, v), [0, 2, 1, 3]), [-1, dModel]); // heads side by side again
  return dense(`${name}.out`, mixed, dModel, dModel);
}

function mlp(name: string, x: Tensor): Tensor {
  return dense(`${name}.fc2`, gelu(dense(`${name}.fc1`, x, dModel, dMlp)), dMlp, dModel);
}

export function logits(pixels: Tensor<["batch", 784]>): Tensor<["batch", 10]> {
  // [batch, 28, 28] -> [batch, 4, 7, 4, 7] -> [batch, 4, 4, 7, 7] -> [batch, 16, 49]: patch (i, j) is token 4i + j.
  const image = reshape((pixels / 255 - 0.286) / 0.353, [-1, grid, patch, grid, patch]); // the training set's mean and std
  const flat = reshape(transpose(image, [0, 1, 3, 2, 4]), [-1, patch * patch]); // [batch * 16, 49]
  const embedded = reshape(dense("embed", flat, patch * patch, dModel), [-1, patches, dModel]);
  const cls = broadcastTo(param("cls", [1, 1, dModel], { normal: 0.02 }), ["batch", 1, dModel]);
  // Learned position embeddings: rows 0..16 of a table, looked up by an i32 index tensor (0, 1, ..., 16).
  const positions = cast(cumsum(broadcastTo(1, [tokens]), 0, { exclusive: true }), "i32");
  const posTable = param("pos", [tokens, dModel], { normal: 0.02 });
  const joined = concat([cls, embedded], 1) + gather(posTable, positions); // [batch, 17, d_model]
  let x = reshape(joined, [-1, dModel]); // [batch * 17, d_model]
  for (let b = 0; b < blocks; b++) {
    x = x + attention(`block${b}.attn`, norm(`block${b}.ln1`, x));
    x = x + mlp(`block${b}.mlp`, norm(`block${b}.ln2`, x));
  }
  const out = reshape(slice(reshape(x, [-1, tokens, dModel]), [0, 0, 0], [-1, 1, -1]), [-1, dModel]); // the class token
  return dense("head", norm("final", out), dModel, 10);
}

export function predict(pixels: Tensor<["batch", 784]>): Tensor<["batch"], "i32"> {
  return argmax(logits(pixels), -1);
}

export function loss(pixels: Tensor<["batch", 784]>, label: Tensor<["batch"], "i32">): Tensor<[]> {
  return softmaxCrossEntropy(logits(pixels), label);
}

export const train = { optimizer: adam({ lr: 3e-3, schedule: { kind: "warmup", steps: 500, then: { kind: "cosine" } } }), batch: 64, epochs: 5 };
