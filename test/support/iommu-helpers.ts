// Fixtures for the IOMMU tests (test/iommu-*.test.ts): machines whose devices sit behind the
// IOMMU, and the IOVAs drivers/iommu/iova.c hands out first.
import { createMachine, DMA_BIT_MASK, dma_set_mask_and_coherent, type MachineOptions } from '../../src/index.js';
import type { Device, DeviceOptions } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';

/** The top 4 KiB granule below a 48-bit aperture: the first IOVA of a 64-bit device. */
export const TOP_IOVA_48 = 2 ** 48 - 4096;
/** The top granule below 4 GiB: the first IOVA of a 32-bit (or PCI) device. */
export const TOP_IOVA_32 = 0xffff_f000;

/** A machine and a device behind its IOMMU that has set a 64-bit mask. */
export async function iommuMachine(opts: MachineOptions = {}, dev: Partial<DeviceOptions> = {}): Promise<{ m: Machine; dev: Device }> {
  const m = await createMachine({ seed: 5, ...opts });
  return { m, dev: iommuDevice(m, { name: 'nic0', driver: 'mlx5_core', iommu: true, ...dev }) };
}

export function iommuDevice(m: Machine, opts: DeviceOptions, bits = 64): Device {
  const dev = m.createDevice(opts);
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(bits)) !== 0) throw new Error('dma_set_mask_and_coherent failed');
  return dev;
}
