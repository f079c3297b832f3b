// Rule: an access to an IOVA with no translation, or against the permission the mapping gave it
// (dma_info_to_prot(): TO_DEVICE maps IOMMU_READ only, FROM_DEVICE IOMMU_WRITE only), is an
// IOMMU fault. The transaction is aborted, so nothing in memory changes, and the IOMMU driver
// logs the event: arm-smmu-v3's arm_smmu_dump_raw_event()/arm_smmu_dump_event()
// (drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c, event 0x10 F_TRANSLATION, 0x13 F_PERMISSION) on
// arm64, intel's dmar_fault_do_one() (drivers/iommu/intel/dmar.c) on x86_64.
import { describe, expect, test } from 'vitest';
import {
  DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DmaFaultError, dma_map_single, dma_unmap_single, GFP_KERNEL,
} from '../../src/index.js';
import { pattern } from '../support/api-helpers.js';
import { iommuMachine } from '../support/iommu-helpers.js';

const SMMU = 'arm-smmu-v3 arm-smmu-v3.0.auto';

describe('IOMMU faults', () => {
  test('arm64: a read of an unmapped IOVA is F_TRANSLATION, logged as arm-smmu-v3 logs it', async () => {
    const { m, dev } = await iommuMachine();
    expect(() => dev.dmaRead(0x1000, 64)).toThrow(DmaFaultError);
    expect(m.dmesg().slice(-7)).toEqual([
      `${SMMU}: event 0x10 received:`,
      `${SMMU}: \t0x0000000800000010`, // SID 8 (device 00:01.0), event id 0x10
      `${SMMU}: \t0x0000020800000000`, // CLASS 2 (input address), RnW = read
      `${SMMU}: \t0x0000000000001000`,
      `${SMMU}: \t0x0000000000000000`,
      `${SMMU}: event: F_TRANSLATION client: nic0 sid: 0x8 ssid: 0x0 iova: 0x1000 ipa: 0x0`,
      `${SMMU}: unpriv data read s1 "Input address caused fault" stag: 0x0`,
    ]);
    expect(m.stats().iommuFaults).toBe(1);
  });

  test('arm64: a device write to a TO_DEVICE mapping is F_PERMISSION and changes nothing', async () => {
    const { m, dev } = await iommuMachine();
    const buf = m.kmalloc(4096, GFP_KERNEL);
    const data = pattern(4096, 1);
    m.cpu.write(buf, data);
    const h = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
    expect(() => dev.dmaWrite(h, new Uint8Array(64))).toThrow(/IOMMU permission fault/);
    expect(m.dmesg().slice(-2)).toEqual([
      `${SMMU}: event: F_PERMISSION client: nic0 sid: 0x8 ssid: 0x0 iova: 0x${h.toString(16)} ipa: 0x0`,
      `${SMMU}: unpriv data write s1 "Input address caused fault" stag: 0x0`,
    ]);
    expect(dev.dmaRead(h, 4096)).toEqual(data);
    dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);
    expect(m.cpu.read(buf, 4096)).toEqual(data);
  });

  test('a write running off the end of a mapping faults before its first byte lands', async () => {
    const { m, dev } = await iommuMachine();
    const buf = m.kmalloc(4096, GFP_KERNEL);
    const data = pattern(4096, 2);
    m.cpu.write(buf, data);
    const h = dma_map_single(dev, buf, 4096, DMA_BIDIRECTIONAL);
    expect(() => dev.dmaWrite(h, new Uint8Array(8192).fill(0xee))).toThrow(DmaFaultError);
    expect(dev.dmaRead(h, 4096)).toEqual(data);
  });

  test('x86_64: the DMAR unit reports an unmapped IOVA as "PTE Read access is not set"', async () => {
    const { m, dev } = await iommuMachine({ arch: 'x86_64' });
    expect(() => dev.dmaRead(0xdead_0000, 4)).toThrow(DmaFaultError);
    expect(() => dev.dmaWrite(0xdead_0000, [1])).toThrow(DmaFaultError);
    expect(m.dmesg().slice(-4)).toEqual([
      'DMAR: DRHD: handling fault status reg 2',
      'DMAR: [DMA Read NO_PASID] Request device [00:01.0] fault addr 0xdead0000 [fault reason 0x06] PTE Read access is not set',
      'DMAR: DRHD: handling fault status reg 2',
      'DMAR: [DMA Write NO_PASID] Request device [00:01.0] fault addr 0xdead0000 [fault reason 0x05] PTE Write access is not set',
    ]);
  });

  test('arm64: arm_smmu_evtq_thread() asks its ratelimit once per event: 10 reports of 15', async () => {
    const { m, dev } = await iommuMachine();
    for (let i = 0; i < 15; i++) expect(() => dev.dmaRead(0x2000, 4)).toThrow(DmaFaultError);
    expect(m.dmesg().filter((l) => l.includes('event: F_TRANSLATION')).length).toBe(10);
    expect(m.stats().iommuFaults).toBe(15);
  });

  test('x86_64: dmar_fault() asks its ratelimit three times per interrupt: 12 faults, 4 status lines, 3 records', async () => {
    // drivers/iommu/intel/dmar.c dmar_fault(): __ratelimit(&rs) for "DRHD: handling fault status
    // reg", then at the top of every turn of the record loop, including the turn that finds the
    // next record empty and breaks. Calls 1-10 of the burst pass: 1, 4, 7, 10 are status lines,
    // 2, 5, 8 records (11 would have been the fourth record).
    const { m, dev } = await iommuMachine({ arch: 'x86_64' });
    for (let i = 0; i < 12; i++) expect(() => dev.dmaRead(0x2000, 4)).toThrow(DmaFaultError);
    expect(m.dmesg().filter((l) => l === 'DMAR: DRHD: handling fault status reg 2').length).toBe(4);
    expect(m.dmesg().filter((l) => l.startsWith('DMAR: [DMA Read')).length).toBe(3);
    expect(m.stats().iommuFaults).toBe(12);
  });
});
