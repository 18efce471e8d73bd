// Every primitive's CPU kernel, in one table whose type demands them all.

import type { Op } from "../../program/ops.js";
import { conv2d, conv2dFilterGrad, conv2dInputGrad } from "./conv.js";
import { ELEMENTWISE_KERNELS } from "./elementwise.js";
import { matmul } from "./matmul.js";
import { MOVEMENT_KERNELS } from "./movement.js";
import { avgPool2d, avgPool2dGrad, maxPool2d, maxPool2dGrad } from "./pool.js";
import { REDUCE_KERNELS } from "./reduce.js";
import { SOURCE_KERNELS } from "./source.js";
import { SLICING_KERNELS } from "./slicing.js";
import type { KernelTable } from "./types.js";
import { GATHER_KERNELS } from "./gather.js";
import { SCAN_KERNELS } from "./scan.js";

export const KERNELS: KernelTable<Op> = {
  ...SOURCE_KERNELS,
  ...ELEMENTWISE_KERNELS,
  ...REDUCE_KERNELS,
  ...MOVEMENT_KERNELS,
  matmul,
  conv2d,
  conv2dInputGrad,
  conv2dFilterGrad,
  maxPool2d,
  maxPool2dGrad,
  avgPool2d,
  avgPool2dGrad,
  ...GATHER_KERNELS,
  ...SCAN_KERNELS,
  ...SLICING_KERNELS,
};
