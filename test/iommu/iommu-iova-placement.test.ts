// Rule: drivers/iommu/dma-iommu.c iommu_dma_alloc_iova() with drivers/iommu/iova.c. IOVAs are
// allocated top-down below min(mask, aperture); sizes under 32 granules are rounded up to a power
// of two and aligned to it; a PCI device tries below 4 GiB first (flush_rcache=false) and, the
// first time that fails, clears pci_32bit_workaround and announces "Using %d-bit DMA addresses".
// (arm-smmu-v3's software MSI window is not reserved in a DMA domain: iommu-resv-sw-msi.test.ts.)
import { expect, test } from 'vitest';
import { DMA_BIT_MASK, DMA_TO_DEVICE, dma_map_resource, dma_map_single, dma_set_mask, GFP_KERNEL } from '../../src/index.js';
import { iommuDevice, iommuMachine, TOP_IOVA_32, TOP_IOVA_48 } from '../support/iommu-helpers.js';

const GiB = 2 ** 30;
/** An MMIO window to map: IOVA space without RAM behind it. */
const BAR = 0x10_0000_0000;

test('a 32-bit device gets IOVAs just below 4 GiB; a 64-bit one just below 2^48', async () => {
  const { m, dev } = await iommuMachine();
  const dev32 = iommuDevice(m, { name: 'old0', iommu: true }, 32);
  const buf = m.kmalloc(4096, GFP_KERNEL);
  expect(dma_map_single(dev32, buf, 4096, DMA_TO_DEVICE)).toBe(TOP_IOVA_32);
  expect(dma_map_single(dev, buf, 4096, DMA_TO_DEVICE)).toBe(TOP_IOVA_48);
});

test('sizes are rounded up to a power of two and aligned: 1, 3 (as 4), 1 granules', async () => {
  const { m, dev } = await iommuMachine();
  const buf = m.kmalloc(16384, GFP_KERNEL);
  const top = 2 ** 36; // limit_pfn + 1 for a 48-bit aperture
  expect(dma_map_single(dev, buf, 4096, DMA_TO_DEVICE) / 4096).toBe(top - 1);
  // 3 granules -> 4, aligned to 4: (top - 1 - 4) & ~3 = top - 8.
  expect(dma_map_single(dev, buf, 3 * 4096, DMA_TO_DEVICE) / 4096).toBe(top - 8);
  // The next single granule goes just below it.
  expect(dma_map_single(dev, buf, 4096, DMA_TO_DEVICE) / 4096).toBe(top - 9);
});

test('a PCI device uses the 32-bit space until it is full, then says so once and goes above', async () => {
  const { m } = await iommuMachine();
  const pci = iommuDevice(m, { name: '0000:01:00.0', driver: 'nvme', iommu: { pci: true } });
  const buf = m.kmalloc(4096, GFP_KERNEL);
  expect(dma_map_single(pci, buf, 4096, DMA_TO_DEVICE)).toBe(TOP_IOVA_32);
  // 1 GiB windows are aligned to 1 GiB. The 4 KiB one at the top leaves [3 GiB, 4 GiB) short
  // by a page, so they go at 2 GiB and 1 GiB; [0, 1 GiB) holds pfn 0 (below start_pfn), so the
  // third finds the 32-bit space full (the retry from the limit fails too) and goes above.
  const got = [0, 1, 2].map((i) => dma_map_resource(pci, BAR + i * GiB, GiB, DMA_TO_DEVICE));
  expect(got).toEqual([2 * GiB, 1 * GiB, 2 ** 48 - GiB]);
  expect(m.dmesg()).toContain('nvme 0000:01:00.0: Using 48-bit DMA addresses');
  // From now on the 64-bit space is used directly, below the last allocation there.
  expect(dma_map_single(pci, buf, 4096, DMA_TO_DEVICE)).toBe(2 ** 48 - GiB - 4096);
  expect(m.dmesg().filter((l) => l.includes('-bit DMA addresses')).length).toBe(1);
});

test('a narrower mask after the first maps keeps the new ones below it', async () => {
  const { m, dev } = await iommuMachine();
  const buf = m.kmalloc(4096, GFP_KERNEL);
  expect(dma_map_single(dev, buf, 4096, DMA_TO_DEVICE)).toBe(TOP_IOVA_48);
  expect(dma_set_mask(dev, DMA_BIT_MASK(40))).toBe(0);
  expect(dma_map_single(dev, buf, 4096, DMA_TO_DEVICE)).toBe(2 ** 40 - 4096);
});
