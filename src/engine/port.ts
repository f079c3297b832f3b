// The engine port: the one module that calls the engine's exports (assembly/index.ts), writes
// its scratch area, and reads its counters and line directory. Every method fires the data-aware
// checker's probe before the engine moves a byte or changes a line, so no engine access can
// forget it; each is a plain method over WASM offsets, called monomorphically (a closure per
// call measured 7 ns against 3 ns for a method in the engine's hot paths).

import { CNT_DEV_BYTES_READ, EMPTY_TAG, LD_DIRTY, LD_WAY_MASK, NR_COUNTERS, REPL_LRU, REPL_RANDOM } from '../../assembly/abi.js';
import { PAGE_SHIFT } from '../include/page.js';
import type { CoreExports } from './core.js';
import { SCRATCH_BYTES, type Layout } from './layout.js';

/**
 * Copies up to this many bytes go byte by byte. An element access to the shared WASM memory
 * costs about 3 ns here, so only register-sized copies are cheaper that way than one set().
 */
const SMALL_COPY = 4;
/** Scratch views of every length up to this are kept (creating a view of shared memory costs ~60 ns). */
const VIEW_CACHE_MAX = 4096;

/** Counters of everything the machine did; see README for each one's meaning. */
export interface Stats {
  cacheHits: number;
  cacheMisses: number;
  evictions: number;
  dirtyLinesWrittenBack: number;
  dirtyLinesDiscarded: number;
  cacheLinesCleaned: number;
  cacheLinesInvalidated: number;
  cacheMaintenanceOps: number;
  speculativeFills: number;
  snoops: number;
  bounceBytes: number;
  cpuBytesRead: number;
  cpuBytesWritten: number;
  uncachedBytes: number;
  deviceBytesRead: number;
  deviceBytesWritten: number;
  /** DSBs completing DMA cache maintenance (one per range op, or one per batch with ARCH_HAS_BATCHED_DMA_SYNC). */
  barriers: number;
  /** mb/rmb/wmb/dma_rmb/dma_wmb executed by the driver. */
  cpuBarriers: number;
  /** Buffers mapped or unmapped by dma-direct (each sg entry counts). */
  dmaOps: number;
  swiotlbSlotsUsed: number;
  /** IOMMU page-table operations: each iommu_map() and each unmap call. */
  iommuMaps: number;
  /** IOTLB invalidations: one per strict unmap, one per flush-queue flush (lazy mode). */
  iotlbFlushes: number;
  /** Device accesses the IOMMU refused (translation or permission faults). */
  iommuFaults: number;
}

/** Counters the host keeps (the engine keeps the rest in its counter block). */
export type HostStats = Pick<Stats, 'barriers' | 'cpuBarriers' | 'dmaOps' | 'iommuMaps' | 'iotlbFlushes' | 'iommuFaults'>;

/** A bus master as the port sees one (the checker knows it as a struct device). */
export interface BusMaster {
  readonly dma_coherent: boolean;
}

/**
 * What the data-aware checker (src/check/dma-data-check.ts) is told of every engine access that
 * moves bytes or changes line state, just before the engine does it. Offsets are WASM offsets.
 */
export interface DataProbe {
  /** A CPU load or store of [off, off + len), through the cache or around it. */
  cpuAccess(off: number, len: number, write: boolean, cached: boolean): void;
  /** A CPU copy (a swiotlb bounce) of n bytes from srcOff to dstOff. */
  cpuCopy(dstOff: number, srcOff: number, n: number): void;
  /** A clean or invalidate of [off, off + len) to the Point of Coherency. */
  maintenance(kind: 'clean' | 'inval', off: number, len: number): void;
  /** A device's bus access at `dma`, landing on [off, off + len). */
  deviceAccess(dev: BusMaster, dma: number, off: number, len: number, write: boolean, data: Uint8Array | null, fill: number): void;
}

/**
 * The CPU's store buffer, consulted before the engine reads RAM around the cache: an uncached
 * CPU load forwards the CPU's own buffered stores (drain), a device read finds some of them in
 * RAM (observe). hw/cpu.ts implements it.
 */
export interface StoreBuffer {
  drainStores(): void;
  storesObserved(): void;
  /** load.loadReordering is on: the bytes a device write replaces must be handed over first. */
  readonly loadsReordered: boolean;
  /** A device is about to overwrite [off, off + old.length), whose bytes are now `old`. */
  deviceWrote(off: number, old: Uint8Array): void;
}

