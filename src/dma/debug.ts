// CONFIG_DMA_API_DEBUG: kernel/dma/debug.c (and its hook list, include/linux/dma-debug.h).
// dma-mapping calls the hooks at the points kernel/dma/mapping.c calls debug_dma_*(); with
// DMA_API_DEBUG off the machine has no hooks at all (m.dmaDebug is null), so the hot path pays
// one null test and makes no call.
//
// Followed line by line: entry allocation from a free list with the kernel's page-sized growth
// (the pages really come from the simulated page allocator, so running out of memory disables the
// checker as it does the kernel's), the 16,384-bucket hash keyed by (dev_addr >> 13), best-fit
// lookup with its NULL-on-ambiguity rule, every err_printk() of debug.c with its format string
// (quirks included), the error budget (num_errors/all_errors/error_count) and the driver filter,
// the active-cacheline tracker, the leak check at driver release, and the debugfs files.
//
//   entries (struct of arrays, one slot per struct dma_debug_entry, index = entry number)
//   +------+----------+------+-------+------+-----+--------+----------+-----------+--------+------+
//   | dev  | dev_addr | size | paddr | type | dir | map_err| sg_call  | sg_mapped | clean  | call |
//   +------+----------+------+-------+------+-----+--------+----------+-----------+--------+------+
//   nx/pv: the entry's list_head, on a bucket list (doubly linked, insertion order) or on the free
//   list (singly linked through nx, LIFO as list_add() makes it).
//
// The pool's entries are numbered as they are first handed out: the free list holds the entries
// given back, and behind them the ones never used yet, a range that needs no threading (the
// kernel threads each page's entries onto the list when it allocates the page). Which free entry
// is taken is never visible, only how many there are.
//
// What dmasim cannot have, and what stands in for it:
// - stack_trace_save(): there is no kernel stack to save. Each entry records which API entry
//   point created it, and "Mapped at:" prints a synthetic call chain for it: the frames debug.c's
//   trace would show inside the DMA layer (innermost first, as stack_trace_print() prints them),
//   ending with the function the driver called. Frames carry no +offset/size.
// - %p prints a hashed pointer: "00000000" and 32 bits of a hash keyed by the machine's seed
//   (siphash keyed by boot-time randomness in the kernel), so logs stay deterministic.
// - check_for_illegal_area() compares the linear-map alias of the mapped page with _stext/_etext
//   and __start_rodata/__end_rodata, as the kernel does. On arm64 and x86_64 the kernel image is
//   mapped apart from the linear map, so the two never intersect and the check never fires.
// - After a driver is released dev->driver is NULL, so dev_driver_string() is the bus name: "pci"
//   for a device named like a PCI address (0000:01:00.0), "platform" otherwise.

import { dev_bus_name, dev_is_pci, type Device, type DmaHost } from './device.js';
import {
  DMA_ATTR_DEBUGGING_IGNORE_CACHELINES, DMA_ATTR_MMIO, DMA_ATTR_REQUIRE_COHERENT, DMA_ATTR_SKIP_CPU_SYNC,
  DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE, dir2name, U64_MAX, type DmaDirection,
} from '../include/dma-mapping.js';
import { kstrtoull, type Debugfs, type DebugfsFile } from '../lib/debugfs.js';
import { GFP_ATOMIC, GFP_KERNEL } from '../mm/gfp.js';
import { __pa, __va, archIsVmallocAddr, isLinearMapAddress, isVmallocAddr, PAGE_OFFSET, PAGE_SIZE, PHYS_ADDR_LIMIT } from '../mm/memory.js';
import { KERN_INFO, KERN_WARNING, type KernelLog, type Site } from '../lib/printk.js';
import { WARN_SITES } from '../lib/warn-sites.js';
import { sg_phys, type Scatterlist } from './scatterlist.js';
import { hashPointer, llx, pa, ptrHashKey, x016 } from '../lib/vsprintf.js';
import type { DmaApiCall, DmaDebugHooks } from './debug-hooks.js';

// ---- constants of debug.c ------------------------------------------------------------------------

export const HASH_SIZE = 16384;
export const HASH_FN_SHIFT = 13;
const HASH_FN_MASK = HASH_SIZE - 1;
export const PREALLOC_DMA_DEBUG_ENTRIES = 1 << 16;
/**
 * sizeof(struct dma_debug_entry) on arm64 with CONFIG_STACKTRACE: 112 bytes of fields (list,
 * dev, dev_addr, size, type, direction, sg counts, paddr, map_err_type, stack_len, 5 stack
 * entries), ____cacheline_aligned_in_smp to 128 (L1_CACHE_BYTES is 64).
 */
export const DMA_DEBUG_ENTRY_SIZE = 128;
/** DMA_DEBUG_DYNAMIC_ENTRIES: PAGE_SIZE / sizeof(struct dma_debug_entry). */
export const DMA_DEBUG_DYNAMIC_ENTRIES = PAGE_SIZE / DMA_DEBUG_ENTRY_SIZE;
export const NAME_MAX_LEN = 64;
/** (1 << RADIX_TREE_MAX_TAGS) - 1 */
export const ACTIVE_CACHELINE_MAX_OVERLAP = 7;
/** L1_CACHE_SHIFT / L1_CACHE_BYTES of the kernel build (arm64 and x86_64 alike). */
const L1_CACHE_SHIFT = 6;
const L1_CACHE_BYTES = 1 << L1_CACHE_SHIFT;

/** enum { dma_debug_single, dma_debug_sg, dma_debug_coherent, dma_debug_noncoherent, dma_debug_phy } */
const T_SINGLE = 0;
const T_SG = 1;
const T_COHERENT = 2;
const T_NONCOHERENT = 3;
const T_PHY = 4;
export const type2name: readonly string[] = ['single', 'scatter-gather', 'coherent', 'noncoherent', 'phy'];

/** enum map_err_types */
const MAP_ERR_NOT_CHECKED = 1;
const MAP_ERR_CHECKED = 2;
export const maperr2str: readonly string[] = ['dma map error check not applicable', 'dma map error not checked', 'dma map error checked'];

const NIL = -1;

/** is_cache_clean: DMA_ATTR_DEBUGGING_IGNORE_CACHELINES or DMA_ATTR_REQUIRE_COHERENT, at bit 7 of an entry's meta. */
function cacheClean(attrs: number): number {
  return attrs & (DMA_ATTR_DEBUGGING_IGNORE_CACHELINES | DMA_ATTR_REQUIRE_COHERENT) ? 1 << 7 : 0;
}

