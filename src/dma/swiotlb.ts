// swiotlb: kernel/dma/swiotlb.c and include/linux/swiotlb.h. A pool of 2 KiB slots reserved
// from low memory at boot; buffers a device cannot reach (or that must not share cache lines)
// are bounced through it. Slot search, release and the `list` free-run counters follow the
// kernel line by line, so the same sequence of maps returns the same bounce addresses.
//
//   slots (typed arrays, one entry per 2 KiB slot; cf. struct io_tlb_slot)
//   +------------+------------+------+-----------+
//   | orig_addr  | alloc_size | list | pad_slots |   orig_addr: INVALID_PHYS_ADDR (-1) when free
//   +------------+------------+------+-----------+   list: free slots from here to the segment end
//
// The kernel stores `list` in every slot and rewrites the free slots before a run on every map
// and unmap (up to 127 of them). In every state but one those numbers say no more than which
// slots are in use: a free slot's number is its free run to the next used slot or the segment's
// end. So dmasim keeps a used flag per slot and derives the numbers (listAt()), which makes a
// map and an unmap O(slots of the buffer). The one exception is a release that runs past its
// segment's end (nr_slots(alloc_size + offset) of a stale address, after a double unmap on a
// min_align_mask device): the kernel then writes numbers no used flag gives. From that release on
// the pool stores the kernel's numbers and runs its loops exactly (storeList()).

import type { Device, DmaHost } from './device.js';
import { DMA_ATTR_NO_WARN, DMA_ATTR_SKIP_CPU_SYNC, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE, type DmaDirection } from '../include/dma-mapping.js';
import { DebugfsError, ulongFile, type Debugfs } from '../lib/debugfs.js';
import { PAGE_SIZE } from '../mm/memory.js';
import { KERN_WARNING, type KernelLog } from '../lib/printk.js';
import { WARN_SITES } from '../lib/warn-sites.js';
import { llx, pa } from '../lib/vsprintf.js';

export const IO_TLB_SHIFT = 11;
export const IO_TLB_SIZE = 1 << IO_TLB_SHIFT;
export const IO_TLB_SEGSIZE = 128;
export const IO_TLB_DEFAULT_SIZE = 64 << 20;
export const IO_TLB_MIN_SLABS = (1 << 20) >> IO_TLB_SHIFT;
const INVALID_PHYS_ADDR = -1;
/** io_tlb_offset(i) == IO_TLB_SEGSIZE - 1: the last slot of a segment (the size is a power of two). */
const SEG_MASK = IO_TLB_SEGSIZE - 1;

function nrSlots(size: number): number {
  return Math.ceil(size / IO_TLB_SIZE);
}

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

function roundupPowOfTwo(x: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(x, 1)));
}

function isPowerOfTwo(x: number): boolean {
  return x > 0 && Number.isInteger(Math.log2(x));
}

/** The boot-time sizing that setup_io_tlb_npages() and the arch adjust before swiotlb_init(). */
export interface SwiotlbParams {
  nslabs: number;
  nareas: number;
  force: boolean;
  noforce: boolean;
}

const U64 = (1n << 64n) - 1n;

/**
 * simple_strtoul(str, &end, 0): the number at the start of `s` and what follows it. The value
 * is an unsigned long: digits past 64 bits wrap, as the kernel's accumulation does.
 */
function strtoul(s: string): [bigint, string] | null {
  const m = /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)/i.exec(s);
  if (m === null) return null;
  const t = m[1] as string;
  const v = /^0[0-7]+$/.test(t) ? BigInt(`0o${t.slice(1)}`) : BigInt(t);
  return [v & U64, s.slice(t.length)];
}

/**
 * Slabs as bytes, `nslabs << IO_TLB_SHIFT` in unsigned long. Counts of 2^53 slabs and more
 * (only a command line can ask for them) are held as doubles, so the bytes printed for them
 * may differ from the kernel's in their low digits; none of them fits in RAM either way.
 */
