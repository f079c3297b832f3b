// Rule: masks, kernel/dma/mapping.c (dma_set_mask, dma_set_coherent_mask, dma_supported),
// include/linux/dma-mapping.h (DMA_BIT_MASK, dma_set_mask_and_coherent, dma_get_mask) and
// kernel/dma/direct.c (dma_direct_supported). A mask of 32 bits or more is always accepted on
// dma-direct, so the article's "set 64, else 32" never fails; a smaller mask must cover
// min(last RAM page, zone_dma_limit); dma_set_mask() needs a dma_mask pointer, the coherent
// mask does not; an unset mask reads as 32-bit; dma_coerce_mask_and_coherent() points
// dev->dma_mask at dev->coherent_dma_mask (include/linux/dma-mapping.h), so the two masks are
// one u64 from then on.
import { expect, test } from 'vitest';
import {
  createMachine, DMA_BIT_MASK, dma_coerce_mask_and_coherent, dma_get_mask, dma_set_coherent_mask,
  dma_set_mask, dma_set_mask_and_coherent, EIO,
} from '../../src/index.js';

test('DMA_BIT_MASK(n) is GENMASK_ULL(n - 1, 0); 64 gives all ones', () => {
  expect(DMA_BIT_MASK(64)).toBe(2n ** 64n - 1n);
  expect(DMA_BIT_MASK(32)).toBe(0xffff_ffffn);
  expect(DMA_BIT_MASK(24)).toBe(0xff_ffffn);
});

test('dma_set_mask_and_coherent(64), then 32, both return 0 (the article\'s pattern)', async () => {
  const m = await createMachine({ seed: 1 });
  const dev = m.createDevice({ name: '0000:06:00.0', driver: 'mydrv' });
  expect(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64))).toBe(0);
  expect(dma_get_mask(dev)).toBe(DMA_BIT_MASK(64));
  expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(64));
  expect(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32))).toBe(0);
  expect(dma_get_mask(dev)).toBe(DMA_BIT_MASK(32));
  expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(32));
});

test('a 24-bit mask on the default arm64 machine (RAM from 1 GiB) is refused with -EIO', async () => {
  const m = await createMachine({ seed: 1 });
  const dev = m.createDevice({ name: 'isa0', driver: 'legacy' });
  expect(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(40))).toBe(0);
  expect(dma_set_mask(dev, DMA_BIT_MASK(24))).toBe(-EIO);
  expect(dma_set_coherent_mask(dev, DMA_BIT_MASK(24))).toBe(-EIO);
  expect(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(24))).toBe(-EIO);
  // A refused mask changes nothing.
  expect(dma_get_mask(dev)).toBe(DMA_BIT_MASK(40));
  expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(40));
});

test('a device without a dma_mask pointer: dma_set_mask -EIO, dma_set_coherent_mask 0, reads as 32-bit', async () => {
  const m = await createMachine({ seed: 1 });
  const dev = m.createDevice({ name: 'platdev', dmaMask: null });
  expect(dma_set_mask(dev, DMA_BIT_MASK(64))).toBe(-EIO);
  expect(dma_set_mask(dev, DMA_BIT_MASK(32))).toBe(-EIO);
  expect(dma_set_coherent_mask(dev, DMA_BIT_MASK(64))).toBe(0);
  expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(64));
  expect(dma_get_mask(dev)).toBe(DMA_BIT_MASK(32));
  // dma_set_mask_and_coherent stops at the streaming mask's failure.
  expect(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(48))).toBe(-EIO);
  expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(64));
});

test('a device that never set a mask reads as 32-bit (the kernel\'s default)', async () => {
  const m = await createMachine({ seed: 1 });
  const dev = m.createDevice({ name: 'fresh' });
  expect(dma_get_mask(dev)).toBe(DMA_BIT_MASK(32));
});

test('dma_coerce_mask_and_coherent() makes dev->dma_mask point at coherent_dma_mask: one mask from then on', async () => {
  const m = await createMachine({ seed: 1 });
  const dev = m.createDevice({ name: 'platdev', dmaMask: null });
  expect(dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(64))).toBe(0);
  expect(dma_get_mask(dev)).toBe(DMA_BIT_MASK(64));
  // dev->dma_mask == &dev->coherent_dma_mask: changing the coherent mask changes the streaming one.
  expect(dma_set_coherent_mask(dev, DMA_BIT_MASK(32))).toBe(0);
  expect(dma_get_mask(dev)).toBe(DMA_BIT_MASK(32));
});
