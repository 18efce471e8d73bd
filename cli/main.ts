// The dlc command line.

import { existsSync, readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { CompileError } from "../compiler/frontend/diagnostics.js";
import { CheckpointError } from "../runtime/checkpoint/error.js";
import { DataError } from "../runtime/data/types.js";
import { DivergedError } from "../runtime/train/loop.js";
import { BACKENDS } from "./backend.js";
import { EMIT_KINDS, renderCompileError, runCompile, type EmitKind } from "./compile.js";
import { runEval, runPredict, type WeightsOptions } from "./evaluate.js";
import { EXIT, RuntimeError, UsageError } from "./exit.js";
import { GpuError } from "../runtime/webgpu/executable.js";
import { FASHION_MNIST_IDX, runFetch } from "./fetch.js";
import { runInspect, type InspectOptions } from "./inspect.js";
import { fraction, nonNegativeInt, positiveInt, positiveNumber } from "./options.js";
import { runTrain, type TrainCommandOptions } from "./train.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

function requireFile(file: string): string {
  if (!existsSync(file)) throw new UsageError(`cannot read '${file}': no such file`);
  return file;
}

export function buildCli(): Command {
  const program = new Command("dlc")
    .description("dlc: a deep-learning compiler for models written as TypeScript functions")
    .version(pkg.version)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command("compile")
    .description("compile a model and print its IR")
    .argument("<model.ts>", "the model's TypeScript file")
    .addOption(new Option("--emit <kind>", "what to print").choices(EMIT_KINDS).default("ir"))
    .addHelpText("after", "\nExamples:\n  dlc compile models/mlp.ts --emit ir      # the graph of every entry point\n  dlc compile models/mlp.ts --emit grad    # the training graph: loss and gradients\n  dlc compile models/mlp.ts --emit stats   # node counts through the passes\n  dlc compile models/mlp.ts --emit fused   # which values get buffers, and why; what each kernel computes\n  dlc compile models/mlp.ts --emit wgsl    # the WGSL kernels of the training step\n  dlc compile models/cnn.ts --emit dot | dot -Tsvg > cnn.svg")
    .action((file: string, opts: { emit: EmitKind }) => {
      runCompile(requireFile(file), opts, (s) => process.stdout.write(s));
    });

  program
    .command("train")
    .description("train a model on CSV data")
    .argument("<model>", "the model (.ts)")
    .requiredOption("--data <file>", "training data (.csv or .csv.gz, with a header row)")
    .option("--test <file>", "test data, evaluated after every epoch")
    .option("--split <fraction>", "hold out this fraction of --data as test data (seeded)", fraction("--split"))
    .option("--label <column>", "the column holding the label or target")
    .addOption(new Option("--normalize <kind>", "feature normalization, fit on the training rows").choices(["standard", "minmax", "none"]))
    .option("--epochs <n>", "epochs to run (with --resume: more epochs)", positiveInt("--epochs"))
    .option("--batch <n>", "batch size", positiveInt("--batch"))
    .option("--lr <rate>", "base learning rate", positiveNumber("--lr"))
    .option("--seed <n>", "seed of initialization, split and shuffles", nonNegativeInt("--seed"))
    .option("--drop-last", "skip the last, smaller batch of each epoch")
    .option("--save <file>", "write a checkpoint (safetensors) after every epoch")
    .option("--resume <file>", "continue from a checkpoint")
    .addOption(new Option("--backend <kind>", "where to run: auto picks WebGPU when an adapter exists").choices(BACKENDS).default("auto"))
    .option("--loss-every <n>", "read the loss back every n steps (default 1 on the CPU, 25 on WebGPU)", positiveInt("--loss-every"))
    .option("--no-fusion", "one kernel per primitive (for comparisons)")
    .option("--json", "print one JSON summary as the last line")
    .option("--quiet", "print nothing but errors (and --json)")
    .addHelpText(
      "after",
      "\nExamples:\n  dlc train models/iris.ts --data data/iris.csv --split 0.2 --normalize standard\n  dlc train models/mlp.ts --data data/fashion-mnist/train.csv.gz --test data/fashion-mnist/test.csv.gz --save mlp.safetensors\n  dlc train models/mlp.ts --data train.csv --resume mlp.safetensors --epochs 3 --json",
    )
    .action((file: string, opts: TrainCommandOptions) => runTrain(file, opts));

  const weightsCommand = (name: string, description: string, examples: string) =>
    program
      .command(name)
      .description(description)
      .argument("<model>", "the model (.ts)")
      .requiredOption("--weights <file>", "a checkpoint written by dlc train --save")
      .requiredOption("--data <file>", "data (.csv or .csv.gz, with a header row)")
      .option("--label <column>", "the column holding the label or target")
      .option("--batch <n>", "batch size", positiveInt("--batch"), 256)
      .addOption(new Option("--backend <kind>", "where to run: auto picks WebGPU when an adapter exists").choices(BACKENDS).default("auto"))
      .option("--no-fusion", "one kernel per primitive")
      .option("--json", "print a JSON object")
      .option("--quiet", "print nothing but errors")
      .addHelpText("after", `\nExamples:\n${examples}`);
  weightsCommand("eval", "evaluate trained weights: loss and accuracy, or MSE and MAE", "  dlc eval models/iris.ts --weights iris.safetensors --data data/iris.csv").action(
    (file: string, opts: WeightsOptions) => runEval(file, opts),
  );
  weightsCommand("predict", "write the predictions of `predict` as CSV", "  dlc predict models/iris.ts --weights iris.safetensors --data data/iris.csv --out preds.csv")
    .requiredOption("--out <file>", "where to write the predictions (- for stdout)")
    .action((file: string, opts: WeightsOptions & { out: string }) => runPredict(file, opts));

  program
    .command("inspect")
    .description("what the compiler makes of a model: kernels, FLOPs, bytes and memory per training step")
    .argument("<model>", "the model (.ts)")
    .option("--batch <n>", "the batch size to count for (default: the model's)", positiveInt("--batch"))
    .option("--explain-fusion", "why each value of the training step got a buffer, and what each kernel computes")
    .option("--json", "print one JSON object (kernels_per_train_step, flops_per_train_step, peak_bytes, ...)")
    .addHelpText("after", "\nExamples:\n  dlc inspect models/mlp.ts\n  dlc inspect models/cnn.ts --batch 64 --json")
    .action((file: string, opts: InspectOptions) => runInspect(file, opts));

  program
    .command("fetch")
    .description("get a data set as CSV (fashion-mnist, from Debian's dataset-fashion-mnist package)")
    .argument("<dataset>", "fashion-mnist")
    .option("--dir <dir>", "where to write train.csv.gz and test.csv.gz", "data/fashion-mnist")
    .option("--idx <dir>", "where the idx files are", FASHION_MNIST_IDX)
    .option("--quiet", "print nothing but errors")
    .addHelpText("after", "\nExamples:\n  sudo apt-get install dataset-fashion-mnist && dlc fetch fashion-mnist")
    .action((dataset: string, opts: { dir: string; idx: string; quiet?: boolean }) => runFetch(dataset, opts));

  for (const c of program.commands) c.exitOverride().showSuggestionAfterError(true);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof CompileError) {
      process.stderr.write(renderCompileError(e) + "\n");
      return EXIT.usage;
    }
    if (e instanceof UsageError || e instanceof DataError || e instanceof CheckpointError) {
      process.stderr.write(`dlc: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof RuntimeError || e instanceof GpuError) {
      process.stderr.write(`dlc: ${e.message}\n`);
      return EXIT.failure;
    }
    if (e instanceof DivergedError) {
      process.stderr.write(`dlc: training stopped: ${e.message}\nhint: lower the learning rate (--lr), normalize the features (--normalize standard), or clip gradients (clipNorm in the optimizer)\n`);
      return EXIT.failure;
    }
    process.stderr.write(`dlc: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.failure;
  }
}

// Exit explicitly: a live WebGPU device would otherwise keep the process alive.
process.exitCode = await main(process.argv.slice(2));
process.exit();
