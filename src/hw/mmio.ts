// Memory-mapped I/O: the register windows devices declare on the physical bus, ioremap() and
// iounmap() (arch/arm64/mm/ioremap.c ioremap_prot(), mm/ioremap.c generic_ioremap_prot()), and
// the accessors of arch/arm64/include/asm/io.h: readl() is the load then __iormb(), writel() is
// __iowmb() then the store, and the _relaxed forms have no barrier. The barriers themselves are
// the CPU's (hw/cpu.ts); this file routes an access to the device that owns the address.
//
// An access to device memory must be naturally aligned (arm64 Device memory faults otherwise)
// and of a size the device's registers answer to; an access no window claims is the
// asynchronous external abort the bus returns. Each throws a typed error naming the caller's
// function and the address, before any device sees the access.

import { DmaSimRangeError } from '../lib/errors.js';
import { checkIntIn } from '../lib/validate.js';
import { PAGE_SIZE } from '../mm/memory.js';
import type { VmArea, VmProt } from '../mm/vmalloc.js';

/** A device read of a register answers in this many ns (the CPU stalls for the round trip). */
export const MMIO_READ_NS = 200;
/** A posted write leaves the CPU after this many ns. */
export const MMIO_WRITE_NS = 20;

/** A device's register window on the physical bus: what a device model answers to. */
export interface MmioWindow {
  /** Physical base and size in bytes. */
  readonly base: number;
  readonly size: number;
  /** Whose registers (for error text). */
  readonly name: string;
  /** Access sizes the registers answer to, in bytes (e.g. [4, 8]). */
  readonly sizes: readonly number[];
  /** A register read at `offset` from the base; returns the value (at most 2^53 - 1). */
  read(offset: number, size: number): number;
  /** A register write at `offset`. */
  write(offset: number, size: number, value: number): void;
}

/** What MMIO needs from the machine. */
export interface MmioDeps {
  vm: {
    vmap(pfns: readonly number[], prot: VmProt): number;
    vunmap(addr: number): void;
    areaOf(virt: number): VmArea | null;
  };
  /** pfn_is_map_memory(): the physical address is RAM. */
  isRam(phys: number, len: number): boolean;
  /** The architecture's WARN for an ioremap() of RAM. */
  ramWarning(phys: number, last: number): void;
}

export class Mmio {
  private readonly windows: MmioWindow[] = [];

  constructor(private readonly deps: MmioDeps) {}

  /** A device declares its registers; windows may not overlap each other or RAM. */
  addWindow(w: MmioWindow, fn: string): void {
    if (this.deps.isRam(w.base, 1) || this.deps.isRam(w.base + w.size - 1, 1)) {
      throw new DmaSimRangeError(fn, 'mmio.base', `[0x${w.base.toString(16)}, +${w.size}) overlaps RAM`);
    }
    if (this.windows.some((o) => o.base < w.base + w.size && w.base < o.base + o.size)) {
      throw new DmaSimRangeError(fn, 'mmio.base', `[0x${w.base.toString(16)}, +${w.size}) overlaps another device's registers`);
    }
    this.windows.push(w);
  }

  removeWindow(w: MmioWindow): void {
    const i = this.windows.indexOf(w);
    if (i >= 0) this.windows.splice(i, 1);
  }

  /**
   * ioremap(): map [phys, phys + size) as Device-nGnRE memory in the vmalloc area. Size 0, a
   * range that wraps, or RAM (WARN) give NULL, as the kernel does; no window needs to claim the
   * range yet (an access will fault if none does).
   */
  ioremap(phys: number, size: number): number {
    if (size === 0 || phys + size - 1 < phys) return 0;
    if (this.deps.isRam(phys, 1)) {
      this.deps.ramWarning(phys, phys + size - 1);
      return 0;
    }
    const offset = phys % PAGE_SIZE;
    const first = (phys - offset) / PAGE_SIZE;
    const pages = Math.ceil((size + offset) / PAGE_SIZE);
    const va = this.deps.vm.vmap(Array.from({ length: pages }, (_, i) => first + i), 'device');
    return va === 0 ? 0 : va + offset;
  }

  /** iounmap(): generic_iounmap() unmaps only ioremap() addresses; anything else is ignored. */
  iounmap(addr: number): void {
    const area = this.deps.vm.areaOf(addr);
    if (area !== null && area.prot === 'device') this.deps.vm.vunmap(area.start);
  }

  /**
   * The window and register offset an `__iomem` access reaches, or a typed error. The answer is
   * one reused pair (read it before the next access): a register access allocates nothing.
   */
  resolve(fn: string, area: VmArea, virt: number, size: number): readonly [MmioWindow, number] {
    // The low bits of virt >>> 0 are virt's (a power-of-two size); `%` of a double is fmod.
    if (((virt >>> 0) & (size - 1)) !== 0) throw new DmaSimRangeError(fn, 'addr', `0x${virt.toString(16)} is not ${size}-byte aligned (alignment fault on Device memory)`);
    const off = virt - area.start;
    const phys = (area.pfns[Math.floor(off / PAGE_SIZE)] as number) * PAGE_SIZE + (off % PAGE_SIZE);
    const w = this.windowAt(phys, size);
    if (w === null) throw new DmaSimRangeError(fn, 'addr', `0x${virt.toString(16)} (phys 0x${phys.toString(16)}) is claimed by no device: external abort`);
    if (!w.sizes.includes(size)) throw new DmaSimRangeError(fn, 'addr', `${w.name} registers do not answer ${size * 8}-bit accesses (at 0x${virt.toString(16)})`);
    const hit = this.hit;
    hit[0] = w;
    hit[1] = phys - w.base;
    return hit;
  }

  private readonly hit: [MmioWindow, number] = [NO_WINDOW, 0];

  private windowAt(phys: number, size: number): MmioWindow | null {
    const ws = this.windows;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i] as MmioWindow;
      if (phys >= w.base && phys + size <= w.base + w.size) return w;
    }
    return null;
  }
}

/** The pair resolve() reuses, before its first answer. */
const NO_WINDOW: MmioWindow = { base: 0, size: 0, name: '', sizes: [], read: () => 0, write: () => {} };

/** The largest value of a 1-, 2-, 4- and 8-byte register (8: what a number holds exactly). */
const REG_MAX: readonly number[] = [0, 0xff, 0xffff, 0, 0xffff_ffff, 0, 0, 0, Number.MAX_SAFE_INTEGER];

/** The value argument of a register write: the common case (a u32 or a safe u64) is two compares. */
export function checkRegValue(fn: string, size: number, value: unknown): number {
  if (typeof value === 'number' && value >= 0 && value <= (REG_MAX[size] ?? -1) && Number.isInteger(value)) return value;
  return checkIntIn(fn, 'value', value, 0, size === 8 ? Number.MAX_SAFE_INTEGER : 2 ** (size * 8) - 1);
}
