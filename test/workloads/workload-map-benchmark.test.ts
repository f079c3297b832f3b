// The dma_map_benchmark workload: the selftest's validation messages and output lines
// (tools/testing/selftests/dma/dma_map_benchmark.c, the -m version), the kernel module's
// arithmetic (kernel/dma/map_benchmark.c: 100 ns truncation, u64 averages, int_sqrt64), its
// ioctl checks, its mask save/restore, and what the loop does on the default arm64 machine:
// 32-bit masks bounce the (above 4 GiB) buffers through swiotlb, FROM_DEVICE skips the stain.
// Latencies are model time (cost.ts), so every kernel figure here is exact and deterministic.
import { describe, expect, test } from 'vitest';
import { DMA_BIT_MASK } from '../../src/include/dma-mapping.js';
import { DebugfsError } from '../../src/lib/debugfs.js';
import { createMachine, type Machine } from '../../src/machine.js';
import { dma_get_mask, dma_set_mask } from '../../src/dma/mapping.js';
import { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from '../../src/mm/gfp.js';
import {
  checkMapBenchmarkOptions, defaultMaxLoops, int_sqrt64, latencyStats, MAP_BENCHMARK_DEFAULTS, MAP_BENCHMARK_PAGE_BUDGET,
  mapBenchmarkDevice, runMapBenchmark, to100ns, type MapBenchmarkOptions, type MapBenchmarkResult,
} from '../../src/workloads/map-benchmark.js';

const opts = (o: Partial<MapBenchmarkOptions> = {}): MapBenchmarkOptions => ({ ...MAP_BENCHMARK_DEFAULTS, seconds: 1, ...o });

async function run(o: Partial<MapBenchmarkOptions> = {}, maxLoops = 200, m?: Machine): Promise<{ m: Machine; r: MapBenchmarkResult }> {
  const machine = m ?? await createMachine();
  return { m: machine, r: await runMapBenchmark(machine, opts(o), { maxLoops }) };
}

function freePages(m: Machine): number {
  return ([ZONE_DMA, ZONE_DMA32, ZONE_NORMAL] as const).reduce<number>((t, z) => t + m.pages.nrFree(z), 0);
}

describe('the kernel arithmetic', () => {
  test('latencies are truncated to 100 ns units (div64_ul), float noise of the model absorbed', () => {
    expect(to100ns(0)).toBe(0);
    expect(to100ns(99.99)).toBe(0);
    expect(to100ns(100)).toBe(1);
    expect(to100ns(346)).toBe(3);
    expect(to100ns(550.8)).toBe(5);
    expect(to100ns(0.1 + 0.2 - 0.3 + 300)).toBe(3);
    expect(to100ns(299.99999999999994)).toBe(3); // an exact 300 that float arithmetic left below
    expect(to100ns(299.9)).toBe(2);
  });

  test('int_sqrt64 is the integer square root over the whole u64 range', () => {
    const cases: [bigint, bigint][] = [
      [0n, 0n], [1n, 1n], [2n, 1n], [3n, 1n], [4n, 2n], [15n, 3n], [16n, 4n], [17n, 4n], [99n, 9n], [100n, 10n],
      [10n ** 18n, 10n ** 9n], [(2n ** 32n - 1n) ** 2n, 2n ** 32n - 1n], [(2n ** 32n - 1n) ** 2n - 1n, 2n ** 32n - 2n],
      [2n ** 64n - 1n, 2n ** 32n - 1n],
    ];
    for (const [x, y] of cases) expect(int_sqrt64(x), `int_sqrt64(${x})`).toBe(y);
  });

  test('average and deviation use integer division as do_map_benchmark() does', () => {
    // units 1, 2, 3, 4: avg 10/4 = 2, variance 30/4 - 4 = 3, stddev 1
    expect(latencyStats(10n, 30n, 4n)).toEqual({ avg: 2n, stddev: 1n });
    // units 0, 0, 0, 10: avg 2, variance 100/4 - 4 = 21, stddev 4
    expect(latencyStats(10n, 100n, 4n)).toEqual({ avg: 2n, stddev: 4n });
    // all equal: no deviation
    expect(latencyStats(5n * 7n, 25n * 7n, 7n)).toEqual({ avg: 5n, stddev: 0n });
  });
});

describe('validation', () => {
  const messages: [Partial<MapBenchmarkOptions> | Record<string, number>, string][] = [
    [{ mode: 2 }, 'invalid map mode, DMA_MAP_BENCH_SINGLE_MODE:0, DMA_MAP_BENCH_SG_MODE:1'],
    [{ threads: 0 }, 'invalid number of threads, must be in 1-1024'],
    [{ threads: 1025 }, 'invalid number of threads, must be in 1-1024'],
    [{ seconds: 0 }, 'invalid number of seconds, must be in 1-300'],
    [{ seconds: 301 }, 'invalid number of seconds, must be in 1-300'],
    [{ transDelayNs: -1 }, 'invalid transmit delay, must be in 0-10000000'],
    [{ transDelayNs: 10_000_001 }, 'invalid transmit delay, must be in 0-10000000'],
    [{ dmaBits: 19 }, 'invalid dma mask bit, must be in 20-64'],
    [{ dmaBits: 65 }, 'invalid dma mask bit, must be in 20-64'],
    [{ dir: 3 }, 'invalid dma direction'],
    [{ granule: 0 }, 'invalid granule size'],
    [{ granule: 1025 }, 'invalid granule size'],
    [{ threads: 1.5 }, 'invalid number of threads, must be in 1-1024'],
  ];

  test.each(messages)('%o: the selftest message', (bad, message) => {
    expect(checkMapBenchmarkOptions({ ...MAP_BENCHMARK_DEFAULTS, ...bad })).toBe(message);
  });

  test('checks run in the selftest order: the first failing one is reported', () => {
    expect(checkMapBenchmarkOptions({ ...MAP_BENCHMARK_DEFAULTS, mode: 5, threads: 0, granule: 0 })).toMatch(/^invalid map mode/);
    expect(checkMapBenchmarkOptions({ ...MAP_BENCHMARK_DEFAULTS, dmaBits: 8, dir: 7, granule: 0 })).toBe('invalid dma mask bit, must be in 20-64');
    expect(checkMapBenchmarkOptions({ ...MAP_BENCHMARK_DEFAULTS, dir: 7, granule: 0 })).toBe('invalid dma direction');
  });

  test('the defaults and every limit value pass', () => {
    expect(checkMapBenchmarkOptions(MAP_BENCHMARK_DEFAULTS)).toBeNull();
    const edges = { threads: 1024, seconds: 300, transDelayNs: 10_000_000, dmaBits: 20, dir: 2, granule: 1024, mode: 1, node: 0 } as const;
    expect(checkMapBenchmarkOptions({ ...MAP_BENCHMARK_DEFAULTS, ...edges })).toBeNull();
    expect(checkMapBenchmarkOptions({ ...MAP_BENCHMARK_DEFAULTS, dmaBits: 64 })).toBeNull();
  });

  test('what only the kernel checks is reported as the kernel logs it', () => {
    expect(checkMapBenchmarkOptions({ ...MAP_BENCHMARK_DEFAULTS, node: 1 })).toBe('map_benchmark: invalid numa node');
    expect(checkMapBenchmarkOptions({ ...MAP_BENCHMARK_DEFAULTS, node: -2 })).toBe('map_benchmark: invalid numa node');
    // the selftest only rejects mode >= DMA_MAP_BENCH_MODE_MAX; the kernel's u8 rejects -1
    expect(checkMapBenchmarkOptions({ ...MAP_BENCHMARK_DEFAULTS, mode: -1 })).toBe('map_benchmark: invalid map mode');
  });

  test('a run with options the selftest refuses does nothing and prints nothing', async () => {
    const { m, r } = await run({ granule: 0 });
    expect(r.error).toBe('invalid granule size');
    expect(r.lines).toEqual([]);
    expect(r.loops).toBe(0);
    expect(m.dmesg().some((l) => l.startsWith('map_benchmark'))).toBe(false);
  });

  test('a run the ioctl refuses fails as perror("ioctl") and logs the kernel reason', async () => {
    const { m, r } = await run({ node: 3 });
    expect(r.error).toBe('ioctl: Invalid argument');
    expect(r.lines).toEqual([]);
    expect(m.dmesg().at(-1)).toBe('map_benchmark: invalid numa node');
  });
});

describe('a run on the default machine', () => {
  test('prints the selftest lines exactly, then the dmasim nanosecond line', async () => {
    const { r } = await run();
    expect(r.error).toBeNull();
    expect(r.lines).toHaveLength(5);
    const [mode, params, map, unmap, ns] = r.lines;
    expect(mode).toBe('dma mapping mode: 0');
    expect(params).toBe('dma mapping benchmark: threads:1 seconds:1 node:-1 dir:BIDIRECTIONAL granule/sg_nents: 1');
    expect(map).toMatch(/^average map latency\(us\):\d+\.\d standard deviation:\d+\.\d$/);
    expect(unmap).toMatch(/^average unmap latency\(us\):\d+\.\d standard deviation:\d+\.\d$/);
    expect(ns).toMatch(/^dmasim: map \d+\.\d ns unmap \d+\.\d ns \(model\), map \d+\.\d ns unmap \d+\.\d ns \(wall\), loops 200$/);
  });

  test('the latency lines are the 100 ns figures divided by 10.0', async () => {
    const { r } = await run();
    // 32-bit mask, buffer above 4 GiB: swiotlb bounce; 550.8 model ns to map on arm64. The
    // unmap pays one DSB more (225 ns): Linux 7.1's arch_sync_dma_flush() after the invalidate,
    // then swiotlb_bounce()'s own flush before it reads a DMA_FROM_DEVICE bounce buffer.
    expect(r.modelMapNs).toBeCloseTo(550.8, 6);
    expect(r.modelUnmapNs).toBeCloseTo(550.8 + 225, 6);
    expect(r.avg_map_100ns).toBe(5n);
    expect(r.map_stddev).toBe(0n);
    expect(r.avg_unmap_100ns).toBe(7n);
    expect(r.lines[2]).toBe('average map latency(us):0.5 standard deviation:0.0');
    expect(r.lines[3]).toBe('average unmap latency(us):0.7 standard deviation:0.0');
    expect(r.lines[4]).toMatch(/^dmasim: map 550\.8 ns unmap 775\.8 ns \(model\)/);
    expect(r.wallMapNs).toBeGreaterThan(0);
    expect(r.wallUnmapNs).toBeGreaterThan(0);
  });

  test('a fast call reads 0.0, as under 100 ns does in the kernel', async () => {
    const m = await createMachine({ arch: 'x86_64' });
    const { r } = await run({ dmaBits: 64 }, 50, m);
    expect(r.modelMapNs).toBe(20); // one mapNs, no cache maintenance on a coherent machine
    expect(r.avg_map_100ns).toBe(0n);
    expect(r.lines[2]).toBe('average map latency(us):0.0 standard deviation:0.0');
  });

  test('32-bit dma_bits bounces the buffer through swiotlb and maps slower than 64-bit', async () => {
    const narrow = await run({ dmaBits: 32 });
    const wide = await run({ dmaBits: 64 });
    expect(narrow.m.stats().bounceBytes).toBeGreaterThanOrEqual(2 * 200 * 4096);
    expect(wide.m.stats().bounceBytes).toBe(0);
    expect(narrow.r.modelMapNs).toBeGreaterThan(wide.r.modelMapNs);
    expect(narrow.r.avg_map_100ns).toBeGreaterThan(wide.r.avg_map_100ns);
    expect(wide.r.avg_map_100ns).toBe(3n); // 64 DC CVAC + DSB + map: 346 ns
    expect(narrow.m.swiotlb?.totalUsed).toBe(0); // every slot released again
  });

  test('the device mask is restored after a run, and after a failed one', async () => {
    const m = await createMachine();
    const dev = mapBenchmarkDevice(m);
    expect(dma_set_mask(dev, DMA_BIT_MASK(40))).toBe(0);
    await run({ dmaBits: 64 }, 20, m);
    expect(dma_get_mask(dev)).toBe(DMA_BIT_MASK(40));
    const failed = await run({ dmaBits: 32, granule: 128 }, 20, m); // 512 KiB: more than swiotlb maps at once
    expect(failed.r.error).toBe('ioctl: Cannot allocate memory');
    expect(dma_get_mask(dev)).toBe(DMA_BIT_MASK(40));
  });

  test('a mask the device cannot take fails the ioctl with the kernel message', async () => {
    const { m, r } = await run({ dmaBits: 20 }); // no RAM below 1 MiB on this machine
    expect(r.error).toBe('ioctl: Invalid argument');
    expect(m.dmesg().at(-1)).toBe('map_benchmark: failed to set dma_mask on device dma_map_benchmark');
    expect(dma_get_mask(mapBenchmarkDevice(m))).toBe(DMA_BIT_MASK(32));
  });

  test('a failed map ends the run with -ENOMEM, logged, and every buffer freed', async () => {
    const m = await createMachine();
    mapBenchmarkDevice(m);
    const before = freePages(m);
    const { r } = await run({ granule: 128, threads: 2 }, 20, m);
    expect(r.error).toBe('ioctl: Cannot allocate memory');
    expect(r.lines).toEqual([]);
    expect(m.dmesg()).toContain('map_benchmark: dma_map_single failed on dma_map_benchmark');
    expect(freePages(m)).toBe(before);
  });

  test('sg mode maps granule one-page entries per loop', async () => {
    const { m, r } = await run({ mode: 1, granule: 4, dmaBits: 64 }, 100);
    expect(r.error).toBeNull();
    expect(r.lines[0]).toBe('dma mapping mode: 1');
    expect(r.lines[1]).toBe('dma mapping benchmark: threads:1 seconds:1 node:-1 dir:BIDIRECTIONAL granule/sg_nents: 4');
    expect(m.stats().dmaOps).toBe(100 * 2 * 4);
    // Batched DSBs (7.1): 4 entries of 64 DC ops (1.5 ns) and 25 ns each, one 225 ns DSB per list.
    expect(r.modelMapNs).toBeCloseTo(4 * (64 * 1.5 + 25) + 225, 6);
    expect(r.avg_map_100ns).toBe(7n);
  });

  test('FROM_DEVICE skips the stain: no dirty lines, nothing written back', async () => {
    const stained = await run({ dir: 0, dmaBits: 64 });
    const clean = await run({ dir: 2, dmaBits: 64 });
    expect(stained.m.stats().dirtyLinesWrittenBack).toBe(200 * 64);
    expect(clean.m.stats().dirtyLinesWrittenBack).toBe(0);
    expect(clean.m.stats().cacheLinesCleaned).toBe(0);
    expect(clean.r.lines[1]).toContain('dir:FROM_DEVICE');
    // The DC operations themselves are issued on every line whatever its state.
    expect(clean.m.stats().cacheMaintenanceOps).toBe(stained.m.stats().cacheMaintenanceOps);
  });

  test('TO_DEVICE unmaps without DC operations; the flush still issues its DSB (7.1)', async () => {
    const { r } = await run({ dir: 1, dmaBits: 64 });
    expect(r.modelUnmapNs).toBe(25 + 225);
    expect(r.lines[1]).toContain('dir:TO_DEVICE');
  });
});

describe('duration, threads and control', () => {
  test('seconds of simulated time end the run: each thread loops until its own clock reaches them', async () => {
    const { r } = await run({ threads: 3, transDelayNs: 10_000_000, seconds: 1 }, 10_000);
    expect(r.stoppedBy).toBe('seconds');
    expect(r.loops).toBe(3 * 100); // 100 loops of 10 ms + 1.1 µs pass 1 s; 99 do not
    expect(r.simulatedNs).toBeCloseTo(100 * (10_000_000 + 550.8 + 775.8), 0);
    expect(r.lines[1]).toBe('dma mapping benchmark: threads:3 seconds:1 node:-1 dir:BIDIRECTIONAL granule/sg_nents: 1');
  });

  test('the loop budget ends a long run, scaled by the pages a loop maps', async () => {
    expect(defaultMaxLoops(1)).toBe(MAP_BENCHMARK_PAGE_BUDGET);
    expect(defaultMaxLoops(1024)).toBe(Math.ceil(MAP_BENCHMARK_PAGE_BUDGET / 1024));
    const { r } = await run({ seconds: 300, threads: 4 }, 402);
    expect(r.stoppedBy).toBe('maxLoops');
    expect(r.loops).toBe(402);
    expect(r.simulatedNs).toBeLessThan(1e9);
  });

  test('an abort keeps the results so far, as a signal ends msleep_interruptible()', async () => {
    const m = await createMachine();
    const ac = new AbortController();
    ac.abort();
    const r = await runMapBenchmark(m, opts(), { signal: ac.signal });
    expect(r.stoppedBy).toBe('signal');
    expect(r.error).toBeNull();
    expect(r.loops).toBe(0);
    expect(r.lines[2]).toBe('average map latency(us):0.0 standard deviation:0.0');
    expect(dma_get_mask(mapBenchmarkDevice(m))).toBe(DMA_BIT_MASK(32));
  });

  test('progress rises to 1', async () => {
    const seen: number[] = [];
    const m = await createMachine();
    await runMapBenchmark(m, opts({ dmaBits: 64 }), { maxLoops: 300, onProgress: (f) => seen.push(f) });
    expect(seen.at(-1)).toBe(1);
    expect(seen.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= (seen[i - 1] as number)))).toBe(true);
  });

  test('the same machine and options give the same kernel figures', async () => {
    const a = await run({ threads: 2, mode: 1, granule: 2 }, 300);
    const b = await run({ threads: 2, mode: 1, granule: 2 }, 300);
    expect(b.r.lines.slice(0, 4)).toEqual(a.r.lines.slice(0, 4));
    expect(b.r.modelMapNs).toBe(a.r.modelMapNs);
  });

  test('the device has the debugfs file the selftest opens, with no read op', async () => {
    const m = await createMachine();
    const dev = mapBenchmarkDevice(m);
    expect(mapBenchmarkDevice(m)).toBe(dev);
    expect(dev.driver).toBe('dma_map_benchmark');
    expect(m.debugfs.list('/sys/kernel/debug')).toContain('dma_map_benchmark');
    expect(() => m.debugfs.read('/sys/kernel/debug/dma_map_benchmark')).toThrow(DebugfsError);
  });
});
