// The DMA tracepoints: include/trace/events/dma.h and include/trace/events/swiotlb.h of Linux
// v7.1 (torvalds/linux, dma.h @0b9828c7), with their event names, TP_STRUCT__entry fields and
// TP_printk formats; decode_dma_data_direction() and decode_dma_attrs() print as
// __print_symbolic() and __print_flags() do (kernel/trace/trace_output.c), show_gfp_flags() as
// mmflags.h does, and __print_array() as "{0x..,0x..}".
//
// A hook layer like dma-debug (kernel/dma/debug.h): kernel/dma/mapping.c and swiotlb.c call
// `m.dmaTrace?.<event>(...)` exactly where they call trace_<event>(); the hooks object is null
// unless an event is enabled or a timeline recorder listens, so an untraced run pays one null
// check per call. Which hook runs where, as in v7.1's mapping.c:
//   dma_map_phys          after the back end, before debug_dma_map_phys()
//   dma_unmap_phys        after the back end, before debug_dma_unmap_phys()
//   dma_map_sg            on success, before debug_dma_map_sg(); dma_map_sg_err for an errno
//                         outside EINVAL/ENOMEM/EIO/EREMOTEIO (the WARN case)
//   dma_unmap_sg          before debug_dma_unmap_sg() and the back end
//   dma_sync_*            after the back end, before the debug check
//   dma_alloc             after the back end, also on failure (virt NULL, dma_addr 0)
//   dma_free              before the NULL check and the back end
//   dma_alloc_pages       after the back end, also on failure; dma_free_pages before it
//   swiotlb_bounced       at the start of swiotlb_map() and dma-iommu's iommu_dma_map_swiotlb()

import { formatGfp } from '../mm/gfp.js';
import { type TraceArray, type TraceEventClass, type TraceEventFile } from '../lib/tracefs.js';
import {
  DMA_ATTR_ALLOC_SINGLE_PAGES, DMA_ATTR_CC_SHARED, DMA_ATTR_DEBUGGING_IGNORE_CACHELINES, DMA_ATTR_FORCE_CONTIGUOUS,
  DMA_ATTR_MMIO, DMA_ATTR_NO_KERNEL_MAPPING, DMA_ATTR_NO_WARN, DMA_ATTR_PRIVILEGED, DMA_ATTR_REQUIRE_COHERENT,
  DMA_ATTR_SKIP_CPU_SYNC, DMA_ATTR_WEAK_ORDERING, DMA_ATTR_WRITE_COMBINE, type DmaDirection,
} from '../include/dma-mapping.js';
import type { Device } from './device.js';
import { sg_dma_address, sg_dma_len, sg_phys, type Scatterlist } from './scatterlist.js';
import { llx } from '../lib/vsprintf.js';

/** The tracepoints of trace/events/dma.h and swiotlb.h, as hooks (argument lists as TP_PROTO). */
export interface DmaTraceHooks {
  dma_map_phys(dev: Device, phys: number, addr: number, size: number, dir: DmaDirection, attrs: number): void;
  dma_unmap_phys(dev: Device, addr: number, size: number, dir: DmaDirection, attrs: number): void;
  dma_map_sg(dev: Device, sgl: readonly Scatterlist[], nents: number, ents: number, dir: DmaDirection, attrs: number): void;
  dma_map_sg_err(dev: Device, sgl: readonly Scatterlist[], nents: number, err: number, dir: DmaDirection, attrs: number): void;
  dma_unmap_sg(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection, attrs: number): void;
  dma_sync_single_for_cpu(dev: Device, addr: number, size: number, dir: DmaDirection): void;
  dma_sync_single_for_device(dev: Device, addr: number, size: number, dir: DmaDirection): void;
  dma_sync_sg_for_cpu(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection): void;
  dma_sync_sg_for_device(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection): void;
  dma_alloc(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, gfp: number, attrs: number): void;
  dma_free(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, attrs: number): void;
  dma_alloc_pages(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, gfp: number, attrs: number): void;
  dma_free_pages(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, attrs: number): void;
  swiotlb_bounced(dev: Device, devAddr: number, size: number): void;
  /** Not a tracepoint: a DMA API call begins (a timeline recorder opens its slice here). */
  dma_api_enter?(): void;
  /** Not a tracepoint: the device reads or writes [addr, addr + len) over the bus. */
  device_access?(dev: Device, addr: number, len: number, write: boolean): void;
}

