// The data-aware DMA checker: what kernel/dma/debug.c cannot see. dma-debug checks bookkeeping
// (which addresses are mapped, with which direction); dmasim also has the bytes and the cache
// lines, so this checker reports, at the access that goes wrong, the four data bugs of the DMA
// API, each with the mapping involved and the call that was missing:
//
//   (a) data race: a CPU access to a buffer the device owns (between map or sync_for_device and
//       unmap or sync_for_cpu), or a CPU write to a cacheline such a buffer shares;
//   (b) stale read: a CPU read of a cacheline filled before the device wrote RAM, with no
//       invalidate since;
//   (c) lost DMA data: a dirty cacheline written back (by eviction, clean, or the clean+invalidate
//       of a partial line) over bytes the device wrote;
//   (d) stale DMA read: a device read of RAM that is older than a dirty cacheline;
//   (g) lost CPU data: a CPU write to a buffer it owned (after sync_for_cpu), never cleaned by a
//       sync_for_device, discarded by the invalidation of the next sync_for_cpu or the unmap
//       (arch/arm64/mm/dma-mapping.c arch_sync_dma_for_cpu(): dcache_inval_poc(), DC IVAC).
//
// It is host-side only. The engine's per-line directory (one byte per RAM line: way and dirty
// bit) and the cache data array sit in the shared memory, so the checker reads a line's state and
// cached bytes without a call. What it tracks:
//
// - Regions: the live streaming mappings and dma_alloc_pages() buffers, each with the CPU buffer,
//   the physical range the device really uses (the swiotlb slot when bounced) and the sub-ranges
//   the CPU owns (sync_for_cpu gives them, sync_for_device takes them back). They are indexed by
//   the pages they touch, so an access looks at one or two short lists.
// - Stale lines: when a non-coherent device writes a line the CPU cache holds, the cached copy
//   predates the write. The checker keeps two snapshots of that line: the cached bytes and the RAM
//   bytes after the write. A later CPU read sees stale data exactly where the cache still holds
//   the old bytes and the device wrote new ones (b). A stale line that is (or becomes) dirty is a
//   suspect: if RAM ever stops matching the device's bytes, the line was written back over them
//   (c). Suspects are few, so they are compared at the start of every hook, and the write-back is
//   attributed to the access or cache operation since the previous hook (the only ones that can
//   write a line back).
//
// Reports go to the kernel log (KERN_ERR, framed like a KASAN report) and to `reports`.
//
// Mappings of a device behind a translating IOMMU are not tracked as regions: a merged sg segment
// spans several CPU buffers and the translation is gone by the time the unmap hook runs. Its bus
// accesses are still checked line by line (stale lines, stale device reads).

import type { DmaApiCall, DmaDebugHooks } from '../dma/debug-hooks.js';
import type { Device } from '../dma/device.js';
import { DMA_ATTR_MMIO, DMA_ATTR_SKIP_CPU_SYNC, DMA_MAPPING_ERROR, DMA_TO_DEVICE, dir2name, type DmaDirection } from '../include/dma-mapping.js';
import { LD_DIRTY, LD_WAY_MASK } from '../../assembly/abi.js';
import type { Layout } from '../engine/layout.js';
import type { EnginePort } from '../engine/port.js';
import type { Kconfig } from '../include/kconfig.js';
import { PAGE_SIZE } from '../mm/memory.js';
import { KERN_ERR, type KernelLog } from '../lib/printk.js';
import { callerLocation } from '../lib/caller.js';
import { sg_phys, type Scatterlist } from '../dma/scatterlist.js';
import { x016 } from '../lib/vsprintf.js';
import { DataCheckRegions, F_BLIND, F_CPU_WROTE_IN_BUFFER, F_CPU_WROTE_OWNED, F_DEV_WROTE, F_LIVE, F_REPORTED_READ, F_REPORTED_SHARED, F_REPORTED_WRITE, NONE, pageOf } from './dma-data-regions.js';

export type DataCheckKind =
  | 'cpu-access-device-owned' | 'cpu-write-shared-cacheline' | 'stale-cpu-read' | 'writeback-over-dma-data' | 'device-read-stale-ram'
  | 'device-overrun' | 'bounce-data-lost' | 'cpu-write-discarded';

/** The mapping a report is about, as it stood when the report was made. */
export interface DataCheckMapping {
  readonly device: string;
  readonly driver: string;
  /** The API call that created it: dma_map_single, dma_map_sg, dma_alloc_pages, ... */
  readonly call: string;
  readonly dma: number;
  readonly size: number;
  readonly dir: string;
  /** The CPU's buffer. */
  readonly phys: number;
  /** What the device really reads and writes: the swiotlb slot when the mapping bounced. */
  readonly dmaPhys: number;
  readonly bounced: boolean;
  readonly state: 'owned by the device' | 'owned by the CPU' | 'unmapped';
}

export interface DataCheckAccess {
  /** 'CPU', the device ("<driver> <name>"), or what wrote a line back. */
  readonly by: string;
  readonly op: 'read' | 'write' | 'writeback' | 'invalidate';
  readonly phys: number;
  readonly size: number;
  readonly dma?: number;
}

export interface DataCheckReport {
  readonly kind: DataCheckKind;
  /** The report's header without "BUG: DMA-API ". */
  readonly title: string;
  readonly access: DataCheckAccess;
  readonly mapping: DataCheckMapping | null;
  /** The call that was missing (or what the driver must do instead). */
  readonly missing: string;
  /** How many bytes went wrong (stale, overwritten, or differing). */
  readonly bytes: number;
  /** The caller's source line ("path:line:col"): the first stack frame outside dmasim. */
  readonly caller: string;
  /** The report as printed. */
  readonly lines: readonly string[];
}

/** A dirty line an invalidation is about to reach, holding bytes the CPU wrote to a buffer it owned. */
interface DiscardCandidate {
  /** WASM offset of the line, and the CPU's part of the buffer in it [lo, hi). */
  readonly off: number;
  readonly lo: number;
  readonly hi: number;
  /** The cached bytes before the invalidation. */
  readonly snap: Uint8Array;
  /** Held in the table until the candidate is settled. */
  readonly region: number;
  /** The invalidated range. */
  readonly evOff: number;
  readonly evLen: number;
}

/** What the checker needs from the machine it watches, handed in by machine.ts. */
export interface DataCheckHost {
  readonly log: KernelLog;
  readonly port: EnginePort;
  readonly cache: { readonly lineSize: number };
  readonly layout: Pick<Layout, 'banks' | 'ramStart' | 'totalBytes'>;
  readonly config: Kconfig;
  physToOffset(phys: number, len: number): number;
}

