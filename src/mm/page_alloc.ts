// The zoned buddy allocator: mm/page_alloc.c (__free_one_page, expand, __rmqueue_smallest,
// warn_alloc, bad_page), mm/mm_init.c (memblock_free_pages at boot) and mm/debug.c (dump_page).
//
// The kernel threads each zone's free_area[order] lists through struct page; dmasim threads them
// through per-pfn typed arrays, so adding, removing and finding a buddy are O(1) as in C and the
// list order (which decides which block the next allocation returns) is the kernel's: boot
// memory is queued at the tail (FPI_TO_TAIL), split-off halves at the head, and a freed block at
// the tail only when its merged buddy is likely to come free too (buddy_merge_likely).
//
// Not modelled: per-cpu page lists, migrate types, watermarks and lowmem_reserve, reclaim and
// the OOM killer. An allocation fails exactly when no zone allowed by the gfp has a free block
// of the order, so GFP_KERNEL and GFP_ATOMIC behave alike and __GFP_NOFAIL can fail.
//
// Misuse is checked as a CONFIG_DEBUG_VM kernel checks it, and a failed check changes nothing:
// where that kernel BUG()s (VM_BUG_ON_PAGE), dmasim prints the same report and returns.

import { DmaSimRangeError } from '../lib/errors.js';
import { CURRENT_COMM, KERN_ALERT, KERN_WARNING, type KernelLog, type Site } from '../lib/printk.js';
import { WARN_SITES } from '../lib/warn-sites.js';
import { __GFP_NOWARN, formatMode, gfp_zone, type ZoneId, ZONE_DMA, ZONE_NORMAL } from './gfp.js';
import { PAGE_SIZE, pfnToPage } from './memory.js';
import { sharpX, x016 } from '../lib/vsprintf.js';

/** MAX_PAGE_ORDER with 4 KiB pages (CONFIG_ARCH_FORCE_MAX_ORDER unset). */
export const MAX_PAGE_ORDER = 10;
/** The bad_page() burst: 60 reports, then the kernel stays quiet for a minute. */
const BAD_PAGE_BURST = 60;
/** PGTY_buddy, include/linux/page-flags.h: the page_type of a free block's first page. */
const PGTY_BUDDY = 0xf0;

const NIL = -1;

/** A byte table's entry: stored plus one, so that 0 (a new table) reads NIL. */
function get8(t: Int8Array, idx: number): number {
  return (t[idx] ?? 0) - 1;
}

function set8(t: Int8Array, idx: number, value: number): void {
  t[idx] = value + 1;
}

/** A zone as the arch's zone_sizes_init() lays it out: pfns [startPfn, endPfn). */
export interface ZoneSpec {
  /** ZONE_DMA, ZONE_DMA32 or ZONE_NORMAL. */
  readonly id: number;
  readonly startPfn: number;
  readonly endPfn: number;
}

/** A physical byte range handed over by memblock_free_all(). */
export interface PhysRange {
  readonly base: number;
  readonly size: number;
}

export interface PageAllocatorOptions {
  readonly zones: readonly ZoneSpec[];
  readonly log: KernelLog;
  readonly freeRanges: readonly PhysRange[];
}

/** struct zone: its span and its free_area[] list heads and tails (pfn indices, NIL when empty). */
interface Zone {
  readonly spec: ZoneSpec;
  readonly head: Int32Array;
  readonly tail: Int32Array;
  freePages: number;
  managed: number;
}

function pow2(order: number): number {
  return 2 ** order;
}

/** __find_buddy_pfn(): pfn ^ (1 << order), in arithmetic because pfns may exceed 31 bits. */
function buddyPfn(pfn: number, order: number): number {
  const size = pow2(order);
  return Math.floor(pfn / size) % 2 === 0 ? pfn + size : pfn - size;
}

/** The first pfn of the order-aligned block that contains pfn. */
function blockStart(pfn: number, order: number): number {
  return pfn - (pfn % pow2(order));
}

