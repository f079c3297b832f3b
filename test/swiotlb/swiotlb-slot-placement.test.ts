// Slot placement worked by hand from kernel/dma/swiotlb.c (non-dynamic pool, CPU 0):
//   swiotlb_tbl_map_single()    offset = orig & min_align_mask & (alloc_align_mask | 2047),
//                               size = ALIGN(mapping_size + offset, alloc_align_mask + 1),
//                               pad_slots = offset >> 11 stored in the first real slot,
//                               orig_addr of real slot i = orig + i * 2048,
//                               tlb_addr = slot_addr(start, index + pad_slots) + (offset & 2047)
//   swiotlb_search_pool_area()  alloc_align_mask = PAGE_SIZE - 1 when no mask is given and
//                               alloc_size >= PAGE_SIZE; alloc_align_mask |= 2047;
//                               iotlb_align_mask = min_align_mask & ~alloc_align_mask;
//                               stride = max(...) >> 11 + 1; scan from area->index: misaligned or
//                               wrong-bits slot -> index + 1; aligned slot whose `list` is short ->
//                               index + stride; wrap_area_index() returns 0 past the area's end;
//                               found: list = 0 over the run, alloc_size = size - offset0 - k*2048,
//                               the free slots before it in the segment renumbered 1, 2, 3, ...,
//                               area->index = wrap_area_index(index + nslots)
//   swiotlb_release_slots()     list = ++count from the slot after the run backwards, then the
//                               free slots before it in the segment
//   swiotlb_find_slots()        area smp_processor_id() & (nareas - 1) first, then cyclically
import { describe, expect, it } from 'vitest';
import { createMachine, DMA_MAPPING_ERROR, DMA_TO_DEVICE, GFP_KERNEL } from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';
import type { Swiotlb } from '../../src/dma/swiotlb.js';

const SLOT = 2048;
const INVALID = -1;

async function setup(cmdline: string): Promise<{ m: Machine; s: Swiotlb; dev: Device; orig: number }> {
  const m = await createMachine({ cmdline, seed: 19 });
  const s = m.swiotlb;
  if (s === null) throw new Error('no swiotlb pool');
  expect(s.start % 4096).toBe(0);
  const dev = m.createDevice({ name: '0000:07:00.0', driver: 'slots' });
  const page = m.alloc_pages(GFP_KERNEL, 8); // 1 MiB of page-aligned RAM to bounce from
  if (page === null) throw new Error('alloc_pages');
  return { m, s, dev, orig: m.page_to_phys(page) };
}

function slotOf(s: Swiotlb, tlb: number): number {
  expect(tlb).not.toBe(DMA_MAPPING_ERROR);
  return Math.floor((tlb - s.start) / SLOT);
}

function list(s: Swiotlb, from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => s.listAt(from + i));
}