function slabsToBytes(nslabs: number): bigint {
  return (BigInt(nslabs) << BigInt(IO_TLB_SHIFT)) & U64;
}

/** `(nslabs << IO_TLB_SHIFT) >> 20`, the MB figure of the boot messages. */
function slabsToMB(nslabs: number): bigint {
  return slabsToBytes(nslabs) >> 20n;
}

/**
 * setup_io_tlb_npages(): `swiotlb=<nslabs>[,<nareas>][,force|noforce]`. nslabs is rounded up to
 * a whole segment; what does not parse is ignored, as the kernel ignores it.
 */
export function setup_io_tlb_npages(value: string | undefined, log: KernelLog): SwiotlbParams {
  const p: SwiotlbParams = { nslabs: IO_TLB_DEFAULT_SIZE >> IO_TLB_SHIFT, nareas: 0, force: false, noforce: false };
  let str = value ?? '';
  const n = strtoul(str);
  if (n !== null) {
    p.nslabs = Number((n[0] + BigInt(IO_TLB_SEGSIZE - 1)) & U64 & ~BigInt(IO_TLB_SEGSIZE - 1)); // ALIGN() in unsigned long
    str = n[1];
  }
  if (str.startsWith(',')) str = str.slice(1);
  const a = strtoul(str);
  if (a !== null) {
    swiotlb_adjust_nareas(p, Number(a[0]), log);
    str = a[1];
  }
  if (str.startsWith(',')) str = str.slice(1);
  if (str === 'force') p.force = true;
  else if (str === 'noforce') p.noforce = true;
  return p;
}

/** round_up_default_nslabs(): with areas, at least one segment per area, a power of two. */
function roundUpDefaultNslabs(p: SwiotlbParams): boolean {
  if (p.nareas === 0) return false;
  if (p.nslabs < IO_TLB_SEGSIZE * p.nareas) p.nslabs = IO_TLB_SEGSIZE * p.nareas;
  else if (isPowerOfTwo(p.nslabs)) return false;
  p.nslabs = roundupPowOfTwo(p.nslabs);
  return true;
}

/** swiotlb_adjust_nareas(): "Zero is treated as 1" (so `swiotlb=N,0` means one area). */
export function swiotlb_adjust_nareas(p: SwiotlbParams, nareas: number, log: KernelLog): void {
  p.nareas = nareas === 0 ? 1 : roundupPowOfTwo(nareas);
  log.pr_info(`software IO TLB: area num ${p.nareas}.`);
  if (roundUpDefaultNslabs(p)) log.pr_info(`software IO TLB: SWIOTLB bounce buffer size roundup to ${slabsToMB(p.nslabs)}MB`);
}

/**
 * swiotlb_adjust_size(): the arch's resize, unless the size is no longer the default (the
 * kernel compares values, so `swiotlb=32768` is resized like no parameter at all).
 */
export function swiotlb_adjust_size(p: SwiotlbParams, size: number, log: KernelLog): void {
  if (p.nslabs !== IO_TLB_DEFAULT_SIZE >> IO_TLB_SHIFT) return;
  size = alignUp(size, IO_TLB_SIZE);
  p.nslabs = alignUp(size / IO_TLB_SIZE, IO_TLB_SEGSIZE);
  if (roundUpDefaultNslabs(p)) size = p.nslabs * IO_TLB_SIZE;
  log.pr_info(`software IO TLB: SWIOTLB bounce buffer size adjusted to ${Math.floor(size / 2 ** 20)}MB`);
}

/** limit_nareas(): an area never has fewer than IO_TLB_SEGSIZE slots. */
function limitNareas(nareas: number, nslabs: number): number {
  return nslabs < nareas * IO_TLB_SEGSIZE ? Math.max(1, Math.floor(nslabs / IO_TLB_SEGSIZE)) : nareas;
}

interface Area {
  used: number;
  index: number;
}