/** __ffs(pfn) capped at MAX_PAGE_ORDER: the largest order pfn is aligned to. */
function alignmentOrder(pfn: number): number {
  let order = 0;
  while (order < MAX_PAGE_ORDER && pfn % pow2(order + 1) === 0) order++;
  return order;
}


function checkInteger(fn: string, arg: string, x: number, min: number): void {
  if (!Number.isSafeInteger(x) || x < min) throw new DmaSimRangeError(fn, arg, `must be an integer >= ${min}, got ${x}`);
}

/**
 * warn_alloc(): one ratelimited line (DEFAULT_RATELIMIT_BURST per 5 s), unless __GFP_NOWARN.
 * The kernel follows it with a stack dump and show_mem(), which dmasim has no use for.
 */
export function warn_alloc(log: KernelLog, gfp: number, text: string): void {
  if (gfp & __GFP_NOWARN) return;
  log.ratelimited('warn_alloc', KERN_WARNING, `${CURRENT_COMM}: ${text}, mode:${formatMode(gfp)}, nodemask=(null)`);
}

export class PageAllocator {
  private readonly log: KernelLog;
  private readonly zoneList: Zone[] = [];
  private readonly byId: (Zone | undefined)[] = [];
  private readonly basePfn: number;
  private readonly spanPages: number;
  /**
   * Per pfn (minus basePfn): list links, the zone, and what the page is. The byte tables hold
   * their value plus one (get8()/set8()), so that a new table reads NIL everywhere without a
   * fill that would touch every page of the span.
   */
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly zoneOfIdx: Int8Array;
  /** buddy_order() of a free block's first page, else NIL (PageBuddy clear). */
  private readonly buddyOrder: Int8Array;
  /** The order of an allocated block at its first page, else NIL (refcount 0 or a tail). */
  private readonly allocOrder: Int8Array;
  /** 1 for pages memblock_free_all() handed over; the rest stay PG_reserved with refcount 1. */
  private readonly managedMap: Uint8Array;
  private badPageReports = 0;
  /**
   * Told of memory that changes owner (a block allocated or freed, a slab object handed out):
   * its physical start and length. The data-aware checker forgets what it knew of those bytes.
   */
  ownerChanged: ((phys: number, len: number) => void) | null = null;

  constructor(opts: PageAllocatorOptions) {
    this.log = opts.log;
    const zones = [...opts.zones].sort((a, b) => a.startPfn - b.startPfn);
    checkZones(zones);
    const spanned = zones.filter((z) => z.endPfn > z.startPfn);
    this.basePfn = spanned[0]?.startPfn ?? 0;
    this.spanPages = (spanned[spanned.length - 1]?.endPfn ?? this.basePfn) - this.basePfn;
    // The links are read only for pages on a free list, and addToFreeList() writes both, as
    // list_add() does: left unfilled, the pages of a sparse span (RAM below 4 GiB and above it,
    // and the hole between) are never touched, which keeps a boot from faulting in megabytes.
    this.next = new Int32Array(this.spanPages);
    this.prev = new Int32Array(this.spanPages);
    this.zoneOfIdx = new Int8Array(this.spanPages);
    this.buddyOrder = new Int8Array(this.spanPages);
    this.allocOrder = new Int8Array(this.spanPages);
    this.managedMap = new Uint8Array(this.spanPages);
    for (const spec of zones) this.addZone(spec);
    for (const r of opts.freeRanges) this.freeBootRange(r);
  }

  // ---- introspection -------------------------------------------------------------------------

  /** Pages the buddy allocator manages in all zones (totalram_pages()). */
  get totalPages(): number {
    return this.zoneList.reduce((n, z) => n + z.managed, 0);
  }

  /** zone_managed_pages(). */
  managed(zoneId: ZoneId): number {
    return this.byId[zoneId]?.managed ?? 0;
  }

  /** zone_page_state(zone, NR_FREE_PAGES). */
  nrFree(zoneId: ZoneId): number {
    return this.byId[zoneId]?.freePages ?? 0;
  }

