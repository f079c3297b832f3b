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
const DIRTY_SAMPLE_EVERY = 256;
const IOVA_PAGE = 4096;
const DIRS = ['BIDIRECTIONAL', 'TO_DEVICE', 'FROM_DEVICE', 'NONE'];

interface LiveMapping {
  readonly ts: number;
  readonly lines: number;
  readonly iovaPages: number;
  ownedByDevice: boolean;
}

export class TimelineRecorder implements DmaTraceHooks {
  private readonly events: TraceEvent[] = [];
  private readonly devTids = new Map<string, number>();
  private readonly live = new Map<string, LiveMapping>();
  private begin = -1;
  private logSeq: number;
  private reportsSeen: number;
  private calls = 0;
  private nextFlow = 1;
  private ownedLines = 0;
  private iovaPages = 0;
  private readonly last = new Map<string, number>();

  constructor(private readonly host: TimelineHost) {
    this.logSeq = host.log.nextSeq;
    this.reportsSeen = host.dataCheck?.reports.length ?? 0;
    this.events.push(
      { name: 'process_name', ph: 'M', pid: CPU_PID, tid: 0, args: { name: 'CPUs' } },
      { name: 'thread_name', ph: 'M', pid: CPU_PID, tid: 0, args: { name: 'CPU 0' } },
      { name: 'process_name', ph: 'M', pid: DEV_PID, tid: 0, args: { name: 'devices' } },
    );
    this.sample(this.us(host.now()), true);
  }

  private us(ns: number): number {
    return ns / 1000;
  }

  // ---- slices on the CPU track ----------------------------------------------------------------

  dma_api_enter(): void {
    this.begin = this.host.now();
  }

  /** Closes the slice the last dma_api_enter() opened (or an empty one at now). */
  private slice(name: string, dev: Device, args: Record<string, unknown>): number {
    const end = this.host.now();
    const start = this.begin >= 0 && this.begin <= end ? this.begin : end;
    this.begin = -1;
    const ts = this.us(start);
    this.events.push({ name, cat: 'dma', ph: 'X', pid: CPU_PID, tid: 0, ts, dur: this.us(end) - ts, args: { device: dev.name, ...args } });
    this.afterCall(this.us(end));
    return ts;
  }

  private afterCall(ts: number): void {
    this.calls++;
    this.reports(ts);
    this.sample(ts, this.calls % DIRTY_SAMPLE_EVERY === 0);
  }

  private key(dev: Device, addr: number): string {
    return `${dev.name}@${addr}`;
  }

  dma_map_phys(dev: Device, phys: number, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    const ts = this.slice('dma_map_phys', dev, { phys_addr: hex(phys), dma_addr: hex(addr), size, dir: DIRS[dir], attrs });
    if (addr !== -1) this.track(dev, addr, size, ts);
  }

  dma_unmap_phys(dev: Device, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    this.untrack(dev, addr);
    this.slice('dma_unmap_phys', dev, { dma_addr: hex(addr), size, dir: DIRS[dir], attrs });
  }

  dma_map_sg(dev: Device, sgl: readonly Scatterlist[], nents: number, ents: number, dir: DmaDirection, attrs: number): void {
    const segs = segments(sgl, ents);
    const ts = this.slice('dma_map_sg', dev, { nents, ents, dir: DIRS[dir], attrs, segments: segs.map(([a, l]) => `${hex(a)}+${l}`) });
    for (const [a, l] of segs) this.track(dev, a, l, ts);
  }

  dma_map_sg_err(dev: Device, _sgl: readonly Scatterlist[], nents: number, err: number, dir: DmaDirection, attrs: number): void {
    this.slice('dma_map_sg_err', dev, { nents, err, dir: DIRS[dir], attrs });
  }

  /** The unmap hook runs before the back end, so the scatterlist still holds its DMA addresses. */
  dma_unmap_sg(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection, attrs: number): void {
    for (const [a] of segments(sgl, nents)) this.untrack(dev, a);
    this.slice('dma_unmap_sg', dev, { nents, dir: DIRS[dir], attrs });
  }

