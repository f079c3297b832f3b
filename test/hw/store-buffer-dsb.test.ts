// Rule: the DSB that completes arm64's DMA cache maintenance is dsb(sy) (arch_sync_dma_flush()
// in arch/arm64/include/asm/cache.h; dcache_clean_poc's own DSB in arch/arm64/mm/cache.S), the
// same barrier as mb() in arch/arm64/include/asm/barrier.h: every explicit memory access before
// it completes first, stores included. So a store to coherent (uncached) memory made before a
// dma_map_single() on a non-coherent device has left the store buffer when the map returns, and
// the device sees it with no wmb() of the driver's own; before the map, it may not.
import { expect, test } from 'vitest';
import {
  createMachine, DMA_BIT_MASK, DMA_TO_DEVICE, dma_alloc_coherent, dma_map_single, dma_set_mask_and_coherent, GFP_KERNEL,
} from '../../src/index.js';

/** Over 16 seeds: how often the device read the descriptor word the CPU stored, looking after (or before) a map. */
async function seen(mapFirst: boolean): Promise<number> {
  let n = 0;
  for (let seed = 1; seed <= 16; seed++) {
    const m = await createMachine({ arch: 'arm64', seed, load: { storeReordering: 0.05 } });
    const dev = m.createDevice({ name: 'dev0', coherent: false });
    dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
    const desc = dma_alloc_coherent(dev, 64, GFP_KERNEL);
    if (desc === null) throw new Error('dma_alloc_coherent');
    const buf = m.kmalloc(256, GFP_KERNEL);
    m.cpu.writel(desc.cpu_addr, 0x1234_5678);
    if (mapFirst) dma_map_single(dev, buf, 256, DMA_TO_DEVICE);
    const word = dev.dmaRead(desc.dma_handle, 4);
    if (new DataView(word.buffer).getUint32(0, true) === 0x1234_5678) n++;
  }
  return n;
}

test('the map ends in dsb(sy), which drains the store buffer: the device always sees the store', async () => {
  expect(await seen(true)).toBe(16);
});

test('with no barrier between the store and the device looking, the store may still be buffered', async () => {
  expect(await seen(false)).toBeLessThan(16);
});
