// The base class of device models: a device that runs on its own. Like a v86 device file it owns
// its registers and its state; like hardware it touches memory only as a bus master through its
// struct device's DMA addresses (so dma-direct offsets, swiotlb and the IOMMU apply to it), it
// schedules its own work on the machine's clock with a latency model whose jitter comes from the
// seed, and it raises an interrupt line.
//
// A subclass implements readReg()/writeReg() over its register map and calls the protected
// helpers; m.createDevice({ name, model }) attaches it (attach() is called once).

import { DmaSimRangeError, type Device } from '../index.js';
import type { MmioWindow } from '../hw/mmio.js';
import type { AttachableModel, ModelHost } from '../hw/model.js';
import type { TimerEvent } from '../hw/time.js';
import { Xorshift32 } from '../lib/random.js';

export interface DeviceModelOptions {
  /** Physical base of the register window (not RAM, not another device's window). */
  mmioBase: number;
  /** Latency of one unit of work (a descriptor), in ns. */
  latencyNs?: number;
  /** Uniform jitter added to each latency, 0..jitterNs ns, drawn from the machine's seed. */
  jitterNs?: number;
}

function checkNs(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new DmaSimRangeError(fn, arg, `must be a non-negative number of ns, got ${String(v)}`);
  return v;
}

export abstract class DeviceModel implements AttachableModel<Device> {
  /** Size of the register window in bytes. */
  abstract readonly mmioSize: number;
  /** Access sizes the registers answer to. */
  readonly regSizes: readonly number[] = [4, 8];
  readonly mmioBase: number;
  readonly latencyNs: number;
  readonly jitterNs: number;
  private devRef: Device | null = null;
  private hostRef: ModelHost | null = null;
  private irqLine = -1;
  private rng = new Xorshift32(1);
  /** A seed of this model's own, derived from the machine's seed and its interrupt line. */
  protected modelSeed = 1;

  constructor(opts: DeviceModelOptions) {
    const fn = `new ${new.target.name}`;
    if (typeof opts !== 'object' || opts === null) throw new DmaSimRangeError(fn, 'options', 'must be an object with mmioBase');
    if (typeof opts.mmioBase !== 'number' || !Number.isSafeInteger(opts.mmioBase) || opts.mmioBase < 0 || opts.mmioBase % 4096 !== 0) {
      throw new DmaSimRangeError(fn, 'mmioBase', `must be a page-aligned physical address, got ${String(opts.mmioBase)}`);
    }
    this.mmioBase = opts.mmioBase;
    this.latencyNs = checkNs(fn, 'latencyNs', opts.latencyNs ?? 100);
    this.jitterNs = checkNs(fn, 'jitterNs', opts.jitterNs ?? 0);
  }

  /** Called by m.createDevice(): the registers appear on the bus and the device gets its line. */
  attach(dev: Device, host: ModelHost): void {
    if (this.devRef !== null) throw new DmaSimRangeError('createDevice', 'model', 'is already attached to a device');
    const window: MmioWindow = {
      base: this.mmioBase, size: this.mmioSize, name: dev.name, sizes: this.regSizes,
      read: (off, size) => this.readReg(off, size),
      write: (off, size, value) => this.writeReg(off, size, value),
    };
    host.mmio.addWindow(window, 'createDevice');
    this.devRef = dev;
    this.hostRef = host;
    this.irqLine = host.irq.allocate(dev.name);
    // xorshift32 seeded from the machine's seed and the line, so two models jitter differently.
    this.modelSeed = (Math.imul(host.seed, 0x9e3779b1) ^ Math.imul(this.irqLine, 0x85ebca6b)) >>> 0 || 1;
    this.rng = new Xorshift32(this.modelSeed);
  }

  /** The struct device this model is (its DMA addresses are the ones it uses). */
  get dev(): Device {
    if (this.devRef === null) throw new DmaSimRangeError(this.constructor.name, 'dev', 'the model is not attached (m.createDevice({ model }))');
    return this.devRef;
  }

  /** The Linux IRQ number of the device's interrupt line, for request_irq(). */
  get irq(): number {
    return this.irqLine;
  }

