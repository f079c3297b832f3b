// The IOVA allocator: drivers/iommu/iova.c and the inlines of include/linux/iova.h, mainline
// v6.8–v6.18 (the rbtree allocator with cached nodes, the per-CPU magazine rcache and its depot
// trimmed by delayed work). dma-iommu.ts allocates every IOVA range through an IovaDomain.
// Placement, the movement of cached_node/cached32_node, max32_alloc_size and the order of pfns
// in the magazines follow the kernel line by line, so the same sequence of maps and unmaps gets
// the same IOVAs as it would on Linux.
//
//   struct iova: pfn_lo and pfn_hi in two Float64Arrays indexed by the id of its rb_node in an
//   RbTree (lib/rbtree.ts; id 0 is NIL, id 1 the anchor)
//
// A node id stands for the kernel's `struct iova *` (an `Iova`, 0 for NULL). It stays the same
// while the node is in the tree, so cached_node, cached32_node and the insertion hint are ids.
// ~100k live ranges cost O(log n) per insert, erase and lookup; an rcache hit or insert touches
// no tree and allocates nothing.
//
//   rcaches[order], order 0..5 (struct iova_rcache; dmasim has one online CPU, whose
//   iova_cpu_rcache `loaded`/`prev` pair is kept in the rcache itself)
//   loaded -> IovaMagazine { size, pfns: Float64Array(127) }
//   prev   -> IovaMagazine
//   depot  -> full magazine -> full magazine -> ... (linked by `next`, depot_size of them)
//
// Where dmasim differs from the kernel (each place is marked "deviation" below):
// - pfns are JS numbers, so every pfn and limit_pfn + 1 must be below 2^53 - 1; IOVA_ANCHOR
//   (~0UL) is Number.MAX_SAFE_INTEGER. With a 4 KiB granule a 64-bit mask is pfn 2^52 - 1.
// - The domain is init_iova_domain() and iova_domain_init_rcaches() in one constructor;
//   put_iova_domain() leaves it as freshly initialised instead of freed.
// - Magazine allocation (GFP_ATOMIC) never fails, so __iova_rcache_insert() always succeeds.
// - There are no timers: schedule_delayed_work() sets a pending flag and calls
//   onDepotWorkScheduled; the host runs iova_depot_work_func() from simulated time with
//   runDepotWork(), IOVA_DEPOT_DELAY_MS after it was scheduled.
// - lib/rbtree.ts balances as CLRS does, not as lib/rbtree.c, so the tree's shape can differ
//   from Linux's; only iova_find_limit() looks at the shape, and it finds an equivalent start.
// - iova_size() and iova_dma_addr() take the domain as well, since an Iova is a node id.
// - Bad input the kernel would trust: __free_iova() of a stale handle or of the anchor, and
//   free_iova() of IOVA_ANCHOR, do nothing. free_iova_fast() trusts its pfn as the kernel does
//   (a bogus pfn goes into a magazine and may be handed out again); the tree itself cannot be
//   corrupted that way, because iova_magazine_free_pfns() WARNs and skips pfns it does not find.

import { KernelBug } from '../lib/errors.js';
import { RB_NIL, RbTree, resized } from '../lib/rbtree.js';
import { PAGE_SIZE } from '../mm/memory.js';
import type { Site } from '../lib/printk.js';
import { WARN_SITES } from '../lib/warn-sites.js';

/** The anchor node sits above the top of the usable address space (~0UL in the kernel). */
export const IOVA_ANCHOR = Number.MAX_SAFE_INTEGER;
/** log2 of the largest range (in granules) the rcache holds, plus one: orders 0..5. */
export const IOVA_RANGE_CACHE_MAX_SIZE = 6;
/** pfns per magazine: 127 + the size word make a 1 KiB kmalloc object. */
export const IOVA_MAG_SIZE = 127;
/** IOVA_DEPOT_DELAY, msecs_to_jiffies(100): how long after a depot push the trim work runs. */
export const IOVA_DEPOT_DELAY_MS = 100;

/** alloc_iova_fast() rounds sizes below this up to a power of two: 1 << (IOVA_RANGE_CACHE_MAX_SIZE - 1). */
const IOVA_ROUNDUP_LIMIT = 1 << (IOVA_RANGE_CACHE_MAX_SIZE - 1);
/** num_online_cpus(): dmasim has one CPU. */
const NUM_ONLINE_CPUS = 1;
/** Freed magazines kept for reuse, so steady-state depot traffic allocates nothing. */
const SPARE_MAGAZINES = 64;

