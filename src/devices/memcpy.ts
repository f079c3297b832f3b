// A memcpy DMA engine: a ring of src/dst/len descriptors in DMA memory, a doorbell, and a
// completion interrupt: the kind of channel the kernel's dmaengine memcpy clients and
// drivers/dma/dmatest.c drive. The register map is in README ("Device models").
//
// Registers (32-bit unless noted; 64-bit ones take one writeq() or two writel()s, low half first):
//   0x00 ID          RO   MEMCPY_ID
//   0x04 CTRL        RW   bit0 ENABLE; bit1 RESET (write 1: stop, HEAD = TAIL = 0, STATUS = 0)
//   0x08 STATUS      RO/W1C  bit0 BUSY (RO), bit1 DONE, bit2 ERR (write 1 to clear)
//   0x0c INT_MASK    RW   bit1 DONE and bit2 ERR raise the interrupt while set in STATUS
//   0x10 DESC_BASE   RW   64-bit DMA address of the ring (32-byte aligned)
//   0x18 DESC_COUNT  RW   entries in the ring
//   0x1c TAIL        RW   doorbell: the engine processes descriptors from HEAD up to TAIL
//   0x20 HEAD        RO   the next descriptor the engine will process
//   0x24 COMPLETED   RO   descriptors completed since reset (mod 2^32)
//
// Descriptor (32 bytes, little-endian): 0x00 src (u64), 0x08 dst (u64), 0x10 len (u32),
// 0x14 ctrl (u32, bit0 INT: set DONE when this one completes), 0x18 status (u32, written by the
// engine last: bit0 DONE, bit1 ERR), 0x1c reserved.

import { DmaFaultError } from '../index.js';
import { DeviceModel, read64, write64, type DeviceModelOptions } from './model.js';

export const MEMCPY_ID = 0x444d_4331;
export const MEMCPY_REG = { ID: 0x00, CTRL: 0x04, STATUS: 0x08, INT_MASK: 0x0c, DESC_BASE: 0x10, DESC_COUNT: 0x18, TAIL: 0x1c, HEAD: 0x20, COMPLETED: 0x24 } as const;
export const MEMCPY_CTRL_ENABLE = 1 << 0;
export const MEMCPY_CTRL_RESET = 1 << 1;
export const MEMCPY_STATUS_BUSY = 1 << 0;
export const MEMCPY_STATUS_DONE = 1 << 1;
export const MEMCPY_STATUS_ERR = 1 << 2;
export const MEMCPY_DESC_SIZE = 32;
export const MEMCPY_DESC = { SRC: 0x00, DST: 0x08, LEN: 0x10, CTRL: 0x14, STATUS: 0x18 } as const;
export const MEMCPY_DESC_INT = 1 << 0;
export const MEMCPY_DESC_DONE = 1 << 0;
export const MEMCPY_DESC_ERR = 1 << 1;

export interface MemcpyEngineOptions extends DeviceModelOptions {
  /** Copy bandwidth in bytes per ns (default 4, i.e. 4 GB/s). */
  bytesPerNs?: number;
}

export class MemcpyEngine extends DeviceModel {
  readonly mmioSize = 0x1000;
  readonly bytesPerNs: number;
  private ctrl = 0;
  private status = 0;
  private intMask = 0;
  private descBase = 0;
  private descCount = 0;
  private tail = 0;
  private head = 0;
  private completed = 0;
  private busy = false;

  constructor(opts: MemcpyEngineOptions) {
    super(opts);
    this.bytesPerNs = opts.bytesPerNs ?? 4;
  }

  protected readReg(off: number, size: number): number {
    const R = MEMCPY_REG;
    if (off >= R.DESC_BASE && off < R.DESC_BASE + 8) return read64(this.descBase, off - R.DESC_BASE, size);
    switch (off) {
      case R.ID: return MEMCPY_ID;
      case R.CTRL: return this.ctrl;
      case R.STATUS: return this.status | (this.busy ? MEMCPY_STATUS_BUSY : 0);
      case R.INT_MASK: return this.intMask;
      case R.DESC_COUNT: return this.descCount;
      case R.TAIL: return this.tail;
      case R.HEAD: return this.head;
      case R.COMPLETED: return this.completed;
      default: return 0; // unimplemented registers read as zero
    }
  }

  protected writeReg(off: number, size: number, value: number): void {
    const R = MEMCPY_REG;
    if (off >= R.DESC_BASE && off < R.DESC_BASE + 8) {
      this.descBase = write64(this.descBase, off - R.DESC_BASE, size, value);
      return;
    }
    switch (off) {
      case R.CTRL:
        if (value & MEMCPY_CTRL_RESET) this.reset();
        this.ctrl = value & MEMCPY_CTRL_ENABLE;
        this.kick();
        break;
      case R.STATUS:
        this.status &= ~(value & (MEMCPY_STATUS_DONE | MEMCPY_STATUS_ERR));
        break;
      case R.INT_MASK:
        this.intMask = value & (MEMCPY_STATUS_DONE | MEMCPY_STATUS_ERR);
        this.updateIrq();
        break;
      case R.DESC_COUNT: this.descCount = value; break;
      case R.TAIL:
        this.tail = value;
        this.kick();
        break;
      default: break; // writes to read-only or unimplemented registers are ignored
    }
  }

  private reset(): void {
    this.status = 0;
    this.head = 0;
    this.tail = 0;
    this.completed = 0;
  }

  /** Start the next descriptor if enabled, idle and the ring is not empty. */
  private kick(): void {
    if (this.busy || !(this.ctrl & MEMCPY_CTRL_ENABLE) || this.descCount === 0 || this.head === this.tail % this.descCount) return;
    this.busy = true;
    const desc = this.descBase + this.head * MEMCPY_DESC_SIZE;
    const len = this.dmaRead32(desc + MEMCPY_DESC.LEN);
    this.after(this.latency() + len / this.bytesPerNs, 'memcpy', () => this.complete(desc));
  }

  /** One descriptor: read it, copy, write its status last, then maybe interrupt. */
  private complete(desc: number): void {
    const D = MEMCPY_DESC;
    let st = MEMCPY_DESC_DONE;
    const ctrl = this.dmaRead32(desc + D.CTRL);
    try {
      const len = this.dmaRead32(desc + D.LEN);
      this.dmaWrite(this.dmaRead64(desc + D.DST), this.dmaRead(this.dmaRead64(desc + D.SRC), len));
    } catch (e) {
      if (!(e instanceof DmaFaultError)) throw e;
      st |= MEMCPY_DESC_ERR;
      this.status |= MEMCPY_STATUS_ERR;
    }
    this.dmaWrite32(desc + D.STATUS, st);
    this.head = (this.head + 1) % this.descCount;
    this.completed = (this.completed + 1) >>> 0;
    if (ctrl & MEMCPY_DESC_INT) this.status |= MEMCPY_STATUS_DONE;
    this.busy = false;
    this.updateIrq();
    this.kick();
  }

  private updateIrq(): void {
    if (this.status & this.intMask) this.raiseIrq();
  }
}
