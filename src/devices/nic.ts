// A NIC: RX and TX descriptor rings in DMA memory with OWN bits, head/tail doorbells, and one
// interrupt line with a status and a mask register, like the simple Ethernet MACs whose drivers
// live in drivers/net/ethernet/. Packets arrive at a configurable line rate (the traffic source
// is seeded, so a run replays); each descriptor completes after the model's latency. The
// register map is in README ("Device models").
//
// Registers (32-bit unless noted; 64-bit ones take one writeq() or two writel()s):
//   0x00 ID         RO    NIC_ID
//   0x04 CTRL       RW    bit0 RX_EN, bit1 TX_EN; bit2 RESET (write 1: rings stop, heads and tails 0)
//   0x08 INT_STATUS RO/W1C  bit0 RX (a packet was received), bit1 TX (a packet was sent)
//   0x0c INT_MASK   RW    the INT_STATUS bits that raise the interrupt
//   0x10 RX_BASE    RW    64-bit DMA address of the RX ring (16-byte descriptors)
//   0x18 RX_SIZE    RW    RX ring entries
//   0x1c RX_TAIL    RW    doorbell: the driver has given descriptors up to (not including) TAIL
//   0x20 RX_HEAD    RO    the next RX descriptor the NIC fills
//   0x24 RX_MISSED  RO    packets dropped: no descriptor owned by the NIC
//   0x28 TX_BASE    RW    64-bit DMA address of the TX ring
//   0x30 TX_SIZE    RW    TX ring entries
//   0x34 TX_TAIL    RW    doorbell: descriptors up to TAIL are ready to send
//   0x38 TX_HEAD    RO    the next TX descriptor the NIC sends
//   0x3c ITR        RW    interrupt throttling (as e1000's ITR): the least ns between two
//                         interrupts; a cause that comes sooner waits (0: no moderation)
//
// Descriptor (16 bytes, little-endian): 0x00 addr (u64), 0x08 len (u32: RX, the buffer size the
// driver gives, replaced by the received length; TX, the length to send), 0x0c status (u32:
// bit31 OWN, set by the driver last to give the descriptor to the NIC; the NIC writes len first,
// then status with OWN clear and DONE set, so a driver must read status, dma_rmb(), then len).
// The NIC reads a descriptor when it needs it: at a packet's arrival for RX, after a TX doorbell
// for TX; a descriptor whose OWN bit it does not see stops that ring until the next doorbell.

import { DeviceModel, read64, write64, type DeviceModelOptions } from './model.js';
import type { Device, TimerEvent } from '../index.js';
import type { ModelHost } from '../hw/model.js';
import { randomBytesInto } from '../lib/random.js';

export const NIC_ID = 0x4e49_4331;
export const NIC_REG = {
  ID: 0x00, CTRL: 0x04, INT_STATUS: 0x08, INT_MASK: 0x0c,
  RX_BASE: 0x10, RX_SIZE: 0x18, RX_TAIL: 0x1c, RX_HEAD: 0x20, RX_MISSED: 0x24,
  TX_BASE: 0x28, TX_SIZE: 0x30, TX_TAIL: 0x34, TX_HEAD: 0x38, ITR: 0x3c,
} as const;
export const NIC_CTRL_RX_EN = 1 << 0;
export const NIC_CTRL_TX_EN = 1 << 1;
export const NIC_CTRL_RESET = 1 << 2;
export const NIC_INT_RX = 1 << 0;
export const NIC_INT_TX = 1 << 1;
export const NIC_DESC_SIZE = 16;
export const NIC_DESC = { ADDR: 0x00, LEN: 0x08, STATUS: 0x0c } as const;
/** Set by the driver: the NIC owns the descriptor. */
export const NIC_DESC_OWN = 0x8000_0000;
/** Set by the NIC on completion (with OWN clear). */
export const NIC_DESC_DONE = 1 << 0;

/** Preamble, start delimiter and inter-frame gap: bytes on the wire beside each frame. */
const WIRE_OVERHEAD = 20;

export interface NicModelOptions extends DeviceModelOptions {
  /** Line rate in bits per second (default 10 Gb/s). */
  lineRateBps?: number;
  /** Each frame put on the wire, in order; without it the frames are kept in `sent`. */
  onTransmit?: (frame: Uint8Array) => void;
}

/** One ring's registers and position. */
interface RingRegs {
  base: number;
  size: number;
  tail: number;
  head: number;
}

/** The payload of traffic packet `seq`: its sequence number (LE u32), then seeded bytes. */
export function nicPayload(seed: number, seq: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  nicPayloadInto(seed, seq, out);
  return out;
}

