// Rule: drivers/iommu/dma-iommu.c iommu_dma_alloc(): with CONFIG_DMA_REMAP, a non-coherent
// device's request that may not block (and is not DMA_ATTR_FORCE_CONTIGUOUS) comes from the
// atomic pools (kernel/dma/pool.c dma_alloc_from_pool(..., NULL): any address will do, the IOMMU
// maps it), already uncached, and is mapped with __iommu_dma_map(); __iommu_dma_free() gives it
// back with dma_free_from_pool() ("Non-coherent atomic allocation? Easy").
import { describe, expect, test } from 'vitest';
import { DMA_ATTR_FORCE_CONTIGUOUS, dma_alloc_attrs, dma_alloc_coherent, dma_free_coherent, DmaFaultError, GFP_ATOMIC } from '../../src/index.js';
import { pattern } from '../support/api-helpers.js';
import { iommuMachine } from '../support/iommu-helpers.js';
import { freePages, onlyPoolGrowth } from '../support/pool-helpers.js';

describe('GFP_ATOMIC coherent allocations behind the IOMMU on a non-coherent device', () => {
  test('come from an atomic pool and go back to it; the device reaches them through the IOVA', async () => {
    const { m, dev } = await iommuMachine();
    let c: ReturnType<typeof dma_alloc_coherent> = null;
    onlyPoolGrowth(m, () => { c = dma_alloc_coherent(dev, 8192, GFP_ATOMIC); });
    m.cpu.write(c!.cpu_addr + 10, pattern(100, 1));
    expect(dev.dmaRead(c!.dma_handle + 10, 100)).toEqual(pattern(100, 1));
    onlyPoolGrowth(m, () => dma_free_coherent(dev, 8192, c!.cpu_addr, c!.dma_handle));
    expect(() => dev.dmaRead(c!.dma_handle, 4)).toThrow(DmaFaultError);
    expect(m.vm.areaOf(c!.cpu_addr)).not.toBeNull(); // the pool keeps its mapping
  });

  test('DMA_ATTR_FORCE_CONTIGUOUS does not use the pools', async () => {
    const { m, dev } = await iommuMachine();
    const free = freePages(m);
    expect(dma_alloc_attrs(dev, 4096, GFP_ATOMIC, DMA_ATTR_FORCE_CONTIGUOUS)).not.toBeNull();
    expect(freePages(m)).not.toEqual(free);
  });
});
