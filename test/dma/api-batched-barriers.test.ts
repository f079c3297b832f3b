// Rule: the v7.x barrier-batching series (KERNEL.md §7.4). With ARCH_HAS_BATCHED_DMA_SYNC the
// arm64 hooks only *issue* DC operations (dcache_clean_poc_nosync / dcache_inval_poc_nosync,
// arch/arm64/mm/dma-mapping.c) and arch_sync_dma_flush() (dsb(sy), arch/arm64/include/asm/
// cache.h) completes them. dma_direct_map_sg / unmap_sg / sync_sg_for_* (kernel/dma/direct.c)
// pass flush=false per entry and flush once after the loop; single maps flush at once
// (kernel/dma/direct.h). Per-buffer (without the option) every cache op ends in its own DSB.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_map_sg, dma_map_single,
  dma_sync_sg_for_cpu, dma_sync_sg_for_device, dma_unmap_sg, dma_unmap_single, GFP_KERNEL,
  sg_init_table, sg_set_buf,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';
import type { Scatterlist } from '../../src/dma/scatterlist.js';
import { delta, pattern, probe64 } from '../support/api-helpers.js';

const N = 16;
const LEN = 4096;

async function setup(batched: boolean): Promise<{ m: Machine; dev: Device; bufs: number[]; sgl: Scatterlist[] }> {
  const m = await createMachine({ seed: 41, config: { ARCH_HAS_BATCHED_DMA_SYNC: batched } });
  const dev = probe64(m, { name: 'sgdev' });
  const sgl = sg_init_table(N);
  const bufs: number[] = [];
  for (let i = 0; i < N; i++) {
    const b = m.kmalloc(LEN, GFP_KERNEL);
    m.cpu.write(b, pattern(LEN, i + 1));
    bufs.push(b);
    sg_set_buf(sgl[i]!, b, LEN);
  }
  return { m, dev, bufs, sgl };
}

describe.each([
  ['batched (ARCH_HAS_BATCHED_DMA_SYNC)', true, 1],
  ['per-buffer', false, N],
] as const)('%s', (_name, batched, perList) => {
  test(`dma_map_sg of ${N} entries issues ${perList} barrier(s), and the data is all there after it`, async () => {
    const { m, dev, sgl } = await setup(batched);
    let n = 0;
    const d = delta(m, () => { n = dma_map_sg(dev, sgl, N, DMA_TO_DEVICE); });
    expect(n).toBe(N);
    expect(d.barriers).toBe(perList);
    expect(d.cacheMaintenanceOps).toBe(N * LEN / 64);
    expect(m.dcache.pendingOps).toBe(0);
    for (let i = 0; i < N; i++) expect(dev.dmaRead(sgl[i]!.dma_address, LEN)).toEqual(pattern(LEN, i + 1));
    dma_unmap_sg(dev, sgl, N, DMA_TO_DEVICE);
  });

  test(`dma_unmap_sg(FROM_DEVICE) issues ${perList} barrier(s)`, async () => {
    const { m, dev, bufs, sgl } = await setup(batched);
    expect(dma_map_sg(dev, sgl, N, DMA_FROM_DEVICE)).toBe(N);
    for (let i = 0; i < N; i++) dev.dmaWrite(sgl[i]!.dma_address, pattern(LEN, 100 + i));
    const d = delta(m, () => dma_unmap_sg(dev, sgl, N, DMA_FROM_DEVICE));
    expect(d.barriers).toBe(perList);
    expect(d.cacheLinesInvalidated).toBe(N * LEN / 64);
    for (let i = 0; i < N; i++) expect(m.cpu.read(bufs[i]!, LEN)).toEqual(pattern(LEN, 100 + i));
  });

  test(`dma_sync_sg_for_cpu / _for_device issue ${perList} barrier(s) each`, async () => {
    const { m, dev, bufs, sgl } = await setup(batched);
    expect(dma_map_sg(dev, sgl, N, DMA_BIDIRECTIONAL)).toBe(N);
    for (let i = 0; i < N; i++) dev.dmaWrite(sgl[i]!.dma_address, pattern(LEN, 200 + i));
    const dc = delta(m, () => dma_sync_sg_for_cpu(dev, sgl, N, DMA_BIDIRECTIONAL));
    expect(dc.barriers).toBe(perList);
    for (let i = 0; i < N; i++) {
      expect(m.cpu.read(bufs[i]!, LEN)).toEqual(pattern(LEN, 200 + i));
      m.cpu.write(bufs[i]!, pattern(LEN, 300 + i));
    }
    const dd = delta(m, () => dma_sync_sg_for_device(dev, sgl, N, DMA_BIDIRECTIONAL));
    expect(dd.barriers).toBe(perList);
    for (let i = 0; i < N; i++) expect(dev.dmaRead(sgl[i]!.dma_address, LEN)).toEqual(pattern(LEN, 300 + i));
    dma_unmap_sg(dev, sgl, N, DMA_BIDIRECTIONAL);
  });

  test('a single dma_map_single / dma_unmap_single(FROM_DEVICE) is one barrier either way', async () => {
    const { m, dev, bufs } = await setup(batched);
    let h = 0;
    const dm = delta(m, () => { h = dma_map_single(dev, bufs[0]!, LEN, DMA_FROM_DEVICE); });
    expect(dm.barriers).toBe(1);
    const du = delta(m, () => dma_unmap_single(dev, h, LEN, DMA_FROM_DEVICE));
    expect(du.barriers).toBe(1);
    expect(m.dcache.pendingOps).toBe(0);
  });
});

