// The boot-time physical memory map: mm/memblock.c.
//
// Before the buddy allocator exists, the kernel knows RAM only as two region lists: `memory`
// (what firmware reported) and `reserved` (what early boot has claimed: the kernel image, the
// swiotlb pool, CMA, page tables). Early allocations search memory minus reserved top-down, and
// memblock_free_all() finally hands what is left to the page allocator. dmasim keeps the same
// two lists so that the swiotlb pool lands where the kernel would put it (at the top of the
// allowed range) and the buddy allocator starts with the same holes.

import { DmaSimRangeError } from '../lib/errors.js';
import { PAGE_SIZE, PHYS_ADDR_LIMIT } from './memory.js';

/** A physical range, `struct memblock_region` without nid and flags. */
export interface MemblockRegion {
  readonly base: number;
  readonly size: number;
}

/** MEMBLOCK_ALLOC_ACCESSIBLE: "up to memblock.current_limit". */
export const MEMBLOCK_ALLOC_ACCESSIBLE = 0;
/** MEMBLOCK_ALLOC_ANYWHERE (~0 in C): no upper limit, dmasim's largest physical address. */
export const MEMBLOCK_ALLOC_ANYWHERE = PHYS_ADDR_LIMIT;
/** SMP_CACHE_BYTES (L1_CACHE_BYTES on arm64 and x86_64), what a zero alignment becomes. */
const SMP_CACHE_BYTES = 64;

function end(r: MemblockRegion): number {
  return r.base + r.size;
}

function isPowerOfTwo(x: number): boolean {
  return Number.isSafeInteger(x) && x > 0 && 2 ** Math.round(Math.log2(x)) === x;
}

function roundDown(x: number, align: number): number {
  return Math.floor(x / align) * align;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

/**
 * memblock_add_range() then memblock_merge_regions(): keep the list sorted and coalesce
 * overlapping or touching regions, as the kernel does for regions of the same node and flags.
 */
function addRange(list: MemblockRegion[], base: number, size: number): void {
  if (size === 0) return;
  list.push({ base, size });
  list.sort((a, b) => a.base - b.base);
  const merged: MemblockRegion[] = [];
  for (const r of list) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r.base <= end(last)) {
      merged[merged.length - 1] = { base: last.base, size: Math.max(end(last), end(r)) - last.base };
    } else {
      merged.push(r);
    }
  }
  list.splice(0, list.length, ...merged);
}

export class Memblock {
  private readonly memoryList: MemblockRegion[];
  private readonly reservedList: MemblockRegion[] = [];

  /** @param banks RAM as firmware reports it: page-aligned, sorted, non-overlapping. */
  constructor(banks: readonly MemblockRegion[]) {
    this.memoryList = banks.map((b) => ({ base: b.base, size: b.size }));
  }

  /** memblock.memory, sorted. */
  get memory(): readonly MemblockRegion[] {
    return this.memoryList;
  }

  /** memblock.reserved, sorted and merged. */
  get reserved(): readonly MemblockRegion[] {
    return this.reservedList;
  }

  /** memblock_reserve(). */
  reserve(base: number, size: number): void {
    addRange(this.reservedList, base, size);
  }

  /** memblock_start_of_DRAM(). */
  start(): number {
    return this.memory[0]?.base ?? 0;
  }

  /** memblock_end_of_DRAM(). */
  end(): number {
    const last = this.memory[this.memory.length - 1];
    return last === undefined ? 0 : end(last);
  }

  /** memblock_is_region_memory(): the whole range lies inside one memory region. */
  isMemory(phys: number, size: number): boolean {
    return this.memory.some((r) => phys >= r.base && phys + size <= end(r));
  }

  /** memblock_is_reserved() for one address. */
  isReserved(phys: number): boolean {
    return this.reserved.some((r) => phys >= r.base && phys < end(r));
  }

  /**
   * for_each_free_mem_range(): memory minus reserved, in address order. This is
   * __next_mem_range()'s walk of the two sorted lists.
   */
  freeMemRanges(): MemblockRegion[] {
    const out: MemblockRegion[] = [];
    for (const m of this.memoryList) {
      let cursor = m.base;
      for (const r of this.reservedList) {
        if (end(r) <= cursor || r.base >= end(m)) continue;
        if (r.base > cursor) out.push({ base: cursor, size: r.base - cursor });
        cursor = Math.max(cursor, end(r));
      }
      if (cursor < end(m)) out.push({ base: cursor, size: end(m) - cursor });
    }
    return out;
  }

  /**
   * What memblock_free_all() gives the buddy allocator: __free_memory_core() trims every free
   * range inward to whole pages (PFN_UP of the start, PFN_DOWN of the end).
   */
  freeRanges(): MemblockRegion[] {
    const out: MemblockRegion[] = [];
    for (const r of this.freeMemRanges()) {
      const lo = Math.ceil(r.base / PAGE_SIZE) * PAGE_SIZE;
      const hi = roundDown(end(r), PAGE_SIZE);
      if (hi > lo) out.push({ base: lo, size: hi - lo });
    }
    return out;
  }

  /**
   * memblock_phys_alloc_range() → memblock_alloc_range_nid() → memblock_find_in_range_node():
   * search top-down (the default; memblock_bottom_up() is false unless movable_node is set),
   * never below PAGE_SIZE so that physical address 0 stays a failure value, and reserve what
   * was found.
   *
   * @param size  bytes to allocate
   * @param align alignment, a power of two; 0 becomes SMP_CACHE_BYTES as in the kernel
   * @param start lowest acceptable address
   * @param end   end of the acceptable range (exclusive); MEMBLOCK_ALLOC_ACCESSIBLE means no limit
   * @returns the physical address, or 0 when nothing fits
   */
  phys_alloc_range(size: number, align: number, start: number, end: number): number {
    const alignment = align === 0 ? SMP_CACHE_BYTES : align;
    if (!isPowerOfTwo(alignment)) {
      throw new DmaSimRangeError('memblock_phys_alloc_range', 'align', `${align} is not a power of two`);
    }
    const found = this.findInRange(size, alignment, start, end);
    if (found !== 0) this.reserve(found, size);
    return found;
  }

  /** memblock_find_in_range_node() with __memblock_find_range_top_down(). */
  private findInRange(size: number, align: number, start: number, limit: number): number {
    const lo = Math.max(start, PAGE_SIZE);
    const requested = limit === MEMBLOCK_ALLOC_ACCESSIBLE ? MEMBLOCK_ALLOC_ANYWHERE : limit;
    const hi = Math.max(lo, requested);
    for (const r of this.freeMemRanges().reverse()) {
      const thisStart = clamp(r.base, lo, hi);
      const thisEnd = clamp(end(r), lo, hi);
      if (thisEnd < size) continue;
      const cand = roundDown(thisEnd - size, align);
      if (cand >= thisStart) return cand;
    }
    return 0;
  }
}