const SEP = '==================================================================';

const K_MAP = 0;
const K_SG = 1;
const K_PAGES = 2;


/** What ran since the previous hook (see lastEvent()). */
const EV_NONE = 0;
const EV_CPU_READ = 1;
const EV_CPU_WRITE = 2;
const EV_SNOOP = 3;
const EV_BOUNCE = 4;
const EV_CLEAN = 5;
const EV_INVAL = 6;

/** How a stale line became dirty. */
const D_NONE = 0;
const D_BEFORE_DEVICE_WRITE = 1;
const D_CPU_WRITE_IN_BUFFER = 2;
const D_CPU_WRITE_NEAR_BUFFER = 3;


const UNMAP_OF: Readonly<Record<string, string>> = {
  dma_map_single: 'dma_unmap_single', dma_map_page: 'dma_unmap_page', dma_map_phys: 'dma_unmap_phys',
  dma_map_resource: 'dma_unmap_resource', dma_map_sg: 'dma_unmap_sg', dma_map_sgtable: 'dma_unmap_sgtable',
  dma_alloc_pages: 'dma_free_pages', dma_alloc_noncoherent: 'dma_free_noncoherent',
};

/** A line the device wrote while the CPU cache held an older copy of it. */
interface StaleLine {
  readonly li: number;
  /** WASM offset of the line. */
  readonly off: number;
  readonly cacheSnap: Uint8Array;
  readonly ramSnap: Uint8Array;
  /** 1 for each byte a device wrote since the line became stale. */
  readonly devMask: Uint8Array;
  /** The region it was written through (NONE: none), held in the table (retain/release). */
  region: number;
  dev: Device;
  /** The device wrote bytes the CPU owned at the time (after sync_for_cpu, or with no mapping). */
  devOwned: boolean;
  suspect: boolean;
  readReported: boolean;
  dirtied: number;
  dirtiedAt: number;
}

export class DmaDataCheck implements DmaDebugHooks {
  private readonly log: KernelLog;
  private readonly u8: Uint8Array;
  private readonly lineSize: number;
  private readonly ramStart: number;
  private readonly port: EnginePort;
  /** The live regions, by id (and the unmapped ones a stale line still names). */
  private readonly regions: DataCheckRegions;
  private readonly stale = new Map<number, StaleLine>();
  private readonly suspects = new Set<StaleLine>();
  /** Lines an invalidation is about to reach; looked at by the next hook, once it ran (g). */
  private discards: DiscardCandidate[] = [];
  /** What ran since the previous hook: the access or cache operation a write-back is blamed on. */
  private evKind = EV_NONE;
  private evOff = 0;
  private evLen = 0;
  private evDev: Device | null = null;
  private pendingCall: string | null = null;
  private readonly list: DataCheckReport[] = [];
  /** Live coherent allocations (dma_alloc_coherent() and friends): the device may use them freely. */
  private readonly coherent: { dev: Device; dma: number; size: number; phys: number }[] = [];

  constructor(private readonly m: DataCheckHost) {
    this.log = m.log;
    this.port = m.port;
    this.u8 = m.port.u8;
    this.lineSize = m.cache.lineSize;
    this.ramStart = m.layout.ramStart;
    this.regions = new DataCheckRegions(Math.ceil(m.layout.totalBytes / PAGE_SIZE));
  }

  /** Every report so far (write-backs since the last hook are found first). */
  get reports(): readonly DataCheckReport[] {
    this.settle();
    return this.list;
  }

  // ---- addresses and lines ----------------------------------------------------------------

  /** The physical address of a WASM offset in RAM. */
  private physOf(off: number): number {
    for (const b of this.m.layout.banks) if (off >= b.offset && off < b.offset + b.size) return b.base + (off - b.offset);
    return -1;
  }

  private lineIndex(off: number): number {
    return Math.floor((off - this.ramStart) / this.lineSize);
  }

  private dirByte(li: number): number {
    return this.port.lineDirByte(li);
  }

  /** Where the cache holds line li (dirByte says it is resident). */
  private cachedAt(li: number, dirByte: number): number {
    return this.port.cachedLineAt(li, dirByte);
  }

  /**
   * Whether hand-overs can be seen: the syncs of a coherent device that never bounced are skipped
   * before any hook (dma_dev_need_sync()) unless DMA_API_DEBUG forces them.
   */
  private observable(dev: Device): boolean {
    return !dev.dma_skip_sync || this.m.config.DMA_API_DEBUG;
  }

  // ---- regions ----------------------------------------------------------------------------

  private addRegion(dev: Device, kind: number, call: string, phys: number, dma: number, size: number, dir: DmaDirection, attrs: number, cpuOwned: boolean): void {
    if (dev.dma_iommu) return;
    const m = this.m;
    const origOff = m.physToOffset(phys, Math.max(size, 1));
    if (origOff < 0) return;
    const dmaPhys = dev.dmaToPhys(dma, Math.max(size, 1));
    const dmaOff = dmaPhys < 0 ? -1 : dmaPhys === phys ? origOff : m.physToOffset(dmaPhys, Math.max(size, 1));
    this.regions.add(dev, call, kind, dma, size, dir, attrs, phys, origOff, dmaPhys < 0 ? phys : dmaPhys, dmaOff, cpuOwned, !this.observable(dev));
  }

  /** The live region of `dev` that starts at (exact) or contains [dma, dma + size), or NONE. */
  private findRegion(dev: Device, dma: number, size: number, exact: boolean, kind: number): number {
    if (dma === DMA_MAPPING_ERROR) return NONE;
    const phys = dev.dmaToPhys(dma, 1);
    const off = phys < 0 ? -1 : this.m.physToOffset(phys, 1);
    if (off < 0) return NONE;
    const t = this.regions;
    const p = pageOf(off);
    const start = t.pageStart[p] as number;
    const end = start + (t.pageCount[p] as number);
    for (let i = start; i < end; i++) {
      const r = t.pool[i] as number;
      if (t.dev[r] !== dev || (kind >= 0 && t.kind[r] !== kind)) continue;
      const rdma = t.dma[r] as number;
      if (exact ? rdma === dma : rdma <= dma && dma + size <= rdma + (t.size[r] as number)) return r;
    }
    return NONE;
  }

  private removeRegion(r: number): void {
    if (r !== NONE) this.regions.remove(r);
  }

