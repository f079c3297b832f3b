// KERNEL.md §9 item 2: with bouncing, cache maintenance is done on the bounce buffer, never on
// the original. kernel/dma/swiotlb.c swiotlb_map() calls arch_sync_dma_for_device(swiotlb_addr,
// size, dir) on the slot; kernel/dma/direct.h dma_direct_sync_single_for_cpu() calls
// arch_sync_dma_for_cpu(paddr) with paddr = dma_to_phys(dma_addr), the slot again, and only then
// swiotlb_sync_single_for_cpu() copies. The original is touched only by swiotlb_bounce()'s
// cacheable memcpy (memcpy(phys_to_virt(orig_addr), vaddr, size)), so on non-coherent arm64 its
// dirty lines are never cleaned: the device never looks at them. The invalidate of the slot
// before the copy-back exists because that memcpy reads the slot through the cache, where a
// stale line (the map-time copy, a speculative fill, a CPU peek) would otherwise be copied.
import { describe, expect, it } from 'vitest';
import {
  createMachine, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_map_single, dma_mapping_error,
  dma_set_mask, dma_sync_single_for_cpu, dma_unmap_single, GFP_KERNEL,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';
import { delta, pattern } from '../support/api-helpers.js';

const LEN = 1536; // 24 lines of 64 bytes, a whole number so no partial edge line
const LINES = LEN / 64;

async function setup(maskBits = 32): Promise<{ m: Machine; dev: Device; buf: number; orig: number }> {
  const m = await createMachine({ seed: 13 });
  const dev = m.createDevice({ name: '0000:05:00.0', driver: 'nc32' });
  expect(dev.dma_coherent).toBe(false);
  expect(dma_set_mask(dev, DMA_BIT_MASK(maskBits))).toBe(0);
  const buf = m.kmalloc(2048, GFP_KERNEL);
  return { m, dev, buf, orig: m.virt_to_phys(buf) };
}

function states(m: Machine, phys: number, len: number): Set<string> {
  const s = new Set<string>();
  for (let off = 0; off < len; off += 64) s.add(m.cache.lineState(phys + off));
  return s;
}

describe('non-coherent arm64: clean and invalidate hit the bounce slot, not the original', () => {
  it('contrast: unbounced (64-bit mask), map TO_DEVICE cleans the original\'s lines', async () => {
    const { m, dev, buf, orig } = await setup(64);
    m.cpu.write(buf, pattern(LEN, 40));
    const h = dma_map_single(dev, buf, LEN, DMA_TO_DEVICE);
    expect(h).toBe(orig);
    expect(states(m, orig, LEN)).toEqual(new Set(['clean']));
    dma_unmap_single(dev, h, LEN, DMA_TO_DEVICE);
  });

  it('bounced, map TO_DEVICE: one clean per slot line, the original\'s dirty lines are left alone', async () => {
    const { m, dev, buf, orig } = await setup();
    m.cpu.write(buf, pattern(LEN, 41));
    expect(states(m, orig, LEN)).toEqual(new Set(['dirty']));
    let h = 0;
    const d = delta(m, () => { h = dma_map_single(dev, buf, LEN, DMA_TO_DEVICE); });
    expect(dma_mapping_error(dev, h)).toBe(0);
    expect(m.swiotlb?.is_swiotlb_buffer(h)).toBe(true);
    expect(d.cacheMaintenanceOps).toBe(LINES); // DC CVAC over [tlb, tlb + LEN)
    expect(d.dirtyLinesWrittenBack).toBe(0);
    expect(d.bounceBytes).toBe(LEN);
    expect(states(m, orig, LEN)).toEqual(new Set(['dirty'])); // never cleaned
    expect(dev.dmaRead(h, LEN)).toEqual(pattern(LEN, 41)); // the copy reached the slot
    dma_unmap_single(dev, h, LEN, DMA_TO_DEVICE);
    expect(states(m, orig, LEN)).toEqual(new Set(['dirty']));
  });

  it('bounced, sync_for_cpu FROM_DEVICE: the slot\'s stale lines are invalidated, the original\'s dirty lines are not', async () => {
    const { m, dev, buf, orig } = await setup();
    m.cpu.write(buf, pattern(LEN, 42));
    const h = dma_map_single(dev, buf, LEN, DMA_FROM_DEVICE);
    expect(m.swiotlb?.is_swiotlb_buffer(h)).toBe(true);
    // The CPU peeks at the slot through its linear alias: the slot's lines are now cached clean.
    expect(m.cpu.read(m.phys_to_virt(h), LEN)).toEqual(pattern(LEN, 42));
    expect(states(m, h, LEN)).toEqual(new Set(['clean']));
    expect(states(m, orig, LEN)).toEqual(new Set(['dirty']));

    dev.dmaWrite(h, pattern(LEN, 43)); // RAM only: the stale slot lines stay cached
    const d = delta(m, () => dma_sync_single_for_cpu(dev, h, LEN, DMA_FROM_DEVICE));
    expect(d.cacheLinesInvalidated).toBe(LINES);
    expect(d.cacheLinesCleaned).toBe(0);
    expect(d.dirtyLinesDiscarded).toBe(0); // no dirty original line was invalidated
    expect(d.bounceBytes).toBe(LEN);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 43));
    dma_unmap_single(dev, h, LEN, DMA_FROM_DEVICE);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 43));
  });

  it('swiotlb_bounce() is a cacheable memcpy: without the invalidate it copies the stale slot line the CPU sees', async () => {
    const { m, dev, buf } = await setup();
    m.cpu.write(buf, pattern(LEN, 44));
    const h = dma_map_single(dev, buf, LEN, DMA_FROM_DEVICE);
    const alias = m.phys_to_virt(h);
    m.cpu.read(alias, LEN); // slot lines cached clean, holding the map-time copy
    dev.dmaWrite(h, pattern(LEN, 45));
    expect(m.cpu.read(alias, LEN)).toEqual(pattern(LEN, 44)); // what the CPU sees of the slot
    // __swiotlb_sync_single_for_cpu() alone, as a swiotlb that forgot arch_sync_dma_for_cpu():
    m.swiotlb?.swiotlb_sync_single_for_cpu(dev, h, LEN, DMA_FROM_DEVICE);
    // memcpy(orig, vaddr) loads through the same cache: it copies the stale bytes.
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 44));
    dma_unmap_single(dev, h, LEN, DMA_FROM_DEVICE);
  });
});
