// kmalloc and kfree over the SLUB allocator: mm/slub.c (slab pages, freelists, kfree, the
// slub_debug consistency checks and their reports) and mm/slab_common.c (the kmalloc size
// classes, create_kmalloc_caches, kmalloc_size_roundup, kmalloc_fix_flags).
//
// Objects live in simulated RAM, but the bookkeeping does not: each slab's freelist is a host
// array, not a pointer chain written into free objects, so a driver scribbling over freed memory
// cannot corrupt the allocator (nor be caught by it; dma-debug and the cache model do that).
//
// Modelled as a kernel with slub_debug=F (SLAB_CONSISTENCY_CHECKS) on the kmalloc caches, so
// that a bad kfree() is reported instead of corrupting a freelist; no red zones, poisoning or
// alloc/free tracking, hence no hex dumps in the reports. Pointers print unhashed (as with
// no_hash_pointers), the taint is not tracked ("Not tainted" throughout), and the page flags
// of a slab are not printed.
//
// Per-CPU slabs, sheaves and cpu partial lists collapse into one active slab per cache plus the
// node partial list. A slab that becomes empty goes back to the page allocator once the partial
// list already holds min_partial slabs, as __slab_free() decides.

import { DmaSimRangeError } from '../lib/errors.js';
import { KERN_WARNING, type KernelLog } from '../lib/printk.js';
import { WARN_SITES } from '../lib/warn-sites.js';
import {
  __GFP_BITS_MASK, __GFP_COMP, __GFP_DIRECT_RECLAIM, __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM,
  __GFP_NOFAIL, __GFP_NOMEMALLOC, __GFP_NORETRY, __GFP_NOWARN, __GFP_RECLAIM, __GFP_RECLAIMABLE,
  formatGfp, formatMode, GFP_CONSTRAINT_MASK, GFP_DMA, GFP_RECLAIM_MASK,
} from './gfp.js';
import { __pa, __va, getOrder, PAGE_SHIFT, PAGE_SIZE, pfnToPage } from './memory.js';
import { MAX_PAGE_ORDER, type PageAllocator } from './page_alloc.js';
import { sharpX, x016 } from '../lib/vsprintf.js';

/** include/linux/slab.h: ZERO_SIZE_PTR, what kmalloc(0) returns; kfree() ignores it. */
export const ZERO_SIZE_PTR = 16;
/** KMALLOC_SHIFT_LOW: the smallest kmalloc cache is kmalloc-8 (ARCH_KMALLOC_MINALIGN is 8). */
const KMALLOC_SHIFT_LOW = 3;
/** KMALLOC_SHIFT_HIGH for SLUB: two pages; larger requests go to the page allocator. */
const KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1;
export const KMALLOC_MAX_CACHE_SIZE = 2 ** KMALLOC_SHIFT_HIGH;
/** KMALLOC_MAX_SIZE: the largest block the page allocator can return. */
export const KMALLOC_MAX_SIZE = PAGE_SIZE * 2 ** MAX_PAGE_ORDER;
/** ARCH_KMALLOC_MINALIGN on arm64 and x86_64, fixed at build time. */
const ARCH_KMALLOC_MINALIGN = 8;
/** mm/slab.h: flags no slab page may be allocated with; kmalloc_fix_flags() strips them. */
const GFP_SLAB_BUG_MASK = (__GFP_DMA32 | __GFP_HIGHMEM | ~__GFP_BITS_MASK) >>> 0;

/** calculate_order() inputs: num_present_cpus() of the simulated machine, slab_max_order. */
const NR_CPUS = 4;
const SLUB_MAX_ORDER = 3;
const MAX_OBJS_PER_PAGE = 32767;
/** MIN_PARTIAL and MAX_PARTIAL bound a cache's min_partial. */
const MIN_PARTIAL = 5;
const MAX_PARTIAL = 10;

/** enum kmalloc_cache_type (without memcg and random caches) and the name prefixes. */
const KMALLOC_NORMAL = 0;
const KMALLOC_RECLAIM = 1;
const KMALLOC_DMA = 2;
const TYPE_PREFIX = ['kmalloc-', 'kmalloc-rcl-', 'dma-kmalloc-'] as const;
const TYPE_ALLOCFLAGS = [0, __GFP_RECLAIMABLE, GFP_DMA] as const;

