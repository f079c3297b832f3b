// struct device as the DMA layer sees it (include/linux/device.h, include/linux/dma-direct.h,
// include/linux/dma-mapping.h): name and driver, DMA masks, bus limit and offsets
// (dma_range_map), coherence, dma_ops, dma_parms and min_align_mask. A device is a bus master: it
// reaches RAM only through DMA addresses, and the CPU cache only if it is coherent.

import type { AttachableModel } from '../hw/model.js';
import type { DmaTraceHooks } from './trace.js';
import type { DmaMapOps } from './map-ops.js';
import { unknownCallbacks } from './map-ops.js';
import type { DmaDebugHooks } from './debug-hooks.js';
import type { Swiotlb } from './swiotlb.js';
import type { DmaAtomicPools } from './pool.js';
import type { Arch, ArchSyncHost } from '../arch/arch.js';
import type { EnginePort, HostStats } from '../engine/port.js';
import type { Cpu } from '../hw/cpu.js';
import type { Clock } from '../hw/time.js';
import { DMA_BIT_MASK, DMA_MAPPING_ERROR, minNotZero } from '../include/dma-mapping.js';
import type { Kconfig } from '../include/kconfig.js';
import type { Debugfs } from '../lib/debugfs.js';
import { DmaFaultError, DmaSimRangeError, DmaSimTypeError } from '../lib/errors.js';
import { TAINT_CPU_OUT_OF_SPEC, type KernelLog } from '../lib/printk.js';
import { WARN_SITES } from '../lib/warn-sites.js';
import type { KernelImage } from '../mm/kimage.js';
import type { Memblock } from '../mm/memblock.js';
import type { Page } from '../mm/memory.js';
import type { PageAllocator } from '../mm/page_alloc.js';
import type { Slab } from '../mm/slab.js';
import type { Vmalloc } from '../mm/vmalloc.js';
import { checkAddr, checkBool, checkBytes, checkIntIn, checkSize, checkString } from '../lib/validate.js';

/**
 * The kernel state the DMA layer reads through a device (dev.machine): the globals kernel/dma/
 * and mm/ code reaches directly in C (io_tlb_default_mem, the zone limits, printk, the arch
 * hooks). machine.ts implements it; nothing here knows the machine itself.
 */
export interface DmaHost extends ArchSyncHost {
  readonly arch: Arch;
  readonly config: Kconfig;
  readonly seed: number;
  readonly log: KernelLog;
  readonly debugfs: Debugfs;
  readonly hostStats: HostStats;
  /** Simulated time: every DMA API call is an interleaving point. */
  readonly clock: Clock;
  // mm: allocators and the kernel's address spaces
  readonly memblock: Memblock;
  readonly pages: PageAllocator;
  readonly slab: Slab;
  readonly vm: Vmalloc;
  readonly kimage: KernelImage;
  /** zone_dma_limit and the end of ZONE_DMA32 (inclusive physical limits). */
  readonly zoneDmaLimit: number;
  readonly zoneDma32Limit: number;
  /** dma_get_cache_alignment() */
  readonly dmaCacheAlignment: number;
  physToOffset(phys: number, len: number): number;
  isRam(phys: number, len: number): boolean;
  translate(virt: number): number;
  page_address(page: Page): number;
  virt_to_page(ptr: number): Page;
  // the CPU, and the engine under it and the bus
  readonly cpu: Cpu;
  readonly port: EnginePort;
  // kernel/dma state
  /** io_tlb_default_mem, or null */
  readonly swiotlb: Swiotlb | null;
  /** The atomic pools of kernel/dma/pool.c (CONFIG_DMA_COHERENT_POOL), or null */
  readonly atomicPools: DmaAtomicPools | null;
  /** The debug hooks mapping.ts calls (null: no checker attached, the hot path makes no call). */
  readonly dmaDebug: DmaDebugHooks | null;
  /** The tracepoint hooks (trace/events/dma.h); null while nothing listens. */
  readonly dmaTrace: DmaTraceHooks | null;
}

/** The options of createDevice({ iommu }). */
export interface DeviceIommuOptions {
  /** Devices naming the same group share its domain (one IOVA space, one page table). */
  group?: string;
  /** An untrusted (external-facing) device: strict invalidation, swiotlb bounce for unaligned buffers. */
  untrusted?: boolean;
  /** A PCI device: IOVAs below 4 GiB are used first (dev->iommu->pci_32bit_workaround). */
  pci?: boolean;
}

