// A network card and its driver, packet by packet: RX and TX descriptor rings in coherent memory
// (dma_alloc_coherent, or one dma_pool block per descriptor), descriptor stores ordered with
// dma_wmb(), packet buffers streaming-mapped per packet or recycled page-pool style with
// dma_sync_single_for_cpu/for_device. The device fills RX buffers and consumes TX buffers through
// its DMA addresses; every payload is verified, by the driver on RX and by the device on TX, so a
// missing sync or barrier shows up as a corrupted packet.
//
// The default path, 'model', is the dmasim_nic driver (nic-driver.ts) of the NIC device model:
// probe, interrupts, NAPI. The by-hand paths below play driver and device in turns and run the
// same driver two ways: 'per-call' makes every DMA API call, CPU access and device access from
// JS; 'batched' (nic-batched.ts) hands each ring step of a burst to the engine in one call,
// where it can leave the machine in the same state.

import {
  DESC_ADDR_HI, DESC_ADDR_LO, DESC_BYTES, DESC_DONE, DESC_FLAGS, DESC_LEN, DESC_OWN, NIC_PAYLOAD_PERIOD,
  NIC_PAYLOAD_STRIDE, NIC_TX_SEQ_BASE,
} from '../../assembly/abi-ring.js';
import { DMA_BIT_MASK, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, type DmaDirection } from '../include/dma-mapping.js';
import type { Device } from '../dma/device.js';
import { dma_pool_create, dma_pool_zalloc, type DmaPool } from '../dma/dmapool.js';
import { DmaFaultError, DmaSimRangeError } from '../lib/errors.js';
import type { Machine } from '../machine.js';
import { checkMachine, checkNicOptions } from './options.js';
import {
  dma_alloc_coherent, dma_map_single, dma_mapping_error, dma_set_mask_and_coherent,
  dma_sync_single_for_cpu, dma_sync_single_for_device, dma_unmap_single,
} from '../dma/mapping.js';
import { GFP_KERNEL } from '../mm/gfp.js';
import { randomBytes } from '../lib/random.js';
import { batchedFallback, NicBatched } from './nic-batched.js';
import { DmasimNic } from './nic-driver.js';

/** A driver bug to inject, to see what it does on this machine. */
export type NicBug = 'none' | 'no-sync-for-cpu' | 'no-sync-for-device' | 'no-dma-wmb';

/**
 * Which driver runs, and how its work reaches the engine. 'model' (the default): a real driver
 * (nic-driver.ts) of the NIC device model, which runs on its own: MMIO registers, interrupts,
 * NAPI polling, frames arriving at the NIC's line rate. The two older paths drive the rings by
 * hand, the driver's and the device's steps taking turns: 'per-call', every DMA API call, CPU
 * access and device access from JS; 'batched', one engine call per ring step of a burst
 * (assembly/ring.ts), on dma-direct without bouncing, or for a coherent NIC behind an IOMMU,
 * with swiotlb=force or with dma-debug; no data checker, no tracing and no store buffer, else
 * the run falls back to 'per-call' (batchedFallback() says why). Those two leave the machine in
 * the same state, and 'batched' is the line-rate path.
 */
export type NicApi = 'batched' | 'per-call' | 'model';

export interface NicOptions {
  /** Payload bytes per packet (60..9000). */
  packetSize: number;
  /** Descriptors per ring (a power of two, 2..4096). */
  ringSize: number;
  /** Packets to receive and as many to transmit. */
  packets: number;
  /** 'map': dma_map_single/unmap per packet; 'recycle': buffers mapped once, synced per packet. */
  mode: 'map' | 'recycle';
  /**
   * Where descriptors live: one coherent ring, or dma_pool memory (by hand: a block per
   * descriptor; 'model': the NIC needs each ring contiguous, so one pool block per ring).
   */
  descriptors: 'coherent' | 'pool';
  /** The device's DMA mask width (narrow masks make high buffers bounce through swiotlb). */
  dmaBits: number;
  /** Whether the NIC is DMA-coherent; undefined: the arch's norm (arm64: not coherent). */
  coherent?: boolean;
  /** The NIC sits behind the machine's IOMMU (strict or lazy as the command line says). */
  iommu?: boolean;
  bug: NicBug;
  /** Packets per device burst before the driver polls. */
  burst: number;
  /** The path to take (see NicApi); 'batched' falls back to 'per-call' where it is not valid. */
  api: NicApi;
  onProgress?: (fraction: number) => void;
}