  /** The zones, lowest first (including empty ones). */
  zones(): readonly ZoneSpec[] {
    return this.zoneList.map((z) => z.spec);
  }

  /** page_zonenum(), or -1 for a pfn no zone spans. */
  zoneOf(pfn: number): ZoneId | -1 {
    const idx = this.index(pfn);
    if (idx === NIL) return -1;
    const id = get8(this.zoneOfIdx, idx);
    return id === NIL ? -1 : (id as ZoneId);
  }

  /** True when pfn lies inside an allocated block. */
  isAllocated(pfn: number): boolean {
    return this.allocatedHead(pfn) !== NIL;
  }

  /** The order of the allocated block whose first page is pfn, or -1. */
  allocatedOrder(pfn: number): number {
    const idx = this.index(pfn);
    return idx === NIL ? -1 : get8(this.allocOrder, idx);
  }

  /** free_area[order] of a zone, first entry first: what the next allocations will take. */
  freeList(zoneId: ZoneId, order: number): number[] {
    const zone = this.byId[zoneId];
    const out: number[] = [];
    if (zone === undefined) return out;
    for (let idx = zone.head[order] ?? NIL; idx !== NIL; idx = this.next[idx] ?? NIL) out.push(this.basePfn + idx);
    return out;
  }

  // ---- allocation ----------------------------------------------------------------------------

  /**
   * alloc_pages(): the first zone of the zonelist that has a block of `order` or larger
   * serves the request, from the highest zone gfp_zone() allows downwards.
   *
   * @returns the first pfn of the block, or -1
   */
  alloc_pages(gfp: number, order: number): number {
    checkInteger('alloc_pages', 'order', order, 0);
    if (order > MAX_PAGE_ORDER) {
      // WARN_ON_ONCE_GFP(order > MAX_PAGE_ORDER, gfp) in __alloc_frozen_pages_noprof().
      if (!(gfp & __GFP_NOWARN)) {
        this.log.warnOnce(WARN_SITES.pageAllocMaxOrder, '');
      }
      return -1;
    }
    for (const zone of this.zonelist(gfp)) {
      const pfn = this.rmqueueSmallest(zone, order);
      if (pfn === NIL) continue;
      this.ownerChanged?.(pfn * PAGE_SIZE, pow2(order) * PAGE_SIZE);
      return pfn;
    }
    warn_alloc(this.log, gfp, `page allocation failure: order:${order}`);
    return -1;
  }

  /**
   * __free_pages(): return a block. Anything but the first page of an allocated block of
   * exactly this order is reported as a CONFIG_DEBUG_VM kernel reports it, and nothing changes.
   */
  free_pages(pfn: number, order: number): void {
    checkInteger('free_pages', 'pfn', pfn, 0);
    checkInteger('free_pages', 'order', order, 0);
    const idx = this.index(pfn);
    if (idx === NIL) return this.reportPoisoned(pfn);
    const allocated = get8(this.allocOrder, idx);
    if (allocated !== NIL && order <= allocated) this.ownerChanged?.(pfn * PAGE_SIZE, pow2(order) * PAGE_SIZE);
    if (allocated === order) return this.freeBlock(idx, order);
    if (allocated !== NIL && order < allocated) return this.freeHeadOnly(idx, order, allocated);
    this.reportBadFree(pfn, idx, order);
  }

  /**
   * A non-compound block freed with a smaller order: ___free_pages() drops the head's only
   * reference and frees the first 2^order pages; the rest of the block is never freed (it
   * leaks, silently, as in the kernel). The leaked pages stay allocated here, split into the
   * buddy-aligned pieces they form, so that the free lists stay exact.
   */
  private freeHeadOnly(idx: number, order: number, allocated: number): void {
    for (let o = order; o < allocated; o++) set8(this.allocOrder, idx + pow2(o), o);
    this.freeBlock(idx, order);
  }

