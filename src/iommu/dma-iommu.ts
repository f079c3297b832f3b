// The IOMMU DMA back end: drivers/iommu/dma-iommu.c (v7.1, with the batching series' flushes).
// A mapping allocates an IOVA range (iova.ts), points the domain's page tables at the buffer's
// pages (iommu.ts) and hands the device the IOVA; unmapping clears the tables and either syncs the
// IOTLB at once (strict) or queues the IOVA until a whole-domain flush (lazy, the flush queue).
// Cache maintenance is dma-direct's, on the physical pages. Untrusted devices bounce
// buffers that do not fill whole granules through swiotlb, with the padding zeroed.

import type { Device, DmaHost } from '../dma/device.js';
import { dma_kmalloc_needs_bounce, type CoherentBuffer } from '../dma/direct.js';
import type { DmaAtomicPools } from '../dma/pool.js';
import {
  DMA_ATTR_FORCE_CONTIGUOUS, DMA_ATTR_MMIO, DMA_ATTR_PRIVILEGED, DMA_ATTR_REQUIRE_COHERENT,
  DMA_ATTR_SKIP_CPU_SYNC, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE,
  EINVAL, ENOMEM, EREMOTEIO, type DmaDirection,
} from '../include/dma-mapping.js';
import {
  IOMMU_CACHE, IOMMU_DOMAIN_DMA_FQ, IOMMU_MMIO, IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE,
  IOMMU_RESV_SW_MSI, IotlbGather, type DevIommu, type Iommu, type IommuDomain,
} from './iommu.js';
import { IOMMU_PAGE_SIZE } from './io-pgtable-arm.js';
import { IOVA_DEPOT_DELAY_MS, IovaDomain, iova_align, iova_offset, iova_pfn, iova_rcache_range } from './iova.js';
import { __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM, gfpflags_allow_blocking } from '../mm/gfp.js';
import { __va, getOrder, PAGE_SIZE, pageAlign, pfnToPage, type Page } from '../mm/memory.js';
import type { Clock } from '../hw/time.js';
import { KERN_NOTICE, KERN_WARNING, type KernelLog } from '../lib/printk.js';
import { sg_init_table, sg_phys, sg_set_page, SG_DMA_SWIOTLB, type Scatterlist } from '../dma/scatterlist.js';
import { swiotlb_max_mapping_size } from '../dma/swiotlb.js';
import { WARN_SITES } from '../lib/warn-sites.js';

/** IOVA_DEFAULT_FQ_SIZE entries per CPU (dmasim has one) and IOVA_DEFAULT_FQ_TIMEOUT. */
export const IOVA_DEFAULT_FQ_SIZE = 256;
export const IOVA_DEFAULT_FQ_TIMEOUT_MS = 10;

/** What a domain's cookie needs from the machine (handed in by machine.ts at iommu_setup_dma_ops()). */
export interface IommuDmaHost {
  readonly log: KernelLog;
  readonly iommu: Iommu;
  /** The clock the cookie's timers (flush queue, depot trim) run on. */
  readonly clock: Clock;
}

/** struct iova_fq for the one CPU: a ring of IOVAs waiting for the next IOTLB flush. */
class IovaFq {
  readonly pfn = new Float64Array(IOVA_DEFAULT_FQ_SIZE);
  readonly pages = new Float64Array(IOVA_DEFAULT_FQ_SIZE);
  /** fq_flush_start_cnt when the entry was queued: it is free once a flush started later has finished. */
  readonly counter = new Float64Array(IOVA_DEFAULT_FQ_SIZE);
  /** The size is a power of two: indices wrap with `& mod_mask`, as the kernel's do (a `%` divides). */
  readonly mod_mask = IOVA_DEFAULT_FQ_SIZE - 1;
  head = 0;
  tail = 0;
}

/** struct iommu_dma_cookie: the IOVA allocator and, in lazy mode, the flush queue. */
export class IommuDmaCookie {
  readonly iovad: IovaDomain;
  readonly fq: IovaFq | null;
  fq_flush_start_cnt = 0;
  fq_flush_finish_cnt = 0;
  fq_timer_on = false;
  /** Coherent allocations by CPU address: their pages, and whether they were one contiguous block. */
  readonly allocs = new Map<number, { pfns: number[]; order: number }>();

  constructor(readonly m: IommuDmaHost, readonly domain: IommuDomain) {
    // base_pfn = max(1, aperture_start >> order): IOVA 0 is never handed out.
    this.iovad = new IovaDomain(IOMMU_PAGE_SIZE, 1);
    this.iovad.onWarn = (site, text) => m.log.warn(site, text);
    // schedule_delayed_work(&rcache->work, IOVA_DEPOT_DELAY) on the machine's clock.
    this.iovad.onDepotWorkScheduled = (order) => {
      m.clock.addTimer(IOVA_DEPOT_DELAY_MS * 1e6, 'iova_depot_work_func', () => this.iovad.runDepotWork(order));
    };
    this.fq = domain.type === IOMMU_DOMAIN_DMA_FQ ? new IovaFq() : null;
  }
}