  private takeCall(fallback: string): string {
    const c = this.pendingCall ?? fallback;
    this.pendingCall = null;
    return c;
  }

  // ---- stale lines --------------------------------------------------------------------------

  /** Forgets a stale line, and its hold on the region it names (a second drop does nothing). */
  private drop(s: StaleLine): void {
    this.stale.delete(s.li);
    this.suspects.delete(s);
    this.regions.release(s.region);
    s.region = NONE;
  }

  private dropRange(off: number, len: number): void {
    if (this.stale.size === 0) return;
    const first = this.lineIndex(off);
    const last = this.lineIndex(off + Math.max(len, 1) - 1);
    for (let li = first; li <= last; li++) {
      const s = this.stale.get(li);
      if (s !== undefined) this.drop(s);
    }
  }

  /** The stale lines among [off, off + len): by line when the range is short, else by record. */
  private staleIn(off: number, len: number, fn: (s: StaleLine) => void): void {
    const first = this.lineIndex(off);
    const last = this.lineIndex(off + Math.max(len, 1) - 1);
    if (last - first + 1 <= this.stale.size) {
      for (let li = first; li <= last; li++) {
        const s = this.stale.get(li);
        if (s !== undefined) fn(s);
      }
    } else {
      for (const s of [...this.stale.values()]) if (s.li >= first && s.li <= last) fn(s);
    }
  }

  /** Whether the cache still holds old bytes where the device wrote new ones. */
  private stillStale(s: StaleLine, dirByte: number): boolean {
    const at = this.cachedAt(s.li, dirByte);
    const u8 = this.u8;
    for (let i = 0; i < this.lineSize; i++) {
      const c = u8[at + i] as number;
      if (c === s.cacheSnap[i] && c !== s.ramSnap[i]) return true;
    }
    return false;
  }

  /**
   * Looks at the suspects: a line whose RAM no longer holds what the device wrote was written
   * back over it (c); a line no longer cached is forgotten; a clean one is no longer suspect.
   */
  private settle(): void {
    if (this.suspects.size !== 0) this.settleSuspects();
    if (this.discards.length !== 0) this.settleDiscards();
  }

  private settleSuspects(): void {
    const u8 = this.u8;
    for (const s of [...this.suspects]) {
      let changed = 0;
      let lost = 0;
      let first = -1;
      for (let i = 0; i < this.lineSize; i++) {
        if (u8[s.off + i] === s.ramSnap[i]) continue;
        changed++;
        if (s.devMask[i] === 0) continue;
        lost++;
        if (first < 0) first = i;
      }
      if (changed > 0) {
        // Written back: RAM holds the cached line now. Only the device's bytes are a loss.
        if (lost > 0) this.reportWriteback(s, lost, first);
        this.drop(s);
        continue;
      }
      const d = this.dirByte(s.li);
      if ((d & LD_WAY_MASK) === 0) this.drop(s);
      else if (!(d & LD_DIRTY)) {
        s.suspect = false;
        this.suspects.delete(s);
      }
    }
  }

  // ---- what ran since the previous hook ------------------------------------------------------

  /** Records the access or cache operation about to run (described only if a report needs it). */
  private event(kind: number, off: number, len: number, dev: Device | null): void {
    this.evKind = kind;
    this.evOff = off;
    this.evLen = len;
    this.evDev = dev;
  }

  /** The access or cache operation since the previous hook: what a write-back found now did. */
  private lastEvent(): string {
    const at = `[0x${x016(this.physOf(this.evOff))}, +${this.evLen})`;
    switch (this.evKind) {
      case EV_CPU_READ: return `an eviction during the CPU read of ${at}`;
      case EV_CPU_WRITE: return `an eviction during the CPU write to ${at}`;
      case EV_SNOOP: return `the snoop of a coherent write by ${this.evDev?.driver ?? ''} ${this.evDev?.name ?? ''} to ${at}`;
      case EV_BOUNCE: return `the swiotlb_bounce() copy to ${at}`;
      case EV_CLEAN: return `dcache_clean_poc() (DC CVAC) of ${at}`;
      case EV_INVAL: return `dcache_inval_poc() of ${at} (DC CIVAC of a partial line at its edge)`;
      default: return 'an eviction';
    }
  }

  // ---- access hooks -------------------------------------------------------------------------

  /**
   * A CPU load or store of [off, off + len) (WASM offsets, one physically contiguous span), made
   * just before the engine does it. `cached`: through the cache (false: an uncached mapping).
   */
  cpuAccess(off: number, len: number, write: boolean, cached: boolean): void {
    this.settle();
    if (len === 0) return;
    if (!cached) {
      // A store through an uncached alias puts the CPU's bytes in RAM: they are the current ones.
      if (write) this.dropRange(off, len);
      return;
    }
    this.event(write ? EV_CPU_WRITE : EV_CPU_READ, off, len, null);
    const regions = this.regions.count;
    if (regions === 0 && this.stale.size === 0) return;
    const staleRegion = !write && this.stale.size > 0 ? this.checkStaleRead(off, len, 'CPU 0') : NONE;
    if (regions > 0) this.checkOwnership(off, len, write, staleRegion);
    if (write && this.stale.size > 0) this.markWritten(off, len);
  }

  /** A device bus access, made just before the engine does it. */
  deviceAccess(dev: Device, dma: number, off: number, len: number, write: boolean, data: Uint8Array | null, fill: number): void {
    this.settle();
    if (len === 0) return;
    if (!dev.dma_iommu) this.checkBounds(dev, dma, len, write);
    if (dev.dma_coherent) {
      // A snooping write leaves no stale copy, and writes back partial dirty lines first.
      if (write) {
        this.event(EV_SNOOP, off, len, dev);
        this.dropRange(off, len);
      }
      return;
    }
    if (write) this.deviceWrote(dev, dma, off, len, data, fill);
    else this.checkDeviceRead(dev, dma, off, len);
  }

  /** swiotlb_bounce()'s CPU memcpy of n bytes from srcOff to dstOff, just before it. */
  cpuCopy(dstOff: number, srcOff: number, n: number): void {
    this.settle();
    if (n === 0) return;
    this.event(EV_BOUNCE, dstOff, n, null);
    if (this.stale.size === 0) return;
    this.checkStaleRead(srcOff, n, 'swiotlb_bounce()');
    this.dropRange(dstOff, n);
  }