/** A `struct iova *`: a node id of its domain, 0 for NULL. */
export type Iova = number;

const NIL = RB_NIL;
const ANCHOR = 1;

/** fls_long(): the 1-based index of the highest set bit, 0 for 0 (x < 2^53). */
function fls_long(x: number): number {
  return x < 4294967296 ? 32 - Math.clz32(x) : 64 - Math.clz32(Math.floor(x / 4294967296));
}

/** struct iova_magazine. The kernel overlays `size` and `next`; only full magazines have a next. */
export class IovaMagazine {
  size = 0;
  next: IovaMagazine | null = null;
  readonly pfns = new Float64Array(IOVA_MAG_SIZE);
}

/** struct iova_rcache with the one CPU's struct iova_cpu_rcache folded in. */
export class IovaRcache {
  depot: IovaMagazine | null = null;
  depot_size = 0;
  /** The delayed work is queued (work_pending()); cleared just before the work function runs. */
  work_pending = false;

  constructor(readonly order: number, public loaded: IovaMagazine, public prev: IovaMagazine) {}
}

/** Counters the host reports; not kernel state. */
export class IovaStats {
  /** alloc_iova_fast() calls answered from a magazine. */
  rcacheHits = 0;
  /** free_iova_fast() calls that went into a magazine. */
  rcacheInserts = 0;
  /** Ranges inserted into the tree by alloc_iova() (reservations not included). */
  treeAllocs = 0;
  /** Ranges removed from the tree (free_iova(), __free_iova(), magazine flushes and trims). */
  treeFrees = 0;
  /** alloc_iova_fast() calls that returned 0. */
  allocFailures = 0;
  /** Times alloc_iova_fast() flushed every rcache back into the tree to retry. */
  rcacheFlushes = 0;
  /** WARN_ON()s that fired. */
  warnings = 0;
}

/**
 * struct iova_domain: one IOVA space of `granule`-sized pfns from `start_pfn` up.
 *
 * see: drivers/iommu/iova.c init_iova_domain(), iova_domain_init_rcaches()
 */
export class IovaDomain {
  readonly granule: number;
  /** iova_shift(): __ffs(granule). */
  readonly shift: number;
  /**
   * 1 / granule, exact: iova_pfn() multiplies by it, since `>>` stops at 32 bits and a divide
   * costs several times a multiply.
   */
  readonly pfnScale: number;
  readonly start_pfn: number;
  readonly dma_32bit_pfn: number;
  /** Size of the last failed 32-bit allocation: anything as large fails at once. */
  max32_alloc_size: number;
  cached_node: Iova = ANCHOR;
  cached32_node: Iova = ANCHOR;
  readonly rcaches: readonly IovaRcache[];
  readonly stats = new IovaStats();
  /** Called where the kernel would WARN_ON(); the site names the function. */
  onWarn: ((site: Site, text: string) => void) | null = null;
  /** Called when a depot trim goes from idle to pending; the host runs it IOVA_DEPOT_DELAY_MS later. */
  onDepotWorkScheduled: ((order: number) => void) | null = null;

  /** The rb_nodes of every struct iova; the anchor is node ANCHOR. */
  private readonly tree = new RbTree();
  private pfnLo = new Float64Array(this.tree.capacity);
  private pfnHi = new Float64Array(this.tree.capacity);
  private pendingWork = 0;
  private readonly spareMags: IovaMagazine[] = [];
  /** ULLONG_MAX >> iova_shift(): reserve_iova() refuses pfns above it. */
  private readonly maxPfn: number;

  /**
   * init_iova_domain() followed by iova_domain_init_rcaches().
   * @param granule the IOMMU's smallest page size, a power of two no larger than PAGE_SIZE
   * @param start_pfn the lowest pfn ever handed out (dma-iommu uses max(1, aperture start))
   */
  constructor(granule: number, start_pfn: number) {
    // IOVA granularity is normally the smallest IOMMU page size; both must represent CPU pages exactly.
    if (granule > PAGE_SIZE || !(granule > 0) || (granule & (granule - 1)) !== 0) {
      throw new KernelBug(`BUG_ON((granule > PAGE_SIZE) || !is_power_of_2(granule)) in ${WARN_SITES.iovaGranule.fn} (${WARN_SITES.iovaGranule.file})`);
    }
    this.granule = granule;
    this.shift = 31 - Math.clz32(granule);
    this.pfnScale = 1 / granule;
    this.start_pfn = start_pfn;
    this.dma_32bit_pfn = 2 ** (32 - this.shift);
    this.max32_alloc_size = this.dma_32bit_pfn;
    // deviation: beyond 2^53 a pfn is not exact; the anchor's value is the cap.
    this.maxPfn = Math.min(2 ** (64 - this.shift) - 1, IOVA_ANCHOR - 1);
    this.initAnchor();
    const rcaches: IovaRcache[] = [];
    for (let i = 0; i < IOVA_RANGE_CACHE_MAX_SIZE; i++) rcaches.push(new IovaRcache(i, new IovaMagazine(), new IovaMagazine()));
    this.rcaches = rcaches;
  }