/**
 * dev->iommu (struct dev_iommu): device.h only declares it; drivers/iommu/iommu.ts completes the
 * declaration (group, domain, ...). What the device itself uses is how its bus accesses are
 * translated.
 */
export interface DevIommu {
  /** The default domain translates (it is not an identity domain): use_dma_iommu(). */
  readonly translates: boolean;
  /** iommu_iova_to_phys() in the device's domain: 0 when nothing is mapped there. */
  iova_to_phys(iova: number): number;
  /** A bus access of [iova, iova + len): [offset, length, iova] runs, or DmaFaultError. */
  translate(dev: Device, iova: number, len: number, write: boolean): readonly number[];
}

/**
 * iommu_probe_device() and iommu_setup_dma_ops(), done by the machine when a device is created
 * (machine.ts): the device's dev->iommu, for a device behind the IOMMU.
 */
export type IommuProbe = (dev: Device, opts: DeviceIommuOptions) => DevIommu;

/** struct bus_dma_region: a window of bus addresses onto physical memory. */
export interface BusDmaRegion {
  readonly cpu_start: number;
  readonly dma_start: number;
  readonly size: number;
}

export interface DeviceOptions {
  /** dev_name(): required. */
  name: string;
  /** The bound driver's name (dev_driver_string()); defaults to the device name. */
  driver?: string;
  /** dev_is_dma_coherent(): defaults to the arch's norm (arm64: no, unless firmware says `dma-coherent`). */
  coherent?: boolean;
  /** dev->dma_range_map: bus offsets; without it a DMA address is the physical address. */
  dmaRangeMap?: readonly BusDmaRegion[];
  /** dev->bus_dma_limit: a firmware limit on bus addresses (0: none). */
  busDmaLimit?: bigint;
  /** The initial *dev->dma_mask (default DMA_BIT_MASK(32)); null models a device whose dma_mask pointer is NULL. */
  dmaMask?: bigint | null;
  /** dev->dma_ops: a legacy back end (kernel/dma/mapping.c dispatches to it). */
  ops?: DmaMapOps;
  /** dma_parms->max_segment_size (without it dma_get_max_seg_size() is 64 KiB). */
  maxSegmentSize?: number;
  /** dma_parms->segment_boundary_mask (default ULONG_MAX). */
  segBoundaryMask?: bigint;
  /** dma_parms->min_align_mask. */
  minAlignMask?: number;
  /**
   * The device sits behind the machine's IOMMU (true, or options: a shared group, an untrusted
   * device, a PCI device). Its DMA goes through dma-iommu unless the default domain is
   * passthrough (iommu.passthrough=1), and every bus access is translated by the IOMMU.
   */
  iommu?: boolean | DeviceIommuOptions;
  /**
   * A device model (dmasim/devices) that runs this device on its own: its registers appear on
   * the physical bus, it raises an interrupt line, and it is a bus master through this device.
   */
  model?: AttachableModel<Device>;
}

/** struct device_dma_parameters */
export interface DmaParms {
  readonly max_segment_size: number;
  readonly segment_boundary_mask: bigint;
  readonly min_align_mask: number;
}

/** What translate_dma_to_phys() and translate_phys_to_dma() return for "no region": -1 (see DMA_MAPPING_ERROR). */
const NO_PHYS = -1;

/**
 * dev_is_pci(): dmasim's devices carry no bus pointer; a device named by its PCI address
 * ("0000:01:00.0", dev_name() of a pci_dev) is on the PCI bus, any other on the platform bus.
 */
export function dev_is_pci(dev: Device): boolean {
  return /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(dev.name);
}

/** dev->bus->name: what dev_driver_string() prints while no driver is bound. */
export function dev_bus_name(dev: Device): string {
  return dev_is_pci(dev) ? 'pci' : 'platform';
}

export class Device {
  readonly name: string;
  readonly driver: string;
  /** dev->dma_coherent */
  readonly dma_coherent: boolean;
  /** dev->dma_range_map (empty: DMA address == physical address) */
  readonly dma_range_map: readonly BusDmaRegion[];
  private streamingMask: bigint | null;
  private coherentMask: bigint;
  /** dev->dma_mask points at dev->coherent_dma_mask (dma_coerce_mask_and_coherent()). */
  private maskIsCoherentMask = false;
  readonly bus_dma_limit: bigint;
  readonly dma_ops: DmaMapOps | null;
  readonly dma_parms: DmaParms | null;
  /** dev->dma_skip_sync: decided at dma_set_mask() time, cleared by the first swiotlb bounce. */
  dma_skip_sync = false;
  /** min_not_zero(*dma_mask, bus_dma_limit) as a number: dma_capable() runs on every map. */
  streamLimit = 0;
  /** The driver is bound (false after m.unbind()). */
  bound = true;
  /** dev->iommu: the device's group and domain, or null without an IOMMU. */
  readonly iommu: DevIommu | null;
  /** dev->dma_iommu (use_dma_iommu()): DMA goes through dma-iommu, its domain translates. */
  readonly dma_iommu: boolean;
  /** min_not_zero(dma_get_mask(), bus_dma_limit) as a number, the IOVA allocation limit of every map. */
  iovaLimit = 0;

