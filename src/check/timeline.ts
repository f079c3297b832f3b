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
 * whether the device owns it). An unmapped slot stays under its address, dead, and a mapping at
 * the same address takes it again (a ring maps the same buffers over and over), so tracking a
 * mapping neither allocates nor rehashes; dead slots are swept when they outnumber live ones.
 */
class LiveMappings {
  private readonly byDev = new Map<Device, Map<number, number>>();
  private lastDev: Device | null = null;
  private lastMap: Map<number, number> | null = null;
  ts = new Float64Array(64);
  lines = new Float64Array(64);
  iovaPages = new Float64Array(64);
  ownedByDevice = new Uint8Array(64);
  private alive = new Uint8Array(64);
  private readonly free: number[] = [];
  private used = 0;
  private dead = 0;

  private slots(dev: Device, create: boolean): Map<number, number> | null {
    if (dev === this.lastDev) return this.lastMap;
    let byAddr = this.byDev.get(dev) ?? null;
    if (byAddr === null && create) this.byDev.set(dev, byAddr = new Map());
    if (byAddr !== null) {
      this.lastDev = dev;
      this.lastMap = byAddr;
    }
    return byAddr;
  }

  /** A new mapping at (dev, addr), owned by the device; one at the same address is replaced. */
  add(dev: Device, addr: number, ts: number, lines: number, iovaPages: number): void {
    const byAddr = this.slots(dev, true) as Map<number, number>;
    let i = byAddr.get(addr);
    if (i === undefined) byAddr.set(addr, i = this.free.pop() ?? this.grow());
    else if (this.alive[i] === 0) this.dead--;
    this.ts[i] = ts;
    this.lines[i] = lines;
    this.iovaPages[i] = iovaPages;
    this.ownedByDevice[i] = 1;
    this.alive[i] = 1;
    this.lastAddrDev = dev;
    this.lastAddr = addr;
    this.lastSlot = i;
  }

  /** The slot of the live mapping (dev, addr), or -1; the last one added is tried first (map, then unmap). */
  find(dev: Device, addr: number): number {
    const hit = this.lastSlot;
    if (addr === this.lastAddr && dev === this.lastAddrDev && this.alive[hit] === 1) return hit;
    const i = this.slots(dev, false)?.get(addr);
    return i !== undefined && this.alive[i] === 1 ? i : -1;
  }

  private lastAddrDev: Device | null = null;
  private lastAddr = -1;
  private lastSlot = 0;

  /** The slot of the live mapping at addr of the device named `device`, or -1. */
  findByName(device: string, addr: number): number {
    for (const [dev] of this.byDev) if (dev.name === device) return this.find(dev, addr);
    return -1;
  }

