// kernel/dma/pool.c: the atomic pools. Remapping pages uncached (DMA_DIRECT_REMAP) may sleep, so
// a coherent allocation that must not block (GFP_ATOMIC, GFP_NOWAIT: !gfpflags_allow_blocking())
// for a non-coherent device is carved out of pools that were allocated, cleaned and remapped
// uncached at boot. There are up to three, one per zone (GFP_KERNEL, GFP_KERNEL|GFP_DMA,
// GFP_KERNEL|GFP_DMA32); each grows in the background when an allocation leaves it with less
// than atomic_pool_size free. A request no pool can serve WARNs and returns NULL.
//
// Read: kernel/dma/pool.c of torvalds/linux @56ea38e4 (stored copy with MAX_PAGE_ORDER, the CMA
// zone check and dma_guess_pool(prev, gfp)).

import type { Device, DmaHost } from './device.js';
import { memparse } from '../lib/cmdline.js';
import { ulongFile } from '../lib/debugfs.js';
import { GenPool } from '../lib/genalloc.js';
import { WARN_SITES } from '../lib/warn-sites.js';
import { __GFP_DMA, __GFP_DMA32, formatGfp, GFP_DMA, GFP_DMA32, GFP_KERNEL, ZONE_DMA } from '../mm/gfp.js';
import { getOrder, PAGE_SHIFT, PAGE_SIZE } from '../mm/memory.js';
import { MAX_PAGE_ORDER } from '../mm/page_alloc.js';

const SZ_128K = 128 << 10;
const SZ_1G = 1 << 30;
/** MAX_ORDER_NR_PAGES: 1 << MAX_PAGE_ORDER. */
const MAX_ORDER_NR_PAGES = 2 ** MAX_PAGE_ORDER;

/** One atomic pool: the gen_pool and the gfp its memory was allocated with. */
interface AtomicPool {
  readonly pool: GenPool;
  readonly gfp: number;
}

/** A buffer from a pool: its uncached kernel address and its physical address. */
export interface PoolBuffer {
  readonly cpu_addr: number;
  readonly phys: number;
}

/**
 * The atomic pools of kernel/dma/pool.c, set up as dma_atomic_pool_init() (postcore_initcall)
 * does, with the dma_pools debugfs files.
 */
export class DmaAtomicPools {
  private atomic_pool_dma: AtomicPool | null = null;
  private atomic_pool_dma32: AtomicPool | null = null;
  private atomic_pool_kernel: AtomicPool | null = null;
  private pool_size_dma = 0;
  private pool_size_dma32 = 0;
  private pool_size_kernel = 0;
  /** atomic_pool_size: coherent_pool=, or 128 KiB per GiB of RAM within [128 KiB, MAX_PAGE_ORDER]. */
  readonly atomic_pool_size: number;
  /** atomic_pool_work is queued and has not run yet (schedule_work() of a pending work does nothing). */
  private workPending = false;

  /**
   * dma_atomic_pool_init().
   * @param coherentPool the value of `coherent_pool=` (early_coherent_pool()), or undefined
   */
  constructor(private readonly m: DmaHost, coherentPool: string | undefined) {
    let size = coherentPool === undefined ? 0 : memparse(coherentPool);
    if (size === 0) {
      const pages = Math.min(Math.floor(m.pages.totalPages / (SZ_1G / SZ_128K)), MAX_ORDER_NR_PAGES);
      size = Math.max(pages * PAGE_SIZE, SZ_128K);
    }
    this.atomic_pool_size = size;
    this.atomic_pool_kernel = this.__dma_atomic_pool_init(size, GFP_KERNEL);
    if (m.pages.managed(ZONE_DMA) > 0) this.atomic_pool_dma = this.__dma_atomic_pool_init(size, GFP_KERNEL | GFP_DMA); // has_managed_dma()
    this.atomic_pool_dma32 = this.__dma_atomic_pool_init(size, GFP_KERNEL | GFP_DMA32); // CONFIG_ZONE_DMA32
    this.dma_atomic_pool_debugfs_init();
  }

  private dma_atomic_pool_debugfs_init(): void {
    const fs = this.m.debugfs;
    fs.mkdir('/sys/kernel/debug/dma_pools');
    fs.create('/sys/kernel/debug/dma_pools/pool_size_dma', ulongFile(() => this.pool_size_dma));
    fs.create('/sys/kernel/debug/dma_pools/pool_size_dma32', ulongFile(() => this.pool_size_dma32));
    fs.create('/sys/kernel/debug/dma_pools/pool_size_kernel', ulongFile(() => this.pool_size_kernel));
  }

  private dma_atomic_pool_size_add(gfp: number, size: number): void {
    if (gfp & __GFP_DMA) this.pool_size_dma += size;
    else if (gfp & __GFP_DMA32) this.pool_size_dma32 += size;
    else this.pool_size_kernel += size;
  }

