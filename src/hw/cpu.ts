// The CPU's loads and stores (m.cpu): through the data cache for normal memory, around it for
// uncached mappings (pgprot_dmacoherent / pgprot_noncached remaps in the vmalloc area), plus
// the barriers of asm/barrier.h and, optionally, a store buffer that lets a device observe
// uncached stores out of program order until a write barrier.

import { DmaSimRangeError } from '../lib/errors.js';
import { SCRATCH_BYTES } from '../engine/layout.js';
import type { EnginePort, HostStats, StoreBuffer } from '../engine/port.js';
import type { KernelImage } from '../mm/kimage.js';
import type { Vmalloc, VmArea } from '../mm/vmalloc.js';
import type { Clock } from './time.js';
import { __pa, isKernelImageAddr, isLinearMapAddress, isVmallocAddr, PAGE_SIZE } from '../mm/memory.js';
import { Xorshift32 } from '../lib/random.js';
import { checkAddr, checkBytes, checkIntIn, checkSize } from '../lib/validate.js';

/** What the CPU needs from the machine it runs in, handed in by machine.ts. */
export interface CpuHost {
  readonly port: EnginePort;
  readonly kimage: Pick<KernelImage, 'toPhys'>;
  readonly vm: Pick<Vmalloc, 'areaOf' | 'translate' | 'generation'>;
  readonly hostStats: HostStats;
  /** Simulated time: every CPU access is an interleaving point. */
  readonly clock: Clock;
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

export class Cpu implements StoreBuffer {
  private readonly storeBuffer: BufferedStore[] = [];
  private reorder = 0;
  private readonly rng: Xorshift32;

  constructor(private readonly m: CpuHost, seed: number) {
    this.rng = new Xorshift32(seed ^ 0x5bd1e995);
  }

  /** Probability that a device access finds a buffered store already in RAM (0: no buffering). */
  setStoreReordering(p: number): void {
    this.drainStores();
    this.reorder = p;
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

  /** The loads of `fn`: the range is checked before the result is allocated or time moves. */
  private readAs(fn: string, ptr: number, len: number): Uint8Array {
    const spans = this.spans(fn, ptr, len);
    this.m.clock.cpuPoint();
    const out = new Uint8Array(len);
    const port = this.m.port;
    let pos = 0;
    for (const s of spans) {
      if (s.cached) port.cpuRead(s.off, s.len, out, pos);
      else port.uncachedRead(s.off, s.len, out, pos);
      pos += s.len;
    }
    return out;
  }

  /** CPU stores of `bytes` at ptr. */
  write(ptr: number, bytes: Uint8Array | readonly number[]): void {
    this.m.clock.cpuPoint();
    this.put('cpu.write', ptr, checkBytes('cpu.write', 'bytes', bytes));
  }

  private put(fn: string, ptr: number, data: Uint8Array): void {
    const port = this.m.port;
    let pos = 0;
    for (const s of this.spans(fn, ptr, data.length)) {
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
    this.m.clock.cpuPoint();
    const port = this.m.port;
    for (const s of this.spans('cpu.fill', ptr, len)) {
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
    if (!isVmallocAddr(virt) || (virt % PAGE_SIZE) + len > PAGE_SIZE) return -1;
    const area = this.vmallocArea(virt);
    if (area === null || virt + len > area.start + area.size) return -1;
    this.lastCached = area.prot === undefined || area.prot === 'normal';
    const pfn = area.pfns[Math.floor((virt - area.start) / PAGE_SIZE)] as number;
    return this.m.physToOffset(pfn * PAGE_SIZE + (virt % PAGE_SIZE), len);
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

  private load(fn: string, ptr: number, size: number): number {
    const off = this.locate(fn, ptr, size);
    if (off < 0) {
      // A load that straddles pages, or an address the general path will refuse with its reason.
      const bytes = this.readAs(fn, ptr, size);
      return bytes.reduceRight((v, b) => v * 256 + b, 0);
    }
    this.m.clock.cpuPoint();
    return this.lastCached ? this.m.port.cpuLoad(off, size) : this.m.port.uncachedLoad(off, size);
  }

  private store(fn: string, ptr: number, size: number, value: number): void {
    checkIntIn(fn, 'value', value, 0, 2 ** (size * 8) - 1);
    const off = this.locate(fn, ptr, size);
    this.m.clock.cpuPoint();
    if (off < 0 || (!this.lastCached && this.reorder > 0)) {
      const bytes = new Uint8Array(size);
      for (let i = 0, v = value; i < size; i++, v = Math.floor(v / 256)) bytes[i] = v & 0xff;
      this.put(fn, ptr, bytes);
      return;
    }
    if (this.lastCached) this.m.port.cpuStore(off, size, value);
    else this.m.port.uncachedStore(off, size, value);
  }

  readb(ptr: number): number { return this.load('cpu.readb', ptr, 1); }
  readw(ptr: number): number { return this.load('cpu.readw', ptr, 2); }
  readl(ptr: number): number { return this.load('cpu.readl', ptr, 4); }
  writeb(ptr: number, value: number): void { this.store('cpu.writeb', ptr, 1, value); }
  writew(ptr: number, value: number): void { this.store('cpu.writew', ptr, 2, value); }
  writel(ptr: number, value: number): void { this.store('cpu.writel', ptr, 4, value); }

  /**
   * Barriers (asm/barrier.h). Loads complete in order in this model, so the read barriers only
   * count; the write barriers drain the store buffer, which is what orders descriptor stores.
   */
  mb(): void { this.barrier(); this.drainStores(); }
  rmb(): void { this.barrier(); }
  wmb(): void { this.barrier(); this.drainStores(); }
  dma_rmb(): void { this.barrier(); }
  dma_wmb(): void { this.barrier(); this.drainStores(); }

  /** A barrier instruction: counted, and an interleaving point like any CPU instruction. */
  private barrier(): void {
    this.m.hostStats.cpuBarriers++;
    this.m.clock.cpuPoint();
  }
}
