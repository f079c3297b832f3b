// x86_64: DMA-coherent (no cache maintenance for DMA), ZONE_DMA below 16 MiB (MAX_DMA_PFN) and
// ZONE_DMA32 below 4 GiB (MAX_DMA32_PFN), arch/x86/include/asm/dma.h and arch/x86/mm/init.c.

import type { Arch, ZoneLimits } from './arch.js';
import { WARN_SITES } from '../lib/warn-sites.js';

export const x86_64: Arch = {
  name: 'x86_64',
  lineSize: 64,
  dmaMinalign: 0,
  kmallocMinalign: 8,
  coherentByDefault: true,
  threadSize: 16384,
  maxPageOrder: 10,
  bootBanner: 'DMI: dmasim x86_64 virtual platform',
  bootBannerAfterEarlyParams: true,
  /** No ARCH_DMA_MINALIGN: dma_get_cache_alignment() is 1. */
  dmaCacheAlignment: () => 1,
  kmallocBounce: false,
  dmaCoherentPool: false,
  kimageInVmalloc: false,
  /** pci_swiotlb_detect(): bounce buffers only when there is RAM above 4 GiB. */
  swiotlbNeeded: (ram) => ram.end > 2 ** 32,
  /** ARCH_LOW_ADDRESS_LIMIT is 0xffffffff. */
  swiotlbLowLimit: () => 0xffff_ffff,
  /** pci_iommu_init() announces the bounce buffers, then swiotlb_print_info() runs. */
  swiotlbBanner: 'PCI-DMA: Using software bounce buffering for IO (SWIOTLB)',
  // arch/x86/mm/ioremap.c __ioremap_caller(): WARN_ONCE(1, "ioremap on RAM at %pa - %pa\n", ...).
  ioremapRamWarning: (log, phys, last) => log.warnOnce(WARN_SITES.x86IoremapRam,
    `ioremap on RAM at 0x${phys.toString(16).padStart(16, '0')} - 0x${last.toString(16).padStart(16, '0')}`),
  zoneLimits(): ZoneLimits {
    return { dma: 16 << 20, dma32: 2 ** 32 };
  },
};
