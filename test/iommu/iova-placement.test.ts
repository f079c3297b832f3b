// IOVA placement worked by hand from drivers/iommu/iova.c (mainline rbtree allocator) and
// include/linux/iova.h, granule 4 KiB, so dma_32bit_pfn = 1 << (32 - 12) = 0x100000:
//   alloc_iova(size, limit_pfn, aligned)   -> __alloc_and_insert_iova_range(size, limit_pfn + 1)
//   align = 1 << fls_long(size - 1) when aligned (roundup_pow_of_two(size)), else 1
//   fast fail: limit <= dma_32bit_pfn && size >= max32_alloc_size
//   start at cached32_node (limit <= dma_32bit_pfn) or cached_node (above); both start as the
//   anchor (pfn ~0UL); walk backwards: high = min(high, curr->pfn_lo),
//   new = (high - size) & ~(align - 1), step to rb_prev while new <= its pfn_hi and new >= low
//   failure below the cached node: retry once from iova_find_limit(limit) with high = limit and
//   low = cached->pfn_hi + 1; failing that, max32_alloc_size = size
//   insert: cached32_node = new if new->pfn_hi < dma_32bit_pfn, else cached_node = new
//   free: cached32_node moves to rb_next(free) if free is it, or is below 4 GiB and at or above
//   it; cached_node moves if free is at or above it; a free below 4 GiB resets max32_alloc_size
//   alloc_iova_fast(): sizes below 32 rounded up to a power of two, always size-aligned
import { describe, expect, it } from 'vitest';
import { KernelBug } from '../../src/lib/errors.js';
import {
  IOVA_ANCHOR, IovaDomain, iova_align, iova_align_down, iova_dma_addr, iova_mask, iova_offset, iova_pfn,
  iova_rcache_range, iova_shift, iova_size,
} from '../../src/iommu/iova.js';
import type { Site } from '../../src/lib/printk.js';

const LIMIT32 = 0xf_ffff; // DMA_BIT_MASK(32) >> 12
const LIMIT64 = 2 ** 52 - 1; // DMA_BIT_MASK(64) >> 12

function fresh(start_pfn = 1): IovaDomain {
  return new IovaDomain(4096, start_pfn);
}

