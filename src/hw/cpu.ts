// The CPU's loads and stores (m.cpu): through the data cache for normal memory, around it for
// uncached mappings (pgprot_dmacoherent / pgprot_noncached remaps in the vmalloc area), plus
// the barriers of asm/barrier.h and, optionally, a store buffer that lets a device observe
// uncached stores out of program order until a write barrier.

import { DmaSimRangeError, DmaSimTypeError } from '../lib/errors.js';
import { SCRATCH_BYTES } from '../engine/layout.js';
import type { EnginePort, HostStats, StoreBuffer } from '../engine/port.js';
import type { KernelImage } from '../mm/kimage.js';
import type { Vmalloc, VmArea } from '../mm/vmalloc.js';
import type { Clock } from './time.js';
import { __pa, isKernelImageAddr, isLinearMapAddress, isVmallocAddr, PAGE_SIZE } from '../mm/memory.js';
import { Xorshift32 } from '../lib/random.js';
import { checkAddr, checkBytes, checkIntIn, checkSize } from '../lib/validate.js';
import { checkRegValue, MMIO_READ_NS, MMIO_WRITE_NS, type Mmio } from './mmio.js';

/** What the CPU needs from the machine it runs in, handed in by machine.ts. */
export interface CpuHost {
  readonly port: EnginePort;
  readonly kimage: Pick<KernelImage, 'toPhys'>;
  readonly vm: Pick<Vmalloc, 'areaOf' | 'translate' | 'generation'>;
  readonly hostStats: HostStats;
  /** Simulated time: every CPU access is an interleaving point. */
  readonly clock: Clock;
  /** Device registers behind ioremap() addresses. */
  readonly mmio: Pick<Mmio, 'resolve'>;
  physToOffset(phys: number, len: number): number;
}

/** A piece of a virtual range that is physically contiguous and has one memory type. */
interface Span {
  readonly off: number;
  readonly len: number;
  readonly cached: boolean;
}

/**
 * A store to uncached memory that has not reached RAM yet: `bytes`, or `len` copies of `byte`
 * (a memset, kept as one store without a copy of its bytes).
 */
interface BufferedStore {
  readonly off: number;
  readonly len: number;
  readonly bytes: Uint8Array | null;
  readonly byte: number;
}

/** The bytes a device write replaced, kept until the next read barrier (load.loadReordering). */
interface OverwrittenBytes {
  readonly off: number;
  readonly old: Uint8Array;
}

/** Device writes remembered between two read barriers: older ones are forgotten first. */
const LOAD_HISTORY_MAX = 256;

export class Cpu implements StoreBuffer {
  private readonly storeBuffer: BufferedStore[] = [];
  private reorder = 0;
  /** Probability that a load is satisfied early (load.loadReordering). */
  private loadReorder = 0;
  /** What devices overwrote since the last read barrier, oldest first. */
  private readonly history: OverwrittenBytes[] = [];
  /** The load-reordering stream: its own, so turning it on leaves the store buffer's unchanged. */
  private readonly loadRng: Xorshift32;
  private readonly rng: Xorshift32;

  constructor(private readonly m: CpuHost, seed: number) {
    this.rng = new Xorshift32(seed ^ 0x5bd1e995);
    // murmur3's fmix32, so that neighbouring seeds start far apart.
    let h = (seed ^ 0x6c6f6164) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    this.loadRng = new Xorshift32(h ^ (h >>> 16));
  }

  /** Probability that a device access finds a buffered store already in RAM (0: no buffering). */
  setStoreReordering(p: number): void {
    this.drainStores();
    this.reorder = p;
  }

  /**
   * Probability that a CPU load is satisfied early (arm64 lets a load be performed before
   * earlier loads and branches): it then returns the bytes as they were at the last read
   * barrier, before the device writes made since.
   */
  setLoadReordering(p: number): void {
    this.history.length = 0;
    this.loadReorder = p;
  }

  /** Whether device writes must be remembered (load.loadReordering > 0). */
  get loadsReordered(): boolean {
    return this.loadReorder > 0;
  }

  /** A device is about to overwrite [off, off + old.length), whose bytes are now `old`. */
  deviceWrote(off: number, old: Uint8Array): void {
    if (this.history.length === LOAD_HISTORY_MAX) this.history.shift();
    this.history.push({ off, old });
  }