  /**
   * dump_page(): the state line of a struct page and the reason. dmasim prints the first line
   * and the page_type line; the flags and raw lines would show bits it does not track.
   */
  dump_page(pfn: number, reason: string): void {
    const idx = this.index(pfn);
    if (idx === NIL) {
      this.log.pr_warn(`page:${x016(pfnToPage(pfn))} is uninitialized and poisoned`);
    } else {
      const refcount = this.refcount(idx);
      this.log.pr_warn(`page: refcount:${refcount} mapcount:0 mapping:${x016(0)} index:0x0 pfn:${sharpX(pfn)}`);
      if (get8(this.buddyOrder, idx) !== NIL) this.log.pr_warn(`page_type: ${PGTY_BUDDY.toString(16)}(buddy)`);
    }
    this.log.pr_warn(`page dumped because: ${reason}`);
  }

  // ---- zones and boot ------------------------------------------------------------------------

  private addZone(spec: ZoneSpec): void {
    const zone: Zone = {
      spec,
      head: new Int32Array(MAX_PAGE_ORDER + 1).fill(NIL),
      tail: new Int32Array(MAX_PAGE_ORDER + 1).fill(NIL),
      freePages: 0,
      managed: 0,
    };
    if (spec.endPfn > spec.startPfn) this.zoneOfIdx.fill(spec.id + 1, spec.startPfn - this.basePfn, spec.endPfn - this.basePfn);
    this.zoneList.push(zone);
    this.byId[spec.id] = zone;
  }

  /**
   * memblock_free_all() → __free_pages_memory(): whole pages only, in the largest naturally
   * aligned blocks that fit, each queued at the tail (FPI_TO_TAIL) so that the lowest addresses
   * are handed out first. Blocks never straddle a zone boundary.
   */
  private freeBootRange(r: PhysRange): void {
    const start = Math.ceil(r.base / PAGE_SIZE);
    const end = Math.floor((r.base + r.size) / PAGE_SIZE);
    for (let pfn = start; pfn < end; ) {
      const zone = this.zoneAt(pfn);
      if (zone === undefined) {
        throw new DmaSimRangeError('memblock_free_all', 'freeRanges', `pfn ${sharpX(pfn)} lies in no zone`);
      }
      const stop = Math.min(end, zone.spec.endPfn);
      this.freeBootPages(zone, pfn, stop);
      pfn = stop;
    }
  }

  private freeBootPages(zone: Zone, start: number, end: number): void {
    for (let pfn = start; pfn < end; ) {
      let order = alignmentOrder(pfn);
      while (pfn + pow2(order) > end) order--;
      const idx = pfn - this.basePfn;
      this.managedMap.fill(1, idx, idx + pow2(order));
      zone.managed += pow2(order);
      this.freeOnePage(zone, idx, order, true);
      pfn += pow2(order);
    }
  }

  // ---- the buddy algorithm -------------------------------------------------------------------

  /** The zonelist of gfp_zone(gfp): that zone, then every lower one. */
  private zonelist(gfp: number): Zone[] {
    const out: Zone[] = [];
    for (let id = gfp_zone(gfp); id >= ZONE_DMA; id--) {
      const zone = this.byId[id];
      if (zone !== undefined) out.push(zone);
    }
    return out;
  }

  /** __rmqueue_smallest(): the first block of the smallest order that is large enough. */
  private rmqueueSmallest(zone: Zone, order: number): number {
    for (let current = order; current <= MAX_PAGE_ORDER; current++) {
      const idx = zone.head[current] ?? NIL;
      if (idx === NIL) continue;
      this.delFromFreeList(zone, idx, current);
      this.expand(zone, idx, order, current);
      set8(this.allocOrder, idx, order);
      return this.basePfn + idx;
    }
    return NIL;
  }

  /** expand(): keep the lower half, put each upper half at the head of its list. */
  private expand(zone: Zone, idx: number, low: number, high: number): void {
    for (let order = high - 1; order >= low; order--) this.addToFreeList(zone, idx + pow2(order), order, false);
  }

