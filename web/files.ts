// Bytes and text in and out of the page: what `dlc serve` serves (fetch),
// what the user picks (a .csv.gz is gunzipped here, by the browser's own
// DecompressionStream), and a download.

async function get(url: string): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: the server answered ${response.status} ${response.statusText}`);
  return response;
}

export const fetchBytes = async (url: string) => new Uint8Array(await (await get(url)).arrayBuffer());
export const fetchText = async (url: string) => (await get(url)).text();
export const fetchJson = async <T>(url: string) => (await (await get(url)).json()) as T;

/** The text of a file the user picked. */
export async function readPicked(file: File): Promise<string> {
  if (!/\.gz$/i.test(file.name)) return file.text();
  return new Response(file.stream().pipeThrough(new DecompressionStream("gzip"))).text();
}

/** Offers `bytes` as a download named `name`. */
export function download(bytes: Uint8Array, name: string, type = "application/octet-stream"): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own reference by now; a little later the URL may go.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
