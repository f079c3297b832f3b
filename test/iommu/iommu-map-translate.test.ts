// Rule: drivers/iommu/dma-iommu.c iommu_dma_map_phys() gives the device an IOVA, not the
// physical address. __iommu_dma_map() rounds the buffer out to whole 4 KiB granules, allocates
// them top-down below min(mask, aperture) (drivers/iommu/iova.c: the first IOVA of a 64-bit
// device on a 48-bit SMMU is 2^48 - 4 KiB), maps them with dma_info_to_prot(dir) and returns
// iova + the buffer's offset in its first granule. The device's bus accesses go through the
// page tables; the cache maintenance is dma-direct's, on the physical pages.
import { describe, expect, test } from 'vitest';
import {
  DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_map_single, dma_mapping_error, dma_unmap_single, GFP_KERNEL,
} from '../../src/index.js';
import { delta, pattern } from '../support/api-helpers.js';
import { iommuMachine, TOP_IOVA_48 } from '../support/iommu-helpers.js';

describe('a device behind the IOMMU (arm64, non-coherent, strict)', () => {
  test('the handle is an IOVA from the top of the space, with the buffer\'s offset in its granule', async () => {
    const { m, dev } = await iommuMachine();
    const a = m.kmalloc(2048, GFP_KERNEL);
    const b = m.kmalloc(2048, GFP_KERNEL);
    const ha = dma_map_single(dev, a, 1500, DMA_TO_DEVICE);
    const hb = dma_map_single(dev, b, 1500, DMA_TO_DEVICE);
    expect(dma_mapping_error(dev, ha)).toBe(0);
    // One granule each (offset + 1500 < 4096): pfn 2^36 - 1, then the next one down.
    expect(ha).toBe(TOP_IOVA_48 + (m.virt_to_phys(a) % 4096));
    expect(hb).toBe(TOP_IOVA_48 - 4096 + (m.virt_to_phys(b) % 4096));
    expect(ha).not.toBe(m.virt_to_phys(a));
  });

  test('TO_DEVICE: the CPU\'s bytes reach the device through the translation', async () => {
    const { m, dev } = await iommuMachine();
    const buf = m.kmalloc(4096, GFP_KERNEL);
    const data = pattern(3000, 1);
    m.cpu.write(buf, data);
    let h = 0;
    const d = delta(m, () => { h = dma_map_single(dev, buf, 3000, DMA_TO_DEVICE); });
    expect(dev.dmaRead(h, 3000)).toEqual(data);
    expect(d.iommuMaps).toBe(1);
    expect(d.cacheLinesCleaned).toBeGreaterThan(0); // non-coherent: the clean still runs
    dma_unmap_single(dev, h, 3000, DMA_TO_DEVICE);
  });

  test('FROM_DEVICE: the device\'s bytes reach the CPU after unmap; one IOTLB sync per strict unmap', async () => {
    const { m, dev } = await iommuMachine();
    const buf = m.kmalloc(8192, GFP_KERNEL);
    m.cpu.fill(buf, 8192, 0x11);
    const h = dma_map_single(dev, buf, 8192, DMA_FROM_DEVICE);
    const data = pattern(8192, 2);
    dev.dmaWrite(h, data);
    const d = delta(m, () => dma_unmap_single(dev, h, 8192, DMA_FROM_DEVICE));
    expect(m.cpu.read(buf, 8192)).toEqual(data);
    expect(d.iotlbFlushes).toBe(1);
    expect(d.iommuMaps).toBe(1);
  });

  test('a buffer spanning granules maps all of them, and an access across them is translated piecewise', async () => {
    const { m, dev } = await iommuMachine();
    const buf = m.kmalloc(16384, GFP_KERNEL) + 100;
    const data = pattern(9000, 3);
    m.cpu.write(buf, data);
    const h = dma_map_single(dev, buf, 9000, DMA_TO_DEVICE);
    // 100 + 9000 bytes need three granules; the allocation is rounded to four and aligned to them.
    expect(h % 4096).toBe(100);
    expect(h - 100).toBe(TOP_IOVA_48 - 3 * 4096);
    expect(dev.dmaRead(h, 9000)).toEqual(data);
  });

  test('unmap then map of the same size reuses the IOVA from the rcache', async () => {
    const { m, dev } = await iommuMachine();
    const buf = m.kmalloc(4096, GFP_KERNEL);
    const h1 = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
    dma_unmap_single(dev, h1, 4096, DMA_TO_DEVICE);
    const h2 = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
    expect(h2).toBe(h1);
  });
});
