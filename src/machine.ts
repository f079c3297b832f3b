// The simulated machine, and the composition root: RAM banks in one shared WebAssembly.Memory,
// the engine that models the CPU data cache over it, the kernel's memory management on top
// (memblock, zones, the page allocator, kmalloc, vmalloc, the kernel image), and every subsystem
// handed what it needs (each declares that as a small interface in its own layer: CpuHost,
// DcacheHost, DmaHost, IommuHost, ...). Boot follows start_kernel()'s order: memblock, the
// command line, zones, then the allocators.

import {
  KNOB_ONE, LINE_CLEAN, LINE_DIRTY,
  CNT_CACHE_HITS, CNT_CACHE_MISSES, CNT_EVICTIONS, CNT_DIRTY_WRITTEN_BACK, CNT_DIRTY_DISCARDED,
  CNT_LINES_CLEANED, CNT_LINES_INVALIDATED, CNT_MAINTENANCE_OPS, CNT_SPECULATIVE_FILLS, CNT_SNOOPS,
  CNT_CPU_COPY_BYTES, CNT_CPU_BYTES_READ, CNT_CPU_BYTES_WRITTEN, CNT_DEV_BYTES_READ,
  CNT_DEV_BYTES_WRITTEN, CNT_UNCACHED_BYTES,
} from '../assembly/abi.js';
import type { Arch } from './arch/arch.js';
import { CORE_BOOT_PARAMS, memparse, parse_args, parse_early_param, type BootParam, type ParamHandler } from './lib/cmdline.js';
import { compileCore, instantiateCore, type CoreExports } from './engine/core.js';
import { EnginePort, type HostStats, type Stats } from './engine/port.js';
import { DcacheMaintenance } from './arch/cacheflush.js';
import { CostModel, type PricedCounters } from './arch/cost.js';
import { Cpu } from './hw/cpu.js';
import { Clock, type TimerEvent } from './hw/time.js';
import { Mmio } from './hw/mmio.js';
import { IrqChip, type IrqHandler } from './hw/irq.js';
import type { ModelHost } from './hw/model.js';
import { setCurrentMachine } from './dma/current.js';
import { DmaDebug, DmaDebugBoot } from './dma/debug.js';
import { teeHooks, type DmaDebugHooks } from './dma/debug-hooks.js';
import { hashPointer, pa, ptrHashKey } from './lib/vsprintf.js';
import { DmaDataCheck } from './check/dma-data-check.js';
import { Debugfs } from './lib/debugfs.js';
import { TraceArray } from './lib/tracefs.js';
import { DmaTraceEvents, teeTraceHooks, type DmaTraceHooks } from './dma/trace.js';
import { TimelineRecorder, type TimelineHost, type TraceEventJson } from './check/timeline.js';
import { iommu_dma_init_domain } from './iommu/dma-iommu.js';
import { Iommu, kstrtobool } from './iommu/iommu.js';
import { setup_io_tlb_npages, swiotlb_adjust_size, swiotlb_init_remap, type Swiotlb, type SwiotlbParams } from './dma/swiotlb.js';
import { DmaAtomicPools } from './dma/pool.js';
import { Device, type DeviceIommuOptions, type DeviceOptions, type DevIommu, type DmaHost } from './dma/device.js';
import { DmaSimRangeError, DmaSimTypeError } from './lib/errors.js';
import { computeLayout, MAX_WASM_PAGES, WASM_PAGE, type BankSpec, type BankWindow, type Layout } from './engine/layout.js';
import type { Kconfig } from './include/kconfig.js';
import { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, zoneNames } from './mm/gfp.js';
import { KernelImage, KIMAGE_BYTES, type Section, SECTIONS } from './mm/kimage.js';
import { Memblock } from './mm/memblock.js';
import {
  __pa, __va, isKernelImageAddr, isLinearMapAddress, isPageHandle, isVmallocAddr,
  PAGE_SIZE, pageToPfn, pfnToPage, type Page,
} from './mm/memory.js';
import { PageAllocator } from './mm/page_alloc.js';
import { Slab } from './mm/slab.js';
import { Vmalloc } from './mm/vmalloc.js';
import { KernelLog } from './lib/printk.js';
import { checkAddr, checkIntIn, checkNumber, checkPowerOfTwo, checkSize } from './lib/validate.js';
import { resolveLoad, resolveOptions, type CacheOptions, type LoadOptions, type MachineOptions, type ResolvedOptions } from './options.js';

export type { CacheOptions, LoadOptions, MachineOptions } from './options.js';
export type { KernelConfig } from './include/kconfig.js';
export type { Stats } from './engine/port.js';

const U32_MAX = 0xffff_ffff;

export type LineState = 'invalid' | 'clean' | 'dirty';

/** Boots a machine. Every option is checked before any memory is created. */
/** A delay argument: a non-negative finite number (the kernel's are unsigned). */
function checkDelay(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DmaSimTypeError(fn, arg, `must be a finite number, got ${String(v)}`);
  if (v < 0) throw new DmaSimRangeError(fn, arg, `must not be negative, got ${v}`);
  return v;
}

