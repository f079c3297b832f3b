// Rule: drivers/iommu/dma-iommu.c __iommu_dma_unmap(): in a strict DMA domain every unmap syncs
// the IOTLB at once (iommu_iotlb_sync()); in a lazy DMA_FQ domain the IOVA goes to the flush
// queue (queue_iova(): IOVA_DEFAULT_FQ_SIZE = 256 entries, so it is full at 255) and one
// whole-domain flush (fq_flush_iotlb()) frees a full queue. Until that flush a translation the
// IOTLB still holds keeps working: lazy mode's window. iommu.strict= chooses, and arm64's
// Kconfig default is strict, x86's lazy (drivers/iommu/Kconfig, IOMMU_DEFAULT_DMA_STRICT/LAZY).
import { describe, expect, test } from 'vitest';
import { DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DmaFaultError, dma_map_single, dma_unmap_single, GFP_KERNEL } from '../../src/index.js';
import { iommu_dma_fq_pending } from '../../src/iommu/dma-iommu.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';
import { delta } from '../support/api-helpers.js';
import { iommuMachine } from '../support/iommu-helpers.js';

function mapUnmap(m: Machine, dev: Device, n: number): void {
  const buf = m.kmalloc(4096, GFP_KERNEL);
  for (let i = 0; i < n; i++) dma_unmap_single(dev, dma_map_single(dev, buf, 4096, DMA_TO_DEVICE), 4096, DMA_TO_DEVICE);
}

describe('IOTLB invalidation: strict versus lazy', () => {
  test('boot: arm64 defaults to strict, x86_64 to lazy, iommu.strict= overrides and says so', async () => {
    expect((await iommuMachine()).m.dmesg()).toEqual(expect.arrayContaining([
      'iommu: Default domain type: Translated',
      'iommu: DMA domain TLB invalidation policy: strict mode',
    ]));
    expect((await iommuMachine({ arch: 'x86_64' })).m.dmesg()).toContain('iommu: DMA domain TLB invalidation policy: lazy mode');
    expect((await iommuMachine({ cmdline: 'iommu.strict=0' })).m.dmesg()).toContain('iommu: DMA domain TLB invalidation policy: lazy mode (set via kernel command line)');
    expect((await iommuMachine({ arch: 'x86_64', cmdline: 'iommu.strict=y' })).m.dmesg()).toContain('iommu: DMA domain TLB invalidation policy: strict mode (set via kernel command line)');
  });

  test('strict: 300 unmaps, 300 IOTLB syncs', async () => {
    const { m, dev } = await iommuMachine();
    expect(delta(m, () => mapUnmap(m, dev, 300)).iotlbFlushes).toBe(300);
    expect(iommu_dma_fq_pending(dev)).toBe(0);
  });

  test('lazy: 300 unmaps, one flush when the 256-entry queue fills; 45 IOVAs still queued', async () => {
    const { m, dev } = await iommuMachine({ cmdline: 'iommu.strict=0' });
    const d = delta(m, () => mapUnmap(m, dev, 300));
    expect(d.iotlbFlushes).toBe(1);
    // The 256th unmap found 255 queued, flushed and freed them, then queued itself.
    expect(iommu_dma_fq_pending(dev)).toBe(300 - 255);
  });

  test('lazy: a translation still in the IOTLB outlives the unmap until the flush', async () => {
    const { m, dev } = await iommuMachine({ cmdline: 'iommu.strict=0' });
    const buf = m.kmalloc(4096, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 4096, DMA_BIDIRECTIONAL);
    dev.dmaRead(h, 64); // the device used it: the IOTLB holds the translation
    dma_unmap_single(dev, h, 4096, DMA_BIDIRECTIONAL);
    expect(() => dev.dmaRead(h, 64)).not.toThrow(); // the window
    mapUnmap(m, dev, 255); // fills the queue: the flush comes
    expect(() => dev.dmaRead(h, 64)).toThrow(DmaFaultError);
  });

  test('lazy: an IOVA the device never used faults at once after the unmap (no IOTLB entry)', async () => {
    const { m, dev } = await iommuMachine({ cmdline: 'iommu.strict=0' });
    const buf = m.kmalloc(4096, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 4096, DMA_BIDIRECTIONAL);
    dma_unmap_single(dev, h, 4096, DMA_BIDIRECTIONAL);
    expect(() => dev.dmaRead(h, 64)).toThrow(DmaFaultError);
  });

  test('an untrusted device is always strict, even in a lazy machine', async () => {
    const { m } = await iommuMachine({ cmdline: 'iommu.strict=0' });
    const tb = m.createDevice({ name: 'tbt0', iommu: { untrusted: true } });
    expect(delta(m, () => mapUnmap(m, tb, 10)).iotlbFlushes).toBe(10);
  });
});