/**
 * iommu_dma_init_domain() as iommu_setup_dma_ops() runs it for each device of a DMA domain: the
 * IOVA space starts at pfn 1, the IOMMU's reserved regions are reserved in it
 * (iova_reserve_iommu_regions()), and a lazy domain gets its flush queue (iommu_dma_init_fq()).
 * The devices of a group share one cookie.
 */
export function iommu_dma_init_domain(m: IommuDmaHost, domain: IommuDomain): IommuDmaCookie {
  if (domain.cookie !== null) return domain.cookie;
  const cookie = new IommuDmaCookie(m, domain);
  // iova_reserve_iommu_regions(): "We ARE the software that manages these!": a
  // software-managed MSI window is not reserved in a DMA domain.
  for (const { start, length, type } of m.iommu.reservedRegions) {
    if (type === IOMMU_RESV_SW_MSI) continue;
    cookie.iovad.reserve_iova(iova_pfn(cookie.iovad, start), iova_pfn(cookie.iovad, start + length - 1));
  }
  domain.cookie = cookie;
  return cookie;
}

function devIommu(dev: Device): DevIommu {
  return dev.iommu as DevIommu;
}

function cookieOf(d: DevIommu): IommuDmaCookie {
  return d.domain.cookie as IommuDmaCookie;
}

/** dma_info_to_prot(): IOMMU_CACHE for a coherent device; READ towards the device, WRITE from it. */
export function dma_info_to_prot(dir: DmaDirection, coherent: boolean, attrs: number): number {
  let prot = attrs & DMA_ATTR_MMIO ? IOMMU_MMIO : coherent ? IOMMU_CACHE : 0;
  if (attrs & DMA_ATTR_PRIVILEGED) prot |= IOMMU_PRIV;
  if (dir === DMA_BIDIRECTIONAL) return prot | IOMMU_READ | IOMMU_WRITE;
  if (dir === DMA_TO_DEVICE) return prot | IOMMU_READ;
  if (dir === DMA_FROM_DEVICE) return prot | IOMMU_WRITE;
  return 0;
}

/** dev_use_swiotlb(): untrusted devices, and kmalloc buffers that may share cache lines. */
function dev_use_swiotlb(dev: Device, d: DevIommu, size: number, dir: DmaDirection): boolean {
  return d.untrusted || dma_kmalloc_needs_bounce(dev, size, dir);
}

/** dev_use_sg_swiotlb(): every entry is mapped on its own when any of them would bounce. */
function dev_use_sg_swiotlb(dev: Device, d: DevIommu, sgl: Scatterlist[], nents: number, dir: DmaDirection): boolean {
  if (d.untrusted) return true;
  for (let i = 0; i < nents; i++) if (dma_kmalloc_needs_bounce(dev, (sgl[i] as Scatterlist).length, dir)) return true;
  return false;
}

// ---- IOVA allocation and release ---------------------------------------------------------

/**
 * iommu_dma_alloc_iova(): below min_not_zero(mask, bus limit) and the aperture; a PCI device
 * tries the 32-bit space first (without flushing the rcaches) until that fails once, which is
 * announced. Returns the IOVA, or 0.
 */
function iommu_dma_alloc_iova(dev: Device, d: DevIommu, size: number, dmaLimit: number): number {
  const limit = Math.min(dmaLimit, d.domain.aperture_end);
  if (limit > 0xffff_ffff && d.pci_32bit_workaround) return allocIova32First(dev, d, size, limit);
  const iovad = cookieOf(d).iovad;
  return iovad.alloc_iova_fast(size / IOMMU_PAGE_SIZE, iova_pfn(iovad, limit), true) * IOMMU_PAGE_SIZE;
}

/** The PCI path: below 4 GiB without flushing the rcaches; the first failure ends the workaround. */
function allocIova32First(dev: Device, d: DevIommu, size: number, limit: number): number {
  const iovad = cookieOf(d).iovad;
  const pfn = iovad.alloc_iova_fast(size / IOMMU_PAGE_SIZE, 0xf_ffff, false);
  if (pfn !== 0) return pfn * IOMMU_PAGE_SIZE;
  d.pci_32bit_workaround = false;
  dev.machine.log.dev_printk(KERN_NOTICE, dev, `Using ${limit.toString(2).length}-bit DMA addresses`);
  return iovad.alloc_iova_fast(size / IOMMU_PAGE_SIZE, iova_pfn(iovad, limit), true) * IOMMU_PAGE_SIZE;
}

/** iommu_dma_free_iova(): into the flush queue when the unmap was queued, else straight back. */
function iommu_dma_free_iova(d: DevIommu, iova: number, size: number, gather: IotlbGather | null): void {
  const cookie = cookieOf(d);
  const pfn = iova_pfn(cookie.iovad, iova);
  const pages = size / IOMMU_PAGE_SIZE;
  if (gather !== null && gather.queued) queue_iova(cookie, pfn, pages);
  else cookie.iovad.free_iova_fast(pfn, pages);
}