  /** init_iova_domain()'s anchor: the first node, alone in the tree. */
  private initAnchor(): void {
    const anchor = this.alloc_iova_mem(IOVA_ANCHOR, IOVA_ANCHOR);
    this.tree.rb_link_node(anchor, NIL, false);
    this.tree.rb_insert_color(anchor);
  }

  /** iova->pfn_lo */
  pfn_lo(iova: Iova): number {
    return this.pfnLo[iova] as number;
  }

  /** iova->pfn_hi */
  pfn_hi(iova: Iova): number {
    return this.pfnHi[iova] as number;
  }

  /** Ranges in the tree (allocated, cached in magazines, reserved), without the anchor. */
  get nrIovas(): number {
    return this.tree.count - 1;
  }

  /** The tree in address order as [pfn_lo, pfn_hi] pairs, anchor excluded (for tests and debugfs). */
  ranges(): number[] {
    const out: number[] = [];
    for (let n = this.tree.rb_first(); n !== ANCHOR; n = this.tree.rb_next(n)) out.push(this.pfnLo[n] as number, this.pfnHi[n] as number);
    return out;
  }

  /**
   * Checks the red-black tree (its shape, the ranges in order and not overlapping, the anchor
   * last, the cached nodes in the tree): the first problem found, or null. O(n).
   */
  verifyTree(): string | null {
    const shape = this.tree.verify();
    if (shape !== null) return shape;
    const { pfnLo: lo, pfnHi: hi, tree } = this;
    let below = -1;
    for (let n = tree.rb_first(); n !== NIL; n = tree.rb_next(n)) {
      if ((lo[n] as number) > (hi[n] as number) || (lo[n] as number) <= below) return `node ${n} is out of order`;
      below = hi[n] as number;
    }
    if (tree.rb_last() !== ANCHOR) return 'the anchor is not the last node';
    if (!this.inTree(this.cached_node) || !this.inTree(this.cached32_node)) return 'a cached node is not in the tree';
    return null;
  }

  private warn(site: Site, text: string): void {
    this.stats.warnings++;
    if (this.onWarn !== null) this.onWarn(site, text);
  }

  // ---- struct iova memory (alloc_iova_mem / free_iova_mem) --------------------------------

  private alloc_iova_mem(lo: number, hi: number): Iova {
    const n = this.tree.rb_alloc();
    if (n >= this.pfnLo.length) {
      this.pfnLo = resized(this.pfnLo, new Float64Array(this.tree.capacity));
      this.pfnHi = resized(this.pfnHi, new Float64Array(this.tree.capacity));
    }
    this.pfnLo[n] = lo;
    this.pfnHi[n] = hi;
    return n;
  }

  /** free_iova_mem(): never the anchor, which is part of the domain. */
  private free_iova_mem(n: Iova): void {
    this.tree.rb_free(n);
  }

  /** Whether `iova` names a node now in the tree (not NIL, not free, not out of range). */
  private inTree(iova: Iova): boolean {
    return this.tree.rb_valid(iova);
  }

  // ---- the tree allocator -----------------------------------------------------------------

  /** __get_cached_rbnode(): where a top-down search for this limit starts. */
  private __get_cached_rbnode(limit_pfn: number): Iova {
    if (limit_pfn <= this.dma_32bit_pfn) return this.cached32_node;
    return this.cached_node;
  }

  /** __cached_rbnode_insert_update() */
  private __cached_rbnode_insert_update(iova: Iova): void {
    if ((this.pfnHi[iova] as number) < this.dma_32bit_pfn) this.cached32_node = iova;
    else this.cached_node = iova;
  }