/** kmalloc_size_index[]: size/8 to the kmalloc index for sizes up to 192 (index 1 is 96, 2 is 192). */
const KMALLOC_SIZE_INDEX = [3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2];

/** struct kmem_cache, reduced to what kmalloc needs. */
interface KmemCache {
  readonly name: string;
  /** object_size == size: no debug metadata is laid out. */
  readonly size: number;
  /** oo and min: the preferred slab order and the smallest that holds one object. */
  readonly order: number;
  readonly minOrder: number;
  readonly allocflags: number;
  readonly minPartial: number;
  active: SlabPage | null;
  readonly partial: SlabPage[];
  nrSlabs: number;
  nrObjects: number;
}

/** struct slab: its pages, and which objects are free (a LIFO stack: the freelist). */
interface SlabPage {
  readonly cache: KmemCache;
  readonly pfn: number;
  readonly order: number;
  readonly objects: number;
  readonly free: number[];
  readonly inuse: Uint8Array;
}

export interface SlabOptions {
  readonly pages: PageAllocator;
  readonly log: KernelLog;
  /** __kmalloc_minalign(), decided by the arch and swiotlb. */
  readonly minalign: number;
}

/** A live allocation, for checkers that need to know what an address belongs to. */
export interface SlabObject {
  readonly start: number;
  readonly size: number;
}

function pow2(n: number): number {
  return 2 ** n;
}

/** fls(): the 1-based index of the highest set bit, 0 for 0. */
function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}


function kmallocInfoSize(index: number): number {
  if (index === 1) return 96;
  if (index === 2) return 192;
  return pow2(index);
}

function kmallocInfoName(index: number): string {
  const size = kmallocInfoSize(index);
  return size >= 1024 ? `${size / 1024}k` : `${size}`;
}

/** __kmalloc_index(): the index of the smallest kmalloc cache for `size`. */
function kmallocIndex(size: number): number {
  if (size <= 192) return KMALLOC_SIZE_INDEX[Math.floor((size - 1) / 8)] ?? KMALLOC_SHIFT_LOW;
  return fls(size - 1);
}

/** kmalloc_type(): __GFP_DMA wins over __GFP_RECLAIMABLE; anything else is a normal cache. */
function kmallocType(gfp: number): number {
  if (gfp & __GFP_DMA) return KMALLOC_DMA;
  if (gfp & __GFP_RECLAIMABLE) return KMALLOC_RECLAIM;
  return KMALLOC_NORMAL;
}

function orderObjects(order: number, size: number): number {
  return Math.floor((PAGE_SIZE * pow2(order)) / size);
}

/** calc_slab_order(): the smallest order whose leftover is at most 1/fraction of the slab. */
function calcSlabOrder(size: number, minOrder: number, fraction: number): number {
  let order = minOrder;
  for (; order <= SLUB_MAX_ORDER; order++) {
    const slabSize = PAGE_SIZE * pow2(order);
    if (slabSize % size <= slabSize / fraction) break;
  }
  return order;
}

/** calculate_order(), with min_objects = 4 * (fls(nr_cpus) + 1). */
function calculateOrder(size: number): number {
  const maxObjects = Math.max(orderObjects(SLUB_MAX_ORDER, size), 1);
  const minObjects = Math.min(4 * (fls(NR_CPUS) + 1), maxObjects);
  const minOrder = getOrder(minObjects * size);
  if (orderObjects(minOrder, size) > MAX_OBJS_PER_PAGE) return getOrder(size * MAX_OBJS_PER_PAGE) - 1;
  for (let fraction = 16; fraction > 1; fraction /= 2) {
    const order = calcSlabOrder(size, minOrder, fraction);
    if (order <= SLUB_MAX_ORDER) return order;
  }
  return getOrder(size);
}

/** set_min_partial(s, ilog2(s->size) / 2), clamped to [MIN_PARTIAL, MAX_PARTIAL]. */
function minPartial(size: number): number {
  return Math.max(MIN_PARTIAL, Math.min(MAX_PARTIAL, Math.floor(Math.floor(Math.log2(size)) / 2)));
}