  dma_sync_single_for_cpu(dev: Device, addr: number, size: number, dir: DmaDirection): void {
    this.own(dev, addr, false);
    this.slice('dma_sync_single_for_cpu', dev, { dma_addr: hex(addr), size, dir: DIRS[dir] });
  }

  dma_sync_single_for_device(dev: Device, addr: number, size: number, dir: DmaDirection): void {
    this.own(dev, addr, true);
    this.slice('dma_sync_single_for_device', dev, { dma_addr: hex(addr), size, dir: DIRS[dir] });
  }

  dma_sync_sg_for_cpu(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection): void {
    for (const [a] of segments(sgl, nents)) this.own(dev, a, false);
    this.slice('dma_sync_sg_for_cpu', dev, { nents, dir: DIRS[dir] });
  }

  dma_sync_sg_for_device(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection): void {
    for (const [a] of segments(sgl, nents)) this.own(dev, a, true);
    this.slice('dma_sync_sg_for_device', dev, { nents, dir: DIRS[dir] });
  }

  dma_alloc(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, gfp: number, attrs: number): void {
    this.slice('dma_alloc', dev, { virt_addr: hex(virt), dma_addr: hex(addr), size, dir: DIRS[dir], gfp: hex(gfp), attrs });
  }

  dma_free(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    this.slice('dma_free', dev, { virt_addr: hex(virt), dma_addr: hex(addr), size, dir: DIRS[dir], attrs });
  }

  dma_alloc_pages(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, gfp: number, attrs: number): void {
    this.slice('dma_alloc_pages', dev, { virt_addr: hex(virt), dma_addr: hex(addr), size, dir: DIRS[dir], gfp: hex(gfp), attrs });
  }

  dma_free_pages(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    this.slice('dma_free_pages', dev, { virt_addr: hex(virt), dma_addr: hex(addr), size, dir: DIRS[dir], attrs });
  }

  /** A bounce is an instant on the device's track (the copy itself is inside the map slice). */
  swiotlb_bounced(dev: Device, devAddr: number, size: number): void {
    this.events.push({ name: 'swiotlb_bounced', cat: 'swiotlb', ph: 'i', s: 't', pid: DEV_PID, tid: this.devTid(dev), ts: this.us(this.host.now()), args: { dev_addr: hex(devAddr), size } });
  }

  // ---- the device tracks ------------------------------------------------------------------------

  private devTid(dev: Device): number {
    let tid = this.devTids.get(dev.name);
    if (tid === undefined) {
      tid = this.devTids.size + 1;
      this.devTids.set(dev.name, tid);
      this.events.push({ name: 'thread_name', ph: 'M', pid: DEV_PID, tid, args: { name: dev.name } });
    }
    return tid;
  }

  device_access(dev: Device, addr: number, len: number, write: boolean): void {
    const ts = this.us(this.host.now());
    this.events.push({ name: write ? 'DMA write' : 'DMA read', cat: 'bus', ph: 'X', pid: DEV_PID, tid: this.devTid(dev), ts, dur: 0, args: { dma_addr: hex(addr), len } });
    this.reports(ts);
  }

  // ---- what the device owns, for the counters ---------------------------------------------------

  private track(dev: Device, addr: number, size: number, ts: number): void {
    const lines = Math.ceil(size / this.host.lineSize);
    const iovaPages = dev.dma_iommu ? Math.ceil(((addr % IOVA_PAGE) + size) / IOVA_PAGE) : 0;
    this.live.set(this.key(dev, addr), { ts, lines, iovaPages, ownedByDevice: true });
    this.ownedLines += lines;
    this.iovaPages += iovaPages;
  }

  private untrack(dev: Device, addr: number): void {
    const k = this.key(dev, addr);
    const l = this.live.get(k);
    if (l === undefined) return;
    if (l.ownedByDevice) this.ownedLines -= l.lines;
    this.iovaPages -= l.iovaPages;
    this.live.delete(k);
  }

