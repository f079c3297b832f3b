// Rule: the DSB that completes arm64's DMA cache maintenance is a full barrier (dsb(sy) in
// arch_sync_dma_flush(), arch/arm64/include/asm/cacheflush.h; dcache_inval_poc's own DSB in
// arch/arm64/mm/cache.S), so after dma_sync_single_for_cpu() on a non-coherent device no load
// can be satisfied early: a correct driver never reads what the buffer held before the device
// wrote it, even with every load reordered. A coherent device's sync issues no barrier, so there
// the driver's own dma_rmb() is what orders its loads.
import { expect, test } from 'vitest';
import {
  createMachine, DMA_BIT_MASK, DMA_FROM_DEVICE, dma_map_single, dma_set_mask_and_coherent,
  dma_sync_single_for_cpu, dma_unmap_single, GFP_KERNEL,
} from '../../src/index.js';

async function received(coherent: boolean): Promise<number[]> {
  const m = await createMachine({ arch: 'arm64', seed: 3, load: { loadReordering: 1 } });
  const dev = m.createDevice({ name: 'dev0', coherent });
  dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
  const buf = m.kmalloc(256, GFP_KERNEL);
  m.cpu.fill(buf, 256, 0xee);
  const h = dma_map_single(dev, buf, 256, DMA_FROM_DEVICE);
  dev.dmaWrite(h, [1, 2, 3, 4]);
  dma_sync_single_for_cpu(dev, h, 256, DMA_FROM_DEVICE);
  const seen = [...m.cpu.read(buf, 4)];
  dma_unmap_single(dev, h, 256, DMA_FROM_DEVICE);
  return seen;
}

test('non-coherent arm64: the sync for the CPU ends in a DSB, so the load sees the device data', async () => {
  expect(await received(false)).toEqual([1, 2, 3, 4]);
});

test('coherent arm64: no barrier in the sync, so an unordered load may see the old bytes', async () => {
  expect(await received(true)).toEqual([0xee, 0xee, 0xee, 0xee]);
});
