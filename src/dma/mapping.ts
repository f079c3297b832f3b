// The DMA mapping API: kernel/dma/mapping.c and the inline wrappers of
// include/linux/dma-mapping.h. Every entry point has the kernel's three steps: validate
// (direction, mask), dispatch to one back end (dma-direct when there is neither an IOMMU nor
// dma_map_ops, dma-iommu when use_dma_iommu(), else the device's dma_map_ops), then the
// dma-debug hook. Arguments no kernel could receive throw DmaSimError before anything runs.

import * as direct from './direct.js';
import * as iommu from '../iommu/dma-iommu.js';
import type { CoherentBuffer } from './direct.js';
import { currentMachine } from './current.js';
import { Device, type DmaHost } from './device.js';
import {
  checkAttrs, checkDir, checkMask, DMA_ATTR_CC_SHARED, DMA_BIDIRECTIONAL, DMA_ATTR_MMIO, DMA_NONE, DMA_ATTR_NO_WARN, DMA_ATTR_REQUIRE_COHERENT,
  DMA_BIT_MASK, DMA_MAPPING_ERROR, EINVAL, EIO, ENOMEM, EOPNOTSUPP, EREMOTEIO, minNotZero, U64_MAX,
  validDmaDirection, type DmaDirection,
} from '../include/dma-mapping.js';
import { DmaSimRangeError, DmaSimTypeError } from '../lib/errors.js';
import { __GFP_COMP, __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM, __GFP_NOWARN } from '../mm/gfp.js';
import { __pa, archIsVmallocAddr, isLinearMapAddress, isPageHandle, isVmallocAddr, PAGE_SIZE, pageAlign, pageToPfn, pfnToPage, type Page } from '../mm/memory.js';
import { checkSgList, type Scatterlist, type SgTable } from './scatterlist.js';
import { checkAddr, checkIntIn, checkSize } from '../lib/validate.js';
import type { Site } from '../lib/printk.js';
import { WARN_SITES } from '../lib/warn-sites.js';


// ---- validation --------------------------------------------------------------------------

/** The device argument; every DMA API call is also an interleaving point (hw/time.ts). */
function checkDev(fn: string, dev: unknown): Device {
  if (!(dev instanceof Device)) throw new DmaSimTypeError(fn, 'dev', 'must be a struct device from m.createDevice()');
  dev.machine.clock.point();
  return dev;
}

function checkGfp(fn: string, gfp: unknown): number {
  return checkIntIn(fn, 'gfp', gfp, 0, 0xffff_ffff);
}

/** BUG_ON(!valid_dma_direction(dir)): DMA_NONE is a kernel BUG, logged and thrown. */
function bugOnDirection(dev: Device, site: Site, dir: DmaDirection): void {
  if (!validDmaDirection(dir)) dev.machine.log.bug(site, `invalid DMA direction ${dir}`);
}

/** The sg-table argument of the *_sgtable calls. */
function checkSgt(fn: string, sgt: unknown): SgTable {
  if (typeof sgt !== 'object' || sgt === null || !Array.isArray((sgt as SgTable).sgl)) throw new DmaSimTypeError(fn, 'sgt', 'must be an sg_table from sg_alloc_table()');
  return sgt as SgTable;
}

// A legacy dma_map_ops callback that breaks its contract is a bug in the caller's bus code: the
// call the user made is refused, naming the callback, before dma-debug or a pool sees the result.

function brokenOps(fn: string, callback: string, what: string): never {
  throw new DmaSimRangeError(fn, 'dev', `dma_map_ops.${callback} ${what}`);
}

/** What ops->map_phys returned: a DMA address (below 2^53) or DMA_MAPPING_ERROR. */
function opsAddr(fn: string, callback: string, addr: unknown): number {
  if (addr === DMA_MAPPING_ERROR || (typeof addr === 'number' && Number.isSafeInteger(addr) && addr >= 0)) return addr;
  return brokenOps(fn, callback, `returned ${String(addr)}, not a DMA address or DMA_MAPPING_ERROR`);
}

/** What ops->map_sg returned: a negative errno, or at most nents segments, each with an address and a length. */
function opsSgCount(fn: string, sgl: readonly Scatterlist[], nents: number, ents: unknown): number {
  if (typeof ents !== 'number' || !Number.isInteger(ents) || ents > nents) {
    brokenOps(fn, 'map_sg', `returned ${String(ents)} for ${nents} entries`);
  }
  for (let i = 0; i < ents; i++) {
    const s = sgl[i] as Scatterlist;
    opsAddr(fn, 'map_sg', s.dma_address);
    if (!Number.isSafeInteger(s.dma_length) || s.dma_length < 0) brokenOps(fn, 'map_sg', `set sg[${i}].dma_length to ${String(s.dma_length)}`);
  }
  return ents;
}

/** What ops->alloc returned: null, or memory the CPU can reach for `size` bytes and its handle. */
function opsBuffer(fn: string, dev: Device, size: number, buf: unknown): CoherentBuffer | null {
  if (buf === null) return null;
  const b = buf as Partial<CoherentBuffer>;
  const ok = typeof b === 'object' && typeof b.cpu_addr === 'number' && Number.isSafeInteger(b.cpu_addr) && b.cpu_addr > 0
    && dev.machine.translate(b.cpu_addr) >= 0 && dev.machine.translate(b.cpu_addr + Math.max(size, 1) - 1) >= 0;
  if (!ok) brokenOps(fn, 'alloc', `returned ${JSON.stringify(buf) ?? String(buf)}: cpu_addr is not kernel memory of ${size} bytes`);
  opsAddr(fn, 'alloc', b.dma_handle);
  if (b.dma_handle === DMA_MAPPING_ERROR) brokenOps(fn, 'alloc', 'returned a buffer with dma_handle DMA_MAPPING_ERROR');
  return buf as CoherentBuffer;
}

