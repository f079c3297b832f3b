// drivers/iommu/dma-iommu.c iommu_dma_map_phys() (read in a v7.x copy, file id 59091008624):
// when dev_use_swiotlb(dev, size, dir) and iova_unaligned(iovad, phys, size), a mapping with
// DMA_ATTR_MMIO (dma_map_resource) cannot bounce and returns DMA_MAPPING_ERROR; a granule-aligned
// MMIO range, or one on a device that never bounces, is mapped in place with IOMMU_MMIO and no
// cache maintenance (arch_sync_dma_for_device is skipped for DMA_ATTR_MMIO).
import { describe, expect, test } from 'vitest';
import { DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE, dma_map_resource } from '../../src/index.js';
import { iommuMachine } from '../support/iommu-helpers.js';

const MMIO = 0x10_0000_0100; // a BAR, not RAM

describe('dma_map_resource() on a device that bounces', () => {
  test('untrusted device: an unaligned MMIO range is DMA_MAPPING_ERROR, an aligned one maps', async () => {
    const { m, dev } = await iommuMachine({ arch: 'x86_64' }, { iommu: { untrusted: true } });
    expect(dma_map_resource(dev, MMIO, 256, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(m.stats().swiotlbSlotsUsed).toBe(0);
    expect(dma_map_resource(dev, MMIO - 0x100, 4096, DMA_TO_DEVICE)).not.toBe(DMA_MAPPING_ERROR);
  });

  test('arm64 non-coherent device: a small unaligned FROM_DEVICE MMIO range would bounce, so it fails', async () => {
    const { m, dev } = await iommuMachine({ arch: 'arm64' });
    const before = m.stats();
    expect(dma_map_resource(dev, MMIO, 24, DMA_FROM_DEVICE)).toBe(DMA_MAPPING_ERROR); // kmalloc-32 is not a whole cache line
    expect(m.stats().swiotlbSlotsUsed).toBe(0);
    expect(m.stats().iommuMaps).toBe(before.iommuMaps);
  });

  test('a coherent trusted device maps the same range in place', async () => {
    const { dev } = await iommuMachine({ arch: 'x86_64' });
    const h = dma_map_resource(dev, MMIO, 64, DMA_FROM_DEVICE);
    expect(h).not.toBe(DMA_MAPPING_ERROR);
    expect(h % 4096).toBe(0x100);
  });
});