/** The synthetic "Mapped at:" chains, innermost first (see the file header). */
const CALL_CHAINS: Readonly<Record<DmaApiCall, readonly string[]>> = {
  dma_map_single: ['debug_dma_map_phys', 'dma_map_phys', 'dma_map_page_attrs', 'dma_map_single'],
  dma_map_page: ['debug_dma_map_phys', 'dma_map_phys', 'dma_map_page_attrs', 'dma_map_page'],
  dma_map_phys: ['debug_dma_map_phys', 'dma_map_phys'],
  dma_map_resource: ['debug_dma_map_phys', 'dma_map_phys', 'dma_map_resource'],
  dma_map_sg: ['debug_dma_map_sg', '__dma_map_sg_attrs', 'dma_map_sg_attrs', 'dma_map_sg'],
  dma_map_sgtable: ['debug_dma_map_sg', '__dma_map_sg_attrs', 'dma_map_sgtable'],
  dma_alloc_attrs: ['debug_dma_alloc_coherent', 'dma_alloc_attrs'],
  dma_alloc_coherent: ['debug_dma_alloc_coherent', 'dma_alloc_attrs', 'dma_alloc_coherent'],
  dma_alloc_pages: ['debug_dma_alloc_pages', '__dma_alloc_pages', 'dma_alloc_pages'],
  dma_alloc_noncoherent: ['debug_dma_alloc_pages', '__dma_alloc_pages', 'dma_alloc_pages', 'dma_alloc_noncoherent'],
};
const CALLS = Object.keys(CALL_CHAINS) as DmaApiCall[];
const CALL_CODE: Readonly<Record<string, number>> = Object.fromEntries(CALLS.map((c, i) => [c, i]));
const DEFAULT_CALL: readonly number[] = [
  CALL_CODE.dma_map_phys as number, CALL_CODE.dma_map_sg as number, CALL_CODE.dma_alloc_attrs as number,
  CALL_CODE.dma_alloc_pages as number, CALL_CODE.dma_map_phys as number,
];

/** The synthetic call chain "Mapped at:" prints for an entry made by `fn`. */
export function mappedAtFrames(fn: DmaApiCall): readonly string[] {
  return CALL_CHAINS[fn];
}

// ---- printk formats ------------------------------------------------------------------------------


/** dev_driver_string() */
export function devDriverString(dev: Device): string {
  return dev.bound ? dev.driver : dev_bus_name(dev);
}

/** The kernel's ctype for the bytes filter_write() looks at (lib/ctype.c, Latin-1 letters included). */
function isalnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 192 && c !== 215 && c !== 247 && c <= 255);
}

function isspace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 160;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** strncmp(a, b, NAME_MAX_LEN - 1) == 0 */
function nameMatches(filter: string, driver: string): boolean {
  return filter.slice(0, NAME_MAX_LEN - 1) === driver.slice(0, NAME_MAX_LEN - 1);
}

/** simple_strtoull(s, &end, 0): the leading number, or null when there is none. */
function strtoull(s: string): bigint | null {
  const m = /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)/i.exec(s);
  if (m === null) return null;
  const t = m[1] as string;
  return /^0[0-7]+$/.test(t) ? BigInt(`0o${t.slice(1)}`) : BigInt(t);
}

// ---- boot parameters ------------------------------------------------------------------------------

/**
 * The state the __setup() handlers of debug.c leave for dma_debug_init(): global_disable,
 * nr_prealloc_entries and current_driver_name. They print as they parse, as the kernel does.
 */
export class DmaDebugBoot {
  disabled = false;
  prealloc = PREALLOC_DMA_DEBUG_ENTRIES;
  driver = '';

  /** One `name=value` of the command line; undefined values do not match "dma_debug=" etc. */
  param(name: string, value: string | undefined, log: KernelLog): void {
    if (value === undefined) return;
    if (name === 'dma_debug') {
      // dma_debug_cmdline(): strncmp(str, "off", 3)
      if (value.startsWith('off')) {
        log.pr_info('DMA-API: debugging disabled on kernel command line');
        this.disabled = true;
      }
    } else if (name === 'dma_debug_entries') {
      // dma_debug_entries_cmdline(): get_option() into the u32 (through an int), else the default.
      const neg = value.startsWith('-');
      const v = strtoull(neg ? value.slice(1) : value);
      this.prealloc = v === null ? PREALLOC_DMA_DEBUG_ENTRIES : Number(BigInt.asUintN(32, BigInt.asIntN(32, neg ? -v : v)));
    } else if (name === 'dma_debug_driver') {
      // dma_debug_driver_setup(): at most NAME_MAX_LEN - 1 bytes.
      this.driver = fromUtf8.decode(utf8.encode(value).subarray(0, NAME_MAX_LEN - 1));
      if (this.driver !== '') log.pr_info(`DMA-API: enable driver filter for driver [${this.driver}]`);
    }
  }
}

// ---- the checker ------------------------------------------------------------------------------------

/** What the checker needs to know about the machine it runs on. */
export interface DmaDebugEnv {
  readonly boot: DmaDebugBoot;
  /** The current task's (vmalloc'd) stack: its base address and its pages. */
  readonly stackBase: number;
  readonly stackPfns: readonly number[];
}

/**
 * The dma-debug state of one machine (debug.c's statics) and its hooks. Created at boot when
 * CONFIG_DMA_API_DEBUG is set; it runs dma_debug_init() and dma_debug_fs_init() from its
 * constructor.
 */
export class DmaDebug implements DmaDebugHooks {
  /** global_disable */
  globalDisable: boolean;
  /** dma_debug_initialized */
  private initialized = false;
  errorCount = 0;
  /** show_all_errors */
  allErrors = 0;
  /** show_num_errors */
  numErrors = 1;
  numFreeEntries = 0;
  minFreeEntries = 0;
  nrTotalEntries = 0;
  readonly nrPreallocEntries: number;
  /** current_driver_name and the cached current_driver (by name: one struct device_driver per name). */
  private driverName: string;
  private currentDriver: string | null = null;

  // entries
  private cap = 0;
  private entDev: (Device | null)[] = [];
  private entAddr = new Float64Array(0);
  private entSize = new Float64Array(0);
  private entPaddr = new Float64Array(0);
  /** type | direction << 3 | map_err_type << 5 | is_cache_clean << 7 | creating call << 8 | bucket << 16 */
  private entMeta = new Int32Array(0);
  private entSgCall = new Int32Array(0);
  private entSgMapped = new Int32Array(0);
  private nx = new Int32Array(0);
  private pv = new Int32Array(0);
  /** The free list: entries given back (LIFO), then the never used ones from `fresh` up. */
  private freeHead = NIL;
  private fresh = 0;
  private readonly bucketHead = new Int32Array(HASH_SIZE).fill(NIL);
  private readonly bucketTail = new Int32Array(HASH_SIZE).fill(NIL);
  /**
   * Entries of each bucket still MAP_ERR_NOT_CHECKED: debug_dma_mapping_error() looks for one,
   * and a bucket with none has nothing for it (every map makes that call on its new address
   * first, and a driver that checks its mappings leaves none behind).
   */
  private readonly bucketUnchecked = new Int32Array(HASH_SIZE);
  /**
   * The bucket's newest entry added MAP_ERR_NOT_CHECKED while it stays on the bucket (NIL once it
   * leaves). When it is still unchecked and the bucket's only one, it is the one entry
   * debug_dma_mapping_error() can mark, found without a walk: the driver's dma_mapping_error()
   * right after its map.
   */
  private readonly bucketUncheckedNewest = new Int32Array(HASH_SIZE).fill(NIL);
  /** Pages handed to the entry pool (never freed, as in the kernel). */
  readonly pagesUsed: number[] = [];

  // dma_active_cacheline: open addressing, linear probing, backward-shift deletion
  private clnKey = new Float64Array(64).fill(-1);
  private clnEntry = new Int32Array(64);
  private clnOverlap = new Uint8Array(64);
  private clnCount = 0;
  /** 32 - log2(the table's size): clnHome() keeps the product's top bits. */
  private clnShift = 32 - 6;