/** isRam() and physToOffset() answer "no" for any number; anything else is no question at all. */
function refuseQuery(fn: string, phys: unknown, len: unknown): never {
  checkNumber(fn, 'phys', phys);
  checkNumber(fn, 'len', len);
  throw new DmaSimTypeError(fn, 'phys', 'must be a number');
}

export async function createMachine(opts: MachineOptions = {}): Promise<Machine> {
  const r = resolveOptions(opts);
  const layout = computeLayout(r.banks, r.cache);
  if (layout.pages > MAX_WASM_PAGES) {
    throw new DmaSimRangeError('createMachine', 'ram', `needs ${layout.totalBytes} bytes of WASM memory, more than the 4 GiB a 32-bit WebAssembly memory can hold`);
  }
  const module = await compileCore(opts.core, 'createMachine');
  const memory = new WebAssembly.Memory({ initial: layout.pages, maximum: layout.pages, shared: true });
  const m = new Machine(r, layout, memory, instantiateCore(module, memory));
  setCurrentMachine(m);
  return m;
}

/** Raw cache line operations on physical ranges (what the arch DMA hooks use). */
export interface CacheOps {
  clean(phys: number, len: number): void;
  invalidate(phys: number, len: number): void;
  cleanInvalidate(phys: number, len: number): void;
  lineState(phys: number): LineState;
  readonly lineSize: number;
}

export class Machine implements DmaHost {
  readonly arch: Arch;
  readonly config: Kconfig;
  readonly seed: number;
  readonly log: KernelLog;
  readonly memblock: Memblock;
  readonly pages: PageAllocator;
  readonly slab: Slab;
  readonly vm: Vmalloc;
  readonly kimage: KernelImage;
  readonly cpu: Cpu;
  readonly cache: CacheOps;
  /** The D-cache maintenance the arch DMA hooks issue, and its pending queue when batched. */
  readonly dcache: DcacheMaintenance;
  /** io_tlb_default_mem: the swiotlb pool, or null when the kernel would not have made one. */
  readonly swiotlb: Swiotlb | null;
  readonly atomicPools: DmaAtomicPools | null;
  /** The IOMMU devices created with `iommu` sit behind (iommu.c's state and the hardware). */
  readonly iommu: Iommu;
  /** /sys/kernel/debug, and /sys/kernel/tracing (tracefs) through the same interface. */
  readonly debugfs = new Debugfs();
  /** m.tracefs: the debugfs interface, for paths under /sys/kernel/tracing. */
  readonly tracefs = this.debugfs;
  /** The top-level trace instance behind /sys/kernel/tracing. */
  readonly traceArray: TraceArray;
  /**
   * The tracepoint hooks mapping.ts and swiotlb call (trace/events/dma.h, swiotlb.h): null
   * unless an event is enabled or a timeline recorder listens, so the hot path makes no call.
   */
  dmaTrace: DmaTraceHooks | null = null;
  private readonly traceEvents: DmaTraceEvents;
  private readonly traceListeners: DmaTraceHooks[] = [];
  /**
   * The timeline recorder: m.trace.start() begins recording, m.trace.stop() ends it and returns
   * Chrome trace-event JSON (open it in ui.perfetto.dev or chrome://tracing).
   */
  readonly trace = {
    start: (): void => this.startTimeline(),
    stop: (): TraceEventJson => this.stopTimeline(),
  };
  private timeline: { readonly rec: TimelineRecorder; readonly detach: () => void } | null = null;
  /** What a timeline recorder reads, made once: every recording calls the same functions. */
  private timelineHost: TimelineHost | null = null;
  /**
   * The hooks mapping.ts calls: null when neither CONFIG_DMA_API_DEBUG's checker (or it was
   * disabled at boot) nor the data-aware checker is attached, so the hot path makes no call.
   */
  dmaDebug: DmaDebugHooks | null = null;
  /** kernel/dma/debug.c's state with CONFIG_DMA_API_DEBUG (present even when disabled), else null. */
  readonly dmaDebugState: DmaDebug | null = null;
  /** The data-aware checker (createMachine({ dataCheck: true })), else null. */
  readonly dataCheck: DmaDataCheck | null = null;
  /** What debug.c's __setup() handlers parsed from the command line. */
  private readonly dmaDebugBoot = new DmaDebugBoot();
  /** zone_dma_limit and the end of ZONE_DMA32 (inclusive physical limits). */
  readonly zoneDmaLimit: number;
  readonly zoneDma32Limit: number;
  /** dma_get_cache_alignment() */
  readonly dmaCacheAlignment: number;
  readonly costModel: CostModel;
  /** The cache as configured: createMachine's `cache` option with its defaults filled in. */
  readonly cacheConfig: Readonly<Required<CacheOptions>>;
  /** Simulated time and the events on it (hw/time.ts). */
  readonly clock: Clock;
  /** Device register windows and ioremap() (hw/mmio.ts). */
  readonly mmio: Mmio;
  /** The interrupt controller and the generic IRQ layer (hw/irq.ts). */
  readonly irq: IrqChip;
  /** Boot parameters the command line set, by name (for subsystems that read them later). */
  readonly params = new Map<string, string | undefined>();
  /** What `swiotlb=` set (setup_io_tlb_npages()), for swiotlb_init_remap(); null: the defaults. */
  private ioTlbParams: SwiotlbParams | null = null;
  /** The engine port: every engine call of the library goes through it (engine/port.ts). */
  readonly port: EnginePort;
  /**
   * The engine's raw exports, its memory and a byte view of it (the memory never grows, so the
   * view never goes stale): for white-box tests and benchmarks; the library uses `port`.
   */
  readonly core: CoreExports;
  readonly memory: WebAssembly.Memory;
  readonly u8: Uint8Array;
  readonly layout: Layout;
  /** Counters the host keeps (the engine keeps the rest in its counter block). */
  readonly hostStats: HostStats = { barriers: 0, cpuBarriers: 0, dmaOps: 0, iommuMaps: 0, iotlbFlushes: 0, iommuFaults: 0 };
  private lastBank: BankWindow;
  private readonly stackTop: number;
  private stackNext: number;