  private own(dev: Device, addr: number, device: boolean): void {
    const l = this.live.get(this.key(dev, addr));
    if (l === undefined || l.ownedByDevice === device) return;
    l.ownedByDevice = device;
    this.ownedLines += device ? l.lines : -l.lines;
  }

  // ---- counters ---------------------------------------------------------------------------------

  private sample(ts: number, scanCache: boolean): void {
    const h = this.host;
    this.counter(ts, 'lines owned by devices', this.ownedLines);
    this.counter(ts, 'swiotlb slots used', h.swiotlbSlotsUsed());
    this.counter(ts, 'IOVA pages mapped', this.iovaPages);
    this.counter(ts, 'store-buffer depth', h.storeBufferDepth());
    this.counter(ts, 'barriers', h.barriers());
    if (scanCache) this.counter(ts, 'dirty lines', h.dirtyLines());
  }

  /** A "C" event only when the value changed: Perfetto holds a counter until its next sample. */
  private counter(ts: number, name: string, value: number): void {
    if (this.last.get(name) === value) return;
    this.last.set(name, value);
    this.events.push({ name, ph: 'C', pid: CPU_PID, tid: 0, ts, args: { value } });
  }

  // ---- WARNs, dma-debug errors and data-check reports -------------------------------------------

  private reports(ts: number): void {
    const log = this.host.log;
    if (log.nextSeq !== this.logSeq) {
      for (const text of log.textsSince(this.logSeq)) this.logLine(ts, text);
      this.logSeq = log.nextSeq;
    }
    const dc = this.host.dataCheck;
    if (dc !== null && dc.reports.length !== this.reportsSeen) {
      for (const r of dc.reports.slice(this.reportsSeen)) this.dataCheckReport(ts, r);
      this.reportsSeen = dc.reports.length;
    }
  }

  private logLine(ts: number, text: string): void {
    if (text.startsWith('WARNING: ')) {
      this.instant(ts, 'WARN', 'warn', { text }, null);
    } else if (text.startsWith('DMA-API: ') && /\[device address=0x([0-9a-f]+)\]/.test(text)) {
      const dev = /^DMA-API: \S+ (\S+):/.exec(text)?.[1];
      const addr = Number.parseInt(/\[device address=0x([0-9a-f]+)\]/.exec(text)?.[1] ?? '', 16);
      this.instant(ts, 'dma-debug', 'dma-debug', { text }, dev === undefined ? null : this.live.get(`${dev}@${addr}`) ?? null);
    }
  }

  private dataCheckReport(ts: number, r: DataCheckReport): void {
    const mp = r.mapping;
    const link = mp === null ? null : this.live.get(`${mp.device}@${mp.dma}`) ?? null;
    this.instant(ts, `data-check: ${r.kind}`, 'data-check', {
      title: r.title, missing: r.missing, bytes: r.bytes, access: r.access, mapping: mp,
    }, link);
  }

  /** An instant on the CPU track; a flow arrow from the map slice of the mapping it names. */
  private instant(ts: number, name: string, cat: string, args: Record<string, unknown>, from: LiveMapping | null): void {
    this.events.push({ name, cat, ph: 'i', s: 't', pid: CPU_PID, tid: 0, ts, args });
    if (from === null) return;
    const id = this.nextFlow++;
    this.events.push({ name: 'mapping', cat: 'link', ph: 's', id, pid: CPU_PID, tid: 0, ts: from.ts });
    this.events.push({ name: 'mapping', cat: 'link', ph: 'f', bp: 'e', id, pid: CPU_PID, tid: 0, ts });
  }

  /** The trace so far, with a last sample of every counter. */
  finish(otherData: Record<string, string>): TraceEventJson {
    const ts = this.us(this.host.now());
    this.reports(ts);
    this.sample(ts, true);
    return { traceEvents: this.events, displayTimeUnit: 'ns', otherData };
  }
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