  private pendingCall = -1;
  private readonly ptrKey: number;
  private readonly stackBase: number;
  private readonly stackPfns: readonly number[];
  /** Physical bounds of the stack's pages and of the kernel image: quick rejections for the map checks. */
  private readonly stackLo: number;
  private readonly stackHi: number;
  /** _stext, _etext, __start_rodata, __end_rodata: fixed once the image is laid out. */
  private readonly textStart: number;
  private readonly textEnd: number;
  private readonly rodataStart: number;
  private readonly rodataEnd: number;
  /** Whether the linear map covers any of text and rodata, so that check_for_illegal_area() can fire. */
  private readonly imageInLinearMap: boolean;
  private readonly kimageInVmalloc: boolean;

  constructor(private readonly m: DmaHost, env: DmaDebugEnv) {
    this.globalDisable = env.boot.disabled;
    this.nrPreallocEntries = env.boot.prealloc;
    this.driverName = env.boot.driver;
    this.stackBase = env.stackBase;
    this.stackPfns = env.stackPfns;
    this.stackLo = Math.min(...env.stackPfns) * PAGE_SIZE;
    this.stackHi = (Math.max(...env.stackPfns) + 1) * PAGE_SIZE;
    this.ptrKey = ptrHashKey(m.seed);
    [this.textStart, this.textEnd] = m.kimage.bounds('text');
    [this.rodataStart, this.rodataEnd] = m.kimage.bounds('rodata');
    this.imageInLinearMap = this.textStart < PAGE_OFFSET + PHYS_ADDR_LIMIT && this.textEnd > PAGE_OFFSET
      || (this.rodataStart < PAGE_OFFSET + PHYS_ADDR_LIMIT && this.rodataEnd > PAGE_OFFSET);
    this.kimageInVmalloc = m.arch.kimageInVmalloc;
    this.init();
    this.registerDebugfs(m.debugfs);
  }

  /** dma_debug_disabled(): global_disable || !dma_debug_initialized, kept as one flag for the hot path. */
  private disabled = true;

  private disable(): void {
    this.globalDisable = true;
    this.disabled = true;
  }

  // ---- init and the entry pool ----------------------------------------------------------

  /** dma_debug_init() (core_initcall). */
  private init(): void {
    const log = this.m.log;
    if (this.globalDisable) return;
    const nrPages = Math.ceil(this.nrPreallocEntries / DMA_DEBUG_DYNAMIC_ENTRIES);
    // Every page the kernel asks for; once the allocator is dry, every further request fails the
    // same way and warn_alloc() is rate-limited to silence, so dmasim stops asking.
    let failures = 0;
    for (let i = 0; i < nrPages && failures <= 10; ++i) if (!this.createEntries(GFP_KERNEL)) failures++;
    if (this.numFreeEntries >= this.nrPreallocEntries) {
      log.pr_info(`DMA-API: preallocated ${this.nrTotalEntries} debug entries`);
    } else if (this.numFreeEntries > 0) {
      log.pr_warn(`DMA-API: ${this.nrPreallocEntries | 0} debug entries requested but only ${this.nrTotalEntries} allocated`);
    } else {
      log.pr_err('DMA-API: debugging out of memory error - disabled');
      this.disable();
      return;
    }
    this.minFreeEntries = this.numFreeEntries;
    this.initialized = true;
    this.disabled = this.globalDisable || !this.initialized;
    log.pr_info('DMA-API: debugging enabled by kernel config');
  }

  /**
   * dma_debug_create_entries(): one page of entries onto the tail of the free list. The new
   * entries join the never used range (see the file header); the list is empty whenever the pool
   * grows after boot, so its order is the kernel's.
   */
  private createEntries(gfp: number): boolean {
    const pfn = this.m.pages.alloc_pages(gfp, 0);
    if (pfn < 0) return false;
    this.pagesUsed.push(pfn);
    this.numFreeEntries += DMA_DEBUG_DYNAMIC_ENTRIES;
    this.nrTotalEntries += DMA_DEBUG_DYNAMIC_ENTRIES;
    return true;
  }

