// The data-aware checker's table of regions (src/check/dma-data-check.ts): the live streaming
// mappings and dma_alloc_pages() buffers it follows, as a struct of arrays indexed by an integer
// id, with a free list, and their per-page lists in one Int32Array pool. A map and unmap pair
// allocates nothing: a region object per map, and the old-to-new pointers that threaded it into
// the page lists and the list of live regions, were most of what the checker cost
// (bench/debug.bench.ts).
//
// An id is reused only once nothing refers to it: a stale cacheline keeps the region it was
// written through (reports name the mapping, "unmapped" once it is gone), so it holds a reference
// (retain/release) and the id of an unmapped region stays out of the free list until the last
// such line is dropped.

import type { Device } from '../dma/device.js';
import type { DmaDirection } from '../include/dma-mapping.js';
import { PAGE_SIZE } from '../mm/memory.js';

/** The 4 KiB page of a WASM offset: a multiply by the exact reciprocal (PAGE_SIZE is a bundled `var`, a divide by it is not folded). */
const PAGE_SCALE = 1 / PAGE_SIZE;
export function pageOf(off: number): number {
  return Math.floor(off * PAGE_SCALE);
}

/** The CPU owns nothing of a region yet: one empty list for all of them. */
const NO_RANGES: readonly number[] = [];

/** No region (an id's "null"). */
export const NONE = -1;

// Bits of DataCheckRegions.flags. The first three: the reports made of the region in this
// ownership period (one of each kind; a sync starts a new period).
export const F_REPORTED_WRITE = 1;
export const F_REPORTED_READ = 2;
export const F_REPORTED_SHARED = 4;
const F_REPORTED = F_REPORTED_WRITE | F_REPORTED_READ | F_REPORTED_SHARED;
export const F_LIVE = 8;
/** Its ownership cannot be followed (the device's syncs are skipped unseen). */
export const F_BLIND = 16;
/** The device wrote the region since the CPU last took it (sync_for_cpu): data in flight. */
export const F_DEV_WROTE = 32;
/** The last CPU write while the device owned it (cpuWroteAt) was inside the buffer, not beside it. */
export const F_CPU_WROTE_IN_BUFFER = 64;
/** The CPU wrote a part it owned since the last sync for the device: lines an invalidation would discard. */
export const F_CPU_WROTE_OWNED = 128;

function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

export class DataCheckRegions {
  // Per id. Float64 where a value may pass 2^31 (DMA and physical addresses, WASM offsets).
  dev: (Device | null)[] = [];
  call: string[] = [];
  /** Sub-ranges the CPU owns, as sorted disjoint [lo, hi) pairs relative to the start (replaced, never changed in place). */
  cpu: (readonly number[])[] = [];
  kind = new Uint8Array(0);
  dir = new Uint8Array(0);
  attrs = new Int32Array(0);
  dma = new Float64Array(0);
  size = new Float64Array(0);
  phys = new Float64Array(0);
  origOff = new Float64Array(0);
  dmaPhys = new Float64Array(0);
  dmaOff = new Float64Array(0);
  /** F_* bits: one store at a map rather than one per field (a map and unmap pair is tens of ns). */
  flags = new Uint8Array(0);
  /** The last CPU write into the region's cachelines while the device owned them (phys, or -1). */
  cpuWroteAt = new Float64Array(0);
  /**
   * The stamp of the last collect() that found the region (a region spans several pages). Stamps
   * only grow, so a reused id needs no reset.
   */
  private visit = new Float64Array(0);
  private stamp = 0;
  /** What collect() found: found[0 .. its result). Reused, so a walk allocates nothing. */
  found = new Int32Array(64);
  /** Neighbours in the list of live regions (insertion order), and the next free id. */
  nextLive = new Int32Array(0);
  private prevLive = new Int32Array(0);
  /** Stale lines naming the region: 0 whenever an id is free, so a reused id needs no reset. */
  private refs = new Int32Array(0);
  private ids = 0;
  private freeHead = NONE;
  head = NONE;
  private tail = NONE;
  /** Live regions. */
  count = 0;
  /** Live regions with F_CPU_WROTE_OWNED: while 0, an invalidation has nothing to look at. */
  cpuWrites = 0;

  /**
   * Regions by the 4 KiB page (of WASM offsets) they touch: page p's list is
   * pool[pageStart[p] .. pageStart[p] + pageCount[p]), used as a bag (a removal moves the last
   * entry into the hole), never shrunk; a full list moves to the end of the pool with twice the room.
   */
  pool = new Int32Array(1024);
  readonly pageStart: Int32Array;
  readonly pageCount: Int32Array;
  private readonly pageCap: Int32Array;
  private poolTop = 0;

  constructor(pages: number) {
    this.pageStart = new Int32Array(pages);
    this.pageCount = new Int32Array(pages);
    this.pageCap = new Int32Array(pages);
  }