describe('IOVA placement', () => {
  it('starts at the anchor, allocates top-down below 4 GiB, rounds and aligns fast sizes', () => {
    const d = fresh();
    expect(d.dma_32bit_pfn).toBe(0x10_0000);
    expect(d.max32_alloc_size).toBe(0x10_0000);
    expect(d.pfn_lo(d.cached_node)).toBe(IOVA_ANCHOR);
    expect(d.pfn_lo(d.cached32_node)).toBe(IOVA_ANCHOR);
    // high = min(0x100000, anchor) = 0x100000; new = 0x100000 - 1 = 0xfffff; rb_prev(anchor) is NULL.
    expect(d.alloc_iova_fast(1, LIMIT32, true)).toBe(0xf_ffff);
    // From cached32 = [0xfffff]: high = 0xfffff; new = (0xfffff - 2) & ~1 = 0xffffc (0xffffe stays free).
    expect(d.alloc_iova_fast(2, LIMIT32, true)).toBe(0xf_fffc);
    // 3 -> 4: high = 0xffffc; new = (0xffffc - 4) & ~3 = 0xffff8.
    expect(d.alloc_iova_fast(3, LIMIT32, true)).toBe(0xf_fff8);
    expect(d.ranges()).toEqual([0xf_fff8, 0xf_fffb, 0xf_fffc, 0xf_fffd, 0xf_ffff, 0xf_ffff]);
    // The walk goes on down from the cached node, not back to the hole at 0xffffe.
    expect(d.alloc_iova_fast(1, LIMIT32, true)).toBe(0xf_fff7);
    expect(d.pfn_lo(d.cached32_node)).toBe(0xf_fff7);
    // A 64-bit limit starts from cached_node (still the anchor): high = 2^52, new = 2^52 - 1.
    expect(d.alloc_iova_fast(1, LIMIT64, true)).toBe(2 ** 52 - 1);
    expect(d.pfn_lo(d.cached_node)).toBe(2 ** 52 - 1);
    expect(d.pfn_lo(d.cached32_node)).toBe(0xf_fff7);
    // From cached_node: high = 2^52 - 1; new = (2^52 - 1 - 8) & ~7 = 2^52 - 16.
    expect(d.alloc_iova_fast(8, LIMIT64, true)).toBe(2 ** 52 - 16);
    expect(d.stats.treeAllocs).toBe(6);
  });

  it('alloc_iova() aligns without rounding the size, and only when asked', () => {
    const d = fresh();
    // size 3, align 1 << fls_long(2) = 4: new = (0x100000 - 3) & ~3 = 0xffffc; pfn_hi = 0xffffe.
    const a = d.alloc_iova(3, LIMIT32, true);
    expect([d.pfn_lo(a), d.pfn_hi(a), iova_size(d, a)]).toEqual([0xf_fffc, 0xf_fffe, 3]);
    // Unaligned: high = 0xffffc, new = 0xffffc - 3 = 0xffff9.
    const b = d.alloc_iova(3, LIMIT32, false);
    expect([d.pfn_lo(b), d.pfn_hi(b)]).toEqual([0xf_fff9, 0xf_fffb]);
    // size 5, align 1 << fls_long(4) = 8: new = (0xffff9 - 5) & ~7 = 0xffff4 & ~7 = 0xffff0.
    const c = d.alloc_iova(5, LIMIT32, true);
    expect([d.pfn_lo(c), d.pfn_hi(c)]).toEqual([0xf_fff0, 0xf_fff4]);
    expect(iova_dma_addr(d, c)).toBe(0xffff_0000);
    expect(d.find_iova(0xf_fff3)).toBe(c);
    expect(d.find_iova(0xf_fff5)).toBe(0); // between c and b: free
  });

  it('retries above the cached node, fails fast on max32_alloc_size, and a free resets it', () => {
    const d = fresh(0xf_fff0); // 16 pfns below 4 GiB: 0xffff0..0xfffff
    // [0xffffc, 0xfffff]
    expect(d.pfn_lo(d.alloc_iova(4, LIMIT32, true))).toBe(0xf_fffc);
    // A lower limit: limit 0xffff4, high = min(0xffff4, 0xffffc); new = 0xffff3; cached32 = it.
    const b = d.alloc_iova(1, 0xf_fff3, true);
    expect(d.pfn_lo(b)).toBe(0xf_fff3);
    // From cached32 = [0xffff3]: new = (0xffff3 - 4) & ~3 = 0xfffec < start_pfn 0xffff0: fails.
    // retry_pfn 0xffff3 < limit 0x100000: from iova_find_limit(0x100000) = anchor, low 0xffff4:
    // new = 0xffffc overlaps [0xffffc]; high = 0xffffc, new = 0xffff8 > pfn_hi 0xffff3 of b.
    expect(d.pfn_lo(d.alloc_iova(4, LIMIT32, true))).toBe(0xf_fff8);
    // From cached32 = [0xffff8]: new = 0xffff4 > 0xffff3, found on the first pass.
    expect(d.pfn_lo(d.alloc_iova(4, LIMIT32, true))).toBe(0xf_fff4);
    // From [0xffff4]: 0xffff0 overlaps b, then (0xffff3 - 4) & ~3 = 0xfffec < 0xffff0; retry from the
    // anchor with low 0xffff8 finds 0xffffc, 0xffff8, 0xffff4 taken: -ENOMEM, max32_alloc_size = 4.
    expect(d.alloc_iova(4, LIMIT32, true)).toBe(0);
    expect(d.max32_alloc_size).toBe(4);
    // size 8 >= 4 fails before any walk (a walk would have set max32_alloc_size to 8).
    expect(d.alloc_iova(8, LIMIT32, true)).toBe(0);
    expect(d.max32_alloc_size).toBe(4);
    // size 2 < 4 walks: from [0xffff4] new = 0xffff2 overlaps b; high = 0xffff3, new = 0xffff0.
    expect(d.pfn_lo(d.alloc_iova(2, LIMIT32, true))).toBe(0xf_fff0);
    // Above 4 GiB max32_alloc_size does not apply: from cached_node (the anchor), limit 0x100004,
    // new = 0x100000 > 0xfffff.
    const high = d.alloc_iova(4, 0x10_0003, true);
    expect(d.pfn_lo(high)).toBe(0x10_0000);
    expect(d.cached_node).toBe(high);
    // Freeing b (below 4 GiB) resets max32_alloc_size; cached32 [0xffff0] <= b, so it moves to
    // rb_next(b) = [0xffff4], and the next walk finds b's hole: high 0xffff4, new 0xffff3.
    d.free_iova(0xf_fff3);
    expect(d.max32_alloc_size).toBe(0x10_0000);
    expect(d.pfn_lo(d.cached32_node)).toBe(0xf_fff4);
    expect(d.pfn_lo(d.alloc_iova(1, LIMIT32, true))).toBe(0xf_fff3);
  });

  it('never hands out pfn 0 or anything below start_pfn', () => {
    const d = fresh(1);
    // limit 3 -> 4: new = (4 - 2) & ~1 = 2.
    expect(d.alloc_iova_fast(2, 3, false)).toBe(2);
    // From [2, 3]: new = 0 < start_pfn 1; the retry (low 4) finds nothing: 0, max32_alloc_size 2.
    expect(d.alloc_iova_fast(2, 3, false)).toBe(0);
    expect(d.max32_alloc_size).toBe(2);
    // 1 < 2: from [2, 3], new = 1.
    expect(d.alloc_iova_fast(1, 3, false)).toBe(1);
    // From [1]: new = 0 < 1; retry with low 2 from the anchor: 3 and then 1 overlap. Nothing left.
    expect(d.alloc_iova_fast(1, 3, false)).toBe(0);
    expect(d.ranges()).toEqual([1, 1, 2, 3]);

    const e = fresh(0x100);
    // limit 0x200: new = (0x200 - 0x100) & ~0xff = 0x100 = start_pfn, exactly.
    expect(e.pfn_lo(e.alloc_iova(0x100, 0x1ff, true))).toBe(0x100);
    expect(e.alloc_iova(1, 0x1ff, true)).toBe(0);
  });

  it('skips reserved ranges, merges overlapping reservations as the kernel does', () => {
    const d = fresh();
    // An MSI doorbell window at 0xffff0000..0xffffffff.
    const msi = d.reserve_iova(0xf_fff0, 0xf_ffff);
    expect([d.pfn_lo(msi), d.pfn_hi(msi)]).toEqual([0xf_fff0, 0xf_ffff]);
    expect(d.pfn_lo(d.cached32_node)).toBe(IOVA_ANCHOR); // reservations leave the cached nodes alone
    // From the anchor: new = 0xfffff overlaps the window; high = 0xffff0, new = 0xfffef.
    expect(d.alloc_iova_fast(1, LIMIT32, true)).toBe(0xf_ffef);
    // From [0xfffef]: new = (0xfffef - 16) & ~15 = 0xfffd0.
    expect(d.alloc_iova_fast(16, LIMIT32, true)).toBe(0xf_ffd0);
    d.reserve_iova(0xf_ffc0, 0xf_ffcf);
    // From [0xfffd0]: new = 0xfffc0 overlaps the reservation; high = 0xfffc0, new = 0xfffb0.
    expect(d.alloc_iova_fast(16, LIMIT32, true)).toBe(0xf_ffb0);

    const r = fresh();
    const warnings: Site[] = [];
    r.onWarn = (site) => warnings.push(site);
    const first = r.reserve_iova(0x10, 0x1f);
    // Overlaps [0x10, 0x1f]: pfn_lo becomes 0x20; only [0x20, 0x2f] is new.
    const second = r.reserve_iova(0x18, 0x2f);
    expect(r.ranges()).toEqual([0x10, 0x1f, 0x20, 0x2f]);
    // Starts below [0x10, 0x1f] and ends inside it: that node grows down to 0x8, nothing is added.
    expect(r.reserve_iova(0x8, 0x12)).toBe(first);
    // Inside [0x20, 0x2f]: that node is returned as is.
    expect(r.reserve_iova(0x22, 0x24)).toBe(second);
    expect(r.ranges()).toEqual([0x8, 0x1f, 0x20, 0x2f]);
    // pfns above ULLONG_MAX >> 12 are nonsensical: WARN_ON, NULL.
    expect(r.reserve_iova(2 ** 52, 2 ** 52)).toBe(0);
    expect(r.stats.warnings).toBe(1);
    expect(warnings).toEqual([{ file: 'drivers/iommu/iova.c', line: null, fn: 'reserve_iova' }]);
  });

  it('ignores frees of what is not allocated, and frees a range by any pfn inside it', () => {
    const d = fresh();
    const a = d.alloc_iova(4, LIMIT32, true); // [0xffffc, 0xfffff]
    d.alloc_iova(1, LIMIT32, true); // [0xffffb]
    const before = { ranges: d.ranges(), c32: d.cached32_node, c: d.cached_node, m: d.max32_alloc_size };
    d.free_iova(0x1234); // in no iova
    d.free_iova(IOVA_ANCHOR); // the anchor is not an allocation
    d.free_iova(Number.NaN);
    d.__free_iova(0);
    d.__free_iova(999); // never handed out
    expect({ ranges: d.ranges(), c32: d.cached32_node, c: d.cached_node, m: d.max32_alloc_size }).toEqual(before);
    d.free_iova(0xf_fffe);
    expect(d.ranges()).toEqual([0xf_fffb, 0xf_fffb]);
    d.__free_iova(a); // stale: already freed
    expect(d.ranges()).toEqual([0xf_fffb, 0xf_fffb]);
    expect(d.stats.treeFrees).toBe(1);
  });

  it('has the iova.h inlines and refuses a granule the kernel BUG()s on', () => {
    const d = fresh();
    expect(iova_shift(d)).toBe(12);
    expect(iova_mask(d)).toBe(0xfff);
    expect(iova_offset(d, 0x1_2345_6789)).toBe(0x789);
    expect(iova_align(d, 0x1001)).toBe(0x2000);
    expect(iova_align(d, 0x2000)).toBe(0x2000);
    expect(iova_align(d, 2 ** 40 + 1)).toBe(2 ** 40 + 4096);
    expect(iova_align_down(d, 0x1_0000_1fff)).toBe(0x1_0000_1000);
    expect(iova_pfn(d, 0x1_2345_6789)).toBe(0x12_3456);
    expect(iova_rcache_range()).toBe(128 * 1024);
    const small = new IovaDomain(512, 1);
    expect(iova_shift(small)).toBe(9);
    expect(small.dma_32bit_pfn).toBe(1 << 23);
    expect(() => new IovaDomain(8192, 1)).toThrow(KernelBug);
    expect(() => new IovaDomain(3000, 1)).toThrow(KernelBug);
  });
});