  /**
   * A D-cache maintenance operation about to run (arch/arm64/mm/cache.S): 'clean' is
   * dcache_clean_poc, 'inval' dcache_inval_poc (which cleans and invalidates partial edge lines).
   */
  maintenance(kind: 'clean' | 'inval', off: number, len: number): void {
    this.settle();
    this.event(kind === 'clean' ? EV_CLEAN : EV_INVAL, off, len, null);
    if (kind === 'inval' && this.regions.cpuWrites > 0) this.noteDiscards(off, len);
    if (this.stale.size === 0) return;
    this.staleIn(off, len, (s) => {
      if (!s.suspect) {
        s.suspect = true;
        this.suspects.add(s);
      }
    });
  }

  /**
   * (g) Before an invalidation: the dirty lines of [off, off + len) holding bytes the CPU wrote
   * to a part of a mapped buffer it owns. Whether the operation discards them (DC IVAC) or writes
   * them back first (DC CIVAC, as dcache_inval_poc() does to a partial line at either edge) shows
   * once it ran: settleDiscards() compares RAM with the bytes kept here.
   */
  private noteDiscards(off: number, len: number): void {
    const t = this.regions;
    const n = t.collect(off, len);
    for (let k = 0; k < n; k++) {
      const r = t.found[k] as number;
      if (!((t.flags[r] as number) & F_CPU_WROTE_OWNED) || t.bounced(r)) continue;
      const origOff = t.origOff[r] as number;
      const lo = Math.max(off, origOff);
      const hi = Math.min(off + len, origOff + (t.size[r] as number));
      if (lo < hi) this.noteRegionDiscards(r, lo, hi, off, len);
    }
  }

  /** noteDiscards() of region r's part [lo, hi) of the invalidated range [off, off + len). */
  private noteRegionDiscards(r: number, lo: number, hi: number, off: number, len: number): void {
    const t = this.regions;
    const L = this.lineSize;
    const u8 = this.u8;
    const origOff = t.origOff[r] as number;
    const last = this.lineIndex(hi - 1);
    for (let li = this.lineIndex(lo); li <= last; li++) {
      const d = this.dirByte(li);
      if (!(d & LD_DIRTY)) continue;
      const lineOff = this.ramStart + li * L;
      const a = Math.max(lo, lineOff);
      const b = Math.min(hi, lineOff + L);
      // A part the device owns: the CPU's write there was reported as a data race (a).
      if (t.deviceOwns(r, a - origOff, b - origOff) || this.discards.some((c) => c.off === lineOff)) continue;
      const at = this.cachedAt(li, d);
      let differs = false;
      for (let o = a; o < b && !differs; o++) differs = u8[at + (o - lineOff)] !== u8[o];
      if (!differs) continue;
      t.retain(r);
      this.discards.push({ off: lineOff, lo: a, hi: b, snap: u8.slice(at, at + L), region: r, evOff: off, evLen: len });
    }
  }

  /** (g) After the invalidation: a line whose RAM does not hold the CPU's bytes lost them. */
  private settleDiscards(): void {
    const list = this.discards;
    this.discards = [];
    const u8 = this.u8;
    for (const c of list) {
      const d = this.dirByte(this.lineIndex(c.off));
      const at = (d & LD_WAY_MASK) === 0 ? -1 : this.cachedAt(this.lineIndex(c.off), d);
      let lost = 0;
      let first = -1;
      for (let o = c.lo; o < c.hi; o++) {
        const cpu = c.snap[o - c.off] as number;
        // Still cached with the CPU's byte (the operation did not reach it), or in RAM: not lost.
        if (u8[o] === cpu || (at >= 0 && u8[at + (o - c.off)] === cpu)) continue;
        lost++;
        if (first < 0) first = o;
      }
      if (lost > 0) this.reportDiscard(c, lost, first);
      this.regions.release(c.region);
    }
  }

  /** A non-coherent device write: every line the cache holds now has an older copy there. */
  private deviceWrote(dev: Device, dma: number, off: number, len: number, data: Uint8Array | null, fill: number): void {
    const region = this.regionFor(dev, dma, len);
    const t = this.regions;
    const L = this.lineSize;
    const u8 = this.u8;
    const first = this.lineIndex(off);
    const last = this.lineIndex(off + len - 1);
    for (let li = first; li <= last; li++) {
      const d = this.dirByte(li);
      let s = this.stale.get(li);
      if ((d & LD_WAY_MASK) === 0) {
        if (s !== undefined) this.drop(s);
        continue;
      }
      const lineOff = this.ramStart + li * L;
      if (s === undefined) {
        s = {
          li, off: lineOff, cacheSnap: new Uint8Array(L), ramSnap: new Uint8Array(L), devMask: new Uint8Array(L), region: NONE, dev, devOwned: true,
          suspect: false, readReported: false, dirtied: D_NONE, dirtiedAt: -1,
        };
        this.stale.set(li, s);
      }
      const at = this.cachedAt(li, d);
      s.cacheSnap.set(u8.subarray(at, at + L));
      s.ramSnap.set(u8.subarray(lineOff, lineOff + L));
      const lo = Math.max(off, lineOff);
      const hi = Math.min(off + len, lineOff + L);
      if (data === null) s.ramSnap.fill(fill, lo - lineOff, hi - lineOff);
      else s.ramSnap.set(data.subarray(lo - off, hi - off), lo - lineOff);
      s.devMask.fill(1, lo - lineOff, hi - lineOff);
      t.retain(region);
      t.release(s.region);
      s.region = region;
      s.dev = dev;
      s.devOwned = region !== NONE && t.deviceOwns(region, this.relOf(region, lo), this.relOf(region, lo) + (hi - lo));
      s.readReported = false;
      if (d & LD_DIRTY) {
        if (s.dirtied === D_NONE && region !== NONE && (t.cpuWroteAt[region] as number) >= 0) {
          s.dirtied = (t.flags[region] as number) & F_CPU_WROTE_IN_BUFFER ? D_CPU_WRITE_IN_BUFFER : D_CPU_WRITE_NEAR_BUFFER;
          s.dirtiedAt = t.cpuWroteAt[region] as number;
        } else if (s.dirtied === D_NONE) {
          s.dirtied = D_BEFORE_DEVICE_WRITE;
        }
        s.suspect = true;
        this.suspects.add(s);
      }
    }
  }