export const NIC_DEFAULTS: Readonly<NicOptions> = {
  packetSize: 64, ringSize: 256, packets: 100_000, mode: 'map', descriptors: 'coherent', dmaBits: 64, bug: 'none', burst: 32, api: 'model',
};

export interface NicReport {
  packets: number;
  verified: number;
  corrupted: number;
  /** Descriptors whose buffer address the device could not reach (DmaFaultError). */
  faults: number;
  wallSeconds: number;
  packetsPerSecond: number;
  modelNsPerPacket: number;
  cacheMaintenanceOps: number;
  barriers: number;
  bounceBytes: number;
  swiotlbSlotsUsedMax: number;
  iotlbFlushes: number;
  debugErrors: number;
  /** Reports of the data-aware checker (createMachine({ dataCheck: true })). */
  dataRaces: number;
  /** The path that ran. */
  api: NicApi;
  /** 'model': frames the NIC dropped for want of an RX descriptor (0 on the other paths). */
  rxMissed: number;
  /** Why the batched path was asked for and not taken; null when it ran or was not asked for. */
  apiFallback: string | null;
}

/* Descriptors: 16 bytes, little endian, addr lo, addr hi, len, flags (OWN, DONE): assembly/abi-ring.ts. */

export interface Desc {
  readonly vaddr: number;
  readonly dma: number;
}

export interface Slot {
  buf: number;
  dma: number;
}

/** One path's implementation of the driver's and the device's steps on the rings. */
export interface NicSteps {
  /** The driver posts `n` empty RX buffers. */
  rxRefill(ring: Ring, n: number): void;
  /** The driver fills and posts `n` TX packets. */
  txPost(ring: Ring, n: number): void;
  /** The device walks up to `count` descriptors it owns; returns those it handled. */
  rxDevice(ring: Ring, count: number): number;
  txDevice(ring: Ring, count: number): number;
  /** The driver takes back what the device handed back; returns the descriptors reaped. */
  rxReap(ring: Ring): number;
  txReap(ring: Ring): number;
}

/**
 * A deterministic payload: packet `seq`'s bytes are a window of this pattern, at an offset
 * modulo a prime so that no two packets a ring apart carry the same bytes (a stale buffer must
 * never pass for a fresh one).
 */
function makePattern(seed: number, packetSize: number): Uint8Array {
  return randomBytes(seed, packetSize + 256);
}

/** The device's write-back of a finished descriptor's flags word: DONE, OWN cleared. */
const DONE_FLAGS = new Uint8Array([DESC_DONE, 0, 0, 0]);

/** Whether two payloads are equal, byte for byte. */
export function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One ring of descriptors with a buffer behind each. */
export class Ring {
  readonly descs: Desc[];
  readonly slots: Slot[];
  head = 0; // next descriptor the driver fills
  tail = 0; // next descriptor the driver reaps
  devHead = 0; // next descriptor the device looks at

  constructor(readonly nic: Nic, readonly dir: DmaDirection) {
    this.descs = nic.allocDescriptors();
    this.slots = this.descs.map(() => {
      const buf = nic.m.kmalloc(nic.o.packetSize, GFP_KERNEL);
      if (buf === 0) probeFailed(`kmalloc(${nic.o.packetSize})`);
      return { buf, dma: 0 };
    });
  }

  get size(): number {
    return this.descs.length;
  }
}

