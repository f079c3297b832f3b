// The NIC workload's batched path: the host half of assembly/ring.ts. The host decides what
// happens to every packet exactly as the per-call path would have it decided by mapping.c,
// direct.h and the arch hooks (a dma-direct map or unmap without bouncing; arm64's
// arch_sync_dma_for_device cleans for every direction, arch_sync_dma_for_cpu invalidates unless
// DMA_TO_DEVICE; one DSB per operation, or per flush with ARCH_HAS_BATCHED_DMA_SYNC; nothing on a
// coherent device), and hands the engine one ring step of a burst per call. The counters the
// host keeps (DSBs, CPU barriers, dma-direct operations) are added here per step, as the
// per-call path adds them per call.
//
// Behind an IOMMU the kernel's work is per packet (an IOVA from the rcache, the io-pgtable map
// and unmap, the IOTLB flush or the flush-queue entry, and the IOTLB's fills as the device
// translates its accesses). There the host makes the driver's DMA API calls themselves, packet
// by packet, through the per-call path's own functions (nic.ts rxGive(), txGive(), rxTake(),
// txTake(); iommu.ts translate() for the device's accesses), with the clock's points of the
// CPU accesses between them in the per-call order; the engine does the ring step with the
// IOVAs the host got and the RAM offsets it translated them to (RING_BUS_TABLE). The two
// sequences can run apart because on a coherent device none of those calls touches the engine
// (no cache maintenance, no bounce) and the engine's steps move no priced counter the clock
// reads in between (no maintenance, no copies, unpriced write-backs): the IOMMU's timers (the
// flush queue's, the rcache depot's) fire at the same points and do the same.
//
// With swiotlb=force every buffer bounces, also per packet: the host makes the calls the same
// way (the slot search and release are theirs), but swiotlb_bounce() hands its memcpy to the
// host (Swiotlb.bounceCopy) instead of making it, and the engine makes it at its place in the
// ring step (RING_BOUNCE: the slot's BOUNCE_IN / BOUNCE_OUT between the buffer and its bounce
// slot). No timer is pending there, so the clock samples nothing inside a burst.
//
// With dma-debug on (CONFIG_DMA_API_DEBUG) the calls are made per packet the same way, each with
// its debug_dma_*() hooks: the checker's entries, counts and reports (stamped with the clock, which
// reads the same at every call) come out as on the per-call path.
//
// The path is taken only where it reproduces the per-call path exactly; batchedFallback() says
// why not otherwise, and the run falls back to the per-call path.

import {
  RB_BANKS, RB_BYTES, RB_CORRUPTED, RB_FAULTS, RB_FLAGS, RB_LEN, RB_NBANKS, RB_PATTERN, RB_SEQ_BASE, RB_SIZE,
  RB_SLOTS, RB_TMP, RB_VERIFIED, RBANK_BASE_HI, RBANK_BASE_LO, RBANK_BYTES, RBANK_OFFSET, RBANK_SIZE, RING_BOUNCE,
  RING_BUS_TABLE, RING_COHERENT, RING_DESC_CACHED, RING_OP_CLEAN, RING_OP_DEV_WRITE, RING_OP_FILL, RING_OP_INVAL,
  RING_OP_VERIFY, RS_BOUNCE, RS_BUF, RS_BUS, RS_BYTES, RS_DESC, RS_DMA_HI, RS_DMA_LO, BOUNCE_IN, BOUNCE_OUT, DESC_BYTES,
  DESC_FLAGS, NIC_TX_SEQ_BASE,
} from '../../assembly/abi-ring.js';
import type { DevIommu } from '../dma/device.js';
import { dma_capable, dma_kmalloc_needs_bounce, phys_to_dma } from '../dma/direct.js';
import { IO_TLB_SIZE, type Swiotlb } from '../dma/swiotlb.js';
import { IOMMU_PAGE_SIZE } from '../iommu/io-pgtable-arm.js';
import { DmaFaultError } from '../lib/errors.js';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, type DmaDirection } from '../include/dma-mapping.js';
import { RING_AREA_BYTES, SCRATCH_BYTES } from '../engine/layout.js';
import type { Machine } from '../machine.js';
import { __pa, isLinearMapAddress, isVmallocAddr } from '../mm/memory.js';
import type { Desc, Nic, NicReport, NicSteps, Ring, Slot } from './nic.js';

