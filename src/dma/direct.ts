// dma-direct: kernel/dma/direct.h, kernel/dma/direct.c and include/linux/dma-direct.h. Every
// mapping on a device without an IOMMU or dma_map_ops goes through here. The order of the
// cache hooks is the kernel's: towards the device, bounce then clean; towards the CPU,
// invalidate then bounce (swiotlb.ts does the bouncing).

import type { Device, DmaHost } from './device.js';
import {
  DMA_ATTR_CC_SHARED, DMA_ATTR_MMIO, DMA_ATTR_NO_KERNEL_MAPPING, DMA_ATTR_NO_WARN, DMA_ATTR_REQUIRE_COHERENT,
  DMA_ATTR_SKIP_CPU_SYNC, DMA_BIT_MASK, DMA_MAPPING_ERROR, DMA_TO_DEVICE, EIO,
  minNotZero, type DmaDirection, U64_MAX,
} from '../include/dma-mapping.js';
import { __GFP_DMA, __GFP_DMA32, __GFP_NOWARN, __GFP_ZERO, gfpflags_allow_blocking } from '../mm/gfp.js';
import { __va, getOrder, PAGE_SIZE, pageAlign, pfnToPage, type Page } from '../mm/memory.js';
import type { Scatterlist } from './scatterlist.js';
import { sg_phys } from './scatterlist.js';
import type { DmaAtomicPools } from './pool.js';
import { swiotlb_max_mapping_size } from './swiotlb.js';
import { llx, pa } from '../lib/vsprintf.js';
import { WARN_SITES } from '../lib/warn-sites.js';


/** phys_to_dma() */
export function phys_to_dma(dev: Device, phys: number): number {
  return dev.physToDma(phys);
}

/** dma_to_phys() */
export function dma_to_phys(dev: Device, addr: number): number {
  return dev.dmaToPhys(addr, 1);
}

/** dma_capable(): only the last byte is compared with min_not_zero(*dma_mask, bus_dma_limit). */
export function dma_capable(dev: Device, addr: number, size: number): boolean {
  if (addr === DMA_MAPPING_ERROR) return false;
  return addr + size - 1 <= dev.streamLimit;
}

/**
 * dma_kmalloc_needs_bounce() (include/linux/dma-map-ops.h): with
 * DMA_BOUNCE_UNALIGNED_KMALLOC, a small non-TO_DEVICE mapping for a non-coherent device is
 * bounced unless its kmalloc size class is a whole number of cache lines.
 */
export function dma_kmalloc_needs_bounce(dev: Device, size: number, dir: DmaDirection): boolean {
  const m = dev.machine;
  if (!m.arch.kmallocBounce || dev.dma_coherent || dir === DMA_TO_DEVICE || size >= 2 * m.arch.dmaMinalign) return false;
  return m.slab.kmalloc_size_roundup(size) % m.dmaCacheAlignment !== 0;
}

/**
 * The overflow WARN. dma_direct_map_phys() is a static inline of kernel/dma/direct.h, so its
 * WARN_ONCE flag exists once in each file that inlines it: mapping.c (single maps, which
 * flush) and direct.c (sg entries, which do not).
 */
function overflow(dev: Device, addr: number, size: number, flush: boolean): number {
  dev.machine.log.warnOnce(flush ? WARN_SITES.directMapOverflow : WARN_SITES.directMapSgOverflow,
    `${dev.driver} ${dev.name}: DMA addr ${pa(addr)}+${size} overflow (mask ${llx(dev.dma_mask ?? 0n)}, bus limit ${llx(dev.bus_dma_limit)}).`);
  return DMA_MAPPING_ERROR;
}

/**
 * dma_direct_map_phys(). The common case (RAM the device reaches, no forced bounce) stays in
 * this function; the rest is in mapUncommon(), which keeps this one small enough for V8 to
 * inline into every map.
 */
export function dma_direct_map_phys(dev: Device, phys: number, size: number, dir: DmaDirection, attrs: number, flush: boolean): number {
  const m = dev.machine;
  m.hostStats.dmaOps++;
  if ((attrs & (DMA_ATTR_MMIO | DMA_ATTR_CC_SHARED)) !== 0 || m.swiotlb?.forceBounce === true) return mapUncommon(dev, phys, size, dir, attrs, flush);
  const addr = phys_to_dma(dev, phys);
  if (!dma_capable(dev, addr, size) || dma_kmalloc_needs_bounce(dev, size, dir)) return bounceOrFail(dev, phys, addr, size, dir, attrs, flush);
  syncForDevice(dev, phys, size, dir, attrs, flush);
  return addr;
}

