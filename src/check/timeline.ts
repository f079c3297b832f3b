// The timeline recorder behind m.trace.start()/stop(): Chrome trace-event JSON (the "JSON Array
// Format" with a traceEvents list, which ui.perfetto.dev and chrome://tracing open) of what the
// machine did, on the simulated clock:
//
//   process 1 "CPUs", a thread per CPU: each DMA API call as a complete ("X") slice named after its
//     tracepoint, with the tracepoint's fields as args; WARNs, dma-debug errors and data-check
//     reports as instant events, with a flow arrow from the mapping's map slice when the report
//     names a mapping;
//   process 2 "devices", a thread per device: its DMA reads and writes as slices, bounces;
//   counters on process 1: dirty lines, lines owned by devices, swiotlb slots used, IOVA pages
//   mapped, store-buffer depth, barriers.
//
// It listens on the same hooks as the kernel's tracepoints (src/dma/trace.ts), so recording
// costs nothing while it is off.

import type { DmaDirection } from '../include/dma-mapping.js';
import type { Device } from '../dma/device.js';
import type { DmaTraceHooks } from '../dma/trace.js';
import type { Scatterlist } from '../dma/scatterlist.js';
import { sg_dma_address, sg_dma_len } from '../dma/scatterlist.js';
import type { KernelLog } from '../lib/printk.js';
import type { DataCheckReport } from './dma-data-check.js';

/** One event of the trace-event format (the fields dmasim writes). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 'C' | 'M' | 's' | 'f';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  s?: 'g' | 'p' | 't';
  id?: number;
  bp?: 'e';
  args?: Record<string, unknown>;
}

/** What m.trace.stop() returns: JSON.stringify() it into a .json file. */
export interface TraceEventJson {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ns';
  otherData: Record<string, string>;
}

/** What the recorder reads from the machine, handed in by machine.ts. */
export interface TimelineHost {
  now(): number;
  readonly log: KernelLog;
  readonly dataCheck: { readonly reports: readonly DataCheckReport[] } | null;
  readonly lineSize: number;
  swiotlbSlotsUsed(): number;
  storeBufferDepth(): number;
  /** Dirty lines in the CPU cache (a pass over the cache's tags). */
  dirtyLines(): number;
  /** DSBs of DMA maintenance plus the driver's own barriers, so far. */
  barriers(): number;
}

const CPU_PID = 1;
const DEV_PID = 2;
/** The dirty-line count needs a pass over the cache: taken every this many calls, and at the ends. */
const DIRTY_SAMPLE_EVERY = 4096;
const IOVA_PAGE = 4096;
const DIRS = ['BIDIRECTIONAL', 'TO_DEVICE', 'FROM_DEVICE', 'NONE'];

/** The args of each slice, in the order its hook records them; ':hex' and ':dir' say how to print. */
const SLICE_ARGS = {
  dma_map_phys: ['phys_addr:hex', 'dma_addr:hex', 'size', 'dir:dir', 'attrs'],
  dma_unmap_phys: ['dma_addr:hex', 'size', 'dir:dir', 'attrs'],
  dma_map_sg: ['segments', 'nents', 'ents', 'dir:dir', 'attrs'],
  dma_map_sg_err: ['nents', 'err', 'dir:dir', 'attrs'],
  dma_unmap_sg: ['nents', 'dir:dir', 'attrs'],
  dma_sync_single_for_cpu: ['dma_addr:hex', 'size', 'dir:dir'],
  dma_sync_single_for_device: ['dma_addr:hex', 'size', 'dir:dir'],
  dma_sync_sg_for_cpu: ['nents', 'dir:dir'],
  dma_sync_sg_for_device: ['nents', 'dir:dir'],
  dma_alloc: ['virt_addr:hex', 'dma_addr:hex', 'size', 'dir:dir', 'gfp:hex', 'attrs'],
  dma_free: ['virt_addr:hex', 'dma_addr:hex', 'size', 'dir:dir', 'attrs'],
  dma_alloc_pages: ['virt_addr:hex', 'dma_addr:hex', 'size', 'dir:dir', 'gfp:hex', 'attrs'],
  dma_free_pages: ['virt_addr:hex', 'dma_addr:hex', 'size', 'dir:dir', 'attrs'],
} as const satisfies Readonly<Record<string, readonly string[]>>;