/** get_dma_ops(): the legacy back end, or null for dma-direct (dma_go_direct()). */
function ops(dev: Device): Device['dma_ops'] {
  return dev.dma_ops;
}

// ---- masks (dma_set_mask and friends) ----------------------------------------------------

/** dma_supported(): dma-direct's rule, or the ops' own. */
export function dma_supported(dev: Device, mask: bigint): boolean {
  mask = checkMaskArgs('dma_supported', dev, mask);
  if (dev.dma_iommu) return true;
  const o = ops(dev);
  if (o !== null) return o.dma_supported?.(dev, mask) ?? true;
  return direct.dma_direct_supported(dev, mask);
}

/** dma_setup_need_sync(): a coherent direct device may skip syncs until its first bounce. */
function dma_setup_need_sync(dev: Device): void {
  const o = ops(dev);
  if (o === null) dev.dma_skip_sync = dev.dma_coherent; // dma-direct or dma-iommu
  else dev.dma_skip_sync = !o.sync_single_for_device && !o.sync_single_for_cpu && !o.sync_sg_for_device && !o.sync_sg_for_cpu;
}

/** dma_set_mask(): -EIO without a dma_mask pointer or when the mask is not supported. */
export function dma_set_mask(dev: Device, mask: bigint): number {
  return setMask(dev, checkMaskArgs('dma_set_mask', dev, mask));
}

/** A mask truncated to dma_addr_t's 64 bits, as the kernel's u64 argument truncates it. */
function checkMaskArgs(fn: string, dev: Device, mask: unknown): bigint {
  checkDev(fn, dev);
  return BigInt.asUintN(64, checkMask(fn, mask));
}

function setMask(dev: Device, mask: bigint): number {
  if (dev.dma_mask === null || !dma_supported(dev, mask)) return -EIO;
  dev.dma_mask = mask;
  dma_setup_need_sync(dev);
  return 0;
}

/** dma_set_coherent_mask() */
export function dma_set_coherent_mask(dev: Device, mask: bigint): number {
  return setCoherentMask(dev, checkMaskArgs('dma_set_coherent_mask', dev, mask));
}

function setCoherentMask(dev: Device, mask: bigint): number {
  if (!dma_supported(dev, mask)) return -EIO;
  dev.coherent_dma_mask = mask;
  return 0;
}

/** dma_set_mask_and_coherent(): the coherent mask's result is ignored, as in the kernel. */
export function dma_set_mask_and_coherent(dev: Device, mask: bigint): number {
  return setMaskAndCoherent(dev, checkMaskArgs('dma_set_mask_and_coherent', dev, mask));
}

function setMaskAndCoherent(dev: Device, mask: bigint): number {
  const rc = setMask(dev, mask);
  if (rc === 0) setCoherentMask(dev, mask);
  return rc;
}

/** dma_coerce_mask_and_coherent(): points dma_mask at coherent_dma_mask first. */
export function dma_coerce_mask_and_coherent(dev: Device, mask: bigint): number {
  const m = checkMaskArgs('dma_coerce_mask_and_coherent', dev, mask);
  dev.pointMaskAtCoherentMask();
  return setMaskAndCoherent(dev, m);
}

/** dma_get_mask(): an unset mask reads as 32-bit. */
export function dma_get_mask(dev: Device): bigint {
  return checkDev('dma_get_mask', dev).dmaGetMask();
}

/** dma_get_required_mask() */
export function dma_get_required_mask(dev: Device): bigint {
  checkDev('dma_get_required_mask', dev);
  if (dev.dma_iommu) return DMA_BIT_MASK(32);
  const o = ops(dev);
  if (o === null) return direct.dma_direct_get_required_mask(dev);
  return o.get_required_mask?.(dev) ?? DMA_BIT_MASK(32);
}

/**
 * dma_addressing_limited() / __dma_addressing_limited(): the mask (or bus limit) cannot reach
 * all of RAM, or (dma-direct only) a dma_range_map leaves some RAM without a bus address.
 */
export function dma_addressing_limited(dev: Device): boolean {
  checkDev('dma_addressing_limited', dev);
  if (minNotZero(dma_get_mask(dev), dev.bus_dma_limit) < dma_get_required_mask(dev)) return true;
  if (ops(dev) !== null || dev.dma_iommu) return false;
  return !direct.dma_direct_all_ram_mapped(dev);
}

// ---- streaming mappings ------------------------------------------------------------------

/**
 * The common checks of a single map or unmap; returns the attrs. The usual attrs of 0 skip
 * checkAttrs(), so that its bytecode does not count against the inlining budget of every map.
 */
function checkSingle(fn: string, dev: Device, addrArg: string, addr: number, size: number, dir: DmaDirection, attrs: unknown): number {
  checkDev(fn, dev);
  // Only a handle given back (an unmap's or a sync's addr) may be DMA_MAPPING_ERROR.
  if (addrArg !== 'addr' || addr !== DMA_MAPPING_ERROR) checkAddr(fn, addrArg, addr);
  checkSize(fn, 'size', size);
  checkDir(fn, dir);
  return attrs === 0 ? 0 : checkAttrs(fn, attrs);
}

