// mm/page_alloc.c: the buddy allocator splits and merges as the kernel does, falls back through
// the zonelist, reports failures with warn_alloc(), and reports bad frees without changing state.
import { describe, expect, it } from 'vitest';
import {
  __GFP_COMP, __GFP_HIGHMEM, __GFP_NOWARN, __GFP_ZERO, formatGfp, GFP_ATOMIC, GFP_DMA, GFP_DMA32,
  GFP_KERNEL, GFP_NOWAIT, GFP_VALID_MASK, gfp_zone, gfpflags_allow_blocking, ZONE_DMA, ZONE_DMA32,
  ZONE_NORMAL, type ZoneId,
} from '../../src/mm/gfp.js';
import { Memblock } from '../../src/mm/memblock.js';
import { PAGE_SIZE } from '../../src/mm/memory.js';
import { MAX_PAGE_ORDER, PageAllocator } from '../../src/mm/page_alloc.js';
import { KernelLog } from '../../src/lib/printk.js';
import { warning } from '../support/warn.js';

/**
 * 12 MiB of RAM from 0: ZONE_DMA is the first 4 MiB (its first 64 KiB reserved, like a kernel
 * image), ZONE_DMA32 the next 4 MiB and ZONE_NORMAL the last 4 MiB: one order-10 block each.
 */
function setup(): { pa: PageAllocator; log: KernelLog } {
  const log = new KernelLog();
  const mb = new Memblock([{ base: 0, size: 0xc00 * PAGE_SIZE }]);
  mb.reserve(0, 0x10 * PAGE_SIZE);
  const zones = [
    { id: ZONE_DMA, startPfn: 0x000, endPfn: 0x400 },
    { id: ZONE_DMA32, startPfn: 0x400, endPfn: 0x800 },
    { id: ZONE_NORMAL, startPfn: 0x800, endPfn: 0xc00 },
  ];
  return { pa: new PageAllocator({ zones, log, freeRanges: mb.freeRanges() }), log };
}

/** Everything observable about the free lists, to show a bad free changed nothing. */
function snapshot(pa: PageAllocator): string {
  const parts: string[] = [];
  for (const z of [ZONE_DMA, ZONE_DMA32, ZONE_NORMAL] as ZoneId[]) {
    for (let o = 0; o <= MAX_PAGE_ORDER; o++) parts.push(`${z}/${o}:${pa.freeList(z, o).join(',')}`);
    parts.push(`free${z}=${pa.nrFree(z)}`);
  }
  return parts.join(' ');
}

describe('gfp flags', () => {
  it('have the values of include/linux/gfp_types.h', () => {
    expect(GFP_KERNEL).toBe(0xcc0);
    expect(GFP_ATOMIC).toBe(0x820);
    expect(GFP_NOWAIT).toBe(0x2800);
    expect(__GFP_ZERO).toBe(0x100);
    expect(__GFP_NOWARN).toBe(0x2000);
    expect(__GFP_COMP).toBe(0x40000);
    expect(GFP_VALID_MASK & 0x200).toBe(0);
    expect(gfpflags_allow_blocking(GFP_KERNEL)).toBe(true);
    expect(gfpflags_allow_blocking(GFP_ATOMIC)).toBe(false);
  });

  it('select zones as gfp_zone() does on a 64-bit kernel', () => {
    expect(gfp_zone(GFP_KERNEL | GFP_DMA)).toBe(ZONE_DMA);
    expect(gfp_zone(GFP_KERNEL | GFP_DMA32)).toBe(ZONE_DMA32);
    expect(gfp_zone(GFP_KERNEL | __GFP_HIGHMEM)).toBe(ZONE_NORMAL);
    expect(gfp_zone(GFP_ATOMIC)).toBe(ZONE_NORMAL);
  });

  it('print as %pGg prints them: composites first, then the leftover bits', () => {
    expect(formatGfp(GFP_KERNEL)).toBe('GFP_KERNEL');
    expect(formatGfp(GFP_ATOMIC | __GFP_NOWARN)).toBe('GFP_ATOMIC|__GFP_NOWARN');
    expect(formatGfp(GFP_KERNEL | __GFP_HIGHMEM)).toBe('GFP_KERNEL|__GFP_HIGHMEM');
    expect(formatGfp(GFP_KERNEL | GFP_DMA | __GFP_COMP)).toBe('GFP_KERNEL|GFP_DMA|__GFP_COMP');
    expect(formatGfp(GFP_NOWAIT)).toBe('GFP_NOWAIT');
    expect(formatGfp(0x200 | __GFP_ZERO)).toBe('__GFP_ZERO|0x200');
  });
});