const COUNTERS = ['lines owned by devices', 'swiotlb slots used', 'IOVA pages mapped', 'store-buffer depth', 'barriers', 'dirty lines'] as const;

/**
 * The live mappings by device and DMA address, for the counters and for linking a report to its
 * map slice: each a slot of typed arrays (when its map slice began, its lines and IOVA pages,
 * whether the device owns it). The newest mapping is held apart, outside the maps, until another
 * is added while it is still mapped: a map followed by its unmap (a streaming mapping's life)
 * then touches no map at all. An unmapped slot stays under its address, dead, and a mapping at
 * the same address takes it again (a ring maps the same buffers over and over), so tracking a
 * mapping neither allocates nor rehashes; dead slots are swept when they outnumber live ones.
 */
class LiveMappings {
  private readonly byDev = new Map<Device, Map<number, number>>();
  private lastDev: Device | null = null;
  private lastMap: Map<number, number> = new Map();
  ts = new Float64Array(64);
  lines = new Float64Array(64);
  iovaPages = new Float64Array(64);
  ownedByDevice = new Uint8Array(64);
  private alive = new Uint8Array(64);
  private readonly free: number[] = [];
  private used = 0;
  private dead = 0;
  /** The newest mapping, in no map (-1: none). */
  private newest = -1;
  private newestDev: Device | null = null;
  private newestAddr = -1;

  private slots(dev: Device): Map<number, number> {
    if (dev === this.lastDev) return this.lastMap;
    let byAddr = this.byDev.get(dev);
    if (byAddr === undefined) this.byDev.set(dev, byAddr = new Map());
    this.lastDev = dev;
    this.lastMap = byAddr;
    return byAddr;
  }

  /** A new mapping at (dev, addr), owned by the device; one at the same address is replaced. */
  add(dev: Device, addr: number, ts: number, lines: number, iovaPages: number): void {
    const i = this.slotFor(dev, addr);
    this.ts[i] = ts;
    this.lines[i] = lines;
    this.iovaPages[i] = iovaPages;
    this.ownedByDevice[i] = 1;
    this.alive[i] = 1;
  }

  private slotFor(dev: Device, addr: number): number {
    const n = this.newest;
    if (n >= 0 && addr === this.newestAddr && dev === this.newestDev) return n;
    // The newest goes into its device's map if still mapped; if not, its slot is free again.
    let spare = -1;
    if (n >= 0 && this.alive[n] === 1) this.slots(this.newestDev as Device).set(this.newestAddr, n);
    else spare = n;
    this.newest = -1;
    const byAddr = this.slots(dev);
    const i = byAddr.size === 0 ? undefined : byAddr.get(addr);
    if (i !== undefined) {
      if (this.alive[i] === 0) this.dead--;
      if (spare >= 0) this.free.push(spare);
      return i;
    }
    this.newest = spare >= 0 ? spare : this.free.pop() ?? this.grow();
    this.newestDev = dev;
    this.newestAddr = addr;
    return this.newest;
  }

  /** The slot of the live mapping (dev, addr), or -1. */
  find(dev: Device, addr: number): number {
    const n = this.newest;
    if (n >= 0 && addr === this.newestAddr && dev === this.newestDev) return this.alive[n] === 1 ? n : -1;
    const i = this.slots(dev).get(addr);
    return i !== undefined && this.alive[i] === 1 ? i : -1;
  }

  /** The slot of the live mapping at addr of the device named `device`, or -1. */
  findByName(device: string, addr: number): number {
    for (const [dev] of this.byDev) if (dev.name === device) return this.find(dev, addr);
    return -1;
  }

  /** The mapping at slot i (from find()) is gone. */
  remove(i: number): void {
    this.alive[i] = 0;
    if (i === this.newest) return;
    if (++this.dead > 1024 && this.dead > this.used - this.free.length - this.dead) this.sweep();
  }

  private sweep(): void {
    for (const byAddr of this.byDev.values()) {
      for (const [addr, i] of byAddr) {
        if (this.alive[i] === 1) continue;
        byAddr.delete(addr);
        this.free.push(i);
      }
    }
    this.dead = 0;
  }