  /**
   * __cached_rbnode_delete_update(): a cached node at or below the freed range moves up to its
   * successor, and any free below 4 GiB may have made room for the last failed 32-bit size.
   */
  private __cached_rbnode_delete_update(free: Iova): void {
    const lo = this.pfnLo;
    const hi = this.pfnHi;
    const cached32 = this.cached32_node;
    if (free === cached32 || ((hi[free] as number) < this.dma_32bit_pfn && (lo[free] as number) >= (lo[cached32] as number))) {
      this.cached32_node = this.tree.rb_next(free);
    }
    if ((lo[free] as number) < this.dma_32bit_pfn) this.max32_alloc_size = this.dma_32bit_pfn;
    if ((lo[free] as number) >= (lo[this.cached_node] as number)) this.cached_node = this.tree.rb_next(free);
  }

  /**
   * iova_find_limit(): where the retry walk for a limit below 4 GiB starts. A port of the
   * kernel's walk. dmasim's balancing is CLRS, not lib/rbtree.c, so the tree shape can differ
   * from Linux's; when a node straddles limit_pfn the walk then returns that node on one tree
   * and its successor on the other. The placement is the same: from the successor, the first
   * step of the backwards walk only moves on to the straddling node.
   */
  private iova_find_limit(limit_pfn: number): Iova {
    // A crude guess at whether starting from the anchor is quicker than finding the exact node.
    if (limit_pfn > this.dma_32bit_pfn) return ANCHOR;
    const { left, right } = this.tree;
    const lo = this.pfnLo;
    const hi = this.pfnHi;
    let node = this.tree.root;
    while ((hi[node] as number) < limit_pfn) node = right[node] as number;
    for (;;) {
      // search_left:
      while (left[node] !== NIL && (lo[left[node] as number] as number) >= limit_pfn) node = left[node] as number;
      if (left[node] === NIL) return node;
      let next = left[node] as number;
      let found = false;
      while (right[next] !== NIL) {
        next = right[next] as number;
        if ((lo[next] as number) >= limit_pfn) {
          node = next;
          found = true;
          break;
        }
      }
      if (!found) return node;
    }
  }

  /**
   * iova_insert_rbtree(): link `iova` below `start` (the walk's last node, a valid place to
   * start) or from the root. A duplicate pfn_lo WARNs and leaves the node out.
   */
  private iova_insert_rbtree(iova: Iova, start: Iova): boolean {
    const lo = this.pfnLo;
    const key = lo[iova] as number;
    const { left, right } = this.tree;
    let x = start !== NIL ? start : this.tree.root;
    let p = NIL;
    while (x !== NIL) {
      p = x;
      const k = lo[x] as number;
      if (key < k) x = left[x] as number;
      else if (key > k) x = right[x] as number;
      else {
        this.warn(WARN_SITES.iovaInsert, 'WARN_ON(1)'); // this should not happen
        return false;
      }
    }
    this.tree.rb_link_node(iova, p, key < (lo[p] as number));
    this.tree.rb_insert_color(iova);
    return true;
  }

  /**
   * __alloc_and_insert_iova_range(): walk the tree backwards from the cached node for the
   * highest free range of `size` below `limit_pfn` (exclusive), aligned to
   * roundup_pow_of_two(size) when asked; if the space below the cached node is full, retry
   * once above it. Returns the new node, or NIL for -ENOMEM.
   */
  private __alloc_and_insert_iova_range(size: number, limit_pfn: number, size_aligned: boolean): Iova {
    const align = size_aligned ? 2 ** fls_long(size - 1) : 1;
    let high_pfn = limit_pfn;
    let low_pfn = this.start_pfn;
    // iova32_full: a 32-bit request at least as large as the last failure cannot fit.
    if (limit_pfn <= this.dma_32bit_pfn && size >= this.max32_alloc_size) return NIL;
    const lo = this.pfnLo;
    const hi = this.pfnHi;
    let curr = this.__get_cached_rbnode(limit_pfn);
    const retry_pfn = hi[curr] as number;
    let new_pfn = 0;
    let prev = NIL;
    let retried = false;
    for (;;) {
      do {
        high_pfn = Math.min(high_pfn, lo[curr] as number);
        // (high_pfn - size) & align_mask; below zero the unsigned value wraps to above any pfn.
        new_pfn = high_pfn < size ? Infinity : high_pfn - size - ((high_pfn - size) % align);
        prev = curr;
        curr = this.tree.rb_prev(curr);
      } while (curr !== NIL && new_pfn <= (hi[curr] as number) && new_pfn >= low_pfn);
      if (high_pfn >= size && new_pfn >= low_pfn) break;
      // deviation: `retried` only stops a second retry, which the kernel could not reach either
      // (cached nodes end at or above start_pfn, so the retry's low_pfn is above it).
      if (low_pfn === this.start_pfn && retry_pfn < limit_pfn && !retried) {
        high_pfn = limit_pfn;
        low_pfn = retry_pfn + 1;
        curr = this.iova_find_limit(limit_pfn);
        retried = true;
        continue;
      }
      this.max32_alloc_size = size;
      return NIL;
    }
    // pfn_lo is size-aligned if size_aligned is set.
    const iova = this.alloc_iova_mem(new_pfn, new_pfn + size - 1);
    if (!this.iova_insert_rbtree(iova, prev)) {
      this.free_iova_mem(iova);
      return NIL;
    }
    this.__cached_rbnode_insert_update(iova);
    return iova;
  }