  /** The regions listed on the pages of [off, off + len), each once, into `found`; returns how many. */
  collect(off: number, len: number): number {
    const stamp = ++this.stamp;
    const last = pageOf(off + Math.max(len, 1) - 1);
    let k = 0;
    for (let p = pageOf(off); p <= last; p++) {
      const start = this.pageStart[p] as number;
      const end = start + (this.pageCount[p] as number);
      for (let i = start; i < end; i++) {
        const r = this.pool[i] as number;
        if (this.visit[r] === stamp) continue;
        this.visit[r] = stamp;
        if (k === this.found.length) this.found = grown(this.found, k * 2);
        this.found[k++] = r;
      }
    }
    return k;
  }

  /**
   * Makes a live region, last in the live list; returns its id. `phys`/`origOff`: the CPU's
   * buffer and its WASM offset; `dmaPhys`/`dmaOff`: what the device really uses (the swiotlb slot
   * when bounced; dmaOff -1 when outside RAM); `cpuOwned`: the CPU owns it all from the start
   * (dma_alloc_pages()); `blind`: its ownership cannot be followed. Positional, so a map allocates
   * nothing.
   */
  add(
    dev: Device, call: string, kind: number, dma: number, size: number, dir: DmaDirection, attrs: number,
    phys: number, origOff: number, dmaPhys: number, dmaOff: number, cpuOwned: boolean, blind: boolean,
  ): number {
    let id = this.freeHead;
    if (id !== NONE) this.freeHead = this.nextLive[id] as number;
    else id = this.newId();
    this.dev[id] = dev;
    this.call[id] = call;
    if (cpuOwned && size > 0) this.cpu[id] = [0, size];
    this.kind[id] = kind;
    this.dir[id] = dir;
    this.attrs[id] = attrs;
    this.dma[id] = dma;
    this.size[id] = size;
    this.phys[id] = phys;
    this.origOff[id] = origOff;
    this.dmaPhys[id] = dmaPhys;
    this.dmaOff[id] = dmaOff;
    this.flags[id] = blind ? F_LIVE | F_BLIND : F_LIVE;
    this.cpuWroteAt[id] = -1;
    this.index(id, true);
    this.prevLive[id] = this.tail;
    this.nextLive[id] = NONE;
    if (this.tail === NONE) this.head = id;
    else this.nextLive[this.tail] = id;
    this.tail = id;
    this.count++;
    return id;
  }

  /** Ends a live region: out of the page lists and the live list; its id is free once unreferenced. */
  remove(id: number): void {
    const p = this.prevLive[id] as number;
    const n = this.nextLive[id] as number;
    if (p === NONE) this.head = n;
    else this.nextLive[p] = n;
    if (n === NONE) this.tail = p;
    else this.prevLive[n] = p;
    this.endCpuWrites(id);
    this.flags[id] = (this.flags[id] as number) & ~F_LIVE;
    this.index(id, false);
    this.count--;
    if (this.refs[id] === 0) this.free(id);
  }

  /** A stale line now refers to region id (NONE: to none). */
  retain(id: number): void {
    if (id !== NONE) this.refs[id] = (this.refs[id] as number) + 1;
  }

  release(id: number): void {
    if (id === NONE) return;
    const n = (this.refs[id] as number) - 1;
    this.refs[id] = n;
    if (n === 0 && !this.isLive(id)) this.free(id);
  }

  /** The CPU wrote a part of region id it owned. */
  markCpuWrote(id: number): void {
    const f = this.flags[id] as number;
    if (f & F_CPU_WROTE_OWNED) return;
    this.flags[id] = f | F_CPU_WROTE_OWNED;
    this.cpuWrites++;
  }

  /** A sync for the device took all of region id back (cleaning what the CPU wrote), or it ended. */
  private endCpuWrites(id: number): void {
    const f = this.flags[id] as number;
    if (!(f & F_CPU_WROTE_OWNED)) return;
    this.flags[id] = f & ~F_CPU_WROTE_OWNED;
    this.cpuWrites--;
  }

  isLive(id: number): boolean {
    return ((this.flags[id] as number) & F_LIVE) !== 0;
  }

  bounced(id: number): boolean {
    return this.dmaPhys[id] !== this.phys[id];
  }

  /** Whether the device owns any byte of [lo, hi) of region id (relative). */
  deviceOwns(id: number, lo: number, hi: number): boolean {
    lo = Math.max(lo, 0);
    hi = Math.min(hi, this.size[id] as number);
    if (hi <= lo) return false;
    let covered = 0;
    const c = this.cpu[id] as readonly number[];
    for (let i = 0; i < c.length; i += 2) covered += Math.max(0, Math.min(hi, c[i + 1] as number) - Math.max(lo, c[i] as number));
    return covered < hi - lo;
  }

