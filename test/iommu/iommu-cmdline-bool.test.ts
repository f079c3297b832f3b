// drivers/iommu/iommu.c iommu_set_def_domain_type() / iommu_dma_setup() and dma-iommu.c
// iommu_dma_forcedac_setup() parse their early_param with kstrtobool() (lib/kstrtox.c: the first
// character decides: e/E y/Y t/T 1 true, d/D n/N f/F 0 false, on/off by two). With
// iommu.forcedac=1, "Forcing DAC for PCI devices" is printed and iommu_setup_dma_ops() sets
// dev->iommu->pci_32bit_workaround = !iommu_dma_forcedac, so a PCI device starts in the full
// 48-bit space instead of below 4 GiB.
import { describe, expect, test } from 'vitest';
import { createMachine, DMA_TO_DEVICE, dma_map_single, GFP_KERNEL } from '../../src/index.js';
import { iommuDevice, iommuMachine, TOP_IOVA_32, TOP_IOVA_48 } from '../support/iommu-helpers.js';

describe('iommu.* boot parameters take kstrtobool()', () => {
  for (const [v, strict] of [['t', true], ['true', true], ['f', false], ['false', false], ['y', true], ['n', false], ['1', true], ['0', false], ['on', true], ['off', false]] as const) {
    test(`iommu.strict=${v} is ${strict ? 'strict' : 'lazy'}`, async () => {
      const m = await createMachine({ arch: 'x86_64', cmdline: `iommu.strict=${v}` });
      expect(m.iommu.strict).toBe(strict);
      expect(m.dmesg()).toContain(`iommu: DMA domain TLB invalidation policy: ${strict ? 'strict' : 'lazy'} mode (set via kernel command line)`);
    });
  }

  test('iommu.passthrough=t selects the identity domain', async () => {
    const m = await createMachine({ cmdline: 'iommu.passthrough=t' });
    expect(m.dmesg()).toContain('iommu: Default domain type: Passthrough (set via kernel command line)');
  });

  test('iommu.strict=x is malformed and ignored', async () => {
    const m = await createMachine({ arch: 'x86_64', cmdline: 'iommu.strict=x' });
    expect(m.iommu.strict).toBe(false);
    expect(m.dmesg()).toContain("Malformed early option 'iommu.strict'");
  });

  test('iommu.forcedac=1: "Forcing DAC for PCI devices", and a PCI device starts in the 48-bit space', async () => {
    const { m } = await iommuMachine({ cmdline: 'iommu.forcedac=1' });
    expect(m.dmesg()).toContain('Forcing DAC for PCI devices');
    const pci = iommuDevice(m, { name: '0000:01:00.0', driver: 'nvme', iommu: { pci: true } });
    const buf = m.kmalloc(4096, GFP_KERNEL);
    expect(dma_map_single(pci, buf, 4096, DMA_TO_DEVICE)).toBe(TOP_IOVA_48);
    expect(m.dmesg().some((l) => l.includes('-bit DMA addresses'))).toBe(false);
  });

  test('without it a PCI device starts below 4 GiB', async () => {
    const { m } = await iommuMachine({ cmdline: 'iommu.forcedac=0' });
    expect(m.dmesg()).not.toContain('Forcing DAC for PCI devices');
    const pci = iommuDevice(m, { name: '0000:01:00.0', driver: 'nvme', iommu: { pci: true } });
    expect(dma_map_single(pci, m.kmalloc(4096, GFP_KERNEL), 4096, DMA_TO_DEVICE)).toBe(TOP_IOVA_32);
  });
});