function createKmallocCache(name: string, size: number, type: number): KmemCache {
  const order = calculateOrder(size);
  const allocflags = TYPE_ALLOCFLAGS[type as 0 | 1 | 2] | (order > 0 ? __GFP_COMP : 0);
  return {
    name, size, order, minOrder: getOrder(size), allocflags, minPartial: minPartial(size),
    active: null, partial: [], nrSlabs: 0, nrObjects: 0,
  };
}

export class Slab {
  private readonly pages: PageAllocator;
  private readonly log: KernelLog;
  /** kmalloc_caches[type][index]; several indices may share one cache when minalign > 8. */
  private readonly caches: (KmemCache | undefined)[][] = [[], [], []];
  /** virt_to_slab(): every page of every slab. */
  private readonly slabOfPfn = new Map<number, SlabPage>();
  /** folio_test_large_kmalloc(): every page of a large kmalloc, to its first pfn and order. */
  private readonly largeOfPfn = new Map<number, { readonly head: number; readonly order: number }>();
  private live = 0;

  constructor(opts: SlabOptions) {
    this.pages = opts.pages;
    this.log = opts.log;
    const m = opts.minalign;
    if (!Number.isSafeInteger(m) || m < 1 || m > 256 || (m & (m - 1)) !== 0) {
      throw new DmaSimRangeError('Slab', 'minalign', `${m} is not a power of two up to 256`);
    }
    for (let type = KMALLOC_NORMAL; type <= KMALLOC_DMA; type++) this.createKmallocCaches(type, opts.minalign);
  }

  /** Objects handed out and not yet freed (large kmallocs included). */
  get liveObjects(): number {
    return this.live;
  }

  // ---- kmalloc -------------------------------------------------------------------------------

  /**
   * kmalloc(): a kernel virtual address in the linear map, NULL (0) on failure, ZERO_SIZE_PTR
   * for size 0.
   */
  kmalloc(size: number, gfp: number): number {
    if (!Number.isSafeInteger(size) || size < 0) throw new DmaSimRangeError('kmalloc', 'size', `${size} is not a size`);
    if (size > KMALLOC_MAX_CACHE_SIZE) return this.kmallocLarge(size, gfp);
    if (size === 0) return ZERO_SIZE_PTR;
    return this.slabAlloc(this.kmallocSlab(size, gfp), gfp);
  }

  /** kmalloc_size_roundup(): the size kmalloc() would actually give for `size`. */
  kmalloc_size_roundup(size: number): number {
    if (size > 0 && size <= KMALLOC_MAX_CACHE_SIZE) return this.kmallocSlab(size, 0).size;
    if (size > 0 && size <= KMALLOC_MAX_SIZE) return PAGE_SIZE * pow2(getOrder(size));
    return size;
  }

  /** The cache kmalloc(size, gfp) uses: its name, object size and slab order. */
  kmallocCache(size: number, gfp: number): { readonly name: string; readonly size: number; readonly order: number } | null {
    if (size <= 0 || size > KMALLOC_MAX_CACHE_SIZE) return null;
    const s = this.kmallocSlab(size, gfp);
    return { name: s.name, size: s.size, order: s.order };
  }

  // ---- kfree and queries ---------------------------------------------------------------------

  /** kfree(): NULL and ZERO_SIZE_PTR are ignored; misuse is reported and changes nothing. */
  kfree(object: number): void {
    if (object >= 0 && object <= ZERO_SIZE_PTR) return;
    const pfn = this.pfnOf(object);
    const slab = this.slabOfPfn.get(pfn);
    if (slab !== undefined) return this.slabFree(slab, object);
    const large = this.largeOfPfn.get(pfn);
    if (large !== undefined) return this.freeLargeKmalloc(large.head, large.order);
    this.notKmalloc(pfn);
  }