  private get host(): ModelHost {
    if (this.hostRef === null) throw new DmaSimRangeError(this.constructor.name, 'dev', 'the model is not attached (m.createDevice({ model }))');
    return this.hostRef;
  }

  /** A register read at `offset` (an access size from regSizes, naturally aligned). */
  protected abstract readReg(offset: number, size: number): number;
  /** A register write at `offset`. */
  protected abstract writeReg(offset: number, size: number, value: number): void;

  /** Simulated ns now. */
  protected now(): number {
    return this.host.clock.now();
  }

  /** The model's own work, `delayNs` from now. */
  protected after(delayNs: number, name: string, fn: () => void): TimerEvent {
    return this.host.clock.addTimer(delayNs, `${this.dev.name}: ${name}`, fn);
  }

  /**
   * Work that recurs (a frame's arrival, a descriptor fetch): one event made once and re-armed
   * with arm() each time, so a model's steady state allocates nothing on the clock.
   */
  protected timer(name: string, fn: () => void): TimerEvent {
    return this.host.clock.timer(`${this.dev.name}: ${name}`, fn);
  }

  /** Runs a timer() event `delayNs` from now (moved, if it was pending). */
  protected arm(ev: TimerEvent, delayNs: number): void {
    this.host.clock.arm(ev, delayNs);
  }

  protected cancel(ev: TimerEvent): void {
    this.host.clock.cancel(ev);
  }

  /** latencyNs plus a seeded jitter in [0, jitterNs]. */
  protected latency(base = this.latencyNs): number {
    if (this.jitterNs === 0) return base;
    return base + Math.floor(this.rng.float() * (this.jitterNs + 1));
  }

  /** Assert the interrupt line. */
  protected raiseIrq(): void {
    this.host.irq.raise(this.irqLine);
  }

  /** Bus-master reads and writes, through the device's DMA addresses. */
  protected dmaRead(addr: number, len: number): Uint8Array {
    return this.dev.dmaRead(addr, len);
  }

  protected dmaWrite(addr: number, bytes: Uint8Array): void {
    this.dev.dmaWrite(addr, bytes);
  }

  /** Into a buffer of the model's own (no allocation: the descriptor traffic of every packet). */
  protected dmaReadInto(addr: number, out: Uint8Array): void {
    this.dev.dmaReadInto(addr, out);
  }

  /**
   * Little-endian fields of descriptors in DMA memory, through two reused views: a 64-bit field
   * is one 8-byte bus read, as a descriptor fetch is one burst.
   */
  private readonly field8 = new Uint8Array(8);
  private readonly field4 = this.field8.subarray(0, 4);
  private readonly fieldView = new DataView(this.field8.buffer);

  protected dmaRead32(addr: number): number {
    this.dev.dmaReadInto(addr, this.field4);
    return this.fieldView.getUint32(0, true);
  }

  protected dmaRead64(addr: number): number {
    this.dev.dmaReadInto(addr, this.field8);
    return this.fieldView.getUint32(0, true) + this.fieldView.getUint32(4, true) * 0x1_0000_0000;
  }

  protected dmaWrite32(addr: number, value: number): void {
    this.fieldView.setUint32(0, value, true);
    this.dev.dmaWrite(addr, this.field4);
  }
}

/**
 * A 64-bit register written as two 32-bit halves (lo at `offset`, hi at `offset + 4`) or as one
 * writeq(): returns the new value of the whole register.
 */
export function write64(old: number, offsetInReg: number, size: number, value: number): number {
  if (size === 8) return value;
  const lo = old >>> 0; // the value modulo 2^32, exact below 2^53 (`%` of a double is fmod)
  const hi = Math.floor(old / 0x1_0000_0000);
  return offsetInReg === 0 ? hi * 0x1_0000_0000 + value : value * 0x1_0000_0000 + lo;
}

/** The 32-bit half (or all 64 bits) of a 64-bit register that a read at `offsetInReg` returns. */
export function read64(v: number, offsetInReg: number, size: number): number {
  if (size === 8) return v;
  return offsetInReg === 0 ? v >>> 0 : Math.floor(v / 0x1_0000_0000);
}