  /** Grows the typed arrays (geometrically) to hold entry `e`. */
  private reserve(e: number): void {
    if (e < this.cap) return;
    const cap = Math.max(e + 1, this.cap * 2, 256);
    const grow = <T extends Float64Array | Uint8Array | Int32Array>(a: T, make: (k: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.entAddr = grow(this.entAddr, (k) => new Float64Array(k));
    this.entSize = grow(this.entSize, (k) => new Float64Array(k));
    this.entPaddr = grow(this.entPaddr, (k) => new Float64Array(k));
    this.entMeta = grow(this.entMeta, (k) => new Int32Array(k));
    this.entSgCall = grow(this.entSgCall, (k) => new Int32Array(k));
    this.entSgMapped = grow(this.entSgMapped, (k) => new Int32Array(k));
    this.nx = grow(this.nx, (k) => new Int32Array(k));
    this.pv = grow(this.pv, (k) => new Int32Array(k));
    for (let i = this.cap; i < cap; i++) this.entDev.push(null);
    this.cap = cap;
  }

  /** dma_entry_alloc(): an entry from the head of the free list, or NULL (and disabled). */
  private entryAlloc(): number {
    if (this.numFreeEntries === 0) return this.entryAllocGrow();
    return this.entryTake();
  }

  /** The pool is empty: a page of entries (GFP_ATOMIC), or out of memory and disabled. */
  private entryAllocGrow(): number {
    if (!this.createEntries(GFP_ATOMIC)) {
      this.disable();
      this.m.log.pr_err('DMA-API: debugging out of memory - disabling');
      return NIL;
    }
    const e = this.entryTake();
    this.allocCheckLeak(this.nrTotalEntries);
    return e;
  }

  /** __dma_entry_alloc() */
  private entryTake(): number {
    let e = this.freeHead;
    if (e !== NIL) this.freeHead = this.nx[e] as number;
    else this.reserve(e = this.fresh++);
    // memset(entry, 0, sizeof(*entry)): dev, dev_addr, size, paddr and the packed type, direction,
    // map_err_type and flags are set by every caller, so only the sg counts need zeroing here.
    this.entSgCall[e] = 0;
    this.entSgMapped[e] = 0;
    this.numFreeEntries--;
    if (this.numFreeEntries < this.minFreeEntries) this.minFreeEntries = this.numFreeEntries;
    return e;
  }

  /** __dma_entry_alloc_check_leak(): shout each time the pool ticks over a multiple of its first size. */
  private allocCheckLeak(nrEntries: number): void {
    const pre = this.nrPreallocEntries;
    if (pre === 0) return; // a division by zero in the kernel
    if (nrEntries % pre < DMA_DEBUG_DYNAMIC_ENTRIES) {
      this.m.log.pr_info(`DMA-API: dma_debug_entry pool grown to ${nrEntries} (${Math.floor(nrEntries / pre)}00%)`);
    }
  }

  /** dma_entry_free(): the cacheline goes, the entry to the head of the free list. */
  private entryFree(e: number): void {
    if ((((this.entMeta[e] as number) >> 3) & 3) !== DMA_TO_DEVICE) this.activeCachelineRemove(e);
    this.nx[e] = this.freeHead;
    this.freeHead = e;
    this.numFreeEntries++;
  }

  // ---- the hash -----------------------------------------------------------------------------

  /** hash_fn(): (dev_addr >> HASH_FN_SHIFT) & HASH_FN_MASK */
  private static bucketOf(addr: number): number {
    return addr === DMA_MAPPING_ERROR ? HASH_FN_MASK : ((addr * (1 / 8192)) >>> 0) & HASH_FN_MASK;
  }

  /** hash_bucket_add(): list_add_tail() */
  private bucketAdd(e: number, b: number): void {
    const meta = ((this.entMeta[e] as number) & 0xffff) | (b << 16);
    this.entMeta[e] = meta;
    if (((meta >> 5) & 3) === MAP_ERR_NOT_CHECKED) {
      this.bucketUnchecked[b] = (this.bucketUnchecked[b] as number) + 1;
      this.bucketUncheckedNewest[b] = e;
    }
    const tail = this.bucketTail[b] as number;
    this.pv[e] = tail;
    this.nx[e] = NIL;
    if (tail === NIL) this.bucketHead[b] = e;
    else this.nx[tail] = e;
    this.bucketTail[b] = e;
  }

  /** hash_bucket_del() */
  private bucketDel(e: number): void {
    const meta = this.entMeta[e] as number;
    const b = meta >>> 16;
    if (((meta >> 5) & 3) === MAP_ERR_NOT_CHECKED) this.bucketUnchecked[b] = (this.bucketUnchecked[b] as number) - 1;
    if (this.bucketUncheckedNewest[b] === e) this.bucketUncheckedNewest[b] = NIL;
    const p = this.pv[e] as number;
    const n = this.nx[e] as number;
    if (p === NIL) this.bucketHead[b] = n;
    else this.nx[p] = n;
    if (n === NIL) this.bucketTail[b] = p;
    else this.pv[n] = p;
  }

  /** containing_match(ref, entry), with the u64 wrap of a DMA_MAPPING_ERROR reference. */
  private contains(e: number, addr: number, size: number): boolean {
    const a = this.entAddr[e] as number;
    const end = a + (this.entSize[e] as number);
    if (addr === DMA_MAPPING_ERROR) return end >= size - 1 && size > 0;
    return a <= addr && end >= addr + size;
  }

  /**
   * __hash_bucket_find(): best fit, NULL when several entries match and none perfectly.
   * `contain` picks containing_match(), else exact_match().
   */
  private bucketFind(b: number, contain: boolean, dev: Device, addr: number, size: number, type: number, dir: number, sgCall: number): number {
    let ret = NIL;
    let matches = 0;
    let lastLvl = -1;
    const nx = this.nx;
    for (let e = this.bucketHead[b] as number; e !== NIL; e = nx[e] as number) {
      if (contain ? !this.contains(e, addr, size) : this.entAddr[e] !== addr) continue;
      if (this.entDev[e] !== dev) continue;
      matches++;
      const meta = this.entMeta[e] as number;
      const lvl = (this.entSize[e] === size ? 1 : 0) + ((meta & 7) === type ? 1 : 0)
        + (((meta >> 3) & 3) === dir ? 1 : 0) + (this.entSgCall[e] === sgCall ? 1 : 0);
      if (lvl === 4) return e;
      if (lvl > lastLvl) {
        lastLvl = lvl;
        ret = e;
      }
    }
    return matches === 1 ? ret : NIL;
  }

  /** bucket_find_exact() */
  private findExact(dev: Device, addr: number, size: number, type: number, dir: number, sgCall: number): number {
    return this.bucketFind(DmaDebug.bucketOf(addr), false, dev, addr, size, type, dir, sgCall);
  }

  /** bucket_find_contain(): this bucket, then earlier ones, 8 KiB at a time. */
  private findContain(dev: Device, addr: number, size: number, type: number, dir: number, sgCall: number): number {
    const b0 = DmaDebug.bucketOf(addr);
    const limit = addr === DMA_MAPPING_ERROR ? HASH_SIZE : Math.min(HASH_SIZE, Math.floor(addr / 8192) + 1);
    for (let i = 0; i < limit; i++) {
      const e = this.bucketFind((b0 - i) & HASH_FN_MASK, true, dev, addr, size, type, dir, sgCall);
      if (e !== NIL) return e;
    }
    return NIL;
  }

  /** add_dma_entry(): `b` is the bucket of its dev_addr. */
  private addEntry(e: number, b: number, attrs: number): void {
    this.bucketAdd(e, b);
    // active_cacheline_insert() returns 0 at once for DMA_TO_DEVICE.
    if ((((this.entMeta[e] as number) >> 3) & 3) === DMA_TO_DEVICE) return;
    if (this.activeCachelineInsert(e) === -1) this.overlap(e, attrs);
  }

  /** add_dma_entry()'s -EEXIST: reported unless one of the kernel's exemptions applies. */
  private overlap(e: number, attrs: number): void {
    if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) && !(((this.entMeta[e] as number) & (1 << 7)) && this.overlapCacheClean)
      && this.m.dmaCacheAlignment >= L1_CACHE_BYTES
      && !(this.m.arch.kmallocBounce && this.m.swiotlb !== null)) {
      this.err(this.entDev[e] as Device, e, WARN_SITES.debugEexist, "cacheline tracking EEXIST, overlapping mappings aren't supported\n");
    }
  }

  // ---- active cachelines ---------------------------------------------------------------------

  /** to_cacheline_number() */
  private static cln(paddr: number): number {
    // ((paddr >> PAGE_SHIFT) << (PAGE_SHIFT - L1_CACHE_SHIFT)) + (offset_in_page(paddr) >> L1_CACHE_SHIFT)
    return Math.floor(paddr * (1 / L1_CACHE_BYTES));
  }

  /**
   * A line's home slot: Fibonacci hashing, the top bits of the product (its low bits follow the
   * key's, and the lines of buffers a power of two apart share those).
   */
  private clnHome(key: number): number {
    return Math.imul((key >>> 0) ^ ((key / 0x1_0000_0000) >>> 0), 0x9e3779b1) >>> this.clnShift;
  }

  private clnSlot(key: number): number {
    const mask = this.clnKey.length - 1;
    let i = this.clnHome(key);
    for (;;) {
      const k = this.clnKey[i] as number;
      if (k === key || k === -1) return i;
      i = (i + 1) & mask;
    }
  }

  private clnGrow(): void {
    const oldKey = this.clnKey;
    const oldEntry = this.clnEntry;
    const oldOverlap = this.clnOverlap;
    this.clnKey = new Float64Array(oldKey.length * 2).fill(-1);
    this.clnEntry = new Int32Array(oldKey.length * 2);
    this.clnOverlap = new Uint8Array(oldKey.length * 2);
    this.clnShift--;
    for (let i = 0; i < oldKey.length; i++) {
      const k = oldKey[i] as number;
      if (k === -1) continue;
      const s = this.clnSlot(k);
      this.clnKey[s] = k;
      this.clnEntry[s] = oldEntry[i] as number;
      this.clnOverlap[s] = oldOverlap[i] as number;
    }
  }

  /** The is_cache_clean of the entry the tree holds for a line that got -EEXIST. */
  private overlapCacheClean = false;

