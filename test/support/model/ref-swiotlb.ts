// Reference model of the swiotlb slot allocator (kernel/dma/swiotlb.c, non-dynamic pool),
// written for obviousness, not speed: the oracle that test/swiotlb-slots.property.test.ts
// compares src/swiotlb.ts against.
//
// The pool is a plain free-slot bitmap. Nothing here keeps the kernel's `list` free-run
// counters: a run is free when every slot in it is free and it stays inside one 128-slot
// segment, which is what `slots[i].list >= nslots` means when the counters are right. The
// search order is the kernel's, rule by rule:
//   swiotlb_tbl_map_single(): offset = orig & min_align_mask & (alloc_align_mask | 2047),
//     size = ALIGN(mapping_size + offset, alloc_align_mask + 1)
//   swiotlb_find_slots(): area raw_smp_processor_id() & (nareas - 1) (CPU 0) first, then the
//     others cyclically
//   swiotlb_search_pool_area(): page alignment for large buffers with no mask at all, stride,
//     the `nslots > area_nslabs - area->used` shortcut, the scan from area->index that steps 1
//     over misaligned slots and `stride` over aligned ones that do not fit, for at most
//     area_nslabs checked slots, and wrap_area_index(), which wraps to 0 (not modulo)
//   found: area->index = wrap_area_index(index + nslots), area->used += nslots,
//     total_used += nslots, used_hiwater = max(used_hiwater, total_used)

export const IO_TLB_SHIFT = 11;
export const IO_TLB_SIZE = 2048;
export const IO_TLB_SEGSIZE = 128;
const PAGE_SIZE = 4096;

/** One live bounce buffer as the kernel would record it. */
export interface RefBuffer {
  /** First slot of the whole allocation (including pad slots): what the search returned. */
  readonly found: number;
  /** Slots of the whole allocation, nr_slots(size). */
  readonly nslots: number;
  /** Pad slots before the first real slot. */
  readonly pad: number;
  /** The bounce address handed back (pool start + (found + pad) * 2048 + offset % 2048). */
  readonly tlbAddr: number;
  readonly orig: number;
  /** The padded, aligned size the search was asked for. */
  readonly size: number;
  /** swiotlb_align_offset(dev, 0, orig): the offset stored into every slot's alloc_size. */
  readonly offset0: number;
}

function nrSlots(bytes: number): number {
  return Math.ceil(bytes / IO_TLB_SIZE);
}

/** x & mask for addresses beyond 2^32 (masks here are below 2^31). */
function and(x: number, mask: number): number {
  return (x % 2 ** 32) & mask;
}

export class RefSwiotlb {
  readonly used: boolean[];
  readonly areaNslabs: number;
  readonly areaIndex: number[];
  readonly areaUsed: number[];
  readonly live = new Map<number, RefBuffer>();
  totalUsed = 0;
  hiwater = 0;

  constructor(readonly start: number, readonly nslabs: number, readonly nareas: number) {
    this.used = new Array<boolean>(nslabs).fill(false);
    this.areaNslabs = nslabs / nareas;
    this.areaIndex = new Array<number>(nareas).fill(0);
    this.areaUsed = new Array<number>(nareas).fill(0);
  }

  /** The value `slots[i].list` must hold: free slots from i to the next used slot or segment end. */
  freeRun(i: number): number {
    let n = 0;
    const segEnd = Math.min(this.nslabs, (Math.floor(i / IO_TLB_SEGSIZE) + 1) * IO_TLB_SEGSIZE);
    for (let j = i; j < segEnd && !this.used[j]; j++) n++;
    return n;
  }

  private wrap(index: number): number {
    return index >= this.areaNslabs ? 0 : index;
  }

  private fits(slot: number, nslots: number): boolean {
    if (slot % IO_TLB_SEGSIZE + nslots > IO_TLB_SEGSIZE) return false;
    if (slot + nslots > this.nslabs) return false;
    for (let j = slot; j < slot + nslots; j++) if (this.used[j]) return false;
    return true;
  }

  /** swiotlb_search_pool_area() for one area; the found slot or -1. */
  private searchArea(a: number, orig: number, allocSize: number, allocAlignMask: number, minAlignMask: number): number {
    const nslots = nrSlots(allocSize);
    let iotlbAlignMask = minAlignMask;
    if (allocAlignMask === 0 && minAlignMask === 0 && allocSize >= PAGE_SIZE) allocAlignMask = PAGE_SIZE - 1;
    allocAlignMask |= IO_TLB_SIZE - 1;
    iotlbAlignMask &= ~allocAlignMask;
    const stride = Math.floor(Math.max(allocAlignMask, iotlbAlignMask) / IO_TLB_SIZE) + 1;
    if (nslots > this.areaNslabs - (this.areaUsed[a] as number)) return -1;
    let index = this.areaIndex[a] as number;
    for (let checked = 0; checked < this.areaNslabs;) {
      const slot = a * this.areaNslabs + index;
      const addr = this.start + slot * IO_TLB_SIZE;
      const misaligned = addr % (allocAlignMask + 1) !== 0;
      const wrongBits = orig !== 0 && and(addr, iotlbAlignMask) !== and(orig, iotlbAlignMask);
      if (misaligned || wrongBits) {
        index = this.wrap(index + 1);
        checked += 1;
        continue;
      }
      if (this.fits(slot, nslots)) {
        for (let j = slot; j < slot + nslots; j++) this.used[j] = true;
        this.areaIndex[a] = this.wrap(index + nslots);
        this.areaUsed[a] = (this.areaUsed[a] as number) + nslots;
        this.totalUsed += nslots;
        this.hiwater = Math.max(this.hiwater, this.totalUsed);
        return slot;
      }
      index = this.wrap(index + stride);
      checked += stride;
    }
    return -1;
  }

  /** swiotlb_tbl_map_single() without the copy: the buffer, or null when the pool is "full". */
  map(orig: number, mappingSize: number, allocAlignMask: number, minAlignMask: number): RefBuffer | null {
    const offset = and(orig, minAlignMask & (allocAlignMask | (IO_TLB_SIZE - 1)));
    const size = Math.ceil((mappingSize + offset) / (allocAlignMask + 1)) * (allocAlignMask + 1);
    for (let i = 0; i < this.nareas; i++) {
      const found = this.searchArea(i, orig, size, allocAlignMask, minAlignMask);
      if (found < 0) continue;
      const pad = Math.floor(offset / IO_TLB_SIZE);
      const b: RefBuffer = {
        found, nslots: nrSlots(size), pad, orig, size,
        tlbAddr: this.start + (found + pad) * IO_TLB_SIZE + (offset % IO_TLB_SIZE),
        offset0: and(orig, minAlignMask & (IO_TLB_SIZE - 1)),
      };
      this.live.set(b.tlbAddr, b);
      return b;
    }
    return null;
  }

  /** swiotlb_release_slots() of a live buffer's bounce address. */
  release(tlbAddr: number): void {
    const b = this.live.get(tlbAddr);
    if (b === undefined) throw new Error(`model: 0x${tlbAddr.toString(16)} is no live buffer`);
    this.live.delete(tlbAddr);
    for (let j = b.found; j < b.found + b.nslots; j++) this.used[j] = false;
    const a = Math.floor(b.found / this.areaNslabs);
    this.areaUsed[a] = (this.areaUsed[a] as number) - b.nslots;
    this.totalUsed -= b.nslots;
  }

  /** Writing 0 to io_tlb_used_hiwater. */
  resetHiwater(): void {
    this.hiwater = 0;
  }
}