export class Nic implements NicSteps {
  readonly dev: Device;
  readonly report: NicReport;
  /** The bytes every payload is a window of (see payload()). */
  readonly pattern: Uint8Array;
  /** Buffers the per-call path reads descriptors and payloads into (dmaReadInto, readInto). */
  private readonly descBytes = new Uint8Array(DESC_BYTES);
  private readonly descView = new DataView(this.descBytes.buffer);
  private readonly packet: Uint8Array;
  /** The payload windows of the pattern, by offset, each made once (a view is an allocation). */
  private readonly windows: (Uint8Array | undefined)[] = [];
  private pool: DmaPool | null = null;
  private coherentRing: { cpu_addr: number; dma_handle: number } | null = null;

  constructor(readonly m: Machine, readonly o: NicOptions) {
    this.dev = m.createDevice({
      name: '0000:01:00.0', driver: 'dmasim_nic', iommu: o.iommu === true,
      ...(o.coherent === undefined ? {} : { coherent: o.coherent }),
    });
    if (dma_set_mask_and_coherent(this.dev, DMA_BIT_MASK(o.dmaBits)) !== 0) probeFailed(`dma_set_mask_and_coherent(DMA_BIT_MASK(${o.dmaBits}))`);
    this.pattern = makePattern(m.seed, o.packetSize);
    this.packet = new Uint8Array(o.packetSize);
    this.report = {
      packets: 0, verified: 0, corrupted: 0, faults: 0, wallSeconds: 0, packetsPerSecond: 0, modelNsPerPacket: 0,
      cacheMaintenanceOps: 0, barriers: 0, bounceBytes: 0, swiotlbSlotsUsedMax: 0, iotlbFlushes: 0, debugErrors: 0, dataRaces: 0,
      api: 'per-call', apiFallback: null, rxMissed: 0,
    };
  }

  /** Packet `seq`'s payload: a window of the pattern at an offset modulo a prime (see makePattern()). */
  private payload(seq: number): Uint8Array {
    const at = (seq * NIC_PAYLOAD_STRIDE) % NIC_PAYLOAD_PERIOD;
    return (this.windows[at] ??= this.pattern.subarray(at, at + this.o.packetSize));
  }

  /** Descriptors for one ring: a slice of one coherent allocation, or one dma_pool block each. */
  allocDescriptors(): Desc[] {
    const n = this.o.ringSize;
    if (this.o.descriptors === 'pool') {
      this.pool ??= dma_pool_create('dmasim_nic desc', this.dev, DESC_BYTES, DESC_BYTES, 0);
      const pool = this.pool;
      if (pool === null) probeFailed('dma_pool_create');
      return Array.from({ length: n }, () => {
        const b = dma_pool_zalloc(pool, GFP_KERNEL);
        if (b === null) probeFailed('dma_pool_zalloc');
        return b;
      });
    }
    // One coherent allocation holds both rings: RX in the first half, TX in the second.
    const base = this.coherentRing === null ? 0 : n;
    this.coherentRing ??= dma_alloc_coherent(this.dev, 2 * n * DESC_BYTES, GFP_KERNEL);
    const r = this.coherentRing;
    if (r === null) probeFailed('dma_alloc_coherent');
    return Array.from({ length: n }, (_, i) => ({ vaddr: r.cpu_addr + (base + i) * DESC_BYTES, dma: r.dma_handle + (base + i) * DESC_BYTES }));
  }

  /** Maps a ring's buffers once (page-pool style) when recycling. */
  private premap(ring: Ring): void {
    if (this.o.mode !== 'recycle') return;
    for (const s of ring.slots) s.dma = this.map(s.buf, DMA_BIDIRECTIONAL);
  }

  /** dma_map_single() and dma_mapping_error(), as the driver maps a packet buffer. */
  map(buf: number, dir: DmaDirection): number {
    const h = dma_map_single(this.dev, buf, this.o.packetSize, dir);
    if (dma_mapping_error(this.dev, h)) probeFailed('dma_map_single');
    return h;
  }