const U32 = 0x1_0000_0000;

/** What one DMA API call of the driver costs the host's counters, and the line work it asks of the engine. */
interface Call {
  readonly ops: number;
  readonly barriers: number;
  readonly dmaOps: number;
}

const NOTHING: Call = { ops: 0, barriers: 0, dmaOps: 0 };

function both(a: Call, b: Call): Call {
  return { ops: a.ops | b.ops, barriers: a.barriers + b.barriers, dmaOps: a.dmaOps + b.dmaOps };
}

/**
 * The DMA API calls of the driver on this device, as dma-direct runs them for a buffer that does
 * not bounce (kernel/dma/direct.h; src/direct.ts, src/arch/arm64.ts, src/arch/cacheflush.ts).
 */
class DirectCalls {
  /** dma_direct_map_phys()/unmap: the arch hooks run (a non-coherent device on an arch that has them). */
  private readonly cacheSync: boolean;
  /** dma_dev_need_sync(): the sync calls do anything at all (dev->dma_skip_sync, no dma-debug here). */
  private readonly needSync: boolean;
  /** arch_sync_dma_flush() is a DSB of its own: the hooks only issue (ARCH_HAS_BATCHED_DMA_SYNC). */
  private readonly flushDsb: boolean;

  constructor(m: Machine, nic: Nic) {
    this.cacheSync = m.arch.sync !== undefined && !nic.dev.dma_coherent;
    this.needSync = !nic.dev.dma_skip_sync;
    this.flushDsb = m.config.ARCH_HAS_BATCHED_DMA_SYNC;
  }

  /** dma_map_single(): clean to the PoC for every direction, one DSB. */
  map(): Call {
    return { ops: this.cacheSync ? RING_OP_CLEAN : 0, barriers: this.cacheSync ? 1 : 0, dmaOps: 1 };
  }

  /**
   * dma_unmap_single(): invalidate (dcache_inval_poc) unless DMA_TO_DEVICE, and one DSB; for
   * DMA_TO_DEVICE nothing is issued, but a batched flush still is a DSB.
   */
  unmap(dir: DmaDirection): Call {
    if (!this.cacheSync) return { ops: 0, barriers: 0, dmaOps: 1 };
    if (dir === DMA_TO_DEVICE) return { ops: 0, barriers: this.flushDsb ? 1 : 0, dmaOps: 1 };
    return { ops: RING_OP_INVAL, barriers: 1, dmaOps: 1 };
  }

  /** dma_sync_single_for_cpu(DMA_BIDIRECTIONAL): invalidate, one DSB. */
  syncForCpu(): Call {
    return this.needSync && this.cacheSync ? { ops: RING_OP_INVAL, barriers: 1, dmaOps: 0 } : NOTHING;
  }

  /** dma_sync_single_for_device(DMA_BIDIRECTIONAL): clean, one DSB. */
  syncForDevice(): Call {
    return this.needSync && this.cacheSync ? { ops: RING_OP_CLEAN, barriers: 1, dmaOps: 0 } : NOTHING;
  }
}

/** The WASM offset and memory type of a CPU access to [virt, virt + len), or null (src/cpu.ts's rules). */
function cpuTarget(m: Machine, virt: number, len: number): { off: number; cached: boolean } | null {
  const phys = m.translate(virt);
  const off = phys < 0 ? -1 : m.physToOffset(phys, len);
  if (off < 0) return null;
  if (!isVmallocAddr(virt)) return { off, cached: true };
  const area = m.vm.areaOf(virt);
  return { off, cached: area === null || area.prot === undefined || area.prot === 'normal' };
}