  /** active_cacheline_insert(): 0, or -1 for -EEXIST. */
  private activeCachelineInsert(e: number): number {
    this.overlapCacheClean = false;
    if ((((this.entMeta[e] as number) >> 3) & 3) === DMA_TO_DEVICE) return 0;
    const key = DmaDebug.cln(this.entPaddr[e] as number);
    let s = this.clnSlot(key);
    if (this.clnKey[s] === -1) {
      if ((this.clnCount + 1) * 2 > this.clnKey.length) {
        this.clnGrow();
        s = this.clnSlot(key);
      }
      this.clnKey[s] = key;
      this.clnEntry[s] = e;
      this.clnOverlap[s] = 0;
      this.clnCount++;
      return 0;
    }
    // active_cacheline_inc_overlap(): the tags hold at most 7; past that the count stays.
    const overlap = (this.clnOverlap[s] as number) + 1;
    if (overlap <= ACTIVE_CACHELINE_MAX_OVERLAP) this.clnOverlap[s] = overlap;
    else if (!((this.entMeta[e] as number) & (1 << 7))) {
      this.m.log.warnOnce(WARN_SITES.debugOverlap,
        `DMA-API: exceeded ${ACTIVE_CACHELINE_MAX_OVERLAP} overlapping mappings of cacheline ${pa(key)}`);
    }
    this.overlapCacheClean = ((this.entMeta[this.clnEntry[s] as number] as number) & (1 << 7)) !== 0;
    return -1;
  }

