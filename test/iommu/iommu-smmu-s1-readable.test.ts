// drivers/iommu/io-pgtable-arm.c arm_lpae_prot_to_pte(), stage-1 formats (what arm-smmu-v3 DMA
// domains use): pte = ARM_LPAE_PTE_nG; AP_RDONLY only when !(prot & IOMMU_WRITE) && (prot &
// IOMMU_READ). There is no "no read" encoding, so a DMA_FROM_DEVICE mapping (IOMMU_WRITE only,
// dma_info_to_prot()) is readable by the device too, while DMA_TO_DEVICE stays write-protected.
// Intel VT-d keeps DMA_PTE_READ and DMA_PTE_WRITE apart, so on x86_64 the read faults.
import { describe, expect, test } from 'vitest';
import { DMA_FROM_DEVICE, DMA_TO_DEVICE, DmaFaultError, dma_map_single, GFP_KERNEL } from '../../src/index.js';
import { pattern } from '../support/api-helpers.js';
import { iommuMachine } from '../support/iommu-helpers.js';

describe('SMMUv3 stage 1 has no write-only permission', () => {
  test('arm64: the device may read a DMA_FROM_DEVICE buffer; it may not write a DMA_TO_DEVICE one', async () => {
    const { m, dev } = await iommuMachine({ arch: 'arm64' });
    const buf = m.kmalloc(4096, GFP_KERNEL);
    m.cpu.write(buf, pattern(4096, 3));
    const from = dma_map_single(dev, buf, 4096, DMA_FROM_DEVICE);
    expect(dev.dmaRead(from, 4096)).toEqual(pattern(4096, 3));
    const other = m.kmalloc(4096, GFP_KERNEL);
    const to = dma_map_single(dev, other, 4096, DMA_TO_DEVICE);
    expect(() => dev.dmaWrite(to, new Uint8Array(16))).toThrow(DmaFaultError);
    expect(m.dmesg().some((l) => l.includes('F_PERMISSION'))).toBe(true);
  });

  test('x86_64 (VT-d): a read of a DMA_FROM_DEVICE buffer faults', async () => {
    const { m, dev } = await iommuMachine({ arch: 'x86_64' });
    const buf = m.kmalloc(4096, GFP_KERNEL);
    const from = dma_map_single(dev, buf, 4096, DMA_FROM_DEVICE);
    expect(() => dev.dmaRead(from, 16)).toThrow(DmaFaultError);
  });
});