  private grow(): number {
    const i = this.used++;
    if (i === this.ts.length) {
      const more = <T extends Float64Array | Uint8Array>(a: T, b: T): T => { b.set(a); return b; };
      this.ts = more(this.ts, new Float64Array(2 * i));
      this.lines = more(this.lines, new Float64Array(2 * i));
      this.iovaPages = more(this.iovaPages, new Float64Array(2 * i));
      this.ownedByDevice = more(this.ownedByDevice, new Uint8Array(2 * i));
      this.alive = more(this.alive, new Uint8Array(2 * i));
    }
    return i;
  }
}

/** Slice names by index, for the tape. */
const SLICE_NAMES = Object.keys(SLICE_ARGS);
/** Their indexes, as the hooks record them. */
const S = Object.fromEntries(SLICE_NAMES.map((n, i) => [n, i])) as Readonly<Record<keyof typeof SLICE_ARGS, number>>;

/** Record kinds on the tape. */
const R_SLICE = 0;
const R_READ = 1;
const R_WRITE = 2;
const R_BOUNCE = 3;
/**
 * A record's first double packs its kind, its slice name, which counters changed as the slice
 * ended, and its device: kind + 4 name + 64 changed + 4096 device.
 */
const NAME_UNIT = 4;
const NAMES = 16;
const CHANGED_UNIT = 64;
const DEV_UNIT = 4096;
/**
 * A slice record: the code, start, end, its args (as many as SLICE_ARGS names), then the value of
 * each counter that changed since the last record, in COUNTERS order. A counter is written only
 * when it changes, as Perfetto holds a counter's value until its next event; so a record is a few
 * stores and little memory, and the tape stays small.
 */
const SLICE_HEAD = 3;
/** A bus record: the code, ts, address, length. */
const BUS_REC = 4;
/** Args per slice, by name index. */
const NARGS = Object.values(SLICE_ARGS).map((a) => a.length);

/** Doubles per chunk of the tape (512 KiB). */
const CHUNK = 1 << 16;
/**
 * The chunks of finished recordings, kept for the next (up to four), as the kernel keeps its
 * ring buffer's pages from one tracing session to the next: a new recording then writes to
 * memory already mapped rather than taking a page fault every 4 KiB of its first chunks.
 */
const spareChunks: Float64Array[] = [];
const MAX_SPARE_CHUNKS = 4;

/**
 * What is recorded, raw, as records of doubles in chunks of typed arrays (a few stores per
 * event; a full chunk is kept and a new one started, so nothing is copied as the recording
 * grows); finish() formats them, as the kernel's ring buffer keeps binary fields and formats
 * at read. Values that are not numbers (a scatterlist's segments) go to a side list and the
 * record holds their index.
 */
class Tape {
  readonly chunks: Float64Array[] = [];
  /** Where the records of each full chunk end. */
  readonly ends: number[] = [];
  /** The chunk being written and the offset of its next record. */
  f = newChunk();
  n = 0;
  readonly extra: unknown[] = [];

  constructor() {
    this.chunks.push(this.f);
  }

  /** Room for a record of `len` doubles in `f`; returns its offset. */
  next(len: number): number {
    if (this.n + len > CHUNK) {
      this.ends.push(this.n);
      this.f = newChunk();
      this.chunks.push(this.f);
      this.n = 0;
    }
    const at = this.n;
    this.n += len;
    return at;
  }

  /** Each record in order: its chunk and offset. */
  forEach(fn: (f: Float64Array, at: number) => void): void {
    this.chunks.forEach((f, c) => {
      const end = this.ends[c] ?? this.n;
      for (let at = 0; at < end; at += recordLength(f[at] as number)) fn(f, at);
    });
  }

  /** The tape is read: its chunks go to the next recording. */
  release(): void {
    for (const f of this.chunks.splice(0)) if (spareChunks.length < MAX_SPARE_CHUNKS) spareChunks.push(f);
  }
}

/** Doubles in the record whose code is `code`. */
function recordLength(code: number): number {
  if (code % NAME_UNIT !== R_SLICE) return BUS_REC;
  return SLICE_HEAD + (NARGS[Math.floor(code / NAME_UNIT) % NAMES] as number) + popcount(Math.floor(code / CHANGED_UNIT) % CHANGED_UNIT);
}

/** Set bits of each 6-bit changed-counters mask. */
const POPCOUNT = Uint8Array.from({ length: CHANGED_UNIT }, (_, bits) => {
  let n = 0;
  for (let b = bits; b !== 0; b &= b - 1) n++;
  return n;
});