  /**
   * A load of [off, off + n) whose current value is at out[at, at + n): with probability
   * loadReordering it was performed early, so each byte a device wrote since the last read
   * barrier goes back to its value then. A load that returns the current value is ordered after
   * those writes, so they are forgotten for its bytes (a later load never sees older data).
   */
  private reorderLoad(off: number, n: number, out: Uint8Array, at: number): void {
    const h = this.history;
    let hit = false;
    for (const e of h) if (e.off < off + n && off < e.off + e.old.length) { hit = true; break; }
    if (!hit) return;
    if (this.loadRng.float() < this.loadReorder) {
      for (let i = h.length - 1; i >= 0; i--) {
        const e = h[i] as OverwrittenBytes;
        const lo = Math.max(off, e.off);
        const hi = Math.min(off + n, e.off + e.old.length);
        for (let b = lo; b < hi; b++) out[at + b - off] = e.old[b - e.off] as number;
      }
      return;
    }
    for (let i = h.length - 1; i >= 0; i--) {
      const e = h[i] as OverwrittenBytes;
      if (e.off >= off && e.off + e.old.length <= off + n) h.splice(i, 1);
    }
  }

  /** A CPU store to [off, off + n) is ordered after the device writes it overlaps. */
  private forgetOverwrites(off: number, n: number): void {
    const h = this.history;
    for (let i = h.length - 1; i >= 0; i--) {
      const e = h[i] as OverwrittenBytes;
      if (e.off < off + n && off < e.off + e.old.length) h.splice(i, 1);
    }
  }

  /** A read barrier (or a DSB): every earlier load is complete, so none can return older data. */
  orderLoads(): void {
    if (this.history.length !== 0) this.history.length = 0;
  }

  /** A buffered store reaches RAM. */
  private commit(st: BufferedStore): void {
    if (st.bytes === null) this.m.port.commitFill(st.off, st.len, st.byte);
    else this.m.port.commitStore(st.off, st.bytes);
  }

  /** Whether stores to uncached memory wait in the store buffer (load.storeReordering > 0). */
  get storesBuffered(): boolean {
    return this.reorder > 0;
  }

  /** Stores still in the store buffer. */
  get pendingStores(): number {
    return this.storeBuffer.length;
  }

  /** Every buffered store reaches RAM in program order (a write barrier, or store forwarding). */
  drainStores(): void {
    if (this.storeBuffer.length === 0) return;
    for (const st of this.storeBuffer) this.commit(st);
    this.storeBuffer.length = 0;
  }

  /**
   * A device is about to look at memory: each buffered store has reached RAM with probability
   * `reorder`, independently, which is how a device sees word1 of a descriptor before word0.
   * Stores to overlapping bytes never pass each other (per-location order holds on any CPU).
   */
  storesObserved(): void {
    if (this.storeBuffer.length === 0) return;
    const held: BufferedStore[] = [];
    for (const st of this.storeBuffer) {
      const blocked = held.some((h) => h.off < st.off + st.len && st.off < h.off + h.len);
      if (!blocked && this.rng.float() < this.reorder) this.commit(st);
      else held.push(st);
    }
    this.storeBuffer.length = 0;
    this.storeBuffer.push(...held);
  }

  /**
   * Splits [virt, virt + len) into RAM spans, or throws naming the caller: the whole range is
   * checked before any byte moves, so a refused access changes nothing.
   */
  private spans(fn: string, virt: number, len: number): Span[] {
    checkAddr(fn, 'ptr', virt);
    checkSize(fn, 'len', len);
    if (len === 0) return [];
    if (isLinearMapAddress(virt)) return [this.physSpan(fn, __pa(virt), len, true)];
    if (isKernelImageAddr(virt)) {
      const phys = this.m.kimage.toPhys(virt);
      if (phys >= 0 && this.m.kimage.toPhys(virt + len - 1) === phys + len - 1) return [this.physSpan(fn, phys, len, true)];
    } else if (isVmallocAddr(virt)) {
      return this.vmallocSpans(fn, virt, len);
    }
    throw new DmaSimRangeError(fn, 'ptr', `[0x${virt.toString(16)}, +${len}) is not mapped`);
  }

  private physSpan(fn: string, phys: number, len: number, cached: boolean): Span {
    const off = this.m.physToOffset(phys, len);
    if (off < 0) throw new DmaSimRangeError(fn, 'ptr', `physical [0x${phys.toString(16)}, +${len}) is not inside one RAM bank`);
    return { off, len, cached };
  }

