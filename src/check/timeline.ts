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
const SLICE_ARGS: Readonly<Record<string, readonly string[]>> = {
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
};

const COUNTERS = ['lines owned by devices', 'swiotlb slots used', 'IOVA pages mapped', 'store-buffer depth', 'barriers', 'dirty lines'] as const;

interface LiveMapping {
  /** The map slice's start, in ns. */
  readonly ts: number;
  readonly lines: number;
  readonly iovaPages: number;
  ownedByDevice: boolean;
}

/** Slice names by index, for the tape. */
const SLICE_NAMES = Object.keys(SLICE_ARGS);
const SLICE_INDEX = new Map(SLICE_NAMES.map((n, i) => [n, i]));

/** Record kinds on the tape. */
const R_SLICE = 0;
const R_READ = 1;
const R_WRITE = 2;
const R_BOUNCE = 3;
/** Doubles per tape record: kind, name, start, end, device, then up to six values. */
const REC = 11;

/**
 * What is recorded, raw, as fixed-size records of doubles in one growing array (a few stores per
 * event and no allocation); finish() formats them. Values that are not numbers (a scatterlist's
 * segments) go to a side list and the record holds their index.
 */
class Tape {
  f = new Float64Array(REC * 4096);
  n = 0;
  readonly extra: unknown[] = [];

  /** Room for one more record; returns its offset. */
  next(): number {
    if (this.n + REC > this.f.length) {
      const g = new Float64Array(this.f.length * 2);
      g.set(this.f);
      this.f = g;
    }
    const at = this.n;
    this.n += REC;
    return at;
  }
}

type Instant = readonly [ts: number, name: string, cat: string, args: Record<string, unknown>, from: LiveMapping | null];