/** struct io_tlb_pool with its io_tlb_mem (dmasim has one, non-dynamic, pool). */
export class Swiotlb {
  readonly start: number;
  readonly end: number;
  readonly nslabs: number;
  readonly nareas: number;
  readonly areaNslabs: number;
  readonly forceBounce: boolean;
  readonly origAddr: Float64Array;
  readonly allocSize: Uint32Array;
  /** slots[i].list != 0: the slot is free (kept in both ways of holding `list`). */
  private readonly free: Uint8Array;
  /** The kernel's slots[i].list, stored once a release has run past its segment (else null: derived). */
  private list: Uint8Array | null = null;
  readonly padSlots: Uint16Array;
  private readonly areas: Area[];
  /** boundary(): the device it was computed for, the pool start's DMA address masked, the boundary in slots. */
  private boundaryDev: Device | null = null;
  private tblDmaAddr = 0;
  private maxSlots = Infinity;
  totalUsed = 0;
  usedHiwater = 0;
  /**
   * Where swiotlb_bounce() hands its memcpy (WASM offsets) instead of making it; null: it makes
   * it. The batched NIC path takes the copies of its DMA API calls this way and makes each on
   * the engine at its place in the ring step.
   */
  bounceCopy: ((dstOff: number, srcOff: number, n: number) => void) | null = null;

  constructor(private readonly m: DmaHost, start: number, nslabs: number, nareas: number, force: boolean) {
    this.start = start;
    this.end = start + nslabs * IO_TLB_SIZE;
    this.nslabs = nslabs;
    this.nareas = nareas;
    this.areaNslabs = nslabs / nareas;
    this.forceBounce = force;
    this.origAddr = new Float64Array(nslabs).fill(INVALID_PHYS_ADDR);
    this.allocSize = new Uint32Array(nslabs);
    this.padSlots = new Uint16Array(nslabs);
    this.free = new Uint8Array(nslabs).fill(1);
    this.areas = Array.from({ length: nareas }, () => ({ used: 0, index: 0 }));
  }

  /** swiotlb_print_info(): where the pool is and how large. */
  swiotlb_print_info(): void {
    this.m.log.pr_info(`software IO TLB: mapped [mem ${pa(this.start)}-${pa(this.end)}] (${slabsToMB(this.nslabs)}MB)`);
  }

  /** is_swiotlb_buffer() / swiotlb_find_pool(): the address lies in the pool. */
  is_swiotlb_buffer(phys: number): boolean {
    return phys >= this.start && phys < this.end;
  }

  /** swiotlb_align_offset() */
  private swiotlb_align_offset(dev: Device, alignMask: number, addr: number): number {
    return addr & (dev.dma_parms?.min_align_mask ?? 0) & (alignMask | (IO_TLB_SIZE - 1));
  }

  /** wrap_area_index(): past the end of the area the search restarts at slot 0. */
  private wrap_area_index(index: number): number {
    return index >= this.areaNslabs ? 0 : index;
  }

  /** slots[index].list: the free slots from here to the next used one or the segment's end (0: used). */
  listAt(index: number): number {
    if (this.list !== null) return this.list[index] ?? 0;
    const end = this.runEnd(index);
    let i = index;
    while (i < end && this.free[i] === 1) i++;
    return i - index;
  }

  /** slots[index].list >= nslots, in O(nslots) while the numbers are derived. */
  private listFits(index: number, nslots: number): boolean {
    if (this.list !== null) return (this.list[index] as number) >= nslots;
    if (index + nslots > this.runEnd(index)) return false;
    for (let i = index; i < index + nslots; i++) if (this.free[i] === 0) return false;
    return true;
  }

  /** Where a free run from slot `index` must end: its segment's end, or the pool's (slot indices fit in 31 bits). */
  private runEnd(index: number): number {
    return Math.min((index | SEG_MASK) + 1, this.nslabs);
  }

  /** The kernel's numbers, stored from now on (see the file's head): the derived ones to start with. */
  private storeList(): Uint8Array {
    if (this.list === null) this.list = Uint8Array.from({ length: this.nslabs }, (_, i) => this.listAt(i));
    return this.list;
  }

