// Behind a translating IOMMU, in strict and lazy mode, the batched path leaves the machine
// exactly as the per-call path does: the same RAM, cache, counters, model time and clock, kernel
// log and report, and the same IOMMU state (IOTLB entries in fill order, IOVA tree, rcache
// magazines and depots, flush queue, page tables), also when the flush queue's timer
// (drivers/iommu/dma-iommu.c fq_flush_timeout(), IOVA_DEFAULT_FQ_TIMEOUT) fires inside the run
// (about 70 times in the slow-maps case), and with the injected driver bugs.
import { expect, test } from 'vitest';
import type { MachineOptions } from '../../src/machine.js';
import type { NicOptions } from '../../src/workloads/nic.js';
import { LOAD, runBoth, SMALL_CACHE } from '../support/workload-nic-batched-helpers.js';

const STRICT: MachineOptions = { arch: 'x86_64', cmdline: 'iommu.strict=1' };
const LAZY: MachineOptions = { arch: 'x86_64', cmdline: 'iommu.strict=0' };
/** IOMMU maps priced so that 1000 packets take most of a second of model time: the flush queue's timer fires many times. */
const SLOW_MAPS = { iommuMapNs: 200_000 };

const cases: [string, MachineOptions, Partial<NicOptions>][] = [
  ['x86_64 strict, map, 64 B', STRICT, {}],
  ['x86_64 lazy, map, 64 B', LAZY, {}],
  ['x86_64 lazy, the flush-queue timer fires during the run', { ...LAZY, costModel: SLOW_MAPS }, { burst: 7, ringSize: 100 }],
  ['x86_64 strict, slow IOMMU maps, 1500 B', { ...STRICT, costModel: SLOW_MAPS }, { packetSize: 1500 }],
  ['x86_64 lazy, recycle under load, 1500 B', { ...LAZY, load: LOAD }, { mode: 'recycle', packetSize: 1500 }],
  ['x86_64 strict, dma_pool descriptors, small cache under load', { ...STRICT, load: LOAD, cache: SMALL_CACHE }, { descriptors: 'pool', packetSize: 200 }],
  ['arm64 strict (its default), a coherent NIC', {}, { coherent: true }],
  ['arm64 lazy, a coherent NIC under load, timers firing', { cmdline: 'iommu.strict=0', load: LOAD, costModel: SLOW_MAPS }, { coherent: true, packetSize: 1518 }],
];

for (const [name, machine, opts] of cases) {
  test(name, async () => {
    const { batched } = await runBoth(machine, { iommu: true, ...opts });
    expect(batched.corrupted).toBe(0);
    expect(batched.verified).toBe(2000);
    // Mapped per packet, unmapped per packet: the IOTLB is flushed (a recycled buffer stays mapped).
    if (opts.mode !== 'recycle') expect(batched.iotlbFlushes).toBeGreaterThan(0);
  });
}

test('the injected bugs do the same on both paths behind an IOMMU (a coherent device: harmless)', async () => {
  for (const bug of ['no-sync-for-cpu', 'no-sync-for-device', 'no-dma-wmb'] as const) {
    const { batched } = await runBoth({ ...LAZY, load: LOAD }, { iommu: true, mode: 'recycle', bug });
    expect(batched.corrupted).toBe(0);
  }
  const { batched } = await runBoth(STRICT, { iommu: true, bug: 'no-dma-wmb' });
  expect(batched.corrupted).toBe(0);
});

test('iommu.passthrough=1 maps through dma-direct and stays batched', async () => {
  const { batched } = await runBoth({ arch: 'x86_64', cmdline: 'iommu.passthrough=1' }, { iommu: true });
  expect(batched.iotlbFlushes).toBe(0);
  expect(batched.verified).toBe(2000);
});