  /** An offset inside a region's CPU buffer or its DMA'd range, relative to the region's start. */
  private relOf(r: number, off: number): number {
    const t = this.regions;
    const origOff = t.origOff[r] as number;
    const dmaOff = t.dmaOff[r] as number;
    const size = t.size[r] as number;
    if (off >= origOff && off < origOff + size) return off - origOff;
    if (dmaOff >= 0 && off >= dmaOff && off < dmaOff + size) return off - dmaOff;
    return 0;
  }

  /** The live region of the device covering its access (by the DMA'd range). */
  private regionFor(dev: Device, dma: number, len: number): number {
    return this.findRegion(dev, dma, len, false, -1);
  }

  /**
   * (e) DMA overrun: a device access that leaves every mapping and coherent allocation its
   * device owns, reported with the nearest one. A device with nothing mapped is not judged (there
   * is no buffer it could have overrun). A write inside a region marks its data as in flight.
   */
  private checkBounds(dev: Device, dma: number, len: number, write: boolean): void {
    const t = this.regions;
    const r = this.regionFor(dev, dma, len);
    if (r !== NONE) {
      if (write) t.flags[r] = (t.flags[r] as number) | F_DEV_WROTE;
      return;
    }
    let nearest: { dma: number; size: number; region: number; phys: number } | null = null;
    let dist = Infinity;
    const consider = (lo: number, size: number, region: number, phys: number): boolean => {
      if (dma >= lo && dma + len <= lo + size) return true;
      const d = dma + len <= lo ? lo - (dma + len) : dma >= lo + size ? dma - (lo + size) : 0;
      if (d < dist) {
        dist = d;
        nearest = { dma: lo, size, region, phys };
      }
      return false;
    };
    for (const c of this.coherent) if (c.dev === dev && consider(c.dma, c.size, NONE, c.phys)) return;
    for (let x = t.head; x !== NONE; x = t.nextLive[x] as number) if (t.dev[x] === dev && consider(t.dma[x] as number, t.size[x] as number, x, t.phys[x] as number)) return;
    if (nearest !== null) this.reportOverrun(dev, dma, len, write, nearest);
  }

  private reportOverrun(dev: Device, dma: number, len: number, write: boolean, near: { dma: number; size: number; region: number; phys: number }): void {
    const by = `${dev.driver} ${dev.name}`;
    const rel = dma - near.dma;
    const what = [`${write ? 'Write' : 'Read'} of size ${len} at dma 0x${x016(dma)} by device ${by}, at offset ${rel < 0 ? '-' : '+'}${Math.abs(rel)} of its nearest buffer (size ${near.size})`];
    const missing = `the device was given an address or length beyond its buffer: program it with the mapped size (dma=0x${x016(near.dma)}, size=${near.size})`;
    const access: DataCheckAccess = { by, op: write ? 'write' : 'read', phys: dev.dmaToPhys(dma, 1), size: len, dma };
    if (near.region !== NONE) {
      this.emit('device-overrun', `DMA overrun: device ${write ? 'write' : 'read'} outside every buffer mapped for it`, what, access, near.region, 0, missing, len);
      return;
    }
    this.emit('device-overrun', `DMA overrun: device ${write ? 'write' : 'read'} outside every buffer mapped for it`, what, access, NONE, 0, missing, len,
      `Mapping: dma_alloc_coherent(${by}, dma=0x${x016(near.dma)}, size=${near.size}) of the buffer at phys 0x${x016(near.phys)}`);
  }

  /** (d): the device reads RAM where the cache holds newer, dirty bytes. */
  private checkDeviceRead(dev: Device, dma: number, off: number, len: number): void {
    const L = this.lineSize;
    const u8 = this.u8;
    let bad = 0;
    let firstBad = -1;
    let badLine = -1;
    const first = this.lineIndex(off);
    const last = this.lineIndex(off + len - 1);
    for (let li = first; li <= last; li++) {
      const d = this.dirByte(li);
      if (!(d & LD_DIRTY)) continue;
      const lineOff = this.ramStart + li * L;
      const at = this.cachedAt(li, d);
      const lo = Math.max(off, lineOff);
      const hi = Math.min(off + len, lineOff + L);
      for (let o = lo; o < hi; o++) {
        if (u8[at + (o - lineOff)] !== u8[o]) {
          bad++;
          if (firstBad < 0) { firstBad = o; badLine = lineOff; }
        }
      }
    }
    if (bad === 0) return;
    const t = this.regions;
    const r = this.regionFor(dev, dma, len);
    const rel = r === NONE ? 0 : this.relOf(r, firstBad);
    let missing: string;
    if (r === NONE) {
      missing = 'dma_map_single() (or a sync for the device) before the device reads: no live mapping covers this range, and the CPU\'s newer data is still in a dirty cacheline';
    } else if (!t.deviceOwns(r, rel, rel + 1)) {
      missing = `${this.syncName(r, false)}() before the device reads: the CPU owns this part of the buffer and has not cleaned what it wrote`;
    } else if ((t.attrs[r] as number) & DMA_ATTR_SKIP_CPU_SYNC) {
      missing = `${this.syncName(r, false)}(): the mapping was made with DMA_ATTR_SKIP_CPU_SYNC, so ${t.call[r]}() did not clean the CPU's writes`;
    } else {
      missing = `${this.syncName(r, true)}() before and ${this.syncName(r, false)}() after the CPU writes a buffer the device owns: it wrote after ${t.call[r]}() cleaned the buffer`;
    }
    const who = `${dev.driver} ${dev.name}`;
    this.emit('device-read-stale-ram', 'stale DMA read: device read of RAM older than a dirty cacheline', [
      `Read of size ${len} at dma 0x${x016(dma)} (phys 0x${x016(this.physOf(off))}) by device ${who}`,
      `${bad} byte${bad === 1 ? '' : 's'} from phys 0x${x016(this.physOf(firstBad))} differ from the dirty cacheline 0x${x016(this.physOf(badLine))}, which the CPU has not cleaned`,
    ], { by: who, op: 'read', phys: this.physOf(off), size: len, dma }, r, rel, missing, bad);
  }