  /**
   * The device's segment boundary as swiotlb_search_pool_area() uses it: the pool start's
   * DMA address masked by it, and the boundary in slots. The default (ULONG_MAX) needs no u64
   * arithmetic: no run can span it.
   */
  private boundary(dev: Device): void {
    // Kept for the last device asked: its dma_parms and dma_range_map never change.
    if (dev === this.boundaryDev) return;
    const mask = dev.dma_parms?.segment_boundary_mask ?? 0n;
    const unbounded = mask === 0n || mask === U64;
    this.tblDmaAddr = unbounded ? dev.physToDma(this.start) : Number(BigInt(dev.physToDma(this.start)) & mask);
    this.maxSlots = unbounded ? Infinity : Number((mask >> BigInt(IO_TLB_SHIFT)) + 1n);
    this.boundaryDev = dev;
  }

  /** swiotlb_search_pool_area(): the first slot of a free run in one area, or -1. */
  private swiotlb_search_pool_area(dev: Device, areaIndex: number, orig: number, allocSize: number, allocAlignMask: number): number {
    const area = this.areas[areaIndex] as Area;
    this.boundary(dev);
    const { tblDmaAddr, maxSlots } = this;
    let iotlbAlignMask = dev.dma_parms?.min_align_mask ?? 0;
    const nslots = nrSlots(allocSize);
    if (nslots === 0) this.m.log.bug(WARN_SITES.swiotlbSearchNoSlots, 'BUG_ON(!nslots)');
    const offset = this.swiotlb_align_offset(dev, 0, orig);
    if (!allocAlignMask && !iotlbAlignMask && allocSize >= PAGE_SIZE) allocAlignMask = PAGE_SIZE - 1;
    allocAlignMask |= IO_TLB_SIZE - 1;
    iotlbAlignMask &= ~allocAlignMask;
    const stride = (Math.max(allocAlignMask, iotlbAlignMask) >>> IO_TLB_SHIFT) + 1;
    if (nslots > this.areaNslabs - area.used) return -1;
    const slotBase = areaIndex * this.areaNslabs;
    let index = area.index;
    let slotIndex = -1;
    for (let checked = 0; checked < this.areaNslabs;) {
      slotIndex = slotBase + index;
      const tlbAddr = tblDmaAddr + slotIndex * IO_TLB_SIZE;
      // Masks are below 2^31 and `&` takes an address modulo 2^32, so the low bits are exact.
      if ((tlbAddr & allocAlignMask) !== 0 || (orig !== 0 && (tlbAddr & iotlbAlignMask) !== (orig & iotlbAlignMask))) {
        index = this.wrap_area_index(index + 1);
        checked++;
        continue;
      }
      if (this.listFits(slotIndex, nslots) && !spansBoundary(slotIndex, nslots, nrSlots(tblDmaAddr), maxSlots)) {
        return this.take(area, slotIndex, index, nslots, allocSize, offset);
      }
      index = this.wrap_area_index(index + stride);
      checked += stride;
    }
    return -1;
  }

  /** The `found:` path of swiotlb_search_pool_area(). */
  private take(area: Area, slotIndex: number, index: number, nslots: number, allocSize: number, offset: number): number {
    const sizes = this.allocSize;
    for (let i = slotIndex; i < slotIndex + nslots; i++) {
      this.free[i] = 0;
      sizes[i] = allocSize - (offset + (i - slotIndex) * IO_TLB_SIZE);
    }
    const list = this.list;
    if (list !== null) {
      list.fill(0, slotIndex, slotIndex + nslots);
      relist(list, slotIndex - 1, 0);
    }
    area.index = this.wrap_area_index(index + nslots);
    area.used += nslots;
    this.totalUsed += nslots;
    this.usedHiwater = Math.max(this.usedHiwater, this.totalUsed);
    return slotIndex;
  }

