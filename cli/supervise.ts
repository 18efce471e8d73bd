// Runs a command that may open a WebGPU adapter as a child process whose
// stderr passes through NativeNoiseFilter, so that Dawn's native log lines
// stay out of normal output (native-noise.ts says why a child). Everything
// else is the child's: stdin and stdout are inherited, its exit code or
// signal becomes ours, and a progress bar still draws, because the child is
// told that our stderr is a terminal (`childStderr` applies it).
//
// Commands that cannot touch WebGPU (compile, export, inspect, ...), runs
// with `--backend cpu` or `cpu-js`, and `--verbose` run in this process.

import { spawn } from "node:child_process";
import { NativeNoiseFilter } from "./native-noise.js";

/** Commands with a --backend option. */
const GPU_COMMANDS = new Set(["train", "eval", "predict", "profile"]);
const CPU_BACKENDS = new Set(["cpu", "cpu-js"]);
/** Set in the child: run the command here. */
const CHILD = "DLC_SUPERVISED";
const TTY = "DLC_STDERR_TTY";
const COLUMNS = "DLC_STDERR_COLUMNS";

/** Whether `argv` (the arguments after `dlc`) should run in a supervised child. */
export function needsChild(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  if (env[CHILD] === "1") return false;
  const command = argv.find((a) => !a.startsWith("-"));
  if (command === undefined || !GPU_COMMANDS.has(command)) return false;
  if (argv.some((a) => a === "--verbose" || a === "--help" || a === "-h")) return false;
  return !CPU_BACKENDS.has(backendOf(argv) ?? "auto");
}

function backendOf(argv: readonly string[]): string | undefined {
  let backend: string | undefined;
  argv.forEach((a, i) => {
    if (a === "--backend") backend = argv[i + 1];
    else if (a.startsWith("--backend=")) backend = a.slice("--backend=".length);
  });
  return backend;
}

/** Runs `script argv` in a child Node with the same flags; resolves to the exit code to use (a signal is re-raised). */
export function runSupervised(script: string, argv: readonly string[]): Promise<number> {
  const env = { ...process.env, [CHILD]: "1" };
  if (process.stderr.isTTY) Object.assign(env, { [TTY]: "1", [COLUMNS]: String(process.stderr.columns ?? 80) });
  const child = spawn(process.execPath, [...process.execArgv, script, ...argv], { env, stdio: ["inherit", "inherit", "pipe"] });
  // Ctrl-C reaches the child from the terminal; the parent waits for it to finish. A signal sent
  // to the parent alone is passed on.
  const forward = (signal: NodeJS.Signals) => () => {
    if (signal !== "SIGINT") child.kill(signal);
  };
  const signals = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((s) => [s, forward(s)] as const);
  for (const [s, f] of signals) process.on(s, f);
  const filter = new NativeNoiseFilter();
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    const out = filter.push(chunk);
    if (out) process.stderr.write(out);
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    // "close": the child exited and its stderr is drained.
    child.on("close", (code, signal) => {
      const rest = filter.end();
      if (rest) process.stderr.write(rest);
      for (const [s, f] of signals) process.off(s, f);
      if (signal) {
        process.kill(process.pid, signal);
        return;
      }
      resolve(code ?? 1);
    });
  });
}

/** In the child: let a progress bar see the terminal that the parent's stderr is. */
export function childStderr(env: NodeJS.ProcessEnv = process.env): void {
  if (env[TTY] !== "1") return;
  Object.assign(process.stderr, { isTTY: true, columns: Number(env[COLUMNS]) || 80 });
}
