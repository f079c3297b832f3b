// Shared by the batched-path tests: run the NIC workload on two machines booted alike, one per
// path, and compare everything that is machine state.
import { expect } from 'vitest';
import { COUNTERS_BYTES } from '../../assembly/abi.js';
import type { Device } from '../../src/dma/device.js';
import { IOMMU_PAGE_SIZE } from '../../src/iommu/io-pgtable-arm.js';
import type { IovaMagazine } from '../../src/iommu/iova.js';
import { createMachine, type CacheOptions, type LoadOptions, type Machine, type MachineOptions } from '../../src/machine.js';
import { GFP_KERNEL } from '../../src/mm/gfp.js';
import { runNic, type NicOptions, type NicReport } from '../../src/workloads/nic.js';

/**
 * Whether two machines' memories hold the same machine state: the engine's counters, the
 * cache's tags, LRU stamps and data, every RAM bank and the line directory (everything but the
 * host's scratch buffer and ring area).
 */
export function sameMemory(a: Machine, b: Machine): boolean {
  const l = a.layout;
  const x = Buffer.from(a.memory.buffer as ArrayBuffer);
  const y = Buffer.from(b.memory.buffer as ArrayBuffer);
  return x.subarray(l.counters, l.counters + COUNTERS_BYTES).equals(y.subarray(l.counters, l.counters + COUNTERS_BYTES))
    && x.subarray(l.tags, l.ringArea).equals(y.subarray(l.tags, l.ringArea));
}

/** The report without what depends on the host's speed or on the path. */
function outcome(r: NicReport): Partial<NicReport> {
  const { wallSeconds: _w, packetsPerSecond: _p, api: _a, apiFallback: _f, ...rest } = r;
  return rest;
}

/** A machine whose created devices are kept, to look at their IOMMU state afterwards. */
async function machineWithDevices(opts: MachineOptions): Promise<{ m: Machine; devices: Device[] }> {
  const m = await createMachine(opts);
  const devices: Device[] = [];
  const createDevice = m.createDevice.bind(m);
  m.createDevice = (o) => {
    const d = createDevice(o);
    devices.push(d);
    return d;
  };
  return { m, devices };
}

function magazine(mag: IovaMagazine | null): number[] | null {
  return mag === null ? null : Array.from(mag.pfns.subarray(0, mag.size));
}

/**
 * What the IOMMU keeps for a device in a translating domain: the IOTLB's entries in fill order,
 * the IOVA tree's ranges, the rcaches' magazines and depots, the flush queue and its counters,
 * and the page tables' entries over every IOVA range (null without a translating IOMMU).
 */
export function iommuState(dev: Device): unknown {
  const d = dev.iommu;
  const cookie = d?.domain.cookie ?? null;
  if (d === null || !d.translates || cookie === null) return null;
  const iovad = cookie.iovad;
  const ranges = iovad.ranges();
  const ptes: number[] = [];
  for (let i = 0; i < ranges.length; i += 2) {
    for (let pfn = ranges[i] as number; pfn <= (ranges[i + 1] as number) && pfn - (ranges[i] as number) < 4096; pfn++) ptes.push(d.domain.pgtbl.pte(pfn * IOMMU_PAGE_SIZE));
  }
  const depot = (mag: IovaMagazine | null): (number[] | null)[] => (mag === null ? [] : [magazine(mag), ...depot(mag.next)]);
  const fq = cookie.fq;
  return {
    iotlb: [...d.domain.iotlb], ranges, ptes, tablePages: d.domain.pgtbl.tablePages, stats: { ...iovad.stats },
    rcaches: iovad.rcaches.map((r) => ({ loaded: magazine(r.loaded), prev: magazine(r.prev), depot: depot(r.depot), size: r.depot_size, work: r.work_pending })),
    fq: fq === null ? null : { head: fq.head, tail: fq.tail, pfn: [...fq.pfn], pages: [...fq.pages], counter: [...fq.counter] },
    flushes: [cookie.fq_flush_start_cnt, cookie.fq_flush_finish_cnt, cookie.fq_timer_on],
    pci32: d.pci_32bit_workaround,
  };
}

/** swiotlb's slots (struct io_tlb_slot: orig_addr, alloc_size, list, pad_slots) and its counters (null without swiotlb). */
export function swiotlbState(m: Machine): unknown {
  const t = m.swiotlb;
  if (t === null) return null;
  const list = Array.from({ length: t.nslabs }, (_, i) => t.listAt(i));
  return { orig: [...t.origAddr], size: [...t.allocSize], list, pad: [...t.padSlots], used: t.totalUsed, hiwater: t.usedHiwater };
}

/** More CPU traffic under load, which draws on the random stream and the LRU clock: equal only if both were left equal. */
function probe(m: Machine): void {
  m.setLoad({ evictionPressure: 0.3, speculation: 0.3 });
  const p = m.kmalloc(16384, GFP_KERNEL);
  m.cpu.fill(p, 16384, 0xa5);
  m.cpu.read(p, 16384);
}

/**
 * Runs the workload per call on one machine and batched on another booted alike, and checks
 * that both paths left the same report, counters, model time and clock, kernel log, memory,
 * IOMMU and swiotlb state, and the same engine state and timers for what comes next.
 */
export async function runBoth(machine: MachineOptions, opts: Partial<NicOptions>): Promise<{ perCall: NicReport; batched: NicReport; machines: [Machine, Machine] }> {
  const { m: a, devices: da } = await machineWithDevices({ seed: 7, ...machine });
  const { m: b, devices: db } = await machineWithDevices({ seed: 7, ...machine });
  const perCall = runNic(a, { packets: 1000, ringSize: 64, ...opts, api: 'per-call' });
  const batched = runNic(b, { packets: 1000, ringSize: 64, ...opts, api: 'batched' });
  expect(perCall.api).toBe('per-call');
  expect(batched.apiFallback).toBeNull();
  expect(batched.api).toBe('batched');
  expect(outcome(batched)).toEqual(outcome(perCall));
  expect(b.stats()).toEqual(a.stats());
  expect(b.cost()).toEqual(a.cost());
  expect(b.now()).toBe(a.now());
  expect(b.dmesg()).toEqual(a.dmesg());
  expect(db.map(iommuState)).toEqual(da.map(iommuState));
  expect(swiotlbState(b)).toEqual(swiotlbState(a));
  expect(sameMemory(a, b)).toBe(true);
  probe(a);
  probe(b);
  expect(b.stats()).toEqual(a.stats());
  expect(sameMemory(a, b)).toBe(true);
  // The timers the run left (the flush queue's, the rcache depot's) run alike.
  a.msleep(200);
  b.msleep(200);
  expect(b.now()).toBe(a.now());
  expect(db.map(iommuState)).toEqual(da.map(iommuState));
  return { perCall, batched, machines: [a, b] };
}

export const BATCHED_DSB: MachineOptions = { config: { ARCH_HAS_BATCHED_DMA_SYNC: true } };
export const LOAD: LoadOptions = { evictionPressure: 0.2, speculation: 0.2 };
export const SMALL_CACHE: CacheOptions = { size: 8192, ways: 4, lineSize: 64 };