  private freeBlock(idx: number, order: number): void {
    const zone = this.zoneAt(this.basePfn + idx) as Zone;
    set8(this.allocOrder, idx, NIL);
    this.freeOnePage(zone, idx, order, false);
  }

  /**
   * __free_one_page(): merge with the buddy while it is a free block of the same order in the
   * same zone, then queue the result.
   */
  private freeOnePage(zone: Zone, idx: number, order: number, toTail: boolean): void {
    let pfn = this.basePfn + idx;
    let o = order;
    while (o < MAX_PAGE_ORDER) {
      const buddy = buddyPfn(pfn, o);
      if (!this.isBuddy(zone, buddy, o)) break;
      this.delFromFreeList(zone, buddy - this.basePfn, o);
      pfn = Math.min(pfn, buddy);
      o++;
    }
    const tail = toTail || this.buddyMergeLikely(zone, pfn, o);
    this.addToFreeList(zone, pfn - this.basePfn, o, tail);
  }

  /** page_is_buddy(): a free block's first page, of this order, in this zone. */
  private isBuddy(zone: Zone, pfn: number, order: number): boolean {
    const idx = this.index(pfn);
    return idx !== NIL && get8(this.buddyOrder, idx) === order && get8(this.zoneOfIdx, idx) === zone.spec.id;
  }

  /**
   * buddy_merge_likely(): if the block this one would merge into next is itself a buddy of a
   * free block, this one is likely to merge soon, so queue it at the tail to keep it free.
   */
  private buddyMergeLikely(zone: Zone, pfn: number, order: number): boolean {
    if (order >= MAX_PAGE_ORDER - 1) return false;
    const higher = blockStart(pfn, order + 1);
    return this.isBuddy(zone, buddyPfn(higher, order + 1), order + 1);
  }

  private addToFreeList(zone: Zone, idx: number, order: number, toTail: boolean): void {
    const first = zone.head[order] ?? NIL;
    const last = zone.tail[order] ?? NIL;
    if (first === NIL) {
      this.next[idx] = NIL;
      this.prev[idx] = NIL;
      zone.head[order] = idx;
      zone.tail[order] = idx;
    } else if (toTail) {
      this.next[last] = idx;
      this.prev[idx] = last;
      this.next[idx] = NIL;
      zone.tail[order] = idx;
    } else {
      this.prev[first] = idx;
      this.next[idx] = first;
      this.prev[idx] = NIL;
      zone.head[order] = idx;
    }
    set8(this.buddyOrder, idx, order);
    zone.freePages += pow2(order);
  }

  private delFromFreeList(zone: Zone, idx: number, order: number): void {
    const before = this.prev[idx] ?? NIL;
    const after = this.next[idx] ?? NIL;
    if (before === NIL) zone.head[order] = after;
    else this.next[before] = after;
    if (after === NIL) zone.tail[order] = before;
    else this.prev[after] = before;
    set8(this.buddyOrder, idx, NIL);
    zone.freePages -= pow2(order);
  }

  // ---- page state ----------------------------------------------------------------------------

  private index(pfn: number): number {
    const idx = pfn - this.basePfn;
    if (!Number.isSafeInteger(idx) || idx < 0 || idx >= this.spanPages) return NIL;
    return get8(this.zoneOfIdx, idx) === NIL ? NIL : idx;
  }

  private zoneAt(pfn: number): Zone | undefined {
    const id = this.zoneOf(pfn);
    return id === -1 ? undefined : this.byId[id];
  }

  /** page_ref_count(): allocated heads and reserved pages hold a reference, the rest none. */
  private refcount(idx: number): number {
    return get8(this.allocOrder, idx) !== NIL || this.managedMap[idx] === 0 ? 1 : 0;
  }

  /** The first pfn of the allocated block containing pfn, or NIL. */
  private allocatedHead(pfn: number): number {
    for (let order = 0; order <= MAX_PAGE_ORDER; order++) {
      const idx = this.index(blockStart(pfn, order));
      if (idx !== NIL && get8(this.allocOrder, idx) >= order) return this.basePfn + idx;
    }
    return NIL;
  }

