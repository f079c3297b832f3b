// Misuse and limits around kernel/dma/swiotlb.c:
//  - kernel/dma/direct.h dma_direct_sync_single_for_*(): swiotlb_sync_single_for_*() act only
//    when swiotlb_find_pool(dev, paddr) finds the address inside the pool.
//  - swiotlb_max_mapping_size(): IO_TLB_SIZE * IO_TLB_SEGSIZE - roundup(min_align_mask, IO_TLB_SIZE),
//    used by dma_direct_max_mapping_size() when is_swiotlb_active() and the device is addressing
//    limited or force-bounced; SIZE_MAX otherwise.
//  - swiotlb_search_pool_area(): BUG_ON(!nslots): a zero-length bounce is a kernel BUG.
//  - swiotlb_tbl_map_single(): dev_WARN_ONCE(dev, alloc_align_mask > ~PAGE_MASK,
//    "Alloc alignment may prevent fulfilling requests with max mapping_size\n").
import { describe, expect, it } from 'vitest';
import {
  createMachine, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_map_single,
  dma_max_mapping_size, dma_set_mask, dma_sync_single_for_cpu, dma_sync_single_for_device,
  dma_unmap_single, GFP_KERNEL, KernelBug,
} from '../../src/index.js';
import type { Machine } from '../../src/machine.js';
import type { Swiotlb } from '../../src/dma/swiotlb.js';
import { delta, pattern, probe64 } from '../support/api-helpers.js';
import { warning } from '../support/warn.js';

function snapshot(s: Swiotlb): unknown {
  return {
    list: Array.from({ length: s.nslabs }, (_, i) => s.listAt(i)), origAddr: Array.from(s.origAddr), allocSize: Array.from(s.allocSize),
    padSlots: Array.from(s.padSlots), totalUsed: s.totalUsed, usedHiwater: s.usedHiwater,
  };
}

function warnings(m: Machine): string[] {
  return m.dmesg().filter((l) => l.startsWith('WARNING: '));
}

describe('swiotlb and bad input', () => {
  it('a sync on an address outside the pool is ignored by swiotlb (no copy, no slot change)', async () => {
    const m = await createMachine({ cmdline: 'swiotlb=1024', seed: 31 });
    const s = m.swiotlb;
    if (s === null) throw new Error('no pool');
    const dev = probe64(m, { name: '0000:0c:00.1', driver: 'bad' });
    const buf = m.kmalloc(1500, GFP_KERNEL);
    m.cpu.write(buf, pattern(1500, 61));
    const h = dma_map_single(dev, buf, 1500, DMA_FROM_DEVICE);
    expect(h).toBe(m.virt_to_phys(buf)); // direct: not a bounce buffer
    expect(s.is_swiotlb_buffer(h)).toBe(false);
    const before = snapshot(s);
    const d = delta(m, () => {
      dma_sync_single_for_cpu(dev, h, 1500, DMA_FROM_DEVICE);
      dma_sync_single_for_device(dev, h, 1500, DMA_FROM_DEVICE);
    });
    expect(d.bounceBytes).toBe(0);
    expect(snapshot(s)).toEqual(before);
    dma_unmap_single(dev, h, 1500, DMA_FROM_DEVICE);
    expect(snapshot(s)).toEqual(before);
  });

  it('dma_max_mapping_size(): 256 KiB minus roundup(min_align_mask, 2 KiB) when bouncing can happen', async () => {
    const m = await createMachine({ seed: 31 });
    const plain = m.createDevice({ name: '0000:0d:00.0', driver: 'mx' });
    expect(dma_set_mask(plain, DMA_BIT_MASK(32))).toBe(0);
    expect(dma_max_mapping_size(plain)).toBe(262144); // 2048 * 128
    const nvme = m.createDevice({ name: '0000:0d:00.1', driver: 'nvme', minAlignMask: 0xfff });
    expect(dma_max_mapping_size(nvme)).toBe(262144 - 4096); // 258048
    const odd = m.createDevice({ name: '0000:0d:00.2', driver: 'mx', minAlignMask: 0x3 });
    expect(dma_max_mapping_size(odd)).toBe(262144 - 2048);
    const wide = probe64(m, { name: '0000:0d:00.3', driver: 'mx' });
    expect(dma_max_mapping_size(wide)).toBe(Number.MAX_SAFE_INTEGER); // SIZE_MAX: not limited

    const forced = await createMachine({ cmdline: 'swiotlb=256,force', seed: 31 });
    expect(dma_max_mapping_size(probe64(forced, { name: '0000:0d:00.4', driver: 'mx' }))).toBe(262144);
  });

  it('a zero-length map that must bounce is BUG_ON(!nslots) in swiotlb_search_pool_area()', async () => {
    const m = await createMachine({ seed: 31 });
    const dev = m.createDevice({ name: '0000:0e:00.0', driver: 'zero' }); // 32-bit: must bounce
    const buf = m.kmalloc(64, GFP_KERNEL);
    expect(() => dma_map_single(dev, buf, 0, DMA_TO_DEVICE)).toThrow(KernelBug);
    expect(m.dmesg()).toContain('Kernel BUG at swiotlb_search_pool_area+0x0/0x0 [verbose debug info unavailable]');
  });

  it('alloc_align_mask above PAGE_SIZE - 1 is a dev_WARN_ONCE in swiotlb_tbl_map_single()', async () => {
    const m = await createMachine({ cmdline: 'swiotlb=1024', seed: 31 });
    const s = m.swiotlb;
    if (s === null) throw new Error('no pool');
    const dev = m.createDevice({ name: '0000:0f:00.0', driver: 'align' });
    const orig = m.virt_to_phys(m.kmalloc(16384, GFP_KERNEL));
    const t = s.swiotlb_tbl_map_single(dev, orig, 100, 0x3fff, 0);
    expect(t % 16384).toBe(0); // still honoured: a 16 KiB-aligned run
    s.swiotlb_tbl_map_single(dev, orig, 100, 0x3fff, 0);
    const msg = 'align 0000:0f:00.0: Alloc alignment may prevent fulfilling requests with max mapping_size';
    expect(m.dmesg().filter((l) => l === msg)).toHaveLength(1);
    expect(warnings(m)).toEqual([warning('swiotlb_tbl_map_single')]);
  });
});