/** fq_ring_free_locked(): release every entry a finished flush has covered. */
function fq_ring_free(cookie: IommuDmaCookie, fq: IovaFq): void {
  const done = cookie.fq_flush_finish_cnt;
  while (fq.head !== fq.tail && (fq.counter[fq.head] as number) < done) {
    cookie.iovad.free_iova_fast(fq.pfn[fq.head] as number, fq.pages[fq.head] as number);
    fq.head = (fq.head + 1) & fq.mod_mask;
  }
}

/** fq_flush_iotlb(): one flush of the whole domain's IOTLB entries. */
function fq_flush_iotlb(cookie: IommuDmaCookie): void {
  cookie.fq_flush_start_cnt++;
  cookie.m.iommu.iommu_flush_iotlb_all(cookie.domain);
  cookie.fq_flush_finish_cnt++;
}

/** fq_flush_timeout(): the timer's flush, after which the queue drains. */
function fq_flush_timeout(cookie: IommuDmaCookie, fq: IovaFq): void {
  cookie.fq_timer_on = false;
  fq_flush_iotlb(cookie);
  fq_ring_free(cookie, fq);
}

/**
 * queue_iova(): free what earlier flushes covered; when the ring is full, flush and free; then
 * queue this IOVA under the current flush count and arm the timer if it is not armed.
 */
function queue_iova(cookie: IommuDmaCookie, pfn: number, pages: number): void {
  const fq = cookie.fq as IovaFq;
  fq_ring_free(cookie, fq);
  if (((fq.tail + 1) & fq.mod_mask) === fq.head) {
    fq_flush_iotlb(cookie);
    fq_ring_free(cookie, fq);
  }
  const idx = fq.tail;
  fq.tail = (idx + 1) & fq.mod_mask;
  fq.pfn[idx] = pfn;
  fq.pages[idx] = pages;
  fq.counter[idx] = cookie.fq_flush_start_cnt;
  if (!cookie.fq_timer_on) armFqTimer(cookie);
}

/** mod_timer(&cookie->fq_timer, ...): the flush-queue timer fires IOVA_DEFAULT_FQ_TIMEOUT from now. */
function armFqTimer(cookie: IommuDmaCookie): void {
  cookie.fq_timer_on = true;
  const fq = cookie.fq as IovaFq;
  cookie.m.clock.addTimer(IOVA_DEFAULT_FQ_TIMEOUT_MS * 1e6, 'fq_flush_timeout', () => fq_flush_timeout(cookie, fq));
}

/** IOVAs waiting in the flush queue of a device's domain (0 in strict mode). */
export function iommu_dma_fq_pending(dev: Device): number {
  const fq = cookieOf(devIommu(dev)).fq;
  return fq === null ? 0 : (fq.tail - fq.head) & fq.mod_mask;
}

// ---- map and unmap -----------------------------------------------------------------------

/**
 * __iommu_dma_map(): whole granules around the buffer, an IOVA for them, the page tables; the
 * handle keeps the buffer's offset in its first granule.
 */
function __iommu_dma_map(dev: Device, d: DevIommu, phys: number, size: number, prot: number, dmaLimit: number): number {
  const iovad = cookieOf(d).iovad;
  const iovaOff = iova_offset(iovad, phys);
  if ((dev.dma_parms?.min_align_mask ?? 0) > IOMMU_PAGE_SIZE - 1) return unsupportedAlignment(dev);
  size = iova_align(iovad, size + iovaOff);
  const iova = iommu_dma_alloc_iova(dev, d, size, dmaLimit);
  if (iova === 0) return DMA_MAPPING_ERROR;
  if (d.iommu_dev.iommu_map(d.domain, iova, phys - iovaOff, size, prot) !== 0) {
    iommu_dma_free_iova(d, iova, size, null);
    return DMA_MAPPING_ERROR;
  }
  return iova + iovaOff;
}

/** dev_WARN_ONCE(): a min_align_mask wider than a granule cannot be kept in the IOVA. */
function unsupportedAlignment(dev: Device): number {
  dev.machine.log.warnOnce(WARN_SITES.iommuMapAlign, `${dev.driver} ${dev.name}: Unsupported alignment constraint`);
  return DMA_MAPPING_ERROR;
}

/** The gather of every unmap, reset each time: the unmap path allocates nothing. */
const gather = new IotlbGather();

/**
 * __iommu_dma_unmap(): clear the tables over whole granules (a WARN if fewer were mapped), sync
 * the IOTLB now (strict) or let the flush queue do it (lazy), release the IOVA. Like the kernel,
 * it releases the range even when nothing was mapped there: an IOVA it never allocated goes
 * into the rcache, and the next map of that size gets it.
 */