  /**
   * alloc_iova(): a range of `size` granules in [start_pfn, limit_pfn], searched top-down from
   * limit_pfn; with size_aligned, pfn_lo is aligned to roundup_pow_of_two(size).
   * @returns the new iova, or 0 (NULL)
   * see: drivers/iommu/iova.c alloc_iova()
   */
  alloc_iova(size: number, limit_pfn: number, size_aligned: boolean): Iova {
    const iova = this.__alloc_and_insert_iova_range(size, limit_pfn + 1, size_aligned);
    if (iova !== NIL) this.stats.treeAllocs++;
    return iova;
  }

  /** private_find_iova(): the node whose [pfn_lo, pfn_hi] contains pfn, or NIL. */
  private private_find_iova(pfn: number): Iova {
    const lo = this.pfnLo;
    const hi = this.pfnHi;
    // deviation: NaN would compare false both ways and "match" the root.
    if (pfn !== pfn) return NIL;
    const { left, right } = this.tree;
    let node = this.tree.root;
    while (node !== NIL) {
      if (pfn < (lo[node] as number)) node = left[node] as number;
      else if (pfn > (hi[node] as number)) node = right[node] as number;
      else return node;
    }
    return NIL;
  }

  /** remove_iova() followed by free_iova_mem(). */
  private remove_iova(iova: Iova): void {
    this.__cached_rbnode_delete_update(iova);
    this.tree.rb_erase(iova);
    this.free_iova_mem(iova);
    this.stats.treeFrees++;
  }

  /**
   * find_iova(): the iova containing pfn, or 0 (NULL).
   * see: drivers/iommu/iova.c find_iova()
   */
  find_iova(pfn: number): Iova {
    return this.private_find_iova(pfn);
  }

  /**
   * __free_iova(): remove an iova from the tree.
   * see: drivers/iommu/iova.c __free_iova()
   */
  __free_iova(iova: Iova): void {
    // deviation: a stale handle or the anchor would be a use-after-free in the kernel.
    if (iova === ANCHOR || !this.inTree(iova)) return;
    this.remove_iova(iova);
  }

  /**
   * free_iova(): free the iova containing pfn; a pfn in no iova is ignored.
   * see: drivers/iommu/iova.c free_iova()
   */
  free_iova(pfn: number): void {
    const iova = this.private_find_iova(pfn);
    // deviation: the anchor (pfn ~0UL) is no allocation, though the kernel would free it.
    if (iova === NIL || iova === ANCHOR) return;
    this.remove_iova(iova);
  }

  /**
   * alloc_iova_fast(): from the rcache if it has a range of this order below the limit, else
   * from the tree (size-aligned); if that fails and flush_rcache is set, every cached range
   * goes back into the tree and the tree is tried once more. Sizes below 32 granules are
   * rounded up to a power of two, so that any range of an order can serve any request of it.
   * @returns the first pfn, or 0 on failure
   * see: drivers/iommu/iova.c alloc_iova_fast()
   */
  alloc_iova_fast(size: number, limit_pfn: number, flush_rcache: boolean): number {
    // roundup_pow_of_two(); (deviation) 0 becomes 1, where the kernel's 1UL << 64 is undefined.
    if (size < IOVA_ROUNDUP_LIMIT) size = size <= 1 ? 1 : 1 << (32 - Math.clz32(size - 1));
    const pfn = this.iova_rcache_get(size, limit_pfn + 1);
    if (pfn !== 0) {
      this.stats.rcacheHits++;
      return pfn;
    }
    return this.allocIovaFastSlow(size, limit_pfn, flush_rcache);
  }

  /** alloc_iova_fast() after an rcache miss (kept apart so the hit path stays small). */
  private allocIovaFastSlow(size: number, limit_pfn: number, flush_rcache: boolean): number {
    let iova = this.alloc_iova(size, limit_pfn, true);
    if (iova === NIL && flush_rcache) {
      // Try replenishing IOVAs by flushing rcache.
      this.stats.rcacheFlushes++;
      this.free_cpu_cached_iovas();
      this.free_global_cached_iovas();
      iova = this.alloc_iova(size, limit_pfn, true);
    }
    if (iova === NIL) {
      this.stats.allocFailures++;
      return 0;
    }
    return this.pfnLo[iova] as number;
  }