  /** vmalloc space is mapped page by page, each page anywhere in RAM. */
  private vmallocSpans(fn: string, virt: number, len: number): Span[] {
    const area = this.m.vm.areaOf(virt);
    if (area === null || virt + len > area.start + area.size) {
      throw new DmaSimRangeError(fn, 'ptr', `[0x${virt.toString(16)}, +${len}) is not inside one vmalloc area`);
    }
    const cached = area.prot === undefined || area.prot === 'normal';
    const out: Span[] = [];
    for (let at = virt; at < virt + len;) {
      const n = Math.min(PAGE_SIZE - (at % PAGE_SIZE), virt + len - at);
      const span = this.physSpan(fn, this.m.vm.translate(at), n, cached);
      const last = out[out.length - 1];
      if (last !== undefined && last.cached === cached && last.off + last.len === span.off) out[out.length - 1] = { off: last.off, len: last.len + n, cached };
      else out.push(span);
      at += n;
    }
    return out;
  }

  /** CPU loads of `len` bytes at ptr. */
  read(ptr: number, len: number): Uint8Array {
    return this.readAs('cpu.read', ptr, len);
  }

  /**
   * CPU loads of out.length bytes at ptr into `out`: read() without an allocation, for a driver
   * that checks or copies packets through a buffer of its own. A linear-map buffer (kmalloc,
   * pages) is one cached span and skips the span list.
   */
  readInto(ptr: number, out: Uint8Array): void {
    const fn = 'cpu.readInto';
    if (!(out instanceof Uint8Array)) throw new DmaSimTypeError(fn, 'out', 'must be a Uint8Array');
    const off = this.linearOffset(ptr, out.length);
    if (off < 0) {
      this.readSpans(this.spans(fn, ptr, out.length), out);
      return;
    }
    this.m.clock.cpuPoint();
    this.m.port.cpuRead(off, out.length, out, 0);
    if (this.history.length !== 0) this.reorderLoad(off, out.length, out, 0);
  }

  /** The RAM offset of a non-empty linear-map range inside one bank, else -1 (the general path). */
  private linearOffset(ptr: number, len: number): number {
    return len > 0 && Number.isSafeInteger(ptr) && isLinearMapAddress(ptr) ? this.m.physToOffset(__pa(ptr), len) : -1;
  }

  /** The loads of `fn`: the range is checked before the result is allocated or time moves. */
  private readAs(fn: string, ptr: number, len: number): Uint8Array {
    const spans = this.spans(fn, ptr, len);
    const out = new Uint8Array(len);
    this.readSpans(spans, out);
    return out;
  }

  private readSpans(spans: readonly Span[], out: Uint8Array): void {
    this.m.clock.cpuPoint();
    const port = this.m.port;
    let pos = 0;
    for (const s of spans) {
      if (s.cached) port.cpuRead(s.off, s.len, out, pos);
      else port.uncachedRead(s.off, s.len, out, pos);
      if (this.history.length !== 0) this.reorderLoad(s.off, s.len, out, pos);
      pos += s.len;
    }
  }

  /** CPU stores of `bytes` at ptr. */
  write(ptr: number, bytes: Uint8Array | readonly number[]): void {
    this.put('cpu.write', ptr, checkBytes('cpu.write', 'bytes', bytes));
  }

  /** The stores of `fn`: the range is checked before time moves or a byte does. */
  private put(fn: string, ptr: number, data: Uint8Array): void {
    const off = this.linearOffset(ptr, data.length);
    if (off >= 0) {
      // One cached span that spans() would accept (see readInto()): no span list, no view of data.
      this.m.clock.cpuPoint();
      if (this.history.length !== 0) this.forgetOverwrites(off, data.length);
      this.m.port.cpuWrite(off, data);
      return;
    }
    const spans = this.spans(fn, ptr, data.length);
    this.m.clock.cpuPoint();
    const port = this.m.port;
    let pos = 0;
    for (const s of spans) {
      if (this.history.length !== 0) this.forgetOverwrites(s.off, s.len);
      const part = data.subarray(pos, pos + s.len);
      if (s.cached) port.cpuWrite(s.off, part);
      else if (this.reorder > 0) this.buffer(s.off, part.slice());
      else port.uncachedWrite(s.off, part);
      pos += s.len;
    }
  }

  /** An uncached store waits in the store buffer, in pieces of at most the engine's scratch size. */
  private buffer(off: number, bytes: Uint8Array): void {
    this.m.port.uncachedStoreBuffered(off, bytes.length);
    for (let done = 0; done < bytes.length; done += SCRATCH_BYTES) {
      const piece = bytes.subarray(done, done + SCRATCH_BYTES);
      this.storeBuffer.push({ off: off + done, len: piece.length, bytes: piece, byte: 0 });
    }
  }