function __iommu_dma_unmap(dev: Device, d: DevIommu, dmaAddr: number, size: number): void {
  const m = dev.machine;
  const cookie = cookieOf(d);
  const iovaOff = iova_offset(cookie.iovad, dmaAddr);
  dmaAddr -= iovaOff;
  size = iova_align(cookie.iovad, size + iovaOff);
  gather.start = Infinity;
  gather.end = 0;
  gather.queued = cookie.fq !== null;
  const unmapped = d.iommu_dev.iommu_unmap_fast(d.domain, dmaAddr, size, gather);
  if (unmapped !== size) m.log.warn(WARN_SITES.iommuUnmapSize, '');
  if (!gather.queued) d.iommu_dev.iommu_iotlb_sync(d.domain, gather);
  iommu_dma_free_iova(d, dmaAddr, size, gather);
}

/**
 * iommu_dma_map_swiotlb(): a granule-aligned bounce slot (alloc_align_mask = iova_mask); for an
 * untrusted device the rest of the granules around the copy is zeroed by the CPU, so the device
 * sees no other kernel data. (Only [phys, phys + size) is cleaned afterwards: on a non-coherent
 * device zeroes in padding lines outside it stay in the cache, as they would in the kernel.)
 */
function iommu_dma_map_swiotlb(dev: Device, d: DevIommu, phys: number, size: number, attrs: number): number {
  const m = dev.machine;
  const swiotlb = m.swiotlb;
  if (swiotlb === null) {
    m.log.printOnce('iommu_dma_map_swiotlb:inactive', KERN_WARNING, `${dev.driver} ${dev.name}: DMA bounce buffers are inactive, unable to map unaligned transaction.`);
    return DMA_MAPPING_ERROR;
  }
  const iovad = cookieOf(d).iovad;
  m.dmaTrace?.swiotlb_bounced(dev, phys, size);
  const tlb = swiotlb.swiotlb_tbl_map_single(dev, phys, size, IOMMU_PAGE_SIZE - 1, attrs);
  if (tlb !== DMA_MAPPING_ERROR && d.untrusted) {
    const pre = iova_offset(iovad, tlb);
    if (pre > 0) m.cpu.fill(__va(tlb - pre), pre, 0);
    const post = iova_align(iovad, tlb + size) - (tlb + size);
    if (post > 0) m.cpu.fill(__va(tlb + size), post, 0);
  }
  return tlb;
}

/** The arch hooks with their flush, as the single-buffer paths call them. */
function syncForDevice(m: DmaHost, phys: number, size: number, dir: DmaDirection): void {
  const sync = m.arch.sync;
  if (sync === undefined) return;
  sync.forDevice(m, phys, size, dir);
  sync.flush(m);
}

function syncForCpu(m: DmaHost, phys: number, size: number, dir: DmaDirection): void {
  const sync = m.arch.sync;
  if (sync === undefined) return;
  sync.forCpu(m, phys, size, dir);
  sync.flush(m);
}

/** swiotlb_tbl_unmap_single(): only when the address is a bounce buffer. */
function swiotlbUnmap(dev: Device, phys: number, size: number, dir: DmaDirection, attrs: number): void {
  const swiotlb = dev.machine.swiotlb;
  if (swiotlb !== null && swiotlb.is_swiotlb_buffer(phys)) swiotlb.swiotlb_tbl_unmap_single(dev, phys, size, dir, attrs);
}

/**
 * iommu_dma_map_phys(): a buffer that would bounce (untrusted device or kmalloc bouncing) and
 * does not fill whole granules goes through swiotlb, except MMIO and REQUIRE_COHERENT, which
 * cannot bounce and fail; then the clean for a non-coherent device (never for MMIO), on the
 * bounce slot if there is one, and the mapping.
 */
export function iommu_dma_map_phys(dev: Device, phys: number, size: number, dir: DmaDirection, attrs: number): number {
  const m = dev.machine;
  const d = devIommu(dev);
  const coherent = dev.dma_coherent;
  const prot = dma_info_to_prot(dir, coherent, attrs);
  m.hostStats.dmaOps++;
  // The kernel asks dev_use_swiotlb() first; both tests are free of side effects, and the
  // alignment one is cheaper and settles every whole-granule buffer.
  if (iova_offset(cookieOf(d).iovad, phys | size) !== 0 && dev_use_swiotlb(dev, d, size, dir)) {
    if (attrs & (DMA_ATTR_MMIO | DMA_ATTR_REQUIRE_COHERENT)) return DMA_MAPPING_ERROR;
    phys = iommu_dma_map_swiotlb(dev, d, phys, size, attrs);
    if (phys === DMA_MAPPING_ERROR) return DMA_MAPPING_ERROR;
  }
  if (!coherent && !(attrs & (DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_MMIO))) syncForDevice(m, phys, size, dir);
  const iova = __iommu_dma_map(dev, d, phys, size, prot, dev.iovaLimit);
  if (iova === DMA_MAPPING_ERROR && !(attrs & (DMA_ATTR_MMIO | DMA_ATTR_REQUIRE_COHERENT))) swiotlbUnmap(dev, phys, size, dir, attrs);
  return iova;
}

