// Rule: DMA_ATTR_SKIP_CPU_SYNC (Documentation/core-api/dma-attributes.rst) skips the arch cache
// maintenance at map and at unmap: dma_direct_map_phys() (kernel/dma/direct.h) does not call
// arch_sync_dma_for_device(), and dma_direct_unmap_phys() does not call
// dma_direct_sync_single_for_cpu(). The driver takes over ownership transfers itself; if it
// does not sync, stale data is visible in both directions.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_ATTR_SKIP_CPU_SYNC, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE,
  dma_map_single, dma_mapping_error, dma_sync_single_for_cpu, dma_unmap_single, GFP_KERNEL,
} from '../../src/index.js';
import { delta, pattern, probe64 } from '../support/api-helpers.js';

const LEN = 4096;

async function setup() {
  const m = await createMachine({ seed: 31 });
  const dev = probe64(m, { name: 'skipdev' });
  const buf = m.kmalloc(LEN, GFP_KERNEL);
  return { m, dev, buf };
}

describe('DMA_ATTR_SKIP_CPU_SYNC on a non-coherent arm64 device', () => {
  test('map TO_DEVICE: no DC ops, no barrier, and the device reads stale RAM', async () => {
    const { m, dev, buf } = await setup();
    m.cpu.write(buf, pattern(LEN, 1));
    let h = 0;
    const dm = delta(m, () => { h = dma_map_single(dev, buf, LEN, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC); });
    expect(dma_mapping_error(dev, h)).toBe(0);
    expect(dm.cacheMaintenanceOps).toBe(0);
    expect(dm.barriers).toBe(0);
    expect(dev.dmaRead(h, LEN)).toEqual(new Uint8Array(LEN));
    const du = delta(m, () => dma_unmap_single(dev, h, LEN, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC));
    expect(du.cacheMaintenanceOps).toBe(0);
  });

  test('unmap FROM_DEVICE: no DC ops, and the CPU keeps reading its cached copy', async () => {
    const { m, dev, buf } = await setup();
    m.cpu.write(buf, pattern(LEN, 2));
    const h = dma_map_single(dev, buf, LEN, DMA_FROM_DEVICE); // a normal map: cleans, lines stay valid
    expect(m.cache.lineState(m.virt_to_phys(buf))).toBe('clean');
    dev.dmaWrite(h, pattern(LEN, 3));
    const du = delta(m, () => dma_unmap_single(dev, h, LEN, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC));
    expect(du.cacheMaintenanceOps).toBe(0);
    expect(du.barriers).toBe(0);
    expect(du.cacheLinesInvalidated).toBe(0);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 2)); // stale
  });

  test('with SKIP_CPU_SYNC, an explicit dma_sync_single_for_cpu() still does the job', async () => {
    const { m, dev, buf } = await setup();
    m.cpu.write(buf, pattern(LEN, 4));
    const h = dma_map_single(dev, buf, LEN, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
    expect(dev.dmaRead(h, LEN)).not.toEqual(pattern(LEN, 4));
    dev.dmaWrite(h, pattern(LEN, 5));
    const ds = delta(m, () => dma_sync_single_for_cpu(dev, h, LEN, DMA_BIDIRECTIONAL));
    expect(ds.cacheMaintenanceOps).toBe(LEN / 64);
    dma_unmap_single(dev, h, LEN, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 5));
  });

  test('without the attribute the same calls do maintain the cache and the data is right', async () => {
    const { m, dev, buf } = await setup();
    m.cpu.write(buf, pattern(LEN, 6));
    let h = 0;
    const dm = delta(m, () => { h = dma_map_single(dev, buf, LEN, DMA_TO_DEVICE); });
    expect(dm.cacheMaintenanceOps).toBe(LEN / 64);
    expect(dm.barriers).toBe(1);
    expect(dev.dmaRead(h, LEN)).toEqual(pattern(LEN, 6));
    dma_unmap_single(dev, h, LEN, DMA_TO_DEVICE);
    const h2 = dma_map_single(dev, buf, LEN, DMA_FROM_DEVICE);
    m.cpu.read(buf, LEN);
    dev.dmaWrite(h2, pattern(LEN, 7));
    const du = delta(m, () => dma_unmap_single(dev, h2, LEN, DMA_FROM_DEVICE));
    expect(du.cacheMaintenanceOps).toBe(LEN / 64);
    expect(du.cacheLinesInvalidated).toBe(LEN / 64);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 7));
  });
});