// ---- TP_printk helpers ---------------------------------------------------------------------


/** decode_dma_data_direction(): __print_symbolic(), "0x%lx" for a value with no name. */
function decodeDir(dir: number): string {
  return DIR_NAMES[dir] ?? `0x${llx(dir)}`;
}

const DIR_NAMES: Readonly<Record<number, string>> = { 0: 'BIDIRECTIONAL', 1: 'TO_DEVICE', 2: 'FROM_DEVICE', 3: 'NONE' };

/** decode_dma_attrs()'s table, in its order. */
const ATTR_NAMES: readonly (readonly [number, string])[] = [
  [DMA_ATTR_WEAK_ORDERING, 'WEAK_ORDERING'],
  [DMA_ATTR_WRITE_COMBINE, 'WRITE_COMBINE'],
  [DMA_ATTR_NO_KERNEL_MAPPING, 'NO_KERNEL_MAPPING'],
  [DMA_ATTR_SKIP_CPU_SYNC, 'SKIP_CPU_SYNC'],
  [DMA_ATTR_FORCE_CONTIGUOUS, 'FORCE_CONTIGUOUS'],
  [DMA_ATTR_ALLOC_SINGLE_PAGES, 'ALLOC_SINGLE_PAGES'],
  [DMA_ATTR_NO_WARN, 'NO_WARN'],
  [DMA_ATTR_PRIVILEGED, 'PRIVILEGED'],
  [DMA_ATTR_MMIO, 'MMIO'],
  [DMA_ATTR_DEBUGGING_IGNORE_CACHELINES, 'CACHELINES_OVERLAP'],
  [DMA_ATTR_REQUIRE_COHERENT, 'REQUIRE_COHERENT'],
  [DMA_ATTR_CC_SHARED, 'CC_SHARED'],
];

/**
 * trace_print_flags_seq(): each name whose whole mask is set, joined by `delim`, the bits taken
 * away; leftovers as "0x%lx"; nothing at all for 0 (so "attrs=" with no attributes).
 */
export function printFlags(flags: number, delim: string, names: readonly (readonly [number, string])[]): string {
  let rest = flags >>> 0;
  const out: string[] = [];
  for (const [mask, name] of names) {
    if (rest === 0) break;
    if ((rest & mask) !== mask) continue;
    out.push(name);
    rest = (rest & ~mask) >>> 0;
  }
  if (rest !== 0) out.push(`0x${rest.toString(16)}`);
  return out.join(delim);
}

function decodeAttrs(attrs: number): string {
  return printFlags(attrs, '|', ATTR_NAMES);
}

/** show_gfp_flags(): "none" for 0, else __def_gfpflag_names through __print_flags(). */
function showGfpFlags(gfp: number): string {
  return gfp === 0 ? 'none' : formatGfp(gfp);
}

/** trace_print_array_seq(): "{0x1,0x2}", each element as 0x%x (u32) or 0x%llx (u64). */
function printArray(values: readonly number[]): string {
  return `{${values.map((v) => `0x${llx(v)}`).join(',')}}`;
}

/** %p in a TP_printk: hashed as printk hashes it, NULL printed as sixteen zeros. */
export type PointerPrinter = (ptr: number) => string;

/** __string(): the bytes of dev_name() and its NUL. */
function strSize(s: string): number {
  return s.length + 1;
}

// ---- the events ----------------------------------------------------------------------------

type MapArgs = readonly [device: string, phys: number, dma: number, size: number, dir: number, attrs: number];
type UnmapArgs = readonly [device: string, addr: number, size: number, dir: number, attrs: number];
type AllocArgs = readonly [device: string, virt: string, dma: number, size: number, dir: number, gfp: number, attrs: number];
type FreeArgs = readonly [device: string, virt: string, dma: number, size: number, dir: number, attrs: number];
type MapSgArgs = readonly [device: string, nents: number, ents: number, phys: number[], dma: number[], lens: number[], dir: number, attrs: number];
type MapSgErrArgs = readonly [device: string, phys: number[], err: number, dir: number, attrs: number];
type UnmapSgArgs = readonly [device: string, phys: number[], dir: number, attrs: number];
type SyncSingleArgs = readonly [device: string, dma: number, size: number, dir: number];
type SyncSgArgs = readonly [device: string, dma: number[], lens: number[], dir: number];
type BouncedArgs = readonly [device: string, mask: bigint, addr: number, size: number, force: boolean];

