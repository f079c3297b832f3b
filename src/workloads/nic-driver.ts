// dmasim_nic: a real driver of the NIC model (devices/nic.ts), shaped like a simple Ethernet
// driver of drivers/net/ethernet/: probe (DMA mask, interrupts masked at the device, rings in
// coherent memory, ioremap(), request_irq()), an interrupt handler that acknowledges and masks
// the device's interrupts and schedules NAPI, a NAPI poll that cleans TX, receives up to its
// budget (status, dma_rmb(), then length), refills and rings the doorbell with writel(), then
// unmasks (napi_complete_done()). Everything reaches the NIC through MMIO and interrupts, and
// the NIC runs on its own on the machine's clock: this is what `dmasim nic` runs (--api model,
// the default).
//
// `bug` drops one call as the other paths do: 'no-dma-wmb' (descriptor fields and the OWN bit
// unordered), 'no-sync-for-cpu' (recycled RX buffers read without dma_sync_single_for_cpu()),
// 'no-sync-for-device' (recycled buffers handed back without dma_sync_single_for_device()).

import {
  DMA_BIDIRECTIONAL, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE, GFP_KERNEL, IRQ_HANDLED, IRQ_NONE,
  dma_alloc_coherent, dma_free_coherent, dma_map_single, dma_pool_create, dma_pool_destroy, dma_pool_free, dma_pool_zalloc, dma_mapping_error, dma_set_mask_and_coherent, dma_sync_single_for_cpu,
  dma_sync_single_for_device, dma_unmap_single, type Device, type DmaDirection, type DmaPool, type Machine, type TimerEvent,
} from '../index.js';
import {
  NIC_CTRL_RESET, NIC_CTRL_RX_EN, NIC_CTRL_TX_EN, NIC_DESC, NIC_DESC_OWN, NIC_DESC_SIZE, NIC_INT_RX, NIC_INT_TX, NIC_REG,
  NicModel,
} from '../devices/index.js';
import { FrameBuffer, nicPayloadInto } from '../devices/nic.js';
import { probeFailed, same, type NicOptions, type NicReport } from './nic.js';

/** Where the NIC's registers sit on the physical bus (below RAM on both arches' default maps). */
export const NIC_MMIO_BASE = 0x1000_0000;
/** NAPI_POLL_WEIGHT, include/linux/netdevice.h. */
export const NAPI_POLL_WEIGHT = 64;
/**
 * The interrupt throttling the probe programs (ns between interrupts, 250,000 a second): short
 * enough that a 256-entry ring at 10 Gb/s line rate (67 ns a 64-byte frame) never fills between
 * two, long enough that each NAPI poll finds a budget's worth of work.
 */
export const NIC_ITR_NS = 4000;
/** Seed of the TX payloads (the RX ones are the NIC's traffic source). */
const TX_SEED = 0x7478;

interface RingSlot {
  readonly desc: number;
  readonly buf: number;
  dma: number;
  /** Handed to the NIC before (a recycled buffer's first post needs no sync: the map cleaned it). */
  posted: boolean;
}

export class DmasimNic {
  readonly nic: NicModel;
  readonly dev: Device;
  private regs = 0;
  private pool: DmaPool | null = null;
  private rx: RingSlot[] = [];
  private tx: RingSlot[] = [];
  /** RX: next descriptor to look at; TX: next to fill and next to clean. */
  private rxNext = 0;
  /** RX: the next descriptor to hand to the NIC (RX_TAIL). One slot stays empty: HEAD == TAIL is empty. */
  private rxTail = 0;
  private txNext = 0;
  private txClean = 0;
  private txQueued = 0;
  private txChecked = 0;
  private napiScheduled = false;
  /** netif_tx_lock(): the NAPI poll may run at any interleaving point of a process-context xmit. */
  private txLocked = false;
  private lastRxSeq = -1;
  /** NET_RX_SOFTIRQ: the NAPI poll, one clock event re-armed each time it is raised. */
  private readonly softirq: TimerEvent;
  /**
   * A received frame, the payload a frame must equal, and a packet to send: reused for every
   * packet. (Separate, as the NIC's events run inside a CPU access and verify what it sent.)
   */
  private readonly rxFrame = new FrameBuffer();
  private readonly expected = new FrameBuffer();
  private readonly txPacket = new FrameBuffer();
  /**
   * What the probe has taken so far, each with its release, while it runs: a failed probe gives
   * all of it back in reverse order, as really_probe() does with devres_release_all() for a
   * driver's devm_* resources (and as a driver's goto-unwind ladder does by hand).
   */
  private devres: (() => void)[] | null = null;

