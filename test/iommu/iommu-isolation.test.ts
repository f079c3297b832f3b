// Rule: with an IOMMU every device has its own DMA domain (drivers/iommu/iommu.c: one default
// domain per group), so a device reaches only what was mapped for it. Neither another device's
// IOVAs nor any physical address (another device's buffer, kernel memory) translate in its
// domain, and an unmapped buffer is gone once the strict unmap has synced the IOTLB.
import { expect, test } from 'vitest';
import {
  DMA_BIDIRECTIONAL, DmaFaultError, dma_alloc_coherent, dma_map_single, dma_unmap_single, GFP_KERNEL,
} from '../../src/index.js';
import { pattern } from '../support/api-helpers.js';
import { iommuDevice, iommuMachine } from '../support/iommu-helpers.js';

test('a rogue device cannot reach another device\'s buffers, by IOVA or by physical address', async () => {
  const { m, dev: victim } = await iommuMachine();
  const rogue = iommuDevice(m, { name: 'rogue0', driver: 'evil', iommu: true });
  const secret = m.kmalloc(4096, GFP_KERNEL);
  m.cpu.write(secret, pattern(4096, 9));
  const h = dma_map_single(victim, secret, 4096, DMA_BIDIRECTIONAL);
  const ring = dma_alloc_coherent(victim, 8192, GFP_KERNEL)!;
  const own = m.kmalloc(4096, GFP_KERNEL);
  const hOwn = dma_map_single(rogue, own, 4096, DMA_BIDIRECTIONAL);
  const targets = [h, ring.dma_handle, m.virt_to_phys(secret), m.virt_to_phys(own), 0, 0x4000_0000];
  for (const t of targets) {
    // The rogue's only mapping is its own buffer; anything else faults.
    if (t >= hOwn && t < hOwn + 4096) continue;
    expect(() => rogue.dmaRead(t, 64)).toThrow(DmaFaultError);
    expect(() => rogue.dmaWrite(t, new Uint8Array(64).fill(0xee))).toThrow(DmaFaultError);
  }
  expect(victim.dmaRead(h, 4096)).toEqual(pattern(4096, 9));
  // Both domains allocate from the top, so the rogue's IOVA equals the victim's first one:
  // the same number names different memory in the two domains.
  expect(rogue.dmaRead(hOwn, 64)).toEqual(m.cpu.read(own, 64));
});

test('after a strict unmap the device cannot reach the buffer any more', async () => {
  const { m, dev } = await iommuMachine();
  const buf = m.kmalloc(4096, GFP_KERNEL);
  const h = dma_map_single(dev, buf, 4096, DMA_BIDIRECTIONAL);
  dev.dmaRead(h, 64); // the translation is now in the IOTLB
  dma_unmap_single(dev, h, 4096, DMA_BIDIRECTIONAL);
  expect(() => dev.dmaRead(h, 64)).toThrow(DmaFaultError);
});

test('devices of one group share a domain: one IOVA space, one set of mappings', async () => {
  const { m } = await iommuMachine();
  const a = iommuDevice(m, { name: 'fn0', iommu: { group: 'slot3' } });
  const b = iommuDevice(m, { name: 'fn1', iommu: { group: 'slot3' } });
  const c = iommuDevice(m, { name: 'other', iommu: true });
  const buf = m.kmalloc(4096, GFP_KERNEL);
  m.cpu.write(buf, pattern(4096, 4));
  const h = dma_map_single(a, buf, 4096, DMA_BIDIRECTIONAL);
  expect(b.dmaRead(h, 4096)).toEqual(pattern(4096, 4));
  expect(() => c.dmaRead(h, 4)).toThrow(DmaFaultError);
  expect(a.iommu!.group).toBe(b.iommu!.group);
  expect(m.dmesg()).toContain('platform fn1: Adding to iommu group 1');
});
