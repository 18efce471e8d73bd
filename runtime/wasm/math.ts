// placeholder until the math helpers land
import type { FunctionBuilder } from "./assembler.js";
export type MathFn = "exp" | "log" | "tanh" | "erf" | "sin" | "cos" | "log1p" | "expm1" | "softplus" | "pow";
export const F32X4_MATH: { readonly [K in MathFn]: (f: FunctionBuilder) => void } = new Proxy({} as never, { get: () => () => { throw new Error("math not yet"); } });
