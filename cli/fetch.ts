// `dlc fetch fashion-mnist`: the Fashion-MNIST CSV files the examples train on,
// converted from the idx files of Debian's dataset-fashion-mnist package
// (the same layout as the widely used Kaggle CSV copy: label,pixel1..pixel784).

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { idxToCsv } from "../runtime/data/idx.js";
import { UsageError } from "./exit.js";

export async function runFetch(dataset: string, o: { dir: string; idx: string; json?: boolean; quiet?: boolean }): Promise<void> {
  if (dataset !== "fashion-mnist") throw new UsageError(`unknown data set '${dataset}': dlc fetch knows fashion-mnist`);
  const parts = [
    { out: "train.csv.gz", images: "train-images-idx3-ubyte.gz", labels: "train-labels-idx1-ubyte.gz" },
    { out: "test.csv.gz", images: "t10k-images-idx3-ubyte.gz", labels: "t10k-labels-idx1-ubyte.gz" },
  ];
  for (const p of parts) {
    if (!existsSync(join(o.idx, p.images)) || !existsSync(join(o.idx, p.labels))) {
      throw new UsageError(`cannot find ${join(o.idx, p.images)}: install Debian's package with \`sudo apt-get install dataset-fashion-mnist\` (or run scripts/fetch-fashion-mnist.sh)`);
    }
  }
  mkdirSync(o.dir, { recursive: true });
  const written: { file: string; rows: number; seconds: number }[] = [];
  for (const p of parts) {
    const started = performance.now();
    const { rows } = await idxToCsv(join(o.idx, p.images), join(o.idx, p.labels), join(o.dir, p.out));
    written.push({ file: join(o.dir, p.out), rows, seconds: (performance.now() - started) / 1000 });
    if (!o.quiet && !o.json) process.stdout.write(`dlc: wrote ${join(o.dir, p.out)} (${rows} rows, ${written.at(-1)!.seconds.toFixed(1)}s)\n`);
  }
  if (o.json) process.stdout.write(JSON.stringify({ dataset, files: written }) + "\n");
}