  /** Hands a descriptor to the device: address and length first, then the OWN flag. */
  private post(desc: Desc, dma: number, len: number): void {
    const cpu = this.m.cpu;
    cpu.writel(desc.vaddr + DESC_ADDR_LO, dma >>> 0);
    cpu.writel(desc.vaddr + DESC_ADDR_HI, Math.floor(dma / 0x1_0000_0000));
    cpu.writel(desc.vaddr + DESC_LEN, len);
    if (this.o.bug !== 'no-dma-wmb') cpu.dma_wmb();
    cpu.writel(desc.vaddr + DESC_FLAGS, DESC_OWN);
  }

  // ---- RX (the per-call path) -------------------------------------------------------------

  rxRefill(ring: Ring, n: number): void {
    for (let k = 0; k < n; k++) this.rxRefillOne(ring, ring.head);
  }

  private rxRefillOne(ring: Ring, seq: number): void {
    const i = ring.head % ring.size;
    const s = ring.slots[i] as Slot;
    this.rxGive(ring, s, seq);
    this.post(ring.descs[i] as Desc, s.dma, this.o.packetSize);
    ring.head++;
  }

  /**
   * The DMA API calls that give RX buffer `seq` to the device: mapped, or synced for the device
   * when recycled. The batched path makes these same calls where they are per packet.
   */
  rxGive(ring: Ring, s: Slot, seq: number): void {
    if (this.o.mode === 'map') s.dma = this.map(s.buf, DMA_FROM_DEVICE);
    else if (this.o.bug !== 'no-sync-for-device' || seq < ring.size) dma_sync_single_for_device(this.dev, s.dma, this.o.packetSize, DMA_BIDIRECTIONAL);
  }

  /**
   * The device walks the descriptors it owns, in order, up to `count`: `work` moves packet
   * number `seq` at the descriptor's DMA address; then the device hands the descriptor back
   * with DONE. An address that reaches no RAM is a DMA fault, counted, and the walk goes on.
   */
  private deviceWalk(ring: Ring, count: number, work: (addr: number, seq: number) => void, onFault: () => void): number {
    let done = 0;
    for (; done < count; done++) {
      const desc = ring.descs[ring.devHead % ring.size] as Desc;
      this.dev.dmaReadInto(desc.dma, this.descBytes);
      const v = this.descView;
      if (!(v.getUint32(DESC_FLAGS, true) & DESC_OWN)) break;
      try {
        work(v.getUint32(DESC_ADDR_LO, true) + v.getUint32(DESC_ADDR_HI, true) * 0x1_0000_0000, ring.devHead);
      } catch (e) {
        if (!(e instanceof DmaFaultError)) throw e;
        this.report.faults++;
        onFault();
      }
      this.dev.dmaWrite(desc.dma + DESC_FLAGS, DONE_FLAGS);
      ring.devHead++;
    }
    return done;
  }

  /** The device receives packet k into the k-th descriptor's buffer. */
  rxDevice(ring: Ring, count: number): number {
    return this.deviceWalk(ring, count, (addr, seq) => this.dev.dmaWrite(addr, this.payload(seq)), () => {});
  }

  /** The driver reaps finished descriptors, takes the buffers back and checks each payload. */
  rxReap(ring: Ring): number {
    const firstSeq = ring.tail;
    let n = 0;
    while (ring.tail < ring.head) {
      const i = ring.tail % ring.size;
      const desc = ring.descs[i] as Desc;
      if (!(this.m.cpu.readl(desc.vaddr + DESC_FLAGS) & DESC_DONE)) break;
      this.m.cpu.dma_rmb();
      const s = ring.slots[i] as Slot;
      this.rxTake(s);
      this.m.cpu.readInto(s.buf, this.packet);
      this.count(same(this.packet, this.payload(firstSeq + n)));
      ring.tail++;
      n++;
    }
    return n;
  }

