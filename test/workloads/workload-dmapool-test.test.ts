// The dmapool_test workload (mm/dmapool_test.c): its six parameter sets, nr_blocks()'s clamp,
// rounds of "allocate every block, free them in order", and its printk line
// "dmapool test: size:%-4zu align:%-4zu blocks:%-4d time:%llu". Times are wall time, so only
// their form is checked; two rounds per set keep the run short.
import { describe, expect, test } from 'vitest';
import { createMachine, type Machine } from '../../src/machine.js';
import { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from '../../src/mm/gfp.js';
import { DMAPOOL_TEST_PARMS, nr_blocks, runDmapoolTest } from '../../src/workloads/dmapool-test.js';

const LINE = /^dmapool test: size:(\d+) *align:(\d+) *blocks:(\d+) *time:(\d+)$/;

function freePages(m: Machine): number {
  return ([ZONE_DMA, ZONE_DMA32, ZONE_NORMAL] as const).reduce<number>((t, z) => t + m.pages.nrFree(z), 0);
}

describe('dmapool_test', () => {
  test('nr_blocks clamps (PAGE_SIZE / size) * 512 to 1024..8192', () => {
    expect(nr_blocks(16)).toBe(8192);
    expect(nr_blocks(64)).toBe(8192);
    expect(nr_blocks(256)).toBe(8192);
    expect(nr_blocks(1024)).toBe(2048);
    expect(nr_blocks(4096)).toBe(1024);
    expect(nr_blocks(68)).toBe(8192);
    expect(nr_blocks(8192)).toBe(1024);
    expect(nr_blocks(600)).toBe(3072);
  });

  test('six lines in the kernel format, one per parameter set, in the module order', async () => {
    const m = await createMachine();
    const { lines, results, error } = await runDmapoolTest(m, { iterations: 2 });
    expect(error).toBeNull();
    expect(lines).toHaveLength(6);
    const parsed = lines.map((l) => LINE.exec(l)?.slice(1, 4).map(Number));
    expect(parsed).toEqual([[16, 16, 8192], [64, 64, 8192], [256, 256, 8192], [1024, 1024, 2048], [4096, 4096, 1024], [68, 32, 8192]]);
    expect(lines[0]).toMatch(/^dmapool test: size:16   align:16   blocks:8192 time:\d+$/);
    expect(lines[3]).toMatch(/^dmapool test: size:1024 align:1024 blocks:2048 time:\d+$/);
    expect(results.map((r) => r.boundary)).toEqual(DMAPOOL_TEST_PARMS.map((p) => p.boundary));
    for (const [i, r] of results.entries()) {
      expect(lines[i]).toBe(`dmapool test: size:${String(r.size).padEnd(4)} align:${String(r.align).padEnd(4)} blocks:${String(r.blocks).padEnd(4)} time:${r.timeUs}`);
      expect(r.blocks).toBe(nr_blocks(r.size));
      expect(r.nsPerPair).toBeGreaterThan(0);
    }
  });

  test('the lines go to the kernel log; every block is freed and every pool page returned', async () => {
    const m = await createMachine();
    const before = freePages(m);
    const { lines } = await runDmapoolTest(m, { iterations: 1 });
    expect(m.dmesg().slice(-6)).toEqual(lines);
    expect(m.dmesg().some((l) => l.includes('busy'))).toBe(false); // dma_pool_destroy() with nr_active != 0
    expect(freePages(m)).toBe(before);
  });

  test('progress reaches 1 after the last round', async () => {
    const m = await createMachine();
    const seen: number[] = [];
    await runDmapoolTest(m, { iterations: 2, onProgress: (f) => seen.push(f) });
    expect(seen).toHaveLength(12);
    expect(seen.at(-1)).toBe(1);
    expect(seen[0]).toBeCloseTo(1 / 12, 10);
  });
});
