// What `dlc compile --emit` can print.
export const EMIT_KINDS = ["ir", "grad", "stats", "fused", "wgsl", "wasm", "dot"] as const;
export type EmitKind = (typeof EMIT_KINDS)[number];