  /** @internal use createMachine() */
  constructor(r: ResolvedOptions, layout: Layout, memory: WebAssembly.Memory, core: CoreExports) {
    this.arch = r.arch;
    this.config = r.config;
    this.seed = r.seed;
    this.cacheConfig = r.cache;
    this.layout = layout;
    this.memory = memory;
    this.core = core;
    this.u8 = new Uint8Array(memory.buffer);
    this.lastBank = layout.banks[0] as BankWindow;
    this.port = new EnginePort(core, memory, layout, { ...r.cache, seed: r.seed });
    this.costModel = new CostModel(r.arch, r.costModel);
    this.clock = new Clock({ workNs: () => this.workNs(), onEventError: (name, err) => this.eventError(name, err) });
    this.log = new KernelLog(() => this.clock.now());
    this.log.pr_info('Linux version 7.1.0-dmasim (dmasim@localhost) #1 SMP PREEMPT');
    // setup_arch(): the machine's name, the early parameters, the zones.
    if (!r.arch.bootBannerAfterEarlyParams) this.log.pr_info(r.arch.bootBanner);

    this.memblock = new Memblock(r.banks);
    const first = r.banks[0] as BankSpec;
    this.memblock.reserve(first.base, KIMAGE_BYTES);
    this.kimage = new KernelImage(first.base);
    const params = this.bootParams();
    parse_early_param(r.cmdline, params, this.log);
    if (r.arch.bootBannerAfterEarlyParams) this.log.pr_info(r.arch.bootBanner);

    const limits = r.arch.zoneLimits(r.banks);
    this.zoneDmaLimit = limits.dma - 1;
    this.zoneDma32Limit = limits.dma32 - 1;
    this.dmaCacheAlignment = r.arch.dmaCacheAlignment(r.cache.lineSize);
    const zones = this.zoneSpans(limits.dma, limits.dma32);
    // start_kernel(): the command line and its __setup() parameters, then the log buffer.
    parse_args(r.cmdline, params, this.log);
    this.log.setupLogBuf();
    this.swiotlb = this.swiotlbSetup(limits);
    this.pages = new PageAllocator({ zones, log: this.log, freeRanges: this.memblock.freeRanges() });
    this.slab = new Slab({ pages: this.pages, log: this.log, minalign: this.kmallocMinalign() });
    this.vm = new Vmalloc({ pages: this.pages, log: this.log });

    // The current task's stack: vmalloc'd, as with CONFIG_VMAP_STACK (kernel/fork.c).
    const stack = this.vm.vmalloc(r.arch.threadSize);
    this.stackTop = stack + r.arch.threadSize;
    this.stackNext = this.stackTop;

    this.mmio = new Mmio({ vm: this.vm, isRam: (phys, len) => this.isRam(phys, len), ramWarning: (phys, last) => this.arch.ioremapRamWarning(this.log, phys, last) });
    this.irq = new IrqChip({
      clock: this.clock,
      warn: (site, text) => this.log.warn(site, text),
      onHandlerError: (name, err) => this.eventError(name, err),
    });
    this.debugfs.create('/proc/interrupts', { read: () => this.irq.show_interrupts() });
    this.cpu = new Cpu(this, r.seed);
    this.port.stores = this.cpu;
    this.cache = this.cacheOps(r.cache.lineSize);
    this.dcache = new DcacheMaintenance(this);
    this.setLoad(r.load);

    // core_initcall(dma_debug_init) and core_initcall_sync(dma_debug_fs_init).
    if (r.config.DMA_API_DEBUG) {
      this.dmaDebugState = new DmaDebug(this, { boot: this.dmaDebugBoot, stackBase: stack, stackPfns: this.vm.areaOf(stack)?.pfns ?? [] });
    }
    if (r.dataCheck) {
      const check = new DmaDataCheck(this);
      this.dataCheck = this.port.probe = check;
      this.pages.ownerChanged = (phys, len) => check.forget(phys, len);
    }
    // postcore_initcall(dma_atomic_pool_init)
    this.atomicPools = r.arch.dmaCoherentPool ? new DmaAtomicPools(this, this.params.get('coherent_pool')) : null;
    // subsys_initcall(iommu_subsys_init)
    this.iommu = new Iommu(this, this.params);
    const dbg = this.dmaDebugState !== null && !this.dmaDebugState.globalDisable ? this.dmaDebugState : null;
    this.dmaDebug = dbg !== null && this.dataCheck !== null ? teeHooks(dbg, this.dataCheck) : dbg ?? this.dataCheck;
    // fs_initcall(tracer_init_tracefs) and the dma and swiotlb event systems.
    this.traceArray = new TraceArray(this.debugfs, {
      now: () => this.clock.now(),
      nrCpus: 1,
      comm: 'dmasim',
      pid: 1,
      onEnableChange: () => this.updateTraceHooks(),
    });
    this.traceEvents = new DmaTraceEvents(this.traceArray, (p) => hashPointer(ptrHashKey(this.seed), p));
    // rootfs_initcall(pci_iommu_init): x86_64 announces its bounce buffers only now.
    if (r.arch.swiotlbBanner !== null && this.swiotlb !== null) {
      this.log.pr_info(r.arch.swiotlbBanner);
      this.swiotlb.swiotlb_print_info();
    }
  }

