// The dlc command line.

import { existsSync, readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { CompileError } from "../compiler/frontend/diagnostics.js";
import { EMIT_KINDS, renderCompileError, runCompile, type EmitKind } from "./compile.js";
import { EXIT, UsageError } from "./exit.js";

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
    .addHelpText("after", "\nExamples:\n  dlc compile models/mlp.ts --emit ir      # the graph of every entry point\n  dlc compile models/mlp.ts --emit grad    # the training graph: loss and gradients\n  dlc compile models/mlp.ts --emit stats   # node counts through the passes\n  dlc compile models/cnn.ts --emit dot | dot -Tsvg > cnn.svg")
    .action((file: string, opts: { emit: EmitKind }) => {
      runCompile(requireFile(file), opts, (s) => process.stdout.write(s));
    });

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
    if (e instanceof UsageError) {
      process.stderr.write(`dlc: ${e.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`dlc: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.failure;
  }
}

// Exit explicitly: a live WebGPU device would otherwise keep the process alive.
process.exitCode = await main(process.argv.slice(2));
process.exit();