  /** @internal created by m.createDevice(), which hands in the IOMMU probe */
  constructor(readonly machine: DmaHost, opts: DeviceOptions, probeIommu: IommuProbe) {
    const fn = 'createDevice';
    this.name = checkString(fn, 'name', opts.name);
    this.driver = opts.driver === undefined ? this.name : checkString(fn, 'driver', opts.driver);
    this.dma_coherent = opts.coherent === undefined ? machine.arch.coherentByDefault : checkBool(fn, 'coherent', opts.coherent);
    if (!this.dma_coherent && machine.arch.sync === undefined) throw new DmaSimRangeError(fn, 'coherent', `must be true on ${machine.arch.name}: it has no non-coherent DMA`);
    this.arch_setup_dma_ops(machine);
    this.dma_range_map = checkRangeMap(fn, opts.dmaRangeMap);
    this.bus_dma_limit = opts.busDmaLimit === undefined ? 0n : checkU64(fn, 'busDmaLimit', opts.busDmaLimit);
    this.streamingMask = opts.dmaMask === null ? null : opts.dmaMask === undefined ? DMA_BIT_MASK(32) : checkU64(fn, 'dmaMask', opts.dmaMask);
    this.coherentMask = this.streamingMask ?? DMA_BIT_MASK(32);
    this.dma_ops = checkOps(fn, opts.ops);
    const iommuOpts = checkIommu(fn, opts.iommu);
    if (iommuOpts !== null && this.dma_ops !== null) throw new DmaSimRangeError(fn, 'iommu', 'and ops exclude each other: DMA goes through dma-iommu or through the bus\'s dma_map_ops');
    this.dma_parms = opts.maxSegmentSize === undefined && opts.segBoundaryMask === undefined && opts.minAlignMask === undefined ? null : {
      max_segment_size: opts.maxSegmentSize === undefined ? 0 : checkIntIn(fn, 'maxSegmentSize', opts.maxSegmentSize, 0, 0xffff_ffff),
      segment_boundary_mask: opts.segBoundaryMask === undefined ? 0n : checkU64(fn, 'segBoundaryMask', opts.segBoundaryMask),
      min_align_mask: opts.minAlignMask === undefined ? 0 : checkIntIn(fn, 'minAlignMask', opts.minAlignMask, 0, 0xffff_ffff),
    };
    this.updateLimits();
    // iommu_probe_device(), then iommu_setup_dma_ops() once the default domain is attached.
    this.iommu = iommuOpts === null ? null : probeIommu(this, iommuOpts);
    this.dma_iommu = this.iommu !== null && this.iommu.translates;
  }

  /** *dev->dma_mask, or null when the dma_mask pointer is NULL. */
  get dma_mask(): bigint | null {
    return this.maskIsCoherentMask ? this.coherentMask : this.streamingMask;
  }

  set dma_mask(mask: bigint | null) {
    if (this.maskIsCoherentMask && mask !== null) this.coherentMask = mask;
    else this.streamingMask = mask;
    this.updateLimits();
  }

  get coherent_dma_mask(): bigint {
    return this.coherentMask;
  }

  set coherent_dma_mask(mask: bigint) {
    this.coherentMask = mask;
    this.updateLimits();
  }

  /** dev->dma_mask = &dev->coherent_dma_mask: from now on the two are one value. */
  pointMaskAtCoherentMask(): void {
    this.maskIsCoherentMask = true;
    this.updateLimits();
  }

  /** Recomputes the cached limits after a mask change. */
  updateLimits(): void {
    this.streamLimit = Number(minNotZero(this.dma_mask ?? 0n, this.bus_dma_limit));
    this.iovaLimit = Number(minNotZero(this.dmaGetMask(), this.bus_dma_limit));
  }