  /** Points dmaTrace at whoever listens: the enabled ftrace events and any timeline recorder. */
  private updateTraceHooks(): void {
    const layers = this.traceArray.anyEnabled() ? [this.traceEvents, ...this.traceListeners] : this.traceListeners;
    this.dmaTrace = teeTraceHooks(layers);
  }

  private startTimeline(): void {
    if (this.timeline !== null) throw new DmaSimRangeError('m.trace.start', 'this', 'is already recording: call m.trace.stop() first');
    const rec = new TimelineRecorder(this.timelineHost ??= {
      now: () => this.clock.now(),
      log: this.log,
      dataCheck: this.dataCheck,
      lineSize: this.cache.lineSize,
      swiotlbSlotsUsed: () => this.swiotlb?.totalUsed ?? 0,
      storeBufferDepth: () => this.cpu.pendingStores,
      dirtyLines: () => this.port.dirtyLines(),
      barriers: () => this.hostStats.barriers + this.hostStats.cpuBarriers,
    });
    this.timeline = { rec, detach: this.addTraceListener(rec) };
  }

  private stopTimeline(): TraceEventJson {
    const t = this.timeline;
    if (t === null) throw new DmaSimRangeError('m.trace.stop', 'this', 'is not recording: call m.trace.start() first');
    t.detach();
    this.timeline = null;
    return t.rec.finish({ arch: this.arch.name, seed: String(this.seed), clock: 'simulated ns (m.now())' });
  }

  /** Attaches a tracepoint listener (a timeline recorder); returns what detaches it. */
  addTraceListener(hooks: DmaTraceHooks): () => void {
    this.traceListeners.push(hooks);
    this.updateTraceHooks();
    return () => {
      const i = this.traceListeners.indexOf(hooks);
      if (i >= 0) this.traceListeners.splice(i, 1);
      this.updateTraceHooks();
    };
  }

  /**
   * __kmalloc_minalign(): ARCH_KMALLOC_MINALIGN where swiotlb can bounce unaligned kmalloc
   * buffers (DMA_BOUNCE_UNALIGNED_KMALLOC with a pool allocated); otherwise the DMA cache
   * alignment, so that small buffers never share a line.
   */
  private kmallocMinalign(): number {
    const bounce = this.arch.kmallocBounce && this.swiotlb !== null;
    return Math.max(bounce ? 1 : this.dmaCacheAlignment, this.arch.kmallocMinalign);
  }

  /** The swiotlb part of mm_core_init(): sized by the arch and `swiotlb=`, reserved from memblock. */
  private swiotlbSetup(limits: { dma: number; dma32: number }): Swiotlb | null {
    const p = this.ioTlbParams ?? setup_io_tlb_npages(undefined, this.log);
    const ram = { end: this.memblock.end(), total: this.memblock.memory.reduce((t, b) => t + b.size, 0) };
    const needed = this.arch.swiotlbNeeded(ram, limits, (size) => swiotlb_adjust_size(p, size, this.log));
    const pool = swiotlb_init_remap(this, p, needed, this.arch.swiotlbLowLimit(limits), this.arch.swiotlbBanner === null);
    this.debugfs.mkdir('/sys/kernel/debug/swiotlb');
    pool?.swiotlb_create_debugfs_files(this.debugfs);
    return pool;
  }