describe('buddy allocator', () => {
  it('frees boot memory in the largest aligned blocks, lowest addresses first', () => {
    const { pa } = setup();
    expect(pa.totalPages).toBe(0xc00 - 0x10);
    expect(pa.managed(ZONE_DMA)).toBe(0x3f0);
    expect(pa.freeList(ZONE_DMA, 4)).toEqual([0x10]);
    expect(pa.freeList(ZONE_DMA, 9)).toEqual([0x200]);
    expect(pa.freeList(ZONE_NORMAL, 10)).toEqual([0x800]);
    expect(pa.zoneOf(0x3ff)).toBe(ZONE_DMA);
    expect(pa.zoneOf(0x400)).toBe(ZONE_DMA32);
    expect(pa.zoneOf(0xc00)).toBe(-1);
  });

  it('splits as expand() does: the lower half is returned, upper halves wait at the list heads', () => {
    const { pa } = setup();
    expect(pa.alloc_pages(GFP_KERNEL, 0)).toBe(0x800);
    expect(pa.allocatedOrder(0x800)).toBe(0);
    for (let o = 0; o < MAX_PAGE_ORDER; o++) expect(pa.freeList(ZONE_NORMAL, o)).toEqual([0x800 + 2 ** o]);
    expect(pa.alloc_pages(GFP_KERNEL, 0)).toBe(0x801);
    expect(pa.alloc_pages(GFP_KERNEL, 2)).toBe(0x804);
    expect(pa.isAllocated(0x807)).toBe(true);
    expect(pa.isAllocated(0x808)).toBe(false);
    expect(pa.nrFree(ZONE_NORMAL)).toBe(0x400 - 6);
  });

  it('merges freed blocks with their buddies back into one block', () => {
    const { pa } = setup();
    const a = pa.alloc_pages(GFP_KERNEL, 0);
    const b = pa.alloc_pages(GFP_KERNEL, 3);
    pa.free_pages(a, 0);
    pa.free_pages(b, 3);
    expect(pa.freeList(ZONE_NORMAL, 10)).toEqual([0x800]);
    expect(pa.nrFree(ZONE_NORMAL)).toBe(0x400);
  });

  it('falls back down the zonelist: Normal, then DMA32, then DMA', () => {
    const { pa } = setup();
    expect(pa.alloc_pages(GFP_KERNEL, 10)).toBe(0x800);
    expect(pa.alloc_pages(GFP_KERNEL, 10)).toBe(0x400);
    expect(pa.alloc_pages(GFP_KERNEL, 9)).toBe(0x200);
    expect(pa.zoneOf(pa.alloc_pages(GFP_KERNEL, 0))).toBe(ZONE_DMA);
  });

  it('never goes up the zonelist: GFP_DMA32 stays below 4 GiB here, GFP_DMA in ZONE_DMA', () => {
    const { pa } = setup();
    expect(pa.alloc_pages(GFP_DMA32, 10)).toBe(0x400);
    expect(pa.zoneOf(pa.alloc_pages(GFP_DMA32, 0))).toBe(ZONE_DMA);
    expect(pa.alloc_pages(GFP_KERNEL | GFP_DMA, 9)).toBe(0x200);
    expect(pa.alloc_pages(GFP_KERNEL | GFP_DMA, 9)).toBe(-1);
    expect(pa.nrFree(ZONE_NORMAL)).toBe(0x400);
  });

  it('reports a failed allocation with warn_alloc(), unless __GFP_NOWARN', () => {
    const { pa, log } = setup();
    expect(pa.alloc_pages(GFP_KERNEL | GFP_DMA | __GFP_NOWARN, 10)).toBe(-1);
    expect(log.lines()).toEqual([]);
    expect(pa.alloc_pages(GFP_KERNEL | GFP_DMA, 10)).toBe(-1);
    expect(log.lines()).toEqual([
      'swapper/0: page allocation failure: order:10, mode:0xcc1(GFP_KERNEL|GFP_DMA), nodemask=(null)',
    ]);
  });

  it('refuses orders above MAX_PAGE_ORDER with one WARN (WARN_ON_ONCE_GFP)', () => {
    const { pa, log } = setup();
    expect(pa.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 11)).toBe(-1);
    expect(log.lines()).toEqual([]);
    expect(pa.alloc_pages(GFP_KERNEL, 11)).toBe(-1);
    expect(pa.alloc_pages(GFP_KERNEL, 12)).toBe(-1);
    expect(log.lines().filter((l) => l.startsWith('WARNING:'))).toEqual([
      warning('__alloc_frozen_pages_noprof'),
    ]);
  });
});