/** Whether dma_direct_map_phys() would hand this buffer to swiotlb. */
function wouldBounce(nic: Nic, phys: number, dir: DmaDirection): boolean {
  const dev = nic.dev;
  const size = nic.o.packetSize;
  return !dma_capable(dev, phys_to_dma(dev, phys), size) || dma_kmalloc_needs_bounce(dev, size, dir);
}

/**
 * Why a device behind a translating IOMMU would not run batched exactly, or null (see the head
 * of this file): its calls must leave the engine alone, and the engine's steps the clock.
 */
function iommuFallback(nic: Nic, rx: Ring, tx: Ring): string | null {
  const m = nic.m;
  const dev = nic.dev;
  if (!dev.dma_coherent) return 'a non-coherent device behind an IOMMU: its cache maintenance is priced on the clock, which the IOMMU\'s timers read inside a burst';
  if ((dev.iommu as DevIommu).untrusted) return 'an untrusted device behind an IOMMU bounces buffers that do not fill whole granules through swiotlb';
  if (m.costModel.params.writeBackNs !== 0) return 'the cost model prices dirty write-backs, which the engine makes inside a burst where the IOMMU\'s timers read the clock';
  for (const ring of [rx, tx]) {
    for (const s of ring.slots) {
      if ((__pa(s.buf) & (IOMMU_PAGE_SIZE - 1)) + nic.o.packetSize > IOMMU_PAGE_SIZE) return 'a packet buffer crosses an IOMMU page (the device\'s access is two translations)';
    }
  }
  return null;
}

/**
 * Why dma-debug's calls could not be made per packet (see the head of this file), or null: as
 * behind an IOMMU, they must leave the engine alone, and the engine's steps the clock.
 */
function debugFallback(nic: Nic): string | null {
  if (!nic.dev.dma_coherent) return 'CONFIG_DMA_API_DEBUG checks every call, and a non-coherent device\'s calls do cache maintenance between the ring steps';
  if (nic.m.costModel.params.writeBackNs !== 0) return 'CONFIG_DMA_API_DEBUG checks every call, and the cost model prices dirty write-backs, which the engine makes inside a burst where dma-debug\'s reports read the clock';
  return null;
}

/**
 * Why swiotlb=force's per-packet calls would not run batched exactly, or null (see the head of
 * this file): the calls must leave the engine alone but for the copies they hand over, and
 * nothing may read the clock inside a burst, where the copies' priced time is still to come:
 * neither dma-debug nor a warning (a full pool, a bounce slot beyond the mask).
 */
function forcedBounceFallback(nic: Nic, swiotlb: Swiotlb, rx: Ring, tx: Ring): string | null {
  const dev = nic.dev;
  if (!dev.dma_coherent) return 'swiotlb=force on a non-coherent device: the bounce slots\' cache maintenance is made inside the calls, apart from the ring step';
  if (nic.m.dmaDebug !== null) return 'swiotlb=force with dma-debug: its reports read the clock inside a burst, before the bounce copies are made';
  if (swiotlb.end - 1 > dev.streamLimit) return 'swiotlb=force with bounce slots beyond the DMA mask: a map would warn, reading the clock inside a burst';
  // Every buffer mapped at once, twice over for what runs of slots lose at segment ends.
  const slots = Math.ceil(nic.o.packetSize / IO_TLB_SIZE) * (rx.size + tx.size);
  if (2 * slots > swiotlb.nslabs) return 'swiotlb=force with rings whose buffers could fill the pool: a full pool warns, reading the clock inside a burst';
  return null;
}

/** Where each part of the ring area goes; null if the rings do not fit. */
function ringAreaLayout(m: Machine, nic: Nic, rx: Ring, tx: Ring): { rx: number; tx: number; banks: number; pattern: number; tmp: number; rxSlots: number; txSlots: number } | null {
  const at = m.layout.ringArea;
  const align = (x: number): number => Math.ceil(x / 64) * 64;
  const banks = at + 2 * align(RB_BYTES);
  const pattern = align(banks + m.layout.banks.length * RBANK_BYTES);
  const tmp = align(pattern + nic.pattern.length);
  const rxSlots = align(tmp + Math.max(nic.o.packetSize, DESC_BYTES));
  const txSlots = rxSlots + rx.size * RS_BYTES;
  const end = txSlots + tx.size * RS_BYTES;
  if (end > at + RING_AREA_BYTES) return null;
  return { rx: at, tx: at + align(RB_BYTES), banks, pattern, tmp, rxSlots, txSlots };
}

