// Rule: drivers/iommu/dma-iommu.c iommu_dma_map_phys(): for an untrusted device (a PCI device
// behind an external-facing port) a buffer that does not fill whole granules bounces through
// swiotlb with alloc_align_mask = iova_mask, and iommu_dma_map_swiotlb() zeroes the pre- and
// post-padding up to the granule edges, so the device sees neither the buffer's neighbours (the
// granule is all it can reach) nor stale bounce data. Granule-aligned buffers are mapped in place.
import { describe, expect, test } from 'vitest';
import { DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_map_single, dma_unmap_single, GFP_KERNEL } from '../../src/index.js';
import { __va } from '../../src/mm/memory.js';
import type { Machine } from '../../src/machine.js';
import { pattern } from '../support/api-helpers.js';
import { iommuMachine } from '../support/iommu-helpers.js';

/** Every bounce slot full of 0xaa: what earlier bounces could have left behind. */
function staleSlots(m: Machine): void {
  const tlb = m.swiotlb!;
  m.cpu.fill(__va(tlb.start), tlb.end - tlb.start, 0xaa);
}

describe('untrusted device (x86_64, coherent)', () => {
  test('an unaligned TO_DEVICE buffer bounces; the granule the device sees is data then zeroes', async () => {
    const { m, dev } = await iommuMachine({ arch: 'x86_64' }, { iommu: { untrusted: true } });
    staleSlots(m);
    const buf = m.kmalloc(256, GFP_KERNEL);
    const page = buf - (m.virt_to_phys(buf) % 4096);
    m.cpu.fill(page, 4096, 0x5e); // the neighbours: other kernel data in the same page
    m.cpu.write(buf, pattern(256, 1));
    const h = dma_map_single(dev, buf, 256, DMA_TO_DEVICE);
    expect(m.stats().swiotlbSlotsUsed).toBeGreaterThan(0);
    expect(h % 4096).toBe(0); // no min_align_mask: the copy starts the granule
    const seen = dev.dmaRead(h, 4096);
    expect(seen.subarray(0, 256)).toEqual(pattern(256, 1));
    expect(seen.subarray(256).every((b) => b === 0)).toBe(true);
    dma_unmap_single(dev, h, 256, DMA_TO_DEVICE);
    expect(m.stats().swiotlbSlotsUsed).toBe(0);
  });

  test('with min_align_mask the copy keeps its offset and the pre-padding is zeroed too', async () => {
    const { m, dev } = await iommuMachine({ arch: 'x86_64' }, { iommu: { untrusted: true }, minAlignMask: 0x7ff });
    staleSlots(m);
    const buf = m.kmalloc(4096, GFP_KERNEL) + 0x300;
    m.cpu.write(buf, pattern(200, 2));
    const h = dma_map_single(dev, buf, 200, DMA_TO_DEVICE);
    expect(h % 4096).toBe(0x300);
    const seen = dev.dmaRead(h - 0x300, 4096);
    expect(seen.subarray(0, 0x300).every((b) => b === 0)).toBe(true);
    expect(seen.subarray(0x300, 0x300 + 200)).toEqual(pattern(200, 2));
    expect(seen.subarray(0x300 + 200).every((b) => b === 0)).toBe(true);
  });

  test('FROM_DEVICE: what the device writes comes back into the buffer only, its neighbours untouched', async () => {
    const { m, dev } = await iommuMachine({ arch: 'x86_64' }, { iommu: { untrusted: true } });
    const buf = m.kmalloc(4096, GFP_KERNEL) + 512;
    m.cpu.fill(buf - 512, 4096, 0x77);
    const h = dma_map_single(dev, buf, 1000, DMA_FROM_DEVICE);
    dev.dmaWrite(h - (h % 4096), new Uint8Array(4096).fill(0xee)); // the whole granule
    dma_unmap_single(dev, h, 1000, DMA_FROM_DEVICE);
    expect(m.cpu.read(buf, 1000).every((b) => b === 0xee)).toBe(true);
    expect(m.cpu.read(buf - 512, 512).every((b) => b === 0x77)).toBe(true);
    expect(m.cpu.read(buf + 1000, 4096 - 1512).every((b) => b === 0x77)).toBe(true);
  });

  test('a granule-aligned buffer is mapped in place, without a bounce', async () => {
    const { m, dev } = await iommuMachine({ arch: 'x86_64' }, { iommu: { untrusted: true } });
    const buf = m.kmalloc(8192, GFP_KERNEL);
    dma_map_single(dev, buf, 8192, DMA_TO_DEVICE);
    expect(m.stats().swiotlbSlotsUsed).toBe(0);
  });
});