  /** Makes this the machine that calls without a device argument act on (see current.ts). */
  makeCurrent(): void {
    setCurrentMachine(this);
  }

  /** Zone spans over the RAM, printed as free_area_init() prints them. */
  private zoneSpans(dmaLimit: number, dma32Limit: number): { id: number; startPfn: number; endPfn: number }[] {
    const start = this.memblock.start();
    const end = this.memblock.end();
    const bounds: [number, number, number][] = [
      [ZONE_DMA, start, Math.max(start, Math.min(dmaLimit, end))],
      [ZONE_DMA32, Math.max(start, Math.min(dmaLimit, end)), Math.max(start, Math.min(dma32Limit, end))],
      [ZONE_NORMAL, Math.max(start, Math.min(dma32Limit, end)), end],
    ];
    this.log.pr_info('Zone ranges:');
    for (const [id, lo, hi] of bounds) {
      const name = (zoneNames[id] ?? '').padEnd(8);
      this.log.pr_info(hi > lo ? `  ${name} [mem ${pa(lo)}-${pa(hi - 1)}]` : `  ${name} empty`);
    }
    this.log.pr_info('Movable zone start for each node');
    this.log.pr_info('Early memory node ranges');
    for (const b of this.memblock.memory) this.log.pr_info(`  node   0: [mem ${pa(b.base)}-${pa(b.base + b.size - 1)}]`);
    this.log.pr_info(`Initmem setup node 0 [mem ${pa(start)}-${pa(end - 1)}]`);
    return bounds.map(([id, lo, hi]) => ({ id, startPfn: lo / PAGE_SIZE, endPfn: hi / PAGE_SIZE }));
  }

  /**
   * The boot parameters dmasim understands; each subsystem reads its own from `params`. All are
   * early_param()s but dma-debug's __setup("dma_debug_driver=").
   */
  private bootParams(): Map<string, BootParam> {
    const store = (name: string): ParamHandler => (value) => {
      this.params.set(name, value);
      if (name.startsWith('dma_debug')) this.dmaDebugBoot.param(name, value, this.log);
      return true;
    };
    // A parameter exists where its code is built (debug.c's with CONFIG_DMA_API_DEBUG, pool.c's
    // with CONFIG_DMA_COHERENT_POOL); elsewhere it is unknown, as on such a kernel.
    const names = [
      ...(this.config.DMA_API_DEBUG ? ['dma_debug', 'dma_debug_entries', 'dma_debug_driver'] : []),
      ...(this.arch.dmaCoherentPool ? ['coherent_pool'] : []),
    ];
    const handlers = new Map<string, ParamHandler>(names.map((n) => [n, store(n)]));
    // setup_io_tlb_npages() parses (and may print "area num") as the parameter is met.
    handlers.set('swiotlb', (value) => {
      this.ioTlbParams = setup_io_tlb_npages(value, this.log);
      return store('swiotlb')(value);
    });
    // iommu.c's early_params take a kstrtobool() value; anything else is "Malformed".
    for (const n of ['iommu.passthrough', 'iommu.strict']) handlers.set(n, (value) => kstrtobool(value) !== null && store(n)(value));
    // log_buf_len_setup(), kernel/printk/printk.c: a missing value is -EINVAL ("Malformed").
    handlers.set('log_buf_len', (value) => value !== undefined && (this.log.logBufLenUpdate(memparse(value)), true));
    // iommu_dma_forcedac_setup(), drivers/iommu/dma-iommu.c.
    handlers.set('iommu.forcedac', (value) => {
      const on = kstrtobool(value);
      if (on === true) this.log.pr_info('Forcing DAC for PCI devices');
      return on !== null && store('iommu.forcedac')(value);
    });
    const params = new Map([...handlers].map(([n, setup]) => [n, { early: n !== 'dma_debug_driver', setup }]));
    for (const [n, p] of CORE_BOOT_PARAMS) params.set(n, p);
    return params;
  }

  // ---- addresses ------------------------------------------------------------------------

  /**
   * The WASM offset of physical [phys, phys + len) if one bank holds it all, else -1. Every map
   * asks this several times for the same buffer, so the last bank found is tried first.
   */
  physToOffset(phys: number, len: number): number {
    const last = this.lastBank;
    if (typeof phys === 'number' && typeof len === 'number' && phys >= last.base && phys + len <= last.base + last.size) return last.offset + (phys - last.base);
    return this.physToOffsetSlow(phys, len);
  }

  /** physToOffset() outside the last bank found, kept apart so that the common case inlines. */
  private physToOffsetSlow(phys: number, len: number): number {
    if (typeof phys !== 'number' || typeof len !== 'number') refuseQuery('physToOffset', phys, len);
    for (const b of this.layout.banks) {
      if (phys >= b.base && phys + len <= b.base + b.size) {
        this.lastBank = b;
        return b.offset + (phys - b.base);
      }
    }
    return -1;
  }