  constructor(readonly m: Machine, readonly o: NicOptions, readonly report: NicReport) {
    this.nic = new NicModel({ mmioBase: NIC_MMIO_BASE, latencyNs: 200, onTransmit: (f) => this.txVerify(f) });
    this.dev = m.createDevice({
      name: '0000:01:00.0', driver: 'dmasim_nic', iommu: o.iommu === true, model: this.nic,
      ...(o.coherent === undefined ? {} : { coherent: o.coherent }),
    });
    this.softirq = m.clock.timer('net_rx_action', () => this.poll());
  }

  /** dmasim_nic_probe(); on failure, what it took is released before the error goes up. */
  probe(): void {
    this.devres = [];
    try {
      this.probeDevice();
    } catch (e) {
      for (const release of this.devres.reverse()) release();
      throw e;
    } finally {
      this.devres = null;
    }
  }

  /** Holds `release` for the probe's unwinding (nothing once the probe has succeeded). */
  private devm(release: () => void): void {
    this.devres?.push(release);
  }

  private probeDevice(): void {
    const { m, o } = this;
    if (dma_set_mask_and_coherent(this.dev, DMA_BIT_MASK(o.dmaBits)) !== 0) probeFailed(`dma_set_mask_and_coherent(DMA_BIT_MASK(${o.dmaBits}))`);
    this.regs = m.ioremap(NIC_MMIO_BASE, this.nic.mmioSize);
    if (this.regs === 0) probeFailed('ioremap');
    const regs = this.regs;
    this.devm(() => m.iounmap(regs));
    m.cpu.writel(this.regs + NIC_REG.INT_MASK, 0);
    m.cpu.writel(this.regs + NIC_REG.CTRL, NIC_CTRL_RESET);
    this.rx = this.allocRing(NIC_REG.RX_BASE, NIC_REG.RX_SIZE);
    this.tx = this.allocRing(NIC_REG.TX_BASE, NIC_REG.TX_SIZE);
    m.cpu.writel(this.regs + NIC_REG.ITR, NIC_ITR_NS);
    if (m.request_irq(this.nic.irq, () => this.interrupt(), 'dmasim_nic', this) !== 0) probeFailed('request_irq');
    this.devm(() => m.free_irq(this.nic.irq, this));
    m.cpu.writel(this.regs + NIC_REG.CTRL, NIC_CTRL_RX_EN | NIC_CTRL_TX_EN);
    // Every RX descriptor but one: HEAD == TAIL means an empty ring to the NIC.
    for (; this.rxTail < this.rx.length - 1; this.rxTail++) this.rxPost(this.rxTail);
    m.cpu.writel(this.regs + NIC_REG.RX_TAIL, this.rxTail);
    m.cpu.writel(this.regs + NIC_REG.INT_MASK, NIC_INT_RX | NIC_INT_TX);
  }

  /**
   * One ring of descriptors, contiguous as the NIC walks it: coherent memory, or one block of a
   * dma_pool (descriptors: 'pool'); a kmalloc'd buffer each (mapped once when recycling).
   */
  private allocRing(baseReg: number, sizeReg: number): RingSlot[] {
    const { m, o } = this;
    const n = o.ringSize;
    const ring = this.ringMemory(n * NIC_DESC_SIZE);
    m.cpu.writeq(this.regs + baseReg, ring.dma);
    m.cpu.writel(this.regs + sizeReg, n);
    return Array.from({ length: n }, (_, i) => {
      const buf = m.kmalloc(o.packetSize, GFP_KERNEL);
      if (buf === 0) probeFailed('kmalloc');
      this.devm(() => m.kfree(buf));
      const slot = { desc: ring.vaddr + i * NIC_DESC_SIZE, buf, dma: 0, posted: false };
      if (o.mode === 'recycle') slot.dma = this.map(slot.buf, DMA_BIDIRECTIONAL);
      return slot;
    });
  }

  private ringMemory(bytes: number): { vaddr: number; dma: number } {
    if (this.o.descriptors === 'coherent') {
      const r = dma_alloc_coherent(this.dev, bytes, GFP_KERNEL);
      if (r === null) probeFailed('dma_alloc_coherent');
      this.devm(() => dma_free_coherent(this.dev, bytes, r.cpu_addr, r.dma_handle));
      return { vaddr: r.cpu_addr, dma: r.dma_handle };
    }
    // Both rings are the same size: one pool, a block each.
    if (this.pool === null) {
      this.pool = dma_pool_create('dmasim_nic ring', this.dev, bytes, NIC_DESC_SIZE, 0);
      this.devm(() => {
        dma_pool_destroy(this.pool);
        this.pool = null;
      });
    }
    const pool = this.pool;
    const b = pool === null ? null : dma_pool_zalloc(pool, GFP_KERNEL);
    if (pool === null || b === null) probeFailed('dma_pool_zalloc');
    this.devm(() => dma_pool_free(pool, b.vaddr, b.dma));
    return b;
  }

