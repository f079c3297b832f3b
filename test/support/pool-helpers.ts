// Fixtures for the atomic pool tests (kernel/dma/pool.c): what the page allocator handed out,
// against what the pools grew by.
import { expect } from 'vitest';
import type { Machine } from '../../src/machine.js';
import { ZONE_DMA, ZONE_NORMAL } from '../../src/mm/gfp.js';

export const POOLS = '/sys/kernel/debug/dma_pools';

/** Free pages in ZONE_DMA and ZONE_NORMAL. */
export function freePages(m: Machine): number[] {
  return [m.pages.nrFree(ZONE_DMA), m.pages.nrFree(ZONE_NORMAL)];
}

/** Pages the pools hold, from /sys/kernel/debug/dma_pools/pool_size_*. */
function poolPages(m: Machine): number {
  return ['dma', 'dma32', 'kernel'].reduce((n, z) => n + Number(m.debugfs.read(`${POOLS}/pool_size_${z}`)) / 4096, 0);
}

/**
 * Runs `fn` and checks that the page allocator gave out no page but those the pools grew by
 * (atomic_pool_work_fn() runs at the first interleaving point after it is queued: the CPU's
 * accesses that zero the buffer, or the next call).
 */
export function onlyPoolGrowth(m: Machine, fn: () => void): void {
  const free = freePages(m).reduce((a, b) => a + b);
  const held = poolPages(m);
  fn();
  expect(free - freePages(m).reduce((a, b) => a + b)).toBe(poolPages(m) - held);
}
