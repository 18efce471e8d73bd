// Sources: inputs and parameters are supplied by the caller; constants, iota and random are computed.

import { evalDim } from "../../program/dim.js";
import { randomAt } from "../../program/philox.js";
import { strides } from "../ndarray.js";
import type { KernelTable } from "./types.js";

export const SOURCE_KERNELS: KernelTable<"input" | "param" | "const" | "iota" | "random"> = {
  input: "source",
  param: "source",
  const: (out, _inputs, { value }, env) => {
    out.data.fill(typeof value === "number" ? value : evalDim(value, env));
  },
  iota: (out, _inputs, { axis }) => {
    const n = out.shape[axis]!;
    const stride = strides(out.shape)[axis]!;
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = Math.floor(i / stride) % n;
  },
  random: (out, [key], { salt }) => {
    const [k0, k1] = key!.data;
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = randomAt(i, salt, k0!, k1!);
  },
};
