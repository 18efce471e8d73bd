// Workers in Node: worker_threads running the pool's program from source
// (eval, so no file has to be found next to this one, compiled or not). It is
// reached through process.getBuiltinModule, not an import, so that this
// module loads in a browser too, where it finds no Node and answers nothing.
//
// The workers get no execArgv: they need no loader (their program is plain
// JavaScript), and V8's flags are the process's anyway. They are unref'd, so
// they never keep the process alive.

import type { Worker as NodeWorker, WorkerOptions } from "node:worker_threads";
import type { WorkerHost } from "./workers.js";

type WorkerThreads = { readonly Worker: new (source: string, options: WorkerOptions) => NodeWorker };

/** The host of Node's worker_threads, or undefined elsewhere. */
export function nodeWorkerHost(): WorkerHost | undefined {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const threads = get?.("node:worker_threads") as WorkerThreads | undefined;
  if (!threads) return undefined;
  return {
    spawn(program, init, exited) {
      const source = `${program}\nconst threads = require("node:worker_threads");\nstart(threads.workerData, (handler) => threads.parentPort.on("message", handler));\n`;
      const worker = new threads.Worker(source, { eval: true, workerData: init, execArgv: [] });
      worker.unref();
      worker.on("error", (e) => exited(`failed: ${e.message}`));
      worker.on("exit", (code) => exited(`exited (code ${code})`));
      return { post: (message) => worker.postMessage(message), terminate: () => void worker.terminate() };
    },
  };
}