  /** swiotlb_find_slots(): every area in turn, starting with this CPU's (CPU 0). */
  private swiotlb_find_slots(dev: Device, orig: number, allocSize: number, allocAlignMask: number): number {
    for (let i = 0; i < this.nareas; i++) {
      const index = this.swiotlb_search_pool_area(dev, i, orig, allocSize, allocAlignMask);
      if (index >= 0) return index;
    }
    return -1;
  }

  /** swiotlb_tbl_map_single(): slots for the buffer, and the original copied in whatever the direction. */
  swiotlb_tbl_map_single(dev: Device, orig: number, mappingSize: number, allocAlignMask: number, attrs: number): number {
    if (allocAlignMask > PAGE_SIZE - 1) {
      this.m.log.warnOnce(WARN_SITES.swiotlbMapAlign,
        `${dev.driver} ${dev.name}: Alloc alignment may prevent fulfilling requests with max mapping_size`);
    }
    let offset = this.swiotlb_align_offset(dev, allocAlignMask, orig);
    const size = alignUp(mappingSize + offset, allocAlignMask + 1);
    const index = this.swiotlb_find_slots(dev, orig, size, allocAlignMask);
    if (index < 0) {
      if (!(attrs & DMA_ATTR_NO_WARN)) {
        this.m.log.ratelimited('swiotlb_tbl_map_single', KERN_WARNING,
          `${dev.driver} ${dev.name}: swiotlb buffer is full (sz: ${size} bytes), total ${this.nslabs} (slots), used ${this.totalUsed} (slots)`);
      }
      return DMA_MAPPING_ERROR;
    }
    dev.dma_skip_sync = false; // dma_reset_need_sync()
    const pad = offset >> IO_TLB_SHIFT;
    offset &= IO_TLB_SIZE - 1;
    const first = index + pad;
    this.padSlots[first] = pad;
    for (let i = 0; i < nrSlots(size) - pad; i++) this.origAddr[first + i] = orig + i * IO_TLB_SIZE;
    const tlbAddr = this.start + first * IO_TLB_SIZE + offset;
    this.swiotlb_bounce(dev, tlbAddr, mappingSize, DMA_TO_DEVICE);
    return tlbAddr;
  }