  /** An uncached memset waits in the store buffer, as one store. */
  private bufferFill(off: number, len: number, byte: number): void {
    this.m.port.uncachedStoreBuffered(off, len);
    this.storeBuffer.push({ off, len, bytes: null, byte });
  }

  /** memset(ptr, byte, len). */
  fill(ptr: number, len: number, byte: number): void {
    checkIntIn('cpu.fill', 'byte', byte, 0, 255);
    const spans = this.spans('cpu.fill', ptr, len);
    this.m.clock.cpuPoint();
    const port = this.m.port;
    for (const s of spans) {
      if (this.history.length !== 0) this.forgetOverwrites(s.off, s.len);
      if (s.cached) port.cpuFill(s.off, s.len, byte);
      else if (this.reorder > 0) this.bufferFill(s.off, s.len, byte);
      else port.uncachedFill(s.off, s.len, byte);
    }
  }

  /**
   * The RAM offset of a small access that stays inside one page, or -1 (the caller then takes
   * the general path). Register-sized accesses are the descriptor traffic of every driver:
   * this path allocates nothing. `lastCached` says whether the mapping goes through the cache.
   */
  private locate(fn: string, virt: number, len: number): number {
    checkAddr(fn, 'ptr', virt);
    if (isLinearMapAddress(virt)) {
      this.lastCached = true;
      return this.m.physToOffset(__pa(virt), len);
    }
    // The offset in the page by floor(): `%` of a double this large is a C call (fmod).
    const inPage = virt - Math.floor(virt / PAGE_SIZE) * PAGE_SIZE;
    if (!isVmallocAddr(virt) || inPage + len > PAGE_SIZE) return -1;
    const area = this.vmallocArea(virt);
    if (area === null || virt + len > area.start + area.size) return -1;
    this.lastCached = area.prot === undefined || area.prot === 'normal';
    const pfn = area.pfns[Math.floor((virt - area.start) / PAGE_SIZE)] as number;
    return this.m.physToOffset(pfn * PAGE_SIZE + inPage, len);
  }

  private lastCached = true;
  private lastArea: VmArea | null = null;
  private lastAreaGeneration = -1;

  /** The vmalloc area of virt, trying the last one first (descriptor rings are hit in runs). */
  private vmallocArea(virt: number): VmArea | null {
    const a = this.lastArea;
    const vm = this.m.vm;
    if (a !== null && this.lastAreaGeneration === vm.generation && virt >= a.start && virt < a.start + a.size) return a;
    this.lastArea = vm.areaOf(virt);
    this.lastAreaGeneration = vm.generation;
    return this.lastArea;
  }

  /**
   * A load of 1, 2, 4 or 8 bytes: from memory, or (readl() and friends on an ioremap()ed
   * address) from a device register, followed by __iormb() unless `relaxed`.
   */
  private load(fn: string, ptr: number, size: number, relaxed = true): number {
    const off = this.locate(fn, ptr, size);
    if (off < 0) {
      const io = this.iomem(ptr);
      if (io !== null) return this.mmioRead(fn, io, ptr, size, relaxed);
    }
    if (off < 0 || size === 8 || this.history.length !== 0) {
      // A load that straddles pages, an address the general path will refuse with its reason, a
      // 64-bit load, or one that may be satisfied early (load.loadReordering).
      const bytes = this.readAs(fn, ptr, size);
      return bytes.reduceRight((v, b) => v * 256 + b, 0);
    }
    this.m.clock.cpuPoint();
    return this.lastCached ? this.m.port.cpuLoad(off, size) : this.m.port.uncachedLoad(off, size);
  }

  /** A store to memory, or to a device register after __iowmb() unless `relaxed` (writel()). */
  private store(fn: string, ptr: number, size: number, value: number, relaxed = true): void {
    checkRegValue(fn, size, value);
    const off = this.locate(fn, ptr, size);
    if (off < 0) {
      const io = this.iomem(ptr);
      if (io !== null) {
        this.mmioWrite(fn, io, ptr, size, value, relaxed);
        return;
      }
    }
    if (off < 0 || (!this.lastCached && this.reorder > 0)) {
      // put() checks the range, then takes the access's one interleaving point.
      const bytes = new Uint8Array(size);
      for (let i = 0, v = value; i < size; i++, v = Math.floor(v / 256)) bytes[i] = v & 0xff;
      this.put(fn, ptr, bytes);
      return;
    }
    this.m.clock.cpuPoint();
    if (this.history.length !== 0) this.forgetOverwrites(off, size);
    if (this.lastCached) this.m.port.cpuStore(off, size, value);
    else this.m.port.uncachedStore(off, size, value);
  }

