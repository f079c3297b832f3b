// drivers/iommu/dma-iommu.c iommu_dma_map_swiotlb() (v7.x copy, file id 59091008624): with no
// swiotlb pool, `dev_warn_once(dev, "DMA bounce buffers are inactive, unable to map unaligned
// transaction.\n")` and DMA_MAPPING_ERROR. dev_warn_once() is dev_level_once(): one static flag
// per call site, so the line is printed once per boot, whichever device hits it first.
import { describe, expect, test } from 'vitest';
import { DMA_MAPPING_ERROR, DMA_TO_DEVICE, dma_map_single, GFP_KERNEL } from '../../src/index.js';
import { iommuDevice, iommuMachine } from '../support/iommu-helpers.js';

describe('"DMA bounce buffers are inactive" is printed once per boot', () => {
  test('two untrusted devices, two failed maps each: one line, naming the first device', async () => {
    const { m, dev } = await iommuMachine({ arch: 'x86_64', cmdline: 'swiotlb=noforce' }, { name: 'tbt0', driver: 'thunderbolt', iommu: { untrusted: true } });
    expect(m.swiotlb).toBe(null);
    const other = iommuDevice(m, { name: 'tbt1', driver: 'thunderbolt', iommu: { untrusted: true } });
    const buf = m.kmalloc(256, GFP_KERNEL);
    for (const d of [dev, other, dev, other]) expect(dma_map_single(d, buf, 256, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    const lines = m.dmesg().filter((l) => l.includes('DMA bounce buffers are inactive'));
    expect(lines).toEqual(['thunderbolt tbt0: DMA bounce buffers are inactive, unable to map unaligned transaction.']);
  });
});
