// kernel/dma/swiotlb.c swiotlb_release_slots() (read in Diangang/linux @2e25d8a2, a v7.1-rc1
// tree): the kernel trusts tlb_addr. index = (tlb_addr - offset - start) >> IO_TLB_SHIFT,
// index -= slots[index].pad_slots, nslots = nr_slots(slots[index].alloc_size + offset); then
// area->used -= nslots and dec_used(). There is no check that the address starts a live
// bounce buffer and no message: a released slot has alloc_size 0, so a second release frees
// nr_slots(0) = 0 slots; an address inside a run frees the slots from there to the run's end.
// A stale address whose offset is larger than the new owner's can free one slot past the run:
// across the segment's end, where the loop writes `list` numbers the free slots do not give
// (count starts at 0 past the segment), and the next search trusts them.
import { describe, expect, it } from 'vitest';
import { createMachine, DMA_TO_DEVICE, GFP_KERNEL } from '../../src/index.js';

const USED = '/sys/kernel/debug/swiotlb/io_tlb_used';

async function pool() {
  const m = await createMachine({ cmdline: 'swiotlb=512', seed: 41 });
  const s = m.swiotlb;
  if (s === null) throw new Error('no pool');
  const dev = m.createDevice({ name: '0000:0c:00.0', driver: 'rel' });
  const orig = m.virt_to_phys(m.kmalloc(8192, GFP_KERNEL));
  return { m, s, dev, orig };
}

describe('swiotlb_release_slots() trusts the address it is given', () => {
  it('a second unmap of the same bounce buffer frees nothing and prints nothing', async () => {
    const { m, s, dev, orig } = await pool();
    const a = s.swiotlb_tbl_map_single(dev, orig, 100, 0, 0);
    const b = s.swiotlb_tbl_map_single(dev, orig, 100, 0, 0);
    expect(m.debugfs.read(USED)).toBe('2\n');
    s.swiotlb_tbl_unmap_single(dev, a, 100, DMA_TO_DEVICE, 0);
    expect(m.debugfs.read(USED)).toBe('1\n');
    const before = m.dmesg().join("\n");
    s.swiotlb_tbl_unmap_single(dev, a, 100, DMA_TO_DEVICE, 0);
    expect(m.debugfs.read(USED)).toBe('1\n');
    expect(m.dmesg().join("\n")).toBe(before);
    s.swiotlb_tbl_unmap_single(dev, b, 100, DMA_TO_DEVICE, 0);
    expect(m.debugfs.read(USED)).toBe('0\n');
  });

  it('unmapping the second slot of a two-slot bounce frees that slot: io_tlb_used 2 -> 1', async () => {
    const { m, s, dev, orig } = await pool();
    const a = s.swiotlb_tbl_map_single(dev, orig, 4096, 0, 0); // 2 slots of 2 KiB
    expect(m.debugfs.read(USED)).toBe('2\n');
    const before = m.dmesg().join("\n");
    s.swiotlb_tbl_unmap_single(dev, a + 2048, 2048, DMA_TO_DEVICE, 0);
    expect(m.debugfs.read(USED)).toBe('1\n');
    expect(m.dmesg().join("\n")).toBe(before);
    // In the slot table the second slot is free again (list merges it with the free run after
    // it) while the first stays taken.
    const idx = (a - s.start) / 2048;
    expect(s.listAt(idx)).toBe(0);
    expect(s.listAt(idx + 1)).toBe(s.listAt(idx + 2) + 1);
  });

  it('a stale address that frees past the segment end leaves the kernel\'s numbers, and a run across the segments is found', async () => {
    const { m, s, dev, orig } = await pool(); // 512 slots: segments 0-127, 128-255, ...
    const nvme = m.createDevice({ name: '0000:0d:00.0', driver: 'nvme', minAlignMask: 0x7ff });
    const slot = (tlb: number) => Math.floor((tlb - s.start) / 2048);
    expect(slot(s.swiotlb_tbl_map_single(nvme, orig + 0x400, 127 * 2048 - 0x400, 0, 0))).toBe(0); // slots 0-126
    const z = s.swiotlb_tbl_map_single(nvme, orig + 0x700, 100, 0, 0); // offset 0x700: slot 127
    expect(slot(z)).toBe(127);
    s.swiotlb_tbl_unmap_single(nvme, z, 100, DMA_TO_DEVICE, 0);
    for (const first of [128, 256, 384]) expect(slot(s.swiotlb_tbl_map_single(dev, orig, 128 * 2048, 0, 0))).toBe(first);
    expect(slot(s.swiotlb_tbl_map_single(dev, orig, 2048, 0, 0))).toBe(127); // area->index wrapped to 0
    // The stale z: offset 0x700, alloc_size 2048 of the new owner: nr_slots(2048 + 0x700) = 2.
    s.swiotlb_tbl_unmap_single(nvme, z, 100, DMA_TO_DEVICE, 0);
    expect([126, 127, 128, 129].map((i) => s.listAt(i))).toEqual([0, 2, 1, 0]);
    expect(m.debugfs.read(USED)).toBe(`${127 + 3 * 128 + 1 - 2}\n`);
    // A 2-slot buffer (under PAGE_SIZE, so no page alignment) takes 127-128, across the segments.
    expect(slot(s.swiotlb_tbl_map_single(dev, orig, 4095, 0, 0))).toBe(127);
    expect([127, 128].map((i) => s.listAt(i))).toEqual([0, 0]);
  });
});
