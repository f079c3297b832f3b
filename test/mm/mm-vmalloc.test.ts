// mm/vmalloc.c: areas are placed lowest-first with a guard page after each, backed by order-0
// pages that may be scattered, translated page by page, and freed with the kernel's warnings
// for addresses that name no area.
import { describe, expect, it } from 'vitest';
import { GFP_KERNEL, ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from '../../src/mm/gfp.js';
import { Memblock } from '../../src/mm/memblock.js';
import { PAGE_SIZE, VMALLOC_START } from '../../src/mm/memory.js';
import { PageAllocator } from '../../src/mm/page_alloc.js';
import { Vmalloc } from '../../src/mm/vmalloc.js';
import { KernelLog } from '../../src/lib/printk.js';
import { warning } from '../support/warn.js';

/** 1 MiB of RAM at 1 GiB, all of it ZONE_NORMAL (the lower zones are empty). */
function setup(pages = 0x100): { vm: Vmalloc; pa: PageAllocator; log: KernelLog } {
  const log = new KernelLog();
  const base = 0x4_0000;
  const mb = new Memblock([{ base: base * PAGE_SIZE, size: pages * PAGE_SIZE }]);
  const zones = [
    { id: ZONE_DMA, startPfn: base, endPfn: base },
    { id: ZONE_DMA32, startPfn: base, endPfn: base },
    { id: ZONE_NORMAL, startPfn: base, endPfn: base + pages },
  ];
  const pa = new PageAllocator({ zones, log, freeRanges: mb.freeRanges() });
  return { vm: new Vmalloc({ pages: pa, log }), pa, log };
}

const hex16 = (x: number): string => x.toString(16).padStart(16, '0');

describe('vmalloc', () => {
  it('places areas lowest-first, each followed by a guard page', () => {
    const { vm } = setup();
    const a = vm.vmalloc(3 * PAGE_SIZE);
    const b = vm.vmalloc(100);
    expect(a).toBe(VMALLOC_START);
    expect(b).toBe(a + 4 * PAGE_SIZE);
    expect(vm.areaOf(b + 99)).toMatchObject({ start: b, size: PAGE_SIZE, prot: 'normal' });
  });

  it('translates every mapped byte and nothing in the guard page', () => {
    const { vm } = setup();
    const a = vm.vmalloc(2 * PAGE_SIZE);
    const area = vm.areaOf(a);
    expect(area?.pfns).toHaveLength(2);
    const [p0, p1] = area?.pfns ?? [];
    expect(vm.translate(a + 5)).toBe((p0 as number) * PAGE_SIZE + 5);
    expect(vm.translate(a + PAGE_SIZE + 4095)).toBe((p1 as number) * PAGE_SIZE + 4095);
    expect(vm.translate(a + 2 * PAGE_SIZE)).toBe(-1);
    expect(vm.areaOf(a + 2 * PAGE_SIZE)).toBeNull();
    expect(vm.translate(VMALLOC_START - 1)).toBe(-1);
  });

  it('backs an area with order-0 pages that need not be contiguous', () => {
    const { vm, pa } = setup();
    const taken = Array.from({ length: 16 }, () => pa.alloc_pages(GFP_KERNEL, 0));
    taken.filter((_, i) => i % 2 === 0).forEach((pfn) => pa.free_pages(pfn, 0));
    const a = vm.vmalloc(4 * PAGE_SIZE);
    const pfns = vm.areaOf(a)?.pfns ?? [];
    expect(pfns).toHaveLength(4);
    for (let i = 1; i < pfns.length; i++) expect(pfns[i]).not.toBe((pfns[i - 1] as number) + 1);
    pfns.forEach((pfn, i) => expect(vm.translate(a + i * PAGE_SIZE)).toBe(pfn * PAGE_SIZE));
  });

  it('vfree() gives the pages back and the range is reused first', () => {
    const { vm, pa } = setup();
    const before = pa.nrFree(ZONE_NORMAL);
    const a = vm.vmalloc(5 * PAGE_SIZE);
    expect(pa.nrFree(ZONE_NORMAL)).toBe(before - 5);
    vm.vfree(a);
    expect(pa.nrFree(ZONE_NORMAL)).toBe(before);
    expect(vm.areaOf(a)).toBeNull();
    expect(vm.vmalloc(PAGE_SIZE)).toBe(a);
  });

  it('vfree() of NULL is fine; of an address that starts no area it WARNs and changes nothing', () => {
    const { vm, pa, log } = setup();
    const a = vm.vmalloc(2 * PAGE_SIZE);
    const free = pa.nrFree(ZONE_NORMAL);
    vm.vfree(0);
    expect(log.lines()).toEqual([]);
    vm.vfree(a + PAGE_SIZE);
    expect(log.lines()).toEqual([
      '------------[ cut here ]------------',
      `Trying to vfree() nonexistent vm area (${hex16(a + PAGE_SIZE)})`,
      warning('vfree'),
      '---[ end trace 0000000000000000 ]---',
    ]);
    expect(vm.areaOf(a)).not.toBeNull();
    expect(pa.nrFree(ZONE_NORMAL)).toBe(free);
  });

  it('an unaligned address gets remove_vm_area()\'s WARN first, then vfree()\'s', () => {
    const { vm, log } = setup();
    const a = vm.vmalloc(PAGE_SIZE);
    vm.vfree(a + 16);
    expect(log.lines().filter((l) => l.startsWith('Trying'))).toEqual([
      `Trying to vfree() bad address (${hex16(a + 16)})`,
      `Trying to vfree() nonexistent vm area (${hex16(a + 16)})`,
    ]);
    expect(vm.areaOf(a)).not.toBeNull();
  });

  it('a double vfree() WARNs and frees nothing twice', () => {
    const { vm, pa, log } = setup();
    const a = vm.vmalloc(PAGE_SIZE);
    vm.vfree(a);
    const free = pa.nrFree(ZONE_NORMAL);
    vm.vfree(a);
    expect(pa.nrFree(ZONE_NORMAL)).toBe(free);
    expect(log.lines()[1]).toBe(`Trying to vfree() nonexistent vm area (${hex16(a)})`);
  });

  it('vmap() maps given pages with a protection; vunmap() and vfree() leave them alone', () => {
    const { vm, pa, log } = setup();
    const pfns = [pa.alloc_pages(GFP_KERNEL, 0), pa.alloc_pages(GFP_KERNEL, 0)].reverse();
    const free = pa.nrFree(ZONE_NORMAL);
    const a = vm.vmap(pfns, 'noncached');
    expect(vm.areaOf(a + PAGE_SIZE)).toMatchObject({ start: a, size: 2 * PAGE_SIZE, prot: 'noncached', pfns });
    expect(vm.translate(a + PAGE_SIZE + 1)).toBe((pfns[1] as number) * PAGE_SIZE + 1);
    vm.vunmap(a);
    expect(vm.areaOf(a)).toBeNull();
    const b = vm.vmap(pfns);
    vm.vfree(b);
    expect(pa.nrFree(ZONE_NORMAL)).toBe(free);
    vm.vunmap(b);
    expect(log.lines()[1]).toBe(`Trying to vunmap() nonexistent vm area (${hex16(b)})`);
    expect(vm.vmap([])).toBe(0);
  });

  it('vmalloc(0) WARNs once and returns NULL', () => {
    const { vm, log } = setup();
    expect(vm.vmalloc(0)).toBe(0);
    expect(vm.vmalloc(0)).toBe(0);
    expect(log.lines().filter((l) => l.startsWith('WARNING'))).toEqual([warning('__vmalloc_node_range_noprof')]);
  });

  it('running out of pages is one warn_alloc() for the whole size, and nothing leaks', () => {
    const { vm, pa, log } = setup(0x10);
    const hog = pa.alloc_pages(GFP_KERNEL, 3);
    const free = pa.nrFree(ZONE_NORMAL);
    expect(vm.vmalloc(10 * PAGE_SIZE)).toBe(0);
    expect(pa.nrFree(ZONE_NORMAL)).toBe(free);
    expect(vm.areas()).toEqual([]);
    expect(log.lines()).toEqual([
      'swapper/0: vmalloc error: size 40960, failed to allocate pages, mode:0xcc2(GFP_KERNEL|__GFP_HIGHMEM), nodemask=(null)',
    ]);
    expect(vm.vmalloc(17 * PAGE_SIZE)).toBe(0);
    expect(log.lines()[1]).toBe('swapper/0: vmalloc error: size 69632, exceeds total pages, mode:0xcc0(GFP_KERNEL), nodemask=(null)');
    pa.free_pages(hog, 3);
  });
});
