// KERNEL.md §7.3 / §9 item 4, include/linux/dma-map-ops.h (CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC,
// on for arm64):
//   dma_kmalloc_safe(dev, dir)       dev_is_dma_coherent(dev) || dir == DMA_TO_DEVICE
//   dma_kmalloc_size_aligned(size)   size >= 2 * ARCH_DMA_MINALIGN (256) ||
//                                    IS_ALIGNED(kmalloc_size_roundup(size), dma_get_cache_alignment())
//   dma_kmalloc_needs_bounce()       !safe && !size_aligned
// and kernel/dma/direct.h dma_direct_map_phys(): `!dma_capable(...) || dma_kmalloc_needs_bounce(...)`
// -> swiotlb_map() when is_swiotlb_active(). So on non-coherent arm64 (64-byte lines), a small
// FROM_DEVICE or BIDIRECTIONAL mapping bounces although a 64-bit mask reaches it.
import { describe, expect, it } from 'vitest';
import {
  createMachine, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_map_single, dma_mapping_error,
  dma_unmap_single, GFP_KERNEL, type DmaDirection,
} from '../../src/index.js';
import type { Machine } from '../../src/machine.js';
import { pattern, probe64 } from '../support/api-helpers.js';

function bounces(m: Machine, coherent: boolean, size: number, dir: DmaDirection): boolean {
  const dev = probe64(m, { name: `0000:06:00.${coherent ? 1 : 0}`, driver: 'kb', coherent });
  const buf = m.kmalloc(size, GFP_KERNEL);
  const phys = m.virt_to_phys(buf);
  const h = dma_map_single(dev, buf, size, dir);
  expect(dma_mapping_error(dev, h)).toBe(0);
  const bounced = h !== phys;
  expect(m.swiotlb?.is_swiotlb_buffer(h)).toBe(bounced);
  dma_unmap_single(dev, h, size, dir);
  m.kfree(buf);
  return bounced;
}

describe('kmalloc bouncing (non-coherent arm64, 64-byte lines, 64-bit mask)', () => {
  it('a 32-byte FROM_DEVICE kmalloc buffer bounces although the address is reachable', async () => {
    const m = await createMachine({ seed: 17 });
    expect(m.dmaCacheAlignment).toBe(64);
    expect(bounces(m, false, 32, DMA_FROM_DEVICE)).toBe(true);
    expect(bounces(m, false, 32, DMA_BIDIRECTIONAL)).toBe(true);
  });

  it('TO_DEVICE never bounces (dma_kmalloc_safe)', async () => {
    const m = await createMachine({ seed: 17 });
    for (const size of [8, 16, 32, 96]) expect(bounces(m, false, size, DMA_TO_DEVICE)).toBe(false);
  });

  it('kmalloc-8/16/32/96 bounce; kmalloc-64/128/192 are whole lines and >= 256 bytes never bounce', async () => {
    const m = await createMachine({ seed: 17 });
    const got = [8, 16, 24, 32, 40, 64, 96, 100, 128, 192, 200, 255, 256, 1500].map((s) => [s, bounces(m, false, s, DMA_FROM_DEVICE)]);
    expect(Object.fromEntries(got)).toEqual({
      8: true, 16: true, 24: true, 32: true, 40: false, 64: false, 96: true, 100: false, 128: false,
      192: false, 200: false, 255: false, 256: false, 1500: false,
    });
  });

  it('a coherent device never bounces for kmalloc alignment', async () => {
    const m = await createMachine({ seed: 17 });
    for (const size of [8, 32, 96]) {
      expect(bounces(m, true, size, DMA_FROM_DEVICE)).toBe(false);
      expect(bounces(m, true, size, DMA_BIDIRECTIONAL)).toBe(false);
    }
  });

  it('the bounced 32-byte buffer round-trips and does not touch its kmalloc-32 neighbour', async () => {
    const m = await createMachine({ seed: 17 });
    const dev = probe64(m, { name: '0000:06:00.0', driver: 'kb' });
    const a = m.kmalloc(32, GFP_KERNEL);
    const b = m.kmalloc(32, GFP_KERNEL);
    expect(Math.floor(m.virt_to_phys(a) / 64)).toBe(Math.floor(m.virt_to_phys(b) / 64)); // one line
    const h = dma_map_single(dev, a, 32, DMA_FROM_DEVICE);
    expect(m.swiotlb?.is_swiotlb_buffer(h)).toBe(true);
    m.cpu.write(b, pattern(32, 51)); // the CPU dirties the shared line during the DMA
    dev.dmaWrite(h, pattern(32, 52));
    dma_unmap_single(dev, h, 32, DMA_FROM_DEVICE);
    expect(m.cpu.read(a, 32)).toEqual(pattern(32, 52));
    expect(m.cpu.read(b, 32)).toEqual(pattern(32, 51));
  });

  it('x86_64 (coherent, no DMA_BOUNCE_UNALIGNED_KMALLOC) never bounces small buffers', async () => {
    const m = await createMachine({ arch: 'x86_64', seed: 17 });
    expect(bounces(m, true, 32, DMA_FROM_DEVICE)).toBe(false);
  });
});