  /** Hands [lo, hi) of region id to the CPU (sync_for_cpu) or back to the device (sync_for_device). */
  give(id: number, lo: number, hi: number, toCpu: boolean): void {
    lo = Math.max(lo, 0);
    hi = Math.min(hi, this.size[id] as number);
    const out: number[] = [];
    const c = this.cpu[id] as readonly number[];
    let nlo = lo;
    let nhi = hi;
    for (let i = 0; i < c.length; i += 2) {
      const a = c[i] as number;
      const b = c[i + 1] as number;
      if (toCpu) {
        if (b < nlo || a > nhi) out.push(a, b);
        else { nlo = Math.min(nlo, a); nhi = Math.max(nhi, b); }
      } else {
        if (b <= lo || a >= hi) { out.push(a, b); continue; }
        if (a < lo) out.push(a, lo);
        if (b > hi) out.push(hi, b);
      }
    }
    if (toCpu && nhi > nlo) out.push(nlo, nhi);
    const keep = toCpu ? ~(F_REPORTED | F_DEV_WROTE) : ~F_REPORTED;
    for (let i = 0; i < out.length; i += 2) {
      for (let j = i + 2; j < out.length; j += 2) {
        if ((out[j] as number) < (out[i] as number)) {
          [out[i], out[j]] = [out[j] as number, out[i] as number];
          [out[i + 1], out[j + 1]] = [out[j + 1] as number, out[i + 1] as number];
        }
      }
    }
    this.cpu[id] = out.length === 0 ? NO_RANGES : out;
    this.flags[id] = (this.flags[id] as number) & keep;
    // Handed all back, the CPU's writes were cleaned (a partial hand-back keeps the region watched).
    if (out.length === 0) this.endCpuWrites(id);
  }

  private free(id: number): void {
    // Drop the references an unused slot would keep alive.
    this.dev[id] = null;
    if (this.cpu[id] !== NO_RANGES) this.cpu[id] = NO_RANGES;
    this.nextLive[id] = this.freeHead;
    this.freeHead = id;
  }

  private newId(): number {
    const id = this.ids++;
    this.cpu[id] = NO_RANGES;
    if (id >= this.kind.length) {
      const n = Math.max(64, this.kind.length * 2);
      this.kind = grown(this.kind, n);
      this.dir = grown(this.dir, n);
      this.attrs = grown(this.attrs, n);
      this.dma = grown(this.dma, n);
      this.size = grown(this.size, n);
      this.phys = grown(this.phys, n);
      this.origOff = grown(this.origOff, n);
      this.dmaPhys = grown(this.dmaPhys, n);
      this.dmaOff = grown(this.dmaOff, n);
      this.flags = grown(this.flags, n);
      this.cpuWroteAt = grown(this.cpuWroteAt, n);
      this.visit = grown(this.visit, n);
      this.nextLive = grown(this.nextLive, n);
      this.prevLive = grown(this.prevLive, n);
      this.refs = grown(this.refs, n);
    }
    return id;
  }

  /** Adds region id to (or removes it from) the lists of the pages its CPU buffer and DMA'd range touch. */
  private index(id: number, add: boolean): void {
    const origOff = this.origOff[id] as number;
    const dmaOff = this.dmaOff[id] as number;
    this.indexRange(id, origOff, add);
    if (dmaOff >= 0 && dmaOff !== origOff) this.indexRange(id, dmaOff, add);
  }

  private indexRange(id: number, off: number, add: boolean): void {
    const last = pageOf(off + Math.max(this.size[id] as number, 1) - 1);
    const counts = this.pageCount;
    for (let p = pageOf(off); p <= last; p++) {
      const n = counts[p] as number;
      const start = this.pageStart[p] as number;
      if (add) {
        // The DMA'd range may share the last page of the CPU buffer: one entry per page.
        if (n > 0 && this.pool[start + n - 1] === id) continue;
        const at = n < (this.pageCap[p] as number) ? start + n : this.moveList(p, n);
        this.pool[at] = id;
        counts[p] = n + 1;
      } else if (n > 0) {
        const pool = this.pool;
        let i = start + n - 1;
        while (i >= start && pool[i] !== id) i--;
        if (i < start) continue;
        pool[i] = pool[start + n - 1] as number;
        counts[p] = n - 1;
      }
    }
  }

  /** Gives page p's full list twice the room at the end of the pool; returns where entry n goes. */
  private moveList(p: number, n: number): number {
    const cap = Math.max(4, (this.pageCap[p] as number) * 2);
    if (this.poolTop + cap > this.pool.length) this.pool = grown(this.pool, Math.max(this.pool.length * 2, this.poolTop + cap));
    const start = this.poolTop;
    const old = this.pageStart[p] as number;
    this.pool.copyWithin(start, old, old + n);
    this.pageStart[p] = start;
    this.pageCap[p] = cap;
    this.poolTop += cap;
    return start + n;
  }
}