describe('swiotlb slot placement', () => {
  it('consecutive maps take consecutive slots from area->index; >= PAGE_SIZE is page-aligned; unmap renumbers', async () => {
    const { s, dev, orig } = await setup('swiotlb=1024');
    expect(slotOf(s, s.swiotlb_tbl_map_single(dev, orig, 100, 0, 0))).toBe(0);
    expect(slotOf(s, s.swiotlb_tbl_map_single(dev, orig + 100, 1500, 0, 0))).toBe(1);
    expect(slotOf(s, s.swiotlb_tbl_map_single(dev, orig, 2048, 0, 0))).toBe(2); // 2 KiB: no page alignment, slot 2
    const b3000 = s.swiotlb_tbl_map_single(dev, orig, 3000, 0, 0);
    expect(slotOf(s, b3000)).toBe(3); // 2 slots, 3-4: below PAGE_SIZE, an odd start is fine
    const b4096 = s.swiotlb_tbl_map_single(dev, orig, 4096, 0, 0);
    expect(slotOf(s, b4096)).toBe(6); // page-aligned: slot 5 is skipped (index + 1), 6-7 taken
    expect(b4096 % 4096).toBe(0);
    const b2000 = s.swiotlb_tbl_map_single(dev, orig, 2000, 0, 0);
    expect(slotOf(s, b2000)).toBe(8); // from area->index = 8, not back to the hole at 5

    expect(list(s, 0, 10)).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0, 119]); // slot 5 renumbered to 1
    expect(s.listAt(127)).toBe(1);
    expect(s.listAt(128)).toBe(128);
    expect(s.totalUsed).toBe(8);
    expect(s.usedHiwater).toBe(8);
    expect([s.origAddr[3], s.origAddr[4], s.origAddr[5]]).toEqual([orig, orig + SLOT, INVALID]);
    expect([s.allocSize[3], s.allocSize[4]]).toEqual([3000, 3000 - SLOT]);
    expect([s.allocSize[6], s.allocSize[7]]).toEqual([4096, 2048]);

    s.swiotlb_tbl_unmap_single(dev, b4096, 4096, DMA_TO_DEVICE, 0);
    expect(list(s, 4, 10)).toEqual([0, 3, 2, 1, 0, 119]); // merged with slot 5 before it
    expect([s.origAddr[6], s.allocSize[6], s.origAddr[7]]).toEqual([INVALID, 0, INVALID]);
    s.swiotlb_tbl_unmap_single(dev, b2000, 2000, DMA_TO_DEVICE, 0);
    expect(list(s, 4, 10)).toEqual([0, 123, 122, 121, 120, 119]); // merged with what follows
    expect(s.totalUsed).toBe(5);
    expect(s.usedHiwater).toBe(8);
  });

  it('a buffer never crosses a 128-slot segment', async () => {
    const { s, dev, orig } = await setup('swiotlb=1024');
    for (let i = 0; i < 126; i++) expect(slotOf(s, s.swiotlb_tbl_map_single(dev, orig, 1, 0, 0))).toBe(i);
    // 3 slots with alloc_align_mask 0x7ff (stride 1): 126 and 127 are too short, 128 fits.
    expect(slotOf(s, s.swiotlb_tbl_map_single(dev, orig, 5000, 0x7ff, 0))).toBe(128);
    expect(list(s, 126, 128)).toEqual([2, 1]);
    // 128 slots (256 KiB, the largest bounce) only fit a whole free segment: 131..255 is short.
    expect(slotOf(s, s.swiotlb_tbl_map_single(dev, orig, 256 * 1024, 0, 0))).toBe(256);
    expect([s.listAt(131), s.listAt(255)]).toEqual([125, 1]);
    expect(list(s, 384, 386)).toEqual([128, 127]);
  });

  it('min_align_mask 0xfff: the low 12 bits of the original survive, by slot choice and by pad slots', async () => {
    const { m, s, orig } = await setup('swiotlb=1024');
    const a = m.createDevice({ name: '0000:07:00.0', driver: 'slots' });
    const nvme = m.createDevice({ name: '0000:08:00.0', driver: 'nvme', minAlignMask: 0xfff });
    expect(slotOf(s, s.swiotlb_tbl_map_single(a, orig, 1, 0, 0))).toBe(0);

    // alloc_align_mask 0: offset = 0xa34 & 0x7ff = 0x234, iotlb_align_mask = 0x800 (stride 2):
    // the slot's bit 11 must equal the original's.
    const t1 = s.swiotlb_tbl_map_single(nvme, orig + 0xa34, 1000, 0, 0);
    expect(slotOf(s, t1)).toBe(1);
    expect(t1 & 0xfff).toBe(0xa34);
    expect(s.allocSize[1]).toBe(1000); // size 1000 + 0x234 minus offset0 0x234
    const t2 = s.swiotlb_tbl_map_single(nvme, orig + 0x234, 1000, 0, 0);
    expect(slotOf(s, t2)).toBe(2);
    expect(t2 & 0xfff).toBe(0x234);
    expect(slotOf(s, s.swiotlb_tbl_map_single(nvme, orig + 0x234, 1000, 0, 0))).toBe(4); // slot 3 has bit 11 set
    expect(s.listAt(3)).toBe(1);

    // alloc_align_mask 0xfff (the IOMMU path's): offset = 0xa34 -> pad_slots 1, offset 0x234,
    // size ALIGN(1000 + 0xa34, 4096) = 4096, page-aligned run 6-7, data in slot 7.
    const t3 = s.swiotlb_tbl_map_single(nvme, orig + 0xa34, 1000, 0xfff, 0);
    expect(slotOf(s, t3)).toBe(7);
    expect(t3 & 0xfff).toBe(0xa34);
    expect(s.padSlots[7]).toBe(1);
    expect([s.origAddr[6], s.origAddr[7]]).toEqual([INVALID, orig + 0xa34]);
    expect([s.allocSize[6], s.allocSize[7]]).toEqual([4096 - 0x234, 4096 - 0x234 - SLOT]);
    expect(list(s, 5, 9)).toEqual([1, 0, 0, 120]);
    expect(s.totalUsed).toBe(6);

    s.swiotlb_tbl_unmap_single(nvme, t3, 1000, DMA_TO_DEVICE, 0); // index - pad_slots: both slots come back
    expect(list(s, 5, 9)).toEqual([123, 122, 121, 120]);
    expect(s.padSlots[7]).toBe(0);
    expect(s.totalUsed).toBe(4);
  });

  it('area->index wraps to 0 after the last slot of the area', async () => {
    const { s, dev, orig } = await setup('swiotlb=512');
    const t: number[] = [];
    for (let i = 0; i < 510; i++) t.push(s.swiotlb_tbl_map_single(dev, orig, 100, 0, 0));
    s.swiotlb_tbl_unmap_single(dev, t[5] as number, 100, DMA_TO_DEVICE, 0);
    expect(slotOf(s, s.swiotlb_tbl_map_single(dev, orig, 3000, 0, 0))).toBe(510); // 510-511, index -> 512 -> 0
    expect(slotOf(s, s.swiotlb_tbl_map_single(dev, orig, 100, 0, 0))).toBe(5);
    expect(s.totalUsed).toBe(512);
  });

  it('wrap_area_index() returns 0, so a stride-2 scan wrapping past the end costs index checks', async () => {
    // Pool of 512 slots, all used but slot 9, area->index = 10. An nvme device (min_align_mask
    // 0xfff, stride 2, needs an odd slot for an original with bit 11 set) scans 10 (wrong bit,
    // +1), 11, 13, ..., 511 (used, +2 each): slots_checked = 503 and the index wraps to 0, not 1.
    // 0 costs one more check (504), then 1, 3, 5, 7 reach 512 before slot 9 is looked at:
    // the kernel reports the pool full although slot 9 would do.
    const { m, s, dev, orig } = await setup('swiotlb=512');
    const nvme = m.createDevice({ name: '0000:08:00.0', driver: 'nvme', minAlignMask: 0xfff });
    const t: number[] = [];
    for (let i = 0; i < 512; i++) t.push(s.swiotlb_tbl_map_single(dev, orig, 100, 0, 0));
    for (let i = 0; i < 10; i++) s.swiotlb_tbl_unmap_single(dev, t[i] as number, 100, DMA_TO_DEVICE, 0);
    for (let i = 0; i < 10; i++) t[i] = s.swiotlb_tbl_map_single(dev, orig, 100, 0, 0);
    expect(slotOf(s, t[9] as number)).toBe(9);
    s.swiotlb_tbl_unmap_single(dev, t[9] as number, 100, DMA_TO_DEVICE, 0);
    expect(s.totalUsed).toBe(511);

    const got = s.swiotlb_tbl_map_single(nvme, orig + 0x800, 16, 0, 0);
    expect(got).toBe(DMA_MAPPING_ERROR);
    expect(m.dmesg()).toContain('nvme 0000:08:00.0: swiotlb buffer is full (sz: 16 bytes), total 512 (slots), used 511 (slots)');
  });

  it('swiotlb=512,2: CPU 0 searches area 0 first, then area 1', async () => {
    const { s, dev, orig } = await setup('swiotlb=512,2');
    expect(s.nareas).toBe(2);
    expect(s.areaNslabs).toBe(256);
    const big1 = s.swiotlb_tbl_map_single(dev, orig, 256 * 1024, 0, 0);
    const big2 = s.swiotlb_tbl_map_single(dev, orig, 256 * 1024, 0, 0);
    expect([slotOf(s, big1), slotOf(s, big2)]).toEqual([0, 128]); // area 0 is full
    const small = s.swiotlb_tbl_map_single(dev, orig, 1500, 0, 0);
    expect(slotOf(s, small)).toBe(256); // nslots > area_nslabs - used: straight to area 1
    expect(s.listAt(257)).toBe(127);
    s.swiotlb_tbl_unmap_single(dev, big1, 256 * 1024, DMA_TO_DEVICE, 0);
    expect(slotOf(s, s.swiotlb_tbl_map_single(dev, orig, 1500, 0, 0))).toBe(0); // area 0 again, its index wrapped to 0
    expect(slotOf(s, s.swiotlb_tbl_map_single(dev, orig, 1500, 0, 0))).toBe(1);
    expect(s.totalUsed).toBe(128 + 3);
  });
});
