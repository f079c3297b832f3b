// Misuse on the IOMMU path behaves as the kernel does, and never corrupts the page tables:
// - dma_unmap_* of an IOVA that is not mapped: drivers/iommu/dma-iommu.c iommu_dma_unmap_phys()
//   finds no physical address, WARN_ON(!phys) and returns (a double unmap is the same);
// - dma_unmap_resource() of one: the page-table walk WARNs at the hole (io-pgtable-arm.c
//   __arm_lpae_unmap) and __iommu_dma_unmap() WARNs that less was unmapped than asked, then
//   releases the range anyway (iommu_dma_free_iova() -> free_iova_fast(): into the rcache), so
//   the next map of that size gets an IOVA that was never allocated (read in a v7.x
//   dma-iommu.c, file id 59091008624);
// - a mapping bigger than the IOVA space below the mask: no IOVA, DMA_MAPPING_ERROR;
// - an min_align_mask beyond the granule: dev_WARN_ONCE("Unsupported alignment constraint").
// Options no kernel device could have throw a typed error.
import { describe, expect, test } from 'vitest';
import {
  DMA_BIDIRECTIONAL, DMA_MAPPING_ERROR, DMA_TO_DEVICE, DmaSimTypeError, dma_map_resource, dma_map_single,
  dma_unmap_resource, dma_unmap_single, GFP_KERNEL,
} from '../../src/index.js';
import { pattern } from '../support/api-helpers.js';
import { iommuDevice, iommuMachine } from '../support/iommu-helpers.js';
import { warning } from '../support/warn.js';


describe('IOMMU misuse', () => {
  test('unmapping an IOVA that was never mapped, or twice: a WARN, nothing else changes', async () => {
    const { m, dev } = await iommuMachine();
    const buf = m.kmalloc(4096, GFP_KERNEL);
    m.cpu.write(buf, pattern(4096, 1));
    const h = dma_map_single(dev, buf, 4096, DMA_BIDIRECTIONAL);
    const before = m.stats();
    dma_unmap_single(dev, 0x1234_5000, 4096, DMA_BIDIRECTIONAL);
    expect(m.dmesg()).toContain(warning('iommu_dma_unmap_phys'));
    expect(m.stats().iommuMaps).toBe(before.iommuMaps);
    expect(dev.dmaRead(h, 4096)).toEqual(pattern(4096, 1));
    dma_unmap_single(dev, h, 4096, DMA_BIDIRECTIONAL);
    dma_unmap_single(dev, h, 4096, DMA_BIDIRECTIONAL);
    expect(m.dmesg().filter((l) => l === warning('iommu_dma_unmap_phys')).length).toBe(2);
    // The IOVA allocator is intact: the next map gets the freed IOVA back, once.
    expect(dma_map_single(dev, buf, 4096, DMA_BIDIRECTIONAL)).toBe(h);
    expect(dma_map_single(dev, buf, 4096, DMA_BIDIRECTIONAL)).not.toBe(h);
  });

  test('dma_unmap_resource of an unmapped IOVA: two WARNs, and the IOVA goes into the rcache', async () => {
    const { m, dev } = await iommuMachine();
    dma_unmap_resource(dev, 0x4000_0000, 4096, DMA_TO_DEVICE);
    expect(m.dmesg()).toEqual(expect.arrayContaining([
      warning('__arm_lpae_unmap'),
      warning('__iommu_dma_unmap'),
    ]));
    const buf = m.kmalloc(4096, GFP_KERNEL);
    expect(dma_map_single(dev, buf, 4096, DMA_TO_DEVICE)).toBe(0x4000_0000);
    expect(dma_map_single(dev, buf, 4096, DMA_TO_DEVICE)).toBe(2 ** 48 - 4096);
  });

  test('a mapping larger than the IOVA space below the mask fails cleanly', async () => {
    const { m } = await iommuMachine();
    const dev32 = iommuDevice(m, { name: 'old0', iommu: true }, 32);
    const tables = dev32.iommu!.domain.pgtbl.tablePages;
    expect(dma_map_resource(dev32, 0x10_0000_0000, 2 ** 32, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(dev32.iommu!.domain.pgtbl.tablePages).toBe(tables);
    const buf = m.kmalloc(4096, GFP_KERNEL);
    expect(dma_map_single(dev32, buf, 4096, DMA_TO_DEVICE)).toBe(0xffff_f000);
  });

  test('min_align_mask wider than the IOVA granule: WARN once, DMA_MAPPING_ERROR', async () => {
    const { m } = await iommuMachine();
    const dev = iommuDevice(m, { name: 'nvme0', driver: 'nvme', iommu: true, minAlignMask: 0x1fff });
    const buf = m.kmalloc(4096, GFP_KERNEL);
    expect(dma_map_single(dev, buf, 4096, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(dma_map_single(dev, buf, 4096, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(m.dmesg().filter((l) => l === 'nvme nvme0: Unsupported alignment constraint').length).toBe(1);
  });

  test('an untrusted device joining a lazy group is attached to its domain (__iommu_probe_device)', async () => {
    const { m } = await iommuMachine({ cmdline: 'iommu.strict=0' });
    const fn0 = m.createDevice({ name: 'fn0', iommu: { group: 'g' } });
    const tbt = m.createDevice({ name: 'tbt0', driver: 'thunderbolt', iommu: { group: 'g', untrusted: true } });
    expect(tbt.iommu?.domain).toBe(fn0.iommu?.domain);
    expect(m.dmesg().some((l) => l.includes('refusing'))).toBe(false);
  });

  test('IOMMU options no device could have are refused with a typed error', async () => {
    const { m } = await iommuMachine();
    expect(() => m.createDevice({ name: 'x', iommu: 'yes' as unknown as boolean })).toThrow(DmaSimTypeError);
    expect(() => m.createDevice({ name: 'x', iommu: { grp: 'a' } as never })).toThrow(/createDevice: iommu.grp/);
    expect(() => m.createDevice({ name: 'x', iommu: { untrusted: 1 } as never })).toThrow(/iommu.untrusted/);
    expect(() => m.createDevice({ name: 'x', iommu: true, ops: {} })).toThrow(/iommu and ops exclude each other/);
  });
});