/**
 * Why the batched path would not leave the machine as the per-call path does, or null when it
 * would: every buffer maps through dma-direct without bouncing, or through a translating IOMMU
 * on the terms of iommuFallback(); nothing watches individual calls, and every access is one
 * the ring steps make.
 */
export function batchedFallback(nic: Nic, rx: Ring, tx: Ring): string | null {
  const m = nic.m;
  const dev = nic.dev;
  if (m.dataCheck !== null) return 'the data-aware checker watches every access';
  if (m.dmaDebug !== null) {
    const why = debugFallback(nic);
    if (why !== null) return why;
  }
  if (m.dmaTrace !== null) return 'tracepoints or a timeline record every call';
  if (dev.dma_ops !== null) return 'the device has dma_map_ops';
  if (dev.dma_range_map.length > 0) return 'the device has a dma_range_map';
  if (m.cpu.storesBuffered) return 'store reordering keeps a store buffer in the host';
  if (m.cpu.loadsReordered) return 'load reordering keeps a history of device writes in the host';
  if (m.clock.pending > 0) return 'timers are pending on the clock, and run between driver operations';
  // dma-iommu bounces only for an untrusted device or a kmalloc buffer (dev_use_swiotlb()), not for swiotlb=force.
  if (dev.dma_iommu) {
    const why = iommuFallback(nic, rx, tx);
    if (why !== null) return why;
  } else if (m.swiotlb?.forceBounce === true) {
    const why = forcedBounceFallback(nic, m.swiotlb, rx, tx);
    if (why !== null) return why;
  }
  const size = nic.o.packetSize;
  if (!Number.isInteger(size) || size < 1) return 'the packet size is not a positive integer';
  // The per-call path moves bigger packets in pieces, and a coherent device's piece edges snoop.
  if (size > SCRATCH_BYTES) return `packets of more than ${SCRATCH_BYTES} bytes move in pieces on the per-call path`;
  for (const [ring, dir] of [[rx, nic.o.mode === 'map' ? DMA_FROM_DEVICE : DMA_BIDIRECTIONAL], [tx, nic.o.mode === 'map' ? DMA_TO_DEVICE : DMA_BIDIRECTIONAL]] as const) {
    let cached: boolean | null = null;
    for (let i = 0; i < ring.size; i++) {
      const s = ring.slots[i];
      const d = ring.descs[i];
      if (s === undefined || d === undefined) return 'a ring slot is missing';
      if (!isLinearMapAddress(s.buf) || m.physToOffset(__pa(s.buf), size) < 0) return 'a packet buffer is not in the linear map';
      if (!dev.dma_iommu && m.swiotlb?.forceBounce !== true && wouldBounce(nic, __pa(s.buf), dir)) return `the packet buffer at phys 0x${__pa(s.buf).toString(16)} bounces through swiotlb`;
      const cpu = cpuTarget(m, d.vaddr, DESC_BYTES);
      const busPhys = dev.dmaToPhys(d.dma, DESC_BYTES);
      if (cpu === null || busPhys < 0 || m.physToOffset(busPhys, DESC_BYTES) !== cpu.off) return 'a descriptor is not one RAM location for the CPU and the device';
      if (cached !== null && cached !== cpu.cached) return 'the descriptors of one ring differ in memory type';
      cached = cpu.cached;
    }
  }
  if (ringAreaLayout(m, nic, rx, tx) === null) return 'the rings do not fit in the ring area';
  return null;
}