  /** The ioremap() area (Device memory) that holds virt, or null: looked at only off the RAM paths. */
  private iomem(virt: number): VmArea | null {
    if (!isVmallocAddr(virt)) return null;
    const area = this.vmallocArea(virt);
    return area !== null && area.prot === 'device' ? area : null;
  }

  /**
   * A register read: an interleaving point, the device answers, the CPU waits out the round
   * trip; then __iormb() unless relaxed (the load is complete before any later load).
   */
  private mmioRead(fn: string, area: VmArea, ptr: number, size: number, relaxed: boolean): number {
    const [w, reg] = this.m.mmio.resolve(fn, area, ptr, size);
    this.m.clock.point();
    const value = w.read(reg, size);
    this.m.clock.advance(MMIO_READ_NS);
    if (!relaxed) this.__iormb();
    return value;
  }

  /** A register write: __iowmb() unless relaxed (earlier stores to memory are visible first). */
  private mmioWrite(fn: string, area: VmArea, ptr: number, size: number, value: number, relaxed: boolean): void {
    const [w, reg] = this.m.mmio.resolve(fn, area, ptr, size);
    if (!relaxed) this.__iowmb();
    this.m.clock.point();
    w.write(reg, size, value);
    this.m.clock.advance(MMIO_WRITE_NS);
  }

  readb(ptr: number): number { return this.load('cpu.readb', ptr, 1, false); }
  readw(ptr: number): number { return this.load('cpu.readw', ptr, 2, false); }
  readl(ptr: number): number { return this.load('cpu.readl', ptr, 4, false); }
  readq(ptr: number): number { return this.load('cpu.readq', ptr, 8, false); }
  writeb(ptr: number, value: number): void { this.store('cpu.writeb', ptr, 1, value, false); }
  writew(ptr: number, value: number): void { this.store('cpu.writew', ptr, 2, value, false); }
  writel(ptr: number, value: number): void { this.store('cpu.writel', ptr, 4, value, false); }
  writeq(ptr: number, value: number): void { this.store('cpu.writeq', ptr, 8, value, false); }
  readb_relaxed(ptr: number): number { return this.load('cpu.readb_relaxed', ptr, 1); }
  readw_relaxed(ptr: number): number { return this.load('cpu.readw_relaxed', ptr, 2); }
  readl_relaxed(ptr: number): number { return this.load('cpu.readl_relaxed', ptr, 4); }
  readq_relaxed(ptr: number): number { return this.load('cpu.readq_relaxed', ptr, 8); }
  writeb_relaxed(ptr: number, value: number): void { this.store('cpu.writeb_relaxed', ptr, 1, value); }
  writew_relaxed(ptr: number, value: number): void { this.store('cpu.writew_relaxed', ptr, 2, value); }
  writel_relaxed(ptr: number, value: number): void { this.store('cpu.writel_relaxed', ptr, 4, value); }
  writeq_relaxed(ptr: number, value: number): void { this.store('cpu.writeq_relaxed', ptr, 8, value); }

  /**
   * Barriers (asm/barrier.h). The read barriers end the window in which a load may be satisfied
   * early (load.loadReordering); the write barriers drain the store buffer, which is what orders
   * descriptor stores.
   */
  mb(): void { this.barrier(); this.orderLoads(); this.drainStores(); }
  rmb(): void { this.barrier(); this.orderLoads(); }
  wmb(): void { this.barrier(); this.drainStores(); }
  dma_rmb(): void { this.barrier(); this.orderLoads(); }
  dma_wmb(): void { this.barrier(); this.drainStores(); }

  /** arm64 __iormb(): dma_rmb() after a register read (DMB OSHLD). */
  private __iormb(): void { this.dma_rmb(); }
  /** arm64 __iowmb(): dma_wmb() before a register write (DMB OSHST), which drains the store buffer. */
  private __iowmb(): void { this.dma_wmb(); }

  /** A barrier instruction: counted, and an interleaving point like any CPU instruction. */
  private barrier(): void {
    this.m.hostStats.cpuBarriers++;
    this.m.clock.cpuPoint();
  }
}