  /**
   * page_bad_reason() as free_pages_prepare() applies it to each tail page: the last matching
   * test wins, so a PG_reserved page is reported for its flag rather than its reference.
   */
  private badReason(idx: number): string | null {
    if (this.managedMap[idx] === 0) return 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set';
    if (this.refcount(idx) !== 0) return 'nonzero _refcount';
    if (get8(this.buddyOrder, idx) !== NIL) return 'nonzero mapcount';
    return null;
  }

  // ---- reports -------------------------------------------------------------------------------

  private reportBadFree(pfn: number, idx: number, order: number): void {
    const allocated = get8(this.allocOrder, idx);
    if (this.managedMap[idx] === 0) return this.bad_page(pfn, 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set');
    // put_page_testzero(): a page nobody holds (free, a tail, never allocated) has refcount 0.
    if (allocated === NIL) return this.vmBugOnPage(pfn, 'page_ref_count(page) == 0', WARN_SITES.freePageRefcountBug);
    if (order > MAX_PAGE_ORDER || !this.reportBadTails(pfn, order)) {
      this.vmBugOnPage(pfn, 'compound && compound_order(page) != order', WARN_SITES.freePageOrderBug);
    }
  }

  /** free_pages_prepare() checks every tail of a too-large free; true when one was bad. */
  private reportBadTails(pfn: number, order: number): boolean {
    let found = false;
    for (let i = 1; i < pow2(order); i++) {
      const idx = this.index(pfn + i);
      const reason = idx === NIL ? 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set' : this.badReason(idx);
      if (reason === null) continue;
      this.bad_page(pfn + i, reason);
      found = true;
    }
    return found;
  }

  /** A pfn outside every zone has no initialised struct page (PF_POISONED_CHECK). */
  private reportPoisoned(pfn: number): void {
    this.vmBugOnPage(pfn, 'PagePoisoned(page)', WARN_SITES.pagePoisonedBug);
  }

  /**
   * bad_page(): the alert, dump_page() with the reason, and the page left alone. After
   * BAD_PAGE_BURST reports the kernel goes quiet for a minute; dmasim, having no clock here,
   * stays quiet for good.
   */
  private bad_page(pfn: number, reason: string): void {
    if (this.badPageReports++ >= BAD_PAGE_BURST) return;
    const pfnText = pfn.toString(16).padStart(5, '0');
    this.log.printk(KERN_ALERT, `BUG: Bad page state in process ${CURRENT_COMM}  pfn:${pfnText}`);
    this.dump_page(pfn, reason);
  }

  /**
   * VM_BUG_ON_PAGE(cond, page): dump_page() with the stringified condition, then BUG(). The
   * kernel kills the calling task there; dmasim prints the BUG line and returns unchanged.
   */
  private vmBugOnPage(pfn: number, cond: string, site: Site): void {
    this.dump_page(pfn, `VM_BUG_ON_PAGE(${cond})`);
    this.log.reportBug(site);
  }
}

/** Zones must be well-formed and disjoint: the arch code computes them from sorted banks. */
function checkZones(zones: readonly ZoneSpec[]): void {
  let previousEnd = -Infinity;
  for (const z of zones) {
    const valid = Number.isSafeInteger(z.startPfn) && Number.isSafeInteger(z.endPfn) && z.startPfn <= z.endPfn;
    if (!valid || !Number.isInteger(z.id) || z.id < ZONE_DMA || z.id > ZONE_NORMAL) {
      throw new DmaSimRangeError('PageAllocator', 'zones', `zone ${z.id} [${z.startPfn}, ${z.endPfn}) is malformed`);
    }
    if (z.startPfn < previousEnd && z.startPfn !== z.endPfn) {
      throw new DmaSimRangeError('PageAllocator', 'zones', `zone ${z.id} overlaps the zone below it`);
    }
    if (z.startPfn !== z.endPfn) previousEnd = z.endPfn;
  }
}
