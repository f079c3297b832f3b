// checkDriver() from the built dmasim/check: a module path runs in worker threads, a function in
// the calling thread, and both give the same verdicts, findings and reproducers.
import { describe, expect, it } from 'vitest';

type Check = (driver: unknown, options?: object) => Promise<{
  exitCode: number;
  table: { configuration: string; verdict: string }[];
  findings: { kind: string; siteLabel: string; configurations: string[]; reproducer: { configuration: string; seed: number; command: string | null } }[];
}>;

const dist = new URL('../../dist/', import.meta.url);
const MATRIX = ['iommu=none', 'load=off'];

describe('checkDriver (dmasim/check)', { timeout: 120_000 }, () => {
  it('gives the same verdicts for a module path (workers) and its default export passed as a function (this thread)', async () => {
    const { checkDriver } = (await import(new URL('check.js', dist).href)) as { checkDriver: Check };
    const path = new URL('../../examples/missing-sync-for-cpu.mjs', import.meta.url).pathname;
    const fn = ((await import(path)) as { default: unknown }).default;
    const progress: number[] = [];
    const byPath = await checkDriver(path, { matrix: MATRIX, jobs: 2, commandName: 'rx.mjs', onProgress: (done: number) => progress.push(done) });
    const byFn = await checkDriver(fn, { matrix: MATRIX });
    expect(byPath.exitCode).toBe(1);
    expect(byFn.table).toEqual(byPath.table);
    expect(byFn.findings.map((f) => [f.kind, f.configurations])).toEqual(byPath.findings.map((f) => [f.kind, f.configurations]));
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(byPath.findings[0]?.reproducer.command).toBe('dmasim check rx.mjs --only arm64/direct/iommu-none/load-off --seed 1 --dmesg');
    expect(byFn.findings[0]?.reproducer.command).toBeNull();
  });

  it('refuses what is neither a path nor a function', async () => {
    const { checkDriver } = (await import(new URL('check.js', dist).href)) as { checkDriver: Check };
    await expect(checkDriver(42)).rejects.toThrow(/driver must be a module path or a function, got number/);
  });
});
