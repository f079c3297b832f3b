// With CONFIG_DMA_API_DEBUG the NIC workload's batched path makes the driver's DMA API calls per
// packet, hooks and all (src/workloads/nic-batched.ts), and leaves the machine as the per-call path
// does: the same report, counters, model time, kernel log (the pool's "grown" lines stamped alike),
// RAM and cache, and the same dma-debug state: every debugfs count and the dump of the entries
// still live (kernel/dma/debug.c dump_show()), in hash-bucket and insertion order.
import { expect, test } from 'vitest';
import type { Machine, MachineOptions } from '../../src/machine.js';
import type { NicOptions } from '../../src/workloads/nic.js';
import { LOAD, runBoth } from '../support/workload-nic-batched-helpers.js';
import { DMA_API } from '../support/debug-helpers.js';

const DEBUG: MachineOptions = { arch: 'x86_64', config: { DMA_API_DEBUG: true } };
const FILES = ['error_count', 'num_free_entries', 'min_free_entries', 'nr_total_entries', 'dump'] as const;

function debugState(m: Machine): string[] {
  return FILES.map((f) => m.debugfs.read(`${DMA_API}/${f}`));
}

const cases: [string, MachineOptions, Partial<NicOptions>][] = [
  ['x86_64, map, 64 B', DEBUG, {}],
  ['x86_64, recycle under load, 1500 B (the syncs find their entries by containment)', { ...DEBUG, load: LOAD }, { mode: 'recycle', packetSize: 1500 }],
  ['x86_64, a pool of 32 entries that grows during the run', { ...DEBUG, cmdline: 'dma_debug_entries=32' }, { burst: 5 }],
  ['x86_64, behind a strict IOMMU as well', { ...DEBUG, cmdline: 'iommu.strict=1' }, { iommu: true }],
  ['arm64, a coherent NIC, pool descriptors', { config: { DMA_API_DEBUG: true } }, { coherent: true, descriptors: 'pool', packetSize: 200 }],
];

for (const [name, machine, opts] of cases) {
  test(name, async () => {
    const { batched, machines: [a, b] } = await runBoth(machine, opts);
    expect(batched.verified).toBe(2000);
    expect(debugState(b)).toEqual(debugState(a));
    expect(Number(b.debugfs.read(`${DMA_API}/error_count`))).toBe(0);
  });
}

test('the pool that grows says so on both paths, at the same model time', async () => {
  const { machines: [a, b] } = await runBoth({ ...DEBUG, cmdline: 'dma_debug_entries=32' }, {});
  const grown = (m: Machine): string[] => m.dmesg().filter((l) => l.includes('dma_debug_entry pool grown'));
  expect(grown(a).length).toBeGreaterThan(0);
  expect(grown(b)).toEqual(grown(a));
});

test('the injected bugs do the same on both paths with dma-debug (a coherent device)', async () => {
  for (const bug of ['no-sync-for-cpu', 'no-sync-for-device', 'no-dma-wmb'] as const) {
    const { machines: [a, b] } = await runBoth({ ...DEBUG, load: LOAD }, { mode: 'recycle', bug });
    expect(debugState(b)).toEqual(debugState(a));
  }
});