describe('with batching, an issued clean is really pending until the flush (DSB)', () => {
  test('the device reads stale data between arch_sync_dma_for_device() and arch_sync_dma_flush()', async () => {
    const m = await createMachine({ seed: 42, config: { ARCH_HAS_BATCHED_DMA_SYNC: true } });
    const dev = probe64(m, { name: 'rawdev' });
    const buf = m.kmalloc(LEN, GFP_KERNEL);
    const phys = m.virt_to_phys(buf);
    m.cpu.write(buf, pattern(LEN, 9));
    const sync = m.arch.sync!;
    const d = delta(m, () => sync.forDevice(m, phys, LEN, DMA_TO_DEVICE));
    expect(d.barriers).toBe(0);
    expect(d.cacheMaintenanceOps).toBe(0); // issued, not yet performed
    expect(m.dcache.pendingOps).toBe(1);
    expect(m.cache.lineState(phys)).toBe('dirty');
    expect(dev.dmaRead(phys, LEN)).toEqual(new Uint8Array(LEN)); // stale
    const f = delta(m, () => sync.flush(m));
    expect(f.barriers).toBe(1);
    expect(f.cacheMaintenanceOps).toBe(LEN / 64);
    expect(m.dcache.pendingOps).toBe(0);
    expect(m.cache.lineState(phys)).toBe('clean');
    expect(dev.dmaRead(phys, LEN)).toEqual(pattern(LEN, 9)); // fresh
  });

  test('per-buffer hooks (ARCH_HAS_BATCHED_DMA_SYNC: false, before 7.1) complete at once (their own DSB)', async () => {
    const m = await createMachine({ seed: 42, config: { ARCH_HAS_BATCHED_DMA_SYNC: false } });
    const dev = probe64(m, { name: 'rawdev' });
    const buf = m.kmalloc(LEN, GFP_KERNEL);
    const phys = m.virt_to_phys(buf);
    m.cpu.write(buf, pattern(LEN, 9));
    const d = delta(m, () => m.arch.sync!.forDevice(m, phys, LEN, DMA_TO_DEVICE));
    expect(d.barriers).toBe(1);
    expect(m.dcache.pendingOps).toBe(0);
    expect(dev.dmaRead(phys, LEN)).toEqual(pattern(LEN, 9));
  });
});