/** The batched path: one engine call per ring step (see assembly/ring.ts). */
export class NicBatched implements NicSteps {
  private readonly m: Machine;
  private readonly nic: Nic;
  private readonly u32: Uint32Array;
  private readonly rxBlock: number;
  private readonly txBlock: number;
  private readonly rxSlots: number;
  private readonly txSlots: number;
  /** The DMA API calls are made per packet by the host (behind an IOMMU, bouncing, or with dma-debug; see the head of this file). */
  private readonly perPacket: boolean;
  /** swiotlb, when every buffer bounces (swiotlb=force): its copies go to the engine. */
  private readonly swiotlb: Swiotlb | null;
  /** The slot whose calls are being made: its buffer's offset, the copies asked for (RS_BOUNCE bits) and their bounce slot. */
  private curBuf = 0;
  private curBits = 0;
  private curBus = 0;
  private readonly wmb: number;
  /** The CPU accesses of posting one descriptor (nic.ts post()): three stores, dma_wmb() unless the bug drops it, the OWN store. */
  private readonly postAccesses: number;
  private readonly rxPost: Call;
  /** With the no-sync-for-device bug, recycled RX buffers are synced only before their first use (nic.ts rxGive). */
  private readonly rxSyncFirstUseOnly: boolean;
  private readonly txPostCall: Call;
  private readonly rxReapCall: Call;
  private readonly txReapCall: Call;

  constructor(nic: Nic, rx: Ring, tx: Ring) {
    const m = nic.m;
    this.m = m;
    this.nic = nic;
    this.u32 = new Uint32Array(m.memory.buffer);
    this.swiotlb = !nic.dev.dma_iommu && m.swiotlb?.forceBounce === true ? m.swiotlb : null;
    this.perPacket = nic.dev.dma_iommu || this.swiotlb !== null || m.dmaDebug !== null;
    const at = ringAreaLayout(m, nic, rx, tx);
    if (at === null) throw new Error('dmasim_nic: the rings do not fit in the ring area (batchedFallback() says so first)');
    this.rxBlock = at.rx;
    this.txBlock = at.tx;
    this.rxSlots = at.rxSlots;
    this.txSlots = at.txSlots;
    m.u8.set(nic.pattern, at.pattern);
    m.layout.banks.forEach((b, i) => {
      const e = at.banks + i * RBANK_BYTES;
      this.set(e + RBANK_BASE_LO, b.base % U32);
      this.set(e + RBANK_BASE_HI, Math.floor(b.base / U32));
      this.set(e + RBANK_SIZE, b.size);
      this.set(e + RBANK_OFFSET, b.offset);
    });
    const flags = (nic.dev.dma_coherent ? RING_COHERENT : 0) | (nic.dev.dma_iommu ? RING_BUS_TABLE : 0) | (this.swiotlb !== null ? RING_BOUNCE : 0);
    const block = (ring: Ring, blockAt: number, slots: number, seqBase: number): void => {
      const cached = cpuTarget(m, (ring.descs[0] as Desc).vaddr, DESC_BYTES)?.cached === true;
      for (const [field, value] of [
        [RB_SLOTS, slots], [RB_SIZE, ring.size], [RB_LEN, nic.o.packetSize], [RB_FLAGS, (cached ? RING_DESC_CACHED : 0) | flags],
        [RB_PATTERN, at.pattern], [RB_SEQ_BASE, seqBase], [RB_TMP, at.tmp], [RB_BANKS, at.banks], [RB_NBANKS, m.layout.banks.length],
        [RB_VERIFIED, 0], [RB_CORRUPTED, 0], [RB_FAULTS, 0],
      ] as const) this.set(blockAt + field, value);
      ring.descs.forEach((d, i) => {
        const s = ring.slots[i] as Slot;
        const e = slots + i * RS_BYTES;
        const phys = __pa(s.buf);
        this.set(e + RS_BUF, m.physToOffset(phys, nic.o.packetSize));
        this.set(e + RS_DESC, cpuTarget(m, d.vaddr, DESC_BYTES)?.off ?? 0);
        // The DMA address dma_map_single() returns, and the one recycled buffers were mapped at;
        // made per packet, the address of each mapping, written as it is made.
        this.setDma(e, this.perPacket ? s.dma : phys_to_dma(nic.dev, phys));
      });
    };
    block(rx, at.rx, at.rxSlots, 0);
    block(tx, at.tx, at.txSlots, NIC_TX_SEQ_BASE);

    // What the driver calls per packet in each step (nic.ts: rxRefillOne, txPostOne, rxReap, txReap).
    // Per packet, the host makes the calls and they count themselves; the engine's share is the line work.
    const o = nic.o;
    const api = new DirectCalls(m, nic);
    const own = (c: Call): Call => (this.perPacket ? { ops: c.ops, barriers: 0, dmaOps: 0 } : c);
    const map = o.mode === 'map';
    this.wmb = o.bug === 'no-dma-wmb' ? 0 : 1;
    this.postAccesses = 4 + this.wmb;
    this.rxPost = own(map ? api.map() : api.syncForDevice());
    this.rxSyncFirstUseOnly = !map && o.bug === 'no-sync-for-device';
    const txBefore = !map && o.bug !== 'no-sync-for-cpu' ? api.syncForCpu() : NOTHING;
    const txAfter = map ? api.map() : o.bug !== 'no-sync-for-device' ? api.syncForDevice() : NOTHING;
    this.txPostCall = own(both(both(txBefore, { ops: RING_OP_FILL, barriers: 0, dmaOps: 0 }), txAfter));
    const rxTake = map ? api.unmap(DMA_FROM_DEVICE) : o.bug !== 'no-sync-for-cpu' ? api.syncForCpu() : NOTHING;
    this.rxReapCall = own(both(rxTake, { ops: RING_OP_VERIFY, barriers: 0, dmaOps: 0 }));
    this.txReapCall = own(map ? api.unmap(DMA_TO_DEVICE) : NOTHING);
  }

