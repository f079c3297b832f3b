// The batched path (--api batched) runs only where it reproduces the per-call path: with
// dma-debug, the data-aware checker, a store buffer, any buffer that would bounce through
// swiotlb, or an IOMMU the batched path cannot follow exactly, the run falls back to the
// per-call path and the report says why.
import { expect, test } from 'vitest';
import { createMachine, type MachineOptions } from '../../src/machine.js';
import { runNic, type NicOptions } from '../../src/workloads/nic.js';

async function nic(machine: MachineOptions, opts: Partial<NicOptions>) {
  const m = await createMachine({ seed: 3, ...machine });
  return runNic(m, { packets: 300, ringSize: 32, api: 'batched', ...opts });
}

test('the batched path runs where it is valid', async () => {
  const r = await nic({}, {});
  expect(r.api).toBe('batched');
  expect(r.apiFallback).toBeNull();
  expect(r.verified).toBe(600);
});

test('asking for the per-call path takes it, with no fallback to report', async () => {
  const r = await nic({}, { api: 'per-call' });
  expect(r.api).toBe('per-call');
  expect(r.apiFallback).toBeNull();
});

const fallbacks: [string, MachineOptions, Partial<NicOptions>, RegExp][] = [
  ['CONFIG_DMA_API_DEBUG', { config: { DMA_API_DEBUG: true } }, {}, /DMA_API_DEBUG/],
  ['the data-aware checker', { dataCheck: true }, {}, /data-aware checker/],
  ['store reordering', { load: { storeReordering: 0.5 } }, {}, /store/],
  ['swiotlb=force on a non-coherent NIC', { cmdline: 'swiotlb=force' }, {}, /swiotlb=force on a non-coherent device/],
  ['swiotlb=force with dma-debug', { arch: 'x86_64', cmdline: 'swiotlb=force', config: { DMA_API_DEBUG: true } }, {}, /swiotlb=force with dma-debug/],
  ['swiotlb=force with rings that could fill the pool', { arch: 'x86_64', cmdline: 'swiotlb=256,force' }, { ringSize: 64, packetSize: 2100 }, /fill the pool/],
  ['a 32-bit mask with buffers above 4 GiB (dma_capable)', {}, { dmaBits: 32 }, /bounces through swiotlb/],
  ['a small kmalloc buffer that is not whole cache lines (kmalloc bounce)', {}, { packetSize: 70 }, /bounces through swiotlb/],
  ['the same, recycled (mapped DMA_BIDIRECTIONAL)', {}, { packetSize: 70, mode: 'recycle' }, /bounces through swiotlb/],
  ['a non-coherent device behind an IOMMU (its cache maintenance is priced where the IOMMU timers read the clock)', {}, { iommu: true }, /non-coherent device behind an IOMMU/],
  ['an IOMMU with dirty write-backs priced', { arch: 'x86_64', costModel: { writeBackNs: 1 } }, { iommu: true }, /write-backs/],
  ['an IOMMU and buffers across its pages', { arch: 'x86_64' }, { iommu: true, packetSize: 9000 }, /crosses an IOMMU page/],
];

for (const [name, machine, opts, reason] of fallbacks) {
  test(`falls back to per-call: ${name}`, async () => {
    const r = await nic(machine, opts);
    expect(r.api).toBe('per-call');
    expect(r.apiFallback).toMatch(reason);
    expect(r.corrupted).toBe(0);
    expect(r.verified).toBe(600);
  });
}

test('x86_64 does not bounce small kmalloc buffers, so 70 B stays batched there', async () => {
  const r = await nic({ arch: 'x86_64' }, { packetSize: 70 });
  expect(r.api).toBe('batched');
  expect(r.verified).toBe(600);
});

test('the largest rings and packets the CLI accepts fit the ring area and stay batched', async () => {
  // 8192 buffers of 9000 B take 128 MiB (order-2 pages each): a machine with the RAM for them.
  const ram = [{ base: 0x4000_0000, size: 64 << 20 }, { base: 0x1_0000_0000, size: 256 << 20 }];
  const r = await nic({ ram }, { ringSize: 4096, packetSize: 9000, packets: 50 });
  expect(r.apiFallback).toBeNull();
  expect(r.api).toBe('batched');
  expect(r.verified).toBe(100);
});