/** DECLARE_EVENT_CLASS(dma_map): the fields after __data_loc take 48 bytes. */
function dmaMap(name: string): TraceEventClass<MapArgs> {
  return {
    system: 'dma', name,
    print: ([d, phys, dma, size, dir, attrs]) =>
      `${d} dir=${decodeDir(dir)} dma_addr=${llx(dma)} size=${size} phys_addr=${llx(phys)} attrs=${decodeAttrs(attrs)}`,
    size: (a) => 48 + strSize(a[0]),
  };
}

function dmaUnmap(name: string): TraceEventClass<UnmapArgs> {
  return {
    system: 'dma', name,
    print: ([d, addr, size, dir, attrs]) => `${d} dir=${decodeDir(dir)} dma_addr=${llx(addr)} size=${size} attrs=${decodeAttrs(attrs)}`,
    size: (a) => 40 + strSize(a[0]),
  };
}

function dmaAlloc(name: string): TraceEventClass<AllocArgs> {
  return {
    system: 'dma', name,
    print: ([d, virt, dma, size, dir, gfp, attrs]) =>
      `${d} dir=${decodeDir(dir)} dma_addr=${llx(dma)} size=${size} virt_addr=${virt} flags=${showGfpFlags(gfp)} attrs=${decodeAttrs(attrs)}`,
    size: (a) => 48 + strSize(a[0]),
  };
}

function dmaFree(name: string): TraceEventClass<FreeArgs> {
  return {
    system: 'dma', name,
    print: ([d, virt, dma, size, dir, attrs]) =>
      `${d} dir=${decodeDir(dir)} dma_addr=${llx(dma)} size=${size} virt_addr=${virt} attrs=${decodeAttrs(attrs)}`,
    size: (a) => 48 + strSize(a[0]),
  };
}

/** DMA_TRACE_MAX_ENTRIES: dma_map_sg records at most this many segments. */
const DMA_TRACE_MAX_ENTRIES = 128;

const MAP_SG: TraceEventClass<MapSgArgs> = {
  system: 'dma', name: 'dma_map_sg',
  print: ([d, nents, ents, phys, dma, lens, dir, attrs]) => {
    const truncated = nents > DMA_TRACE_MAX_ENTRIES || ents > DMA_TRACE_MAX_ENTRIES;
    return `${d} dir=${decodeDir(dir)} nents=${Math.min(nents, DMA_TRACE_MAX_ENTRIES)}/${nents} ` +
      `ents=${Math.min(ents, DMA_TRACE_MAX_ENTRIES)}/${ents}${truncated ? ' [TRUNCATED]' : ''} ` +
      `dma_addrs=${printArray(dma)} sizes=${printArray(lens)} phys_addrs=${printArray(phys)} attrs=${decodeAttrs(attrs)}`;
  },
  size: (a) => 40 + strSize(a[0]) + 8 * a[3].length + 12 * a[4].length,
};

/** dma_map_sg_err prints the physical addresses under the name dma_addrs, as 7.1 does. */
const MAP_SG_ERR: TraceEventClass<MapSgErrArgs> = {
  system: 'dma', name: 'dma_map_sg_err',
  print: ([d, phys, err, dir, attrs]) => `${d} dir=${decodeDir(dir)} dma_addrs=${printArray(phys)} err=${err} attrs=${decodeAttrs(attrs)}`,
  size: (a) => 24 + strSize(a[0]) + 8 * a[1].length,
};

const UNMAP_SG: TraceEventClass<UnmapSgArgs> = {
  system: 'dma', name: 'dma_unmap_sg',
  print: ([d, phys, dir, attrs]) => `${d} dir=${decodeDir(dir)} phys_addrs=${printArray(phys)} attrs=${decodeAttrs(attrs)}`,
  size: (a) => 24 + strSize(a[0]) + 8 * a[1].length,
};

function dmaSyncSingle(name: string): TraceEventClass<SyncSingleArgs> {
  return {
    system: 'dma', name,
    print: ([d, dma, size, dir]) => `${d} dir=${decodeDir(dir)} dma_addr=${llx(dma)} size=${size}`,
    size: (a) => 32 + strSize(a[0]),
  };
}

function dmaSyncSg(name: string): TraceEventClass<SyncSgArgs> {
  return {
    system: 'dma', name,
    print: ([d, dma, lens, dir]) => `${d} dir=${decodeDir(dir)} dma_addrs=${printArray(dma)} sizes=${printArray(lens)}`,
    size: (a) => 16 + strSize(a[0]) + 12 * a[1].length,
  };
}

