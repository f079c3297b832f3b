// DMA_ATTR_CC_SHARED (kernel/dma/direct.h dma_direct_map_phys, v7.1): memory already shared with
// the host in a confidential guest. Without a forced swiotlb the attribute is an error; with one
// the buffer is not bounced (it needs no decryption) and maps at its own address. GFP_DMA keeps
// the buffers below 4 GiB, where the default 32-bit mask reaches.
import { expect, test } from 'vitest';
import { createMachine } from '../../src/machine.js';
import { dma_map_single, DMA_ATTR_CC_SHARED, DMA_MAPPING_ERROR, DMA_TO_DEVICE, GFP_DMA, GFP_KERNEL } from '../../src/index.js';

test('CC_SHARED fails without swiotlb=force and maps in place with it', async () => {
  const plain = await createMachine();
  const dev = plain.createDevice({ name: 'cc0' });
  expect(dma_map_single(dev, plain.kmalloc(256, GFP_KERNEL | GFP_DMA), 256, DMA_TO_DEVICE, DMA_ATTR_CC_SHARED)).toBe(DMA_MAPPING_ERROR);

  const forced = await createMachine({ cmdline: 'swiotlb=1024,force' });
  const dev2 = forced.createDevice({ name: 'cc1' });
  const buf = forced.kmalloc(256, GFP_KERNEL | GFP_DMA);
  const used = forced.swiotlb?.totalUsed;
  expect(dma_map_single(dev2, buf, 256, DMA_TO_DEVICE, DMA_ATTR_CC_SHARED)).toBe(forced.virt_to_phys(buf));
  expect(forced.swiotlb?.totalUsed).toBe(used);
});
