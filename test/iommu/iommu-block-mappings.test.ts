// Block mappings (issue 13, item 7). iommu_map() maps each part of a range with the largest page
// size of the IOMMU's pgsize_bitmap (SZ_4K | SZ_2M | SZ_1G for arm-smmu-v3's 4K granule and
// VT-d's superpages) that the IOVA and the physical address are aligned to and the rest of the
// range fills (drivers/iommu/iommu.c iommu_pgsize()); io-pgtable-arm writes one block entry for
// it (arm_lpae_init_pte() at level 1 or 2). So a terabyte of MMIO is 1024 entries, not 2^28,
// and unmapping it clears them.
import { describe, expect, test } from 'vitest';
import { DMA_BIDIRECTIONAL, DMA_MAPPING_ERROR, DMA_TO_DEVICE, dma_map_resource, dma_map_single, dma_unmap_resource, dma_unmap_single, GFP_KERNEL } from '../../src/index.js';
import { pattern } from '../support/api-helpers.js';
import { iommuMachine } from '../support/iommu-helpers.js';

const TIB = 2 ** 40;
const MMIO = 0x100_0000_0000; // 1 TiB-aligned, above every RAM bank

describe('IOMMU block mappings', () => {
  test('1 TiB of MMIO: 1 GiB blocks, translated everywhere, no page table allocated, unmapped whole', async () => {
    for (const arch of ['arm64', 'x86_64'] as const) {
      const { m, dev } = await iommuMachine({ arch });
      const d = dev.iommu!;
      const tables = d.domain.pgtbl.tablePages;
      const before = m.stats().iommuMaps;
      const h = dma_map_resource(dev, MMIO, TIB, DMA_BIDIRECTIONAL);
      expect(h).not.toBe(DMA_MAPPING_ERROR);
      for (const off of [0, 4096, 2 ** 21 + 123, 2 ** 30 * 7 + 5, TIB - 1]) expect(d.iova_to_phys(h + off), arch).toBe(MMIO + off);
      expect(d.domain.pgtbl.tablePages).toBe(tables);
      dma_unmap_resource(dev, h, TIB, DMA_BIDIRECTIONAL);
      expect(d.iova_to_phys(h)).toBe(0);
      expect(d.iova_to_phys(h + TIB - 4096)).toBe(0);
      expect(m.stats().iommuMaps - before).toBe(2); // one iommu_map(), one unmap
      expect(m.dmesg().filter((l) => l.startsWith('WARNING'))).toEqual([]);
    }
  });

  test('a 2 MiB-aligned buffer of RAM is one 2 MiB block; the device reads it through the block', async () => {
    const { m, dev } = await iommuMachine({ arch: 'x86_64' });
    const buf = m.page_address(m.alloc_pages(GFP_KERNEL, 9)!);
    expect(m.virt_to_phys(buf) % 2 ** 21).toBe(0);
    const bytes = pattern(2 ** 21, 4);
    m.cpu.write(buf, bytes);
    const tables = dev.iommu!.domain.pgtbl.tablePages;
    const h = dma_map_single(dev, buf, 2 ** 21, DMA_TO_DEVICE);
    expect(h % 2 ** 21).toBe(0); // the IOVA allocator aligns a size-aligned request
    expect(dev.iommu!.domain.pgtbl.tablePages).toBe(tables);
    expect(Buffer.compare(dev.dmaRead(h, 2 ** 21), bytes)).toBe(0);
    dma_unmap_single(dev, h, 2 ** 21, DMA_TO_DEVICE);
    expect(() => dev.dmaRead(h, 64)).toThrow(/fault/);
  });
});