/** The cache's geometry and policy, as the engine is initialised with them. */
export interface EngineConfig {
  readonly ways: number;
  readonly lineSize: number;
  readonly replacement: 'lru' | 'random';
  readonly seed: number;
}

export class EnginePort {
  /** A byte view of the whole memory, for reading RAM and cache data (writes go through methods). */
  readonly u8: Uint8Array;
  /** The data-aware checker, or null (machine.ts attaches it after boot). */
  probe: DataProbe | null = null;
  /** The CPU's store buffer (machine.ts attaches the CPU once it exists). */
  stores: StoreBuffer | null = null;
  private readonly view: DataView;
  private readonly scratch: number;
  /** The scratch area as u32 words, for the word accesses. */
  private readonly scratch32: Uint32Array;
  /** scratchView()'s views, by length. */
  private readonly scratchViews: (Uint8Array | undefined)[] = [];
  private readonly counters: BigUint64Array;
  private readonly counters32: Uint32Array;
  /** The cache's slot tags (the RAM line each slot holds, or EMPTY_TAG). */
  private readonly tags: Int32Array;
  private readonly lineDir: number;
  private readonly ramStart: number;
  private readonly cacheData: number;
  private readonly lineSize: number;
  private readonly setMask: number;

  /** Binds the engine to its memory and initialises it (the engine's init export). */
  constructor(private readonly core: CoreExports, memory: WebAssembly.Memory, layout: Layout, cfg: EngineConfig) {
    this.u8 = new Uint8Array(memory.buffer);
    this.view = new DataView(memory.buffer as ArrayBuffer);
    this.scratch = layout.scratch;
    this.scratch32 = new Uint32Array(memory.buffer, layout.scratch, SCRATCH_BYTES / 4);
    this.counters = new BigUint64Array(memory.buffer, layout.counters, NR_COUNTERS);
    this.counters32 = new Uint32Array(memory.buffer, layout.counters, 2 * NR_COUNTERS);
    this.tags = new Int32Array(memory.buffer, layout.tags, layout.slots);
    this.lineDir = layout.lineDir;
    this.ramStart = layout.ramStart;
    this.cacheData = layout.cacheData;
    this.lineSize = cfg.lineSize;
    this.setMask = layout.sets - 1;
    core.init(
      layout.tags, layout.stamps, layout.cacheData, layout.lineDir, layout.counters,
      layout.ramStart, layout.sets, cfg.ways, Math.log2(cfg.lineSize),
      PAGE_SHIFT, cfg.replacement === 'random' ? REPL_RANDOM : REPL_LRU, cfg.seed,
    );
  }

  // ---- knobs and counters ---------------------------------------------------------------

  /** The load knobs, as u32 thresholds (see KNOB_ONE). */
  setLoad(pressure: number, speculation: number): void {
    this.core.setLoad(pressure, speculation);
  }

  /** Counter `i` of the engine's counter block (CNT_*), read as two 32-bit halves (no BigInt). */
  counter(i: number): number {
    return (this.counters32[2 * i] as number) + (this.counters32[2 * i + 1] as number) * 0x1_0000_0000;
  }

  /** Dirty lines in the cache: a pass over the slots' tags and their line-directory bytes. */
  dirtyLines(): number {
    const { tags, u8 } = this;
    const base = this.lineDir - this.ramStart / this.lineSize;
    let n = 0;
    for (let i = 0; i < tags.length; i++) {
      const t = tags[i] as number;
      if (t !== EMPTY_TAG && ((u8[base + t] as number) & LD_DIRTY) !== 0) n++;
    }
    return n;
  }

  // ---- the line directory ---------------------------------------------------------------

  /** The directory byte of RAM line `li` (LD_WAY_MASK: way + 1, 0 when not cached; LD_DIRTY). */
  lineDirByte(li: number): number {
    return this.u8[this.lineDir + li] as number;
  }

  /** The WASM offset where the cache holds RAM line `li`, whose directory byte says it is resident. */
  cachedLineAt(li: number, dirByte: number): number {
    // The data array is way-major (assembly/cache.ts slotAddr()): one block of sets per way.
    const set = Math.floor((this.ramStart + li * this.lineSize) / this.lineSize) & this.setMask;
    return this.cacheData + (((dirByte & LD_WAY_MASK) - 1) * (this.setMask + 1) + set) * this.lineSize;
  }

  /** LINE_INVALID, LINE_CLEAN or LINE_DIRTY: what the cache holds of the line at off. */
  lineState(off: number): number {
    return this.core.lineState(off);
  }

