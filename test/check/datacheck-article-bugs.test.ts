// The data-aware checker catches each bug of the article at the access that goes wrong, with the
// mapping and the missing call: a CPU read without dma_sync_single_for_cpu() (stale cacheline);
// a CPU write to a buffer the device owns (and the device then reading RAM older than the dirty
// line); a cacheline shared between a DMA_FROM_DEVICE buffer and CPU data (the write-back at
// unmap destroys what the device wrote); a device reading a buffer never mapped (never cleaned).
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_ATTR_SKIP_CPU_SYNC, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE, GFP_KERNEL,
  dma_alloc_noncoherent, dma_map_single, dma_set_mask_and_coherent, dma_sync_single_for_cpu, dma_sync_single_for_device,
  dma_unmap_single,
} from '../../src/index.js';
import type { Machine, MachineOptions } from '../../src/machine.js';
import type { DataCheckReport } from '../../src/check/dma-data-check.js';
import { probe64 } from '../support/api-helpers.js';
import { x016 } from '../support/debug-helpers.js';

const SEP = '==================================================================';
const DEV = 'mynic 0000:01:00.0';
/** Every report names the caller's line: here, a line of this file. */
const CALLER = expect.stringMatching(/^Caller: .*datacheck-article-bugs\.test\.ts:\d+:\d+$/);

async function boot(opts: MachineOptions = {}): Promise<{ m: Machine; dev: ReturnType<typeof probe64>; since: () => string[] }> {
  const m = await createMachine({ dataCheck: true, ...opts });
  const dev = probe64(m, { name: '0000:01:00.0', driver: 'mynic' });
  const from = m.dmesg().length;
  return { m, dev, since: () => m.dmesg().slice(from) };
}

function only(m: Machine): DataCheckReport {
  const r = m.dataCheck!.reports;
  expect(r.map((x) => x.kind)).toHaveLength(1);
  return r[0]!;
}

