// The NIC workload moves every payload intact when the driver follows the DMA API, on every
// configuration; each injected driver bug shows as corrupted packets where hardware would show
// it (non-coherent arm64) and nowhere else.
import { describe, expect, test } from 'vitest';
import { createMachine, type MachineOptions } from '../../src/machine.js';
import { runNic, type NicOptions } from '../../src/workloads/nic.js';

async function nic(machine: MachineOptions, opts: Partial<NicOptions>) {
  const m = await createMachine({ seed: 3, ...machine });
  return runNic(m, { packets: 3000, ringSize: 64, ...opts });
}

describe('a correct driver', () => {
  const configs: [string, MachineOptions, Partial<NicOptions>][] = [
    ['arm64, map per packet, batched', { config: { ARCH_HAS_BATCHED_DMA_SYNC: true } }, {}],
    ['arm64, recycled buffers, per-buffer DSBs', {}, { mode: 'recycle' }],
    ['arm64, dma_pool descriptors, 1500 B, eviction pressure', { load: { evictionPressure: 0.2, speculation: 0.2 } }, { descriptors: 'pool', packetSize: 1500 }],
    ['arm64, 32-bit mask: bounced through swiotlb', {}, { dmaBits: 32, packetSize: 1500 }],
    ['arm64, store reordering with dma_wmb()', { load: { storeReordering: 0.5 } }, {}],
    ['x86_64', { arch: 'x86_64' }, { mode: 'recycle' }],
  ];
  for (const [name, machine, opts] of configs) {
    test(name, async () => {
      const r = await nic(machine, opts);
      expect(r.packets).toBe(6000);
      expect(r.corrupted).toBe(0);
      expect(r.faults).toBe(0);
      expect(r.verified).toBe(6000);
    });
  }
});

describe('an injected bug', () => {
  test('a missing dma_sync_single_for_cpu corrupts received packets on non-coherent arm64', async () => {
    const r = await nic({}, { mode: 'recycle', bug: 'no-sync-for-cpu' });
    expect(r.corrupted).toBeGreaterThan(1000);
  });

  test('a missing dma_sync_single_for_device corrupts transmitted packets on non-coherent arm64', async () => {
    const r = await nic({}, { mode: 'recycle', bug: 'no-sync-for-device' });
    expect(r.corrupted).toBeGreaterThan(1000);
  });

  test('the same bugs are harmless on a coherent machine', async () => {
    const r = await nic({ arch: 'x86_64' }, { mode: 'recycle', bug: 'no-sync-for-cpu' });
    expect(r.corrupted).toBe(0);
  });

  test('a missing dma_wmb() lets the device see OWN before the address under store reordering', async () => {
    // The by-hand rings: their device walks every descriptor it owns with no doorbell, so it can
    // look between the driver's stores. (The NIC model fetches only up to the tail register, and
    // the writel() of the doorbell orders the descriptor stores before it, as on such hardware.)
    // Bounce buffers give each mapping a new DMA address, so a stale address word is a wrong one;
    // a short ring makes the device look at freshly posted descriptors often. The DSB that ends
    // each map drains the store buffer (dsb(sy)), so only the descriptor posted after the last
    // map can be half visible: bursts of one packet give the device that look every round.
    const r = await nic({ load: { storeReordering: 0.5 } }, { api: 'per-call', bug: 'no-dma-wmb', dmaBits: 32, packetSize: 1500, ringSize: 8, burst: 1 });
    expect(r.corrupted + r.faults).toBeGreaterThan(0);
    const fixed = await nic({ load: { storeReordering: 0.5 } }, { api: 'per-call', dmaBits: 32, packetSize: 1500, ringSize: 8, burst: 1 });
    expect(fixed.corrupted + fixed.faults).toBe(0);
  });
});

test('the data-aware checker finds nothing to report in a correct driver, and reports a missing sync', async () => {
  const m = await createMachine({ seed: 5, dataCheck: true, config: { DMA_API_DEBUG: true } });
  const r = runNic(m, { packets: 500, ringSize: 16, mode: 'recycle' });
  expect(r.corrupted).toBe(0);
  expect(m.dataCheck?.reports).toEqual([]);
  expect(r.debugErrors).toBe(0);
  const bad = await createMachine({ seed: 5, dataCheck: true });
  runNic(bad, { packets: 500, ringSize: 16, mode: 'recycle', bug: 'no-sync-for-cpu' });
  expect(bad.dataCheck?.reports.length).toBeGreaterThan(0);
});