  /**
   * swiotlb_map(): bounce, check that the device can reach the slot, then clean the bounce
   * buffer (not the original) for a non-coherent device.
   */
  swiotlb_map(dev: Device, phys: number, size: number, dir: DmaDirection, attrs: number): number {
    const m = this.m;
    m.dmaTrace?.swiotlb_bounced(dev, dev.physToDma(phys), size);
    const tlbAddr = this.swiotlb_tbl_map_single(dev, phys, size, 0, attrs);
    if (tlbAddr === DMA_MAPPING_ERROR) return DMA_MAPPING_ERROR;
    const addr = dev.physToDma(tlbAddr);
    if (addr === DMA_MAPPING_ERROR || addr + size - 1 > dev.streamLimit) {
      this.swiotlb_tbl_unmap_single(dev, tlbAddr, size, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
      m.log.warnOnce(WARN_SITES.swiotlbMapOverflow,
        `${dev.driver} ${dev.name}: swiotlb addr ${pa(addr)}+${size} overflow (mask ${llx(dev.dma_mask ?? 0n)}, bus limit ${llx(dev.bus_dma_limit)}).`);
      return DMA_MAPPING_ERROR;
    }
    const sync = m.arch.sync;
    if (sync !== undefined && !dev.dma_coherent && !(attrs & DMA_ATTR_SKIP_CPU_SYNC)) {
      sync.forDevice(m, tlbAddr, size, dir);
      sync.flush(m);
    }
    return addr;
  }

  /**
   * swiotlb_bounce(): a CPU memcpy between the original buffer and its slots. Before reading
   * a bounce buffer the device wrote, the queued invalidation must complete (the batching
   * series' flush). A size beyond the allocation is a WARN and is clamped.
   */
  swiotlb_bounce(dev: Device, tlbAddr: number, size: number, dir: DmaDirection): void {
    const m = this.m;
    const index = Math.floor((tlbAddr - this.start) / IO_TLB_SIZE);
    let orig = this.origAddr[index] as number;
    let allocSize = this.allocSize[index] as number;
    if (orig === INVALID_PHYS_ADDR) return;
    if (dir === DMA_FROM_DEVICE && !dev.dma_coherent) m.arch.sync?.flush(m);
    const tlbOffset = (tlbAddr & (IO_TLB_SIZE - 1)) - this.swiotlb_align_offset(dev, 0, orig);
    orig += tlbOffset;
    allocSize -= tlbOffset;
    if (size > allocSize) {
      m.log.warnOnce(WARN_SITES.swiotlbBounceOverflow,
        `${dev.driver} ${dev.name}: Buffer overflow detected. Allocation size: ${allocSize}. Mapping size: ${size}.`);
      size = allocSize;
    }
    const tlbOff = m.physToOffset(tlbAddr, size);
    const origOff = m.physToOffset(orig, size);
    if (size <= 0 || tlbOff < 0 || origOff < 0) return;
    const dst = dir === DMA_TO_DEVICE ? tlbOff : origOff;
    const src = dir === DMA_TO_DEVICE ? origOff : tlbOff;
    if (this.bounceCopy !== null) this.bounceCopy(dst, src, size);
    else m.port.cpuCopy(dst, src, size);
  }

  /** __swiotlb_sync_single_for_device(): only TO_DEVICE and BIDIRECTIONAL copy. */
  swiotlb_sync_single_for_device(dev: Device, tlbAddr: number, size: number, dir: DmaDirection): void {
    if (dir === DMA_TO_DEVICE || dir === DMA_BIDIRECTIONAL) this.swiotlb_bounce(dev, tlbAddr, size, DMA_TO_DEVICE);
  }

  /** __swiotlb_sync_single_for_cpu(): only FROM_DEVICE and BIDIRECTIONAL copy back. */
  swiotlb_sync_single_for_cpu(dev: Device, tlbAddr: number, size: number, dir: DmaDirection): void {
    if (dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL) this.swiotlb_bounce(dev, tlbAddr, size, DMA_FROM_DEVICE);
  }

  /** __swiotlb_tbl_unmap_single(): copy back (unless SKIP_CPU_SYNC), then release. */
  swiotlb_tbl_unmap_single(dev: Device, tlbAddr: number, mappingSize: number, dir: DmaDirection, attrs: number): void {
    if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) && (dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL)) {
      this.swiotlb_bounce(dev, tlbAddr, mappingSize, DMA_FROM_DEVICE);
    }
    this.swiotlb_release_slots(dev, tlbAddr);
  }

  /**
   * swiotlb_release_slots(): the run goes back to the free list, merging with the free slots
   * after and before it within the segment. Like the kernel, it trusts the address: a second
   * release finds alloc_size 0 and frees nr_slots(0) = 0 slots; an address inside a run frees
   * that slot and the ones after it.
   */
  private swiotlb_release_slots(dev: Device, tlbAddr: number): void {
    const offset = this.swiotlb_align_offset(dev, 0, tlbAddr);
    let index = Math.floor((tlbAddr - offset - this.start) / IO_TLB_SIZE);
    index -= this.padSlots[index] as number;
    const nslots = nrSlots((this.allocSize[index] as number) + offset);
    const area = this.areas[Math.floor(index / this.areaNslabs)] as Area;
    const segmentEnd = alignUp(index + 1, IO_TLB_SEGSIZE);
    const list = index + nslots > segmentEnd ? this.storeList() : this.list;
    for (let i = index; i < index + nslots; i++) {
      this.free[i] = 1;
      this.origAddr[i] = INVALID_PHYS_ADDR;
      this.allocSize[i] = 0;
      this.padSlots[i] = 0;
    }
    if (list !== null) {
      let count = index + nslots < segmentEnd ? (list[index + nslots] as number) : 0;
      for (let i = index + nslots - 1; i >= index; i--) list[i] = ++count;
      relist(list, index - 1, count);
    }
    area.used -= nslots;
    this.totalUsed -= nslots;
  }

  /** swiotlb_create_default_debugfs(): only when the pool has slots. */
  swiotlb_create_debugfs_files(fs: Debugfs): void {
    const dir = '/sys/kernel/debug/swiotlb';
    fs.create(`${dir}/io_tlb_nslabs`, ulongFile(() => this.nslabs));
    fs.create(`${dir}/io_tlb_used`, ulongFile(() => this.totalUsed));
    fs.create(`${dir}/io_tlb_used_hiwater`, ulongFile(() => this.usedHiwater, (v) => {
      if (v !== 0n) throw new DebugfsError('EINVAL', 22, '');
      this.usedHiwater = 0;
    }));
  }
}