const SWIOTLB_BOUNCED: TraceEventClass<BouncedArgs> = {
  system: 'swiotlb', name: 'swiotlb_bounced',
  print: ([d, mask, addr, size, force]) =>
    `dev_name: ${d} dma_mask=${mask.toString(16)} dev_addr=${llx(addr)} size=${size} ${force ? 'FORCE' : 'NORMAL'}`,
  size: (a) => 40 + strSize(a[0]),
};

/** Every event of dma.h in the order the header defines them, then swiotlb.h's. */
function defineEvents() {
  return {
    mapPhys: dmaMap('dma_map_phys'),
    unmapPhys: dmaUnmap('dma_unmap_phys'),
    alloc: dmaAlloc('dma_alloc'),
    allocPages: dmaAlloc('dma_alloc_pages'),
    allocSgtErr: dmaAlloc('dma_alloc_sgt_err'),
    free: dmaFree('dma_free'),
    freePages: dmaFree('dma_free_pages'),
    mapSg: MAP_SG,
    mapSgErr: MAP_SG_ERR,
    unmapSg: UNMAP_SG,
    syncSingleForCpu: dmaSyncSingle('dma_sync_single_for_cpu'),
    syncSingleForDevice: dmaSyncSingle('dma_sync_single_for_device'),
    syncSgForCpu: dmaSyncSg('dma_sync_sg_for_cpu'),
    syncSgForDevice: dmaSyncSg('dma_sync_sg_for_device'),
    swiotlbBounced: SWIOTLB_BOUNCED,
  };
}

/** dma_alloc_sgt and dma_free_sgt exist in dma.h but dmasim has no dma_alloc_noncontiguous(). */
const SGT_EVENTS = ['dma_alloc_sgt', 'dma_free_sgt'] as const;

type Files<T> = { [K in keyof T]: T[K] extends TraceEventClass<infer A> ? TraceEventFile<A> : never };

function sgPhys(sgl: readonly Scatterlist[], n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n && i < sgl.length; i++) out.push(sg_phys(sgl[i] as Scatterlist));
  return out;
}

function sgDma(sgl: readonly Scatterlist[], n: number): [number[], number[]] {
  const dma: number[] = [];
  const lens: number[] = [];
  for (let i = 0; i < n && i < sgl.length; i++) {
    dma.push(sg_dma_address(sgl[i] as Scatterlist));
    lens.push(sg_dma_len(sgl[i] as Scatterlist));
  }
  return [dma, lens];
}

/**
 * The tracepoints recording into the trace instance: each checks its event's enable flag (the
 * static key of a real tracepoint) and records the TP_fast_assign() fields.
 */
export class DmaTraceEvents implements DmaTraceHooks {
  private readonly f: Files<ReturnType<typeof defineEvents>>;

  constructor(private readonly ta: TraceArray, private readonly hashPtr: PointerPrinter) {
    const defs = defineEvents();
    const f = {} as Record<string, TraceEventFile<never>>;
    for (const [k, ev] of Object.entries(defs)) f[k] = ta.addEvent(ev as TraceEventClass<never>);
    for (const name of SGT_EVENTS) ta.addEvent({ system: 'dma', name, print: () => '', size: () => 0 });
    this.f = f as unknown as Files<ReturnType<typeof defineEvents>>;
  }

  private ptr(p: number): string {
    return p === 0 ? '0000000000000000' : this.hashPtr(p);
  }

  dma_map_phys(dev: Device, phys: number, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    if (this.f.mapPhys.enabled) this.ta.record(this.f.mapPhys, [dev.name, phys, addr, size, dir, attrs]);
  }

  dma_unmap_phys(dev: Device, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    if (this.f.unmapPhys.enabled) this.ta.record(this.f.unmapPhys, [dev.name, addr, size, dir, attrs]);
  }

  dma_map_sg(dev: Device, sgl: readonly Scatterlist[], nents: number, ents: number, dir: DmaDirection, attrs: number): void {
    if (!this.f.mapSg.enabled) return;
    const [dma, lens] = sgDma(sgl, Math.min(ents, DMA_TRACE_MAX_ENTRIES));
    this.ta.record(this.f.mapSg, [dev.name, nents, ents, sgPhys(sgl, Math.min(nents, DMA_TRACE_MAX_ENTRIES)), dma, lens, dir, attrs]);
  }

