// An HTTP server (Node's http) of a fixed set of files held in memory: a
// request names one of them exactly, or gets 404. Nothing is looked up on
// disk per request, so no path can reach a file the server was not given.
//
// It answers GET and HEAD only. Bound to the loopback interface, it also
// refuses a Host header other than its own address, so that a web page the
// user visits cannot reach it under a name of its own (DNS rebinding). The
// Content-Security-Policy keeps the page to what the server serves (WebAssembly
// compilation included, which the CPU backend needs, and workers from Blob
// URLs, which its threads are). COOP and COEP make the page cross-origin
// isolated, which a browser requires before it hands out SharedArrayBuffer
// (the CPU backend's threads share one memory); every file is then marked
// same-origin (CORP) so that the page may load it.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StaticFile {
  readonly type: string;
  readonly body: Uint8Array;
}

const HEADERS = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

export interface Listening {
  readonly server: Server;
  /** What the address is called in URLs: 127.0.0.1, [::1], a host name. */
  readonly url: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Serves `files` (by path, "/" included) on host:port (port 0: a free one). Rejects with Node's error when it cannot listen. */
export async function serveFiles(files: ReadonlyMap<string, StaticFile>, host: string, port: number): Promise<Listening> {
  let hosts: Set<string> | undefined;
  const server = createServer((request, response) => answer(files, hosts, request, response));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const name = host.includes(":") ? `[${host}]` : host;
  if (LOOPBACK.has(host)) hosts = new Set([`127.0.0.1:${bound}`, `localhost:${bound}`, `[::1]:${bound}`]);
  return {
    server,
    url: `http://${name === "0.0.0.0" || name === "[::]" ? "127.0.0.1" : name}:${bound}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function answer(files: ReadonlyMap<string, StaticFile>, hosts: Set<string> | undefined, request: IncomingMessage, response: ServerResponse): void {
  const fail = (status: number, text: string, extra: Record<string, string> = {}) => {
    response.writeHead(status, { ...HEADERS, ...extra, "Content-Type": "text/plain; charset=utf-8" });
    response.end(request.method === "HEAD" ? undefined : `${text}\n`);
  };
  if (request.method !== "GET" && request.method !== "HEAD") return fail(405, "method not allowed", { Allow: "GET, HEAD" });
  if (hosts && !hosts.has((request.headers.host ?? "").toLowerCase())) return fail(403, "unknown host");
  let path: string;
  try {
    path = new URL(request.url ?? "/", "http://server").pathname;
  } catch {
    return fail(400, "bad request");
  }
  const file = files.get(path);
  if (!file) return fail(404, "not found");
  response.writeHead(200, { ...HEADERS, "Content-Type": file.type, "Content-Length": String(file.body.byteLength) });
  response.end(request.method === "HEAD" ? undefined : file.body);
}