  /**
   * atomic_pool_expand(): the largest block up to `pool_size` (at most MAX_PAGE_ORDER) that
   * alloc_pages() gives, halving on failure; cleaned for the device (arch_dma_prep_coherent()),
   * remapped uncached (dma_common_contiguous_remap()) and added to the pool. False: no memory.
   */
  private atomic_pool_expand(p: AtomicPool, pool_size: number): boolean {
    const m = this.m;
    let order = Math.min(getOrder(pool_size), MAX_PAGE_ORDER);
    let pfn = -1;
    for (;;) {
      pool_size = 2 ** (PAGE_SHIFT + order);
      pfn = m.pages.alloc_pages(p.gfp, order);
      if (pfn >= 0 || order === 0) break;
      order--;
    }
    if (pfn < 0) return false;
    const phys = pfn * PAGE_SIZE;
    m.arch.sync?.prepCoherent(m, phys, pool_size);
    const addr = m.vm.vmap(Array.from({ length: 2 ** order }, (_, i) => pfn + i), 'noncached');
    if (addr === 0) {
      m.pages.free_pages(pfn, order);
      return false;
    }
    p.pool.gen_pool_add_virt(addr, phys, pool_size);
    this.dma_atomic_pool_size_add(p.gfp, pool_size);
    return true;
  }

  /** atomic_pool_resize(): double a pool that has less than atomic_pool_size free. */
  private atomic_pool_resize(p: AtomicPool | null): void {
    if (p !== null && p.pool.gen_pool_avail() < this.atomic_pool_size) this.atomic_pool_expand(p, p.pool.gen_pool_size());
  }

  /** atomic_pool_work_fn(): the worker, ZONE_DMA's pool first. */
  private atomic_pool_work_fn(): void {
    this.workPending = false;
    this.atomic_pool_resize(this.atomic_pool_dma);
    this.atomic_pool_resize(this.atomic_pool_dma32);
    this.atomic_pool_resize(this.atomic_pool_kernel);
  }

  /** __dma_atomic_pool_init(): one pool and its boot line. */
  private __dma_atomic_pool_init(pool_size: number, gfp: number): AtomicPool | null {
    const p: AtomicPool = { pool: new GenPool(PAGE_SHIFT), gfp };
    if (!this.atomic_pool_expand(p, pool_size)) {
      this.m.log.pr_err(`DMA: failed to allocate ${Math.floor(pool_size / 1024)} KiB ${formatGfp(gfp)} pool for atomic allocation`);
      return null;
    }
    this.m.log.pr_info(`DMA: preallocated ${p.pool.gen_pool_size() / 1024} KiB ${formatGfp(gfp)} pool for atomic allocations`);
    return p;
  }

  /** dma_guess_pool(): GFP_DMA32's pool, GFP_DMA's, or the kernel's first; then the lower ones. */
  private dma_guess_pool(prev: AtomicPool | null, gfp: number): AtomicPool | null {
    if (prev === null) {
      if (gfp & GFP_DMA32) return this.atomic_pool_dma32;
      if (this.atomic_pool_dma !== null && (gfp & GFP_DMA)) return this.atomic_pool_dma;
      return this.atomic_pool_kernel;
    }
    if (prev === this.atomic_pool_kernel) return this.atomic_pool_dma32 ?? this.atomic_pool_dma;
    if (prev === this.atomic_pool_dma32) return this.atomic_pool_dma;
    return null;
  }

  /**
   * __dma_alloc_from_pool(): `size` bytes from one pool, refused when `phys_addr_ok` rejects
   * them; queues the worker when the pool runs low, and zeroes the buffer through its uncached
   * mapping.
   */
  private __dma_alloc_from_pool(dev: Device, size: number, p: AtomicPool, phys_addr_ok: ((dev: Device, phys: number, size: number) => boolean) | null): PoolBuffer | null {
    const addr = p.pool.gen_pool_alloc(size);
    if (addr === 0) return null;
    const phys = p.pool.gen_pool_virt_to_phys(addr);
    if (phys_addr_ok !== null && !phys_addr_ok(dev, phys, size)) {
      p.pool.gen_pool_free(addr, size);
      return null;
    }
    if (p.pool.gen_pool_avail() < this.atomic_pool_size) this.schedule_work();
    this.m.cpu.fill(addr, size, 0);
    return { cpu_addr: addr, phys };
  }

  /** schedule_work(&atomic_pool_work): the worker runs at the next interleaving point. */
  private schedule_work(): void {
    if (this.workPending) return;
    this.workPending = true;
    this.m.clock.addTimer(0, 'atomic_pool_work', () => this.atomic_pool_work_fn());
  }

  /**
   * dma_alloc_from_pool(): the first pool dma_guess_pool() offers that has room and whose memory
   * `phys_addr_ok` accepts; otherwise WARN(1, "Failed to get suitable pool for %s\n") and NULL.
   */
  dma_alloc_from_pool(dev: Device, size: number, gfp: number, phys_addr_ok: ((dev: Device, phys: number, size: number) => boolean) | null): PoolBuffer | null {
    for (let p = this.dma_guess_pool(null, gfp); p !== null; p = this.dma_guess_pool(p, gfp)) {
      const buf = this.__dma_alloc_from_pool(dev, size, p, phys_addr_ok);
      if (buf !== null) return buf;
    }
    this.m.log.warn(WARN_SITES.allocFromPool, `Failed to get suitable pool for ${dev.name}`);
    return null;
  }

  /** dma_free_from_pool(): true when [start, start + size) came from a pool, now freed. */
  dma_free_from_pool(start: number, size: number): boolean {
    for (let p = this.dma_guess_pool(null, 0); p !== null; p = this.dma_guess_pool(p, 0)) {
      if (!p.pool.gen_pool_has_addr(start, size)) continue;
      p.pool.gen_pool_free(start, size);
      return true;
    }
    return false;
  }
}
