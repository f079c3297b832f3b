// The NIC workload's by-hand rings behind the IOMMU (dmasim nic --iommu --api per-call, whose
// packets map and unmap in lockstep, so the counts are exact): every buffer is an IOVA in the NIC's
// domain, strict mode syncs the IOTLB on every unmap (drivers/iommu/dma-iommu.c
// __iommu_dma_unmap()), lazy mode once per full flush queue, and the cache maintenance of a
// non-coherent NIC is still the driver's business: a missing sync corrupts packets as without it.
import { expect, test } from 'vitest';
import { createMachine } from '../../src/machine.js';
import { runNic, type NicOptions } from '../../src/workloads/nic.js';

async function nic(cmdline: string, opts: Partial<NicOptions> = {}) {
  const m = await createMachine({ seed: 3, cmdline });
  return runNic(m, { packets: 2000, ringSize: 64, iommu: true, api: 'per-call', ...opts });
}

test('strict: every packet verified, one IOTLB sync per unmap (RX and TX)', async () => {
  const r = await nic('iommu.strict=1');
  expect(r.api).toBe('per-call');
  expect([r.verified, r.corrupted, r.faults]).toEqual([4000, 0, 0]);
  expect(r.iotlbFlushes).toBe(4000);
});

test('lazy: every packet verified, one flush per 255 queued unmaps', async () => {
  const r = await nic('iommu.strict=0');
  expect([r.verified, r.corrupted, r.faults]).toEqual([4000, 0, 0]);
  expect(r.iotlbFlushes).toBe(Math.floor(4000 / 255));
});

test('recycled buffers map once: no IOTLB traffic per packet', async () => {
  const r = await nic('iommu.strict=1', { mode: 'recycle' });
  expect([r.verified, r.corrupted]).toEqual([4000, 0]);
  expect(r.iotlbFlushes).toBeLessThan(300);
});

test('a missing dma_sync_single_for_cpu still corrupts RX on non-coherent arm64', async () => {
  const r = await nic('iommu.strict=1', { mode: 'recycle', bug: 'no-sync-for-cpu' });
  expect(r.corrupted).toBeGreaterThan(0);
});
