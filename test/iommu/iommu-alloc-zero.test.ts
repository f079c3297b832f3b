// dma_alloc_coherent(dev, 0, ...) (issue 13, item 5). dma-direct gets no pages for an empty
// request and returns NULL (kernel/dma/direct.c dma_direct_alloc); behind an IOMMU,
// drivers/iommu/dma-iommu.c has nothing to allocate or map either: NULL, with no page taken,
// no IOVA and no page-table operation.
import { describe, expect, test } from 'vitest';
import { DMA_BIDIRECTIONAL, dma_alloc_coherent, dma_alloc_pages, GFP_ATOMIC, GFP_KERNEL } from '../../src/index.js';
import { iommuMachine } from '../support/iommu-helpers.js';
import { probe64 } from '../support/api-helpers.js';

describe('a zero-byte coherent allocation', () => {
  test('dma-direct: NULL', async () => {
    const { m } = await iommuMachine();
    expect(dma_alloc_coherent(probe64(m, { name: '0000:02:00.0' }), 0, GFP_KERNEL)).toBeNull();
  });

  test('behind an IOMMU, blocking or atomic, coherent or pages: NULL and nothing changed', async () => {
    for (const arch of ['arm64', 'x86_64'] as const) {
      const { m, dev } = await iommuMachine({ arch });
      const before = m.stats();
      const free = (): number => m.pages.zones().reduce((n, z) => n + m.pages.nrFree(z.id as 0 | 1 | 2), 0);
      const freeBefore = free();
      expect(dma_alloc_coherent(dev, 0, GFP_KERNEL)).toBeNull();
      expect(dma_alloc_coherent(dev, 0, GFP_ATOMIC)).toBeNull();
      expect(dma_alloc_pages(dev, 0, DMA_BIDIRECTIONAL, GFP_KERNEL)).toBeNull();
      expect(m.stats()).toEqual(before);
      expect(free()).toBe(freeBefore);
    }
  });
});