  /** (b): stale bytes among [off, off + len); returns the region reported (NONE if none). */
  private checkStaleRead(off: number, len: number, by: string): number {
    const L = this.lineSize;
    const u8 = this.u8;
    let bad = 0;
    let firstBad = -1;
    let rec: StaleLine | undefined;
    this.staleIn(off, len, (s) => {
      const d = this.dirByte(s.li);
      if ((d & LD_WAY_MASK) === 0) {
        if (!s.suspect) this.drop(s);
        return;
      }
      if (s.readReported) return;
      const at = this.cachedAt(s.li, d);
      const lo = Math.max(off, s.off);
      const hi = Math.min(off + len, s.off + L);
      let n = 0;
      for (let o = lo; o < hi; o++) {
        const c = u8[at + (o - s.off)] as number;
        if (c === s.cacheSnap[o - s.off] && c !== s.ramSnap[o - s.off]) {
          n++;
          if (firstBad < 0) firstBad = o;
        }
      }
      if (n === 0) return;
      s.readReported = true;
      bad += n;
      rec ??= s;
    });
    if (rec === undefined) return NONE;
    const s = rec;
    const t = this.regions;
    const r = s.region;
    const rel = r === NONE ? 0 : this.relOf(r, firstBad);
    let missing: string;
    if (r === NONE) {
      missing = `dma_map_single() and a sync for the CPU: ${s.dev.driver} ${s.dev.name} wrote memory no live mapping covered, so nothing invalidated the CPU's copy`;
    } else if (!s.devOwned) {
      missing = `${this.syncName(r, false)}() before the device writes: it wrote a part of the buffer the CPU owned (after ${this.syncName(r, true)}()), so nothing invalidated the CPU's copy`;
    } else if (t.isLive(r) && t.deviceOwns(r, rel, rel + 1)) {
      missing = `${this.syncName(r, true)}() (or ${this.unmapName(r)}()) before the CPU reads`;
    } else if (t.isLive(r)) {
      missing = `${this.syncName(r, true)}() with ${dir2name[t.dir[r] as number]} or DMA_BIDIRECTIONAL: the sync for the CPU that was made did not invalidate the line`;
    } else {
      missing = `${this.syncName(r, true)}() before ${this.unmapName(r)}(..., DMA_ATTR_SKIP_CPU_SYNC): nothing invalidated the line after the device wrote it`;
    }
    this.emit('stale-cpu-read', 'stale read: CPU read of a cacheline the device wrote, not invalidated since', [
      `Read of size ${len} at phys 0x${x016(this.physOf(off))} by ${by}`,
      `${bad} byte${bad === 1 ? '' : 's'} from phys 0x${x016(this.physOf(firstBad))} come from cacheline 0x${x016(this.physOf(s.off))}, filled before ${s.dev.driver} ${s.dev.name} wrote it`,
    ], { by, op: 'read', phys: this.physOf(off), size: len }, r, rel, missing, bad);
    return r;
  }

  /** (a): the CPU touches a buffer (or, writing, a cacheline of one) the device owns. */
  private checkOwnership(off: number, len: number, write: boolean, skip: number): void {
    const t = this.regions;
    const n = t.collect(off, len);
    for (let k = 0; k < n; k++) {
      const r = t.found[k] as number;
      if (((t.flags[r] as number) & (F_LIVE | F_BLIND)) !== F_LIVE || !this.observable(t.dev[r] as Device)) continue;
      this.checkRegionAccess(r, off, len, write, skip);
    }
  }

  /** checkOwnership() of one region. */
  private checkRegionAccess(r: number, off: number, len: number, write: boolean, skip: number): void {
    const t = this.regions;
    const L = this.lineSize;
    const end = off + len;
    const origOff = t.origOff[r] as number;
    const size = t.size[r] as number;
    const bLo = Math.max(off, origOff);
    const bHi = Math.min(end, origOff + size);
    const flags = t.flags[r] as number;
    if (bLo < bHi) {
      if (r === skip) return;
      const rel = bLo - origOff;
      if (!t.deviceOwns(r, rel, bHi - origOff)) {
        if (write) t.markCpuWrote(r);
        return;
      }
      if (write) {
        t.cpuWroteAt[r] = this.physOf(bLo);
        t.flags[r] = flags | F_CPU_WROTE_IN_BUFFER | F_REPORTED_WRITE;
        if (!(flags & F_REPORTED_WRITE)) {
          this.reportOwned(r, off, len, true, rel);
        }
      } else if (t.dir[r] !== DMA_TO_DEVICE && !(flags & F_REPORTED_READ)) {
        t.flags[r] = flags | F_REPORTED_READ;
        this.reportOwned(r, off, len, false, rel);
      }
    } else if (write && !t.bounced(r) && t.dir[r] !== DMA_TO_DEVICE && !(t.dev[r] as Device).dma_coherent) {
      const headLine = Math.floor(origOff / L) * L;
      const tailLine = Math.floor((origOff + Math.max(size, 1) - 1) / L) * L;
      const head = off < origOff && end > headLine;
      const tail = end > origOff + size && off < tailLine + L;
      if ((head && t.deviceOwns(r, 0, headLine + L - origOff)) || (tail && t.deviceOwns(r, tailLine - origOff, size))) {
        t.cpuWroteAt[r] = this.physOf(head ? Math.max(off, headLine) : Math.max(off, origOff + size));
        t.flags[r] = (flags & ~F_CPU_WROTE_IN_BUFFER) | F_REPORTED_SHARED;
        if (!(flags & F_REPORTED_SHARED)) {
          this.reportShared(r, off, len, head ? headLine : tailLine);
        }
      }
    }
  }

  /** A CPU write to stale lines: those still stale become suspects, the rest are forgotten. */
  private markWritten(off: number, len: number): void {
    this.staleIn(off, len, (s) => {
      const d = this.dirByte(s.li);
      if ((d & LD_WAY_MASK) === 0 || !this.stillStale(s, d)) {
        if (!s.suspect) this.drop(s);
        return;
      }
      if (s.dirtied === D_NONE) {
        const r = s.region;
        const t = this.regions;
        const inBuffer = r !== NONE && off < (t.origOff[r] as number) + (t.size[r] as number) && off + len > (t.origOff[r] as number);
        s.dirtied = inBuffer ? D_CPU_WRITE_IN_BUFFER : D_CPU_WRITE_NEAR_BUFFER;
        s.dirtiedAt = this.physOf(Math.max(off, s.off));
      }
      if (!s.suspect) {
        s.suspect = true;
        this.suspects.add(s);
      }
    });
  }

  // ---- reports ----------------------------------------------------------------------------

  private syncName(r: number, toCpu: boolean): string {
    const to = toCpu ? 'cpu' : 'device';
    const t = this.regions;
    if (t.kind[r] === K_SG) return t.call[r] === 'dma_map_sgtable' ? `dma_sync_sgtable_for_${to}` : `dma_sync_sg_for_${to}`;
    return `dma_sync_single_for_${to}`;
  }

