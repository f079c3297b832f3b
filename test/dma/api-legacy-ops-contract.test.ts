// A legacy struct dma_map_ops whose callbacks break their contract (issue 13, item 6):
// ops->map_sg returning more segments than it was given entries, ops->map_phys returning
// something that is no DMA address, ops->alloc returning memory the CPU cannot reach. The
// call the user made is refused with a DmaSimError naming it and the broken callback, before
// dma-debug, the data-aware checker or a dma_pool sees the result.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_BIT_MASK, DMA_TO_DEVICE, dma_alloc_coherent, dma_map_sg, dma_map_sgtable, dma_map_single, dma_pool_alloc,
  dma_pool_create, dma_set_mask, DmaSimRangeError, GFP_KERNEL, sg_init_table, sg_phys, sg_set_buf, type DmaMapOps, type Machine,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';

async function withOps(ops: DmaMapOps): Promise<{ m: Machine; dev: Device }> {
  const m = await createMachine({ dataCheck: true, config: { DMA_API_DEBUG: true } });
  const dev = m.createDevice({ name: 'bad0', driver: 'badbus', ops });
  expect(dma_set_mask(dev, DMA_BIT_MASK(64))).toBe(0);
  return { m, dev };
}

describe('dma_map_ops callbacks that break their contract', () => {
  test('map_sg returning more segments than nents', async () => {
    const { m, dev } = await withOps({
      map_sg(_dev, sgl, nents) {
        for (let i = 0; i < nents; i++) { sgl[i]!.dma_address = sg_phys(sgl[i]!); sgl[i]!.dma_length = sgl[i]!.length; }
        return nents + 1;
      },
    });
    const sgl = sg_init_table(1);
    sg_set_buf(sgl[0]!, m.kmalloc(256, GFP_KERNEL), 256);
    expect(() => dma_map_sg(dev, sgl, 1, DMA_TO_DEVICE)).toThrow(DmaSimRangeError);
    expect(() => dma_map_sg(dev, sgl, 1, DMA_TO_DEVICE)).toThrow(/^dma_map_sg: dev .*dma_map_ops\.map_sg returned 2 for 1 entries/);
    expect(() => dma_map_sgtable(dev, { sgl, nents: 1, orig_nents: 1 }, DMA_TO_DEVICE)).toThrow(/^dma_map_sgtable: .*map_sg returned 2/);
    expect(m.dmaDebug).not.toBeNull();
    expect(m.debugfs.read('/sys/kernel/debug/dma-api/num_free_entries')).toBe(m.debugfs.read('/sys/kernel/debug/dma-api/min_free_entries'));
  });

  test('map_phys returning a string or a negative address', async () => {
    for (const bad of ['0x1000', -4096, 1.5]) {
      const { m, dev } = await withOps({ map_phys: () => bad as never });
      expect(() => dma_map_single(dev, m.kmalloc(64, GFP_KERNEL), 64, DMA_TO_DEVICE)).toThrow(/^dma_map_single: dev .*dma_map_ops\.map_phys returned/);
    }
  });

  test('alloc returning an address no CPU mapping backs: refused for dma_alloc_coherent and dma_pool_alloc alike', async () => {
    const { dev } = await withOps({ alloc: () => ({ cpu_addr: 0x1234, dma_handle: 0x1000 }) });
    expect(() => dma_alloc_coherent(dev, 4096, GFP_KERNEL)).toThrow(/^dma_alloc_coherent: dev .*dma_map_ops\.alloc returned/);
    const pool = dma_pool_create('p', dev, 64, 64, 0)!;
    expect(() => dma_pool_alloc(pool, GFP_KERNEL)).toThrow(DmaSimRangeError);
  });
});