  /** active_cacheline_remove(): the count goes down; below zero the line goes. */
  private activeCachelineRemove(e: number): void {
    if ((((this.entMeta[e] as number) >> 3) & 3) === DMA_TO_DEVICE) return;
    const key = DmaDebug.cln(this.entPaddr[e] as number);
    const s = this.clnSlot(key);
    if (this.clnKey[s] === -1) return; // radix_tree_delete() of an absent key
    const overlap = this.clnOverlap[s] as number;
    if (overlap > 0) {
      this.clnOverlap[s] = overlap - 1;
      return;
    }
    // Delete with backward shift, so that probe chains stay unbroken.
    const mask = this.clnKey.length - 1;
    let hole = s;
    this.clnKey[hole] = -1;
    this.clnCount--;
    for (let i = (hole + 1) & mask; this.clnKey[i] !== -1; i = (i + 1) & mask) {
      const k = this.clnKey[i] as number;
      const home = this.clnHome(k);
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        this.clnKey[hole] = k;
        this.clnEntry[hole] = this.clnEntry[i] as number;
        this.clnOverlap[hole] = this.clnOverlap[i] as number;
        this.clnKey[i] = -1;
        hole = i;
      }
    }
  }

  // ---- reporting ----------------------------------------------------------------------------

  /** driver_filter() */
  private driverFilter(dev: Device): boolean {
    if (this.driverName === '') return true;
    if (!dev.bound) return false; // dev->driver is NULL
    if (this.currentDriver !== null) return dev.driver === this.currentDriver;
    if (nameMatches(this.driverName, dev.driver)) {
      this.currentDriver = dev.driver;
      return true;
    }
    return false;
  }

  /** err_printk(): always counted; printed within the budget and the filter; the budget spent either way. */
  private err(dev: Device, entry: number, site: Site, msg: string): void {
    this.errorCount = (this.errorCount + 1) >>> 0;
    if (this.driverFilter(dev) && (this.allErrors !== 0 || this.numErrors > 0)) {
      this.m.log.warn(site, `DMA-API: ${devDriverString(dev)} ${dev.name}: ${msg}`);
      if (entry !== NIL) this.dumpEntryTrace(entry);
    }
    if (this.allErrors === 0 && this.numErrors > 0) this.numErrors--;
  }

  /** dump_entry_trace(): "Mapped at:" and the saved stack (a synthetic one here). */
  private dumpEntryTrace(e: number): void {
    const log = this.m.log;
    log.pr_warn('DMA-API: Mapped at:');
    const call = CALLS[(((this.entMeta[e] as number) >> 8) & 255)];
    if (call === undefined) return;
    for (const f of CALL_CHAINS[call]) log.printk(KERN_WARNING, ` ${f}`);
  }

  /** How this machine's printk prints a pointer with %p (see hashPointer()). */
  hashPtr(ptr: number): string {
    return hashPointer(this.ptrKey, ptr);
  }

  // ---- the checks ---------------------------------------------------------------------------

  /** check_unmap(): `paddr` counts for coherent and noncoherent entries, `sgCall` for sg ones. */
  private checkUnmap(dev: Device, addr: number, size: number, type: number, dir: number, sgCall: number, paddr: number): void {
    const e = this.findExact(dev, addr, size, type, dir, sgCall);
    if (e === NIL) {
      this.unmapUnknown(dev, addr, size);
      return;
    }
    const meta = this.entMeta[e] as number;
    const eType = meta & 7;
    if (size !== this.entSize[e] || type !== eType || dir !== ((meta >> 3) & 3) || ((meta >> 5) & 3) === MAP_ERR_NOT_CHECKED
      || ((eType === T_COHERENT || eType === T_NONCOHERENT) && paddr !== this.entPaddr[e])
      || (sgCall !== 0 && type === T_SG && sgCall !== this.entSgCall[e])) {
      this.unmapErrors(e, dev, addr, size, type, dir, sgCall, paddr);
    }
    // The entry goes, errors or not.
    this.bucketDel(e);
    this.entryFree(e);
  }

  /** check_unmap() without an exact (best-fit) match. */
  private unmapUnknown(dev: Device, addr: number, size: number): void {
    // dma_mapping_error(), which marks as it checks.
    this.mapping_error(dev, addr);
    if (addr === DMA_MAPPING_ERROR) {
      this.err(dev, NIL, WARN_SITES.debugUnmapInvalid, 'device driver tries to free an invalid DMA memory address\n');
    } else {
      this.err(dev, NIL, WARN_SITES.debugUnmapNotAllocated, `device driver tries to free DMA memory it has not allocated [device address=0x${x016(addr)}] [size=${size} bytes]\n`);
    }
  }

  /** check_unmap()'s reports, in its order, for an entry that differs from the reference. */
  private unmapErrors(e: number, dev: Device, addr: number, size: number, type: number, dir: number, sgCall: number, paddr: number): void {
    const eSize = this.entSize[e] as number;
    const eType = ((this.entMeta[e] as number) & 7);
    const eDir = (((this.entMeta[e] as number) >> 3) & 3);
    if (size !== eSize) {
      this.err(dev, e, WARN_SITES.debugUnmapSize, `device driver frees DMA memory with different size [device address=0x${x016(addr)}] [map size=${eSize} bytes] [unmap size=${size} bytes]\n`);
    }
    if (type !== eType) {
      this.err(dev, e, WARN_SITES.debugUnmapType, `device driver frees DMA memory with wrong function [device address=0x${x016(addr)}] [size=${size} bytes] [mapped as ${type2name[eType]}] [unmapped as ${type2name[type]}]\n`);
    } else if ((eType === T_COHERENT || eType === T_NONCOHERENT) && paddr !== this.entPaddr[e]) {
      this.err(dev, e, WARN_SITES.debugUnmapCpuAddr, `device driver frees DMA memory with different CPU address [device address=0x${x016(addr)}] [size=${size} bytes] [cpu alloc address=0x${pa(this.entPaddr[e] as number)}] [cpu free address=0x${pa(paddr)}]`);
    }
    if (sgCall !== 0 && type === T_SG && sgCall !== this.entSgCall[e]) {
      this.err(dev, e, WARN_SITES.debugUnmapSgCount, `device driver frees DMA sg list with different entry count [map count=${this.entSgCall[e]}] [unmap count=${sgCall}]\n`);
    }
    if (dir !== eDir) {
      this.err(dev, e, WARN_SITES.debugUnmapDirection, `device driver frees DMA memory with different direction [device address=0x${x016(addr)}] [size=${size} bytes] [mapped with ${dir2name[eDir]}] [unmapped with ${dir2name[dir]}]\n`);
    }
    if ((((this.entMeta[e] as number) >> 5) & 3) === MAP_ERR_NOT_CHECKED) {
      this.err(dev, e, WARN_SITES.debugUnmapNotChecked, `device driver failed to check map error[device address=0x${x016(addr)}] [size=${size} bytes] [mapped as ${type2name[eType]}]`);
    }
  }

  /** check_for_stack(): the current task's stack is vmalloc'd, so the page is looked for among its pages. */
  private checkForStack(dev: Device, phys: number): void {
    if (phys < this.stackLo || phys >= this.stackHi) return;
    const pfn = Math.floor(phys / PAGE_SIZE);
    const pfns = this.stackPfns;
    for (let i = 0; i < pfns.length; i++) {
      if (pfns[i] !== pfn) continue;
      const addr = this.stackBase + i * PAGE_SIZE + (phys % PAGE_SIZE);
      this.err(dev, NIL, WARN_SITES.debugStack, `device driver maps memory from stack [probable addr=${this.hashPtr(addr)}]\n`);
      break;
    }
  }

  /**
   * check_for_illegal_area(dev, phys_to_virt(phys), len): the linear-map alias against
   * _stext.._etext and __start_rodata..__end_rodata. arm64 and x86_64 map the image apart from
   * the linear map, so the two ranges never meet and the kernel never reports this there (known
   * once, at boot: imageInLinearMap).
   */
  private checkForIllegalArea(dev: Device, phys: number, len: number): void {
    if (!this.imageInLinearMap) return;
    const addr = __va(phys);
    if ((addr < this.textEnd && addr + len > this.textStart) || (addr < this.rodataEnd && addr + len > this.rodataStart)) {
      this.err(dev, NIL, WARN_SITES.debugIllegalArea, `device driver maps memory from kernel text or rodata [addr=${this.hashPtr(addr)}] [len=${len}]\n`);
    }
  }

  /** check_sync() */
  private checkSync(dev: Device, addr: number, size: number, type: number, dir: number, sgCall: number, toCpu: boolean): void {
    const e = this.findContain(dev, addr, size, type, dir, sgCall);
    if (e === NIL) {
      this.err(dev, NIL, WARN_SITES.debugSyncNotAllocated, `device driver tries to sync DMA memory it has not allocated [device address=0x${x016(addr)}] [size=${size} bytes]\n`);
      return;
    }
    const eSize = this.entSize[e] as number;
    if (size > eSize) {
      this.err(dev, e, WARN_SITES.debugSyncRange, `device driver syncs DMA memory outside allocated range [device address=0x${x016(this.entAddr[e] as number)}] [allocation size=${eSize} bytes] [sync offset+size=${size}]\n`);
    }
    const eDir = (((this.entMeta[e] as number) >> 3) & 3);
    if (eDir === DMA_BIDIRECTIONAL) return;
    const fields = `[device address=0x${x016(addr)}] [size=${eSize} bytes] [mapped with ${dir2name[eDir]}] [synced with ${dir2name[dir]}]\n`;
    if (dir !== eDir) this.err(dev, e, WARN_SITES.debugSyncDirection, `device driver syncs DMA memory with different direction ${fields}`);
    if (toCpu && eDir !== DMA_FROM_DEVICE && dir !== DMA_TO_DEVICE) {
      this.err(dev, e, WARN_SITES.debugSyncReadOnly, `device driver syncs device read-only DMA memory for cpu ${fields}`);
    }
    if (!toCpu && eDir !== DMA_TO_DEVICE && dir !== DMA_FROM_DEVICE) {
      this.err(dev, e, WARN_SITES.debugSyncWriteOnly, `device driver syncs device write-only DMA memory to device ${fields}`);
    }
    if (sgCall !== 0 && type === T_SG && sgCall !== this.entSgCall[e]) {
      this.err(dev, e, WARN_SITES.debugSyncSgCount, `device driver syncs DMA sg list with different entry count [map count=${this.entSgCall[e]}] [sync count=${sgCall}]\n`);
    }
  }

  /** check_sg_segment() */
  private checkSgSegment(dev: Device, sg: Scatterlist): void {
    const parms = dev.dma_parms;
    const maxSeg = parms === null || parms.max_segment_size === 0 ? 65536 : parms.max_segment_size;
    if (sg.length > maxSeg) {
      this.err(dev, NIL, WARN_SITES.debugSgSegmentLength, `mapping sg segment longer than device claims to support [len=${sg.length}] [max=${maxSeg}]\n`);
    }
    const boundary = parms === null || parms.segment_boundary_mask === 0n ? U64_MAX : parms.segment_boundary_mask;
    if (boundary === U64_MAX) return;
    const start = BigInt(sg.dma_address);
    const end = BigInt.asUintN(64, start + BigInt(sg.dma_length) - 1n);
    if (((start ^ end) & ~boundary & U64_MAX) !== 0n) {
      this.err(dev, NIL, WARN_SITES.debugSgSegmentBoundary, `mapping sg segment across boundary [start=0x${x016(start)}] [end=0x${x016(end)}] [boundary=0x${x016(boundary)}]\n`);
    }
  }

  /** virt_addr_valid(): the linear map backed by RAM (x86_64 also accepts the kernel image mapping). */
  private virtAddrValid(addr: number): boolean {
    if (isLinearMapAddress(addr)) return this.m.isRam(__pa(addr), 1);
    return this.m.arch.name === 'x86_64' && this.m.kimage.toPhys(addr) >= 0;
  }

  /** virt_to_paddr() */
  private virtToPaddr(virt: number): number {
    return isVmallocAddr(virt) ? this.m.vm.translate(virt) : isLinearMapAddress(virt) ? __pa(virt) : this.m.kimage.toPhys(virt);
  }

  // ---- hooks --------------------------------------------------------------------------------

  /** The entry point that creates the next entry (stack_trace_save()'s stand-in), consumed once. */
  private takeCall(type: number): number {
    const c = this.pendingCall >= 0 ? this.pendingCall : DEFAULT_CALL[type] as number;
    this.pendingCall = -1;
    return c;
  }

  caller(fn: DmaApiCall): void {
    this.pendingCall = CALL_CODE[fn] as number;
  }

  /** debug_dma_map_single() */
  map_single(dev: Device, ptr: number, size: number): void {
    this.pendingCall = CALL_CODE.dma_map_single as number;
    // dma_map_single() has checked that a linear-map address is RAM before calling here, and the
    // linear map is neither vmalloc nor the kernel image: nothing to report.
    if (this.disabled || isLinearMapAddress(ptr)) return;
    if (!this.virtAddrValid(ptr)) {
      this.err(dev, NIL, WARN_SITES.debugMapSingleInvalid, `device driver maps memory from invalid area [addr=${this.hashPtr(ptr)}] [len=${size}]\n`);
    }
    if (archIsVmallocAddr(ptr, this.kimageInVmalloc)) {
      this.err(dev, NIL, WARN_SITES.debugMapSingleVmalloc, `device driver maps memory from vmalloc area [addr=${this.hashPtr(ptr)}] [len=${size}]\n`);
    }
  }

  /** debug_dma_map_phys() */
  map_phys(dev: Device, phys: number, size: number, dir: DmaDirection, addr: number, attrs: number): void {
    if (this.disabled) return;
    if (addr === DMA_MAPPING_ERROR) {
      this.mapping_error(dev, addr); // dma_mapping_error(dev, dma_addr), hooks and all
      this.pendingCall = -1;
      return;
    }
    // The same, for a valid address: nothing to do in a bucket without an unchecked entry.
    const b = DmaDebug.bucketOf(addr);
    if (this.bucketUnchecked[b] !== 0) this.markChecked(dev, addr);
    const call = this.takeCall(T_PHY);
    const e = this.entryAlloc();
    if (e === NIL) return;
    this.fill(e, dev, phys, addr, size, T_PHY | (dir << 3) | (MAP_ERR_NOT_CHECKED << 5) | cacheClean(attrs) | (call << 8));
    if (attrs & DMA_ATTR_MMIO) this.checkResource(dev, e, phys);
    else {
      if (phys < this.stackHi && phys >= this.stackLo) this.checkForStack(dev, phys);
      this.checkForIllegalArea(dev, phys, size);
    }
    this.addEntry(e, b, attrs);
  }

  /** dma_map_resource() of RAM (pfn_valid() and not PageReserved()) is reported since 7.1; the mapping is made and recorded. */
  private checkResource(dev: Device, e: number, phys: number): void {
    if (this.m.isRam(phys, 1) && !this.m.memblock.isReserved(phys)) {
      this.err(dev, e, WARN_SITES.debugMapResourceRam, `dma_map_resource called for RAM address ${pa(phys)}\n`);
    }
  }

  /** The fields every debug_dma_*() that makes an entry sets (the rest stay as __dma_entry_alloc() zeroed them). */
  private fill(e: number, dev: Device, paddr: number, addr: number, size: number, meta: number): void {
    this.entDev[e] = dev;
    this.entPaddr[e] = paddr;
    this.entAddr[e] = addr;
    this.entSize[e] = size;
    this.entMeta[e] = meta;
  }

  /** debug_dma_mapping_error(): the first exact match still NOT_CHECKED becomes CHECKED. */
  mapping_error(dev: Device, addr: number): void {
    if (this.disabled) return;
    this.markChecked(dev, addr);
  }

  private markChecked(dev: Device, addr: number): void {
    const b = DmaDebug.bucketOf(addr);
    const unchecked = this.bucketUnchecked[b] as number;
    if (unchecked === 0) return;
    const newest = this.bucketUncheckedNewest[b] as number;
    if (unchecked === 1 && newest !== NIL && (((this.entMeta[newest] as number) >> 5) & 3) === MAP_ERR_NOT_CHECKED) {
      if (this.entAddr[newest] === addr && this.entDev[newest] === dev) this.setChecked(newest, b);
      return;
    }
    for (let e = this.bucketHead[b] as number; e !== NIL; e = this.nx[e] as number) {
      if (this.entAddr[e] !== addr || this.entDev[e] !== dev) continue;
      if ((((this.entMeta[e] as number) >> 5) & 3) === MAP_ERR_NOT_CHECKED) {
        this.setChecked(e, b);
        break;
      }
    }
  }

  /** map_err_type = MAP_ERR_CHECKED, for an entry of bucket `b` that was not checked. */
  private setChecked(e: number, b: number): void {
    this.entMeta[e] = ((this.entMeta[e] as number) & ~(3 << 5)) | (MAP_ERR_CHECKED << 5);
    this.bucketUnchecked[b] = (this.bucketUnchecked[b] as number) - 1;
  }

  /** debug_dma_unmap_phys() */
  unmap_phys(dev: Device, addr: number, size: number, dir: DmaDirection): void {
    if (this.disabled) return;
    this.checkUnmap(dev, addr, size, T_PHY, dir, 0, 0);
  }

  /** debug_dma_map_sg(): area checks on all nents, entries for the mapped ones. */
  map_sg(dev: Device, sgl: Scatterlist[], nents: number, mapped: number, dir: DmaDirection, attrs: number): void {
    if (this.disabled) return;
    for (let i = 0; i < nents; i++) {
      const s = sgl[i] as Scatterlist;
      const phys = sg_phys(s);
      this.checkForStack(dev, phys);
      this.checkForIllegalArea(dev, phys, s.length);
    }
    const call = this.takeCall(T_SG);
    for (let i = 0; i < mapped; i++) {
      const s = sgl[i] as Scatterlist;
      const e = this.entryAlloc();
      if (e === NIL) return;
      this.fill(e, dev, sg_phys(s), s.dma_address, s.dma_length, T_SG | (dir << 3) | cacheClean(attrs) | (call << 8));
      this.entSgCall[e] = nents;
      this.entSgMapped[e] = mapped;
      this.checkSgSegment(dev, s);
      this.addEntry(e, DmaDebug.bucketOf(s.dma_address), attrs);
    }
  }

  /** get_nr_mapped_entries() of the list's first element. */
  private nrMappedEntries(dev: Device, s: Scatterlist, dir: number, nelems: number): number {
    const e = this.findExact(dev, s.dma_address, s.dma_length, T_SG, dir, nelems);
    return e === NIL ? 0 : this.entSgMapped[e] as number;
  }

  /** debug_dma_unmap_sg() */
  unmap_sg(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDirection): void {
    if (this.disabled) return;
    let mapped = 0;
    for (let i = 0; i < nelems; i++) {
      const s = sgl[i] as Scatterlist;
      if (mapped !== 0 && i >= mapped) break;
      if (i === 0) mapped = this.nrMappedEntries(dev, s, dir, nelems);
      this.checkUnmap(dev, s.dma_address, s.dma_length, T_SG, dir, nelems, sg_phys(s));
    }
  }

  /** debug_dma_alloc_coherent() */
  alloc_coherent(dev: Device, size: number, handle: number, virt: number, attrs: number): void {
    if (this.disabled) return;
    const call = this.takeCall(T_COHERENT);
    if (virt === 0 || (!isVmallocAddr(virt) && !this.virtAddrValid(virt))) return;
    const e = this.entryAlloc();
    if (e === NIL) return;
    this.fill(e, dev, this.virtToPaddr(virt), handle, size, T_COHERENT | (DMA_BIDIRECTIONAL << 3) | cacheClean(attrs) | (call << 8));
    this.addEntry(e, DmaDebug.bucketOf(handle), attrs);
  }

  /** debug_dma_free_coherent() */
  free_coherent(dev: Device, size: number, virt: number, handle: number): void {
    if (!isVmallocAddr(virt) && !this.virtAddrValid(virt)) return;
    const paddr = this.virtToPaddr(virt);
    if (this.disabled) return;
    this.checkUnmap(dev, handle, size, T_COHERENT, DMA_BIDIRECTIONAL, 0, paddr);
  }

  /** debug_dma_alloc_pages() */
  alloc_pages(dev: Device, phys: number, size: number, dir: DmaDirection, handle: number): void {
    if (this.disabled) return;
    const call = this.takeCall(T_NONCOHERENT);
    const e = this.entryAlloc();
    if (e === NIL) return;
    this.fill(e, dev, phys, handle, size, T_NONCOHERENT | (dir << 3) | (call << 8));
    this.addEntry(e, DmaDebug.bucketOf(handle), 0);
  }

  /** debug_dma_free_pages() */
  free_pages(dev: Device, phys: number, size: number, dir: DmaDirection, handle: number): void {
    if (this.disabled) return;
    this.checkUnmap(dev, handle, size, T_NONCOHERENT, dir, 0, phys);
  }

  sync_single_for_cpu(dev: Device, addr: number, size: number, dir: DmaDirection): void {
    if (this.disabled) return;
    this.checkSync(dev, addr, size, T_SINGLE, dir, 0, true);
  }

  sync_single_for_device(dev: Device, addr: number, size: number, dir: DmaDirection): void {
    if (this.disabled) return;
    this.checkSync(dev, addr, size, T_SINGLE, dir, 0, false);
  }

  /** debug_dma_sync_sg_for_cpu/device(): the first entry says how many were mapped; none, nothing checked. */
  private syncSg(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDirection, toCpu: boolean): void {
    if (this.disabled) return;
    let mapped = 0;
    for (let i = 0; i < nelems; i++) {
      const s = sgl[i] as Scatterlist;
      if (i === 0) mapped = this.nrMappedEntries(dev, s, dir, nelems);
      if (i >= mapped) break;
      this.checkSync(dev, s.dma_address, s.dma_length, T_SG, dir, nelems, toCpu);
    }
  }

  sync_sg_for_cpu(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDirection): void {
    this.syncSg(dev, sgl, nelems, dir, true);
  }

  sync_sg_for_device(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDirection): void {
    this.syncSg(dev, sgl, nelems, dir, false);
  }

  /**
   * dma_debug_device_change(BUS_NOTIFY_UNBOUND_DRIVER): the last of the device's entries is
   * shown. The notifier is registered on the PCI bus only (dma_debug_add_bus(&pci_bus_type) in
   * drivers/pci/pci-driver.c), so a platform device's driver is released silently.
   */
  driver_unbound(dev: Device): void {
    if (this.disabled || !dev_is_pci(dev)) return;
    let count = 0;
    let last = NIL;
    for (let b = 0; b < HASH_SIZE; b++) {
      for (let e = this.bucketHead[b] as number; e !== NIL; e = this.nx[e] as number) {
        if (this.entDev[e] !== dev) continue;
        count++;
        last = e;
      }
    }
    if (count === 0) return;
    this.err(dev, last, WARN_SITES.debugDeviceChange,
      `device driver has pending DMA allocations while released from device [count=${count}]\n`
      + `One of leaked entries details: [device address=0x${x016(this.entAddr[last] as number)}] [size=${this.entSize[last]} bytes] `
      + `[mapped with ${dir2name[(((this.entMeta[last] as number) >> 3) & 3)]}] [mapped as ${type2name[((this.entMeta[last] as number) & 7)]}]\n`);
  }

  // ---- dumps and debugfs ---------------------------------------------------------------------

  /** Every entry as dump_show() prints it (bucket order, then insertion order). */
  dump(): string {
    let out = '';
    for (let b = 0; b < HASH_SIZE; b++) {
      for (let e = this.bucketHead[b] as number; e !== NIL; e = this.nx[e] as number) {
        const dev = this.entDev[e] as Device;
        out += `${devDriverString(dev)} ${dev.name} ${this.entryLine(e, b)}\n`;
      }
    }
    return out;
  }

  private entryLine(e: number, b: number): string {
    const paddr = this.entPaddr[e] as number;
    return `${type2name[((this.entMeta[e] as number) & 7)]} idx ${b} P=${pa(paddr)} D=${llx(this.entAddr[e] as number)} L=${llx(this.entSize[e] as number)} `
      + `cln=${pa(DmaDebug.cln(paddr))} ${dir2name[(((this.entMeta[e] as number) >> 3) & 3)]} ${maperr2str[((this.entMeta[e] as number) >> 5) & 3]}`;
  }

  /** debug_dma_dump_mappings(dev): the same lines through dev_info(), all devices when dev is null. */
  dump_mappings(dev: Device | null = null): void {
    for (let b = 0; b < HASH_SIZE; b++) {
      for (let e = this.bucketHead[b] as number; e !== NIL; e = this.nx[e] as number) {
        const d = this.entDev[e] as Device;
        if (dev === null || d === dev) this.m.log.printk(KERN_INFO, `${devDriverString(d)} ${d.name}: ${this.entryLine(e, b)}`);
      }
    }
  }

  /** Live entries, for tests and tools: the number the dump would print. */
  get liveEntries(): number {
    return this.nrTotalEntries - this.numFreeEntries;
  }

  /** filter_read(): the name and a newline, or nothing. */
  private filterRead(): string {
    return this.driverName === '' ? '' : `${this.driverName}\n`;
  }

  /** filter_write(): at most NAME_MAX_LEN - 1 bytes; the first token; a non-alphanumeric start switches it off. */
  private filterWrite(text: string): void {
    const buf = utf8.encode(text).subarray(0, NAME_MAX_LEN - 1);
    const log = this.m.log;
    if (buf.length === 0 || !isalnum(buf[0] as number)) {
      if (this.driverName !== '') log.pr_info('DMA-API: switching off dma-debug driver filter');
      this.driverName = '';
      this.currentDriver = null;
      return;
    }
    let i = 0;
    while (i < buf.length && !isspace(buf[i] as number) && buf[i] !== 0) i++;
    this.driverName = fromUtf8.decode(buf.subarray(0, i));
    this.currentDriver = null;
    log.pr_info(`DMA-API: enable driver filter for driver [${this.driverName}]`);
  }

  /** dma_debug_fs_init() (core_initcall_sync), created whether or not debugging is on. */
  private registerDebugfs(fs: Debugfs): void {
    const dir = '/sys/kernel/debug/dma-api';
    fs.mkdir(dir);
    const u32 = (get: () => number, set?: (v: number) => void): DebugfsFile => ({
      read: () => `${get() >>> 0}\n`,
      ...(set === undefined ? {} : { write: (text: string) => set(Number(kstrtoull(text) & 0xffff_ffffn)) }),
    });
    fs.create(`${dir}/disabled`, { read: () => (this.globalDisable ? 'Y\n' : 'N\n') });
    fs.create(`${dir}/error_count`, u32(() => this.errorCount));
    fs.create(`${dir}/all_errors`, u32(() => this.allErrors, (v) => { this.allErrors = v; }));
    fs.create(`${dir}/num_errors`, u32(() => this.numErrors, (v) => { this.numErrors = v; }));
    fs.create(`${dir}/num_free_entries`, u32(() => this.numFreeEntries));
    fs.create(`${dir}/min_free_entries`, u32(() => this.minFreeEntries));
    fs.create(`${dir}/nr_total_entries`, u32(() => this.nrTotalEntries));
    fs.create(`${dir}/driver_filter`, { read: () => this.filterRead(), write: (t: string) => this.filterWrite(t) });
    fs.create(`${dir}/dump`, { read: () => this.dump() });
  }
}
