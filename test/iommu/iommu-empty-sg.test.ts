// dma_map_sg() and dma_map_sgtable() with no entries (issue 13, item 4). Every backend maps
// nothing and returns 0, which kernel/dma/mapping.c __dma_map_sg_attrs() meets with
// WARN_ON_ONCE(ents != -EINVAL && ...) and -EIO: dma_map_sg() returns 0, dma_map_sgtable()
// -EIO. An untrusted device's list goes through drivers/iommu/dma-iommu.c
// iommu_dma_map_sg_swiotlb(), which maps the same nothing.
import { describe, expect, test } from 'vitest';
import { DMA_TO_DEVICE, dma_map_sg, dma_map_sgtable, EIO, type Machine } from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import { probe64 } from '../support/api-helpers.js';
import { iommuMachine } from '../support/iommu-helpers.js';

function warnings(m: Machine): string[] {
  return m.dmesg().filter((l) => l.startsWith('WARNING:'));
}

async function devices(): Promise<[string, Machine, Device][]> {
  const untrusted = await iommuMachine({ arch: 'x86_64' }, { iommu: { untrusted: true } });
  const trusted = await iommuMachine({ arch: 'x86_64' });
  const direct = await iommuMachine({});
  return [
    ['untrusted IOMMU', untrusted.m, untrusted.dev],
    ['IOMMU', trusted.m, trusted.dev],
    ['dma-direct', direct.m, probe64(direct.m, { name: '0000:02:00.0' })],
  ];
}

describe('an empty scatterlist', () => {
  test('dma_map_sg(dev, [], 0): 0 and the WARN of __dma_map_sg_attrs, on every backend', async () => {
    for (const [name, m, dev] of await devices()) {
      expect(dma_map_sg(dev, [], 0, DMA_TO_DEVICE), name).toBe(0);
      expect(warnings(m).some((l) => l.includes('__dma_map_sg_attrs')), name).toBe(true);
      expect(m.stats().swiotlbSlotsUsed, name).toBe(0);
    }
  });

  test('dma_map_sgtable() of a table with no entries: -EIO', async () => {
    for (const [name, , dev] of await devices()) {
      expect(dma_map_sgtable(dev, { sgl: [], nents: 0, orig_nents: 0 }, DMA_TO_DEVICE), name).toBe(-EIO);
    }
  });
});