/** nicPayload() into `out` (its length is the size), for a caller that reuses its buffer. */
export function nicPayloadInto(seed: number, seq: number, out: Uint8Array): void {
  randomBytesInto((seed ^ 0x6e69_6331) + Math.imul(seq + 1, 0x9e37_79b1), out);
  for (let i = 0; i < Math.min(4, out.length); i++) out[i] = (seq >>> (8 * i)) & 0xff;
}

/** A frame's bytes, reused: a view of `len` bytes, regrown only for a frame larger than any before. */
export class FrameBuffer {
  private buf = new Uint8Array(0);

  view(len: number): Uint8Array {
    if (this.buf.buffer.byteLength < len) this.buf = new Uint8Array(len);
    if (this.buf.length !== len) this.buf = new Uint8Array(this.buf.buffer, 0, len);
    return this.buf;
  }
}

/**
 * Frames taken into an RX descriptor and not yet written back, in completion order (jitter may
 * let a later frame finish first; ties keep arrival order): the descriptor, when the write-back
 * is due, and the frame (null: traffic frame `seq`, generated at write-back). A ring of typed
 * arrays, grown by doubling: a frame in flight allocates nothing.
 */
class RxQueue {
  private desc = new Float64Array(16);
  private due = new Float64Array(16);
  private seq = new Float64Array(16);
  private frames: (Uint8Array | null)[] = new Array<Uint8Array | null>(16).fill(null);
  private head = 0;
  length = 0;

  get firstDesc(): number { return this.desc[this.head] as number; }
  get firstDue(): number { return this.due[this.head] as number; }
  get firstSeq(): number { return this.seq[this.head] as number; }
  get firstFrame(): Uint8Array | null { return this.frames[this.head] ?? null; }

  removeFirst(): void {
    this.frames[this.head] = null;
    this.head = (this.head + 1) % this.desc.length;
    this.length--;
  }

  /** Queues a write-back in due order; true when it is the first one due now. */
  add(desc: number, due: number, seq: number, frame: Uint8Array | null): boolean {
    if (this.length === this.desc.length) this.grow();
    const cap = this.desc.length;
    let i = this.length;
    for (; i > 0; i--) {
      const from = (this.head + i - 1) % cap;
      if ((this.due[from] as number) <= due) break;
      this.move(from, (from + 1) % cap);
    }
    const at = (this.head + i) % cap;
    this.desc[at] = desc;
    this.due[at] = due;
    this.seq[at] = seq;
    this.frames[at] = frame;
    this.length++;
    return i === 0;
  }

  private move(from: number, to: number): void {
    this.desc[to] = this.desc[from] as number;
    this.due[to] = this.due[from] as number;
    this.seq[to] = this.seq[from] as number;
    this.frames[to] = this.frames[from] ?? null;
  }

  private grow(): void {
    const cap = this.desc.length;
    const desc = new Float64Array(2 * cap);
    const due = new Float64Array(2 * cap);
    const seq = new Float64Array(2 * cap);
    const frames = new Array<Uint8Array | null>(2 * cap).fill(null);
    for (let k = 0; k < this.length; k++) {
      const j = (this.head + k) % cap;
      desc[k] = this.desc[j] as number;
      due[k] = this.due[j] as number;
      seq[k] = this.seq[j] as number;
      frames[k] = this.frames[j] ?? null;
    }
    this.desc = desc;
    this.due = due;
    this.seq = seq;
    this.frames = frames;
    this.head = 0;
  }
}

export class NicModel extends DeviceModel {
  readonly mmioSize = 0x1000;
  readonly lineRateBps: number;
  private ctrl = 0;
  private intStatus = 0;
  private intMask = 0;
  private rxMissed = 0;
  private readonly rx: RingRegs = { base: 0, size: 0, tail: 0, head: 0 };
  private readonly tx: RingRegs = { base: 0, size: 0, tail: 0, head: 0 };
  private txBusy = false;
  /** The traffic source: frames left to arrive, the next one's sequence number, their size. */
  private trafficLeft = 0;
  private trafficSeq = 0;
  private trafficSize = 0;
  private trafficSeed = 0;
  /**
   * Frames taken into an RX descriptor and not yet written back, in completion order: the
   * descriptor, when the write-back is due, and the frame (null: traffic frame `seq`, generated
   * into `frameBuf` at write-back, so the source allocates nothing per frame).
   */
  private readonly rxPending = new RxQueue();
  /** The TX frame on its way to the wire (one at a time) and its descriptor. */
  private txDesc = 0;
  private txLen = 0;
  /** Generated RX traffic, and the TX frame read from memory: reused for every frame. */
  private readonly rxBuf = new FrameBuffer();
  private readonly txBuf = new FrameBuffer();
  /** Packets received into RX descriptors, and packets sent from TX descriptors. */
  rxPackets = 0;
  txPackets = 0;
  /** Payloads the NIC put on the wire, in order (what a test compares with what was queued). */
  readonly sent: Uint8Array[] = [];