  /** dma_get_mask() without the argument check: an unset mask reads as 32-bit. */
  dmaGetMask(): bigint {
    const mask = this.dma_mask;
    return mask !== null && mask !== 0n ? mask : DMA_BIT_MASK(32);
  }

  /** The IOVA limit of a coherent allocation: min_not_zero(coherent_dma_mask, bus_dma_limit). */
  coherentIovaLimit(): number {
    return Number(minNotZero(this.coherentMask, this.bus_dma_limit));
  }

  /**
   * arch_setup_dma_ops() (arch/arm64/mm/dma-mapping.c): a non-coherent device on a CPU whose
   * cache line (cache_line_size_of_cpu(), CTR_EL0.CWG) exceeds ARCH_DMA_MINALIGN cannot get
   * buffers that own their lines: WARN_TAINT(TAINT_CPU_OUT_OF_SPEC), for every such device.
   * Only arm64 has non-coherent devices here.
   */
  private arch_setup_dma_ops(m: DmaHost): void {
    const cls = m.dmaCacheAlignment;
    const minalign = m.arch.dmaMinalign;
    if (this.dma_coherent || cls <= minalign) return;
    m.log.warnTaint(WARN_SITES.arm64CwgTaint, TAINT_CPU_OUT_OF_SPEC,
      `${this.driver} ${this.name}: ARCH_DMA_MINALIGN smaller than CTR_EL0.CWG (${minalign} < ${cls})`);
  }

  /** dev_driver_string(), for log prefixes. */
  get driverName(): string {
    return this.driver;
  }

  /**
   * translate_dma_to_phys(): -1 when no region holds the whole range. Behind a translating
   * IOMMU the page tables say (iommu_iova_to_phys()), for the first byte.
   */
  dmaToPhys(dma: number, len: number): number {
    if (this.dma_iommu) {
      const phys = (this.iommu as DevIommu).iova_to_phys(dma);
      return phys === 0 ? NO_PHYS : phys;
    }
    if (this.dma_range_map.length === 0) return dma;
    for (const r of this.dma_range_map) {
      if (dma >= r.dma_start && dma + len <= r.dma_start + r.size) return r.cpu_start + (dma - r.dma_start);
    }
    return NO_PHYS;
  }

  /** translate_phys_to_dma(): -1 when no region holds the address. */
  physToDma(phys: number): number {
    if (this.dma_range_map.length === 0) return phys;
    for (const r of this.dma_range_map) {
      if (phys >= r.cpu_start && phys < r.cpu_start + r.size) return r.dma_start + (phys - r.cpu_start);
    }
    return NO_PHYS;
  }

  /**
   * Where a bus access lands: [offset, length, dma address] triples of contiguous runs in the
   * machine's memory (one run without an IOMMU), or a DmaFaultError before anything is touched.
   */
  private target(fn: string, dma: number, len: number, write: boolean): readonly number[] {
    // A driver that skips dma_mapping_error() hands the device ~0: on hardware, a bus error.
    if (dma === DMA_MAPPING_ERROR) throw new DmaFaultError(this.name, dma, checkSize(fn, 'len', len), 'DMA_MAPPING_ERROR is not a bus address (the mapping failed and dma_mapping_error() was not checked)');
    checkAddr(fn, 'dma_addr', dma);
    checkSize(fn, 'len', len);
    if (this.dma_iommu) return (this.iommu as DevIommu).translate(this, dma, len, write);
    const phys = this.dmaToPhys(dma, len);
    const off = phys < 0 ? -1 : this.machine.physToOffset(phys, len);
    if (off < 0) throw new DmaFaultError(this.name, dma, len, 'the access reaches no RAM');
    const run = this.run;
    run[0] = off;
    run[1] = len;
    run[2] = dma;
    return run;
  }

  private readonly run = [0, 0, 0];

  /** The device reads [dma_addr, dma_addr + len) over the bus. */
  dmaRead(dma_addr: number, len: number): Uint8Array {
    const runs = this.target('dmaRead', dma_addr, len, false);
    const out = new Uint8Array(len);
    this.readRuns(runs, out);
    return out;
  }

  /**
   * The device reads out.length bytes at dma_addr over the bus into `out`: dmaRead() without
   * an allocation, for a driver or device model that reads into a buffer of its own.
   */
  dmaReadInto(dma_addr: number, out: Uint8Array): void {
    if (!(out instanceof Uint8Array)) throw new DmaSimTypeError('dmaReadInto', 'out', 'must be a Uint8Array');
    this.readRuns(this.target('dmaReadInto', dma_addr, out.length, false), out);
  }