describe('bad frees', () => {
  it('a double free is caught by VM_BUG_ON_PAGE in put_page_testzero and changes nothing', () => {
    const { pa, log } = setup();
    const pfn = pa.alloc_pages(GFP_KERNEL, 1);
    pa.free_pages(pfn, 1);
    const before = snapshot(pa);
    pa.free_pages(pfn, 1);
    expect(snapshot(pa)).toBe(before);
    expect(log.lines()).toEqual([
      'page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x800',
      'page_type: f0(buddy)',
      'page dumped because: VM_BUG_ON_PAGE(page_ref_count(page) == 0)',
      '------------[ cut here ]------------',
      'Kernel BUG at __free_pages+0x0/0x0 [verbose debug info unavailable]',
    ]);
  });

  it('freeing a tail page of a block is the same refcount-0 report', () => {
    const { pa, log } = setup();
    const pfn = pa.alloc_pages(GFP_KERNEL, 2);
    const before = snapshot(pa);
    pa.free_pages(pfn + 1, 0);
    expect(snapshot(pa)).toBe(before);
    expect(pa.allocatedOrder(pfn)).toBe(2);
    expect(log.lines()[0]).toBe('page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x801');
    expect(log.lines()[1]).toBe('page dumped because: VM_BUG_ON_PAGE(page_ref_count(page) == 0)');
  });

  it('a smaller order than allocated frees the first pages and silently leaks the rest (___free_pages, non-compound)', () => {
    const { pa, log } = setup();
    const pfn = pa.alloc_pages(GFP_KERNEL, 3);
    const free = pa.nrFree(ZONE_NORMAL);
    pa.free_pages(pfn, 1);
    expect(log.lines()).toEqual([]);
    expect(pa.nrFree(ZONE_NORMAL)).toBe(free + 2);
    expect(pa.isAllocated(pfn)).toBe(false);
    expect(pa.allocatedOrder(pfn + 2)).toBe(1);
    expect(pa.allocatedOrder(pfn + 4)).toBe(2);
  });

  it('a larger order than allocated is a bad page state for each tail page that is in use or free', () => {
    const { pa, log } = setup();
    const a = pa.alloc_pages(GFP_KERNEL, 0);
    const b = pa.alloc_pages(GFP_KERNEL, 0);
    const before = snapshot(pa);
    pa.free_pages(a, 2);
    expect(snapshot(pa)).toBe(before);
    expect(pa.allocatedOrder(b)).toBe(0);
    expect(log.lines()).toEqual([
      'BUG: Bad page state in process swapper/0  pfn:00801',
      'page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x801',
      'page dumped because: nonzero _refcount',
      'BUG: Bad page state in process swapper/0  pfn:00802',
      'page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x802',
      'page_type: f0(buddy)',
      'page dumped because: nonzero mapcount',
    ]);
  });

  it('freeing a reserved page is a bad page state for its PG_reserved flag', () => {
    const { pa, log } = setup();
    const before = snapshot(pa);
    pa.free_pages(0x5, 0);
    expect(snapshot(pa)).toBe(before);
    expect(log.lines()).toEqual([
      'BUG: Bad page state in process swapper/0  pfn:00005',
      'page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x5',
      'page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set',
    ]);
  });

  it('a pfn outside every zone has a poisoned struct page', () => {
    const { pa, log } = setup();
    const before = snapshot(pa);
    pa.free_pages(0x10_0000, 0);
    expect(snapshot(pa)).toBe(before);
    expect(log.lines()).toEqual([
      'page:001c000004000000 is uninitialized and poisoned',
      'page dumped because: VM_BUG_ON_PAGE(PagePoisoned(page))',
      '------------[ cut here ]------------',
      'Kernel BUG at __free_pages+0x0/0x0 [verbose debug info unavailable]',
    ]);
  });
});
