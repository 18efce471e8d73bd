// Workers in a browser: dedicated Web Workers running the pool's program
// from a Blob URL (nothing to serve next to the bundle), nested in the Web
// Worker that runs the CPU backend. Three browser rules shape it:
//
// - the pool blocks its thread in Atomics.wait, which a page's main thread
//   may not do: only a worker's thread gets a host;
// - a shared memory (SharedArrayBuffer) exists only in a cross-origin
//   isolated page (COOP same-origin and COEP require-corp): elsewhere the
//   answer is why there are no threads;
// - a new Worker starts, and messages reach it, only once its creator
//   returns to its event loop, so a pool that spawns and then blocks would
//   wait forever (in Chromium a message posted right after the worker's first
//   message to its creator is still not delivered while the creator blocks).
//   `prepare` starts the workers ahead and resolves once each has answered a
//   message (a round trip: the way in works); `spawn` hands them out, posting
//   the pool's init as their first message after that.

import type { WorkerHandle, WorkerHost, WorkerInit } from "./workers.js";

interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message?: string; preventDefault(): void }) => void) | null;
}

interface WebScope {
  readonly Worker?: new (url: string) => WebWorker;
  readonly crossOriginIsolated?: boolean;
  readonly WorkerGlobalScope?: unknown;
  readonly Blob?: new (parts: string[], options: { type: string }) => object;
  readonly URL?: { createObjectURL(blob: object): string };
}

/** The workers' glue: "ping" is answered, the first other message is the pool's init, later ones go to the program's listener. */
const GLUE = `
let listener;
onmessage = (e) => (e.data === "ping" ? postMessage("pong") : listener ? listener(e.data) : start(e.data, (handler) => (listener = handler)));
`;

/** A browser's workers for the pool, or why there are none here (undefined: no Web Workers at all, e.g. Node). */
export function webWorkerHost(): WorkerHost | string | undefined {
  const scope = globalThis as WebScope;
  if (typeof scope.Worker !== "function" || !scope.Blob || !scope.URL) return undefined;
  if (scope.WorkerGlobalScope === undefined) return "a page's main thread may not wait on workers: run the CPU backend in a Web Worker";
  if (scope.crossOriginIsolated !== true) return "the page is not cross-origin isolated (no shared memory for threads)";
  return (host ??= new WebWorkerHost(scope));
}

let host: WebWorkerHost | undefined;

class WebWorkerHost implements WorkerHost {
  /** Started and running, waiting for their pool's init. */
  private readonly idle: WebWorker[] = [];
  private url: string | undefined;
  private program: string | undefined;
  /** Why the last prepared worker that failed did not start. */
  private failure: string | undefined;

  constructor(private readonly scope: WebScope) {}

  /** Never rejects: a worker that fails to start is the reason `spawn` gives (the pool's error, and the backend's one-thread reason). */
  async prepare(program: string, count: number): Promise<void> {
    if (this.program !== undefined && this.program !== program) throw new Error("the browser's workers were prepared for another program");
    this.program = program;
    this.url ??= this.scope.URL!.createObjectURL(new this.scope.Blob!([program, GLUE], { type: "text/javascript" }));
    const url = this.url;
    const started = Array.from({ length: Math.max(0, count - this.idle.length) }, () => {
      const worker = new this.scope.Worker!(url);
      worker.postMessage("ping");
      return new Promise<WebWorker | undefined>((resolve) => {
        worker.onmessage = () => resolve(worker);
        worker.onerror = (e) => {
          e.preventDefault();
          worker.terminate();
          this.failure = `a worker did not start: ${e.message ?? "unknown error"}`;
          resolve(undefined);
        };
      });
    });
    for (const worker of await Promise.all(started)) if (worker) this.idle.push(worker);
  }

  spawn(program: string, init: WorkerInit, exited: (why: string) => void): WorkerHandle {
    const worker = program === this.program ? this.idle.pop() : undefined;
    if (!worker) throw new Error(this.failure ?? "no worker was prepared (a browser starts a worker only once this thread returns to its event loop: await prepareWorkers first)");
    worker.onmessage = null;
    worker.onerror = (e) => {
      e.preventDefault();
      exited(`failed: ${e.message ?? "unknown error"}`);
    };
    worker.postMessage(init);
    return { post: (message) => worker.postMessage(message), terminate: () => worker.terminate() };
  }
}
