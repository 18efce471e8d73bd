// The GPU benchmark's reference matmul (bench/webgpu/reference-matmul.ts)
// computes C = A·B: against float64 products on the CPU, on this machine's
// adapter (lavapipe in CI; without one the test fails, never skips).

import test from "ava";
import { referenceMatmul } from "../../bench/webgpu/reference-matmul.js";
import { Random } from "../../runtime/random.js";
import { closeGpu, gpu } from "../helpers/gpu.js";

test.after.always(closeGpu);

test("the reference matmul equals float64 products within 1e-5 (normwise), several tiles each way", async (t) => {
  const ctx = await gpu(t);
  const [m, k, n] = [128, 48, 192];
  const r = new Random(3);
  const a = Float32Array.from({ length: m * k }, () => 2 * r.uniform() - 1);
  const b = Float32Array.from({ length: k * n }, () => 2 * r.uniform() - 1);
  const mm = await referenceMatmul(ctx, a, b, m, k, n);
  const c = await mm.read();
  mm.dispose();
  let [err, norm] = [0, 0];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
      err += (c[i * n + j]! - s) ** 2;
      norm += s * s;
    }
  }
  t.true(Math.sqrt(err / norm) <= 1e-5, `normwise error ${Math.sqrt(err / norm)}`);
  await t.throwsAsync(() => referenceMatmul(ctx, a, b, 100, 48, 192), { message: /multiples of 64/ });
});