  /** The call that ends region r: dma_unmap_single for dma_map_single, ... */
  private unmapName(r: number): string {
    return UNMAP_OF[this.regions.call[r] as string] ?? 'the unmap';
  }

  private mapping(r: number, rel: number): DataCheckMapping | null {
    if (r === NONE) return null;
    const t = this.regions;
    const dev = t.dev[r] as Device;
    const state = !t.isLive(r) ? 'unmapped' : t.deviceOwns(r, rel, rel + 1) ? 'owned by the device' : 'owned by the CPU';
    return {
      device: dev.name, driver: dev.driver, call: t.call[r] as string, dma: t.dma[r] as number, size: t.size[r] as number, dir: dir2name[t.dir[r] as number] ?? '',
      phys: t.phys[r] as number, dmaPhys: t.dmaPhys[r] as number, bounced: t.bounced(r), state,
    };
  }

  private mappingLine(mp: DataCheckMapping | null): string {
    if (mp === null) return 'Mapping: none (no live mapping of the device covers this memory)';
    const bounce = mp.bounced ? `, bounced through the swiotlb slot at phys 0x${x016(mp.dmaPhys)}` : '';
    return `Mapping: ${mp.call}(${mp.driver} ${mp.device}, dma=0x${x016(mp.dma)}, size=${mp.size}, ${mp.dir}) of the buffer at phys 0x${x016(mp.phys)}${bounce}, ${mp.state}`;
  }

  private emit(kind: DataCheckKind, title: string, what: string[], access: DataCheckAccess, r: number, rel: number, missing: string, bytes: number, mappingText?: string): void {
    const mapping = this.mapping(r, rel);
    const caller = callerLocation();
    const lines = [SEP, `BUG: DMA-API ${title}`, ...what, mappingText ?? this.mappingLine(mapping), `Missing: ${missing}`, `Caller: ${caller}`, SEP];
    for (const l of lines) this.log.printk(KERN_ERR, l);
    this.list.push({ kind, title, access, mapping, missing, bytes, caller, lines });
  }

  private reportOwned(r: number, off: number, len: number, write: boolean, rel: number): void {
    const phys = this.physOf(off);
    const unmap = this.unmapName(r);
    const missing = this.regions.kind[r] === K_PAGES
      ? `${this.syncName(r, true)}() before the CPU ${write ? 'writes' : 'reads'} (the buffer was handed to the device)`
      : `${this.syncName(r, true)}() (or ${unmap}()) before the CPU ${write ? 'writes' : 'reads'}`;
    this.emit('cpu-access-device-owned', `data race: CPU ${write ? 'write to' : 'read of'} a DMA buffer the device owns`, [
      `${write ? 'Write' : 'Read'} of size ${len} at phys 0x${x016(phys)} by CPU 0`,
    ], { by: 'CPU 0', op: write ? 'write' : 'read', phys, size: len }, r, rel, missing, len);
  }

  private reportShared(r: number, off: number, len: number, lineOff: number): void {
    const phys = this.physOf(off);
    this.emit('cpu-write-shared-cacheline', 'data race: CPU write to a cacheline shared with a DMA buffer the device owns', [
      `Write of size ${len} at phys 0x${x016(phys)} by CPU 0, in cacheline 0x${x016(this.physOf(lineOff))}`,
    ], { by: 'CPU 0', op: 'write', phys, size: len }, r, 0,
    `the CPU must leave every cacheline of a ${dir2name[this.regions.dir[r] as number]} buffer alone until ${this.unmapName(r)}(): align and size DMA buffers to dma_get_cache_alignment() (ARCH_DMA_MINALIGN)`, len);
  }

  private reportWriteback(s: StaleLine, changed: number, first: number): void {
    const cause = this.lastEvent();
    const r = s.region;
    const phys = this.physOf(s.off);
    const rel = r === NONE ? 0 : this.relOf(r, s.off + first);
    let missing: string;
    if (s.dirtied === D_CPU_WRITE_NEAR_BUFFER) {
      missing = `the CPU wrote phys 0x${x016(s.dirtiedAt)}, outside the buffer but in one of its cachelines, while the device owned it: align and size DMA buffers to dma_get_cache_alignment() (ARCH_DMA_MINALIGN)`;
    } else if (s.dirtied === D_CPU_WRITE_IN_BUFFER && r !== NONE) {
      missing = `${this.syncName(r, true)}() before the CPU wrote the buffer at phys 0x${x016(s.dirtiedAt)}: it dirtied a line holding data from before the device wrote`;
    } else if (r !== NONE) {
      missing = `a clean before the device wrote: the CPU's dirty line was never cleaned (${(this.regions.attrs[r] as number) & DMA_ATTR_SKIP_CPU_SYNC ? `${this.regions.call[r]}() had DMA_ATTR_SKIP_CPU_SYNC; ` : ''}${this.syncName(r, false)}() after the CPU's last write)`;
    } else {
      missing = 'dma_map_single() (which cleans) before the device writes: no live mapping covered the line, and the CPU\'s dirty copy was never cleaned';
    }
    this.emit('writeback-over-dma-data', 'lost DMA data: dirty cacheline written back over data the device wrote', [
      `Write-back of cacheline 0x${x016(phys)} by ${cause}`,
      `${changed} byte${changed === 1 ? '' : 's'} ${s.dev.driver} ${s.dev.name} wrote from phys 0x${x016(this.physOf(s.off + first))} were overwritten with older CPU data`,
    ], { by: cause, op: 'writeback', phys, size: this.lineSize }, r, rel, missing, changed);
  }

  private reportDiscard(c: DiscardCandidate, lost: number, first: number): void {
    const r = c.region;
    const phys = this.physOf(c.off);
    const dir = dir2name[this.regions.dir[r] as number];
    this.emit('cpu-write-discarded', 'lost CPU data: dirty cacheline invalidated before it was cleaned', [
      `Invalidation of cacheline 0x${x016(phys)} by dcache_inval_poc() of [0x${x016(this.physOf(c.evOff))}, +${c.evLen})`,
      `${lost} byte${lost === 1 ? '' : 's'} the CPU wrote from phys 0x${x016(this.physOf(first))}, in a part of the buffer it owned, were never cleaned to RAM and are gone`,
    ], { by: 'dcache_inval_poc()', op: 'invalidate', phys, size: this.lineSize }, r, this.relOf(r, first),
    `${this.syncName(r, false)}() after the CPU writes the buffer: ${this.syncName(r, true)}() and ${this.unmapName(r)}() of a ${dir} buffer invalidate it for the CPU (arch_sync_dma_for_cpu()), which discards a dirty line the CPU never cleaned`, lost);
  }