  private set(byteOffset: number, value: number): void {
    this.u32[byteOffset >>> 2] = value;
  }

  private get(byteOffset: number): number {
    return this.u32[byteOffset >>> 2] as number;
  }

  /** A slot's DMA address, as the driver writes it into the descriptor. */
  private setDma(slot: number, dma: number): void {
    // `>>> 0` is the address modulo 2^32, exact below 2^53; `%` of a double is a C call (fmod).
    this.set(slot + RS_DMA_LO, dma >>> 0);
    this.set(slot + RS_DMA_HI, Math.floor(dma / U32));
  }

  /** Adds n packets' worth of one call's host counters, as the per-call path counts them call by call. */
  private account(call: Call, n: number, cpuBarriers: number): void {
    const h = this.m.hostStats;
    h.barriers += call.barriers * n;
    h.dmaOps += call.dmaOps * n;
    h.cpuBarriers += cpuBarriers * n;
  }

  rxRefill(ring: Ring, n: number): void {
    if (this.perPacket) {
      this.eachSlot(ring, this.rxSlots, ring.head, n, this.rxGiveCalls);
      this.post(ring, this.rxBlock, n, this.rxPost);
      return;
    }
    const synced = this.rxSyncFirstUseOnly ? Math.max(0, Math.min(n, ring.size - ring.head)) : n;
    this.m.clock.cpuPoints(n * this.postAccesses);
    this.post(ring, this.rxBlock, synced, this.rxPost);
    this.post(ring, this.rxBlock, n - synced, NOTHING);
  }

  txPost(ring: Ring, n: number): void {
    if (this.perPacket) {
      this.eachSlot(ring, this.txSlots, ring.head, n, this.txGiveCalls);
    } else {
      this.m.clock.cpuPoints(n * (1 + this.postAccesses));
    }
    this.post(ring, this.txBlock, n, this.txPostCall);
  }

  private post(ring: Ring, block: number, n: number, call: Call): void {
    if (n <= 0) return;
    this.m.port.ringPost(block, ring.head, n, call.ops);
    this.account(call, n, this.wmb);
    ring.head += n;
  }

  rxDevice(ring: Ring, count: number): number {
    return this.device(ring, this.rxBlock, this.rxSlots, count, true);
  }