/** A physical range handed to a mapping call must lie in one RAM bank (any address for MMIO). */
function checkPhysRange(dev: Device, fn: string, arg: string, phys: number, size: number): void {
  if (dev.machine.physToOffset(phys, size === 0 ? 1 : size) < 0) refuseRange(fn, arg, phys, size);
}

function refuseRange(fn: string, arg: string, phys: number, size: number): never {
  throw new DmaSimRangeError(fn, arg, `[0x${phys.toString(16)}, +${size}) is not inside one RAM bank`);
}

/** dma_map_phys(): the v7.x primitive every single-buffer map ends in. */
export function dma_map_phys(dev: Device, phys: number, size: number, dir: DmaDirection, attrs = 0): number {
  attrs = checkSingle('dma_map_phys', dev, 'phys', phys, size, dir, attrs);
  if (!(attrs & DMA_ATTR_MMIO)) checkPhysRange(dev, 'dma_map_phys', 'phys', phys, size);
  dev.machine.dmaDebug?.caller('dma_map_phys');
  return mapPhys('dma_map_phys', dev, phys, size, dir, attrs);
}

function mapPhys(fn: string, dev: Device, phys: number, size: number, dir: DmaDirection, attrs: number): number {
  dev.machine.dmaTrace?.dma_api_enter?.();
  if (dir === DMA_NONE) bugOnDirection(dev, WARN_SITES.mapPhysDirection, dir);
  if (dev.dma_mask === null) return noMask(dev, WARN_SITES.mapPhysNoMask);
  if (!dev.dma_coherent && (attrs & DMA_ATTR_REQUIRE_COHERENT)) return DMA_MAPPING_ERROR;
  const o = ops(dev);
  let addr = DMA_MAPPING_ERROR;
  if (o === null && !dev.dma_iommu) addr = direct.dma_direct_map_phys(dev, phys, size, dir, attrs, true);
  else if (attrs & DMA_ATTR_CC_SHARED) addr = DMA_MAPPING_ERROR; // only dma-direct maps shared memory
  else if (dev.dma_iommu) addr = iommu.iommu_dma_map_phys(dev, phys, size, dir, attrs);
  else if (o?.map_phys) addr = opsAddr(fn, 'map_phys', o.map_phys(dev, phys, size, dir, attrs));
  dev.machine.dmaTrace?.dma_map_phys(dev, phys, addr, size, dir, attrs);
  dev.machine.dmaDebug?.map_phys(dev, phys, size, dir, addr, attrs);
  return addr;
}

/** WARN_ON_ONCE(!dev->dma_mask) */
function noMask(dev: Device, site: Site): number {
  dev.machine.log.warnOnce(site, '');
  return DMA_MAPPING_ERROR;
}

/** dma_unmap_phys(): the debug check runs after the real unmap. */
export function dma_unmap_phys(dev: Device, addr: number, size: number, dir: DmaDirection, attrs = 0): void {
  unmapPhys(dev, addr, size, dir, checkSingle('dma_unmap_phys', dev, 'addr', addr, size, dir, attrs));
}

function unmapPhys(dev: Device, addr: number, size: number, dir: DmaDirection, attrs: number): void {
  dev.machine.dmaTrace?.dma_api_enter?.();
  if (dir === DMA_NONE) bugOnDirection(dev, WARN_SITES.unmapPhysDirection, dir);
  const o = ops(dev);
  if (o === null && !dev.dma_iommu) direct.dma_direct_unmap_phys(dev, addr, size, dir, attrs, true);
  else if (attrs & DMA_ATTR_CC_SHARED) return;
  else if (dev.dma_iommu) iommu.iommu_dma_unmap_phys(dev, addr, size, dir, attrs);
  else o?.unmap_phys?.(dev, addr, size, dir, attrs);
  dev.machine.dmaTrace?.dma_unmap_phys(dev, addr, size, dir, attrs);
  dev.machine.dmaDebug?.unmap_phys(dev, addr, size, dir, attrs);
}

/** dma_map_page_attrs(): MMIO is refused for pages. */
export function dma_map_page(dev: Device, page: Page, offset: number, size: number, dir: DmaDirection, attrs = 0): number {
  const fn = 'dma_map_page';
  if (typeof page !== 'number' || !isPageHandle(page)) throw new DmaSimTypeError(fn, 'page', 'must be a struct page handle');
  checkSize(fn, 'offset', offset);
  const phys = pageToPfn(page) * PAGE_SIZE + offset;
  attrs = checkSingle(fn, dev, 'page', phys, size, dir, attrs);
  checkPhysRange(dev, fn, 'page', phys, size);
  if (attrs & DMA_ATTR_MMIO) return DMA_MAPPING_ERROR;
  dev.machine.dmaDebug?.caller('dma_map_page');
  return mapPhys(fn, dev, phys, size, dir, attrs);
}

/** dma_unmap_page_attrs(): silently nothing with MMIO. */
function unmapPage(fn: string, dev: Device, addr: number, size: number, dir: DmaDirection, attrs: unknown): void {
  const a = checkSingle(fn, dev, 'addr', addr, size, dir, attrs);
  if (!(a & DMA_ATTR_MMIO)) unmapPhys(dev, addr, size, dir, a);
}

