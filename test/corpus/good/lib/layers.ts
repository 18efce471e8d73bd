// A helper module imported by modules.ts with a `.js` specifier, as tsc's NodeNext requires.
import * as dl from "dlc";

export const classes = 3;

export function dense(name: string, x: dl.Tensor, inputs: number, outputs: number): dl.Tensor {
  return dl.matmul(x, dl.param(`${name}.w`, [inputs, outputs], "lecun")) + dl.param(`${name}.b`, [outputs], 0.1);
}