/** The cache half of dma_direct_map_phys(): clean, then (unless batching) the barrier. */
function syncForDevice(dev: Device, phys: number, size: number, dir: DmaDirection, attrs: number, flush: boolean): void {
  const m = dev.machine;
  const sync = m.arch.sync;
  if (sync !== undefined && !dev.dma_coherent && !(attrs & (DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_MMIO))) {
    sync.forDevice(m, phys, size, dir);
    if (flush) sync.flush(m);
  }
}

/**
 * A forced bounce, an MMIO mapping (dma_addr = phys, no range map, no cache work), or
 * confidential-computing shared memory, which is an error unless swiotlb is forced (this machine
 * encrypts nothing, so phys_to_dma_unencrypted() is phys_to_dma()).
 */
function mapUncommon(dev: Device, phys: number, size: number, dir: DmaDirection, attrs: number, flush: boolean): number {
  const swiotlb = dev.machine.swiotlb;
  const ccShared = (attrs & DMA_ATTR_CC_SHARED) !== 0;
  if (swiotlb?.forceBounce && !ccShared) {
    if (attrs & (DMA_ATTR_MMIO | DMA_ATTR_REQUIRE_COHERENT)) return DMA_MAPPING_ERROR;
    return swiotlb.swiotlb_map(dev, phys, size, dir, attrs);
  }
  if (ccShared && !swiotlb?.forceBounce) return DMA_MAPPING_ERROR;
  const addr = attrs & DMA_ATTR_MMIO ? phys : phys_to_dma(dev, phys);
  if (!dma_capable(dev, addr, size)) return overflow(dev, addr, size, flush);
  syncForDevice(dev, phys, size, dir, attrs, flush);
  return addr;
}

/** Not reachable, or a kmalloc buffer that must not share lines: swiotlb if active, else the WARN. */
function bounceOrFail(dev: Device, phys: number, addr: number, size: number, dir: DmaDirection, attrs: number, flush: boolean): number {
  const swiotlb = dev.machine.swiotlb;
  if (swiotlb !== null && !(attrs & DMA_ATTR_REQUIRE_COHERENT)) return swiotlb.swiotlb_map(dev, phys, size, dir, attrs);
  return overflow(dev, addr, size, flush);
}

/** dma_direct_sync_single_for_cpu(): invalidate first, then (swiotlb) copy back. */
export function dma_direct_sync_single_for_cpu(dev: Device, addr: number, size: number, dir: DmaDirection, flush: boolean): void {
  syncForCpu(dev, dma_to_phys(dev, addr), size, dir, flush);
}

function syncForCpu(dev: Device, paddr: number, size: number, dir: DmaDirection, flush: boolean): void {
  const m = dev.machine;
  const sync = m.arch.sync;
  if (sync !== undefined && !dev.dma_coherent) {
    sync.forCpu(m, paddr, size, dir);
    if (flush) sync.flush(m);
  }
  const swiotlb = m.swiotlb;
  if (swiotlb !== null && swiotlb.is_swiotlb_buffer(paddr)) swiotlb.swiotlb_sync_single_for_cpu(dev, paddr, size, dir);
}

/** dma_direct_sync_single_for_device(): (swiotlb) copy first, then clean, then the barrier. */
export function dma_direct_sync_single_for_device(dev: Device, addr: number, size: number, dir: DmaDirection): void {
  const m = dev.machine;
  const sync = m.arch.sync;
  const paddr = dma_to_phys(dev, addr);
  const swiotlb = m.swiotlb;
  if (swiotlb !== null && swiotlb.is_swiotlb_buffer(paddr)) swiotlb.swiotlb_sync_single_for_device(dev, paddr, size, dir);
  if (sync !== undefined && !dev.dma_coherent) {
    sync.forDevice(m, paddr, size, dir);
    sync.flush(m);
  }
}

/** dma_direct_unmap_phys(): MMIO and REQUIRE_COHERENT mappings have nothing to undo. */
export function dma_direct_unmap_phys(dev: Device, addr: number, size: number, dir: DmaDirection, attrs: number, flush: boolean): void {
  if (attrs & (DMA_ATTR_MMIO | DMA_ATTR_REQUIRE_COHERENT)) return;
  const m = dev.machine;
  m.hostStats.dmaOps++;
  const phys = dma_to_phys(dev, addr);
  if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC)) syncForCpu(dev, phys, size, dir, flush);
  const swiotlb = m.swiotlb;
  if (swiotlb !== null && swiotlb.is_swiotlb_buffer(phys)) swiotlb.swiotlb_tbl_unmap_single(dev, phys, size, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
}

