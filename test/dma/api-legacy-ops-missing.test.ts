// Rule: kernel/dma/mapping.c treats most dma_map_ops callbacks as optional: no map_phys is
// DMA_MAPPING_ERROR, no alloc is NULL, no unmap/sync/free callback means nothing is done, no
// dma_supported accepts every mask. map_sg is the exception: __dma_map_sg_attrs() calls it
// unconditionally, so ops without it could never reach dma_map_sg() in a running kernel, and
// dmasim refuses that call with a typed error instead of returning something.
import { expect, test } from 'vitest';
import {
  createMachine, DMA_MAPPING_ERROR, DMA_TO_DEVICE, DmaSimRangeError, dma_alloc_coherent, dma_map_sg, dma_map_single,
  dma_sync_single_for_cpu, dma_unmap_single, GFP_KERNEL, sg_init_table, sg_set_buf,
} from '../../src/index.js';

test('ops with no callbacks at all: errors where the kernel returns them, nothing else', async () => {
  const m = await createMachine({ seed: 2 });
  const dev = m.createDevice({ name: 'bare0', ops: {} });
  const buf = m.kmalloc(512, GFP_KERNEL);
  m.cpu.write(buf, new Uint8Array(512).fill(7));
  const before = m.stats();
  expect(dma_map_single(dev, buf, 512, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
  expect(dma_alloc_coherent(dev, 4096, GFP_KERNEL)).toBeNull();
  dma_unmap_single(dev, 0x1000, 512, DMA_TO_DEVICE);
  dma_sync_single_for_cpu(dev, 0x1000, 512, DMA_TO_DEVICE);
  const after = m.stats();
  expect(after.cacheMaintenanceOps).toBe(before.cacheMaintenanceOps);
  expect(after.dmaOps).toBe(before.dmaOps);
  const sgl = sg_init_table(1);
  sg_set_buf(sgl[0]!, buf, 512);
  expect(() => dma_map_sg(dev, sgl, 1, DMA_TO_DEVICE)).toThrow(DmaSimRangeError);
  expect(() => dma_map_sg(dev, sgl, 1, DMA_TO_DEVICE)).toThrow(/map_sg.*unconditionally/);
});