function popcount(bits: number): number {
  return POPCOUNT[bits] as number;
}

function newChunk(): Float64Array {
  return spareChunks.pop() ?? new Float64Array(CHUNK);
}

/** An instant event; `from`: when the map slice of the mapping it names began (-1: none). */
type Instant = readonly [ts: number, name: string, cat: string, args: Record<string, unknown>, from: number];

export class TimelineRecorder implements DmaTraceHooks {
  private readonly tape = new Tape();
  private readonly instants: Instant[] = [];
  /** Device names by index, for the tape. */
  private readonly devs = new Map<Device, number>();
  private readonly devNames: string[] = [];
  /** The counters when recording began: [ns, the six counters]. */
  private readonly first: number[];
  /** Each counter's value as last recorded (the dirty lines: as last scanned). */
  private readonly last = new Float64Array(COUNTERS.length);
  private readonly live = new LiveMappings();
  /** The device of the last record and its code (a run of calls is one device's, mostly). */
  private lastDev: Device | null = null;
  private lastDevCode = 0;
  private begin = -1;
  private readonly log: KernelLog;
  private logSeq: number;
  private readonly dataCheck: { readonly reports: readonly DataCheckReport[] } | null;
  private reportsSeen: number;
  /** Slices left before the next pass over the cache for the dirty-line count. */
  private untilDirtyScan = DIRTY_SAMPLE_EVERY;
  private ownedLines = 0;
  private iovaPages = 0;

  constructor(private readonly host: TimelineHost) {
    this.log = host.log;
    this.logSeq = host.log.nextSeq;
    this.dataCheck = host.dataCheck;
    this.reportsSeen = host.dataCheck?.reports.length ?? 0;
    this.first = this.counters(host.now());
    this.last.set(this.first.slice(1));
  }

  // ---- slices on the CPU track ----------------------------------------------------------------

  dma_api_enter(): void {
    this.begin = this.host.now();
  }

  /** The device's part of a record's code. */
  private devCode(dev: Device): number {
    if (dev === this.lastDev) return this.lastDevCode;
    let i = this.devs.get(dev);
    if (i === undefined) {
      this.devs.set(dev, i = this.devNames.length);
      this.devNames.push(dev.name);
    }
    this.lastDev = dev;
    this.lastDevCode = i * DEV_UNIT;
    return this.lastDevCode;
  }

  /**
   * Closes the slice the last dma_api_enter() opened (or an empty one at now) with its args (up
   * to six; those past the name's count are not kept) and the counters that changed; returns its
   * start.
   */
  private slice(name: number, dev: Device, a0: number, a1: number, a2: number, a3: number, a4 = 0, a5 = 0): number {
    const h = this.host;
    const end = h.now();
    const start = this.begin >= 0 && this.begin <= end ? this.begin : end;
    this.begin = -1;
    // The counters, and which of them changed (COUNTERS order).
    const owned = this.ownedLines;
    const slots = h.swiotlbSlotsUsed();
    const iova = this.iovaPages;
    const depth = h.storeBufferDepth();
    const barriers = h.barriers();
    const dirty = --this.untilDirtyScan === 0 ? this.dirtyScan() : -1;
    const l = this.last;
    const changed = (owned !== l[0] ? 1 : 0) | (slots !== l[1] ? 2 : 0) | (iova !== l[2] ? 4 : 0) |
      (depth !== l[3] ? 8 : 0) | (barriers !== l[4] ? 16 : 0) | (dirty >= 0 && dirty !== l[5] ? 32 : 0);
    const nargs = NARGS[name] as number;
    const t = this.tape;
    const at = t.next(SLICE_HEAD + nargs + (changed === 0 ? 0 : popcount(changed)));
    const f = t.f;
    f[at] = R_SLICE + name * NAME_UNIT + changed * CHANGED_UNIT + this.devCode(dev);
    f[at + 1] = start;
    f[at + 2] = end;
    f[at + 3] = a0;
    f[at + 4] = a1;
    if (nargs > 2) f[at + 5] = a2;
    if (nargs > 3) f[at + 6] = a3;
    if (nargs > 4) f[at + 7] = a4;
    if (nargs > 5) f[at + 8] = a5;
    let v = at + SLICE_HEAD + nargs;
    if ((changed & 1) !== 0) f[v++] = l[0] = owned;
    if ((changed & 2) !== 0) f[v++] = l[1] = slots;
    if ((changed & 4) !== 0) f[v++] = l[2] = iova;
    if ((changed & 8) !== 0) f[v++] = l[3] = depth;
    if ((changed & 16) !== 0) f[v++] = l[4] = barriers;
    if ((changed & 32) !== 0) f[v] = l[5] = dirty;
    this.reports(end);
    return start;
  }

