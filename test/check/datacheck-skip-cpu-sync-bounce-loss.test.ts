// Rule: swiotlb_tbl_unmap_single() (kernel/dma/swiotlb.c) copies a FROM_DEVICE slot back to the
// buffer only without DMA_ATTR_SKIP_CPU_SYNC. An unmap with the attribute, after the device wrote
// and with no dma_sync_single_for_cpu() since, throws the device's data away: the data-aware
// checker reports it at the unmap, with the mapping and the caller's line. With the sync first,
// the data arrives and nothing is reported.
import { expect, test } from 'vitest';
import {
  createMachine, DMA_ATTR_SKIP_CPU_SYNC, DMA_BIT_MASK, DMA_FROM_DEVICE, dma_map_single, dma_set_mask_and_coherent,
  dma_sync_single_for_cpu, dma_unmap_single, GFP_KERNEL,
} from '../../src/index.js';

async function rig() {
  const m = await createMachine({ arch: 'arm64', seed: 1, dataCheck: true, cmdline: 'swiotlb=force' });
  const dev = m.createDevice({ name: 'eth0', driver: 'dmasim-nic', coherent: false });
  dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
  const rx = m.kmalloc(512, GFP_KERNEL);
  m.cpu.fill(rx, 512, 0);
  const h = dma_map_single(dev, rx, 512, DMA_FROM_DEVICE);
  dev.dmaFill(h, 512, 0x5a);
  return { m, dev, rx, h };
}

test('unmap with DMA_ATTR_SKIP_CPU_SYNC and no sync: the bounce loss is reported with the caller', async () => {
  const { m, dev, rx, h } = await rig();
  dma_unmap_single(dev, h, 512, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC); const line = new Error().stack!.split('\n')[1]!.match(/:(\d+):\d+\)?$/)![1];
  expect(m.cpu.readb(rx)).toBe(0); // the data stayed in the slot
  const [r] = m.dataCheck!.reports;
  expect(r).toMatchObject({ kind: 'bounce-data-lost', bytes: 512, mapping: { call: 'dma_map_single', bounced: true, dir: 'DMA_FROM_DEVICE' } });
  expect(r!.missing).toBe('dma_sync_single_for_cpu() before dma_unmap_single(..., DMA_ATTR_SKIP_CPU_SYNC): with the attribute swiotlb does not bounce the slot back');
  expect(r!.caller).toMatch(new RegExp(`datacheck-skip-cpu-sync-bounce-loss\\.test\\.ts:${line}:\\d+$`));
});

test('sync_for_cpu first: the data arrives and nothing is reported', async () => {
  const { m, dev, rx, h } = await rig();
  dma_sync_single_for_cpu(dev, h, 512, DMA_FROM_DEVICE);
  dma_unmap_single(dev, h, 512, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
  expect(m.cpu.readb(rx)).toBe(0x5a);
  expect(m.dataCheck!.reports).toEqual([]);
});