  /** The DMA API call that takes a received buffer back from the device: unmapped, or synced for the CPU. */
  rxTake(s: Slot): void {
    if (this.o.mode === 'map') dma_unmap_single(this.dev, s.dma, this.o.packetSize, DMA_FROM_DEVICE);
    else if (this.o.bug !== 'no-sync-for-cpu') dma_sync_single_for_cpu(this.dev, s.dma, this.o.packetSize, DMA_BIDIRECTIONAL);
  }

  // ---- TX (the per-call path) -------------------------------------------------------------

  txPost(ring: Ring, n: number): void {
    for (let k = 0; k < n; k++) this.txPostOne(ring, ring.head);
  }

  private txPostOne(ring: Ring, seq: number): void {
    const i = ring.head % ring.size;
    const s = ring.slots[i] as Slot;
    this.txFill(s);
    this.m.cpu.write(s.buf, this.payload(seq + NIC_TX_SEQ_BASE));
    this.txGive(s);
    this.post(ring.descs[i] as Desc, s.dma, this.o.packetSize);
    ring.head++;
  }

  /**
   * The DMA API call before the CPU writes a TX packet: a recycled buffer is mapped, so the
   * device's until the driver takes it back, even to overwrite it.
   */
  txFill(s: Slot): void {
    if (this.o.mode === 'recycle' && this.o.bug !== 'no-sync-for-cpu') dma_sync_single_for_cpu(this.dev, s.dma, this.o.packetSize, DMA_BIDIRECTIONAL);
  }

  /** The DMA API call that gives a written TX packet to the device: mapped, or synced for the device. */
  txGive(s: Slot): void {
    if (this.o.mode === 'map') s.dma = this.map(s.buf, DMA_TO_DEVICE);
    else if (this.o.bug !== 'no-sync-for-device') dma_sync_single_for_device(this.dev, s.dma, this.o.packetSize, DMA_BIDIRECTIONAL);
  }

  /** The device sends what the driver posted, checking each payload against the packet sent. */
  txDevice(ring: Ring, count: number): number {
    const check = (addr: number, seq: number): void => {
      this.dev.dmaReadInto(addr, this.packet);
      this.count(same(this.packet, this.payload(seq + NIC_TX_SEQ_BASE)));
    };
    return this.deviceWalk(ring, count, check, () => this.count(false));
  }

  txReap(ring: Ring): number {
    const first = ring.tail;
    while (ring.tail < ring.head) {
      const i = ring.tail % ring.size;
      if (!(this.m.cpu.readl((ring.descs[i] as Desc).vaddr + DESC_FLAGS) & DESC_DONE)) break;
      this.txTake(ring.slots[i] as Slot);
      ring.tail++;
    }
    return ring.tail - first;
  }

  /** The DMA API call that takes a sent buffer back: unmapped (a recycled one stays mapped). */
  txTake(s: Slot): void {
    if (this.o.mode === 'map') dma_unmap_single(this.dev, s.dma, this.o.packetSize, DMA_TO_DEVICE);
  }

  private count(ok: boolean): void {
    this.report.packets++;
    if (ok) this.report.verified++;
    else this.report.corrupted++;
  }