  /** The mapping at slot i (from find()) is gone. */
  remove(i: number): void {
    this.alive[i] = 0;
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
/** Doubles per tape record: kind, name, start, end, device, then up to six values. */
const REC = 11;

/** Records per chunk of the tape. */
const CHUNK_RECORDS = 4096;

/**
 * What is recorded, raw, as fixed-size records of doubles in chunks of typed arrays (a few
 * stores per event; a full chunk is kept and a new one started, so nothing is copied as the
 * recording grows); finish() formats them. Values that are not numbers (a scatterlist's
 * segments) go to a side list and the record holds their index.
 */
class Tape {
  readonly chunks: Float64Array[] = [];
  /** The chunk being written and the offset of its next record. */
  f = new Float64Array(REC * CHUNK_RECORDS);
  n = 0;
  readonly extra: unknown[] = [];

  constructor() {
    this.chunks.push(this.f);
  }

  /** Room for one more record in `f`; returns its offset. */
  next(): number {
    if (this.n === this.f.length) {
      this.f = new Float64Array(REC * CHUNK_RECORDS);
      this.chunks.push(this.f);
      this.n = 0;
    }
    const at = this.n;
    this.n += REC;
    return at;
  }

  /** Each record in order: its chunk and offset. */
  forEach(fn: (f: Float64Array, at: number) => void): void {
    const last = this.chunks.length - 1;
    this.chunks.forEach((f, c) => {
      const end = c === last ? this.n : f.length;
      for (let at = 0; at < end; at += REC) fn(f, at);
    });
  }
}

/**
 * Counter samples as (counter index, ns, value) triples, in chunks of typed arrays like the
 * tape's: a sample is three stores.
 */
class Samples {
  readonly chunks: Float64Array[] = [];
  private f = new Float64Array(3 * CHUNK_RECORDS);
  private n = 0;

  constructor() {
    this.chunks.push(this.f);
  }

  push(i: number, ns: number, value: number): void {
    if (this.n === this.f.length) {
      this.f = new Float64Array(3 * CHUNK_RECORDS);
      this.chunks.push(this.f);
      this.n = 0;
    }
    const f = this.f;
    f[this.n] = i;
    f[this.n + 1] = ns;
    f[this.n + 2] = value;
    this.n += 3;
  }

  forEach(fn: (i: number, ns: number, value: number) => void): void {
    const last = this.chunks.length - 1;
    this.chunks.forEach((f, c) => {
      const end = c === last ? this.n : f.length;
      for (let at = 0; at < end; at += 3) fn(f[at] as number, f[at + 1] as number, f[at + 2] as number);
    });
  }
}

/** An instant event; `from`: when the map slice of the mapping it names began (-1: none). */
type Instant = readonly [ts: number, name: string, cat: string, args: Record<string, unknown>, from: number];

export class TimelineRecorder implements DmaTraceHooks {
  private readonly tape = new Tape();
  private readonly instants: Instant[] = [];
  /** Device names by index, for the tape. */
  private readonly devs = new Map<Device, number>();
  private readonly devNames: string[] = [];
  private readonly samples = new Samples();
  private readonly lastValue: number[] = COUNTERS.map(() => -1);
  private readonly live = new LiveMappings();
  /** The device of the last record and its index (a run of calls is one device's, mostly). */
  private lastDev: Device | null = null;
  private lastDevIndex = 0;
  private begin = -1;
  private logSeq: number;
  private reportsSeen: number;
  private calls = 0;
  private ownedLines = 0;
  private iovaPages = 0;

  constructor(private readonly host: TimelineHost) {
    this.logSeq = host.log.nextSeq;
    this.reportsSeen = host.dataCheck?.reports.length ?? 0;
    this.sample(host.now(), true);
  }

  // ---- slices on the CPU track ----------------------------------------------------------------

  dma_api_enter(): void {
    this.begin = this.host.now();
  }

  private devIndex(dev: Device): number {
    if (dev === this.lastDev) return this.lastDevIndex;
    let i = this.devs.get(dev);
    if (i === undefined) {
      this.devs.set(dev, i = this.devNames.length);
      this.devNames.push(dev.name);
    }
    this.lastDev = dev;
    this.lastDevIndex = i;
    return i;
  }

  /**
   * Closes the slice the last dma_api_enter() opened (or an empty one at now) with up to six
   * values as its args; returns its start.
   */
  private slice(name: number, dev: Device, a0: unknown, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
    const end = this.host.now();
    const start = this.begin >= 0 && this.begin <= end ? this.begin : end;
    this.begin = -1;
    const t = this.tape;
    const at = t.next();
    const f = t.f;
    f[at] = R_SLICE;
    f[at + 1] = name;
    f[at + 2] = start;
    f[at + 3] = end;
    f[at + 4] = this.devIndex(dev);
    f[at + 5] = typeof a0 === 'number' ? a0 : t.extra.push(a0) - 1;
    f[at + 6] = a1;
    f[at + 7] = a2;
    f[at + 8] = a3;
    f[at + 9] = a4;
    f[at + 10] = a5;
    this.calls++;
    this.reports(end);
    this.sample(end, this.calls % DIRTY_SAMPLE_EVERY === 0);
    return start;
  }

  /** A record of the device track. */
  private bus(kind: number, dev: Device, ts: number, addr: number, len: number): void {
    const at = this.tape.next();
    const f = this.tape.f;
    f[at] = kind;
    f[at + 2] = ts;
    f[at + 4] = this.devIndex(dev);
    f[at + 5] = addr;
    f[at + 6] = len;
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
    const ts = this.slice(S.dma_map_sg, dev, segs.map(([a, l]) => `${hex(a)}+${l}`), nents, ents, dir, attrs);
    for (const [a, l] of segs) this.track(dev, a, l, ts);
  }

  dma_map_sg_err(dev: Device, _sgl: readonly Scatterlist[], nents: number, err: number, dir: DmaDirection, attrs: number): void {
    this.slice(S.dma_map_sg_err, dev, nents, err, dir, attrs);
  }

  /** The unmap hook runs before the back end, so the scatterlist still holds its DMA addresses. */
  dma_unmap_sg(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection, attrs: number): void {
    for (const [a] of segments(sgl, nents)) this.untrack(dev, a);
    this.slice(S.dma_unmap_sg, dev, nents, dir, attrs);
  }

  dma_sync_single_for_cpu(dev: Device, addr: number, size: number, dir: DmaDirection): void {
    this.own(dev, addr, false);
    this.slice(S.dma_sync_single_for_cpu, dev, addr, size, dir);
  }

  dma_sync_single_for_device(dev: Device, addr: number, size: number, dir: DmaDirection): void {
    this.own(dev, addr, true);
    this.slice(S.dma_sync_single_for_device, dev, addr, size, dir);
  }

  dma_sync_sg_for_cpu(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection): void {
    for (const [a] of segments(sgl, nents)) this.own(dev, a, false);
    this.slice(S.dma_sync_sg_for_cpu, dev, nents, dir);
  }

  dma_sync_sg_for_device(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection): void {
    for (const [a] of segments(sgl, nents)) this.own(dev, a, true);
    this.slice(S.dma_sync_sg_for_device, dev, nents, dir);
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

  private sample(ns: number, scanCache: boolean): void {
    const h = this.host;
    this.counter(0, ns, this.ownedLines);
    this.counter(1, ns, h.swiotlbSlotsUsed());
    this.counter(2, ns, this.iovaPages);
    this.counter(3, ns, h.storeBufferDepth());
    this.counter(4, ns, h.barriers());
    if (scanCache) this.counter(5, ns, h.dirtyLines());
  }

  /** A sample only when the value changed: Perfetto holds a counter until its next sample. */
  private counter(i: number, ns: number, value: number): void {
    if (this.lastValue[i] === value) return;
    this.lastValue[i] = value;
    this.samples.push(i, ns, value);
  }

  // ---- WARNs, dma-debug errors and data-check reports -------------------------------------------

  private reports(ns: number): void {
    const log = this.host.log;
    if (log.nextSeq !== this.logSeq) {
      for (const text of log.textsSince(this.logSeq)) this.logLine(ns, text);
      this.logSeq = log.nextSeq;
    }
    const dc = this.host.dataCheck;
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
    this.sample(now, true);
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
    const { extra } = this.tape;
    this.tape.forEach((f, at) => {
      const kind = f[at] as number;
      const ts = us(f[at + 2] as number);
      const device = this.devNames[f[at + 4] as number] as string;
      if (kind === R_SLICE) {
        const name = SLICE_NAMES[f[at + 1] as number] as string;
        const values = Array.from(f.subarray(at + 5, at + REC)) as unknown[];
        if (name === 'dma_map_sg') values[0] = extra[values[0] as number];
        out.push({ name, cat: 'dma', ph: 'X', pid: CPU_PID, tid: 0, ts, dur: us(f[at + 3] as number) - ts, args: sliceArgs(name, device, values) });
      } else if (kind === R_BOUNCE) {
        out.push({ name: 'swiotlb_bounced', cat: 'swiotlb', ph: 'i', s: 't', pid: DEV_PID, tid: devTid(device), ts, args: { dev_addr: hex(f[at + 5] as number), size: f[at + 6] } });
      } else {
        out.push({ name: kind === R_WRITE ? 'DMA write' : 'DMA read', cat: 'bus', ph: 'X', pid: DEV_PID, tid: devTid(device), ts, dur: 0, args: { dma_addr: hex(f[at + 5] as number), len: f[at + 6] } });
      }
    });
    let flow = 0;
    for (const [ns, name, cat, args, from] of this.instants) {
      out.push({ name, cat, ph: 'i', s: 't', pid: CPU_PID, tid: 0, ts: us(ns), args });
      if (from < 0) continue;
      // A flow arrow from the map slice of the mapping the report names.
      flow++;
      out.push({ name: 'mapping', cat: 'link', ph: 's', id: flow, pid: CPU_PID, tid: 0, ts: us(from) });
      out.push({ name: 'mapping', cat: 'link', ph: 'f', bp: 'e', id: flow, pid: CPU_PID, tid: 0, ts: us(ns) });
    }
    this.samples.forEach((i, ns, value) => {
      out.push({ name: COUNTERS[i] as string, ph: 'C', pid: CPU_PID, tid: 0, ts: us(ns), args: { value } });
    });
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