export function dma_unmap_page(dev: Device, addr: number, size: number, dir: DmaDirection, attrs = 0): void {
  unmapPage('dma_unmap_page', dev, addr, size, dir, attrs);
}

/**
 * dma_map_single_attrs(): vmalloc memory is rejected with a WARN; otherwise the buffer is
 * mapped as virt_to_page(ptr) + offset_in_page(ptr).
 */
export function dma_map_single(dev: Device, ptr: number, size: number, dir: DmaDirection, attrs = 0): number {
  const fn = 'dma_map_single';
  attrs = checkSingle(fn, dev, 'ptr', ptr, size, dir, attrs);
  const m = dev.machine;
  if (archIsVmallocAddr(ptr, m.arch.kimageInVmalloc)) return rejectVmalloc(dev);
  const phys = isLinearMapAddress(ptr) ? __pa(ptr) : m.translate(ptr);
  if (phys < 0) refuseVirt(fn, ptr);
  checkPhysRange(dev, fn, 'ptr', phys, size);
  m.dmaDebug?.map_single(dev, ptr, size);
  if (attrs & DMA_ATTR_MMIO) return DMA_MAPPING_ERROR;
  return mapPhys(fn, dev, phys, size, dir, attrs);
}

function refuseVirt(fn: string, ptr: number): never {
  throw new DmaSimRangeError(fn, 'ptr', `0x${ptr.toString(16)} is not a linear-map or kernel-image address`);
}

function rejectVmalloc(dev: Device): number {
  dev.machine.log.warnOnce(WARN_SITES.mapSingleVmalloc, `${dev.driver} ${dev.name}: rejecting DMA map of vmalloc memory`);
  return DMA_MAPPING_ERROR;
}

/** dma_unmap_single_attrs(): dma_unmap_page_attrs() of the mapping dma_map_single() made. */
export function dma_unmap_single(dev: Device, addr: number, size: number, dir: DmaDirection, attrs = 0): void {
  unmapPage('dma_unmap_single', dev, addr, size, dir, attrs);
}

/**
 * dma_map_resource(): dma_map_phys() with DMA_ATTR_MMIO: never bounced, no cache maintenance.
 * A RAM address is mapped too; dma-debug reports it (debug_dma_map_phys()).
 */
export function dma_map_resource(dev: Device, phys: number, size: number, dir: DmaDirection, attrs = 0): number {
  const a = checkSingle('dma_map_resource', dev, 'phys', phys, size, dir, attrs) | DMA_ATTR_MMIO;
  const m = dev.machine;
  m.dmaDebug?.caller('dma_map_resource');
  return mapPhys('dma_map_resource', dev, phys, size, dir, a);
}

/** dma_unmap_resource(): dma_unmap_phys() with DMA_ATTR_MMIO, so nothing but bookkeeping. */
export function dma_unmap_resource(dev: Device, addr: number, size: number, dir: DmaDirection, attrs = 0): void {
  unmapPhys(dev, addr, size, dir, checkSingle('dma_unmap_resource', dev, 'addr', addr, size, dir, attrs) | DMA_ATTR_MMIO);
}

/** dma_mapping_error(): the debug layer marks the mapping as checked first. */
export function dma_mapping_error(dev: Device, addr: number): number {
  checkDev('dma_mapping_error', dev);
  if (addr !== DMA_MAPPING_ERROR) checkAddr('dma_mapping_error', 'addr', addr);
  dev.machine.dmaDebug?.mapping_error(dev, addr);
  return addr === DMA_MAPPING_ERROR ? -ENOMEM : 0;
}

// ---- scatter-gather ----------------------------------------------------------------------

/** __dma_map_sg_attrs(): the count of mapped segments, or a negative errno. */
function mapSg(fn: string, dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection, attrs: number): number {
  const m = dev.machine;
  m.dmaTrace?.dma_api_enter?.();
  bugOnDirection(dev, WARN_SITES.mapSgDirection, dir);
  if (!dev.dma_coherent && (attrs & DMA_ATTR_REQUIRE_COHERENT)) return -EOPNOTSUPP;
  if (dev.dma_mask === null) {
    noMask(dev, WARN_SITES.mapSgNoMask);
    return 0;
  }
  const o = ops(dev);
  let ents: number;
  if (o === null && !dev.dma_iommu) ents = direct.dma_direct_map_sg(dev, sgl, nents, dir, attrs);
  else if (dev.dma_iommu) ents = iommu.iommu_dma_map_sg(dev, sgl, nents, dir, attrs);
  else if (o?.map_sg) ents = opsSgCount(fn, sgl, nents, o.map_sg(dev, sgl, nents, dir, attrs));
  else throw new DmaSimRangeError(fn, 'dev', 'has dma_map_ops without map_sg, which __dma_map_sg_attrs() calls unconditionally (a NULL pointer dereference)');
  if (ents > 0) {
    m.dmaTrace?.dma_map_sg(dev, sgl, nents, ents, dir, attrs);
    m.dmaDebug?.map_sg(dev, sgl, nents, ents, dir, attrs);
  } else if (ents !== -EINVAL && ents !== -ENOMEM && ents !== -EIO && ents !== -EREMOTEIO) {
    m.log.warnOnce(WARN_SITES.mapSgErrno, '');
    m.dmaTrace?.dma_map_sg_err(dev, sgl, nents, ents, dir, attrs);
    return -EIO;
  }
  return ents;
}