/**
 * iommu_dma_unmap_phys(): the physical address comes from the page tables (a WARN, and nothing
 * else, if the IOVA is not mapped), the invalidate for a non-coherent device, the unmap, then
 * the copy back from a bounce slot.
 */
export function iommu_dma_unmap_phys(dev: Device, handle: number, size: number, dir: DmaDirection, attrs: number): void {
  const m = dev.machine;
  const d = devIommu(dev);
  m.hostStats.dmaOps++;
  if (attrs & (DMA_ATTR_MMIO | DMA_ATTR_REQUIRE_COHERENT)) {
    __iommu_dma_unmap(dev, d, handle, size);
    return;
  }
  const phys = d.iommu_dev.iommu_iova_to_phys(d.domain, handle);
  if (phys === 0) {
    m.log.warn(WARN_SITES.iommuUnmapPhys, '');
    return;
  }
  if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) && !dev.dma_coherent) syncForCpu(m, phys, size, dir);
  __iommu_dma_unmap(dev, d, handle, size);
  swiotlbUnmap(dev, phys, size, dir, attrs);
}

// ---- syncs -------------------------------------------------------------------------------

/**
 * iommu_dma_sync_single_for_cpu(): nothing for a coherent device that never bounces; else the
 * invalidate, then the copy back from a bounce slot. An IOVA with no mapping is skipped (the
 * kernel would maintain whatever phys_to_virt(0) is; dma-debug reports the call).
 */
export function iommu_dma_sync_single_for_cpu(dev: Device, handle: number, size: number, dir: DmaDirection): void {
  const d = devIommu(dev);
  if (dev.dma_coherent && !dev_use_swiotlb(dev, d, size, dir)) return;
  const m = dev.machine;
  const phys = d.iommu_dev.iommu_iova_to_phys(d.domain, handle);
  if (phys === 0) return;
  if (!dev.dma_coherent) syncForCpu(m, phys, size, dir);
  if (m.swiotlb?.is_swiotlb_buffer(phys)) m.swiotlb.swiotlb_sync_single_for_cpu(dev, phys, size, dir);
}

/** iommu_dma_sync_single_for_device(): the copy into a bounce slot first, then the clean. */
export function iommu_dma_sync_single_for_device(dev: Device, handle: number, size: number, dir: DmaDirection): void {
  const d = devIommu(dev);
  if (dev.dma_coherent && !dev_use_swiotlb(dev, d, size, dir)) return;
  const m = dev.machine;
  const phys = d.iommu_dev.iommu_iova_to_phys(d.domain, handle);
  if (phys === 0) return;
  if (m.swiotlb?.is_swiotlb_buffer(phys)) m.swiotlb.swiotlb_sync_single_for_device(dev, phys, size, dir);
  if (!dev.dma_coherent) syncForDevice(m, phys, size, dir);
}

/** iommu_dma_sync_sg_for_cpu(): per entry on a bounced list; else by physical entry, one flush. */
export function iommu_dma_sync_sg_for_cpu(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection): void {
  syncSg(dev, sgl, nents, dir, false);
}

export function iommu_dma_sync_sg_for_device(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection): void {
  syncSg(dev, sgl, nents, dir, true);
}

function syncSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection, toDevice: boolean): void {
  const m = dev.machine;
  const sync = m.arch.sync;
  if (nents > 0 && ((sgl[0] as Scatterlist).dma_flags & SG_DMA_SWIOTLB)) {
    for (let i = 0; i < nents; i++) {
      const s = sgl[i] as Scatterlist;
      if (toDevice) iommu_dma_sync_single_for_device(dev, s.dma_address, s.length, dir);
      else iommu_dma_sync_single_for_cpu(dev, s.dma_address, s.length, dir);
    }
  } else if (!dev.dma_coherent && sync !== undefined) {
    for (let i = 0; i < nents; i++) {
      const s = sgl[i] as Scatterlist;
      if (toDevice) sync.forDevice(m, sg_phys(s), s.length, dir);
      else sync.forCpu(m, sg_phys(s), s.length, dir);
    }
    sync.flush(m);
  }
}

// ---- scatter-gather ----------------------------------------------------------------------

/**
 * iommu_dma_map_sg_swiotlb(): each entry mapped on its own, nothing merged, the list marked
 * as bounced; a failure unmaps what was mapped, without syncing, and is -EIO.
 */