  /** ksize(): the usable size of the allocation ptr points into; 0 when it is not kmalloc memory. */
  ksize(object: number): number {
    if (object >= 0 && object <= ZERO_SIZE_PTR) return 0;
    const pfn = this.pfnOf(object);
    const slab = this.slabOfPfn.get(pfn);
    if (slab !== undefined) return slab.cache.size;
    const large = this.largeOfPfn.get(pfn);
    return large === undefined ? 0 : PAGE_SIZE * pow2(large.order);
  }

  /** The name of the kmalloc cache ptr belongs to; null for large kmallocs and other memory. */
  cacheName(object: number): string | null {
    return this.slabOfPfn.get(this.pfnOf(object))?.cache.name ?? null;
  }

  /** The live object (slab object or large kmalloc) containing virt, or null. */
  objectAt(virt: number): SlabObject | null {
    const pfn = this.pfnOf(virt);
    const slab = this.slabOfPfn.get(pfn);
    if (slab !== undefined) {
      const index = Math.floor((virt - this.slabBase(slab)) / slab.cache.size);
      if (index >= slab.objects || slab.inuse[index] !== 1) return null;
      return { start: this.slabBase(slab) + index * slab.cache.size, size: slab.cache.size };
    }
    const large = this.largeOfPfn.get(pfn);
    if (large === undefined) return null;
    return { start: __va(large.head * PAGE_SIZE), size: PAGE_SIZE * pow2(large.order) };
  }

  // ---- caches --------------------------------------------------------------------------------

  /**
   * create_kmalloc_caches() → new_kmalloc_cache(): with a minalign above ARCH_KMALLOC_MINALIGN
   * every size is rounded up to it and the indices in between share the larger cache
   * (minalign 64: kmalloc-8 … kmalloc-64 are one cache, 96 becomes kmalloc-128).
   */
  private createKmallocCaches(type: number, minalign: number): void {
    const table = this.caches[type] as (KmemCache | undefined)[];
    const indices = [1, 2];
    for (let i = KMALLOC_SHIFT_LOW; i <= KMALLOC_SHIFT_HIGH; i++) indices.push(i);
    for (const index of indices) {
      let size = kmallocInfoSize(index);
      let aligned = index;
      if (minalign > ARCH_KMALLOC_MINALIGN) {
        size = Math.ceil(size / minalign) * minalign;
        aligned = kmallocIndex(size);
      }
      table[aligned] ??= createKmallocCache(`${TYPE_PREFIX[type as 0 | 1 | 2]}${kmallocInfoName(aligned)}`, size, type);
      table[index] = table[aligned];
    }
  }

  /** kmalloc_slab(). */
  private kmallocSlab(size: number, gfp: number): KmemCache {
    return this.caches[kmallocType(gfp)]?.[kmallocIndex(size)] as KmemCache;
  }

  // ---- allocation ----------------------------------------------------------------------------

  /** slab_alloc_node(): the active slab, else the first partial slab, else a new slab. */
  private slabAlloc(s: KmemCache, gfp: number): number {
    let slab = s.active;
    if (slab === null || slab.free.length === 0) {
      slab = s.partial.shift() ?? this.newSlab(s, gfp);
      if (slab === null) {
        this.slabOutOfMemory(s, gfp);
        return 0;
      }
      s.active = slab;
    }
    const index = slab.free.pop() as number;
    slab.inuse[index] = 1;
    this.live++;
    const object = this.slabBase(slab) + index * s.size;
    this.pages.ownerChanged?.(__pa(object), s.size);
    return object;
  }

  /**
   * new_slab() → allocate_slab(): flags bad for slab pages are fixed up with a warning, the
   * preferred order is tried quietly, then the minimum order with the caller's own flags.
   */
  private newSlab(s: KmemCache, gfp: number): SlabPage | null {
    let flags = gfp;
    if ((flags & GFP_SLAB_BUG_MASK) !== 0) flags = this.kmallocFixFlags(flags);
    flags = ((flags & (GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK)) | s.allocflags) >>> 0;
    let order = s.order;
    let pfn = this.pages.alloc_pages(this.quietGfp(flags, s), order);
    if (pfn < 0) {
      order = s.minOrder;
      pfn = this.pages.alloc_pages(flags, order);
      if (pfn < 0) return null;
    }
    return this.setupSlab(s, pfn, order);
  }

