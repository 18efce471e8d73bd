// The training configuration: `export const train = { ... }` in a model, read
// statically by the compiler, stored in the artifact, overridden on the CLI.

export type Schedule =
  | { readonly kind: "constant" }
  | { readonly kind: "step"; readonly every: number; readonly gamma: number }
  | { readonly kind: "cosine"; readonly min: number }
  | { readonly kind: "warmup"; readonly steps: number; readonly then: Schedule };

export interface OptimizerConfig {
  readonly kind: "sgd" | "adam" | "adamw";
  readonly lr: number;
  readonly schedule: Schedule;
  /** Global-norm gradient clipping, when set. */
  readonly clipNorm?: number;
  // sgd
  readonly momentum?: number;
  readonly nesterov?: boolean;
  // adam, adamw
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  // sgd (L2 added to the gradient), adamw (decoupled)
  readonly weightDecay?: number;
}

export type Normalization = "standard" | "minmax" | "none";

export interface TrainConfig {
  readonly optimizer: OptimizerConfig;
  readonly batch: number;
  readonly epochs: number;
  readonly seed: number;
  readonly normalize?: Normalization;
  readonly label?: string;
}

// The defaults, here only: the frontend fills in what a model leaves out, the
// optimizer step reads them for a configuration that omits a field.

export const DEFAULT_TRAIN = { batch: 32, epochs: 10, seed: 0 } as const;

/** Adam's and AdamW's moment decays and epsilon when the model names none (Kingma & Ba). */
export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/** AdamW's decoupled weight decay when the model names none. */
export const ADAMW_WEIGHT_DECAY = 0.01;

/** Plain SGD unless the model asks for momentum, Nesterov or weight decay. */
export const SGD_DEFAULTS = { momentum: 0, nesterov: false, weightDecay: 0 } as const;

/** The configuration of a model that exports no `train`. */
export const FALLBACK_TRAIN: TrainConfig = { optimizer: { kind: "adam", lr: 1e-3, schedule: { kind: "constant" }, ...ADAM_DEFAULTS }, ...DEFAULT_TRAIN };
