// mm/slub.c and mm/slab_common.c: the kmalloc size classes, where objects come from, and what a
// bad kfree() prints (as with slub_debug=F), leaving the allocator as it was.
import { describe, expect, it } from 'vitest';
import { __GFP_NOWARN, __GFP_RECLAIMABLE, GFP_DMA, GFP_DMA32, GFP_KERNEL, ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from '../../src/mm/gfp.js';
import { Memblock } from '../../src/mm/memblock.js';
import { __pa, __va, PAGE_OFFSET, PAGE_SIZE } from '../../src/mm/memory.js';
import { PageAllocator } from '../../src/mm/page_alloc.js';
import { KMALLOC_MAX_CACHE_SIZE, Slab, ZERO_SIZE_PTR } from '../../src/mm/slab.js';
import { KernelLog } from '../../src/lib/printk.js';
import { warning } from '../support/warn.js';

/** 12 MiB from 0x4000_0000: 4 MiB each of ZONE_DMA, ZONE_DMA32 and ZONE_NORMAL. */
function setup(minalign = 8, pages = 0xc00): { slab: Slab; pa: PageAllocator; log: KernelLog } {
  const log = new KernelLog();
  const base = 0x4_0000;
  const mb = new Memblock([{ base: base * PAGE_SIZE, size: pages * PAGE_SIZE }]);
  const third = pages / 3;
  const zones = [
    { id: ZONE_DMA, startPfn: base, endPfn: base + third },
    { id: ZONE_DMA32, startPfn: base + third, endPfn: base + 2 * third },
    { id: ZONE_NORMAL, startPfn: base + 2 * third, endPfn: base + pages },
  ];
  const pa = new PageAllocator({ zones, log, freeRanges: mb.freeRanges() });
  return { slab: new Slab({ pages: pa, log, minalign }), pa, log };
}

function pfnOf(virt: number): number {
  return Math.floor(__pa(virt) / PAGE_SIZE);
}

function freePages(pa: PageAllocator): number {
  return pa.nrFree(ZONE_DMA) + pa.nrFree(ZONE_DMA32) + pa.nrFree(ZONE_NORMAL);
}

describe('kmalloc size classes', () => {
  it('are 8 … 8k with 96 and 192, as kmalloc_size_roundup() reports', () => {
    const { slab } = setup();
    const cases: [number, number][] = [
      [1, 8], [8, 8], [9, 16], [17, 32], [33, 64], [65, 96], [97, 128], [129, 192], [193, 256],
      [257, 512], [1000, 1024], [2048, 2048], [4097, 8192], [8192, 8192], [8193, 16384], [100_000, 131072],
    ];
    for (const [size, roundup] of cases) expect([size, slab.kmalloc_size_roundup(size)]).toEqual([size, roundup]);
    expect(slab.kmalloc_size_roundup(0)).toBe(0);
    expect(KMALLOC_MAX_CACHE_SIZE).toBe(8192);
  });

  it('collapse below the minimum alignment, as new_kmalloc_cache() aligns them', () => {
    const m64 = setup(64).slab;
    expect([8, 64, 65, 96, 129, 192].map((s) => m64.kmalloc_size_roundup(s))).toEqual([64, 64, 128, 128, 192, 192]);
    expect(m64.kmallocCache(8, GFP_KERNEL)?.name).toBe('kmalloc-64');
    expect(m64.kmallocCache(96, GFP_KERNEL)?.name).toBe('kmalloc-128');
    const m128 = setup(128).slab;
    expect([8, 96, 192].map((s) => m128.kmalloc_size_roundup(s))).toEqual([128, 128, 256]);
  });

  it('have DMA and reclaimable variants, and SLUB orders for a 4-CPU machine', () => {
    const { slab } = setup();
    expect(slab.kmallocCache(64, GFP_KERNEL | GFP_DMA)?.name).toBe('dma-kmalloc-64');
    expect(slab.kmallocCache(64, GFP_KERNEL | __GFP_RECLAIMABLE)?.name).toBe('kmalloc-rcl-64');
    expect(slab.kmallocCache(5000, GFP_KERNEL)?.name).toBe('kmalloc-8k');
    const orders = [64, 192, 256, 512, 1024, 2048, 4096, 8192].map((s) => slab.kmallocCache(s, GFP_KERNEL)?.order);
    expect(orders).toEqual([0, 0, 0, 1, 2, 3, 3, 3]);
  });
});

describe('kmalloc and kfree', () => {
  it('hands out objects in address order and reuses the last freed one first', () => {
    const { slab } = setup();
    const a = slab.kmalloc(64, GFP_KERNEL);
    const b = slab.kmalloc(50, GFP_KERNEL);
    expect(b).toBe(a + 64);
    expect(a % PAGE_SIZE).toBe(0);
    expect(a).toBeGreaterThan(PAGE_OFFSET);
    slab.kfree(a);
    expect(slab.kmalloc(64, GFP_KERNEL)).toBe(a);
    expect(slab.cacheName(b)).toBe('kmalloc-64');
    expect(slab.ksize(b)).toBe(64);
    expect(slab.objectAt(b + 63)).toEqual({ start: b, size: 64 });
    expect(slab.objectAt(b + 64)).toBeNull();
    expect(slab.liveObjects).toBe(2);
  });

  it('returns ZERO_SIZE_PTR for size 0 and ignores NULL and ZERO_SIZE_PTR in kfree', () => {
    const { slab, log } = setup();
    expect(slab.kmalloc(0, GFP_KERNEL)).toBe(ZERO_SIZE_PTR);
    slab.kfree(0);
    slab.kfree(ZERO_SIZE_PTR);
    expect(slab.ksize(ZERO_SIZE_PTR)).toBe(0);
    expect(log.lines()).toEqual([]);
  });

  it('serves GFP_DMA from the dma-kmalloc caches in ZONE_DMA', () => {
    const { slab, pa } = setup();
    const p = slab.kmalloc(100, GFP_KERNEL | GFP_DMA);
    expect(slab.cacheName(p)).toBe('dma-kmalloc-128');
    expect(pa.zoneOf(pfnOf(p))).toBe(ZONE_DMA);
    expect(pa.zoneOf(pfnOf(slab.kmalloc(100, GFP_KERNEL)))).toBe(ZONE_NORMAL);
  });

  it('fixes up GFP_DMA32 with a warning, as kmalloc_fix_flags() does', () => {
    const { slab, pa, log } = setup();
    const p = slab.kmalloc(32, GFP_KERNEL | GFP_DMA32);
    expect(log.lines()).toEqual(['Unexpected gfp: 0x4 (GFP_DMA32). Fixing up to gfp: 0xcc0 (GFP_KERNEL). Fix your code!']);
    expect(pa.zoneOf(pfnOf(p))).toBe(ZONE_NORMAL);
  });

  it('sends sizes above 8 KiB to the page allocator as naturally aligned compound pages', () => {
    const { slab, pa } = setup();
    const p = slab.kmalloc(10_000, GFP_KERNEL);
    expect(p % (4 * PAGE_SIZE)).toBe(0);
    expect(pa.allocatedOrder(pfnOf(p))).toBe(2);
    expect(slab.ksize(p)).toBe(16384);
    expect(slab.cacheName(p)).toBeNull();
    expect(slab.objectAt(p + 16383)).toEqual({ start: p, size: 16384 });
    const before = freePages(pa);
    slab.kfree(p);
    expect(freePages(pa)).toBe(before + 4);
    expect(slab.liveObjects).toBe(0);
  });

  it('gives empty slabs back to the page allocator beyond min_partial', () => {
    const { slab, pa } = setup();
    const initial = freePages(pa);
    // kmalloc-2k: order-3 slabs of 16 objects, min_partial = ilog2(2048) / 2 = 5.
    const objs = Array.from({ length: 8 * 16 }, () => slab.kmalloc(2048, GFP_KERNEL));
    expect(freePages(pa)).toBe(initial - 8 * 8);
    for (const p of objs) slab.kfree(p);
    // An empty slab is discarded once nr_partial, itself included, reaches min_partial: the
    // active slab stays, and four empty ones wait on the partial list.
    expect(freePages(pa)).toBe(initial - 8 - 4 * 8);
  });

  it('reports running out of memory as slab_out_of_memory() and the page allocator do', () => {
    const { slab, log } = setup(8, 24);
    const got: number[] = [];
    for (let p = slab.kmalloc(4096, GFP_KERNEL | GFP_DMA); p !== 0; p = slab.kmalloc(4096, GFP_KERNEL | GFP_DMA)) got.push(p);
    expect(got).toHaveLength(8);
    expect(log.lines()).toEqual([
      'swapper/0: page allocation failure: order:0, mode:0x40cc1(GFP_KERNEL|GFP_DMA|__GFP_COMP), nodemask=(null)',
      'SLUB: Unable to allocate memory on CPU 0 (of node 0) on node -1, gfp=0xcc1(GFP_KERNEL|GFP_DMA)',
      '  cache: dma-kmalloc-4k, object size: 4096, buffer size: 4096, default order: 3, min order: 0',
      '  node 0: slabs: 1, objs: 8, free: 0',
    ]);
    expect(slab.kmalloc(4096, GFP_KERNEL | GFP_DMA | __GFP_NOWARN)).toBe(0);
    expect(log.lines()).toHaveLength(4);
  });
});

describe('bad kfree', () => {
  it('a double free is "Object already free" and the freelist is untouched', () => {
    const { slab, log } = setup();
    const a = slab.kmalloc(64, GFP_KERNEL);
    const b = slab.kmalloc(64, GFP_KERNEL);
    slab.kfree(a);
    slab.kfree(a);
    const page = (0x1c_0000_0000_0000 + pfnOf(a) * 64).toString(16).padStart(16, '0');
    const hex = (x: number): string => x.toString(16).padStart(16, '0');
    expect(log.lines()).toEqual([
      '=============================================================================',
      'BUG kmalloc-64 (Not tainted): Object already free',
      '-----------------------------------------------------------------------------',
      '',
      `Slab 0x${page} objects=64 used=1 fp=0x${hex(a)}`,
      `Object 0x${hex(a)} @offset=0 fp=0x${hex(a + 128)}`,
      '',
      '------------[ cut here ]------------',
      warning('object_err'),
      '---[ end trace 0000000000000000 ]---',
      `FIX kmalloc-64: Object at 0x${hex(a)} not freed`,
    ]);
    expect(slab.liveObjects).toBe(1);
    expect(slab.kmalloc(64, GFP_KERNEL)).toBe(a);
    expect(slab.kmalloc(64, GFP_KERNEL)).toBe(b + 64);
  });

  it('a pointer into the middle of an object is "Invalid object pointer"', () => {
    const { slab, log } = setup();
    const a = slab.kmalloc(96, GFP_KERNEL);
    slab.kfree(a + 8);
    const hex = (x: number): string => x.toString(16).padStart(16, '0');
    expect(log.lines()[1]).toBe(`BUG kmalloc-96 (Not tainted): Invalid object pointer 0x${hex(a + 8)}`);
    expect(log.lines()).toContain(warning('__slab_err'));
    expect(log.lines().at(-1)).toBe(`FIX kmalloc-96: Object at 0x${hex(a + 8)} not freed`);
    expect(slab.objectAt(a)).toEqual({ start: a, size: 96 });
  });

  it('memory kmalloc never returned is "Not a kmalloc allocation", WARNed once', () => {
    const { slab, pa, log } = setup();
    const pfn = pa.alloc_pages(GFP_KERNEL, 0);
    const before = freePages(pa);
    slab.kfree(__va(pfn * PAGE_SIZE));
    slab.kfree(__va(pfn * PAGE_SIZE) + 8);
    expect(freePages(pa)).toBe(before);
    expect(pa.allocatedOrder(pfn)).toBe(0);
    expect(log.lines().filter((l) => l.startsWith('WARNING'))).toEqual([warning('free_large_kmalloc')]);
    expect(log.lines().filter((l) => l.startsWith('page dumped'))).toEqual([
      'page dumped because: Not a kmalloc allocation',
      'page dumped because: Not a kmalloc allocation',
    ]);
  });

  it('a double free of a large kmalloc takes the same path and frees nothing twice', () => {
    const { slab, pa, log } = setup();
    const p = slab.kmalloc(3 * PAGE_SIZE, GFP_KERNEL);
    slab.kfree(p);
    const before = freePages(pa);
    slab.kfree(p);
    expect(freePages(pa)).toBe(before);
    expect(log.lines().at(-1)).toBe('page dumped because: Not a kmalloc allocation');
  });
});
