// dev.map_direct caches kernel/dma/mapping.c's dma_map_direct() (dma_go_direct(): no dma-iommu,
// no dma_map_ops) for every map and unmap. Whatever the device and whatever mask calls follow,
// the cached value equals the predicate computed afresh.
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { DMA_BIT_MASK } from '../../src/include/dma-mapping.js';
import { dma_coerce_mask_and_coherent, dma_set_coherent_mask, dma_set_mask, dma_set_mask_and_coherent } from '../../src/dma/mapping.js';
import { smallMachine } from '../support/helpers.js';

const machines = {
  x86_64: await smallMachine({ arch: 'x86_64' }),
  arm64: await smallMachine({ arch: 'arm64' }),
  passthrough: await smallMachine({ arch: 'arm64', cmdline: 'iommu.passthrough=1' }),
};
const setters = [dma_set_mask, dma_set_coherent_mask, dma_set_mask_and_coherent, dma_coerce_mask_and_coherent];
let n = 0;

test.prop([
  fc.constantFrom<keyof typeof machines>('x86_64', 'arm64', 'passthrough'),
  fc.constantFrom<'none' | 'ops' | 'iommu'>('none', 'ops', 'iommu'),
  fc.option(fc.integer({ min: 24, max: 64 }), { nil: undefined }),
  fc.array(fc.tuple(fc.nat({ max: setters.length - 1 }), fc.integer({ min: 0, max: 64 })), { maxLength: 6 }),
], { seed: 1818, numRuns: 200 })('the cached dma_map_direct() equals dma_go_direct() recomputed', (arch, backend, limitBits, calls) => {
  const m = machines[arch];
  const dev = m.createDevice({
    name: `md${n++}`,
    ...(backend === 'ops' ? { ops: {} } : {}),
    ...(backend === 'iommu' ? { iommu: true } : {}),
    ...(limitBits === undefined ? {} : { busDmaLimit: DMA_BIT_MASK(limitBits) }),
  });
  const fresh = (): boolean => !dev.dma_iommu && dev.dma_ops === null;
  expect(dev.map_direct).toBe(fresh());
  for (const [which, bits] of calls) {
    (setters[which] as typeof dma_set_mask)(dev, DMA_BIT_MASK(bits));
    expect(dev.map_direct).toBe(fresh());
  }
});