  private map(buf: number, dir: DmaDirection): number {
    const h = dma_map_single(this.dev, buf, this.o.packetSize, dir);
    if (dma_mapping_error(this.dev, h)) probeFailed('dma_map_single');
    // (`?.` skips making the closure at all once the probe is over: map mode maps per packet.)
    this.devres?.push(() => dma_unmap_single(this.dev, h, this.o.packetSize, dir));
    return h;
  }

  /** Address and length, dma_wmb(), then OWN: the NIC must never see OWN before the fields. */
  private post(slot: RingSlot, len: number): void {
    const cpu = this.m.cpu;
    cpu.writeq(slot.desc + NIC_DESC.ADDR, slot.dma);
    cpu.writel(slot.desc + NIC_DESC.LEN, len);
    if (this.o.bug !== 'no-dma-wmb') cpu.dma_wmb();
    cpu.writel(slot.desc + NIC_DESC.STATUS, NIC_DESC_OWN);
  }

  /** An RX buffer goes (back) to the NIC: mapped, or synced for the device when recycled. */
  private rxPost(i: number): void {
    const s = this.rx[i] as RingSlot;
    if (this.o.mode === 'map') s.dma = this.map(s.buf, DMA_FROM_DEVICE);
    else if (this.o.bug !== 'no-sync-for-device' || !s.posted) dma_sync_single_for_device(this.dev, s.dma, this.o.packetSize, DMA_BIDIRECTIONAL);
    s.posted = true;
    this.post(s, this.o.packetSize);
  }

  /** dmasim_nic_interrupt(): acknowledge, mask the device's interrupts, napi_schedule(). */
  private interrupt(): number {
    const { cpu } = this.m;
    const status = cpu.readl(this.regs + NIC_REG.INT_STATUS);
    if (status === 0) return IRQ_NONE;
    cpu.writel(this.regs + NIC_REG.INT_STATUS, status);
    cpu.writel(this.regs + NIC_REG.INT_MASK, 0);
    if (!this.napiScheduled) {
      this.napiScheduled = true;
      // NET_RX_SOFTIRQ runs the poll as the hard interrupt returns.
      this.m.clock.arm(this.softirq, 0);
    }
    return IRQ_HANDLED;
  }

  /** dmasim_nic_poll(): TX clean, RX up to budget with refill, then napi_complete_done(). */
  private poll(): void {
    const budget = Math.min(this.o.burst, NAPI_POLL_WEIGHT);
    this.txCleanRing();
    this.xmitMore();
    let work = 0;
    while (work < budget && this.rxOne()) work++;
    if (work > 0) this.m.cpu.writel(this.regs + NIC_REG.RX_TAIL, this.rxTail);
    if (work === budget) {
      this.m.clock.arm(this.softirq, 0);
      return;
    }
    this.napiScheduled = false;
    this.m.cpu.writel(this.regs + NIC_REG.INT_MASK, NIC_INT_RX | NIC_INT_TX);
  }

  /** One RX descriptor: status, dma_rmb(), length; the buffer back to the CPU, checked, refilled. */
  private rxOne(): boolean {
    const { cpu } = this.m;
    const i = this.rxNext;
    const s = this.rx[i] as RingSlot;
    if (cpu.readl(s.desc + NIC_DESC.STATUS) & NIC_DESC_OWN) return false;
    cpu.dma_rmb();
    const len = cpu.readl(s.desc + NIC_DESC.LEN);
    if (this.o.mode === 'map') dma_unmap_single(this.dev, s.dma, this.o.packetSize, DMA_FROM_DEVICE);
    else if (this.o.bug !== 'no-sync-for-cpu') dma_sync_single_for_cpu(this.dev, s.dma, this.o.packetSize, DMA_BIDIRECTIONAL);
    const frame = this.rxFrame.view(Math.min(len, this.o.packetSize));
    cpu.readInto(s.buf, frame);
    const seq = frame.length >= 4 ? ((frame[0] as number) | ((frame[1] as number) << 8) | ((frame[2] as number) << 16) | ((frame[3] as number) << 24)) >>> 0 : -1;
    const expected = this.expected.view(this.o.packetSize);
    if (seq > this.lastRxSeq && seq < this.o.packets) this.nic.payloadInto(seq, expected);
    this.count(seq > this.lastRxSeq && seq < this.o.packets && same(frame, expected));
    if (seq > this.lastRxSeq && seq < this.o.packets) this.lastRxSeq = seq;
    // The slot at the tail (free since its frame was taken) goes to the NIC; this one is the gap now.
    this.rxPost(this.rxTail);
    this.rxTail = (this.rxTail + 1) % this.rx.length;
    this.rxNext = (i + 1) % this.rx.length;
    return true;
  }