  /** Receives and transmits `packets` packets each, in bursts, on the path o.api asks for where it is valid. */
  run(): NicReport {
    const rx = new Ring(this, DMA_FROM_DEVICE);
    const tx = new Ring(this, DMA_TO_DEVICE);
    this.premap(rx);
    this.premap(tx);
    let steps: NicSteps = this;
    let batched: NicBatched | null = null;
    if (this.o.api === 'batched') {
      this.report.apiFallback = batchedFallback(this, rx, tx);
      if (this.report.apiFallback === null) steps = batched = new NicBatched(this, rx, tx);
    }
    this.report.api = batched === null ? 'per-call' : 'batched';
    const { packets, burst } = this.o;
    const t0 = performance.now();
    let idle = 0;
    while (rx.tail < packets || tx.tail < packets) {
      steps.rxRefill(rx, Math.min(packets - rx.head, rx.size - (rx.head - rx.tail)));
      steps.txPost(tx, Math.max(0, Math.min(burst, packets - tx.head, tx.size - (tx.head - tx.tail))));
      const moved = steps.rxDevice(rx, burst) + steps.txDevice(tx, burst);
      const reaped = steps.rxReap(rx) + steps.txReap(tx);
      this.progress(rx.tail + tx.tail, 2 * packets);
      // Time passes while the driver polls and a store buffer drains by itself; a second idle
      // round in a row means a driver bug left descriptors the device never sees as its own.
      idle = moved === 0 && reaped === 0 ? idle + 1 : 0;
      if (idle === 1) this.m.cpu.drainStores();
      if (idle === 2) break;
    }
    const wallMs = performance.now() - t0;
    batched?.collect(this.report);
    return this.finish(wallMs);
  }

  private lastProgress = 0;

  private progress(done: number, total: number): void {
    if (this.o.onProgress === undefined || done - this.lastProgress < 4096) return;
    this.lastProgress = done;
    this.o.onProgress(done / total);
  }

  private finish(wallMs: number): NicReport {
    return finishReport(this.m, this.report, wallMs);
  }
}

/** The run's figures: rates, the machine's counters, dma-debug errors and data-checker reports. */
function finishReport(m: Machine, r: NicReport, wallMs: number): NicReport {
  const s = m.stats();
  r.wallSeconds = wallMs / 1000;
  r.packetsPerSecond = r.packets / Math.max(r.wallSeconds, 1e-9);
  r.modelNsPerPacket = m.cost().total / Math.max(r.packets, 1);
  r.cacheMaintenanceOps = s.cacheMaintenanceOps;
  r.barriers = s.barriers;
  r.bounceBytes = s.bounceBytes;
  r.swiotlbSlotsUsedMax = m.swiotlb?.usedHiwater ?? 0;
  r.iotlbFlushes = s.iotlbFlushes;
  r.debugErrors = readDebugErrors(m);
  r.dataRaces = m.dataCheck?.reports.length ?? 0;
  return r;
}

/** /sys/kernel/debug/dma-api/error_count, when dma-debug is built in. */
function readDebugErrors(m: Machine): number {
  try {
    return Number(m.debugfs.read('/sys/kernel/debug/dma-api/error_count'));
  } catch {
    return 0;
  }
}

/** Runs the NIC workload on a machine (see NicOptions); options are checked before anything is made. */
export function runNic(m: Machine, opts: Partial<NicOptions> = {}): NicReport {
  checkMachine('runNic', m);
  const o = checkNicOptions('runNic', opts, NIC_DEFAULTS);
  return o.api === 'model' ? runNicModel(m, o) : new Nic(m, o).run();
}

/** The 'model' path: the dmasim_nic driver against the NIC device model. */
function runNicModel(m: Machine, o: NicOptions): NicReport {
  const report: NicReport = {
    packets: 0, verified: 0, corrupted: 0, faults: 0, wallSeconds: 0, packetsPerSecond: 0, modelNsPerPacket: 0,
    cacheMaintenanceOps: 0, barriers: 0, bounceBytes: 0, swiotlbSlotsUsedMax: 0, iotlbFlushes: 0, debugErrors: 0, dataRaces: 0,
    api: 'model', apiFallback: null, rxMissed: 0,
  };
  const drv = new DmasimNic(m, o, report);
  const t0 = performance.now();
  drv.run();
  report.rxMissed = drv.rxMissed;
  return finishReport(m, report, performance.now() - t0);
}

/**
 * What the driver's probe could not get (memory, or DMA the machine cannot do for this
 * device): the workload stops with a DmaSimRangeError naming runNic and the machine.
 */
export function probeFailed(what: string): never {
  throw new DmaSimRangeError('runNic', 'm', `cannot run dmasim_nic: ${what} failed`);
}
