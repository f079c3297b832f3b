// Shared by the batched-path tests: run the NIC workload on two machines booted alike, one per
// path, and compare everything that is machine state.
import { expect } from 'vitest';
import { COUNTERS_BYTES } from '../../assembly/abi.js';
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

/** More CPU traffic under load, which draws on the random stream and the LRU clock: equal only if both were left equal. */
function probe(m: Machine): void {
  m.setLoad({ evictionPressure: 0.3, speculation: 0.3 });
  const p = m.kmalloc(16384, GFP_KERNEL);
  m.cpu.fill(p, 16384, 0xa5);
  m.cpu.read(p, 16384);
}

/**
 * Runs the workload per call on one machine and batched on another booted alike, and checks
 * that both paths left the same report, counters, model time, kernel log and memory, and the
 * same engine state for what comes next.
 */
export async function runBoth(machine: MachineOptions, opts: Partial<NicOptions>): Promise<{ perCall: NicReport; batched: NicReport }> {
  const a = await createMachine({ seed: 7, ...machine });
  const b = await createMachine({ seed: 7, ...machine });
  const perCall = runNic(a, { packets: 1000, ringSize: 64, ...opts, api: 'per-call' });
  const batched = runNic(b, { packets: 1000, ringSize: 64, ...opts, api: 'batched' });
  expect(perCall.api).toBe('per-call');
  expect(batched.api).toBe('batched');
  expect(batched.apiFallback).toBeNull();
  expect(outcome(batched)).toEqual(outcome(perCall));
  expect(b.stats()).toEqual(a.stats());
  expect(b.cost()).toEqual(a.cost());
  expect(b.dmesg()).toEqual(a.dmesg());
  expect(sameMemory(a, b)).toBe(true);
  probe(a);
  probe(b);
  expect(b.stats()).toEqual(a.stats());
  expect(sameMemory(a, b)).toBe(true);
  return { perCall, batched };
}

export const BATCHED_DSB: MachineOptions = { config: { ARCH_HAS_BATCHED_DMA_SYNC: true } };
export const LOAD: LoadOptions = { evictionPressure: 0.2, speculation: 0.2 };
export const SMALL_CACHE: CacheOptions = { size: 8192, ways: 4, lineSize: 64 };