/** dma_direct_map_sg(): entry by entry without barriers, one flush at the end; never merges. */
export function dma_direct_map_sg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection, attrs: number): number {
  for (let i = 0; i < nents; i++) {
    const sg = sgl[i] as Scatterlist;
    sg.dma_address = dma_direct_map_phys(dev, sg_phys(sg), sg.length, dir, attrs, false);
    if (sg.dma_address === DMA_MAPPING_ERROR) {
      // Unwind without cache maintenance: what was issued for the mapped entries stays issued.
      dma_direct_unmap_sg(dev, sgl, i, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
      return -EIO;
    }
    sg.dma_length = sg.length;
  }
  if (nents > 0 && !dev.dma_coherent) dev.machine.arch.sync?.flush(dev.machine);
  return nents;
}

/** dma_direct_unmap_sg() */
export function dma_direct_unmap_sg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection, attrs: number): void {
  for (let i = 0; i < nents; i++) {
    const sg = sgl[i] as Scatterlist;
    dma_direct_unmap_phys(dev, sg.dma_address, sg.dma_length, dir, attrs, false);
  }
  if (nents > 0 && !dev.dma_coherent) dev.machine.arch.sync?.flush(dev.machine);
}

/** dma_direct_sync_sg_for_device(): per entry (swiotlb copy, then clean), one flush. */
export function dma_direct_sync_sg_for_device(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection): void {
  const m = dev.machine;
  const sync = dev.dma_coherent ? undefined : m.arch.sync;
  for (let i = 0; i < nents; i++) {
    const sg = sgl[i] as Scatterlist;
    const paddr = dma_to_phys(dev, sg.dma_address);
    if (m.swiotlb?.is_swiotlb_buffer(paddr)) m.swiotlb.swiotlb_sync_single_for_device(dev, paddr, sg.length, dir);
    sync?.forDevice(m, paddr, sg.length, dir);
  }
  sync?.flush(m);
}

/** dma_direct_sync_sg_for_cpu(): per entry (invalidate, then swiotlb copy), one flush. */
export function dma_direct_sync_sg_for_cpu(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection): void {
  const m = dev.machine;
  const sync = dev.dma_coherent ? undefined : m.arch.sync;
  for (let i = 0; i < nents; i++) {
    const sg = sgl[i] as Scatterlist;
    const paddr = dma_to_phys(dev, sg.dma_address);
    sync?.forCpu(m, paddr, sg.length, dir);
    if (m.swiotlb?.is_swiotlb_buffer(paddr)) m.swiotlb.swiotlb_sync_single_for_cpu(dev, paddr, sg.length, dir);
  }
  sync?.flush(m);
}

// ---- masks and limits --------------------------------------------------------------------

/** max_pfn << PAGE_SHIFT: the end of RAM. */
function ramEnd(m: DmaHost): number {
  return m.memblock.end();
}

/**
 * phys_to_dma() as the u64 the kernel compares: an address no dma_range_map window holds is
 * (dma_addr_t)-1, all ones.
 */
function physToDma64(dev: Device, phys: number): bigint {
  const dma = phys_to_dma(dev, phys);
  return dma === DMA_MAPPING_ERROR ? U64_MAX : BigInt(dma);
}

/** dma_direct_supported(): 32 bits or more always; a smaller mask must cover ZONE_DMA or all RAM. */
export function dma_direct_supported(dev: Device, mask: bigint): boolean {
  if (mask >= DMA_BIT_MASK(32)) return true;
  const m = dev.machine;
  const minMask = Math.min(ramEnd(m) - PAGE_SIZE, m.zoneDmaLimit);
  return mask >= physToDma64(dev, minMask);
}

/**
 * dma_direct_get_required_mask(): (1ULL << (fls64(max_dma) - 1)) * 2 - 1 for the DMA address
 * of the last page; a last page outside every window (all ones) gives fls64 = 64, all ones.
 */
export function dma_direct_get_required_mask(dev: Device): bigint {
  const maxDma = physToDma64(dev, ramEnd(dev.machine) - PAGE_SIZE);
  const fls = maxDma === 0n ? 0 : maxDma.toString(2).length;
  return ((1n << BigInt(Math.max(fls - 1, 0))) * 2n - 1n) & U64_MAX;
}