  /** pfn_valid() for a whole range: every byte in RAM. */
  isRam(phys: number, len: number): boolean {
    if (typeof phys !== 'number' || typeof len !== 'number') refuseQuery('isRam', phys, len);
    return this.physToOffset(phys, Math.max(len, 1)) >= 0;
  }

  /** The physical address behind a kernel virtual address, or -1 (linear map, kernel image, vmalloc). */
  translate(virt: number): number {
    checkNumber('translate', 'virt', virt);
    if (isLinearMapAddress(virt)) {
      const phys = __pa(virt);
      return this.isRam(phys, 1) ? phys : -1;
    }
    if (isKernelImageAddr(virt)) return this.kimage.toPhys(virt);
    if (isVmallocAddr(virt)) return this.vm.translate(virt);
    return -1;
  }

  /** virt_to_phys(): linear-map and kernel-image addresses (arm64 __virt_to_phys). */
  virt_to_phys(ptr: number): number {
    return this.linearPhys('virt_to_phys', ptr);
  }

  /** The physical address behind a linear-map or kernel-image address, or a refusal naming `fn`. */
  private linearPhys(fn: string, ptr: number): number {
    checkAddr(fn, 'ptr', ptr);
    const phys = isVmallocAddr(ptr) ? -1 : this.translate(ptr);
    if (phys < 0) throw new DmaSimRangeError(fn, 'ptr', `0x${ptr.toString(16)} is not a linear-map or kernel-image address backed by RAM`);
    return phys;
  }

  /** phys_to_virt(): the linear-map alias. */
  phys_to_virt(phys: number): number {
    checkAddr('phys_to_virt', 'phys', phys);
    if (!this.isRam(phys, 1)) throw new DmaSimRangeError('phys_to_virt', 'phys', `0x${phys.toString(16)} is in no RAM bank`);
    return __va(phys);
  }

  // ---- the page allocator, kmalloc, vmalloc, stack and statics --------------------------

  alloc_pages(gfp: number, order: number): Page | null {
    checkIntIn('alloc_pages', 'gfp', gfp, 0, U32_MAX);
    checkIntIn('alloc_pages', 'order', order, 0, 63);
    const pfn = this.pages.alloc_pages(gfp, order);
    return pfn < 0 ? null : pfnToPage(pfn);
  }

  __free_pages(page: Page, order: number): void {
    this.checkPage('__free_pages', page);
    checkIntIn('__free_pages', 'order', order, 0, 63);
    this.pages.free_pages(pageToPfn(page), order);
  }

  page_address(page: Page): number {
    this.checkPage('page_address', page);
    return __va(pageToPfn(page) * PAGE_SIZE);
  }

  virt_to_page(ptr: number): Page {
    return pfnToPage(Math.floor(this.linearPhys('virt_to_page', ptr) / PAGE_SIZE));
  }

  page_to_phys(page: Page): number {
    this.checkPage('page_to_phys', page);
    return pageToPfn(page) * PAGE_SIZE;
  }

  private checkPage(fn: string, page: unknown): void {
    if (typeof page !== 'number' || !isPageHandle(page)) throw new DmaSimTypeError(fn, 'page', 'must be a struct page handle from alloc_pages() or virt_to_page()');
    if (!this.isRam(pageToPfn(page as Page) * PAGE_SIZE, PAGE_SIZE)) throw new DmaSimRangeError(fn, 'page', 'names no page of RAM');
  }

  kmalloc(size: number, gfp: number): number {
    return this.kmallocAs('kmalloc', size, gfp);
  }

  private kmallocAs(fn: string, size: number, gfp: number): number {
    checkSize(fn, 'size', size);
    checkIntIn(fn, 'gfp', gfp, 0, U32_MAX);
    return this.slab.kmalloc(size, gfp);
  }

  /** kzalloc(): kmalloc, then a CPU memset through the cache, as the kernel zeroes it. */
  kzalloc(size: number, gfp: number): number {
    const p = this.kmallocAs('kzalloc', size, gfp);
    if (p > 16 && size > 0) this.cpu.fill(p, size, 0);
    return p;
  }

  kfree(ptr: number): void {
    checkAddr('kfree', 'ptr', ptr);
    this.slab.kfree(ptr);
  }

  vmalloc(size: number): number {
    checkSize('vmalloc', 'size', size);
    return this.vm.vmalloc(size);
  }

  vfree(ptr: number): void {
    checkAddr('vfree', 'ptr', ptr);
    this.vm.vfree(ptr);
  }

  /** An on-stack object of the current task (its stack is vmalloc'd, CONFIG_VMAP_STACK). */
  stackAlloc(size: number): number {
    checkSize('stackAlloc', 'size', size);
    const at = Math.floor((this.stackNext - size) / 16) * 16;
    if (at < this.stackTop - this.arch.threadSize) throw new DmaSimRangeError('stackAlloc', 'size', `overflows the ${this.arch.threadSize}-byte kernel stack`);
    this.stackNext = at;
    return at;
  }

