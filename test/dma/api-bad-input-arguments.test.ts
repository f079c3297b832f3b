// Arguments no kernel caller could pass to the DMA API's queries, syncs and frees (issue 13,
// items 10-12): a DmaSimError naming the function called and the argument, and nothing changed.
// -1 is DMA_MAPPING_ERROR, a handle; as a physical address it is refused like any negative one.
import { describe, test } from 'vitest';
import {
  createMachine, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_addressing_limited, dma_alloc_noncoherent, dma_alloc_pages,
  dma_free_noncoherent, dma_free_pages, dma_map_resource, dma_map_sgtable, dma_map_single, dma_mapping_error, dma_need_sync,
  dma_pool_alloc, dma_pool_create, dma_set_mask_and_coherent, dma_supported, dma_sync_single_range_for_cpu,
  dma_sync_single_range_for_device, DmaSimRangeError, DmaSimTypeError, GFP_KERNEL, type Machine,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import { refused } from '../support/refused.js';

async function setup(): Promise<{ m: Machine; dev: Device }> {
  const m = await createMachine({ config: { DMA_API_DEBUG: true } });
  const dev = m.createDevice({ name: '0000:05:00.0' });
  dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
  return { m, dev };
}

describe('the DMA API refuses what no kernel could pass', () => {
  test('dma_supported: a mask that is no bigint, a device that is none', async () => {
    const { m, dev } = await setup();
    refused(m, () => dma_supported(dev, 5 as never), 'dma_supported', 'mask', DmaSimTypeError);
    refused(m, () => dma_supported(null as never, 1n), 'dma_supported', 'dev', DmaSimTypeError);
  });

  test('dma_mapping_error and dma_need_sync: an address that is none', async () => {
    const { m, dev } = await setup();
    refused(m, () => dma_mapping_error(dev, 'x' as never), 'dma_mapping_error', 'addr', DmaSimTypeError);
    refused(m, () => dma_mapping_error(dev, -5), 'dma_mapping_error', 'addr', DmaSimRangeError);
    refused(m, () => dma_need_sync(dev, -1), 'dma_need_sync', 'addr', DmaSimRangeError);
  });

  test('dma_sync_single_range_for_*: the handle is checked before the offset is added', async () => {
    const { m, dev } = await setup();
    const h = dma_map_single(dev, m.kmalloc(64, GFP_KERNEL), 64, DMA_FROM_DEVICE);
    refused(m, () => dma_sync_single_range_for_cpu(dev, 'x' as never, 0, 4, DMA_FROM_DEVICE), 'dma_sync_single_range_for_cpu', 'addr', DmaSimTypeError);
    refused(m, () => dma_sync_single_range_for_device(dev, h, 2 ** 53 - 8, 4, DMA_FROM_DEVICE), 'dma_sync_single_range_for_device', 'addr + offset', DmaSimRangeError);
  });

  test('dma_free_pages and dma_free_noncoherent: a handle that is none', async () => {
    const { m, dev } = await setup();
    const pg = dma_alloc_pages(dev, 4096, DMA_TO_DEVICE, GFP_KERNEL)!;
    const nc = dma_alloc_noncoherent(dev, 4096, DMA_TO_DEVICE, GFP_KERNEL)!;
    refused(m, () => dma_free_pages(dev, 4096, pg.page, 'x' as never, DMA_TO_DEVICE), 'dma_free_pages', 'dma_handle', DmaSimTypeError);
    refused(m, () => dma_free_noncoherent(dev, 4096, nc.cpu_addr, -3, DMA_TO_DEVICE), 'dma_free_noncoherent', 'dma_handle', DmaSimRangeError);
  });

  test('dma_pool_alloc: a gfp that is a bigint', async () => {
    const { m, dev } = await setup();
    const pool = dma_pool_create('p', dev, 64, 64, 0)!;
    refused(m, () => dma_pool_alloc(pool, 1n as never), 'dma_pool_alloc', 'gfp', DmaSimTypeError);
  });

  test('dma_map_resource(dev, -1, ...): refused, not taken for DMA_MAPPING_ERROR', async () => {
    const { m, dev } = await setup();
    refused(m, () => dma_map_resource(dev, -1, 64, DMA_TO_DEVICE), 'dma_map_resource', 'phys', DmaSimRangeError);
  });

  test('the error names the call made, not the helper it used', async () => {
    const { m, dev } = await setup();
    refused(m, () => dma_addressing_limited(null as never), 'dma_addressing_limited', 'dev', DmaSimTypeError);
    refused(m, () => dma_map_sgtable(dev, { sgl: [null as never], nents: 1, orig_nents: 1 }, DMA_TO_DEVICE), 'dma_map_sgtable', 'sgl', DmaSimTypeError);
  });
});