/**
 * dma_direct_all_ram_mapped(): with a dma_range_map, every System RAM range
 * (walk_system_ram_range()) must be covered by its windows (check_ram_in_range_map()).
 */
export function dma_direct_all_ram_mapped(dev: Device): boolean {
  const map = dev.dma_range_map;
  if (map.length === 0) return true;
  for (const bank of dev.machine.memblock.memory) {
    let pfn = Math.floor(bank.base / PAGE_SIZE);
    const endPfn = pfn + Math.floor(bank.size / PAGE_SIZE);
    while (pfn < endPfn) {
      const r = map.find((b) => pfn >= Math.floor(b.cpu_start / PAGE_SIZE) && pfn < Math.floor((b.cpu_start + b.size) / PAGE_SIZE));
      if (r === undefined) return false;
      pfn = Math.floor(r.cpu_start / PAGE_SIZE) + Math.floor(r.size / PAGE_SIZE);
    }
  }
  return true;
}

/**
 * dma_direct_max_mapping_size(): the swiotlb limit when swiotlb is active and the device is
 * addressing-limited or force-bounced, else SIZE_MAX (Number.MAX_SAFE_INTEGER here).
 */
export function dma_direct_max_mapping_size(dev: Device, addressingLimited: boolean): number {
  const swiotlb = dev.machine.swiotlb;
  if (swiotlb !== null && (addressingLimited || swiotlb.forceBounce)) return swiotlb_max_mapping_size(dev);
  return Number.MAX_SAFE_INTEGER;
}

/** dma_direct_need_sync(): non-coherent, or the address is a bounce buffer. */
export function dma_direct_need_sync(dev: Device, addr: number): boolean {
  return !dev.dma_coherent || (dev.machine.swiotlb?.is_swiotlb_buffer(dma_to_phys(dev, addr)) ?? false);
}

// ---- allocation --------------------------------------------------------------------------

/** dma_coherent_ok(): the buffer's last byte is below the coherent mask and the bus limit. */
function dma_coherent_ok(dev: Device, phys: number, size: number): boolean {
  const addr = phys_to_dma(dev, phys);
  if (addr === DMA_MAPPING_ERROR) return false;
  return BigInt(addr + size - 1) <= minNotZero(dev.coherent_dma_mask, dev.bus_dma_limit);
}

/**
 * dma_direct_optimal_gfp_mask(): the zone that the coherent mask can reach. A mask whose top
 * has no CPU address in dma_range_map is (phys_addr_t)-1 and selects no zone flag.
 */
export function dma_direct_optimal_gfp_mask(dev: Device): number {
  const limit = minNotZero(dev.coherent_dma_mask, dev.bus_dma_limit);
  const phys = limit >= U64_MAX ? -1 : dev.dmaToPhys(Number(limit), 1);
  const physLimit = phys === -1 ? Number.MAX_SAFE_INTEGER : phys;
  if (physLimit <= dev.machine.zoneDmaLimit) return __GFP_DMA;
  if (physLimit <= 0xffff_ffff) return __GFP_DMA32;
  return 0;
}

/**
 * __dma_direct_alloc_pages(): pages the coherent mask can reach, retrying in ZONE_DMA32 and
 * then ZONE_DMA when the first page does not fit. Returns the first pfn or -1.
 */
export function __dma_direct_alloc_pages(dev: Device, size: number, gfp: number): number {
  const m = dev.machine;
  const order = getOrder(size);
  let flags = gfp | dma_direct_optimal_gfp_mask(dev);
  for (;;) {
    const pfn = m.pages.alloc_pages(flags, order);
    if (pfn < 0) return -1;
    if (dma_coherent_ok(dev, pfn * PAGE_SIZE, size)) return pfn;
    m.pages.free_pages(pfn, order);
    if (!(flags & (__GFP_DMA32 | __GFP_DMA)) && m.zoneDma32Limit > m.zoneDmaLimit) flags |= __GFP_DMA32;
    else if (!(flags & __GFP_DMA)) flags = (flags & ~__GFP_DMA32) | __GFP_DMA;
    else return -1;
  }
}

/** __dma_direct_free_pages() */
export function __dma_direct_free_pages(dev: Device, pfn: number, size: number): void {
  dev.machine.pages.free_pages(pfn, getOrder(size));
}

export interface CoherentBuffer {
  cpu_addr: number;
  dma_handle: number;
}