  // ---- DmaDebugHooks: the mappings and their ownership ----------------------------------------

  caller(fn: DmaApiCall): void {
    this.pendingCall = fn;
  }

  map_single(): void {
    this.pendingCall = 'dma_map_single';
  }

  map_phys(dev: Device, phys: number, size: number, dir: DmaDirection, addr: number, attrs: number): void {
    this.settle();
    const call = this.takeCall('dma_map_phys');
    if (addr === DMA_MAPPING_ERROR || (attrs & DMA_ATTR_MMIO)) return;
    this.addRegion(dev, K_MAP, call, phys, addr, size, dir, attrs, false);
  }

  unmap_phys(dev: Device, addr: number, _size: number, _dir: DmaDirection, attrs = 0): void {
    this.settle();
    const r = this.findRegion(dev, addr, 0, true, K_MAP);
    const t = this.regions;
    if (r !== NONE && (attrs & DMA_ATTR_SKIP_CPU_SYNC) && t.bounced(r) && t.dir[r] !== DMA_TO_DEVICE && ((t.flags[r] as number) & F_DEV_WROTE)) this.reportBounceLost(r);
    this.removeRegion(r);
  }

  /**
   * (f) swiotlb_tbl_unmap_single() copies the slot back only without DMA_ATTR_SKIP_CPU_SYNC: an
   * unmap with it, after the device wrote and with no sync_for_cpu since, loses the data.
   */
  private reportBounceLost(r: number): void {
    const t = this.regions;
    const dev = t.dev[r] as Device;
    const by = `${dev.driver} ${dev.name}`;
    const dma = t.dma[r] as number;
    const dmaPhys = t.dmaPhys[r] as number;
    const size = t.size[r] as number;
    this.emit('bounce-data-lost', 'lost DMA data: the device\'s data stayed in the swiotlb slot', [
      `${UNMAP_OF[t.call[r] as string] ?? 'The unmap'}(..., DMA_ATTR_SKIP_CPU_SYNC) of dma 0x${x016(dma)} freed the slot at phys 0x${x016(dmaPhys)} without copying what ${by} wrote to the buffer at phys 0x${x016(t.phys[r] as number)}`,
    ], { by, op: 'write', phys: dmaPhys, size, dma }, r, 0,
    `${this.syncName(r, true)}() before ${this.unmapName(r)}(..., DMA_ATTR_SKIP_CPU_SYNC): with the attribute swiotlb does not bounce the slot back`, size);
  }

  mapping_error(): void {}

  map_sg(dev: Device, sgl: Scatterlist[], _nents: number, mapped: number, dir: DmaDirection, attrs: number): void {
    this.settle();
    const call = this.takeCall('dma_map_sg');
    for (let i = 0; i < mapped; i++) {
      const s = sgl[i] as Scatterlist;
      this.addRegion(dev, K_SG, call, sg_phys(s), s.dma_address, s.dma_length, dir, attrs, false);
    }
  }

  unmap_sg(dev: Device, sgl: Scatterlist[], nelems: number): void {
    this.settle();
    for (let i = 0; i < nelems; i++) {
      const s = sgl[i] as Scatterlist;
      this.removeRegion(this.findRegion(dev, s.dma_address, 0, true, K_SG));
    }
  }

  alloc_coherent(dev: Device, size: number, handle: number): void {
    this.pendingCall = null;
    if (handle === DMA_MAPPING_ERROR) return;
    this.coherent.push({ dev, dma: handle, size, phys: dev.dmaToPhys(handle, 1) });
  }

  /** The buffer's pages go back to their allocator (or the atomic pool): what the device wrote there is no one's. */
  free_coherent(dev: Device, size: number, _virt: number, handle: number): void {
    this.settle();
    const i = this.coherent.findIndex((c) => c.dev === dev && c.dma === handle);
    if (i >= 0) this.coherent.splice(i, 1);
    for (let at = 0; at < size; at += PAGE_SIZE) {
      const n = Math.min(PAGE_SIZE - ((handle + at) % PAGE_SIZE), size - at);
      const phys = dev.dmaToPhys(handle + at, n);
      if (phys >= 0) this.forget(phys, n);
    }
  }

  /**
   * Memory changed owner (freed, allocated, handed out by the slab): every record of what a
   * device wrote there, and of the cache's older copy, dies with the old owner's claim on it.
   */
  forget(phys: number, len: number): void {
    if (this.stale.size === 0) return;
    const off = this.m.physToOffset(phys, len);
    if (off < 0) return;
    this.settle();
    this.dropRange(off, len);
  }

  alloc_pages(dev: Device, phys: number, size: number, dir: DmaDirection, handle: number): void {
    this.settle();
    this.addRegion(dev, K_PAGES, this.takeCall('dma_alloc_pages'), phys, handle, size, dir, 0, true);
  }

  free_pages(dev: Device, _phys: number, _size: number, _dir: DmaDirection, handle: number): void {
    this.settle();
    this.removeRegion(this.findRegion(dev, handle, 0, true, K_PAGES));
  }

  private sync(dev: Device, addr: number, size: number, toCpu: boolean): void {
    const r = this.findRegion(dev, addr, size, false, -1);
    if (r === NONE) return;
    const start = this.regions.dma[r] as number;
    this.regions.give(r, addr - start, addr - start + size, toCpu);
  }

  sync_single_for_cpu(dev: Device, addr: number, size: number): void {
    this.settle();
    this.sync(dev, addr, size, true);
  }

  sync_single_for_device(dev: Device, addr: number, size: number): void {
    this.settle();
    this.sync(dev, addr, size, false);
  }

  sync_sg_for_cpu(dev: Device, sgl: Scatterlist[], nelems: number): void {
    this.settle();
    for (let i = 0; i < nelems; i++) this.sync(dev, (sgl[i] as Scatterlist).dma_address, (sgl[i] as Scatterlist).dma_length, true);
  }

  sync_sg_for_device(dev: Device, sgl: Scatterlist[], nelems: number): void {
    this.settle();
    for (let i = 0; i < nelems; i++) this.sync(dev, (sgl[i] as Scatterlist).dma_address, (sgl[i] as Scatterlist).dma_length, false);
  }

  driver_unbound(): void {
    this.settle();
  }

  /** Live mappings the checker follows (for tests and tools). */
  get liveRegions(): number {
    return this.regions.count;
  }
}
