// The server of `dlc serve`, without a browser: what it refuses to start
// with (one line, exit code 2), what it serves (its own files, and nothing
// else), and that SIGINT stops it with exit code 0.

import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROUTES } from "../../cli/serve-protocol.js";
import { serve, type Served } from "../helpers/browser.js";
import { dlc, irisArtifactAndWeights } from "../helpers/cli.js";
import { ROOT } from "../helpers/paths.js";

const dir = mkdtempSync(join(tmpdir(), "dlc-serve-"));
const { artifact, weights } = irisArtifactAndWeights(dir);
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** `dlc serve ARGS` must refuse to start: exit code 2, one line on stderr, matching `message`. */
function refuses(args: readonly string[], message: RegExp) {
  return (t: import("ava").ExecutionContext) => {
    const r = dlc(["serve", ...args]);
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr, message);
    t.is(r.stderr.trim().split("\n").length, 1, r.stderr);
    t.is(r.stdout, "");
  };
}

const file = (name: string, content: string | Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

test("a model file that is missing is refused", refuses(["missing.dlc"], /cannot read 'missing.dlc': no such file/));
test("a file that is not a model is refused", refuses([file("notes.txt", "hello")], /is not a model: expected a .ts file or a compiled .dlc artifact/));
test("a damaged artifact is refused", refuses([file("damaged.dlc", readFileSync(artifact).subarray(0, 400))], /truncated|not a dlc artifact|digest/));
test("weights of another model are refused", refuses(["models/digits.ts", "--weights", weights], /parameter "hidden.w" is missing/));
test("data that does not fit the model is refused, at its line and column", refuses([artifact, "--data", file("bad.csv", "sepal_length,sepal_width,petal_length,petal_width,species\n1,2,3,x,0\n")], /bad.csv:2:4: cell 'x' in column 'petal_width' is not a number/));
test("a port that is not a number is refused", refuses([artifact, "--port", "http"], /--port must be a non-negative integer/));

test("a port in use is refused", async (t) => {
  const taken = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => taken.once("listening", resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    refuses([artifact, "--port", String(port)], new RegExp(`port ${port} is in use on 127.0.0.1: pick another with --port`))(t);
  } finally {
    taken.close();
  }
});

/** A raw request (no URL normalization on the client side), with its status, headers and body. */
function get(url: string, path: string, options: { method?: string; host?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: options.method ?? "GET", headers: options.host ? { host: options.host } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

test.serial("it serves the page, its scripts, the artifact, the weights and the data, on 127.0.0.1, and nothing else", async (t) => {
  const served: Served = await serve([artifact, "--weights", weights, "--data", "data/iris.csv"]);
  try {
    t.regex(served.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(served.url, "/");
    t.is(page.status, 200);
    t.regex(String(page.headers["content-type"]), /text\/html/);
    t.regex(String(page.headers["content-security-policy"]), /default-src 'self'/);
    // Everything the page loads is the server's own: no other origin, no CDN.
    for (const [, ref] of page.body.toString().matchAll(/(?:src|href)="([^"]*)"/g)) t.true(ref.startsWith("/") || ref.startsWith("data:"), ref);
    for (const path of Object.values(ROUTES)) {
      const r = await get(served.url, path);
      t.is(r.status, 200, path);
      // Cross-origin isolation (the CPU backend's threads need it): the page opts in, and every file may be loaded by it.
      t.is(r.headers["cross-origin-opener-policy"], "same-origin", path);
      t.is(r.headers["cross-origin-embedder-policy"], "require-corp", path);
      t.is(r.headers["cross-origin-resource-policy"], "same-origin", path);
    }
    t.regex(String(page.headers["content-security-policy"]), /worker-src 'self' blob:/);
    t.deepEqual(new Uint8Array((await get(served.url, ROUTES.model)).body), new Uint8Array(readFileSync(artifact)));
    t.deepEqual(new Uint8Array((await get(served.url, ROUTES.weights)).body), new Uint8Array(readFileSync(weights)));
    t.is((await get(served.url, ROUTES.data)).body.toString(), readFileSync(join(ROOT, "data/iris.csv"), "utf8"));
    t.deepEqual(JSON.parse((await get(served.url, ROUTES.config)).body.toString()), { model: "iris.dlc", weights: "iris.safetensors", data: "iris.csv" });
    for (const path of ["/../package.json", "/%2e%2e/package.json", "/..%2f..%2fpackage.json", "/etc/passwd", "//etc/passwd", "/APP.JS", "/app.js%00", "/dist/browser/serve/app.js", "/model.dlc?x=/../../"]) {
      const r = await get(served.url, path);
      if (path.startsWith("/model.dlc")) t.is(r.status, 200, path); // a query string names the same file
      else t.is(r.status, 404, path);
    }
    t.is((await get(served.url, "/", { method: "POST" })).status, 405);
    t.is((await get(served.url, "/", { method: "HEAD" })).status, 200);
    t.is((await get(served.url, "/", { host: "attacker.example:80" })).status, 403);
  } finally {
    t.is(await served.stop(), 0, "SIGINT stops it with exit code 0");
  }
});

test.serial("it prints its URL for people, and Ctrl-C (SIGINT) stops it with exit code 0", async (t) => {
  const child = spawn(process.execPath, [join(ROOT, "bin/dlc.js"), "serve", artifact, "--port", "0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const line = await new Promise<string>((resolve) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()).includes("\n") && resolve(out));
  });
  t.regex(line, /^dlc serve: iris\.dlc at http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C stops\)\n$/);
  child.kill("SIGINT");
  t.is(await exited, 0);
});
