// A correct driver's NIC run leaves the machine exactly as the per-call path does when it takes
// the batched path (one engine call per ring step): the same RAM, cache lines (tags, LRU
// stamps, data, dirty bits), engine and host counters, model time, report and kernel log, and
// the same random stream afterwards; on every configuration the batched path accepts.
import { expect, test } from 'vitest';
import type { MachineOptions } from '../../src/machine.js';
import type { NicOptions } from '../../src/workloads/nic.js';
import { BATCHED_DSB, LOAD, runBoth, SMALL_CACHE } from '../support/workload-nic-batched-helpers.js';

const cases: [string, MachineOptions, Partial<NicOptions>][] = [
  ['arm64, map, batched DSBs, 64 B', BATCHED_DSB, {}],
  ['arm64, map, per-buffer DSBs, 1500 B', {}, { packetSize: 1500 }],
  ['arm64, recycle, batched DSBs', BATCHED_DSB, { mode: 'recycle' }],
  ['arm64, recycle, dma_pool descriptors, 100 B (partial lines)', {}, { mode: 'recycle', descriptors: 'pool', packetSize: 100 }],
  ['arm64, map, eviction pressure and speculation, 1518 B', { ...BATCHED_DSB, load: LOAD }, { packetSize: 1518 }],
  ['arm64, recycle, small random-replacement cache under load', { load: LOAD, cache: { ...SMALL_CACHE, replacement: 'random' } }, { mode: 'recycle', packetSize: 200 }],
  ['arm64, map, a ring that is not a power of two, odd bursts', BATCHED_DSB, { ringSize: 100, burst: 7, packetSize: 60 }],
  ['arm64, a coherent NIC under load', { load: LOAD }, { coherent: true }],
  ['x86_64, map', { arch: 'x86_64' }, {}],
  ['x86_64, recycle under load, 1500 B', { arch: 'x86_64', load: LOAD }, { mode: 'recycle', packetSize: 1500 }],
];

for (const [name, machine, opts] of cases) {
  test(name, async () => {
    const { batched } = await runBoth(machine, opts);
    expect(batched.corrupted).toBe(0);
    expect(batched.verified).toBe(2000);
  });
}