  private dirtyScan(): number {
    this.untilDirtyScan = DIRTY_SAMPLE_EVERY;
    return this.host.dirtyLines();
  }

  /** A record of the device track. */
  private bus(kind: number, dev: Device, ts: number, addr: number, len: number): void {
    const t = this.tape;
    const at = t.next(BUS_REC);
    const f = t.f;
    f[at] = kind + this.devCode(dev);
    f[at + 1] = ts;
    f[at + 2] = addr;
    f[at + 3] = len;
  }

  dma_map_phys(dev: Device, phys: number, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    const ts = this.slice(S.dma_map_phys, dev, phys, addr, size, dir, attrs);
    if (addr !== -1) this.track(dev, addr, size, ts);
  }

  dma_unmap_phys(dev: Device, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    this.untrack(dev, addr);
    this.slice(S.dma_unmap_phys, dev, addr, size, dir, attrs);
  }

  dma_map_sg(dev: Device, sgl: readonly Scatterlist[], nents: number, ents: number, dir: DmaDirection, attrs: number): void {
    const segs = segments(sgl, ents);
    const list = this.tape.extra.push(segs.map(([a, l]) => `${hex(a)}+${l}`)) - 1;
    const ts = this.slice(S.dma_map_sg, dev, list, nents, ents, dir, attrs);
    for (const [a, l] of segs) this.track(dev, a, l, ts);
  }

  dma_map_sg_err(dev: Device, _sgl: readonly Scatterlist[], nents: number, err: number, dir: DmaDirection, attrs: number): void {
    this.slice(S.dma_map_sg_err, dev, nents, err, dir, attrs);
  }

  /** The unmap hook runs before the back end, so the scatterlist still holds its DMA addresses. */
  dma_unmap_sg(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection, attrs: number): void {
    for (const [a] of segments(sgl, nents)) this.untrack(dev, a);
    this.slice(S.dma_unmap_sg, dev, nents, dir, attrs, 0);
  }

  dma_sync_single_for_cpu(dev: Device, addr: number, size: number, dir: DmaDirection): void {
    this.own(dev, addr, false);
    this.slice(S.dma_sync_single_for_cpu, dev, addr, size, dir, 0);
  }

  dma_sync_single_for_device(dev: Device, addr: number, size: number, dir: DmaDirection): void {
    this.own(dev, addr, true);
    this.slice(S.dma_sync_single_for_device, dev, addr, size, dir, 0);
  }

  dma_sync_sg_for_cpu(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection): void {
    for (const [a] of segments(sgl, nents)) this.own(dev, a, false);
    this.slice(S.dma_sync_sg_for_cpu, dev, nents, dir, 0, 0);
  }

  dma_sync_sg_for_device(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection): void {
    for (const [a] of segments(sgl, nents)) this.own(dev, a, true);
    this.slice(S.dma_sync_sg_for_device, dev, nents, dir, 0, 0);
  }

  dma_alloc(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, gfp: number, attrs: number): void {
    this.slice(S.dma_alloc, dev, virt, addr, size, dir, gfp, attrs);
  }

  dma_free(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    this.slice(S.dma_free, dev, virt, addr, size, dir, attrs);
  }

  dma_alloc_pages(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, gfp: number, attrs: number): void {
    this.slice(S.dma_alloc_pages, dev, virt, addr, size, dir, gfp, attrs);
  }

  dma_free_pages(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    this.slice(S.dma_free_pages, dev, virt, addr, size, dir, attrs);
  }

  /** A bounce is an instant on the device's track (the copy itself is inside the map slice). */
  swiotlb_bounced(dev: Device, devAddr: number, size: number): void {
    this.bus(R_BOUNCE, dev, this.host.now(), devAddr, size);
  }

  device_access(dev: Device, addr: number, len: number, write: boolean): void {
    const ts = this.host.now();
    this.bus(write ? R_WRITE : R_READ, dev, ts, addr, len);
    this.reports(ts);
  }