  // ---- the scratch area -------------------------------------------------------------------
  // One set() per copy, through a view of the scratch area kept per length: the per-call paths
  // make no garbage per access, and only register-sized copies go byte by byte.

  /** The first n bytes of the scratch area as a view, made once per length up to VIEW_CACHE_MAX. */
  private scratchView(n: number): Uint8Array {
    if (n > VIEW_CACHE_MAX) return this.u8.subarray(this.scratch, this.scratch + n);
    let v = this.scratchViews[n];
    if (v === undefined) {
      v = this.u8.subarray(this.scratch, this.scratch + n);
      this.scratchViews[n] = v;
    }
    return v;
  }

  /** n bytes from the scratch area into out[at..]. */
  private fromScratch(out: Uint8Array, at: number, n: number): void {
    if (n > SMALL_COPY) {
      out.set(this.scratchView(n), at);
      return;
    }
    const u8 = this.u8;
    const s = this.scratch;
    for (let i = 0; i < n; i++) out[at + i] = u8[s + i] as number;
  }

  /** data[from, from + n) into the scratch area. */
  private toScratch(data: Uint8Array, from: number, n: number): void {
    if (n > SMALL_COPY) {
      this.u8.set(from === 0 && n === data.length ? data : data.subarray(from, from + n), this.scratch);
    } else {
      const u8 = this.u8;
      const s = this.scratch;
      for (let i = 0; i < n; i++) u8[s + i] = data[from + i] as number;
    }
  }

  // ---- word accesses ----------------------------------------------------------------------
  // A few u32 words (a dma_pool block's 16-byte link) staged through a word view of the scratch
  // area: a handful of stores, where copying the same bytes into the shared memory with set() or
  // a byte loop costs 15 to 25 ns. Each is the byte access of the same range, probe included.

  /** words[0, n) into the scratch area's first n words. */
  private wordsToScratch(words: Uint32Array, n: number): void {
    const s = this.scratch32;
    for (let i = 0; i < n; i++) s[i] = words[i] as number;
  }

  /** The scratch area's first n words into out[at, at + n). */
  private wordsFromScratch(out: Uint32Array, at: number, n: number): void {
    const s = this.scratch32;
    for (let i = 0; i < n; i++) out[at + i] = s[i] as number;
  }

  /** CPU stores of words[0, n) (little endian) at off, through the cache: cpuWrite() of their bytes. */
  cpuWriteWords(off: number, words: Uint32Array, n: number): void {
    this.probe?.cpuAccess(off, 4 * n, true, true);
    this.wordsToScratch(words, n);
    this.core.cpuWrite(off, 4 * n, this.scratch);
  }

  /** Uncached stores of words[0, n) at off, straight to RAM: uncachedWrite() of their bytes. */
  uncachedWriteWords(off: number, words: Uint32Array, n: number): void {
    this.probe?.cpuAccess(off, 4 * n, true, false);
    this.wordsToScratch(words, n);
    this.core.uncachedWrite(off, 4 * n, this.scratch);
  }

  /** CPU loads of n words at off into out[at, at + n): cpuRead() of their bytes. */
  cpuReadWords(off: number, n: number, out: Uint32Array, at: number): void {
    this.probe?.cpuAccess(off, 4 * n, false, true);
    this.core.cpuRead(off, 4 * n, this.scratch);
    this.wordsFromScratch(out, at, n);
  }

  /** Uncached loads of n words at off into out[at, at + n), after the CPU's own buffered stores. */
  uncachedReadWords(off: number, n: number, out: Uint32Array, at: number): void {
    this.probe?.cpuAccess(off, 4 * n, false, false);
    this.stores?.drainStores();
    this.core.uncachedRead(off, 4 * n, this.scratch);
    this.wordsFromScratch(out, at, n);
  }

  // ---- CPU accesses through the cache ---------------------------------------------------

  /** CPU loads of [off, off + len) into out[at..]. */
  cpuRead(off: number, len: number, out: Uint8Array, at: number): void {
    this.probe?.cpuAccess(off, len, false, true);
    for (let done = 0; done < len; done += SCRATCH_BYTES) {
      const n = Math.min(SCRATCH_BYTES, len - done);
      this.core.cpuRead(off + done, n, this.scratch);
      this.fromScratch(out, at + done, n);
    }
  }

  /** A register-sized CPU load (1, 2 or 4 bytes, little endian). */
  cpuLoad(off: number, size: number): number {
    this.probe?.cpuAccess(off, size, false, true);
    this.core.cpuRead(off, size, this.scratch);
    return this.scratchValue(size);
  }

