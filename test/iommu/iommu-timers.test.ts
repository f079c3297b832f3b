// Rule: two delayed works release IOVAs after a while, whatever the traffic. The flush queue's
// timer (drivers/iommu/dma-iommu.c fq_flush_timeout(), IOVA_DEFAULT_FQ_TIMEOUT = 10 ms) flushes
// the IOTLB and frees what the queue holds; the depot trim (drivers/iommu/iova.c
// iova_depot_work_func(), IOVA_DEPOT_DELAY = 100 ms) returns one magazine at a time to the tree
// until the depot holds no more magazines than there are CPUs. dmasim runs them as timers on the
// machine's clock (hw/time.ts): each fires at the first interleaving point after its deadline.
import { expect, test } from 'vitest';
import { DMA_TO_DEVICE, dma_map_single, dma_unmap_single, GFP_KERNEL } from '../../src/index.js';
import { iommu_dma_fq_pending } from '../../src/iommu/dma-iommu.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';
import { delta } from '../support/api-helpers.js';
import { iommuMachine } from '../support/iommu-helpers.js';

function pairs(m: Machine, dev: Device, n: number): void {
  const buf = m.kmalloc(4096, GFP_KERNEL);
  for (let i = 0; i < n; i++) dma_unmap_single(dev, dma_map_single(dev, buf, 4096, DMA_TO_DEVICE), 4096, DMA_TO_DEVICE);
}

test('lazy: the 10 ms timer flushes a queue that never fills', async () => {
  // 100 us per IOMMU map or unmap: a pair takes 200 us, so the timer armed by the first queued
  // IOVA fires 50 pairs later, and the one the next IOVA arms 50 pairs after that.
  const { m, dev } = await iommuMachine({ cmdline: 'iommu.strict=0', costModel: { iommuMapNs: 100_000 } });
  const d = delta(m, () => pairs(m, dev, 130));
  expect(d.iotlbFlushes).toBe(2); // the timer's twice; the 256-entry queue never filled
  const pending = iommu_dma_fq_pending(dev);
  expect(pending).toBeGreaterThan(0);
  expect(pending).toBeLessThan(50); // what the last 26 ms queued after the second flush
});

test('lazy, fast traffic: no timer flush before the queue fills', async () => {
  const { m, dev } = await iommuMachine({ cmdline: 'iommu.strict=0' });
  const d = delta(m, () => pairs(m, dev, 130));
  expect(d.iotlbFlushes).toBe(0);
  expect(iommu_dma_fq_pending(dev)).toBe(130);
});

test('the depot trim returns magazines to the tree until one is left', async () => {
  const run = async (iommuMapNs: number): Promise<number> => {
    const { m, dev } = await iommuMachine({ costModel: { iommuMapNs } });
    const buf = m.kmalloc(4096, GFP_KERNEL);
    const hs = Array.from({ length: 600 }, () => dma_map_single(dev, buf, 4096, DMA_TO_DEVICE));
    for (const h of hs) dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);
    return (dev.iommu!.domain.cookie!.iovad.rcaches[0]!).depot_size;
  };
  // 600 order-0 frees fill two CPU magazines and push three full ones to the depot.
  expect(await run(1)).toBe(3);
  // At 1 ms per unmap, the trim scheduled by the first push runs 129 frees later and again 128 after.
  expect(await run(1_000_000)).toBe(1);
});