  private readonly onTransmit: ((frame: Uint8Array) => void) | null;
  /** The NIC's recurring work, one clock event each (made at attach, re-armed as it recurs). */
  private arrival: TimerEvent | null = null;
  private rxDma: TimerEvent | null = null;
  private txFetchEv: TimerEvent | null = null;
  private txWireEv: TimerEvent | null = null;
  private moderation: TimerEvent | null = null;
  /** ITR, when the line last went up, and whether a cause waits for the ITR interval to end. */
  private itr = 0;
  private lastIrq = -Infinity;
  private moderated = false;

  constructor(opts: NicModelOptions) {
    super(opts);
    this.lineRateBps = opts.lineRateBps ?? 10e9;
    this.onTransmit = opts.onTransmit ?? null;
  }

  override attach(dev: Device, host: ModelHost): void {
    super.attach(dev, host);
    this.arrival = this.timer('rx frame', () => this.trafficFrame());
    this.rxDma = this.timer('rx dma', () => this.rxWriteBack());
    this.txFetchEv = this.timer('tx fetch', () => this.txFetch());
    this.txWireEv = this.timer('tx wire', () => this.txWire());
    this.moderation = this.timer('itr', () => this.moderationEnds());
  }

  /** ns a frame of `size` bytes occupies the wire. */
  wireNs(size: number): number {
    return ((size + WIRE_OVERHEAD) * 8 * 1e9) / this.lineRateBps;
  }

  /**
   * Packets arrive from the wire: `count` frames of `size` bytes back to back at the line rate,
   * payloads from nicPayload(seed of the machine, seq). Returns when the last would arrive (ns).
   */
  startTraffic(count: number, size: number): number {
    this.trafficSeed = this.modelSeed;
    this.trafficSeq = 0;
    this.trafficLeft = count;
    this.trafficSize = size;
    const gap = this.wireNs(size);
    if (count > 0) this.arm(this.arrival as TimerEvent, gap);
    return this.now() + gap * count;
  }

  private trafficFrame(): void {
    this.take(null, this.trafficSeq++);
    if (--this.trafficLeft > 0) this.arm(this.arrival as TimerEvent, this.wireNs(this.trafficSize));
  }

  /** The payload traffic packet `seq` carries (after startTraffic). */
  payload(seq: number, size: number): Uint8Array {
    return nicPayload(this.trafficSeed, seq, size);
  }

  /** payload() into `out`. */
  payloadInto(seq: number, out: Uint8Array): void {
    nicPayloadInto(this.trafficSeed, seq, out);
  }

  /** A frame arrives: it goes into the RX descriptor at HEAD after the model's latency, or is missed. */
  receive(frame: Uint8Array): void {
    this.take(frame, -1);
  }

  private take(frame: Uint8Array | null, seq: number): void {
    const r = this.rx;
    if (!(this.ctrl & NIC_CTRL_RX_EN) || r.size === 0 || r.head === r.tail % r.size) {
      this.rxMissed++;
      return;
    }
    const desc = r.base + r.head * NIC_DESC_SIZE;
    if (!(this.dmaRead32(desc + NIC_DESC.STATUS) & NIC_DESC_OWN)) {
      this.rxMissed++;
      return;
    }
    r.head = (r.head + 1) % r.size;
    const now = this.now();
    if (this.rxPending.add(desc, now + this.latency(), seq, frame)) this.arm(this.rxDma as TimerEvent, this.rxPending.firstDue - now);
  }

  /** Every write-back now due: the frame to the buffer, then len, then status (OWN clear, DONE). */
  private rxWriteBack(): void {
    const q = this.rxPending;
    while (q.length > 0 && q.firstDue <= this.now()) {
      const desc = q.firstDesc;
      const seq = q.firstSeq;
      const given = q.firstFrame;
      q.removeFirst();
      const addr = this.dmaRead64(desc + NIC_DESC.ADDR);
      const room = this.dmaRead32(desc + NIC_DESC.LEN);
      let frame = given;
      if (frame === null) {
        frame = this.rxBuf.view(this.trafficSize);
        nicPayloadInto(this.trafficSeed, seq, frame);
      }
      if (frame.length > room) frame = frame.subarray(0, room);
      this.dmaWrite(addr, frame);
      this.dmaWrite32(desc + NIC_DESC.LEN, frame.length);
      this.dmaWrite32(desc + NIC_DESC.STATUS, NIC_DESC_DONE);
      this.rxPackets++;
      this.intStatus |= NIC_INT_RX;
      this.updateIrq();
    }
    if (q.length > 0) this.arm(this.rxDma as TimerEvent, q.firstDue - this.now());
  }