  /** CPU stores of `data` at off. */
  cpuWrite(off: number, data: Uint8Array): void {
    this.probe?.cpuAccess(off, data.length, true, true);
    for (let done = 0; done < data.length; done += SCRATCH_BYTES) {
      const n = Math.min(SCRATCH_BYTES, data.length - done);
      this.toScratch(data, done, n);
      this.core.cpuWrite(off + done, n, this.scratch);
    }
  }

  /** A register-sized CPU store (1, 2, 4 or 8 bytes, little endian; 8 takes an integer below 2^53). */
  cpuStore(off: number, size: number, value: number): void {
    this.stage(size, value);
    this.probe?.cpuAccess(off, size, true, true);
    this.core.cpuWrite(off, size, this.scratch);
  }

  /** memset() through the cache. */
  cpuFill(off: number, len: number, byte: number): void {
    this.probe?.cpuAccess(off, len, true, true);
    this.core.cpuFill(off, len, byte);
  }

  /** A CPU memcpy of n bytes (swiotlb's bounce). */
  cpuCopy(dst: number, src: number, n: number): void {
    this.probe?.cpuCopy(dst, src, n);
    this.core.cpuCopy(dst, src, n);
  }

  // ---- CPU accesses around the cache (uncached mappings) ---------------------------------

  /** Uncached loads of [off, off + len) into out[at..], after the CPU's own buffered stores. */
  uncachedRead(off: number, len: number, out: Uint8Array, at: number): void {
    this.probe?.cpuAccess(off, len, false, false);
    this.stores?.drainStores();
    for (let done = 0; done < len; done += SCRATCH_BYTES) {
      const n = Math.min(SCRATCH_BYTES, len - done);
      this.core.uncachedRead(off + done, n, this.scratch);
      this.fromScratch(out, at + done, n);
    }
  }

  /** A register-sized uncached load, after the CPU's own buffered stores. */
  uncachedLoad(off: number, size: number): number {
    this.probe?.cpuAccess(off, size, false, false);
    this.stores?.drainStores();
    this.core.uncachedRead(off, size, this.scratch);
    return this.scratchValue(size);
  }

  /** Uncached stores of `data` at off, straight to RAM. */
  uncachedWrite(off: number, data: Uint8Array): void {
    this.probe?.cpuAccess(off, data.length, true, false);
    this.commitStore(off, data);
  }

  /** A register-sized uncached store (as cpuStore()), straight to RAM. */
  uncachedStore(off: number, size: number, value: number): void {
    this.stage(size, value);
    this.probe?.cpuAccess(off, size, true, false);
    this.core.uncachedWrite(off, size, this.scratch);
  }

  /** An uncached memset, straight to RAM. */
  uncachedFill(off: number, len: number, byte: number): void {
    this.probe?.cpuAccess(off, len, true, false);
    this.core.uncachedFill(off, len, byte);
  }

  /**
   * An uncached store of [off, off + len) enters the CPU's store buffer: the checker sees it now,
   * at the store; its bytes reach RAM later, through commitStore().
   */
  uncachedStoreBuffered(off: number, len: number): void {
    this.probe?.cpuAccess(off, len, true, false);
  }

  /** A buffered uncached store reaches RAM (its probe fired when it was issued). */
  commitStore(off: number, data: Uint8Array): void {
    for (let done = 0; done < data.length; done += SCRATCH_BYTES) {
      const n = Math.min(SCRATCH_BYTES, data.length - done);
      this.toScratch(data, done, n);
      this.core.uncachedWrite(off + done, n, this.scratch);
    }
  }

  /** A buffered uncached memset reaches RAM (its probe fired when it was issued). */
  commitFill(off: number, len: number, byte: number): void {
    this.core.uncachedFill(off, len, byte);
  }

  // ---- cache maintenance to the Point of Coherency ----------------------------------------

  /** DC CVAC over every line of [off, off + len); returns the dirty lines written back. */
  clean(off: number, len: number): number {
    this.probe?.maintenance('clean', off, len);
    return this.core.clean(off, len);
  }

  /** DC IVAC over every line of [off, off + len): dirty data is discarded. */
  invalidate(off: number, len: number): number {
    this.probe?.maintenance('inval', off, len);
    return this.core.invalidate(off, len);
  }

  /** DC CIVAC over every line of [off, off + len). */
  cleanInvalidate(off: number, len: number): number {
    this.probe?.maintenance('inval', off, len);
    return this.core.cleanInvalidate(off, len);
  }

