// arm64: arch/arm64/include/asm/cache.h (ARCH_DMA_MINALIGN, ARCH_KMALLOC_MINALIGN) and
// arch/arm64/mm/init.c (zone_sizes_init, max_zone_phys). The DMA cache hooks
// (arch/arm64/mm/dma-mapping.c) build on this file.

import type { Arch, ZoneLimits } from './arch.js';
import type { BankSpec } from '../layout.js';

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