  // ---- what the device owns, for the counters ---------------------------------------------------

  private track(dev: Device, addr: number, size: number, ts: number): void {
    const lines = Math.ceil(size / this.host.lineSize);
    const iovaPages = dev.dma_iommu ? Math.ceil(((addr % IOVA_PAGE) + size) / IOVA_PAGE) : 0;
    this.live.add(dev, addr, ts, lines, iovaPages);
    this.ownedLines += lines;
    this.iovaPages += iovaPages;
  }

  private untrack(dev: Device, addr: number): void {
    const l = this.live;
    const i = l.find(dev, addr);
    if (i < 0) return;
    if (l.ownedByDevice[i] === 1) this.ownedLines -= l.lines[i] as number;
    this.iovaPages -= l.iovaPages[i] as number;
    l.remove(i);
  }

  private own(dev: Device, addr: number, device: boolean): void {
    const l = this.live;
    const i = l.find(dev, addr);
    if (i < 0 || (l.ownedByDevice[i] === 1) === device) return;
    l.ownedByDevice[i] = device ? 1 : 0;
    this.ownedLines += device ? (l.lines[i] as number) : -(l.lines[i] as number);
  }

  /** When the map slice of the mapping a report names began, or -1. */
  private mapSliceStart(device: string, addr: number): number {
    const i = this.live.findByName(device, addr);
    return i < 0 ? -1 : (this.live.ts[i] as number);
  }

  // ---- counters ---------------------------------------------------------------------------------

  /** [ns, the six counters] now, the cache scanned for its dirty lines. */
  private counters(ns: number): number[] {
    const h = this.host;
    return [ns, this.ownedLines, h.swiotlbSlotsUsed(), this.iovaPages, h.storeBufferDepth(), h.barriers(), h.dirtyLines()];
  }

  // ---- WARNs, dma-debug errors and data-check reports -------------------------------------------

  /** The kernel log's new WARNs and dma-debug errors and the new data-check reports, as instants. */
  private reports(ns: number): void {
    const dc = this.dataCheck;
    if (this.log.nextSeq !== this.logSeq || (dc !== null && dc.reports.length !== this.reportsSeen)) this.newReports(ns);
  }

  private newReports(ns: number): void {
    const log = this.log;
    if (log.nextSeq !== this.logSeq) {
      for (const text of log.textsSince(this.logSeq)) this.logLine(ns, text);
      this.logSeq = log.nextSeq;
    }
    const dc = this.dataCheck;
    if (dc !== null && dc.reports.length !== this.reportsSeen) {
      for (const r of dc.reports.slice(this.reportsSeen)) this.dataCheckReport(ns, r);
      this.reportsSeen = dc.reports.length;
    }
  }

  private logLine(ns: number, text: string): void {
    if (text.startsWith('WARNING: ')) {
      this.instants.push([ns, 'WARN', 'warn', { text }, -1]);
      return;
    }
    const at = /^DMA-API: \S+ (\S+):.*\[device address=0x([0-9a-f]+)\]/.exec(text);
    if (at !== null) this.instants.push([ns, 'dma-debug', 'dma-debug', { text }, this.mapSliceStart(at[1] as string, Number.parseInt(at[2] as string, 16))]);
  }

  private dataCheckReport(ns: number, r: DataCheckReport): void {
    const mp = r.mapping;
    this.instants.push([ns, `data-check: ${r.kind}`, 'data-check', {
      title: r.title, missing: r.missing, bytes: r.bytes, access: r.access, mapping: mp,
    }, mp === null ? -1 : this.mapSliceStart(mp.device, mp.dma)]);
  }

  // ---- the trace-event JSON -----------------------------------------------------------------------

