// With swiotlb=force (kernel/dma/swiotlb.c: every streaming mapping bounces), the batched path
// leaves the machine exactly as the per-call path does: the same RAM (originals and bounce
// slots), cache, counters (bounce bytes), model time and clock, kernel log and report, and the
// same swiotlb slot state (io_tlb_used, io_tlb_used_hiwater in debugfs); with the injected bugs
// too, which on a recycled buffer decide which bounce copies happen.
import { expect, test } from 'vitest';
import { createMachine, type MachineOptions } from '../../src/machine.js';
import type { NicOptions } from '../../src/workloads/nic.js';
import { runNic } from '../../src/workloads/nic.js';
import { LOAD, runBoth, SMALL_CACHE } from '../support/workload-nic-batched-helpers.js';

const FORCE: MachineOptions = { arch: 'x86_64', cmdline: 'swiotlb=force' };

const cases: [string, MachineOptions, Partial<NicOptions>][] = [
  ['map, 64 B', FORCE, {}],
  ['map, 1518 B, odd bursts on a ring that is not a power of two', FORCE, { packetSize: 1518, burst: 7, ringSize: 100 }],
  ['map, 3000 B (two slots per packet) under load', { ...FORCE, load: LOAD }, { packetSize: 3000 }],
  ['recycle, 1500 B, small cache under load', { ...FORCE, load: LOAD, cache: SMALL_CACHE }, { mode: 'recycle', packetSize: 1500 }],
  ['recycle, dma_pool descriptors, 100 B', FORCE, { mode: 'recycle', descriptors: 'pool', packetSize: 100 }],
  ['arm64, a coherent NIC', { cmdline: 'swiotlb=force' }, { coherent: true }],
];

for (const [name, machine, opts] of cases) {
  test(name, async () => {
    const { batched } = await runBoth(machine, opts);
    expect(batched.corrupted).toBe(0);
    expect(batched.verified).toBe(2000);
    expect(batched.bounceBytes).toBeGreaterThan(0);
  });
}

test('the injected bugs skip the same bounce copies on both paths', async () => {
  // A recycled buffer that is not synced is never copied to or from its bounce slot: swiotlb
  // makes even a coherent device see stale data.
  const cpu = await runBoth({ ...FORCE, load: LOAD }, { mode: 'recycle', bug: 'no-sync-for-cpu' });
  expect(cpu.batched.corrupted).toBeGreaterThan(0);
  const dev = await runBoth(FORCE, { mode: 'recycle', bug: 'no-sync-for-device' });
  expect(dev.batched.corrupted).toBeGreaterThan(0);
  const wmb = await runBoth(FORCE, { bug: 'no-dma-wmb' });
  expect(wmb.batched.corrupted).toBe(0);
});

test('swiotlb\'s debugfs counters read the same after both paths', async () => {
  const read = async (api: 'per-call' | 'batched'): Promise<string[]> => {
    const m = await createMachine({ seed: 5, ...FORCE });
    const r = runNic(m, { packets: 500, ringSize: 64, api });
    expect(r.api).toBe(api);
    return ['io_tlb_nslabs', 'io_tlb_used', 'io_tlb_used_hiwater'].map((f) => m.debugfs.read(`/sys/kernel/debug/swiotlb/${f}`));
  };
  const batched = await read('batched');
  expect(batched).toEqual(await read('per-call'));
  expect(Number(batched[2])).toBeGreaterThan(0);
});