describe('the article\'s bugs, reported where they happen', () => {
  test('missing dma_sync_single_for_cpu(): the CPU reads the cacheline it had before the device wrote', async () => {
    const { m, dev, since } = await boot();
    const rx = m.kmalloc(2048, GFP_KERNEL);
    const p = m.virt_to_phys(rx);
    m.cpu.fill(rx, 2048, 0); // the lines are in the cache now
    const h = dma_map_single(dev, rx, 2048, DMA_FROM_DEVICE); // cleaned, still cached
    dev.dmaWrite(h, [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(m.dataCheck!.reports).toEqual([]);
    expect(Array.from(m.cpu.read(rx, 4))).toEqual([0, 0, 0, 0]); // stale
    expect(since()).toEqual([
      SEP,
      'BUG: DMA-API stale read: CPU read of a cacheline the device wrote, not invalidated since',
      `Read of size 4 at phys 0x${x016(p)} by CPU 0`,
      `4 bytes from phys 0x${x016(p)} come from cacheline 0x${x016(p)}, filled before ${DEV} wrote it`,
      `Mapping: dma_map_single(${DEV}, dma=0x${x016(h)}, size=2048, DMA_FROM_DEVICE) of the buffer at phys 0x${x016(p)}, owned by the device`,
      'Missing: dma_sync_single_for_cpu() (or dma_unmap_single()) before the CPU reads',
      CALLER,
      SEP,
    ]);
    const r = only(m);
    expect(r).toMatchObject({ kind: 'stale-cpu-read', bytes: 4, access: { by: 'CPU 0', op: 'read', phys: p, size: 4 } });
    expect(r.mapping).toMatchObject({ call: 'dma_map_single', dma: h, size: 2048, dir: 'DMA_FROM_DEVICE', bounced: false, state: 'owned by the device' });
  });

  test('with the sync, the same driver is silent and reads what the device wrote', async () => {
    const { m, dev } = await boot();
    const rx = m.kmalloc(2048, GFP_KERNEL);
    m.cpu.fill(rx, 2048, 0);
    const h = dma_map_single(dev, rx, 2048, DMA_FROM_DEVICE);
    dev.dmaWrite(h, [1, 2, 3, 4]);
    dma_sync_single_for_cpu(dev, h, 2048, DMA_FROM_DEVICE);
    expect(Array.from(m.cpu.read(rx, 4))).toEqual([1, 2, 3, 4]);
    dma_sync_single_for_device(dev, h, 2048, DMA_FROM_DEVICE);
    dev.dmaWrite(h, [9]);
    dma_unmap_single(dev, h, 2048, DMA_FROM_DEVICE);
    expect(m.cpu.readb(rx)).toBe(9);
    expect(m.dataCheck!.reports).toEqual([]);
  });

  test('a CPU write to a DMA_TO_DEVICE buffer after the map: reported at the write, then at the device\'s read of RAM', async () => {
    const { m, dev, since } = await boot();
    const tx = m.kmalloc(512, GFP_KERNEL);
    const p = m.virt_to_phys(tx);
    m.cpu.fill(tx, 512, 1);
    const h = dma_map_single(dev, tx, 512, DMA_TO_DEVICE);
    m.cpu.writel(tx + 8, 0xcafef00d);
    expect(since()).toEqual([
      SEP,
      'BUG: DMA-API data race: CPU write to a DMA buffer the device owns',
      `Write of size 4 at phys 0x${x016(p + 8)} by CPU 0`,
      `Mapping: dma_map_single(${DEV}, dma=0x${x016(h)}, size=512, DMA_TO_DEVICE) of the buffer at phys 0x${x016(p)}, owned by the device`,
      'Missing: dma_sync_single_for_cpu() (or dma_unmap_single()) before the CPU writes',
      CALLER,
      SEP,
    ]);
    expect(Array.from(dev.dmaRead(h + 8, 4))).toEqual([1, 1, 1, 1]); // the device misses the write
    const r = m.dataCheck!.reports[1]!;
    expect(r.kind).toBe('device-read-stale-ram');
    expect(r.lines.slice(1, 3)).toEqual([
      'BUG: DMA-API stale DMA read: device read of RAM older than a dirty cacheline',
      `Read of size 4 at dma 0x${x016(h + 8)} (phys 0x${x016(p + 8)}) by device ${DEV}`,
    ]);
    expect(r.missing).toBe('dma_sync_single_for_cpu() before and dma_sync_single_for_device() after the CPU writes a buffer the device owns: it wrote after dma_map_single() cleaned the buffer');
    m.cpu.writel(tx + 12, 1); // once per ownership period
    expect(m.dataCheck!.reports).toHaveLength(2);
  });

  test('cache-line sharing: the CPU dirties a line of a FROM_DEVICE buffer, and the unmap writes it back over the DMA data', async () => {
    const { m, dev, since } = await boot();
    const s = m.kmalloc(256, GFP_KERNEL); // struct { u8 rx[100]; ...; u32 counter at 120; }
    const p = m.virt_to_phys(s);
    m.cpu.fill(s, 256, 0);
    const h = dma_map_single(dev, s, 100, DMA_FROM_DEVICE);
    expect(h).toBe(p); // kmalloc-128 granularity: no bounce, the line [64, 128) is shared
    m.cpu.writel(s + 120, 7);
    expect(since().slice(1, 3)).toEqual([
      'BUG: DMA-API data race: CPU write to a cacheline shared with a DMA buffer the device owns',
      `Write of size 4 at phys 0x${x016(p + 120)} by CPU 0, in cacheline 0x${x016(p + 64)}`,
    ]);
    dev.dmaFill(h, 100, 0x55);
    const before = since().length;
    dma_unmap_single(dev, h, 100, DMA_FROM_DEVICE);
    expect(since().slice(before)).toEqual([
      SEP,
      'BUG: DMA-API lost DMA data: dirty cacheline written back over data the device wrote',
      `Write-back of cacheline 0x${x016(p + 64)} by dcache_inval_poc() of [0x${x016(p)}, +100) (DC CIVAC of a partial line at its edge)`,
      `36 bytes ${DEV} wrote from phys 0x${x016(p + 64)} were overwritten with older CPU data`,
      `Mapping: dma_map_single(${DEV}, dma=0x${x016(h)}, size=100, DMA_FROM_DEVICE) of the buffer at phys 0x${x016(p)}, owned by the device`,
      `Missing: the CPU wrote phys 0x${x016(p + 120)}, outside the buffer but in one of its cachelines, while the device owned it: align and size DMA buffers to dma_get_cache_alignment() (ARCH_DMA_MINALIGN)`,
      CALLER,
      SEP,
    ]);
    expect(Array.from(m.cpu.read(s + 62, 4))).toEqual([0x55, 0x55, 0, 0]); // the device's bytes are gone
  });

  test('the device reads a buffer nobody mapped: RAM is older than the CPU\'s dirty lines', async () => {
    const { m, dev } = await boot();
    const tx = m.kmalloc(512, GFP_KERNEL);
    const p = m.virt_to_phys(tx);
    m.cpu.fill(tx, 512, 7);
    dev.dmaRead(p, 128);
    const r = only(m);
    expect(r.kind).toBe('device-read-stale-ram');
    expect(r.mapping).toBeNull();
    expect(r.bytes).toBe(128);
    expect(r.lines.slice(2, 5)).toEqual([
      `Read of size 128 at dma 0x${x016(p)} (phys 0x${x016(p)}) by device ${DEV}`,
      `128 bytes from phys 0x${x016(p)} differ from the dirty cacheline 0x${x016(p)}, which the CPU has not cleaned`,
      'Mapping: none (no live mapping of the device covers this memory)',
    ]);
  });
});

describe('more ways to lose data', () => {
  test('a stale line dirtied by the CPU and evicted under load: the eviction is the write-back that loses DMA data', async () => {
    const { m, dev } = await boot({ cache: { size: 4096, ways: 4 } });
    const rx = m.kmalloc(1024, GFP_KERNEL);
    m.cpu.fill(rx, 1024, 0);
    const h = dma_map_single(dev, rx, 1024, DMA_FROM_DEVICE);
    dev.dmaFill(h, 1024, 0xaa);
    m.cpu.writeb(rx + 3, 1); // reported: a write to a device-owned buffer
    const other = m.kmalloc(64 << 10, GFP_KERNEL);
    m.cpu.read(other, 64 << 10); // pushes everything out of the 4 KiB cache
    const kinds = m.dataCheck!.reports.map((r) => r.kind);
    expect(kinds).toEqual(['cpu-access-device-owned', 'writeback-over-dma-data']);
    const wb = m.dataCheck!.reports[1]!;
    expect(wb.bytes).toBe(64); // the CPU's own byte 3 replaced a device byte too
    expect(wb.access.by).toMatch(/^an eviction during the CPU read of \[0x[0-9a-f]{16}, \+65536\)$/);
    expect(wb.missing).toBe(`dma_sync_single_for_cpu() before the CPU wrote the buffer at phys 0x${x016(m.virt_to_phys(rx) + 3)}: it dirtied a line holding data from before the device wrote`);
  });

  test('an unmap with DMA_ATTR_SKIP_CPU_SYNC and no sync for the CPU leaves the stale line', async () => {
    const { m, dev } = await boot();
    const rx = m.kmalloc(512, GFP_KERNEL);
    m.cpu.read(rx, 512);
    const h = dma_map_single(dev, rx, 512, DMA_FROM_DEVICE);
    dev.dmaFill(h, 512, 3);
    dma_unmap_single(dev, h, 512, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    m.cpu.read(rx, 16);
    const r = only(m);
    expect(r.kind).toBe('stale-cpu-read');
    expect(r.mapping?.state).toBe('unmapped');
    expect(r.missing).toBe('dma_sync_single_for_cpu() before dma_unmap_single(..., DMA_ATTR_SKIP_CPU_SYNC): nothing invalidated the line after the device wrote it');
  });

  test('a sync for the CPU with DMA_TO_DEVICE does not invalidate a FROM_DEVICE buffer', async () => {
    const { m, dev } = await boot();
    const rx = m.kmalloc(512, GFP_KERNEL);
    m.cpu.read(rx, 512);
    const h = dma_map_single(dev, rx, 512, DMA_FROM_DEVICE);
    dev.dmaFill(h, 512, 3);
    dma_sync_single_for_cpu(dev, h, 512, DMA_TO_DEVICE);
    m.cpu.read(rx, 16);
    expect(only(m).missing).toBe('dma_sync_single_for_cpu() with DMA_FROM_DEVICE or DMA_BIDIRECTIONAL: the sync for the CPU that was made did not invalidate the line');
  });

  test('dma_alloc_noncoherent(): the device reads before dma_sync_single_for_device() and gets RAM, not the CPU\'s data', async () => {
    const { m, dev } = await boot();
    const nc = dma_alloc_noncoherent(dev, 4096, DMA_TO_DEVICE, GFP_KERNEL)!;
    m.cpu.fill(nc.cpu_addr, 64, 0x11);
    dev.dmaRead(nc.dma_handle, 64);
    const r = only(m);
    expect(r.mapping).toMatchObject({ call: 'dma_alloc_noncoherent', state: 'owned by the CPU' });
    expect(r.missing).toBe('dma_sync_single_for_device() before the device reads: the CPU owns this part of the buffer and has not cleaned what it wrote');
    dma_sync_single_for_device(dev, nc.dma_handle, 4096, DMA_TO_DEVICE);
    dev.dmaRead(nc.dma_handle, 64);
    m.cpu.writeb(nc.cpu_addr, 4); // the device owns it now
    expect(m.dataCheck!.reports).toHaveLength(2);
    expect(m.dataCheck!.reports[1]!.kind).toBe('cpu-access-device-owned');
  });

  test('a bounced mapping: the CPU reading its buffer while the device owns the slot is reported with the slot', async () => {
    const { m, dev } = await boot();
    expect(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32))).toBe(0);
    const rx = m.kmalloc(512, GFP_KERNEL); // above 4 GiB: bounced
    const h = dma_map_single(dev, rx, 512, DMA_FROM_DEVICE);
    dev.dmaFill(h, 512, 9);
    m.cpu.read(rx, 8);
    const r = only(m);
    expect(r.kind).toBe('cpu-access-device-owned');
    expect(r.mapping).toMatchObject({ bounced: true, dmaPhys: h, phys: m.virt_to_phys(rx) });
    expect(r.lines[3]).toBe(`Mapping: dma_map_single(${DEV}, dma=0x${x016(h)}, size=512, DMA_FROM_DEVICE) of the buffer at phys 0x${x016(m.virt_to_phys(rx))}, bounced through the swiotlb slot at phys 0x${x016(h)}, owned by the device`);
    dma_unmap_single(dev, h, 512, DMA_FROM_DEVICE);
    expect(m.cpu.readb(rx)).toBe(9);
    expect(m.dataCheck!.reports).toHaveLength(1);
  });
});