  /** A static object in the kernel image: `static u8 buf[size]` in .text, .rodata, .data or .bss. */
  staticAlloc(section: Section, size: number, align = 8): number {
    if (!SECTIONS.includes(section)) throw new DmaSimRangeError('staticAlloc', 'section', `must be one of ${SECTIONS.join(', ')}, got ${String(section)}`);
    checkSize('staticAlloc', 'size', size);
    checkPowerOfTwo('staticAlloc', 'align', align, 1, PAGE_SIZE);
    const at = this.kimage.alloc(section, size, align);
    if (at === 0) throw new DmaSimRangeError('staticAlloc', 'size', `does not fit in what is left of .${section}`);
    return at;
  }

  // ---- devices, load, counters ----------------------------------------------------------

  createDevice(opts: DeviceOptions): Device {
    if (typeof opts !== 'object' || opts === null) throw new DmaSimTypeError('createDevice', 'options', 'must be an object with at least a name');
    const model = opts.model;
    if (model !== undefined && (typeof model !== 'object' || model === null || typeof model.attach !== 'function')) {
      throw new DmaSimTypeError('createDevice', 'model', 'must be a device model (dmasim/devices)');
    }
    const dev = new Device(this, opts, (d, o) => this.probeIommu(d, o));
    model?.attach(dev, this.modelHost);
    return dev;
  }

  /**
   * iommu_probe_device(), then iommu_setup_dma_ops() once the default domain is attached: a DMA
   * domain gets dma-iommu's cookie (iommu_dma_init_domain()).
   */
  private probeIommu(dev: Device, opts: DeviceIommuOptions): DevIommu {
    const d = this.iommu.probeDevice(dev, opts);
    if (d.translates) iommu_dma_init_domain(this, d.domain);
    return d;
  }

  /**
   * device_release_driver(): the driver is released from the device. dev->driver is NULL by the
   * time the bus notifies BUS_NOTIFY_UNBOUND_DRIVER, where dma-debug checks for leaked mappings.
   * Releasing a device that has no driver does nothing.
   */
  unbind(dev: Device): void {
    if (!(dev instanceof Device) || dev.machine !== this) throw new DmaSimTypeError('unbind', 'dev', 'must be a device of this machine (m.createDevice())');
    if (!dev.bound) return;
    dev.bound = false;
    this.dmaDebug?.driver_unbound(dev);
  }

  /** Changes the load knobs (see LoadOptions); the random stream continues from the seed. */
  setLoad(load: LoadOptions): void {
    const l = resolveLoad('setLoad', load);
    const scale = (p: number): number => Math.round(p * KNOB_ONE);
    this.port.setLoad(scale(l.evictionPressure), scale(l.speculation));
    this.cpu.setStoreReordering(l.storeReordering);
    this.cpu.setLoadReordering(l.loadReordering);
  }

  stats(): Stats {
    const c = (i: number): number => this.port.counter(i);
    return {
      cacheHits: c(CNT_CACHE_HITS),
      cacheMisses: c(CNT_CACHE_MISSES),
      evictions: c(CNT_EVICTIONS),
      dirtyLinesWrittenBack: c(CNT_DIRTY_WRITTEN_BACK),
      dirtyLinesDiscarded: c(CNT_DIRTY_DISCARDED),
      cacheLinesCleaned: c(CNT_LINES_CLEANED),
      cacheLinesInvalidated: c(CNT_LINES_INVALIDATED),
      cacheMaintenanceOps: c(CNT_MAINTENANCE_OPS),
      speculativeFills: c(CNT_SPECULATIVE_FILLS),
      snoops: c(CNT_SNOOPS),
      bounceBytes: c(CNT_CPU_COPY_BYTES),
      cpuBytesRead: c(CNT_CPU_BYTES_READ),
      cpuBytesWritten: c(CNT_CPU_BYTES_WRITTEN),
      uncachedBytes: c(CNT_UNCACHED_BYTES),
      deviceBytesRead: c(CNT_DEV_BYTES_READ),
      deviceBytesWritten: c(CNT_DEV_BYTES_WRITTEN),
      ...this.hostStats,
      swiotlbSlotsUsed: this.swiotlb?.totalUsed ?? 0,
    };
  }

  /** Simulated nanoseconds by category under the arch's cost model (cost.ts). */
  cost(): ReturnType<CostModel['evaluate']> {
    return this.costModel.evaluate(this.stats());
  }

  /**
   * The cost model's total from the priced counters alone. The clock samples it at every DMA API
   * call and register access while a timer is pending, so it reads the 64-bit counters as two
   * 32-bit halves (no BigInt) into one reused object.
   */
  private workNs(): number {
    const u64 = (i: number): number => this.port.counter(i);
    const p = this.priced;
    const h = this.hostStats;
    p.cacheMaintenanceOps = u64(CNT_MAINTENANCE_OPS);
    p.dirtyLinesWrittenBack = u64(CNT_DIRTY_WRITTEN_BACK);
    p.bounceBytes = u64(CNT_CPU_COPY_BYTES);
    p.barriers = h.barriers;
    p.dmaOps = h.dmaOps;
    p.iommuMaps = h.iommuMaps;
    p.iotlbFlushes = h.iotlbFlushes;
    return this.costModel.evaluate(p).total;
  }