  txDevice(ring: Ring, count: number): number {
    return this.device(ring, this.txBlock, this.txSlots, count, false);
  }

  /** The device's walk; behind an IOMMU, the host translates its accesses first (translateWalk()). */
  private device(ring: Ring, block: number, slots: number, count: number, write: boolean): number {
    const expected = this.nic.dev.dma_iommu ? this.translateWalk(ring, slots, count, write) : -1;
    const done = this.m.port.ringDevice(block, ring.devHead, count, write ? RING_OP_DEV_WRITE : 0);
    if (expected >= 0 && done !== expected) throw new Error(`dmasim_nic: the device walked ${done} descriptors, the host translated ${expected}`);
    ring.devHead += done;
    return done;
  }

  /**
   * The IOMMU's side of the device's walk of up to `count` descriptors (nic.ts deviceWalk()), in
   * its order: each descriptor read, the buffer's access (its RAM offset, or -1 for a fault, into
   * the slot's RS_BUS), the DONE write; and the read of the descriptor that ends the walk. The
   * device owns exactly the descriptors posted and not yet walked: without a store buffer every
   * OWN store is visible, and every other descriptor is zeroed or DONE. Returns the walk's length.
   */
  private translateWalk(ring: Ring, slots: number, count: number, write: boolean): number {
    const dev = this.nic.dev;
    const iommu = dev.iommu as DevIommu;
    const len = this.nic.o.packetSize;
    const n = Math.min(count, ring.head - ring.devHead);
    for (let k = 0; k < n; k++) {
      const i = (ring.devHead + k) % ring.size;
      const desc = ring.descs[i] as Desc;
      iommu.translatePage(dev, desc.dma, DESC_BYTES, false);
      this.set(slots + i * RS_BYTES + RS_BUS, this.busOffset(iommu, (ring.slots[i] as Slot).dma, len, write));
      iommu.translatePage(dev, desc.dma + DESC_FLAGS, 4, true);
    }
    if (n < count) iommu.translatePage(dev, (ring.descs[(ring.devHead + n) % ring.size] as Desc).dma, DESC_BYTES, false);
    return n;
  }

  /** Where the device's access to a buffer lands (a buffer sits in one IOMMU page), or -1 when it faults. */
  private busOffset(iommu: DevIommu, dma: number, len: number, write: boolean): number {
    try {
      return iommu.translatePage(this.nic.dev, dma, len, write);
    } catch (e) {
      if (!(e instanceof DmaFaultError)) throw e;
      return -1;
    }
  }

  rxReap(ring: Ring): number {
    const expected = this.perPacket ? ring.devHead - ring.tail : -1;
    if (this.perPacket) this.eachSlot(ring, this.rxSlots, ring.tail, expected, this.rxTakeCalls);
    const n = this.reap(ring, this.rxBlock, this.rxReapCall, 1, expected);
    if (!this.perPacket) this.m.clock.cpuPoints(3 * n);
    this.endReap(ring);
    return n;
  }

  txReap(ring: Ring): number {
    const expected = this.perPacket ? ring.devHead - ring.tail : -1;
    if (this.perPacket) this.eachSlot(ring, this.txSlots, ring.tail, expected, this.txTakeCalls);
    const n = this.reap(ring, this.txBlock, this.txReapCall, 0, expected);
    if (!this.perPacket) this.m.clock.cpuPoints(n);
    this.endReap(ring);
    return n;
  }

  /**
   * The engine's reap. `rmb`: the driver's dma_rmb() after seeing DONE (RX only). `expected`:
   * what the host made the calls for (-1: none), the descriptors the device has handed back
   * (it writes DONE on every one it walks, and the others it owns are not DONE).
   */
  private reap(ring: Ring, block: number, call: Call, rmb: number, expected: number): number {
    if (ring.tail >= ring.head) return 0;
    const n = this.m.port.ringReap(block, ring.tail, ring.head - ring.tail, call.ops);
    if (expected >= 0 && n !== expected) throw new Error(`dmasim_nic: the driver reaped ${n} descriptors, the host made the calls for ${expected}`);
    this.account(call, n, rmb);
    ring.tail += n;
    return n;
  }

