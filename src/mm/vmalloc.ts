// Virtually contiguous kernel mappings: mm/vmalloc.c (vmalloc, vmap, vunmap, vfree,
// vmalloc_to_pfn, alloc_vmap_area).
//
// Each area is a run of pages in [VMALLOC_START, VMALLOC_END), followed by one unmapped guard
// page (VM_NO_GUARD is never set), placed at the lowest address that fits, as
// find_vmap_lowest_match() does. vmalloc() backs an area with order-0 pages from the buddy
// allocator, so its physical pages need not be contiguous; vmap() maps pages it is given, for
// example an uncached alias of a DMA buffer, whose `prot` the CPU model honours.
//
// Not modelled: lazy purging (a freed range is reusable at once), huge vmap mappings and the
// high-order first attempt of vm_area_alloc_pages() (v7.1 tries large orders before order 0;
// dmasim allocates order 0 as the bulk allocator of v6.x does), and the kmalloc'd pages array.

import { DmaSimRangeError } from '../lib/errors.js';
import { KERN_WARNING, type KernelLog } from '../lib/printk.js';
import { WARN_SITES } from '../lib/warn-sites.js';
import { __GFP_HIGHMEM, __GFP_NOWARN, GFP_KERNEL } from './gfp.js';
import { PAGE_SIZE, pageAlign, VMALLOC_END, VMALLOC_START } from './memory.js';
import { type PageAllocator, warn_alloc } from './page_alloc.js';
import { sharpX, x016 } from '../lib/vsprintf.js';

/** How the CPU sees an area: cacheable (PAGE_KERNEL), or one of the DMA remap attributes. */
export type VmProt = 'normal' | 'noncached' | 'writecombine' | 'device';

/** struct vm_struct as callers see it: the mapped range (without the guard) and its pages. */
export interface VmArea {
  readonly start: number;
  readonly size: number;
  readonly pfns: readonly number[];
  readonly prot: VmProt;
}

interface Area extends VmArea {
  /** vmalloc() owns its pages and vfree() frees them; vmap() borrows them (no VM_MAP_PUT_PAGES). */
  readonly ownsPages: boolean;
}

export interface VmallocOptions {
  readonly pages: PageAllocator;
  readonly log: KernelLog;
}

/** The guard page that ends every area. */
const GUARD = PAGE_SIZE;


export class Vmalloc {
  private readonly pages: PageAllocator;
  private readonly log: KernelLog;
  /** The busy list: areas sorted by start, each owning [start, start + size + GUARD). */
  private readonly busy: Area[] = [];
  /** How many leading areas of `busy` are packed back to back (see extendPacked()). */
  private packed = 0;
  /** Bumped whenever an area goes away, so that callers may cache areaOf() results safely. */
  generation = 0;

  constructor(opts: VmallocOptions) {
    this.pages = opts.pages;
    this.log = opts.log;
  }

  /** Every live area, lowest address first. */
  areas(): readonly VmArea[] {
    return this.busy;
  }

  // ---- vmalloc and vmap ----------------------------------------------------------------------

  /**
   * vmalloc() → __vmalloc_node_range(GFP_KERNEL): a virtual range, then one order-0 page per
   * PAGE_SIZE. Failures are reported with warn_alloc() as the kernel reports them.
   *
   * @returns the start of the area, or 0
   */
  vmalloc(size: number): number {
    if (!Number.isSafeInteger(size) || size < 0) throw new DmaSimRangeError('vmalloc', 'size', `${size} is not a size`);
    if (size === 0) {
      this.log.warnOnce(WARN_SITES.vmallocZero, '');
      return 0;
    }
    if (Math.floor(size / PAGE_SIZE) > this.pages.totalPages) {
      warn_alloc(this.log, GFP_KERNEL, `vmalloc error: size ${size}, exceeds total pages`);
      return 0;
    }
    const mapped = pageAlign(size);
    const start = this.allocVmapArea(mapped, GFP_KERNEL);
    if (start === 0) {
      warn_alloc(this.log, GFP_KERNEL, `vmalloc error: size ${size}, vm_struct allocation failed`);
      return 0;
    }
    const pfns = this.allocAreaPages(mapped / PAGE_SIZE);
    if (pfns === null) return 0;
    this.insert({ start, size: mapped, pfns, prot: 'normal', ownsPages: true });
    return start;
  }

  /**
   * vmap(): map the given pages, in order, into a fresh area.
   *
   * @param pfns the pages, by frame number
   * @param prot how CPU accesses through the mapping behave
   * @returns the start of the area, or 0
   */
  vmap(pfns: readonly number[], prot: VmProt = 'normal'): number {
    for (const pfn of pfns) {
      if (!Number.isSafeInteger(pfn) || pfn < 0) throw new DmaSimRangeError('vmap', 'pages', `${pfn} is not a page frame number`);
    }
    if (pfns.length === 0 || pfns.length > this.pages.totalPages) return 0;
    const start = this.allocVmapArea(pfns.length * PAGE_SIZE, GFP_KERNEL);
    if (start === 0) return 0;
    this.insert({ start, size: pfns.length * PAGE_SIZE, pfns: [...pfns], prot, ownsPages: false });
    return start;
  }