function iommu_dma_map_sg_swiotlb(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection, attrs: number): number {
  // sg_dma_mark_swiotlb(sg): the kernel marks the list's head, which an empty JS list lacks.
  if (sgl.length > 0) (sgl[0] as Scatterlist).dma_flags |= SG_DMA_SWIOTLB;
  for (let i = 0; i < nents; i++) {
    const s = sgl[i] as Scatterlist;
    s.dma_address = iommu_dma_map_phys(dev, sg_phys(s), s.length, dir, attrs);
    if (s.dma_address === DMA_MAPPING_ERROR) {
      iommu_dma_unmap_sg_swiotlb(dev, sgl, i, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
      return -5; // -EIO
    }
    s.dma_length = s.length;
  }
  return nents;
}

function iommu_dma_unmap_sg_swiotlb(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection, attrs: number): void {
  for (let i = 0; i < nents; i++) {
    const s = sgl[i] as Scatterlist;
    iommu_dma_unmap_phys(dev, s.dma_address, s.dma_length, dir, attrs);
  }
}

/** The segment boundary as a number: 0 for "none" (ULONG_MAX, or any mask no IOVA can cross). */
function segBoundary(dev: Device): number {
  const mask = dev.dma_parms?.segment_boundary_mask ?? 0n;
  return mask === 0n || mask >= 1n << 52n ? 0 : Number(mask);
}

/**
 * iommu_dma_map_sg(): the whole list is synced for the device, each entry rounded out to whole
 * granules (its offset and length stashed in the DMA fields), padded so that none crosses the
 * segment boundary, and mapped into ONE IOVA range; __finalise_sg() then merges entries into
 * segments of up to dma_get_max_seg_size(). Returns the segment count or a negative errno.
 */
export function iommu_dma_map_sg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection, attrs: number): number {
  const d = devIommu(dev);
  if (dev_use_sg_swiotlb(dev, d, sgl, nents, dir)) return iommu_dma_map_sg_swiotlb(dev, sgl, nents, dir, attrs);
  if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC)) iommu_dma_sync_sg_for_device(dev, sgl, nents, dir);
  const iovad = cookieOf(d).iovad;
  const mask = segBoundary(dev);
  let iovaLen = 0;
  let prev: Scatterlist | null = null;
  for (let i = 0; i < nents; i++) {
    const s = sgl[i] as Scatterlist;
    const off = iova_offset(iovad, s.offset);
    const len = s.length;
    const padLen = mask === 0 ? 0 : (mask + 1 - (iovaLen % (mask + 1))) % (mask + 1);
    s.dma_address = off;
    s.dma_length = len;
    s.offset -= off;
    s.length = iova_align(iovad, len + off);
    if (padLen !== 0 && padLen < s.length - 1 && prev !== null) {
      prev.length += padLen;
      iovaLen += padLen;
    }
    iovaLen += s.length;
    prev = s;
  }
  if (iovaLen === 0) return __finalise_sg(dev, sgl, nents, 0);
  const iova = iommu_dma_alloc_iova(dev, d, iovaLen, dev.iovaLimit);
  let ret = -ENOMEM;
  if (iova !== 0) {
    ret = d.iommu_dev.iommu_map_sg(d.domain, iova, sgl, nents, dma_info_to_prot(dir, dev.dma_coherent, attrs));
    if (ret >= iovaLen) return __finalise_sg(dev, sgl, nents, iova);
    iommu_dma_free_iova(d, iova, iovaLen, null);
  }
  __invalidate_sg(sgl, nents);
  return ret === -ENOMEM || ret === -EREMOTEIO ? ret : -EINVAL;
}

/**
 * __finalise_sg(): restore each entry and lay the DMA segments out over the IOVA range. An
 * entry joins the open segment when it starts on a granule, the running address is not on a
 * segment boundary and the segment stays within the maximum size; an entry that ends short of
 * its granule closes the segment.
 */
function __finalise_sg(dev: Device, sgl: Scatterlist[], nents: number, dmaAddr: number): number {
  const segMask = segBoundary(dev);
  const maxLen = dev.dma_parms?.max_segment_size || 65536;
  let cur = 0;
  let curLen = 0;
  let count = 0;
  for (let i = 0; i < nents; i++) {
    const s = sgl[i] as Scatterlist;
    const sIovaOff = s.dma_address;
    const sLength = s.dma_length;
    const sIovaLen = s.length;
    s.dma_address = DMA_MAPPING_ERROR;
    s.dma_length = 0;
    s.offset += sIovaOff;
    s.length = sLength;
    const offBoundary = segMask === 0 ? dmaAddr !== 0 : dmaAddr - Math.floor(dmaAddr / (segMask + 1)) * (segMask + 1) !== 0;
    if (curLen !== 0 && sIovaOff === 0 && offBoundary && maxLen - curLen >= sLength) {
      curLen += sLength;
    } else {
      if (i > 0) cur++;
      curLen = sLength;
      count++;
      (sgl[cur] as Scatterlist).dma_address = dmaAddr + sIovaOff;
    }
    (sgl[cur] as Scatterlist).dma_length = curLen;
    dmaAddr += sIovaLen;
    if (sLength + sIovaOff < sIovaLen) curLen = 0;
  }
  return count;
}

/** __invalidate_sg(): put every entry back as it was and mark nothing mapped. */
function __invalidate_sg(sgl: Scatterlist[], nents: number): void {
  for (let i = 0; i < nents; i++) {
    const s = sgl[i] as Scatterlist;
    if (s.dma_address !== DMA_MAPPING_ERROR) s.offset += s.dma_address;
    if (s.dma_length !== 0) s.length = s.dma_length;
    s.dma_address = DMA_MAPPING_ERROR;
    s.dma_length = 0;
  }
}