  /**
   * The host's share of a step made per packet: `calls` makes packet `first + k`'s DMA API calls
   * with the clock's points of its CPU accesses, in the per-call order, for each of n slots from
   * `first` on; each slot then gets its DMA address and the bounce copies its step makes.
   * swiotlb hands its copies over meanwhile (Swiotlb.bounceCopy).
   */
  private eachSlot(ring: Ring, slots: number, first: number, n: number, calls: (ring: Ring, s: Slot, seq: number) => void): void {
    if (this.swiotlb !== null) this.swiotlb.bounceCopy = this.onBounce;
    try {
      for (let k = 0; k < n; k++) {
        const i = (first + k) % ring.size;
        const s = ring.slots[i] as Slot;
        const e = slots + i * RS_BYTES;
        this.curBuf = this.get(e + RS_BUF);
        this.curBits = 0;
        calls(ring, s, first + k);
        this.setDma(e, s.dma);
        if (this.swiotlb === null) continue;
        this.set(e + RS_BOUNCE, this.curBits);
        if (this.curBits !== 0) this.set(e + RS_BUS, this.curBus);
      }
    } finally {
      if (this.swiotlb !== null) this.swiotlb.bounceCopy = null;
    }
  }

  // One packet's calls in each step, with the points of the CPU accesses around them (nic.ts).
  /** rxRefillOne(): the call, then the descriptor's stores. */
  private readonly rxGiveCalls = (ring: Ring, s: Slot, seq: number): void => {
    this.nic.rxGive(ring, s, seq);
    this.m.clock.cpuPoints(this.postAccesses);
  };

  /** txPostOne(): the call before the payload's stores, the stores, the call after, the descriptor's stores. */
  private readonly txGiveCalls = (_ring: Ring, s: Slot): void => {
    this.nic.txFill(s);
    this.m.clock.cpuPoint();
    this.nic.txGive(s);
    this.m.clock.cpuPoints(this.postAccesses);
  };

  /** rxReap(): the flags' load, dma_rmb(), the call, the payload's loads. */
  private readonly rxTakeCalls = (_ring: Ring, s: Slot): void => {
    this.m.clock.cpuPoints(2);
    this.nic.rxTake(s);
    this.m.clock.cpuPoint();
  };

  /** txReap(): the flags' load, the call. */
  private readonly txTakeCalls = (_ring: Ring, s: Slot): void => {
    this.m.clock.cpuPoint();
    this.nic.txTake(s);
  };

  /** swiotlb_bounce()'s memcpy of the current slot's packet, to or from its bounce slot. */
  private readonly onBounce = (dst: number, src: number, n: number): void => {
    const into = dst === this.curBuf;
    const bus = into ? src : dst;
    if (n !== this.nic.o.packetSize || (!into && src !== this.curBuf) || (this.curBits !== 0 && bus !== this.curBus)) {
      throw new Error('dmasim_nic: a bounce copy the ring step does not make (batchedFallback() should have refused the run)');
    }
    this.curBits |= into ? BOUNCE_IN : BOUNCE_OUT;
    this.curBus = bus;
  };

  /** The flags' load that ends a reap short of the head (a descriptor not yet DONE). */
  private endReap(ring: Ring): void {
    if (ring.tail < ring.head) this.m.clock.cpuPoint();
  }

  /** Adds what the engine counted (payload checks and DMA faults) to the report. */
  collect(r: NicReport): void {
    let verified = 0;
    let corrupted = 0;
    let faults = 0;
    for (const b of [this.rxBlock, this.txBlock]) {
      verified += this.get(b + RB_VERIFIED);
      corrupted += this.get(b + RB_CORRUPTED);
      faults += this.get(b + RB_FAULTS);
    }
    r.verified += verified;
    r.corrupted += corrupted;
    r.packets += verified + corrupted;
    r.faults += faults;
  }
}