function sgArgs(fn: string, dev: Device, sgl: unknown, nents: unknown, dir: unknown, attrs: unknown): [Scatterlist[], number, DmaDirection, number] {
  checkDev(fn, dev);
  const list = checkSgList(dev.machine, fn, sgl, nents);
  return [list, nents as number, checkDir(fn, dir), checkAttrs(fn, attrs)];
}

/** dma_map_sg_attrs(): the mapped count, 0 on any error. */
export function dma_map_sg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection, attrs = 0): number {
  const [list, n, d, a] = sgArgs('dma_map_sg', dev, sgl, nents, dir, attrs);
  dev.machine.dmaDebug?.caller('dma_map_sg');
  const ret = mapSg('dma_map_sg', dev, list, n, d, a);
  return ret < 0 ? 0 : ret;
}

/** dma_unmap_sg_attrs(): the debug check runs before the unmap; pass the original nents. */
export function dma_unmap_sg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection, attrs = 0): void {
  unmapSg('dma_unmap_sg', dev, sgl, nents, dir, attrs);
}

function unmapSg(fn: string, dev: Device, sgl: unknown, nents: unknown, dir: unknown, attrs: unknown): void {
  const [list, n, d, a] = sgArgs(fn, dev, sgl, nents, dir, attrs);
  bugOnDirection(dev, WARN_SITES.unmapSgDirection, d);
  dev.machine.dmaTrace?.dma_api_enter?.();
  dev.machine.dmaTrace?.dma_unmap_sg(dev, list, n, d, a);
  dev.machine.dmaDebug?.unmap_sg(dev, list, n, d);
  const o = ops(dev);
  if (o === null && !dev.dma_iommu) direct.dma_direct_unmap_sg(dev, list, n, d, a);
  else if (dev.dma_iommu) iommu.iommu_dma_unmap_sg(dev, list, n, d, a);
  else o?.unmap_sg?.(dev, list, n, d, a);
}

/** dma_map_sgtable(): 0 or a negative errno; sgt.nents gets the mapped count. */
export function dma_map_sgtable(dev: Device, sgt: SgTable, dir: DmaDirection, attrs = 0): number {
  checkSgt('dma_map_sgtable', sgt);
  const [list, n, d, a] = sgArgs('dma_map_sgtable', dev, sgt.sgl, sgt.orig_nents, dir, attrs);
  dev.machine.dmaDebug?.caller('dma_map_sgtable');
  const nents = mapSg('dma_map_sgtable', dev, list, n, d, a);
  if (nents < 0) return nents;
  sgt.nents = nents;
  return 0;
}

export function dma_unmap_sgtable(dev: Device, sgt: SgTable, dir: DmaDirection, attrs = 0): void {
  checkSgt('dma_unmap_sgtable', sgt);
  unmapSg('dma_unmap_sgtable', dev, sgt.sgl, sgt.orig_nents, dir, attrs);
}

// ---- syncs -------------------------------------------------------------------------------

/** dma_dev_need_sync(): skipped for a coherent device that never bounced, never under DEBUG. */
function needSync(dev: Device): boolean {
  return !dev.dma_skip_sync || dev.machine.config.DMA_API_DEBUG;
}

function syncArgs(fn: string, dev: Device, addr: unknown, size: unknown, dir: unknown): DmaDirection {
  checkDev(fn, dev);
  if (addr !== DMA_MAPPING_ERROR) checkAddr(fn, 'addr', addr);
  checkSize(fn, 'size', size);
  return checkDir(fn, dir);
}

function syncSingleForCpu(dev: Device, addr: number, size: number, dir: DmaDirection): void {
  if (!needSync(dev)) return;
  bugOnDirection(dev, WARN_SITES.syncSingleForCpuDirection, dir);
  dev.machine.dmaTrace?.dma_api_enter?.();
  const o = ops(dev);
  if (o === null && !dev.dma_iommu) direct.dma_direct_sync_single_for_cpu(dev, addr, size, dir, true);
  else if (dev.dma_iommu) iommu.iommu_dma_sync_single_for_cpu(dev, addr, size, dir);
  else o?.sync_single_for_cpu?.(dev, addr, size, dir);
  dev.machine.dmaTrace?.dma_sync_single_for_cpu(dev, addr, size, dir);
  dev.machine.dmaDebug?.sync_single_for_cpu(dev, addr, size, dir);
}

function syncSingleForDevice(dev: Device, addr: number, size: number, dir: DmaDirection): void {
  if (!needSync(dev)) return;
  bugOnDirection(dev, WARN_SITES.syncSingleForDeviceDirection, dir);
  dev.machine.dmaTrace?.dma_api_enter?.();
  const o = ops(dev);
  if (o === null && !dev.dma_iommu) direct.dma_direct_sync_single_for_device(dev, addr, size, dir);
  else if (dev.dma_iommu) iommu.iommu_dma_sync_single_for_device(dev, addr, size, dir);
  else o?.sync_single_for_device?.(dev, addr, size, dir);
  dev.machine.dmaTrace?.dma_sync_single_for_device(dev, addr, size, dir);
  dev.machine.dmaDebug?.sync_single_for_device(dev, addr, size, dir);
}

export function dma_sync_single_for_cpu(dev: Device, addr: number, size: number, dir: DmaDirection): void {
  syncSingleForCpu(dev, addr, size, syncArgs('dma_sync_single_for_cpu', dev, addr, size, dir));
}