/**
 * dma_direct_alloc(). On a non-coherent device the pages are cleaned (arch_dma_prep_coherent)
 * and remapped uncached in the vmalloc area (DMA_DIRECT_REMAP), so CPU accesses bypass the
 * cache; the buffer is zeroed through that uncached alias. NO_KERNEL_MAPPING returns the
 * struct page as the cookie, unzeroed.
 */
export function dma_direct_alloc(dev: Device, size: number, gfp: number, attrs: number): CoherentBuffer | null {
  const m = dev.machine;
  size = pageAlign(size);
  if (attrs & DMA_ATTR_NO_WARN) gfp |= __GFP_NOWARN;
  // Remapping may block: a non-coherent device's request that must not comes from the atomic
  // pools (NO_KERNEL_MAPPING needs no remap and was served before this test in the kernel).
  if (!(attrs & DMA_ATTR_NO_KERNEL_MAPPING) && !dev.dma_coherent && m.atomicPools !== null && dma_direct_use_pool(gfp)) {
    return dma_direct_alloc_from_pool(dev, m.atomicPools, size, gfp);
  }
  const pfn = __dma_direct_alloc_pages(dev, size, gfp & ~__GFP_ZERO);
  if (pfn < 0) return null;
  const phys = pfn * PAGE_SIZE;
  const dma_handle = phys_to_dma(dev, phys);
  const sync = m.arch.sync;
  if (attrs & DMA_ATTR_NO_KERNEL_MAPPING) {
    sync?.prepCoherent(m, phys, size);
    return { cpu_addr: pfnToPage(pfn), dma_handle };
  }
  let cpu_addr = __va(phys);
  if (sync !== undefined && !dev.dma_coherent) {
    sync.prepCoherent(m, phys, size);
    const pfns = Array.from({ length: size / PAGE_SIZE }, (_, i) => pfn + i);
    cpu_addr = m.vm.vmap(pfns, 'noncached');
    if (cpu_addr === 0) {
      __dma_direct_free_pages(dev, pfn, size);
      return null;
    }
  }
  m.cpu.fill(cpu_addr, size, 0);
  return { cpu_addr, dma_handle };
}

/** dma_direct_use_pool(): a request that may not block (dmasim has no restricted swiotlb pools). */
function dma_direct_use_pool(gfp: number): boolean {
  return !gfpflags_allow_blocking(gfp);
}

/** dma_direct_alloc_from_pool(): a pool buffer below the coherent mask, addressed for the device. */
function dma_direct_alloc_from_pool(dev: Device, pools: DmaAtomicPools, size: number, gfp: number): CoherentBuffer | null {
  const buf = pools.dma_alloc_from_pool(dev, size, gfp | dma_direct_optimal_gfp_mask(dev), dma_coherent_ok);
  return buf === null ? null : { cpu_addr: buf.cpu_addr, dma_handle: phys_to_dma(dev, buf.phys) };
}

/**
 * dma_direct_free(): a pool buffer goes back to its pool (dma_free_from_pool() fails for any
 * other address); otherwise the pages are found from the DMA handle, as dma_direct_to_page() does.
 */
export function dma_direct_free(dev: Device, size: number, cpu_addr: number, dma_handle: number, attrs: number): void {
  const m = dev.machine;
  size = pageAlign(size);
  if (!(attrs & DMA_ATTR_NO_KERNEL_MAPPING) && m.atomicPools?.dma_free_from_pool(cpu_addr, size) === true) return;
  if (!(attrs & DMA_ATTR_NO_KERNEL_MAPPING) && m.vm.areaOf(cpu_addr) !== null) m.vm.vunmap(cpu_addr);
  const phys = dma_to_phys(dev, dma_handle);
  if (phys < 0) return;
  __dma_direct_free_pages(dev, Math.floor(phys / PAGE_SIZE), size);
}

/**
 * dma_direct_alloc_pages(): cacheable pages with no remap and no cache maintenance, zeroed
 * through the linear map, so on a non-coherent device the zeroes sit in dirty lines.
 */
export function dma_direct_alloc_pages(dev: Device, size: number, gfp: number): { page: Page; dma_handle: number } | null {
  const pfn = __dma_direct_alloc_pages(dev, size, gfp);
  if (pfn < 0) return null;
  dev.machine.cpu.fill(__va(pfn * PAGE_SIZE), size, 0);
  return { page: pfnToPage(pfn), dma_handle: phys_to_dma(dev, pfn * PAGE_SIZE) };
}