  /**
   * free_iova_fast(): into the rcache of size's order, else (order >= 6) free_iova().
   * @param size the size given to alloc_iova_fast() (its order matches the rounded one)
   * see: drivers/iommu/iova.c free_iova_fast()
   */
  free_iova_fast(pfn: number, size: number): void {
    if (this.iova_rcache_insert(pfn, size)) {
      this.stats.rcacheInserts++;
      return;
    }
    this.free_iova(pfn);
  }

  /**
   * reserve_iova(): keep [pfn_lo, pfn_hi] out of every allocation. As in the kernel, a range
   * overlapping existing iovas is merged into them: the first one overlapped grows down to
   * pfn_lo, and only what lies past the last one becomes a new node. (Reserving over a live
   * allocation thus enlarges it, and freeing it frees the reserved part too.)
   * @returns the iova that covers the end of the range, or 0 (NULL) for nonsensical pfns
   * see: drivers/iommu/iova.c reserve_iova(), __adjust_overlap_range(), __insert_new_range()
   */
  reserve_iova(pfn_lo: number, pfn_hi: number): Iova {
    // Don't allow nonsensical pfns.
    if (pfn_lo > this.maxPfn || pfn_hi > this.maxPfn) {
      this.warn(WARN_SITES.iovaReserve, 'WARN_ON((pfn_hi | pfn_lo) > (ULLONG_MAX >> iova_shift(iovad)))');
      return NIL;
    }
    const lo = this.pfnLo;
    const hi = this.pfnHi;
    let overlap = false;
    for (let node = this.tree.rb_first(); node !== NIL; node = this.tree.rb_next(node)) {
      if (pfn_lo <= (hi[node] as number) && pfn_hi >= (lo[node] as number)) {
        // __adjust_overlap_range()
        if (pfn_lo < (lo[node] as number)) lo[node] = pfn_lo;
        if (pfn_hi > (hi[node] as number)) pfn_lo = (hi[node] as number) + 1;
        if (pfn_lo >= (lo[node] as number) && pfn_hi <= (hi[node] as number)) return node;
        overlap = true;
      } else if (overlap) break;
    }
    // The first reserved node, or what remains past the overlapped ones.
    const iova = this.alloc_iova_mem(pfn_lo, pfn_hi);
    if (!this.iova_insert_rbtree(iova, NIL)) {
      // deviation: the kernel returns the node it failed to link; unreachable after the merge.
      this.free_iova_mem(iova);
      return NIL;
    }
    return iova;
  }

  /**
   * put_iova_domain(): free the rcaches (cancelling their trim work) and every iova.
   * deviation: the domain is left freshly initialised, not freed, and may be used again.
   * see: drivers/iommu/iova.c put_iova_domain(), free_iova_rcaches()
   */
  put_iova_domain(): void {
    for (const rc of this.rcaches) {
      rc.loaded.size = 0;
      rc.prev.size = 0;
      while (rc.depot !== null) this.iova_magazine_free(this.iova_depot_pop(rc));
      if (rc.work_pending) {
        rc.work_pending = false;
        this.pendingWork--;
      }
    }
    this.pfnLo.fill(0);
    this.pfnHi.fill(0);
    this.tree.clear();
    this.initAnchor();
    this.cached_node = ANCHOR;
    this.cached32_node = ANCHOR;
    this.max32_alloc_size = this.dma_32bit_pfn;
  }

  // ---- the rcache (magazines and depot) -------------------------------------------------------

  /** iova_magazine_alloc(): reuses a freed magazine when there is one. */
  private iova_magazine_alloc(): IovaMagazine {
    const mag = this.spareMags.pop();
    if (mag === undefined) return new IovaMagazine();
    mag.size = 0;
    mag.next = null;
    return mag;
  }

  /** iova_magazine_free() */
  private iova_magazine_free(mag: IovaMagazine): void {
    if (this.spareMags.length < SPARE_MAGAZINES) this.spareMags.push(mag);
  }

  /** iova_magazine_free_pfns(): every cached range back into the tree, in magazine order. */
  private iova_magazine_free_pfns(mag: IovaMagazine): void {
    for (let i = 0; i < mag.size; ++i) {
      const iova = this.private_find_iova(mag.pfns[i] as number);
      if (iova === NIL || iova === ANCHOR) {
        this.warn(WARN_SITES.iovaMagazineFree, 'WARN_ON(!iova)');
        continue;
      }
      this.remove_iova(iova);
    }
    mag.size = 0;
  }

