// cumsum is a primitive rather than a composite. As a composite it would be a
// sum over a masked broadcast (or a matmul by a triangular matrix): n^2 work
// and an n x n intermediate per row, where a scan is n. As a primitive its
// gradient is the same op run the other way: the cotangent of x[j] is the sum
// of g[i] over the outputs that include x[j], i >= j for a forward scan, which
// is cumsum(g) reversed (with the same exclusiveness). Type rule:
// runtime/program/shapes/scan.ts.

import { make } from "./make.js";
import type { OpTable } from "./types.js";

export const SCANS: OpTable<"cumsum"> = {
  cumsum: {
    vjp: (node, g) => {
      if (node.dtype !== "f32") return [undefined];
      const { axis, exclusive, reverse } = node.attrs;
      return [make("cumsum", [g], { axis, exclusive, reverse: !reverse })];
    },
  },
};