  private readRuns(runs: readonly number[], out: Uint8Array): void {
    for (let i = 0, at = 0; i < runs.length; i += 3) {
      const dma = runs[i + 2] as number;
      const len = runs[i + 1] as number;
      this.machine.dmaTrace?.device_access?.(this, dma, len, false);
      this.machine.port.devRead(this, dma, runs[i] as number, len, out, at);
      at += len;
    }
  }

  /** The device writes `bytes` at dma_addr over the bus. */
  dmaWrite(dma_addr: number, bytes: Uint8Array | readonly number[]): void {
    const data = checkBytes('dmaWrite', 'bytes', bytes);
    const runs = this.target('dmaWrite', dma_addr, data.length, true);
    for (let i = 0, at = 0; i < runs.length; i += 3) {
      const off = runs[i] as number;
      const n = runs[i + 1] as number;
      const part = runs.length === 3 ? data : data.subarray(at, at + n);
      this.machine.dmaTrace?.device_access?.(this, runs[i + 2] as number, n, true);
      this.machine.port.devWrite(this, runs[i + 2] as number, off, part);
      at += n;
    }
  }

  /** The device writes `len` copies of `byte` at dma_addr. */
  dmaFill(dma_addr: number, len: number, byte: number): void {
    checkIntIn('dmaFill', 'byte', byte, 0, 255);
    const runs = this.target('dmaFill', dma_addr, len, true);
    for (let i = 0; i < runs.length; i += 3) {
      const off = runs[i] as number;
      const n = runs[i + 1] as number;
      this.machine.dmaTrace?.device_access?.(this, runs[i + 2] as number, n, true);
      this.machine.port.devFill(this, runs[i + 2] as number, off, n, byte);
    }
  }
}

function checkU64(fn: string, arg: string, v: unknown): bigint {
  if (typeof v !== 'bigint') throw new DmaSimTypeError(fn, arg, `must be a bigint, got ${typeof v}`);
  if (v < 0n || v > DMA_BIT_MASK(64)) throw new DmaSimRangeError(fn, arg, 'must be a u64');
  return v;
}

function checkOps(fn: string, ops: unknown): DmaMapOps | null {
  if (ops === undefined) return null;
  if (typeof ops !== 'object' || ops === null) throw new DmaSimTypeError(fn, 'ops', 'must be a dma_map_ops object');
  const unknown = unknownCallbacks(ops);
  if (unknown.length > 0) throw new DmaSimRangeError(fn, 'ops', `has members dma_map_ops does not: ${unknown.join(', ')}`);
  for (const [k, f] of Object.entries(ops)) if (typeof f !== 'function') throw new DmaSimTypeError(fn, `ops.${k}`, 'must be a function');
  return ops as DmaMapOps;
}

function checkIommu(fn: string, v: unknown): DeviceIommuOptions | null {
  if (v === undefined || v === false) return null;
  if (v === true) return {};
  if (typeof v !== 'object' || v === null) throw new DmaSimTypeError(fn, 'iommu', 'must be true, false or { group, untrusted, pci }');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['group', 'untrusted', 'pci'].includes(k)) throw new DmaSimRangeError(fn, `iommu.${k}`, 'is not an IOMMU option (group, untrusted, pci)');
  return {
    ...(o.group === undefined ? {} : { group: checkString(fn, 'iommu.group', o.group) }),
    ...(o.untrusted === undefined ? {} : { untrusted: checkBool(fn, 'iommu.untrusted', o.untrusted) }),
    ...(o.pci === undefined ? {} : { pci: checkBool(fn, 'iommu.pci', o.pci) }),
  };
}

function checkRangeMap(fn: string, map: unknown): readonly BusDmaRegion[] {
  if (map === undefined) return [];
  if (!Array.isArray(map)) throw new DmaSimTypeError(fn, 'dmaRangeMap', 'must be an array of { cpu_start, dma_start, size }');
  return map.map((r: Partial<BusDmaRegion> | null, i) => {
    if (typeof r !== 'object' || r === null) throw new DmaSimTypeError(fn, `dmaRangeMap[${i}]`, 'must be an object { cpu_start, dma_start, size }');
    return {
    cpu_start: checkAddr(fn, `dmaRangeMap[${i}].cpu_start`, r.cpu_start),
    dma_start: checkAddr(fn, `dmaRangeMap[${i}].dma_start`, r.dma_start),
    size: checkSize(fn, `dmaRangeMap[${i}].size`, r.size),
    };
  });
}
