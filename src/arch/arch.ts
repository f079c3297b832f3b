// What the rest of dmasim needs to know about an architecture. One file per arch implements it,
// named as the kernel names the arch directory.

import type { DmaDirection } from '../include/dma-mapping.js';
import type { BankSpec } from '../engine/layout.js';
import type { Kconfig } from '../include/kconfig.js';
import type { KernelLog, Site } from '../lib/printk.js';
import type { DcacheMaintenance } from './cacheflush.js';

/** Physical zone limits (exclusive ends) of ZONE_DMA and ZONE_DMA32; ZONE_NORMAL is the rest. */
export interface ZoneLimits {
  readonly dma: number;
  readonly dma32: number;
}

/** What an arch's DMA cache hooks need from the machine, handed in by their callers. */
export interface ArchSyncHost {
  readonly config: Pick<Kconfig, 'ARCH_HAS_BATCHED_DMA_SYNC'>;
  readonly log: KernelLog;
  readonly dcache: DcacheMaintenance;
  physToOffset(phys: number, len: number): number;
}

/**
 * The cache hooks of an arch with non-coherent DMA (CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE/CPU).
 * Ranges are physical; an arch without them (x86_64) has no non-coherent devices at all.
 */
export interface ArchDmaSync {
  /** arch_sync_dma_for_device() */
  forDevice(m: ArchSyncHost, phys: number, size: number, dir: DmaDirection): void;
  /** arch_sync_dma_for_cpu() */
  forCpu(m: ArchSyncHost, phys: number, size: number, dir: DmaDirection): void;
  /** arch_sync_dma_flush(): the barrier that completes what the hooks issued. */
  flush(m: ArchSyncHost): void;
  /** arch_dma_prep_coherent(): the linear alias of a coherent buffer is made clean. */
  prepCoherent(m: ArchSyncHost, phys: number, size: number): void;
}

export interface Arch {
  readonly name: 'arm64' | 'x86_64';
  /** Default line size of the CPU data cache (L1_CACHE_BYTES). */
  readonly lineSize: number;
  /** ARCH_DMA_MINALIGN, or 0 when the arch does not define it (dma_get_cache_alignment() is then 1). */
  readonly dmaMinalign: number;
  /** ARCH_KMALLOC_MINALIGN. */
  readonly kmallocMinalign: number;
  /** Whether devices are DMA-coherent unless told otherwise (firmware's `dma-coherent`, ACPI _CCA). */
  readonly coherentByDefault: boolean;
  /** THREAD_SIZE: the kernel stack of a task. */
  readonly threadSize: number;
  /** MAX_PAGE_ORDER for 4 KiB pages. */
  readonly maxPageOrder: number;
  /** Zone boundaries for this RAM, as the arch's zone_sizes_init() computes them. */
  zoneLimits(banks: readonly BankSpec[]): ZoneLimits;
  /** The machine line printed at boot. */
  readonly bootBanner: string;
  /**
   * setup_arch() prints bootBanner after parse_early_param() (x86_64's dmi_setup()), not before
   * it (arm64's setup_machine_fdt()).
   */
  readonly bootBannerAfterEarlyParams: boolean;
  /** Present when devices may be non-coherent (arm64); absent on x86_64. */
  readonly sync?: ArchDmaSync;
  /** dma_get_cache_alignment() for a cache of `lineSize` bytes per line. */
  dmaCacheAlignment(lineSize: number): number;
  /** CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC: small kmalloc buffers bounce instead of being aligned. */
  readonly kmallocBounce: boolean;
  /**
   * CONFIG_DMA_COHERENT_POOL (kernel/dma/pool.c): selected by DMA_DIRECT_REMAP, which arm64
   * selects; x86_64 selects it only with AMD_MEM_ENCRYPT, which dmasim does not model.
   */
  readonly dmaCoherentPool: boolean;
  /**
   * The kernel image is mapped inside the vmalloc range, so is_vmalloc_addr() is true for its
   * statics: arm64 (KIMAGE_VADDR = MODULES_END = VMALLOC_START, asm/memory.h and pgtable.h);
   * x86_64 maps it at __START_KERNEL_map, apart from vmalloc.
   */
  readonly kimageInVmalloc: boolean;
  /**
   * arch_mm_preinit() / pci_swiotlb_detect(): whether swiotlb is needed for addressing, after
   * resizing it for the arch (`adjust` is swiotlb_adjust_size()); and ARCH_LOW_ADDRESS_LIMIT.
   */
  swiotlbNeeded(ram: { end: number; total: number }, limits: ZoneLimits, adjust: (size: number) => void): boolean;
  swiotlbLowLimit(limits: ZoneLimits): number;
  /**
   * x86's pci_iommu_init() (a rootfs_initcall) line, printed with swiotlb_print_info() then; null:
   * swiotlb_init() is SWIOTLB_VERBOSE and prints "mapped" itself, from mem_init() (arm64).
   */
  readonly swiotlbBanner: string | null;
  /** ioremap() of RAM: the arch's WARN (arm64 ioremap_prot()'s WARN_ON, x86's WARN_ONCE) before NULL. */
  ioremapRamWarning(log: IoremapLog, phys: number, last: number): void;
}

/** The log calls ioremapRamWarning() makes. */
export interface IoremapLog {
  warn(site: Site, text: string): void;
  warnOnce(site: Site, text: string): void;
}
