// arm64: arch/arm64/include/asm/cache.h (ARCH_DMA_MINALIGN, ARCH_KMALLOC_MINALIGN,
// arch_sync_dma_flush), arch/arm64/mm/init.c (zone_sizes_init, max_zone_phys) and
// arch/arm64/mm/dma-mapping.c (arch_sync_dma_for_device/cpu, arch_dma_prep_coherent).

import type { Arch, ArchDmaSync, ArchSyncHost, ZoneLimits } from './arch.js';
import { DMA_TO_DEVICE, type DmaDirection } from '../include/dma-mapping.js';
import type { BankSpec } from '../engine/layout.js';
import { x016 } from '../lib/vsprintf.js';
import { WARN_SITES } from '../lib/warn-sites.js';

/** The WASM offset of a physical range the hooks were handed, or -1 after the oops line. */
function target(m: ArchSyncHost, phys: number, size: number): number {
  const off = m.physToOffset(phys, Math.max(size, 1));
  if (off < 0) {
    // phys_to_virt() of memory that is not RAM: the DC instruction takes a translation fault.
    m.log.printk(1, `Unable to handle kernel paging request at virtual address ${x016(0xffff_0000_0000_0000n + BigInt(phys))}`);
  }
  return off;
}

/**
 * The batching series' split, unconditional in Linux 7.1: the hooks only issue (dcache_*_poc_nosync)
 * and arch_sync_dma_flush() is one dsb(sy). ARCH_HAS_BATCHED_DMA_SYNC = false (dmasim's option,
 * the default is true) restores the per-buffer DSBs of kernels before the series, for comparison.
 */
function batched(m: ArchSyncHost): boolean {
  return m.config.ARCH_HAS_BATCHED_DMA_SYNC;
}

const sync: ArchDmaSync = {
  /** dcache_clean_poc(_nosync) for every direction: the lines stay valid. */
  forDevice(m: ArchSyncHost, phys: number, size: number, _dir: DmaDirection): void {
    const off = target(m, phys, size);
    if (off >= 0) m.dcache.clean(off, size, !batched(m));
  },
  /** Nothing moved towards the CPU for DMA_TO_DEVICE; otherwise dcache_inval_poc(_nosync). */
  forCpu(m: ArchSyncHost, phys: number, size: number, dir: DmaDirection): void {
    if (dir === DMA_TO_DEVICE) return;
    const off = target(m, phys, size);
    if (off >= 0) m.dcache.inval(off, size, !batched(m));
  },
  /** dsb(sy) with batching; without it every hook already ended in its own DSB. */
  flush(m: ArchSyncHost): void {
    if (batched(m)) m.dcache.dsb();
  },
  /** dcache_clean_poc(): synchronous, whatever the batching. */
  prepCoherent(m: ArchSyncHost, phys: number, size: number): void {
    const off = target(m, phys, size);
    if (off >= 0) m.dcache.clean(off, size, true);
  },
};

const U32_LIMIT = 2 ** 32;

/**
 * max_zone_phys(): a zone limit is clamped to the end of DRAM, and a zone that would lie
 * entirely below the start of DRAM grows to cover the first 4 GiB of it (or everything when
 * DRAM starts above 4 GiB), so that ZONE_DMA is never empty on such platforms.
 */
function maxZonePhys(limit: number, start: number, end: number): number {
  let zoneLimit = limit;
  if (start > U32_LIMIT - 1) zoneLimit = Number.MAX_SAFE_INTEGER;
  else if (start > limit - 1) zoneLimit = U32_LIMIT;
  return Math.min(zoneLimit, end);
}

export const arm64: Arch = {
  name: 'arm64',
  lineSize: 64,
  dmaMinalign: 128,
  kmallocMinalign: 8,
  coherentByDefault: false,
  threadSize: 16384,
  maxPageOrder: 10,
  bootBanner: 'Machine model: dmasim arm64 virtual platform',
  bootBannerAfterEarlyParams: false,
  sync,
  /** arm64 overrides ARCH_DMA_MINALIGN with cache_line_size(), the CPU's real line size. */
  dmaCacheAlignment: (lineSize: number) => lineSize,
  kmallocBounce: true,
  dmaCoherentPool: true,
  kimageInVmalloc: true,
  /**
   * RAM beyond ZONE_DMA needs bouncing; otherwise swiotlb is still set up, shrunk to 1 MiB per
   * GiB of RAM, for bouncing small kmalloc buffers (DMA_BOUNCE_UNALIGNED_KMALLOC).
   */
  swiotlbNeeded(ram, limits, adjust): boolean {
    if (ram.end > limits.dma) return true;
    adjust(Math.min(64 << 20, Math.ceil(ram.total / 1024)));
    return true;
  },
  /** ARCH_LOW_ADDRESS_LIMIT is arm64_dma_phys_limit - 1, passed to memblock as the end. */
  swiotlbLowLimit: (limits) => limits.dma - 1,
  swiotlbBanner: null,
  // arch/arm64/mm/ioremap.c ioremap_prot(): WARN_ON(pfn_is_map_memory(__phys_to_pfn(phys_addr))).
  ioremapRamWarning: (log) => log.warn(WARN_SITES.arm64IoremapRam, ''),
  /**
   * zone_dma_limit comes from firmware (DT dma-ranges / IORT); with none it is 32 bits, so
   * ZONE_DMA spans the first 4 GiB and ZONE_DMA32 is empty, as on most arm64 servers.
   */
  zoneLimits(banks: readonly BankSpec[]): ZoneLimits {
    const start = banks[0]?.base ?? 0;
    const last = banks[banks.length - 1];
    const end = last ? last.base + last.size : 0;
    const dma = maxZonePhys(U32_LIMIT, start, end);
    // ZONE_DMA32 ends at max_zone_phys(DMA_BIT_MASK(32)) too: the same limit, so it is empty.
    return { dma, dma32: dma };
  },
};