  private readonly priced: PricedCounters = {
    cacheMaintenanceOps: 0, dirtyLinesWrittenBack: 0, bounceBytes: 0, barriers: 0, dmaOps: 0, iommuMaps: 0, iotlbFlushes: 0,
  };

  // ---- simulated time (hw/time.ts) -------------------------------------------------------

  /** ktime_get_ns(): simulated nanoseconds since boot. */
  now(): number {
    return this.clock.now();
  }

  /** ndelay(): busy-wait; the events due meanwhile run at their deadlines. */
  ndelay(ns: number): void {
    this.clock.advance(checkDelay('ndelay', 'ns', ns));
  }

  udelay(us: number): void {
    this.clock.advance(checkDelay('udelay', 'us', us) * 1e3);
  }

  /** msleep(): the task sleeps; timers and devices run meanwhile. */
  msleep(ms: number): void {
    this.clock.advance(checkDelay('msleep', 'ms', ms) * 1e6);
  }

  /** A device model's (or a test's) work, run at the first interleaving point delayNs from now. */
  schedule(delayNs: number, fn: () => void): TimerEvent {
    return this.clock.schedule('schedule', delayNs, typeof fn === 'function' && fn.name !== '' ? fn.name : 'schedule', fn);
  }

  // ---- MMIO and interrupts (hw/mmio.ts, hw/irq.ts) -----------------------------------------

  /** ioremap(): an `__iomem` address for a device's registers; NULL (0) for RAM (with the WARN) or size 0. */
  ioremap(phys: number, size: number): number {
    checkAddr('ioremap', 'phys', phys);
    checkSize('ioremap', 'size', size);
    return this.mmio.ioremap(phys, size);
  }

  iounmap(addr: number): void {
    checkAddr('iounmap', 'addr', addr);
    this.mmio.iounmap(addr);
  }

  /** request_irq(): 0, -EINVAL (no such line, no handler) or -EBUSY (taken, not shared). */
  request_irq(irq: number, handler: IrqHandler, name: string, devId?: unknown, flags = 0): number {
    return this.irq.request_irq(irq, handler, name, devId, flags);
  }

  /** free_irq(): the name the handler was requested with, or null (WARN) if it was not. */
  free_irq(irq: number, devId?: unknown): string | null {
    return this.irq.free_irq(irq, devId);
  }

  disable_irq(irq: number): void {
    this.irq.disable_irq(irq);
  }

  enable_irq(irq: number): void {
    this.irq.enable_irq(irq);
  }

  local_irq_save(): number {
    return this.irq.local_irq_save();
  }

  local_irq_restore(flags: number): void {
    this.irq.local_irq_restore(flags);
  }

  /** What device models plug into (hw/model.ts). */
  private get modelHost(): ModelHost {
    return { clock: this.clock, mmio: this.mmio, irq: this.irq, seed: this.seed };
  }

  /** A callback threw: reported as an oops line, the machine keeps running. */
  private eventError(name: string, err: unknown): void {
    this.eventErrors.push({ name, error: err });
    this.log.pr_err(`${name}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }

  /** Callbacks (timers, device models, interrupt handlers) that threw, in order. */
  readonly eventErrors: { name: string; error: unknown }[] = [];

  dmesg(): string[] {
    return this.log.lines();
  }

  /** Bytes of WASM memory the machine uses. */
  get memoryBytes(): number {
    return this.layout.pages * WASM_PAGE;
  }

  private cacheOps(lineSize: number): CacheOps {
    const range = (fn: string, phys: number, len: number): number => {
      checkAddr(`cache.${fn}`, 'phys', phys);
      checkSize(`cache.${fn}`, 'len', len);
      const off = this.physToOffset(phys, Math.max(len, 1));
      if (off < 0) throw new DmaSimRangeError(`cache.${fn}`, 'phys', `[0x${phys.toString(16)}, +${len}) is not inside one RAM bank`);
      return off;
    };
    const port = this.port;
    return {
      lineSize,
      clean: (phys, len) => {
        port.clean(range('clean', phys, len), len);
      },
      invalidate: (phys, len) => {
        port.invalidate(range('invalidate', phys, len), len);
      },
      cleanInvalidate: (phys, len) => {
        port.cleanInvalidate(range('cleanInvalidate', phys, len), len);
      },
      lineState: (phys) => {
        const s = port.lineState(range('lineState', phys, 1));
        return s === LINE_DIRTY ? 'dirty' : s === LINE_CLEAN ? 'clean' : 'invalid';
      },
    };
  }
}

