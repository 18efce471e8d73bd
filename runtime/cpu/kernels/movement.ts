// Movement: reshape shares its input's data; broadcast and transpose gather.

import { strides } from "../ndarray.js";
import { gather } from "./strided.js";
import type { KernelTable } from "./types.js";

export const MOVEMENT_KERNELS: KernelTable<"reshape" | "broadcast" | "transpose"> = {
  reshape: "alias",
  broadcast: (out, [x], { dims }) => {
    const inStrides = strides(x!.shape);
    const src = out.shape.map(() => 0);
    dims.forEach((d, i) => {
      if (x!.shape[i] !== 1) src[d] = inStrides[i]!;
    });
    gather(out.data, x!.data, out.shape, src);
  },
  transpose: (out, [x], { perm }) => {
    const inStrides = strides(x!.shape);
    gather(out.data, x!.data, out.shape, perm.map((p) => inStrides[p]!));
  },
};
