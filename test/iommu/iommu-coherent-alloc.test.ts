// Rule: drivers/iommu/dma-iommu.c iommu_dma_alloc(): a blocking allocation takes pages from
// anywhere (iommu_dma_alloc_remap(), __iommu_dma_alloc_pages()), zeroes them, cleans them for
// a non-coherent device (arch_dma_prep_coherent()), maps them at ONE contiguous IOVA range below
// the coherent mask and remaps them uncached for the CPU (dma_pgprot()). A non-blocking one is a
// single contiguous block. iommu_dma_free() unmaps the IOVA range before freeing the pages.
import { describe, expect, test } from 'vitest';
import { dma_alloc_coherent, dma_free_coherent, DmaFaultError, GFP_ATOMIC, GFP_KERNEL } from '../../src/index.js';
import { isVmallocAddr } from '../../src/mm/memory.js';
import { pattern } from '../support/api-helpers.js';
import { iommuMachine, TOP_IOVA_48 } from '../support/iommu-helpers.js';

describe('dma_alloc_coherent behind the IOMMU (arm64, non-coherent)', () => {
  test('5 pages: one IOVA range (rounded to 8 granules), zeroed, shared with no sync at all', async () => {
    const { m, dev } = await iommuMachine();
    const c = dma_alloc_coherent(dev, 5 * 4096, GFP_KERNEL)!;
    expect(c.dma_handle).toBe(TOP_IOVA_48 - 7 * 4096);
    expect(isVmallocAddr(c.cpu_addr)).toBe(true);
    expect(dev.dmaRead(c.dma_handle, 5 * 4096).every((b) => b === 0)).toBe(true);
    dev.dmaWrite(c.dma_handle + 4000, pattern(9000, 1));
    expect(m.cpu.read(c.cpu_addr + 4000, 9000)).toEqual(pattern(9000, 1));
    m.cpu.write(c.cpu_addr + 100, pattern(300, 2));
    expect(dev.dmaRead(c.dma_handle + 100, 300)).toEqual(pattern(300, 2));
    dma_free_coherent(dev, 5 * 4096, c.cpu_addr, c.dma_handle);
    expect(() => dev.dmaRead(c.dma_handle, 4)).toThrow(DmaFaultError);
  });

  test('GFP_ATOMIC: one contiguous block behind the IOVA range', async () => {
    const { m, dev } = await iommuMachine();
    const c = dma_alloc_coherent(dev, 3 * 4096, GFP_ATOMIC)!;
    const phys = [0, 1, 2].map((i) => m.iommu.iommu_iova_to_phys(dev.iommu!.domain, c.dma_handle + i * 4096));
    expect(phys[1]! - phys[0]!).toBe(4096);
    expect(phys[2]! - phys[1]!).toBe(4096);
    dma_free_coherent(dev, 3 * 4096, c.cpu_addr, c.dma_handle);
  });

  test('a coherent device gets a cacheable mapping and the same sharing', async () => {
    const { m, dev } = await iommuMachine({ arch: 'x86_64' });
    const c = dma_alloc_coherent(dev, 4096, GFP_KERNEL)!;
    m.cpu.write(c.cpu_addr, pattern(64, 3));
    expect(dev.dmaRead(c.dma_handle, 64)).toEqual(pattern(64, 3));
    dma_free_coherent(dev, 4096, c.cpu_addr, c.dma_handle);
  });
});