  /** The trace so far, with a last sample of every counter. */
  finish(otherData: Record<string, string>): TraceEventJson {
    const now = this.host.now();
    this.reports(now);
    const us = (ns: number): number => ns / 1000;
    const out: TraceEvent[] = [
      { name: 'process_name', ph: 'M', pid: CPU_PID, tid: 0, args: { name: 'CPUs' } },
      { name: 'thread_name', ph: 'M', pid: CPU_PID, tid: 0, args: { name: 'CPU 0' } },
      { name: 'process_name', ph: 'M', pid: DEV_PID, tid: 0, args: { name: 'devices' } },
    ];
    const tids = new Map<string, number>();
    const devTid = (name: string): number => {
      let tid = tids.get(name);
      if (tid === undefined) {
        tids.set(name, tid = tids.size + 1);
        out.push({ name: 'thread_name', ph: 'M', pid: DEV_PID, tid, args: { name } });
      }
      return tid;
    };
    // A counter event only where the value changed: Perfetto holds a counter until its next one.
    const counterEvents: TraceEvent[] = [];
    const lastValue = COUNTERS.map(() => -1);
    const counter = (i: number, ns: number, value: number): void => {
      if (lastValue[i] === value) return;
      lastValue[i] = value;
      counterEvents.push({ name: COUNTERS[i] as string, ph: 'C', pid: CPU_PID, tid: 0, ts: us(ns), args: { value } });
    };
    const sampleAll = ([ns, ...values]: readonly number[]): void => values.forEach((v, i) => counter(i, ns as number, v));
    sampleAll(this.first);
    const { extra } = this.tape;
    this.tape.forEach((f, at) => {
      const code = f[at] as number;
      const kind = code % NAME_UNIT;
      const ts = us(f[at + 1] as number);
      const device = this.devNames[Math.floor(code / DEV_UNIT)] as string;
      if (kind === R_SLICE) {
        const n = Math.floor(code / NAME_UNIT) % NAMES;
        const name = SLICE_NAMES[n] as string;
        const nargs = NARGS[n] as number;
        const values = Array.from(f.subarray(at + SLICE_HEAD, at + SLICE_HEAD + nargs)) as unknown[];
        if (name === 'dma_map_sg') values[0] = extra[values[0] as number];
        const end = f[at + 2] as number;
        out.push({ name, cat: 'dma', ph: 'X', pid: CPU_PID, tid: 0, ts, dur: us(end) - ts, args: sliceArgs(name, device, values) });
        const changed = Math.floor(code / CHANGED_UNIT) % CHANGED_UNIT;
        let v = at + SLICE_HEAD + nargs;
        for (let i = 0; i < COUNTERS.length; i++) if ((changed & (1 << i)) !== 0) counter(i, end, f[v++] as number);
      } else if (kind === R_BOUNCE) {
        out.push({ name: 'swiotlb_bounced', cat: 'swiotlb', ph: 'i', s: 't', pid: DEV_PID, tid: devTid(device), ts, args: { dev_addr: hex(f[at + 2] as number), size: f[at + 3] } });
      } else {
        out.push({ name: kind === R_WRITE ? 'DMA write' : 'DMA read', cat: 'bus', ph: 'X', pid: DEV_PID, tid: devTid(device), ts, dur: 0, args: { dma_addr: hex(f[at + 2] as number), len: f[at + 3] } });
      }
    });
    sampleAll(this.counters(now));
    let flow = 0;
    for (const [ns, name, cat, args, from] of this.instants) {
      out.push({ name, cat, ph: 'i', s: 't', pid: CPU_PID, tid: 0, ts: us(ns), args });
      if (from < 0) continue;
      // A flow arrow from the map slice of the mapping the report names.
      flow++;
      out.push({ name: 'mapping', cat: 'link', ph: 's', id: flow, pid: CPU_PID, tid: 0, ts: us(from) });
      out.push({ name: 'mapping', cat: 'link', ph: 'f', bp: 'e', id: flow, pid: CPU_PID, tid: 0, ts: us(ns) });
    }
    for (const e of counterEvents) out.push(e);
    this.tape.release();
    return { traceEvents: out, displayTimeUnit: 'ns', otherData };
  }
}

/** A slice's args by name, numbers printed as SLICE_ARGS says. */
function sliceArgs(name: string, device: string, values: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = { device };
  ((SLICE_ARGS as Readonly<Record<string, readonly string[]>>)[name] ?? []).forEach((spec, i) => {
    const [key, how] = spec.split(':') as [string, string | undefined];
    const v = values[i];
    out[key] = how === 'hex' ? hex(v as number) : how === 'dir' ? DIRS[v as number] ?? v : v;
  });
  return out;
}

function hex(v: number): string {
  return v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** [dma address, length] of the first n entries. */
function segments(sgl: readonly Scatterlist[], n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < n && i < sgl.length; i++) out.push([sg_dma_address(sgl[i] as Scatterlist), sg_dma_len(sgl[i] as Scatterlist)]);
  return out;
}