  /** vunmap(): drop the mapping; the pages stay with whoever owns them. */
  vunmap(addr: number): void {
    if (addr === 0) return;
    const area = this.removeVmArea(addr);
    if (area === null) {
      this.log.warn(WARN_SITES.vunmap, `Trying to vunmap() nonexistent vm area (${x016(addr)})`);
    }
  }

  /** vfree(): NULL is fine; the area goes, and so do the pages vmalloc() allocated for it. */
  vfree(addr: number): void {
    if (addr === 0) return;
    const area = this.removeVmArea(addr);
    if (area === null) {
      this.log.warn(WARN_SITES.vfree, `Trying to vfree() nonexistent vm area (${x016(addr)})`);
      return;
    }
    if (area.ownsPages) for (const pfn of area.pfns) this.pages.free_pages(pfn, 0);
  }

  // ---- lookups -------------------------------------------------------------------------------

  /** find_vm_area() for any address inside the mapped part of an area (not its guard page). */
  areaOf(virt: number): VmArea | null {
    const area = this.containing(virt);
    return area !== null && virt < area.start + area.size ? area : null;
  }

  /** vmalloc_to_pfn() with the offset kept: the physical address behind virt, or -1. */
  translate(virt: number): number {
    const area = this.areaOf(virt);
    if (area === null) return -1;
    const offset = virt - area.start;
    const pfn = area.pfns[Math.floor(offset / PAGE_SIZE)] as number;
    return pfn * PAGE_SIZE + (offset % PAGE_SIZE);
  }

  // ---- internals -----------------------------------------------------------------------------

  /**
   * alloc_vmap_area(): the lowest gap of size + GUARD bytes. On failure the kernel prints its
   * printk_ratelimit()ed hint, unless __GFP_NOWARN.
   */
  private allocVmapArea(size: number, gfp: number): number {
    const need = size + GUARD;
    const before = this.busy[this.packed - 1];
    let cursor = before === undefined ? VMALLOC_START : before.start + before.size + GUARD;
    for (let i = this.packed; i < this.busy.length; i++) {
      const area = this.busy[i] as Area;
      if (area.start - cursor >= need) return cursor;
      cursor = area.start + area.size + GUARD;
    }
    if (VMALLOC_END - cursor >= need) return cursor;
    if (!(gfp & __GFP_NOWARN)) {
      this.log.ratelimited('alloc_vmap_area', KERN_WARNING,
        `vmalloc_node_range for size ${need} failed: Address range restricted to ${sharpX(VMALLOC_START)} - ${sharpX(VMALLOC_END)}`);
    }
    return 0;
  }

  /**
   * __vmalloc_area_node(): order-0 pages, quietly (vmalloc_gfp_adjust adds __GFP_NOWARN); if
   * they run out, everything taken is given back and one warn_alloc() names the whole size.
   */
  private allocAreaPages(count: number): number[] | null {
    const gfp = GFP_KERNEL | __GFP_HIGHMEM;
    const pfns: number[] = [];
    while (pfns.length < count) {
      const pfn = this.pages.alloc_pages(gfp | __GFP_NOWARN, 0);
      if (pfn < 0) break;
      pfns.push(pfn);
    }
    if (pfns.length === count) return pfns;
    for (const pfn of pfns) this.pages.free_pages(pfn, 0);
    warn_alloc(this.log, gfp, `vmalloc error: size ${count * PAGE_SIZE}, failed to allocate pages`);
    return null;
  }

  /**
   * remove_vm_area(): an unaligned address gets its own WARN before the caller's "nonexistent"
   * one, as in the kernel.
   */
  private removeVmArea(addr: number): Area | null {
    if (addr % PAGE_SIZE !== 0) {
      this.log.warn(WARN_SITES.removeVmArea, `Trying to vfree() bad address (${x016(addr)})`);
      return null;
    }
    const at = this.indexOfStart(addr);
    if (at < 0) return null;
    this.packed = Math.min(this.packed, at);
    this.generation++;
    return this.busy.splice(at, 1)[0] ?? null;
  }

  private insert(area: Area): void {
    this.busy.splice(this.lowerBound(area.start), 0, area);
    this.extendPacked();
  }

  /**
   * `packed` leading areas sit back to back (each right after the previous one's guard page):
   * no gap there can satisfy a request, so first-fit starts after them. Without it every
   * vmap() would walk every area, and a dma_pool of thousands of pages would take seconds.
   */
  private extendPacked(): void {
    for (;;) {
      const prev = this.busy[this.packed - 1];
      const next = this.busy[this.packed];
      const end = prev === undefined ? VMALLOC_START : prev.start + prev.size + GUARD;
      if (next === undefined || next.start !== end) return;
      this.packed++;
    }
  }

  /** The area whose range, guard page included, holds virt. */
  private containing(virt: number): Area | null {
    const at = this.lowerBound(virt + 1) - 1;
    const area = this.busy[at];
    return area !== undefined && virt < area.start + area.size + GUARD ? area : null;
  }

  private indexOfStart(start: number): number {
    const at = this.lowerBound(start);
    return this.busy[at]?.start === start ? at : -1;
  }

  /** The first index whose area starts at or after `start`. */
  private lowerBound(start: number): number {
    let lo = 0;
    let hi = this.busy.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.busy[mid] as Area).start < start) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