/** swiotlb_max_mapping_size(): one segment of slots, less what min_align_mask may waste. */
export function swiotlb_max_mapping_size(dev: Device): number {
  const minAlignMask = dev.dma_parms?.min_align_mask ?? 0;
  const minAlign = minAlignMask ? alignUp(minAlignMask, IO_TLB_SIZE) : 0;
  return IO_TLB_SIZE * IO_TLB_SEGSIZE - minAlign;
}

/**
 * The free slots before a run that was taken or released count on from `count`, back to the
 * segment's start or the first used slot (the loops of swiotlb_search_pool_area()'s `found:`
 * and of swiotlb_release_slots()).
 */
function relist(list: Uint8Array, from: number, count: number): void {
  for (let i = from; i >= 0 && (i & SEG_MASK) !== SEG_MASK && list[i] !== 0; i--) list[i] = ++count;
}

/** iommu_is_span_boundary(): would [index, index + nr) cross a boundary_size-slot boundary? */
function spansBoundary(index: number, nr: number, shift: number, boundarySize: number): boolean {
  if (boundarySize === Infinity) return false;
  const s = (shift + index) % boundarySize;
  return s + nr > boundarySize;
}

/**
 * swiotlb_init_remap(): nothing unless the arch needs bouncing or the command line forces it,
 * and never with `noforce`; one area per possible CPU (dmasim has one) unless `swiotlb=` set
 * them; the pool is allocated top-down below `lowLimit`, halved (whole segments) down to
 * IO_TLB_MIN_SLABS when it does not fit. Returns null when no pool was made.
 */
export function swiotlb_init_remap(m: DmaHost, p: SwiotlbParams, needed: boolean, lowLimit: number, verbose: boolean): Swiotlb | null {
  if ((!needed && !p.force) || p.noforce) return null;
  if (p.nareas === 0) swiotlb_adjust_nareas(p, 1, m.log);
  let nslabs = p.nslabs;
  let nareas = limitNareas(p.nareas, nslabs);
  let start = 0;
  for (;;) {
    const bytes = slabsToBytes(nslabs);
    if (bytes === BigInt(nslabs) * BigInt(IO_TLB_SIZE)) start = m.memblock.phys_alloc_range(Number(bytes), PAGE_SIZE, 0, lowLimit);
    if (start !== 0) break;
    m.log.pr_warn(`software IO TLB: swiotlb_memblock_alloc: Failed to allocate ${bytes} bytes tlb structure`);
    if (nslabs <= IO_TLB_MIN_SLABS) return null;
    nslabs = alignUp(Math.floor(nslabs / 2), IO_TLB_SEGSIZE);
    nareas = limitNareas(nareas, nslabs);
  }
  if (nslabs !== p.nslabs) m.log.pr_info(`software IO TLB: SWIOTLB bounce buffer size adjusted ${p.nslabs} -> ${nslabs} slabs`);
  const pool = new Swiotlb(m, start, nslabs, nareas, p.force);
  if (verbose) pool.swiotlb_print_info(); // SWIOTLB_VERBOSE
  return pool;
}

