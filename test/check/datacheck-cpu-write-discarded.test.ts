// Rule: arch/arm64/mm/dma-mapping.c arch_sync_dma_for_cpu() invalidates a FROM_DEVICE or
// DMA_BIDIRECTIONAL buffer (dcache_inval_poc(): DC IVAC, DC CIVAC only on a partial line at either
// edge), and dma_unmap_single() does the same sync for the CPU (kernel/dma/direct.h
// dma_direct_unmap_phys()). So a CPU write to a buffer it owns (after dma_sync_single_for_cpu()),
// with no dma_sync_single_for_device() to clean it, is thrown away by the unmap or the next sync
// for the CPU on a non-coherent device. The data-aware checker reports that loss when the bytes
// are really gone ('cpu-write-discarded', with the mapping and the caller's line), and stays
// silent when nothing is lost: the write cleaned by a sync for the device, no write after the sync,
// a coherent device (no invalidation), the line written back before the unmap, or an edge line
// that DC CIVAC cleans.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, dma_map_single, dma_sync_single_for_cpu, dma_sync_single_for_device,
  dma_unmap_single, GFP_KERNEL, type DmaDirection,
} from '../../src/index.js';
import { pattern, probe64 } from '../support/api-helpers.js';

const SIZE = 512;

/** A buffer the device filled and the CPU took back with dma_sync_single_for_cpu(). */
async function rig(opts: { arch?: 'arm64' | 'x86_64'; coherent?: boolean; dir?: DmaDirection; offset?: number } = {}) {
  const m = await createMachine({ arch: opts.arch ?? 'arm64', seed: 5, dataCheck: true });
  const dev = probe64(m, { name: '0000:01:00.0', driver: 'mynic', coherent: opts.coherent ?? false });
  const dir = opts.dir ?? DMA_BIDIRECTIONAL;
  const buf = m.kmalloc(SIZE + 64, GFP_KERNEL) + (opts.offset ?? 0);
  m.cpu.write(buf, pattern(SIZE, 1));
  const h = dma_map_single(dev, buf, SIZE, dir);
  dev.dmaWrite(h, pattern(SIZE, 2));
  dma_sync_single_for_cpu(dev, h, SIZE, dir);
  return { m, dev, buf, h, dir };
}

const kinds = (m: { dataCheck: { reports: readonly { kind: string }[] } | null }): string[] => m.dataCheck!.reports.map((r) => r.kind);

describe('a CPU write after the sync for the CPU, never cleaned, is lost at the unmap', () => {
  test('DMA_BIDIRECTIONAL on non-coherent arm64: the write is gone, and the report names the mapping and the unmap', async () => {
    const { m, dev, buf, h, dir } = await rig();
    m.cpu.write(buf + 128, pattern(64, 3));
    dma_unmap_single(dev, h, SIZE, dir); const line = new Error().stack!.split('\n')[1]!.match(/:(\d+):\d+\)?$/)![1];
    expect(m.cpu.read(buf + 128, 64)).toEqual(pattern(SIZE, 2).subarray(128, 192)); // the device's bytes, not the CPU's
    expect(m.dataCheck!.reports).toHaveLength(1);
    const [r] = m.dataCheck!.reports;
    expect(r).toMatchObject({
      kind: 'cpu-write-discarded', access: { op: 'invalidate', by: 'dcache_inval_poc()' },
      mapping: { call: 'dma_map_single', dir: 'DMA_BIDIRECTIONAL', size: SIZE, state: 'owned by the CPU' },
    });
    expect(r!.bytes).toBe([...pattern(64, 3)].filter((b, i) => b !== pattern(SIZE, 2)[128 + i]).length);
    expect(r!.missing).toBe('dma_sync_single_for_device() after the CPU writes the buffer: dma_sync_single_for_cpu() and dma_unmap_single() of a DMA_BIDIRECTIONAL buffer invalidate it for the CPU (arch_sync_dma_for_cpu()), which discards a dirty line the CPU never cleaned');
    expect(r!.caller).toMatch(new RegExp(`datacheck-cpu-write-discarded\\.test\\.ts:${line}:\\d+$`));
    expect(r!.lines[1]).toBe('BUG: DMA-API lost CPU data: dirty cacheline invalidated before it was cleaned');
  });

  test('a second dma_sync_single_for_cpu() discards it too (DMA_FROM_DEVICE)', async () => {
    const { m, dev, buf, h, dir } = await rig({ dir: DMA_FROM_DEVICE });
    m.cpu.write(buf, pattern(64, 4));
    dma_sync_single_for_cpu(dev, h, SIZE, dir);
    expect(kinds(m)).toEqual(['cpu-write-discarded']);
    dma_unmap_single(dev, h, SIZE, dir);
    expect(kinds(m)).toEqual(['cpu-write-discarded']);
  });

  test('dma_sync_single_for_device() after the write: cleaned, kept, no report', async () => {
    const { m, dev, buf, h, dir } = await rig();
    m.cpu.write(buf + 128, pattern(64, 3));
    dma_sync_single_for_device(dev, h, SIZE, dir);
    dma_unmap_single(dev, h, SIZE, dir);
    expect(m.cpu.read(buf + 128, 64)).toEqual(pattern(64, 3));
    expect(kinds(m)).toEqual([]);
  });

  test('only reads after the sync for the CPU: no report', async () => {
    const { m, dev, buf, h, dir } = await rig();
    expect(m.cpu.read(buf, SIZE)).toEqual(pattern(SIZE, 2));
    dma_unmap_single(dev, h, SIZE, dir);
    expect(kinds(m)).toEqual([]);
  });

  test('the line written back before the unmap: nothing is lost, no report', async () => {
    const { m, dev, buf, h, dir } = await rig();
    m.cpu.write(buf + 128, pattern(64, 3));
    m.cache.clean(m.virt_to_phys(buf), SIZE);
    dma_unmap_single(dev, h, SIZE, dir);
    expect(m.cpu.read(buf + 128, 64)).toEqual(pattern(64, 3));
    expect(kinds(m)).toEqual([]);
  });

  test('a write to a partial line at the buffer\'s edge: DC CIVAC cleans it, no report', async () => {
    const { m, dev, buf, h, dir } = await rig({ offset: 16 });
    m.cpu.write(buf, pattern(8, 6));
    dma_unmap_single(dev, h, SIZE, dir);
    expect(m.cpu.read(buf, 8)).toEqual(pattern(8, 6));
    expect(kinds(m)).toEqual([]);
  });

  test.each(['arm64', 'x86_64'] as const)('%s with a coherent device: nothing invalidates, no report', async (arch) => {
    const { m, dev, buf, h, dir } = await rig({ arch, coherent: true });
    m.cpu.write(buf + 128, pattern(64, 3));
    dma_unmap_single(dev, h, SIZE, dir);
    expect(m.cpu.read(buf + 128, 64)).toEqual(pattern(64, 3));
    expect(kinds(m)).toEqual([]);
  });
});