  /**
   * iova_magazine_pop(): the most recently pushed pfn <= limit_pfn, swapped with the top to
   * pop it; 0 when none is (only then does the caller fall back to the tree).
   */
  private iova_magazine_pop(mag: IovaMagazine, limit_pfn: number): number {
    const pfns = mag.pfns;
    let i = mag.size - 1;
    for (; (pfns[i] as number) > limit_pfn; i--) if (i === 0) return 0;
    const pfn = pfns[i] as number;
    pfns[i] = pfns[--mag.size] as number;
    return pfn;
  }

  /** iova_depot_pop(): the most recently pushed full magazine. */
  private iova_depot_pop(rc: IovaRcache): IovaMagazine {
    const mag = rc.depot as IovaMagazine;
    rc.depot = mag.next;
    mag.next = null;
    mag.size = IOVA_MAG_SIZE;
    rc.depot_size--;
    return mag;
  }

  /** iova_depot_push() */
  private iova_depot_push(rc: IovaRcache, mag: IovaMagazine): void {
    mag.next = rc.depot;
    rc.depot = mag;
    rc.depot_size++;
  }

  /** schedule_delayed_work(&rcache->work, IOVA_DEPOT_DELAY): a no-op while already pending. */
  private schedule_delayed_work(rc: IovaRcache): void {
    if (rc.work_pending) return;
    rc.work_pending = true;
    this.pendingWork++;
    if (this.onDepotWorkScheduled !== null) this.onDepotWorkScheduled(rc.order);
  }

  /**
   * iova_depot_work_func(): while the depot holds more magazines than there are online CPUs,
   * return one magazine's ranges to the tree and come back IOVA_DEPOT_DELAY later.
   */
  private iova_depot_work_func(rc: IovaRcache): void {
    if (rc.depot_size <= NUM_ONLINE_CPUS) return;
    const mag = this.iova_depot_pop(rc);
    this.iova_magazine_free_pfns(mag);
    this.iova_magazine_free(mag);
    this.schedule_delayed_work(rc);
  }

  /** Whether any rcache's depot trim is queued. */
  get depotWorkPending(): boolean {
    return this.pendingWork !== 0;
  }

  /**
   * Run queued depot trims once each, as the workqueue does when their delay has passed: the
   * pending flag is cleared, then iova_depot_work_func() runs (and may queue itself again).
   * @param order one rcache's order, or -1 for all of them
   * @returns how many work functions ran
   */
  runDepotWork(order = -1): number {
    if (this.pendingWork === 0) return 0;
    let ran = 0;
    for (const rc of this.rcaches) {
      if (!rc.work_pending || (order !== -1 && rc.order !== order)) continue;
      rc.work_pending = false;
      this.pendingWork--;
      this.iova_depot_work_func(rc);
      ran++;
    }
    return ran;
  }

  /**
   * __iova_rcache_insert(): push onto the loaded magazine; if it is full swap in prev; if
   * both are full the loaded one goes to the depot (queueing the trim) for a fresh one.
   */
  private __iova_rcache_insert(rc: IovaRcache, iova_pfn: number): boolean {
    if (rc.loaded.size === IOVA_MAG_SIZE) this.loadMagazineWithRoom(rc);
    const mag = rc.loaded;
    mag.pfns[mag.size++] = iova_pfn;
    return true;
  }

  /**
   * __iova_rcache_insert() when the loaded magazine is full: prev if it has room, else the
   * loaded one goes to the depot (queueing the trim) for a fresh one. (Apart, so that the push
   * every free does stays small enough for V8 to inline.)
   */
  private loadMagazineWithRoom(rc: IovaRcache): void {
    const mag = rc.loaded;
    if (rc.prev.size !== IOVA_MAG_SIZE) {
      rc.loaded = rc.prev;
      rc.prev = mag;
    } else {
      const new_mag = this.iova_magazine_alloc();
      this.iova_depot_push(rc, mag);
      this.schedule_delayed_work(rc);
      rc.loaded = new_mag;
    }
  }

  /** iova_rcache_insert(): only orders below IOVA_RANGE_CACHE_MAX_SIZE are cached. */
  private iova_rcache_insert(pfn: number, size: number): boolean {
    // order_base_2(size) >= 6 exactly when size > 32.
    if (size > IOVA_ROUNDUP_LIMIT) return false;
    const order = size <= 1 ? 0 : 32 - Math.clz32(size - 1);
    return this.__iova_rcache_insert(this.rcaches[order] as IovaRcache, pfn);
  }