/**
 * iommu_dma_unmap_sg(): sync for the CPU, then one unmap from the first segment's start to the
 * end of the last segment before the first empty one.
 */
export function iommu_dma_unmap_sg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection, attrs: number): void {
  if (nents > 0 && ((sgl[0] as Scatterlist).dma_flags & SG_DMA_SWIOTLB)) {
    iommu_dma_unmap_sg_swiotlb(dev, sgl, nents, dir, attrs);
    return;
  }
  if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC)) iommu_dma_sync_sg_for_cpu(dev, sgl, nents, dir);
  let start = 0;
  let end = 0;
  for (let i = 0; i < nents; i++) {
    const s = sgl[i] as Scatterlist;
    if (s.dma_length === 0) break;
    if (i === 0) start = s.dma_address;
    end = s.dma_address + s.dma_length;
  }
  if (end !== 0) __iommu_dma_unmap(dev, devIommu(dev), start, end - start);
}

// ---- coherent allocations ----------------------------------------------------------------

/**
 * iommu_dma_alloc(). Blocking without FORCE_CONTIGUOUS: iommu_dma_alloc_remap(), pages from
 * anywhere (order 0: the tables map 4 KiB pages only), zeroed, cleaned for a non-coherent
 * device, mapped at one IOVA range and vmapped (uncached for a non-coherent device). Otherwise
 * one contiguous block, remapped the same way when non-coherent; but a non-coherent request
 * that may not block comes from the atomic pools (kernel/dma/pool.c), already uncached.
 */
export function iommu_dma_alloc(dev: Device, size: number, gfp: number, attrs: number): CoherentBuffer | null {
  const m = dev.machine;
  const d = devIommu(dev);
  const coherent = dev.dma_coherent;
  const prot = dma_info_to_prot(DMA_BIDIRECTIONAL, coherent, attrs);
  const allocSize = pageAlign(size);
  // Nothing to allocate, map or remap: NULL, as dma-direct gives for an empty request.
  if (allocSize === 0) return null;
  const contiguous = !gfpflags_allow_blocking(gfp) || (attrs & DMA_ATTR_FORCE_CONTIGUOUS) !== 0;
  if (!coherent && m.atomicPools !== null && !gfpflags_allow_blocking(gfp) && !(attrs & DMA_ATTR_FORCE_CONTIGUOUS)) {
    return iommu_dma_alloc_from_pool(dev, d, m.atomicPools, size, gfp, prot);
  }
  const pfns = contiguous ? contiguousPages(m, allocSize, gfp) : scatteredPages(m, allocSize / PAGE_SIZE, gfp);
  if (pfns === null) return null;
  const order = contiguous ? getOrder(allocSize) : -1;
  for (const pfn of pfns) {
    m.cpu.fill(__va(pfn * PAGE_SIZE), PAGE_SIZE, 0);
    if (!coherent) m.arch.sync?.prepCoherent(m, pfn * PAGE_SIZE, PAGE_SIZE);
  }
  const free = (): null => {
    freePages(m, pfns, order);
    return null;
  };
  let dma_handle: number;
  if (contiguous) {
    dma_handle = __iommu_dma_map(dev, d, (pfns[0] as number) * PAGE_SIZE, size, prot, dev.coherentIovaLimit());
  } else {
    dma_handle = iommu_dma_alloc_iova(dev, d, allocSize, dev.coherentIovaLimit());
    if (dma_handle === 0) return free();
    if (mapPages(d, dma_handle, pfns, prot) !== 0) {
      iommu_dma_free_iova(d, dma_handle, allocSize, null);
      return free();
    }
  }
  if (dma_handle === DMA_MAPPING_ERROR) return free();
  const cpu_addr = coherent && contiguous ? __va((pfns[0] as number) * PAGE_SIZE) : m.vm.vmap(pfns, coherent ? 'normal' : 'noncached');
  if (cpu_addr === 0) {
    __iommu_dma_unmap(dev, d, dma_handle, allocSize);
    return free();
  }
  cookieOf(d).allocs.set(cpu_addr, { pfns, order });
  return { cpu_addr, dma_handle };
}

/** iommu_dma_alloc()'s atomic branch: a pool buffer (any address: no phys_addr_ok) mapped at an IOVA. */
function iommu_dma_alloc_from_pool(dev: Device, d: DevIommu, pools: DmaAtomicPools, size: number, gfp: number, prot: number): CoherentBuffer | null {
  const buf = pools.dma_alloc_from_pool(dev, pageAlign(size), gfp, null);
  if (buf === null) return null;
  const dma_handle = __iommu_dma_map(dev, d, buf.phys, size, prot, dev.coherentIovaLimit());
  if (dma_handle === DMA_MAPPING_ERROR) {
    pools.dma_free_from_pool(buf.cpu_addr, pageAlign(size));
    return null;
  }
  return { cpu_addr: buf.cpu_addr, dma_handle };
}

