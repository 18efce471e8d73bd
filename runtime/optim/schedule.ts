// Learning-rate schedules, evaluated by the runtime at each step and fed to
// the training step as its learning-rate hyperparameter (runtime/program/abi.ts).
//
//   constant      lr
//   step          lr * gamma ^ floor(t / every)
//   cosine        min + (lr - min) (1 + cos(pi t / T)) / 2, T = the run's total steps
//   warmup        lr (t + 1) / steps for t < steps, then the inner schedule from 0
//
// t counts optimizer steps from 0 over the whole run, resumed runs included.

import type { Schedule } from "../program/train-config.js";

export function learningRate(schedule: Schedule, lr: number, t: number, total: number): number {
  switch (schedule.kind) {
    case "constant":
      return lr;
    case "step":
      return lr * schedule.gamma ** Math.floor(t / schedule.every);
    case "cosine": {
      const progress = total > 0 ? Math.min(t / total, 1) : 0;
      return schedule.min + (lr - schedule.min) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
    case "warmup":
      return t < schedule.steps ? (lr * (t + 1)) / schedule.steps : learningRate(schedule.then, lr, t - schedule.steps, Math.max(total - schedule.steps, 0));
  }
}
