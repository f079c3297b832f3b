// Rule: drivers/iommu/iommu.c iommu.passthrough=1 makes the default domain IDENTITY
// ("Passthrough"): the device's DMA is dma-direct (dev->dma_iommu is false, the handle is the
// physical address), except for an untrusted device, which iommu_get_default_domain_type()
// always puts in a translated DMA domain. A value kstrtobool() refuses is a malformed early
// option and leaves the default.
import { expect, test } from 'vitest';
import { DMA_TO_DEVICE, dma_map_single, GFP_KERNEL } from '../../src/index.js';
import { iommuDevice, iommuMachine, TOP_IOVA_48 } from '../support/iommu-helpers.js';

test('iommu.passthrough=1: identity domain, DMA address = physical address, no policy line', async () => {
  const { m, dev } = await iommuMachine({ cmdline: 'iommu.passthrough=1' });
  const log = m.dmesg();
  expect(log).toContain('iommu: Default domain type: Passthrough (set via kernel command line)');
  expect(log.some((l) => l.includes('TLB invalidation policy'))).toBe(false);
  expect(dev.dma_iommu).toBe(false);
  const buf = m.kmalloc(4096, GFP_KERNEL);
  expect(dma_map_single(dev, buf, 4096, DMA_TO_DEVICE)).toBe(m.virt_to_phys(buf));
  expect(m.stats().iommuMaps).toBe(0);
});

test('iommu.passthrough=1: an untrusted device is still translated', async () => {
  const { m } = await iommuMachine({ cmdline: 'iommu.passthrough=1' });
  const tb = iommuDevice(m, { name: 'tbt0', iommu: { untrusted: true } });
  expect(tb.dma_iommu).toBe(true);
  const buf = m.kmalloc(4096, GFP_KERNEL);
  expect(dma_map_single(tb, buf, 4096, DMA_TO_DEVICE)).toBe(TOP_IOVA_48);
});

test('a malformed value is reported and the default stays', async () => {
  const { m, dev } = await iommuMachine({ cmdline: 'iommu.passthrough=maybe' });
  expect(m.dmesg()).toContain("Malformed early option 'iommu.passthrough'");
  expect(m.dmesg()).toContain('iommu: Default domain type: Translated');
  expect(dev.dma_iommu).toBe(true);
});