  /** dcache_inval_poc: DC IVAC, but DC CIVAC on partial lines at either edge. */
  invalPoc(off: number, len: number): void {
    this.probe?.maintenance('inval', off, len);
    this.core.invalPoc(off, len);
  }

  // ---- device bus accesses ---------------------------------------------------------------

  /**
   * A device reads [off, off + len) (at bus address dma) into out[at..]: RAM, or the cache when
   * it snoops.
   */
  devRead(dev: BusMaster, dma: number, off: number, len: number, out: Uint8Array, at: number): void {
    this.probe?.deviceAccess(dev, dma, off, len, false, null, 0);
    this.stores?.storesObserved();
    const coherent = dev.dma_coherent ? 1 : 0;
    for (let done = 0; done < len; done += SCRATCH_BYTES) {
      const n = Math.min(SCRATCH_BYTES, len - done);
      this.core.devRead(off + done, n, this.scratch, coherent);
      this.fromScratch(out, at + done, n);
    }
  }

  /**
   * A device writes `data` at off. It does not wait for the CPU's store buffer: a store still
   * buffered to the same bytes lands later and wins, as it would on hardware.
   */
  devWrite(dev: BusMaster, dma: number, off: number, data: Uint8Array): void {
    this.probe?.deviceAccess(dev, dma, off, data.length, true, data, 0);
    const coherent = dev.dma_coherent ? 1 : 0;
    for (let done = 0; done < data.length; done += SCRATCH_BYTES) {
      const n = Math.min(SCRATCH_BYTES, data.length - done);
      if (this.stores?.loadsReordered === true) this.handOverOld(off + done, n);
      this.toScratch(data, done, n);
      this.core.devWrite(off + done, n, this.scratch, coherent);
    }
  }

  /** A device writes `len` copies of `byte` at off. */
  devFill(dev: BusMaster, dma: number, off: number, len: number, byte: number): void {
    this.probe?.deviceAccess(dev, dma, off, len, true, null, byte);
    if (this.stores?.loadsReordered === true) for (let done = 0; done < len; done += SCRATCH_BYTES) this.handOverOld(off + done, Math.min(SCRATCH_BYTES, len - done));
    this.core.devFill(off, len, byte, dev.dma_coherent ? 1 : 0);
  }

  /**
   * load.loadReordering: the bytes a device write is about to replace, as the CPU could load them
   * now (RAM with the dirty lines over it: the snooping view), go to the CPU's load history. The
   * look is not a device access, so the read counter is given back.
   */
  private handOverOld(off: number, n: number): void {
    this.core.devRead(off, n, this.scratch, 1);
    this.counters[CNT_DEV_BYTES_READ] = (this.counters[CNT_DEV_BYTES_READ] ?? 0n) - BigInt(n);
    (this.stores as StoreBuffer).deviceWrote(off, this.u8.slice(this.scratch, this.scratch + n));
  }

  // ---- batched ring steps (assembly/ring.ts) ---------------------------------------------
  // A ring step does CPU and device accesses the probe cannot see one by one: the batched NIC
  // path is only taken with no checker attached (nic-batched.ts's eligibility rule).

  /** The driver posts n descriptors of the ring block at `ring` from `first`. */
  ringPost(ring: number, first: number, n: number, ops: number): number {
    return this.core.ringPost(ring, first, n, ops);
  }

  /** The device handles up to n descriptors. */
  ringDevice(ring: number, first: number, n: number, ops: number): number {
    return this.core.ringDevice(ring, first, n, ops);
  }

  /** The driver reaps up to n completed descriptors. */
  ringReap(ring: number, first: number, n: number, ops: number): number {
    return this.core.ringReap(ring, first, n, ops);
  }

  // ---- scratch ---------------------------------------------------------------------------

  private stage(size: number, value: number): void {
    if (size === 1) this.view.setUint8(this.scratch, value);
    else if (size === 2) this.view.setUint16(this.scratch, value, true);
    else if (size === 4) this.view.setUint32(this.scratch, value, true);
    else {
      this.view.setUint32(this.scratch, value >>> 0, true);
      this.view.setUint32(this.scratch + 4, Math.floor(value / 0x1_0000_0000), true);
    }
  }

  private scratchValue(size: number): number {
    const at = this.scratch;
    return size === 1 ? this.view.getUint8(at) : size === 2 ? this.view.getUint16(at, true) : this.view.getUint32(at, true);
  }
}