  dma_map_sg_err(dev: Device, sgl: readonly Scatterlist[], nents: number, err: number, dir: DmaDirection, attrs: number): void {
    if (this.f.mapSgErr.enabled) this.ta.record(this.f.mapSgErr, [dev.name, sgPhys(sgl, nents), err, dir, attrs]);
  }

  dma_unmap_sg(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection, attrs: number): void {
    if (this.f.unmapSg.enabled) this.ta.record(this.f.unmapSg, [dev.name, sgPhys(sgl, nents), dir, attrs]);
  }

  dma_sync_single_for_cpu(dev: Device, addr: number, size: number, dir: DmaDirection): void {
    if (this.f.syncSingleForCpu.enabled) this.ta.record(this.f.syncSingleForCpu, [dev.name, addr, size, dir]);
  }

  dma_sync_single_for_device(dev: Device, addr: number, size: number, dir: DmaDirection): void {
    if (this.f.syncSingleForDevice.enabled) this.ta.record(this.f.syncSingleForDevice, [dev.name, addr, size, dir]);
  }

  dma_sync_sg_for_cpu(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection): void {
    if (this.f.syncSgForCpu.enabled) this.ta.record(this.f.syncSgForCpu, [dev.name, ...sgDma(sgl, nents), dir]);
  }

  dma_sync_sg_for_device(dev: Device, sgl: readonly Scatterlist[], nents: number, dir: DmaDirection): void {
    if (this.f.syncSgForDevice.enabled) this.ta.record(this.f.syncSgForDevice, [dev.name, ...sgDma(sgl, nents), dir]);
  }

  /** TP_fast_assign of dma_alloc_class: dma_addr is 0 when virt_addr is NULL. */
  dma_alloc(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, gfp: number, attrs: number): void {
    if (this.f.alloc.enabled) this.ta.record(this.f.alloc, [dev.name, this.ptr(virt), virt === 0 ? 0 : addr, size, dir, gfp, attrs]);
  }

  dma_free(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    if (this.f.free.enabled) this.ta.record(this.f.free, [dev.name, this.ptr(virt), addr, size, dir, attrs]);
  }

  dma_alloc_pages(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, gfp: number, attrs: number): void {
    if (this.f.allocPages.enabled) this.ta.record(this.f.allocPages, [dev.name, this.ptr(virt), virt === 0 ? 0 : addr, size, dir, gfp, attrs]);
  }

  dma_free_pages(dev: Device, virt: number, addr: number, size: number, dir: DmaDirection, attrs: number): void {
    if (this.f.freePages.enabled) this.ta.record(this.f.freePages, [dev.name, this.ptr(virt), addr, size, dir, attrs]);
  }

  /** dma_mask is *dev->dma_mask (0 without the pointer); force is is_swiotlb_force_bounce(). */
  swiotlb_bounced(dev: Device, devAddr: number, size: number): void {
    if (!this.f.swiotlbBounced.enabled) return;
    const force = dev.machine.swiotlb?.forceBounce ?? false;
    this.ta.record(this.f.swiotlbBounced, [dev.name, dev.dma_mask ?? 0n, devAddr, size, force]);
  }
}

/** Several hook layers in turn (the ftrace events and a timeline recorder). */
export function teeTraceHooks(layers: readonly DmaTraceHooks[]): DmaTraceHooks | null {
  if (layers.length <= 1) return layers[0] ?? null;
  const tee = {} as Record<string, (...args: never[]) => void>;
  for (const k of HOOK_NAMES) {
    const fns = layers.flatMap((l) => (l[k] === undefined ? [] : [(l[k] as (...a: never[]) => void).bind(l)]));
    if (fns.length > 0) tee[k] = (...args: never[]) => { for (const f of fns) f(...args); };
  }
  return tee as unknown as DmaTraceHooks;
}

const HOOK_NAMES: readonly (keyof DmaTraceHooks)[] = [
  'dma_map_phys', 'dma_unmap_phys', 'dma_map_sg', 'dma_map_sg_err', 'dma_unmap_sg', 'dma_sync_single_for_cpu',
  'dma_sync_single_for_device', 'dma_sync_sg_for_cpu', 'dma_sync_sg_for_device', 'dma_alloc', 'dma_free',
  'dma_alloc_pages', 'dma_free_pages', 'swiotlb_bounced', 'dma_api_enter', 'device_access',
];

