// drivers/iommu/dma-iommu.c iova_reserve_iommu_regions() (v7.x copy, file id 59091008624, and
// every mainline since v4.x): the IOMMU driver's reserved regions are reserved in the IOVA space
// of a DMA domain, except IOMMU_RESV_SW_MSI ("We ARE the software that manages these!"): the
// DMA layer maps MSI doorbells into that window itself. arm-smmu-v3 reports MSI_IOVA_BASE
// (0x8000000, 1 MiB) as IOMMU_RESV_SW_MSI, so it stays allocatable; Intel reports the IOAPIC
// range (0xfee00000, 1 MiB) as IOMMU_RESV_MSI, which is reserved.
import { describe, expect, test } from 'vitest';
import type { Device } from '../../src/dma/device.js';
import { iommuMachine } from '../support/iommu-helpers.js';

/** The IOVA tree right after the domain was set up: only what was reserved. */
function reservedPfns(dev: Device): number[] {
  return dev.iommu!.domain.cookie!.iovad.ranges();
}

describe('iova_reserve_iommu_regions() skips IOMMU_RESV_SW_MSI', () => {
  test('arm64: the SMMU\'s software MSI window is not reserved in a DMA domain', async () => {
    const { dev } = await iommuMachine({ arch: 'arm64' });
    expect(reservedPfns(dev)).toEqual([]);
  });

  test('x86_64: the IOAPIC range (IOMMU_RESV_MSI) is reserved', async () => {
    const { dev } = await iommuMachine({ arch: 'x86_64' });
    expect(reservedPfns(dev)).toEqual([0xfee00, 0xfeeff]);
  });
});