/**
 * The mapping step of __iommu_dma_alloc_noncontiguous(): sg_alloc_table_from_pages() then
 * iommu_map_sg() at `iova`; 0, or the error after what was mapped has been unmapped.
 */
function mapPages(d: DevIommu, iova: number, pfns: readonly number[], prot: number): number {
  const sgl = sg_init_table(pfns.length);
  for (let i = 0; i < pfns.length; i++) sg_set_page(sgl[i] as Scatterlist, pfnToPage(pfns[i] as number), PAGE_SIZE, 0);
  const ret = d.iommu_dev.iommu_map_sg(d.domain, iova, sgl, pfns.length, prot);
  return ret < 0 ? ret : 0;
}

/** The IOMMU maps any page, so zone flags go (__GFP_HIGHMEM is added and means nothing here). */
function anyZone(gfp: number): number {
  return gfp & ~(__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM);
}

/** __iommu_dma_alloc_pages() with only order 0 in the page-size bitmap: one page at a time. */
function scatteredPages(m: DmaHost, count: number, gfp: number): number[] | null {
  const pfns: number[] = [];
  for (let i = 0; i < count; i++) {
    const pfn = m.pages.alloc_pages(anyZone(gfp), 0);
    if (pfn < 0) {
      freePages(m, pfns, -1);
      return null;
    }
    pfns.push(pfn);
  }
  return pfns;
}

/** iommu_dma_alloc_pages(): one block of get_order(size) pages. */
function contiguousPages(m: DmaHost, allocSize: number, gfp: number): number[] | null {
  const order = getOrder(allocSize);
  const pfn = m.pages.alloc_pages(anyZone(gfp), order);
  if (pfn < 0) return null;
  return Array.from({ length: allocSize / PAGE_SIZE }, (_, i) => pfn + i);
}

function freePages(m: DmaHost, pfns: readonly number[], order: number): void {
  if (order >= 0) m.pages.free_pages(pfns[0] as number, order);
  else for (const pfn of pfns) m.pages.free_pages(pfn, 0);
}

/** iommu_dma_free(): unmap, then __iommu_dma_free() (drop the remap, free the pages). */
export function iommu_dma_free(dev: Device, size: number, cpu_addr: number, handle: number): void {
  const m = dev.machine;
  const d = devIommu(dev);
  __iommu_dma_unmap(dev, d, handle, size);
  // __iommu_dma_free(): "Non-coherent atomic allocation? Easy"
  if (m.atomicPools?.dma_free_from_pool(cpu_addr, pageAlign(size)) === true) return;
  const alloc = cookieOf(d).allocs.get(cpu_addr);
  if (alloc === undefined) return;
  cookieOf(d).allocs.delete(cpu_addr);
  if (m.vm.areaOf(cpu_addr) !== null) m.vm.vunmap(cpu_addr);
  freePages(m, alloc.pfns, alloc.order);
}

/**
 * dma_common_alloc_pages() on the IOMMU path: pages mapped with SKIP_CPU_SYNC, then zeroed
 * through the linear map (so on a non-coherent device the zeroes sit in dirty lines until synced).
 */
export function iommu_dma_alloc_pages(dev: Device, size: number, dir: DmaDirection, gfp: number): { page: Page; dma_handle: number } | null {
  const m = dev.machine;
  if (size === 0) return null; // as iommu_dma_alloc(): no pages, no IOVA for nothing
  const order = getOrder(size);
  const pfn = m.pages.alloc_pages(gfp, order);
  if (pfn < 0) return null;
  const dma_handle = iommu_dma_map_phys(dev, pfn * PAGE_SIZE, size, dir, DMA_ATTR_SKIP_CPU_SYNC);
  if (dma_handle === DMA_MAPPING_ERROR) {
    m.pages.free_pages(pfn, order);
    return null;
  }
  m.cpu.fill(__va(pfn * PAGE_SIZE), size, 0);
  return { page: pfnToPage(pfn), dma_handle };
}

/** dma_common_free_pages() on the IOMMU path. */
export function iommu_dma_free_pages(dev: Device, size: number, pfn: number, dma_handle: number, dir: DmaDirection): void {
  iommu_dma_unmap_phys(dev, dma_handle, size, dir, DMA_ATTR_SKIP_CPU_SYNC);
  dev.machine.pages.free_pages(pfn, getOrder(size));
}

// ---- limits ------------------------------------------------------------------------------

/** iommu_dma_max_mapping_size(): swiotlb's limit for an untrusted device, else SIZE_MAX. */
export function iommu_dma_max_mapping_size(dev: Device): number {
  return devIommu(dev).untrusted ? swiotlb_max_mapping_size(dev) : Number.MAX_SAFE_INTEGER;
}

/** iommu_dma_opt_mapping_size(): the largest size the IOVA rcaches serve. */
export function iommu_dma_opt_mapping_size(): number {
  return iova_rcache_range();
}