  /** allocate_slab()'s first attempt: no warning, no retrying, no reclaim for a costly order. */
  private quietGfp(flags: number, s: KmemCache): number {
    let g = ((flags | __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_NOFAIL) >>> 0;
    if (g & __GFP_DIRECT_RECLAIM && s.order > s.minOrder) g = ((g | __GFP_NOMEMALLOC) & ~__GFP_RECLAIM) >>> 0;
    return g;
  }

  /** The freelist starts in address order, so the first object handed out is the lowest. */
  private setupSlab(s: KmemCache, pfn: number, order: number): SlabPage {
    const objects = orderObjects(order, s.size);
    const free: number[] = [];
    for (let i = objects - 1; i >= 0; i--) free.push(i);
    const slab: SlabPage = { cache: s, pfn, order, objects, free, inuse: new Uint8Array(objects) };
    for (let i = 0; i < pow2(order); i++) this.slabOfPfn.set(pfn + i, slab);
    s.nrSlabs++;
    s.nrObjects += objects;
    return slab;
  }

  /** __kmalloc_large_node(): whole pages, a compound folio marked as a large kmalloc. */
  private kmallocLarge(size: number, gfp: number): number {
    let flags = gfp;
    if ((flags & GFP_SLAB_BUG_MASK) !== 0) flags = this.kmallocFixFlags(flags);
    const order = getOrder(size);
    const pfn = this.pages.alloc_pages((flags | __GFP_COMP) >>> 0, order);
    if (pfn < 0) return 0;
    for (let i = 0; i < pow2(order); i++) this.largeOfPfn.set(pfn + i, { head: pfn, order });
    this.live++;
    return __va(pfn * PAGE_SIZE);
  }

  /** kmalloc_fix_flags(): strip GFP_SLAB_BUG_MASK and say so. */
  private kmallocFixFlags(gfp: number): number {
    const invalid = (gfp & GFP_SLAB_BUG_MASK) >>> 0;
    const fixed = (gfp & ~GFP_SLAB_BUG_MASK) >>> 0;
    const shown = (g: number): string => `${sharpX(g)} (${formatGfp(g)})`;
    this.log.pr_warn(`Unexpected gfp: ${shown(invalid)}. Fixing up to gfp: ${shown(fixed)}. Fix your code!`);
    return fixed;
  }

  /** slab_out_of_memory(): ratelimited, silent under __GFP_NOWARN. */
  private slabOutOfMemory(s: KmemCache, gfp: number): void {
    if (gfp & __GFP_NOWARN) return;
    const free = s.partial.reduce((n, slab) => n + slab.free.length, 0);
    const lines = [
      `SLUB: Unable to allocate memory on CPU 0 (of node 0) on node -1, gfp=${formatMode(gfp)}`,
      `  cache: ${s.name}, object size: ${s.size}, buffer size: ${s.size}, default order: ${s.order}, min order: ${s.minOrder}`,
      `  node 0: slabs: ${s.nrSlabs}, objs: ${s.nrObjects}, free: ${free}`,
    ];
    this.log.ratelimited('slab_out_of_memory', KERN_WARNING, lines.join('\n'));
  }

  // ---- free ----------------------------------------------------------------------------------

  /** free_debug_processing() checks, then __slab_free(). */
  private slabFree(slab: SlabPage, object: number): void {
    const s = slab.cache;
    const offset = object - this.slabBase(slab);
    if (offset % s.size !== 0 || offset / s.size >= slab.objects) {
      this.slabErr(slab, `Invalid object pointer 0x${x016(object)}`);
      return this.slabFix(s, object);
    }
    const index = offset / s.size;
    if (slab.inuse[index] !== 1) {
      this.objectErr(slab, object, index, 'Object already free');
      return this.slabFix(s, object);
    }
    const wasFull = slab.free.length === 0;
    slab.inuse[index] = 0;
    slab.free.push(index);
    this.live--;
    if (slab !== s.active) this.slabFreeSlowpath(slab, wasFull);
  }

  /**
   * __slab_free(): an empty slab is discarded once the partial list holds min_partial slabs;
   * a slab that was full and now has room joins the partial list at its tail.
   */
  private slabFreeSlowpath(slab: SlabPage, wasFull: boolean): void {
    const s = slab.cache;
    if (slab.free.length === slab.objects && s.partial.length >= s.minPartial) {
      const at = s.partial.indexOf(slab);
      if (at >= 0) s.partial.splice(at, 1);
      return this.discardSlab(slab);
    }
    if (wasFull) s.partial.push(slab);
  }

  /** discard_slab(): the pages go back to the buddy allocator. */
  private discardSlab(slab: SlabPage): void {
    for (let i = 0; i < pow2(slab.order); i++) this.slabOfPfn.delete(slab.pfn + i);
    slab.cache.nrSlabs--;
    slab.cache.nrObjects -= slab.objects;
    this.pages.free_pages(slab.pfn, slab.order);
  }

  /** free_large_kmalloc(): the whole folio, whatever page of it ptr points into, as in C. */
  private freeLargeKmalloc(head: number, order: number): void {
    for (let i = 0; i < pow2(order); i++) this.largeOfPfn.delete(head + i);
    this.live--;
    this.pages.free_pages(head, order);
  }

  /**
   * free_large_kmalloc() on a page that is neither a slab nor a large kmalloc (a double free of
   * a large kmalloc, or a pointer kmalloc never returned): WARN_ON_ONCE, then dump_page().
   */
  private notKmalloc(pfn: number): void {
    this.log.warnOnce(WARN_SITES.slubFreeLargeKmalloc, '');
    this.pages.dump_page(pfn, 'Not a kmalloc allocation');
  }

  // ---- slub_debug reports --------------------------------------------------------------------

  /** slab_bug(): the banner. */
  private slabBug(s: KmemCache, text: string): void {
    this.log.pr_err('=============================================================================');
    this.log.pr_err(`BUG ${s.name} (Not tainted): ${text}`);
    this.log.pr_err('-----------------------------------------------------------------------------\n\n');
  }

  /** print_slab_info(), without the page flags. */
  private printSlabInfo(slab: SlabPage): void {
    const head = slab.free[slab.free.length - 1];
    const fp = head === undefined ? 0 : this.slabBase(slab) + head * slab.cache.size;
    const used = slab.objects - slab.free.length;
    this.log.pr_err(`Slab 0x${x016(pfnToPage(slab.pfn))} objects=${slab.objects} used=${used} fp=0x${x016(fp)}`);
  }

  /** object_err(): banner, print_trailer() (without hex dumps), WARN_ON(1). */
  private objectErr(slab: SlabPage, object: number, index: number, reason: string): void {
    this.slabBug(slab.cache, reason);
    this.printSlabInfo(slab);
    const at = slab.free.indexOf(index);
    const next = at > 0 ? slab.free[at - 1] : undefined;
    const fp = next === undefined ? 0 : this.slabBase(slab) + next * slab.cache.size;
    this.log.pr_err(`Object 0x${x016(object)} @offset=${object - this.slabBase(slab)} fp=0x${x016(fp)}\n\n`);
    this.log.warn(WARN_SITES.slubObjectErr, '');
  }

  /** slab_err(): banner, print_slab_info(), WARN_ON(1). */
  private slabErr(slab: SlabPage, text: string): void {
    this.slabBug(slab.cache, text);
    this.printSlabInfo(slab);
    this.log.warn(WARN_SITES.slubSlabErr, '');
  }

  /** free_debug_processing()'s verdict when a check failed. */
  private slabFix(s: KmemCache, object: number): void {
    this.log.pr_err(`FIX ${s.name}: Object at 0x${x016(object)} not freed`);
  }

  // ---- addresses -----------------------------------------------------------------------------

  private slabBase(slab: SlabPage): number {
    return __va(slab.pfn * PAGE_SIZE);
  }

  /**
   * virt_to_pfn(): only linear-map addresses can be kmalloc memory; for any other address the
   * arithmetic still yields a pfn, of no struct page, as it does in C.
   */
  private pfnOf(virt: number): number {
    return Math.floor(__pa(virt) / PAGE_SIZE);
  }
}