  /** The NIC's wire: each frame sent must be the next TX payload. */
  private txVerify(frame: Uint8Array): void {
    const expected = this.expected.view(this.o.packetSize);
    nicPayloadInto(TX_SEED, this.txChecked, expected);
    this.count(same(frame, expected));
    this.txChecked++;
  }

  /** Take back the TX descriptors the NIC is done with. */
  private txCleanRing(): void {
    const { cpu } = this.m;
    while (this.txClean !== this.txNext) {
      const s = this.tx[this.txClean] as RingSlot;
      if (cpu.readl(s.desc + NIC_DESC.STATUS) & NIC_DESC_OWN) break;
      if (this.o.mode === 'map') dma_unmap_single(this.dev, s.dma, this.o.packetSize, DMA_TO_DEVICE);
      this.txClean = (this.txClean + 1) % this.tx.length;
    }
  }

  /** ndo_start_xmit() while the ring has room and packets remain; one doorbell for the batch. */
  xmitMore(): void {
    if (this.txLocked) return;
    this.txLocked = true;
    try {
      this.xmitLocked();
    } finally {
      this.txLocked = false;
    }
  }

  private xmitLocked(): void {
    const { m, o } = this;
    let queued = 0;
    while (this.txQueued < o.packets && (this.txNext + 1) % this.tx.length !== this.txClean && queued < o.burst) {
      const s = this.tx[this.txNext] as RingSlot;
      if (o.mode === 'recycle' && o.bug !== 'no-sync-for-cpu') dma_sync_single_for_cpu(this.dev, s.dma, o.packetSize, DMA_BIDIRECTIONAL);
      const packet = this.txPacket.view(o.packetSize);
      nicPayloadInto(TX_SEED, this.txQueued, packet);
      m.cpu.write(s.buf, packet);
      if (o.mode === 'map') s.dma = this.map(s.buf, DMA_TO_DEVICE);
      else if (o.bug !== 'no-sync-for-device' || this.txQueued < this.tx.length) dma_sync_single_for_device(this.dev, s.dma, o.packetSize, DMA_BIDIRECTIONAL);
      this.post(s, o.packetSize);
      this.txNext = (this.txNext + 1) % this.tx.length;
      this.txQueued++;
      queued++;
    }
    if (queued > 0) m.cpu.writel(this.regs + NIC_REG.TX_TAIL, this.txNext);
  }

  private count(ok: boolean): void {
    const r = this.report;
    r.packets++;
    if (ok) r.verified++;
    else r.corrupted++;
  }

  /** Packets the NIC dropped for want of an RX descriptor it owned. */
  get rxMissed(): number {
    return this.m.cpu.readl(this.regs + NIC_REG.RX_MISSED);
  }

  /**
   * Runs the traffic: `packets` frames arrive at the NIC's line rate while the driver sends as
   * many; process context sleeps in 10 us steps until both are done or nothing moved for 1 ms.
   */
  run(): void {
    const { m, o } = this;
    this.probe();
    const arrivals = this.nic.startTraffic(o.packets, o.packetSize);
    this.xmitMore();
    // When a packet was last received or sent (checked per sleep, not per packet).
    let progressAt = m.now();
    let packets = 0;
    let lastReport = 0;
    const rxDone = (): boolean => this.report.packets - this.txChecked + this.rxMissed >= o.packets;
    while (!(m.now() >= arrivals && rxDone() && this.txChecked >= o.packets)) {
      if (this.report.packets !== packets) {
        packets = this.report.packets;
        progressAt = m.now();
      }
      if (m.now() >= arrivals && m.now() - progressAt > 1e6) break; // a bug stalled a ring
      m.udelay(10);
      if (o.onProgress !== undefined && this.report.packets - lastReport >= 4096) {
        lastReport = this.report.packets;
        o.onProgress(Math.min(1, this.report.packets / (2 * o.packets)));
      }
    }
  }
}