  /**
   * __iova_rcache_get(): pop from the loaded magazine; if it is empty swap in prev; if both are
   * empty take a full magazine from the depot. 0 when nothing suitable is cached.
   */
  private __iova_rcache_get(rc: IovaRcache, limit_pfn: number): number {
    if (rc.loaded.size === 0 && !this.loadMagazineWithPfns(rc)) return 0;
    return this.iova_magazine_pop(rc.loaded, limit_pfn);
  }

  /**
   * __iova_rcache_get() when the loaded magazine is empty: prev if it has pfns, else a full
   * magazine from the depot. False when neither has any. (Apart, like loadMagazineWithRoom().)
   */
  private loadMagazineWithPfns(rc: IovaRcache): boolean {
    if (rc.prev.size !== 0) {
      const mag = rc.loaded;
      rc.loaded = rc.prev;
      rc.prev = mag;
    } else if (rc.depot !== null) {
      this.iova_magazine_free(rc.loaded);
      rc.loaded = this.iova_depot_pop(rc);
    } else return false;
    return true;
  }

  /** iova_rcache_get(): limit_pfn is exclusive; the range must end at or below it. */
  private iova_rcache_get(size: number, limit_pfn: number): number {
    if (size > IOVA_ROUNDUP_LIMIT) return 0;
    const order = size <= 1 ? 0 : 32 - Math.clz32(size - 1);
    return this.__iova_rcache_get(this.rcaches[order] as IovaRcache, limit_pfn - size);
  }

  /** free_cpu_cached_iovas() for the one CPU: each order's loaded then prev magazine. */
  private free_cpu_cached_iovas(): void {
    for (const rc of this.rcaches) {
      this.iova_magazine_free_pfns(rc.loaded);
      this.iova_magazine_free_pfns(rc.prev);
    }
  }

  /** free_global_cached_iovas(): every depot magazine, newest first. */
  private free_global_cached_iovas(): void {
    for (const rc of this.rcaches) {
      while (rc.depot !== null) {
        const mag = this.iova_depot_pop(rc);
        this.iova_magazine_free_pfns(mag);
        this.iova_magazine_free(mag);
      }
    }
  }
}

// ---- include/linux/iova.h inlines ------------------------------------------------------------

/** iova_size(): granules in the range (the kernel's takes only the struct iova). */
export function iova_size(iovad: IovaDomain, iova: Iova): number {
  return iovad.pfn_hi(iova) - iovad.pfn_lo(iova) + 1;
}

/** iova_shift(): __ffs(granule). */
export function iova_shift(iovad: IovaDomain): number {
  return iovad.shift;
}

/** iova_mask(): granule - 1. */
export function iova_mask(iovad: IovaDomain): number {
  return iovad.granule - 1;
}

// The `&` below works on addresses above 4 GiB: ToInt32 keeps the low 32 bits of any integer
// below 2^53, and the mask is at most PAGE_SIZE - 1.

/** iova_offset(): the offset of an address within its granule. */
export function iova_offset(iovad: IovaDomain, iova: number): number {
  return iova & (iovad.granule - 1);
}

/**
 * iova_align(): ALIGN(size, granule), which the kernel defines as ALIGN_DOWN(size + granule - 1,
 * granule). (That form also keeps it within V8's always-inlined function size: every map and
 * unmap calls it.)
 */
export function iova_align(iovad: IovaDomain, size: number): number {
  return iova_align_down(iovad, size + iovad.granule - 1);
}

/** iova_align_down(): ALIGN_DOWN(size, granule). */
export function iova_align_down(iovad: IovaDomain, size: number): number {
  return size - (size & (iovad.granule - 1));
}

/** iova_dma_addr(): pfn_lo << iova_shift. */
export function iova_dma_addr(iovad: IovaDomain, iova: Iova): number {
  return iovad.pfn_lo(iova) * iovad.granule;
}

/** iova_pfn(): iova >> iova_shift. */
export function iova_pfn(iovad: IovaDomain, iova: number): number {
  return Math.floor(iova * iovad.pfnScale);
}

/** iova_rcache_range(): the largest size the rcache serves, PAGE_SIZE << 5 (128 KiB). */
export function iova_rcache_range(): number {
  return PAGE_SIZE << (IOVA_RANGE_CACHE_MAX_SIZE - 1);
}