export class TimelineRecorder implements DmaTraceHooks {
  private readonly tape = new Tape();
  private readonly instants: Instant[] = [];
  /** Device names by index, for the tape. */
  private readonly devs = new Map<Device, number>();
  private readonly devNames: string[] = [];
  /** Counter samples as flat (counter index, ns, value) triples. */
  private readonly samples: number[] = [];
  private readonly lastValue: number[] = COUNTERS.map(() => -1);
  private readonly live = new Map<Device, Map<number, LiveMapping>>();
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
    let i = this.devs.get(dev);
    if (i === undefined) {
      this.devs.set(dev, i = this.devNames.length);
      this.devNames.push(dev.name);
    }
    return i;
  }

  /**
   * Closes the slice the last dma_api_enter() opened (or an empty one at now) with up to six
   * values as its args; returns its start.
   */
  private slice(name: string, dev: Device, a0: unknown, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
    const end = this.host.now();
    const start = this.begin >= 0 && this.begin <= end ? this.begin : end;
    this.begin = -1;
    const t = this.tape;
    const at = t.next();
    const f = t.f;
    f[at] = R_SLICE;
    f[at + 1] = SLICE_INDEX.get(name) as number;
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
    const ts = this.slice('dma_map_phys', dev, phys, addr, size, dir, attrs);
    if (addr !== -1) this.track(dev, addr, size, ts);
  }

  dma_unmap_phys(dev: Device, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    this.untrack(dev, addr);
    this.slice('dma_unmap_phys', dev, addr, size, dir, attrs);
  }

  dma_map_sg(dev: Device, sgl: readonly Scatterlist[], nents: number, ents: number, dir: DmaDirection, attrs: number): void {
    const segs = segments(sgl, ents);
    const ts = this.slice('dma_map_sg', dev, segs.map(([a, l]) => `${hex(a)}+${l}`), nents, ents, dir, attrs);
    for (const [a, l] of segs) this.track(dev, a, l, ts);
  }

  dma_map_sg_err(dev: Device, _sgl: readonly Scatterlist[], nents: number, err: number, dir: DmaDirection, attrs: number): void {
    this.slice('dma_map_sg_err', dev, nents, err, dir, attrs);
  }

  /** The unmap hook runs before the back end, so the scatterlist still holds its DMA addresses. */
  dma_unmap_sg(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection, attrs: number): void {
    for (const [a] of segments(sgl, nents)) this.untrack(dev, a);
    this.slice('dma_unmap_sg', dev, nents, dir, attrs);
  }

  dma_sync_single_for_cpu(dev: Device, addr: number, size: number, dir: DmaDirection): void {
    this.own(dev, addr, false);
    this.slice('dma_sync_single_for_cpu', dev, addr, size, dir);
  }

  dma_sync_single_for_device(dev: Device, addr: number, size: number, dir: DmaDirection): void {
    this.own(dev, addr, true);
    this.slice('dma_sync_single_for_device', dev, addr, size, dir);
  }

  dma_sync_sg_for_cpu(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection): void {
    for (const [a] of segments(sgl, nents)) this.own(dev, a, false);
    this.slice('dma_sync_sg_for_cpu', dev, nents, dir);
  }

  dma_sync_sg_for_device(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection): void {
    for (const [a] of segments(sgl, nents)) this.own(dev, a, true);
    this.slice('dma_sync_sg_for_device', dev, nents, dir);
  }

  dma_alloc(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, gfp: number, attrs: number): void {
    this.slice('dma_alloc', dev, virt, addr, size, dir, gfp, attrs);
  }

  dma_free(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    this.slice('dma_free', dev, virt, addr, size, dir, attrs);
  }

  dma_alloc_pages(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, gfp: number, attrs: number): void {
    this.slice('dma_alloc_pages', dev, virt, addr, size, dir, gfp, attrs);
  }

  dma_free_pages(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    this.slice('dma_free_pages', dev, virt, addr, size, dir, attrs);
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
    let byAddr = this.live.get(dev);
    if (byAddr === undefined) this.live.set(dev, byAddr = new Map());
    byAddr.set(addr, { ts, lines, iovaPages, ownedByDevice: true });
    this.ownedLines += lines;
    this.iovaPages += iovaPages;
  }

  private untrack(dev: Device, addr: number): void {
    const byAddr = this.live.get(dev);
    const l = byAddr?.get(addr);
    if (byAddr === undefined || l === undefined) return;
    if (l.ownedByDevice) this.ownedLines -= l.lines;
    this.iovaPages -= l.iovaPages;
    byAddr.delete(addr);
  }

  private own(dev: Device, addr: number, device: boolean): void {
    const l = this.live.get(dev)?.get(addr);
    if (l === undefined || l.ownedByDevice === device) return;
    l.ownedByDevice = device;
    this.ownedLines += device ? l.lines : -l.lines;
  }

  private liveByName(device: string, addr: number): LiveMapping | null {
    for (const [dev, byAddr] of this.live) if (dev.name === device) return byAddr.get(addr) ?? null;
    return null;
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
      this.instants.push([ns, 'WARN', 'warn', { text }, null]);
      return;
    }
    const at = /^DMA-API: \S+ (\S+):.*\[device address=0x([0-9a-f]+)\]/.exec(text);
    if (at !== null) this.instants.push([ns, 'dma-debug', 'dma-debug', { text }, this.liveByName(at[1] as string, Number.parseInt(at[2] as string, 16))]);
  }

  private dataCheckReport(ns: number, r: DataCheckReport): void {
    const mp = r.mapping;
    this.instants.push([ns, `data-check: ${r.kind}`, 'data-check', {
      title: r.title, missing: r.missing, bytes: r.bytes, access: r.access, mapping: mp,
    }, mp === null ? null : this.liveByName(mp.device, mp.dma)]);
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
    const { f, n, extra } = this.tape;
    for (let at = 0; at < n; at += REC) {
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
    }
    let flow = 0;
    for (const [ns, name, cat, args, from] of this.instants) {
      out.push({ name, cat, ph: 'i', s: 't', pid: CPU_PID, tid: 0, ts: us(ns), args });
      if (from === null) continue;
      // A flow arrow from the map slice of the mapping the report names.
      flow++;
      out.push({ name: 'mapping', cat: 'link', ph: 's', id: flow, pid: CPU_PID, tid: 0, ts: us(from.ts) });
      out.push({ name: 'mapping', cat: 'link', ph: 'f', bp: 'e', id: flow, pid: CPU_PID, tid: 0, ts: us(ns) });
    }
    for (let i = 0; i < this.samples.length; i += 3) {
      out.push({ name: COUNTERS[this.samples[i] as number] as string, ph: 'C', pid: CPU_PID, tid: 0, ts: us(this.samples[i + 1] as number), args: { value: this.samples[i + 2] } });
    }
    return { traceEvents: out, displayTimeUnit: 'ns', otherData };
  }
}

/** A slice's args by name, numbers printed as SLICE_ARGS says. */
function sliceArgs(name: string, device: string, values: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = { device };
  (SLICE_ARGS[name] ?? []).forEach((spec, i) => {
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
