// Sources: inputs and parameters are supplied by the caller; constants and iota are computed.

import { evalDim } from "../../program/dim.js";
import { strides } from "../ndarray.js";
import type { KernelTable } from "./types.js";

export const SOURCE_KERNELS: KernelTable<"input" | "param" | "const" | "iota"> = {
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
};
