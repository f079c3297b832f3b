// kernel/dma/swiotlb.c swiotlb_tbl_map_single(): when swiotlb_find_slots() fails,
//   if (!(attrs & DMA_ATTR_NO_WARN))
//     dev_warn_ratelimited(dev, "swiotlb buffer is full (sz: %zd bytes), total %lu (slots), used %lu (slots)\n",
//                          size, mem->nslabs, mem_used(mem));
//   return (phys_addr_t)DMA_MAPPING_ERROR;
// `size` is the padded, aligned size (ALIGN(mapping_size + offset, alloc_align_mask + 1)), and
// mem_used() is the exact total_used with CONFIG_DEBUG_FS. dev_warn_ratelimited uses
// DEFAULT_RATELIMIT_BURST (10) per call site. A run must be contiguous inside one 128-slot
// segment (`slots[i].list >= nslots`), so a fragmented pool fails with free slots left, and more
// than 128 slots (256 KiB) never fits (KERNEL.md §9 item 11).
import { describe, expect, it } from 'vitest';
import {
  createMachine, DMA_ATTR_NO_WARN, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE, dma_map_single,
  dma_mapping_error, dma_max_mapping_size, ENOMEM, GFP_KERNEL,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';
import type { Swiotlb } from '../../src/dma/swiotlb.js';

async function setup(): Promise<{ m: Machine; s: Swiotlb; dev: Device; orig: number }> {
  const m = await createMachine({ cmdline: 'swiotlb=512', seed: 23 });
  const s = m.swiotlb;
  if (s === null) throw new Error('no swiotlb pool');
  const dev = m.createDevice({ name: '0000:09:00.0', driver: 'fullnic' }); // 32-bit mask by default
  const page = m.alloc_pages(GFP_KERNEL, 8);
  if (page === null) throw new Error('alloc_pages');
  return { m, s, dev, orig: m.page_to_phys(page) };
}

function fullLines(m: Machine): string[] {
  return m.dmesg().filter((l) => l.includes('swiotlb buffer is full'));
}

describe('swiotlb full', () => {
  it('a full pool: DMA_MAPPING_ERROR, -ENOMEM and the exact dev_warn_ratelimited line', async () => {
    const { m, s, dev, orig } = await setup();
    for (let i = 0; i < 4; i++) expect(s.swiotlb_tbl_map_single(dev, orig, 256 * 1024, 0, 0)).not.toBe(DMA_MAPPING_ERROR);
    expect(s.totalUsed).toBe(512);
    const buf = m.kmalloc(1500, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 1500, DMA_TO_DEVICE);
    expect(h).toBe(DMA_MAPPING_ERROR);
    expect(dma_mapping_error(dev, h)).toBe(-ENOMEM);
    expect(fullLines(m)).toEqual(['fullnic 0000:09:00.0: swiotlb buffer is full (sz: 1500 bytes), total 512 (slots), used 512 (slots)']);
    expect(s.totalUsed).toBe(512);
  });

  it('DMA_ATTR_NO_WARN suppresses the line; the ratelimit lets 10 through', async () => {
    const { m, s, dev, orig } = await setup();
    for (let i = 0; i < 4; i++) s.swiotlb_tbl_map_single(dev, orig, 256 * 1024, 0, 0);
    const buf = m.kmalloc(1500, GFP_KERNEL);
    expect(dma_map_single(dev, buf, 1500, DMA_FROM_DEVICE, DMA_ATTR_NO_WARN)).toBe(DMA_MAPPING_ERROR);
    expect(fullLines(m)).toEqual([]);
    for (let i = 0; i < 12; i++) expect(dma_map_single(dev, buf, 1500, DMA_FROM_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(fullLines(m)).toHaveLength(10);
  });

  it('the line reports the padded size, not mapping_size', async () => {
    const { m, s, orig } = await setup();
    const nvme = m.createDevice({ name: '0000:0a:00.0', driver: 'nvme', minAlignMask: 0xfff });
    for (let i = 0; i < 4; i++) expect(s.swiotlb_tbl_map_single(nvme, orig, 256 * 1024, 0, 0)).not.toBe(DMA_MAPPING_ERROR);
    expect(s.swiotlb_tbl_map_single(nvme, orig + 0x234, 1500, 0, 0)).toBe(DMA_MAPPING_ERROR); // 1500 + 0x234
    expect(s.swiotlb_tbl_map_single(nvme, orig + 0xa34, 1500, 0xfff, 0)).toBe(DMA_MAPPING_ERROR); // ALIGN(1500 + 0xa34, 4096)
    expect(fullLines(m)).toEqual([
      'nvme 0000:0a:00.0: swiotlb buffer is full (sz: 2064 bytes), total 512 (slots), used 512 (slots)',
      'nvme 0000:0a:00.0: swiotlb buffer is full (sz: 8192 bytes), total 512 (slots), used 512 (slots)',
    ]);
  });

  it('fragmentation: half the slots free in alternating singles, a 2-slot buffer does not fit', async () => {
    const { m, s, dev, orig } = await setup();
    const t: number[] = [];
    for (let i = 0; i < 512; i++) t.push(s.swiotlb_tbl_map_single(dev, orig, 100, 0, 0));
    for (let i = 0; i < 512; i += 2) s.swiotlb_tbl_unmap_single(dev, t[i] as number, 100, DMA_TO_DEVICE, 0);
    expect(s.totalUsed).toBe(256);
    expect(Array.from({ length: 6 }, (_, i) => s.listAt(i))).toEqual([1, 0, 1, 0, 1, 0]);
    expect(s.swiotlb_tbl_map_single(dev, orig, 3000, 0, 0)).toBe(DMA_MAPPING_ERROR);
    expect(fullLines(m)).toEqual(['fullnic 0000:09:00.0: swiotlb buffer is full (sz: 3000 bytes), total 512 (slots), used 256 (slots)']);
    expect(s.swiotlb_tbl_map_single(dev, orig, 2048, 0, 0)).not.toBe(DMA_MAPPING_ERROR); // one slot still fits
    expect(s.totalUsed).toBe(257);
  });

  it('more than 128 slots (a 300 KiB mapping) fails even on an empty pool', async () => {
    const { m, s, dev } = await setup();
    expect(dma_max_mapping_size(dev)).toBe(262144);
    const buf = m.kmalloc(300 * 1024, GFP_KERNEL);
    expect(m.virt_to_phys(buf)).toBeGreaterThanOrEqual(2 ** 32);
    expect(dma_map_single(dev, buf, 300 * 1024, DMA_FROM_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(fullLines(m)).toEqual(['fullnic 0000:09:00.0: swiotlb buffer is full (sz: 307200 bytes), total 512 (slots), used 0 (slots)']);
    expect(s.totalUsed).toBe(0);
    expect(s.usedHiwater).toBe(0);
  });
});