export function dma_sync_single_for_device(dev: Device, addr: number, size: number, dir: DmaDirection): void {
  syncSingleForDevice(dev, addr, size, syncArgs('dma_sync_single_for_device', dev, addr, size, dir));
}

/** dma_sync_single_range_for_cpu(): a sync of addr + offset. */
export function dma_sync_single_range_for_cpu(dev: Device, addr: number, offset: number, size: number, dir: DmaDirection): void {
  const fn = 'dma_sync_single_range_for_cpu';
  const d = syncArgs(fn, dev, addr, size, dir);
  syncSingleForCpu(dev, checkAddr(fn, 'addr + offset', addr + checkSize(fn, 'offset', offset)), size, d);
}

export function dma_sync_single_range_for_device(dev: Device, addr: number, offset: number, size: number, dir: DmaDirection): void {
  const fn = 'dma_sync_single_range_for_device';
  const d = syncArgs(fn, dev, addr, size, dir);
  syncSingleForDevice(dev, checkAddr(fn, 'addr + offset', addr + checkSize(fn, 'offset', offset)), size, d);
}

function syncSgForCpu(fn: string, dev: Device, sgl: unknown, nelems: unknown, dir: unknown): void {
  const [list, n, d] = sgArgs(fn, dev, sgl, nelems, dir, 0);
  if (!needSync(dev)) return;
  bugOnDirection(dev, WARN_SITES.syncSgForCpuDirection, d);
  dev.machine.dmaTrace?.dma_api_enter?.();
  const o = ops(dev);
  if (o === null && !dev.dma_iommu) direct.dma_direct_sync_sg_for_cpu(dev, list, n, d);
  else if (dev.dma_iommu) iommu.iommu_dma_sync_sg_for_cpu(dev, list, n, d);
  else o?.sync_sg_for_cpu?.(dev, list, n, d);
  dev.machine.dmaTrace?.dma_sync_sg_for_cpu(dev, list, n, d);
  dev.machine.dmaDebug?.sync_sg_for_cpu(dev, list, n, d);
}

function syncSgForDevice(fn: string, dev: Device, sgl: unknown, nelems: unknown, dir: unknown): void {
  const [list, n, d] = sgArgs(fn, dev, sgl, nelems, dir, 0);
  if (!needSync(dev)) return;
  bugOnDirection(dev, WARN_SITES.syncSgForDeviceDirection, d);
  dev.machine.dmaTrace?.dma_api_enter?.();
  const o = ops(dev);
  if (o === null && !dev.dma_iommu) direct.dma_direct_sync_sg_for_device(dev, list, n, d);
  else if (dev.dma_iommu) iommu.iommu_dma_sync_sg_for_device(dev, list, n, d);
  else o?.sync_sg_for_device?.(dev, list, n, d);
  dev.machine.dmaTrace?.dma_sync_sg_for_device(dev, list, n, d);
  dev.machine.dmaDebug?.sync_sg_for_device(dev, list, n, d);
}

export function dma_sync_sg_for_cpu(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDirection): void {
  syncSgForCpu('dma_sync_sg_for_cpu', dev, sgl, nelems, dir);
}

export function dma_sync_sg_for_device(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDirection): void {
  syncSgForDevice('dma_sync_sg_for_device', dev, sgl, nelems, dir);
}

export function dma_sync_sgtable_for_cpu(dev: Device, sgt: SgTable, dir: DmaDirection): void {
  const t = checkSgt('dma_sync_sgtable_for_cpu', sgt);
  syncSgForCpu('dma_sync_sgtable_for_cpu', dev, t.sgl, t.orig_nents, dir);
}

export function dma_sync_sgtable_for_device(dev: Device, sgt: SgTable, dir: DmaDirection): void {
  const t = checkSgt('dma_sync_sgtable_for_device', sgt);
  syncSgForDevice('dma_sync_sgtable_for_device', dev, t.sgl, t.orig_nents, dir);
}

// ---- limits ------------------------------------------------------------------------------

/** dma_need_sync(): whether syncs for this address do anything. */
export function dma_need_sync(dev: Device, addr: number): boolean {
  checkDev('dma_need_sync', dev);
  checkAddr('dma_need_sync', 'addr', addr);
  if (dev.dma_skip_sync) return false;
  return ops(dev) === null && !dev.dma_iommu ? direct.dma_direct_need_sync(dev, addr) : true;
}

/** dma_max_mapping_size(): SIZE_MAX is Number.MAX_SAFE_INTEGER here. */
export function dma_max_mapping_size(dev: Device): number {
  checkDev('dma_max_mapping_size', dev);
  const o = ops(dev);
  if (o === null && !dev.dma_iommu) return direct.dma_direct_max_mapping_size(dev, dma_addressing_limited(dev));
  if (dev.dma_iommu) return iommu.iommu_dma_max_mapping_size(dev);
  return o?.max_mapping_size?.(dev) ?? Number.MAX_SAFE_INTEGER;
}

/** dma_opt_mapping_size(): min(dma_max_mapping_size, the back end's optimum). */
export function dma_opt_mapping_size(dev: Device): number {
  checkDev('dma_opt_mapping_size', dev);
  const opt = dev.dma_iommu ? iommu.iommu_dma_opt_mapping_size() : ops(dev)?.opt_mapping_size?.() ?? Number.MAX_SAFE_INTEGER;
  return Math.min(dma_max_mapping_size(dev), opt);
}

