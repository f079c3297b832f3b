// Rule: the flush queue's timer frees queued IOVAs IOVA_DEFAULT_FQ_TIMEOUT (10 ms) after the first
// one was queued, even when no DMA work follows (drivers/iommu/dma-iommu.c queue_iova() arms
// fq_timer with mod_timer(); fq_flush_timeout() flushes the IOTLB and frees the ring). On dmasim's
// clock the timer fires during a delay (msleep) at its own deadline.
import { expect, test } from 'vitest';
import { DMA_TO_DEVICE, dma_map_single, dma_unmap_single, GFP_KERNEL } from '../../src/index.js';
import { iommu_dma_fq_pending, IOVA_DEFAULT_FQ_TIMEOUT_MS } from '../../src/iommu/dma-iommu.js';
import { iommuMachine } from '../support/iommu-helpers.js';

test('queued IOVAs are freed 10 ms after the first was queued, with no DMA work in between', async () => {
  const { m, dev } = await iommuMachine({ cmdline: 'iommu.strict=0' });
  const buf = m.kmalloc(4096, GFP_KERNEL);
  dma_unmap_single(dev, dma_map_single(dev, buf, 4096, DMA_TO_DEVICE), 4096, DMA_TO_DEVICE);
  const armed = m.now();
  for (let i = 0; i < 4; i++) dma_unmap_single(dev, dma_map_single(dev, buf, 4096, DMA_TO_DEVICE), 4096, DMA_TO_DEVICE);
  expect(iommu_dma_fq_pending(dev)).toBe(5);
  const flushes = m.stats().iotlbFlushes;

  const deadline = armed + IOVA_DEFAULT_FQ_TIMEOUT_MS * 1e6;
  m.ndelay(deadline - m.now() - 1);
  expect(iommu_dma_fq_pending(dev)).toBe(5); // 1 ns early: still queued
  m.ndelay(1);
  expect(iommu_dma_fq_pending(dev)).toBe(0);
  expect(m.stats().iotlbFlushes).toBe(flushes + 1);
});

test('an msleep() with no DMA work runs the timer; strict mode queues nothing', async () => {
  const lazy = await iommuMachine({ cmdline: 'iommu.strict=0' });
  const buf = lazy.m.kmalloc(4096, GFP_KERNEL);
  dma_unmap_single(lazy.dev, dma_map_single(lazy.dev, buf, 4096, DMA_TO_DEVICE), 4096, DMA_TO_DEVICE);
  expect(lazy.m.clock.pending).toBeGreaterThan(0);
  lazy.m.msleep(IOVA_DEFAULT_FQ_TIMEOUT_MS);
  expect(iommu_dma_fq_pending(lazy.dev)).toBe(0);

  const strict = await iommuMachine({ cmdline: 'iommu.strict=1' });
  dma_unmap_single(strict.dev, dma_map_single(strict.dev, strict.m.kmalloc(4096, GFP_KERNEL), 4096, DMA_TO_DEVICE), 4096, DMA_TO_DEVICE);
  expect(strict.m.clock.pending).toBe(0);
});
