// The dlc command line. Commands load what they need when they run, so that
// running an artifact (`dlc train model.dlc`) never loads the compiler or
// ts-morph.

import { existsSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { ArtifactError } from "../runtime/artifact/format.js";
import { CheckpointError, FileWriteError } from "../runtime/checkpoint/error.js";
import { DataError } from "../runtime/data/types.js";
import { DivergedError } from "../runtime/train/loop.js";
import { VERSION } from "../runtime/version.js";
import { GpuError } from "../runtime/webgpu/executable.js";
import { BACKENDS, KERNEL_CHOICES } from "./backend.js";
import { KERNEL_FAMILIES, type KernelFamily } from "../runtime/program/gpu.js";
import { EMIT_KINDS, type EmitKind } from "./emit.js";
import { EXIT, RuntimeError, UsageError } from "./exit.js";
import { FASHION_MNIST_IDX } from "./fetch-paths.js";
import { fraction, nonNegativeInt, positiveInt, positiveNumber } from "./options.js";
import { printable } from "./terminal.js";


function requireFile(file: string): string {
  if (!existsSync(file)) throw new UsageError(`cannot read '${file}': no such file`);
  return file;
}

const backendOption = () =>
  new Option("--backend <kind>", "where to run: auto picks WebGPU on a hardware adapter, else the faster of the CPU and a software adapter, measured; cpu-js is the JavaScript reference interpreter").choices(BACKENDS).default("auto");
const kernelsOption = () =>
  new Option("--kernels <family>", "WebGPU's matrix products and convolutions: auto picks the software family (register tiles) on a software adapter, the hardware family (workgroup-memory tiles) on a GPU").choices(KERNEL_CHOICES).default("auto");
/** Parsed by bin/dlc.js before the command runs (cli/supervise.ts); declared here for --help and to be accepted. */
const verboseOption = () => new Option("--verbose", "also show the WebGPU driver's own log lines (Dawn, the Vulkan loader), hidden by default");
const threadsOption = () => new Option("--threads <n>", "threads of the CPU backend's matrix products and convolutions (default: the machine's cores)").argParser(positiveInt("--threads"));

const examples = (lines: string[]) => `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}`;

export function buildCli(): Command {
  const program = new Command("dlc")
    .description("dlc: a deep-learning compiler for models written as TypeScript functions")
    .version(VERSION)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText("after", examples(["dlc compile models/mlp.ts -o mlp.dlc", "dlc train mlp.dlc --data train.csv.gz --test test.csv.gz --save mlp.safetensors", "dlc predict mlp.dlc --weights mlp.safetensors --data new.csv --out preds.csv"]));

  program
    .command("compile")
    .description("compile a model: write an artifact (-o), or print the IR, the training graph, the kernels")
    .argument("<model.ts>", "the model's TypeScript file")
    .option("-o, --out <file>", "write a compiled artifact (model.dlc) that the runtime trains and runs without the compiler")
    .addOption(new Option("--emit <kind>", "what to print (default ir, or nothing with -o)").choices(EMIT_KINDS))
    .option("--no-fusion", "one kernel per primitive")
    .option("--batch <n>", "with --emit wasm: the size of every symbolic dimension (default: the model's batch)", positiveInt("--batch"))
    .option("--grad <entries>", "with -o: also compile these scalar entry points' gradients (comma-separated, or 'all'), for grad() and valueAndGrad() in dlc/runtime")
    .option("--json", "with -o: print a JSON summary")
    .option("--quiet", "print nothing but errors")
    .addOption(new Option("--kernels <family>", "with --emit wgsl: only this family's matrix products and convolutions (hardware: the tiles a GPU with WebGPU's default limits runs); default: every family's").choices(KERNEL_FAMILIES))
    .addHelpText(
      "after",
      examples([
        "dlc compile models/mlp.ts -o mlp.dlc     # the artifact: CPU program, WGSL kernels, training step",
        "dlc compile models/mlp.ts -o mlp.dlc --grad loss   # and the gradient of loss as an entry point",
        "dlc compile models/mlp.ts --emit ir      # the graph of every entry point",
        "dlc compile models/mlp.ts --emit grad    # the training graph: loss and gradients",
        "dlc compile models/mlp.ts --emit stats   # node counts through the passes",
        "dlc compile models/mlp.ts --emit fused   # which values get buffers, and why; what each kernel computes",
        "dlc compile models/mlp.ts --emit wgsl    # the WGSL kernels of the training step, products in both families",
        "dlc compile models/mlp.ts --emit wgsl --kernels hardware   # as a GPU runs them",
        "dlc compile models/mlp.ts --emit wasm    # the CPU plan's WebAssembly kernels (text) at the model's batch",
        "dlc compile models/cnn.ts --emit dot | dot -Tsvg > cnn.svg",
      ]),
    )
    .action(async (file: string, opts: { out?: string; emit?: EmitKind; fusion: boolean; grad?: string; json?: boolean; quiet?: boolean; kernels?: KernelFamily }) => {
      const { runCompile } = await import("./compile.js");
      await runCompile(requireFile(file), opts, (s) => process.stdout.write(s));
    });

  program
    .command("train")
    .description("train a model on CSV data")
    .argument("<model>", "the model (.ts, or a compiled .dlc)")
    .requiredOption("--data <file>", "training data (.csv or .csv.gz, with a header row)")
    .option("--test <file>", "test data, evaluated after every epoch")
    .option("--split <fraction>", "hold out this fraction of --data as test data (seeded)", fraction("--split"))
    .option("--label <column>", "the column holding the label or target")
    .addOption(new Option("--normalize <kind>", "feature normalization, fit on the training rows").choices(["standard", "minmax", "none"]))
    .option("--epochs <n>", "epochs to run (with --resume: this many more; without it, --resume finishes the checkpoint's plan)", positiveInt("--epochs"))
    .option("--batch <n>", "batch size", positiveInt("--batch"))
    .option("--lr <rate>", "base learning rate", positiveNumber("--lr"))
    .option("--seed <n>", "seed of initialization, split and shuffles", nonNegativeInt("--seed"))
    .option("--drop-last", "skip the last, smaller batch of each epoch")
    .option("--save <file>", "write a checkpoint (safetensors) after every epoch")
    .option("--resume <file>", "continue a checkpoint's run, with its seed, split, normalization and data settings")
    .option("--plot <file.svg>", "draw train and test loss and accuracy per epoch as SVG, rewritten after every epoch (also evaluates the training rows for their accuracy)")
    .addOption(backendOption())
    .addOption(kernelsOption())
    .addOption(verboseOption())
    .addOption(threadsOption())
    .option("--loss-every <n>", "read a step's loss back every n steps for the progress bar (default 1 on the CPU, 25 on WebGPU; the epoch's loss always covers every step)", positiveInt("--loss-every"))
    .option("--no-fusion", "one kernel per primitive (for comparisons)")
    .option("--json", "print one JSON summary as the last line")
    .option("--quiet", "print nothing but errors (and --json)")
    .addHelpText(
      "after",
      examples([
        "dlc train models/iris.ts --data data/iris.csv --split 0.2 --normalize standard",
        "dlc train models/mlp.ts --data data/fashion-mnist/train.csv.gz --test data/fashion-mnist/test.csv.gz --save mlp.safetensors",
        "dlc train mlp.dlc --data train.csv --resume mlp.safetensors --epochs 3 --json",
        "dlc train models/digits.ts --data data/digits.csv --split 0.2 --plot digits.svg",
      ]),
    )
    .action(async (file: string, opts) => {
      const { runTrain } = await import("./train.js");
      await runTrain(file, opts);
    });

  const weightsCommand = (name: string, description: string, example: string) =>
    program
      .command(name)
      .description(description)
      .argument("<model>", "the model (.ts, or a compiled .dlc)")
      .requiredOption("--weights <file>", "a checkpoint written by dlc train --save")
      .requiredOption("--data <file>", "data (.csv or .csv.gz, with a header row)")
      .option("--label <column>", "the column holding the label or target")
      .option("--batch <n>", "batch size", positiveInt("--batch"), 256)
      .addOption(backendOption())
      .addOption(kernelsOption())
      .addOption(verboseOption())
      .addOption(threadsOption())
      .option("--no-fusion", "one kernel per primitive")
      .option("--json", "print a JSON object")
      .option("--quiet", "print nothing but errors")
      .addHelpText("after", examples([example]));
  weightsCommand("eval", "evaluate trained weights: loss and accuracy, or MSE and MAE", "dlc eval models/iris.ts --weights iris.safetensors --data data/iris.csv").action(async (file: string, opts) => {
    const { runEval } = await import("./evaluate.js");
    await runEval(file, opts);
  });
  weightsCommand("predict", "write the predictions of `predict` as CSV", "dlc predict mlp.dlc --weights mlp.safetensors --data new.csv --out preds.csv")
    .requiredOption("--out <file>", "where to write the predictions (- for stdout)")
    .action(async (file: string, opts) => {
      const { runPredict } = await import("./evaluate.js");
      await runPredict(file, opts);
    });

  program
    .command("export")
    .description("write an entry point and its trained weights as an ONNX model (opset 17, the batch size left symbolic)")
    .argument("<model>", "the model (.ts, or a compiled .dlc)")
    .requiredOption("--weights <file>", "a checkpoint written by dlc train --save (its normalization, if any, becomes part of the graph)")
    .requiredOption("-o, --out <file>", "where to write the ONNX model")
    .option("--entry <name>", "the entry point to export", "predict")
    .option("--json", "print a JSON summary")
    .option("--quiet", "print nothing but errors")
    .addHelpText("after", examples(["dlc export mlp.dlc --weights mlp.safetensors -o mlp.onnx", "dlc export models/cnn.ts --weights cnn.safetensors -o cnn-logits.onnx --entry logits"]))
    .action(async (file: string, opts) => {
      const { runExport } = await import("./export.js");
      await runExport(requireFile(file), opts);
    });

  program
    .command("inspect")
    .description("what the compiler makes of a model: parameters, kernels, FLOPs, bytes and memory per training step")
    .argument("<model>", "the model (.ts, or a compiled .dlc)")
    .option("--batch <n>", "the batch size to count for (default: the model's)", positiveInt("--batch"))
    .option("--explain-fusion", "why each value of the training step got a buffer, and what each kernel computes (.ts only)")
    .option("--json", "print one JSON object (kernels_per_train_step, flops_per_train_step, peak_bytes, ...)")
    .addOption(new Option("--kernels <family>", "count the matrix products and convolutions of this family, as a device with WebGPU's default limits runs them").choices(KERNEL_FAMILIES).default("hardware"))
    .addHelpText("after", examples(["dlc inspect models/mlp.ts", "dlc inspect mlp.dlc --batch 64 --json", "dlc inspect models/cnn.ts --kernels software   # as on a software adapter"]))
    .action(async (file: string, opts) => {
      const { runInspect } = await import("./inspect.js");
      await runInspect(requireFile(file), opts);
    });

  program
    .command("profile")
    .description("where a training step's time goes: per kernel, its calls, time, FLOPs, bytes, GFLOP/s, GB/s and share, over a few steps after a warm-up")
    .argument("<model>", "the model (.ts, or a compiled .dlc)")
    .requiredOption("--data <file>", "training data (.csv or .csv.gz, with a header row): the steps run on its rows in file order")
    .option("--label <column>", "the column holding the label or target")
    .option("--steps <n>", "training steps to profile", positiveInt("--steps"), 10)
    .option("--warmup <n>", "untimed training steps before them (planning, compiling, caches)", nonNegativeInt("--warmup"), 3)
    .option("--batch <n>", "batch size (default: the model's)", positiveInt("--batch"))
    .option("--seed <n>", "seed of the initial weights", nonNegativeInt("--seed"))
    .addOption(backendOption())
    .addOption(kernelsOption())
    .addOption(verboseOption())
    .addOption(threadsOption())
    .option("--no-timestamps", "on WebGPU, time each dispatch by submitting it alone and waiting, even where the adapter has timestamp-query")
    .option("--no-fusion", "one kernel per primitive")
    .option("--trace <file>", "also write the calls as a Chrome trace (JSON) for ui.perfetto.dev or chrome://tracing")
    .option("--json", "print one JSON object")
    .addHelpText(
      "after",
      examples([
        "dlc profile models/mlp.ts --data data/fashion-mnist/train.csv.gz --backend cpu",
        "dlc profile cnn.dlc --data train.csv --backend webgpu --steps 20 --trace cnn-trace.json",
        "dlc profile models/iris.ts --data data/iris.csv --json",
      ]),
    )
    .action(async (file: string, opts) => {
      const { runProfile } = await import("./profile.js");
      await runProfile(file, opts);
    });

  program
    .command("serve")
    .description("serve a page that trains the model in a web browser (WebGPU, or the CPU in WebAssembly), with live charts, predictions and a weights download")
    .argument("<model>", "the model (.ts, or a compiled .dlc)")
    .option("--weights <file>", "start from a checkpoint (the page evaluates it on the data)")
    .option("--data <file>", "data for the page (.csv or .csv.gz); without it, the page asks for a file")
    .option("--port <n>", "the port (0: any free one)", nonNegativeInt("--port"), 8080)
    .option("--host [address]", "listen on this address (alone: every interface) instead of 127.0.0.1")
    .option("--json", "print the URL as a JSON object")
    .option("--quiet", "print nothing but errors")
    .addHelpText("after", examples(["dlc serve models/iris.ts --data data/iris.csv     # then open the URL it prints", "dlc serve mlp.dlc --weights mlp.safetensors --data test.csv --port 9000"]))
    .action(async (file: string, opts) => {
      const { runServe } = await import("./serve.js");
      await runServe(requireFile(file), opts);
    });

  program
    .command("fetch")
    .description("get a data set as CSV (fashion-mnist, from Debian's dataset-fashion-mnist package)")
    .argument("<dataset>", "fashion-mnist")
    .option("--dir <dir>", "where to write train.csv.gz and test.csv.gz", "data/fashion-mnist")
    .option("--idx <dir>", "where the idx files are", FASHION_MNIST_IDX)
    .option("--json", "print a JSON summary")
    .option("--quiet", "print nothing but errors")
    .addHelpText("after", examples(["dlc fetch fashion-mnist    # after: sudo apt-get install dataset-fashion-mnist", "dlc fetch fashion-mnist --dir /tmp/fmnist --json"]))
    .action(async (dataset: string, opts) => {
      const { runFetch } = await import("./fetch.js");
      await runFetch(dataset, opts);
    });

  for (const c of program.commands) c.exitOverride().showSuggestionAfterError(true);
  return program;
}

/** A compile error carries a diagnostic (checked by shape, so that the compiler is not loaded to ask). */
function isCompileError(e: unknown): e is Error & { diagnostic: unknown } {
  return e instanceof Error && "diagnostic" in e;
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
    if (isCompileError(e)) {
      const { renderCompileError } = await import("./compile.js");
      process.stderr.write(renderCompileError(e as never) + "\n");
      return EXIT.usage;
    }
    // Messages quote file paths, CSV headers and artifact fields: printable() keeps their control characters off the terminal.
    if (e instanceof UsageError || e instanceof DataError || e instanceof CheckpointError || e instanceof ArtifactError) {
      process.stderr.write(`dlc: ${printable(e.message)}\n`);
      return EXIT.usage;
    }
    if (e instanceof RuntimeError || e instanceof GpuError || e instanceof FileWriteError) {
      process.stderr.write(`dlc: ${printable(e.message)}\n`);
      return EXIT.failure;
    }
    if (e instanceof DivergedError) {
      process.stderr.write(`dlc: training stopped: ${printable(e.message)}\nhint: lower the learning rate (--lr), normalize the features (--normalize standard), or clip gradients (clipNorm in the optimizer)\n`);
      return EXIT.failure;
    }
    process.stderr.write(`dlc: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.failure;
  }
}

// Exit explicitly: a live WebGPU device would otherwise keep the process alive. But only once
// stdout and stderr have flushed: into a pipe they write asynchronously, and exiting at once cut
// long output (`dlc compile --emit wgsl | less`) short.
process.exitCode = await main(process.argv.slice(2));
process.stdout.write("", () => process.stderr.write("", () => process.exit()));