/** dma_get_max_seg_size(): 64 KiB when the device has no dma_parms. */
export function dma_get_max_seg_size(dev: Device): number {
  checkDev('dma_get_max_seg_size', dev);
  const v = dev.dma_parms?.max_segment_size ?? 0;
  return v === 0 ? 65536 : v;
}

/** dma_get_seg_boundary(): ULONG_MAX by default. */
export function dma_get_seg_boundary(dev: Device): bigint {
  checkDev('dma_get_seg_boundary', dev);
  const v = dev.dma_parms?.segment_boundary_mask ?? 0n;
  return v === 0n ? U64_MAX : v;
}

export function dma_get_min_align_mask(dev: Device): number {
  checkDev('dma_get_min_align_mask', dev);
  return dev.dma_parms?.min_align_mask ?? 0;
}

/** dma_get_cache_alignment(): of the given machine (or device's), else the current machine. */
export function dma_get_cache_alignment(on?: DmaHost | Device): number {
  if (on instanceof Device) return on.machine.dmaCacheAlignment;
  if (on === undefined) return currentMachine('dma_get_cache_alignment').dmaCacheAlignment;
  if (typeof on !== 'object' || on === null || !('dmaCacheAlignment' in on) || typeof on.dmaCacheAlignment !== 'number') {
    throw new DmaSimTypeError('dma_get_cache_alignment', 'dev', 'must be a machine, a device, or nothing (the current machine)');
  }
  return on.dmaCacheAlignment;
}

// ---- coherent and non-coherent allocations -------------------------------------------------

/** dma_alloc_attrs(): zone flags are stripped (the back end picks the zone); __GFP_COMP WARNs. */
export function dma_alloc_attrs(dev: Device, size: number, gfp: number, attrs = 0): CoherentBuffer | null {
  return allocAttrs('dma_alloc_attrs', dev, size, gfp, attrs);
}

function allocAttrs(fn: string, dev: Device, size: number, gfp: unknown, attrs: unknown): CoherentBuffer | null {
  checkDev(fn, dev);
  checkSize(fn, 'size', size);
  gfp = checkGfp(fn, gfp);
  attrs = checkAttrs(fn, attrs);
  dev.machine.dmaDebug?.caller(fn === 'dma_alloc_coherent' ? 'dma_alloc_coherent' : 'dma_alloc_attrs');
  return allocChecked(fn, dev, size, gfp as number, attrs as number);
}

function allocChecked(fn: string, dev: Device, size: number, gfp: number, attrs: number): CoherentBuffer | null {
  const m = dev.machine;
  m.dmaTrace?.dma_api_enter?.();
  if (dev.coherent_dma_mask === 0n) m.log.warnOnce(WARN_SITES.allocNoMask, '');
  if (gfp & __GFP_COMP) {
    m.log.warnOnce(WARN_SITES.allocComp, '');
    return null;
  }
  gfp &= ~(__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM);
  const o = ops(dev);
  const buf = o === null && !dev.dma_iommu ? direct.dma_direct_alloc(dev, size, gfp, attrs)
    : dev.dma_iommu ? iommu.iommu_dma_alloc(dev, size, gfp, attrs) : opsBuffer(fn, dev, size, o?.alloc?.(dev, size, gfp, attrs) ?? null);
  m.dmaTrace?.dma_alloc(dev, buf?.cpu_addr ?? 0, buf?.dma_handle ?? 0, size, DMA_BIDIRECTIONAL, gfp, attrs);
  if (buf !== null) m.dmaDebug?.alloc_coherent(dev, size, buf.dma_handle, buf.cpu_addr, attrs);
  return buf;
}

/** dma_alloc_coherent(): dma_alloc_attrs with NO_WARN when gfp has __GFP_NOWARN. */
export function dma_alloc_coherent(dev: Device, size: number, gfp: number): CoherentBuffer | null {
  return allocAttrs('dma_alloc_coherent', dev, size, gfp, (checkGfp('dma_alloc_coherent', gfp) & __GFP_NOWARN) ? DMA_ATTR_NO_WARN : 0);
}

/** dma_free_attrs(): NULL is nothing; the debug check runs before the free. */
export function dma_free_attrs(dev: Device, size: number, cpu_addr: number, dma_handle: number, attrs = 0): void {
  freeAttrs('dma_free_attrs', dev, size, cpu_addr, dma_handle, attrs);
}

function freeAttrs(fn: string, dev: Device, size: number, cpu_addr: number, dma_handle: number, attrs: unknown): void {
  checkDev(fn, dev);
  checkSize(fn, 'size', size);
  checkAddr(fn, 'cpu_addr', cpu_addr);
  if (dma_handle !== DMA_MAPPING_ERROR) checkAddr(fn, 'dma_handle', dma_handle);
  const a = checkAttrs(fn, attrs);
  dev.machine.dmaTrace?.dma_api_enter?.();
  dev.machine.dmaTrace?.dma_free(dev, cpu_addr, dma_handle, size, DMA_BIDIRECTIONAL, a);
  if (cpu_addr === 0) return;
  dev.machine.dmaDebug?.free_coherent(dev, size, cpu_addr, dma_handle);
  const o = ops(dev);
  if (o === null && !dev.dma_iommu) direct.dma_direct_free(dev, size, cpu_addr, dma_handle, a);
  else if (dev.dma_iommu) iommu.iommu_dma_free(dev, size, cpu_addr, dma_handle);
  else o?.free?.(dev, size, cpu_addr, dma_handle, a);
}

