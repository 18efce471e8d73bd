// Timing with the `benchmark` package: each sample is one awaited run, the
// suite bounded in time; we report the median and the spread (min, max) of
// the samples, and Benchmark.js's relative margin of error.

import Benchmark from "benchmark";

export interface Timing {
  /** Seconds per run. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Relative margin of error, in percent. */
  readonly rme: number;
  readonly samples: number;
}

export interface MeasureOptions {
  /** Seconds to spend sampling (Benchmark.js maxTime). */
  readonly maxTime?: number;
  readonly minSamples?: number;
}

export function measure(name: string, run: () => Promise<void>, options: MeasureOptions = {}): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(name, {
      defer: true,
      async: true,
      maxTime: options.maxTime ?? 3,
      minSamples: options.minSamples ?? 5,
      // One run per sample: a run is long enough (milliseconds) to time by itself.
      initCount: 1,
      minTime: 0,
      fn: (deferred: Benchmark.Deferred) => {
        run().then(
          () => deferred.resolve(),
          (e: unknown) => {
            bench.abort();
            reject(e);
          },
        );
      },
    });
    bench.on("complete", () => {
      if (bench.error) return reject(bench.error);
      const sample = [...bench.stats.sample].sort((a, b) => a - b);
      resolve({
        median: sample[Math.floor(sample.length / 2)]!,
        min: sample[0]!,
        max: sample.at(-1)!,
        mean: bench.stats.mean,
        rme: bench.stats.rme,
        samples: sample.length,
      });
    });
    bench.run({ async: true });
  });
}

/** Times a single run (first runs: compilation included). */
export async function once(run: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}