  /** After a TX doorbell: fetch the descriptor at HEAD and send it, one at a time. */
  private txKick(): void {
    const t = this.tx;
    if (this.txBusy || !(this.ctrl & NIC_CTRL_TX_EN) || t.size === 0 || t.head === t.tail % t.size) return;
    this.txBusy = true;
    this.arm(this.txFetchEv as TimerEvent, this.latency());
  }

  private txFetch(): void {
    const t = this.tx;
    const desc = t.base + t.head * NIC_DESC_SIZE;
    if (!(this.dmaRead32(desc + NIC_DESC.STATUS) & NIC_DESC_OWN)) {
      this.txBusy = false; // not the NIC's yet: it waits for the next doorbell
      return;
    }
    this.txDesc = desc;
    this.txLen = this.dmaRead32(desc + NIC_DESC.LEN);
    this.dmaReadInto(this.dmaRead64(desc + NIC_DESC.ADDR), this.txBuf.view(this.txLen));
    this.arm(this.txWireEv as TimerEvent, this.wireNs(this.txLen));
  }

  /** The frame is on the wire: handed on (or kept), the descriptor written back, the next fetched. */
  private txWire(): void {
    const t = this.tx;
    const frame = this.txBuf.view(this.txLen);
    if (this.onTransmit !== null) this.onTransmit(frame);
    else this.sent.push(frame.slice());
    this.dmaWrite32(this.txDesc + NIC_DESC.STATUS, NIC_DESC_DONE);
    t.head = (t.head + 1) % t.size;
    this.txPackets++;
    this.intStatus |= NIC_INT_TX;
    this.txBusy = false;
    this.updateIrq();
    this.txKick();
  }

  /**
   * The line goes up for an unmasked cause, no sooner than ITR ns after the last time it did
   * (interrupt moderation: a NAPI driver then finds many frames per interrupt).
   */
  private updateIrq(): void {
    if (!(this.intStatus & this.intMask)) return;
    const wait = this.lastIrq + this.itr - this.now();
    if (this.itr === 0 || wait <= 0) {
      this.lastIrq = this.now();
      this.raiseIrq();
    } else if (!this.moderated) {
      this.moderated = true;
      this.arm(this.moderation as TimerEvent, wait);
    }
  }

  private moderationEnds(): void {
    this.moderated = false;
    this.updateIrq();
  }

  private reset(): void {
    for (const r of [this.rx, this.tx]) {
      r.head = 0;
      r.tail = 0;
    }
    this.intStatus = 0;
    if (this.arrival !== null) this.cancel(this.arrival);
    this.trafficLeft = 0;
  }

  protected readReg(off: number, size: number): number {
    const R = NIC_REG;
    if (off >= R.RX_BASE && off < R.RX_BASE + 8) return read64(this.rx.base, off - R.RX_BASE, size);
    if (off >= R.TX_BASE && off < R.TX_BASE + 8) return read64(this.tx.base, off - R.TX_BASE, size);
    switch (off) {
      case R.ID: return NIC_ID;
      case R.CTRL: return this.ctrl;
      case R.INT_STATUS: return this.intStatus;
      case R.INT_MASK: return this.intMask;
      case R.RX_SIZE: return this.rx.size;
      case R.RX_TAIL: return this.rx.tail;
      case R.RX_HEAD: return this.rx.head;
      case R.RX_MISSED: return this.rxMissed;
      case R.TX_SIZE: return this.tx.size;
      case R.TX_TAIL: return this.tx.tail;
      case R.TX_HEAD: return this.tx.head;
      case R.ITR: return this.itr;
      default: return 0; // unimplemented registers read as zero
    }
  }

  protected writeReg(off: number, size: number, value: number): void {
    const R = NIC_REG;
    if (off >= R.RX_BASE && off < R.RX_BASE + 8) {
      this.rx.base = write64(this.rx.base, off - R.RX_BASE, size, value);
      return;
    }
    if (off >= R.TX_BASE && off < R.TX_BASE + 8) {
      this.tx.base = write64(this.tx.base, off - R.TX_BASE, size, value);
      return;
    }
    switch (off) {
      case R.CTRL:
        if (value & NIC_CTRL_RESET) this.reset();
        this.ctrl = value & (NIC_CTRL_RX_EN | NIC_CTRL_TX_EN);
        this.txKick();
        break;
      case R.INT_STATUS:
        this.intStatus &= ~value;
        this.updateIrq();
        break;
      case R.INT_MASK:
        this.intMask = value & (NIC_INT_RX | NIC_INT_TX);
        this.updateIrq();
        break;
      case R.RX_SIZE: this.rx.size = value; break;
      case R.RX_TAIL: this.rx.tail = value; break;
      case R.TX_SIZE: this.tx.size = value; break;
      case R.TX_TAIL:
        this.tx.tail = value;
        this.txKick();
        break;
      case R.ITR: this.itr = value; break;
      default: break; // writes to read-only or unimplemented registers are ignored
    }
  }
}
