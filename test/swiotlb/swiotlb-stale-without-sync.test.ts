// KERNEL.md §9 item 1: with bouncing, the device writes the bounce slot, never the original.
// swiotlb_tbl_map_single() (kernel/dma/swiotlb.c) copies original -> bounce whatever the
// direction ("to preserve the original's data if the device does a partial write"), so until
// __swiotlb_sync_single_for_cpu() or __swiotlb_tbl_unmap_single() copies bounce -> original, the
// CPU reading its buffer sees what it held before the map: no cache effect is needed for this
// bug, so it shows on coherent x86_64 exactly as on non-coherent arm64.
import { describe, expect, it } from 'vitest';
import {
  createMachine, DMA_BIT_MASK, DMA_FROM_DEVICE, dma_map_single, dma_mapping_error, dma_set_mask,
  dma_sync_single_for_cpu, dma_unmap_single, GFP_KERNEL,
} from '../../src/index.js';
import { pattern } from '../support/api-helpers.js';

const LEN = 1024;

describe.each(['arm64', 'x86_64'] as const)('FROM_DEVICE bounce buffer read without sync_for_cpu (%s)', (arch) => {
  it('the CPU sees the original\'s old contents, not the device\'s data; sync_for_cpu fixes it', async () => {
    const m = await createMachine({ arch, seed: 5 });
    const dev = m.createDevice({ name: '0000:03:00.0', driver: 'rx32' });
    expect(dma_set_mask(dev, DMA_BIT_MASK(32))).toBe(0);
    const buf = m.kmalloc(LEN, GFP_KERNEL);
    const old = pattern(LEN, 21);
    const pkt = pattern(LEN, 22);
    m.cpu.write(buf, old);

    const h = dma_map_single(dev, buf, LEN, DMA_FROM_DEVICE);
    expect(dma_mapping_error(dev, h)).toBe(0);
    expect(m.swiotlb?.is_swiotlb_buffer(h)).toBe(true);
    // The map-time copy: the slot holds the old contents before the device writes anything.
    expect(dev.dmaRead(h, LEN)).toEqual(old);

    dev.dmaWrite(h, pkt);
    const stale = m.cpu.read(buf, LEN);
    expect(stale).toEqual(old);
    expect(stale).not.toEqual(pkt);

    dma_sync_single_for_cpu(dev, h, LEN, DMA_FROM_DEVICE);
    expect(m.cpu.read(buf, LEN)).toEqual(pkt);
    dma_unmap_single(dev, h, LEN, DMA_FROM_DEVICE);
    expect(m.cpu.read(buf, LEN)).toEqual(pkt);
  });

  it('a partial device write keeps the original bytes around it (the reason map always copies)', async () => {
    const m = await createMachine({ arch, seed: 5 });
    const dev = m.createDevice({ name: '0000:03:00.0', driver: 'rx32' });
    expect(dma_set_mask(dev, DMA_BIT_MASK(32))).toBe(0);
    const buf = m.kmalloc(LEN, GFP_KERNEL);
    const old = pattern(LEN, 23);
    m.cpu.write(buf, old);
    const h = dma_map_single(dev, buf, LEN, DMA_FROM_DEVICE);
    dev.dmaWrite(h + 100, pattern(50, 24));
    dma_unmap_single(dev, h, LEN, DMA_FROM_DEVICE);
    const want = old.slice();
    want.set(pattern(50, 24), 100);
    expect(m.cpu.read(buf, LEN)).toEqual(want);
  });
});
