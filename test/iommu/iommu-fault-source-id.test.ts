// The ID an IOMMU reports for a faulting PCI device is its requester ID, PCI_DEVID(bus, devfn):
// arm-smmu-v3 takes the StreamID from it (iort/of "iommu-map" identity mapping of RIDs), and
// Intel's dmar_fault_do_one() prints the fault record's source-id as
// "[%02x:%02x.%d]" (PCI_BUS_NUM, PCI_SLOT, PCI_FUNC). "Adding to iommu group %d" is printed by
// iommu_group_add_device() at IOMMU probe, before a driver binds, so dev_driver_string() is
// the bus name: "pci 0000:05:00.0: ...".
import { describe, expect, test } from 'vitest';
import { DmaFaultError } from '../../src/index.js';
import { iommuDevice, iommuMachine } from '../support/iommu-helpers.js';

describe('fault reports name the device by bus/device/function', () => {
  test('x86_64: DMAR "Request device [05:00.1]" for 0000:05:00.1', async () => {
    const { m } = await iommuMachine({ arch: 'x86_64' });
    const dev = iommuDevice(m, { name: '0000:05:00.1', driver: 'e1000e', iommu: { pci: true } });
    expect(() => dev.dmaRead(0x3000, 4)).toThrow(DmaFaultError);
    expect(m.dmesg()).toContain('DMAR: [DMA Read NO_PASID] Request device [05:00.1] fault addr 0x3000 [fault reason 0x06] PTE Read access is not set');
  });

  test('arm64: SMMU sid 0x1a0 for 0000:01:14.0', async () => {
    const { m } = await iommuMachine({ arch: 'arm64' });
    const dev = iommuDevice(m, { name: '0000:01:14.0', driver: 'xhci_hcd', iommu: { pci: true } });
    expect(() => dev.dmaRead(0x3000, 4)).toThrow(DmaFaultError);
    expect(m.dmesg().some((l) => l.endsWith('event: F_TRANSLATION client: 0000:01:14.0 sid: 0x1a0 ssid: 0x0 iova: 0x3000 ipa: 0x0'))).toBe(true);
  });

  test('"Adding to iommu group" carries the bus name, not the driver', async () => {
    const { m } = await iommuMachine({ arch: 'x86_64' });
    iommuDevice(m, { name: '0000:05:00.0', driver: 'nvme', iommu: { pci: true } });
    expect(m.dmesg()).toContain('pci 0000:05:00.0: Adding to iommu group 1');
  });
});
