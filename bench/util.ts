// Benchmark plumbing: tinybench with batched iterations (single calls are a few ns and would
// measure the timer), every figure printed beside a baseline measured in the same run.

import { appendFileSync } from 'node:fs';
import { Bench } from 'tinybench';

export interface Job {
  readonly name: string;
  /** Operations one call of `fn` performs (the batch). */
  readonly ops: number;
  readonly fn: () => void;
  /** Untimed preparation before each call (e.g. dirtying lines a clean will write back). */
  readonly beforeEach?: () => void;
}

/** ns per operation, from the median of the batched samples. */
export async function measure(jobs: readonly Job[], time = 400): Promise<Map<string, number>> {
  const bench = new Bench({ time, warmupTime: 150, warmupIterations: 10, iterations: 20, throws: true, timestampProvider: 'hrtimeNow' });
  for (const j of jobs) bench.add(j.name, j.fn, j.beforeEach ? { beforeEach: j.beforeEach } : {});
  await bench.run();
  const out = new Map<string, number>();
  for (const t of bench.tasks) {
    const r = t.result;
    const job = jobs.find((j) => j.name === t.name);
    if (r.state !== 'completed' || job === undefined) throw new Error(`bench task ${t.name} did not complete (${r.state})`);
    out.set(t.name, (r.latency.p50 * 1e6) / job.ops);
  }
  return out;
}

export interface Row {
  readonly suite: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** value expressed against the same-run baseline, and what that baseline is. */
  readonly ratio?: number;
  readonly baseline?: string;
  readonly goal?: string | undefined;
}

export function report(rows: readonly Row[]): void {
  const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  for (const r of rows) {
    const ratio = r.ratio === undefined ? '' : `  ${fmt(r.ratio)}x ${r.baseline ?? ''}`;
    const goal = r.goal === undefined ? '' : `  (goal ${r.goal})`;
    process.stdout.write(`${r.suite.padEnd(8)} ${r.name.padEnd(44)} ${fmt(r.value).padStart(9)} ${r.unit.padEnd(8)}${ratio}${goal}\n`);
  }
  const file = process.env.DMASIM_BENCH_JSONL;
  if (file) for (const r of rows) appendFileSync(file, `${JSON.stringify(r)}\n`);
}