export function dma_free_coherent(dev: Device, size: number, cpu_addr: number, dma_handle: number): void {
  freeAttrs('dma_free_coherent', dev, size, cpu_addr, dma_handle, 0);
}

/**
 * dma_alloc_pages(): cacheable memory owned by the CPU until mapped or synced; unlike
 * dma_alloc_attrs, zone flags are a WARN and NULL.
 */
export function dma_alloc_pages(dev: Device, size: number, dir: DmaDirection, gfp: number): { page: Page; dma_handle: number } | null {
  return allocPages('dma_alloc_pages', dev, size, dir, gfp);
}

function allocPages(fn: string, dev: Device, size: number, dir: DmaDirection, gfp: number): { page: Page; dma_handle: number } | null {
  checkDev(fn, dev);
  checkSize(fn, 'size', size);
  const d = checkDir(fn, dir);
  gfp = checkGfp(fn, gfp);
  const m = dev.machine;
  m.dmaTrace?.dma_api_enter?.();
  const r = __dma_alloc_pages(fn, dev, size, d, gfp);
  m.dmaTrace?.dma_alloc_pages(dev, r === null ? 0 : m.page_address(r.page), r?.dma_handle ?? 0, size, d, gfp, 0);
  // __dma_alloc_pages() page-aligns for the backend; debug_dma_alloc_pages() gets the caller's size.
  if (r !== null) m.dmaDebug?.alloc_pages(dev, pageToPfn(r.page) * PAGE_SIZE, size, d, r.dma_handle);
  return r;
}

/** __dma_alloc_pages(): the WARNs, then the back end; dma_alloc_pages() traces either way. */
function __dma_alloc_pages(fn: string, dev: Device, size: number, d: DmaDirection, gfp: number): { page: Page; dma_handle: number } | null {
  const m = dev.machine;
  // Three WARN_ON_ONCE()s, three once-flags.
  const refused = dev.coherent_dma_mask === 0n ? WARN_SITES.allocPagesNoMask
    : gfp & (__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM) ? WARN_SITES.allocPagesZone
      : gfp & __GFP_COMP ? WARN_SITES.allocPagesComp : null;
  if (refused !== null) {
    m.log.warnOnce(refused, '');
    return null;
  }
  size = pageAlign(size);
  if (ops(dev) !== null && !dev.dma_iommu) return null; // dma_map_ops has no alloc_pages_op here
  m.dmaDebug?.caller(fn === 'dma_alloc_noncoherent' ? 'dma_alloc_noncoherent' : 'dma_alloc_pages');
  return dev.dma_iommu ? iommu.iommu_dma_alloc_pages(dev, size, d, gfp) : direct.dma_direct_alloc_pages(dev, size, gfp);
}

export function dma_free_pages(dev: Device, size: number, page: Page, dma_handle: number, dir: DmaDirection): void {
  freePages('dma_free_pages', dev, size, page, dma_handle, dir);
}

function freePages(fn: string, dev: Device, size: number, page: Page, dma_handle: number, dir: DmaDirection): void {
  checkDev(fn, dev);
  checkSize(fn, 'size', size);
  if (typeof page !== 'number' || !isPageHandle(page)) throw new DmaSimTypeError(fn, 'page', 'must be a struct page handle');
  if (dma_handle !== DMA_MAPPING_ERROR) checkAddr(fn, 'dma_handle', dma_handle);
  const d = checkDir(fn, dir);
  dev.machine.dmaTrace?.dma_api_enter?.();
  dev.machine.dmaTrace?.dma_free_pages(dev, dev.machine.page_address(page), dma_handle, size, d, 0);
  // dma_free_pages(): debug_dma_free_pages() sees the caller's size, __dma_free_pages() aligns it.
  dev.machine.dmaDebug?.free_pages(dev, pageToPfn(page) * PAGE_SIZE, size, d, dma_handle);
  const aligned = pageAlign(size);
  if (dev.dma_iommu) iommu.iommu_dma_free_pages(dev, aligned, pageToPfn(page), dma_handle, d);
  else direct.__dma_direct_free_pages(dev, pageToPfn(page), aligned);
}

/** dma_alloc_noncoherent(): page_address(dma_alloc_pages()). */
export function dma_alloc_noncoherent(dev: Device, size: number, dir: DmaDirection, gfp: number): CoherentBuffer | null {
  const r = allocPages('dma_alloc_noncoherent', dev, size, dir, gfp);
  return r === null ? null : { cpu_addr: dev.machine.page_address(r.page), dma_handle: r.dma_handle };
}

export function dma_free_noncoherent(dev: Device, size: number, cpu_addr: number, dma_handle: number, dir: DmaDirection): void {
  const fn = 'dma_free_noncoherent';
  checkDev(fn, dev);
  checkAddr(fn, 'cpu_addr', cpu_addr);
  const phys = dev.machine.translate(cpu_addr);
  if (phys < 0 || isVmallocAddr(cpu_addr)) throw new DmaSimRangeError(fn, 'cpu_addr', `0x${cpu_addr.toString(16)} is not a linear-map address`);
  freePages(fn, dev, size, pfnToPage(Math.floor(phys / PAGE_SIZE)), dma_handle, dir);
}
