// Rule: kernel/dma/mapping.c dispatches to a device's struct dma_map_ops (include/linux/
// dma-map-ops.h) when get_dma_ops(dev) is non-NULL and no IOMMU is attached (dma_go_direct()
// returns false): dma_map_phys -> ops->map_phys(dev, phys, size, dir, attrs), dma_unmap_phys ->
// ops->unmap_phys(dev, addr, size, dir, attrs), __dma_map_sg_attrs -> ops->map_sg(dev, sg, nents,
// dir, attrs), __dma_sync_single_for_cpu -> ops->sync_single_for_cpu(dev, addr, size, dir), ...
// dma-direct, and with it the arch cache hooks, does not run at all: the bus owns coherency.
// dma_setup_need_sync() skips syncs for ops without any sync callback.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_ATTR_WEAK_ORDERING, DMA_BIDIRECTIONAL, DMA_BIT_MASK, DMA_FROM_DEVICE,
  DMA_TO_DEVICE, dma_map_sg, dma_map_single, dma_set_mask, dma_sync_sg_for_cpu,
  dma_sync_sg_for_device, dma_sync_single_for_cpu, dma_sync_single_for_device, dma_unmap_sg,
  dma_unmap_single, GFP_KERNEL, sg_dma_address, sg_init_table, sg_phys, sg_set_buf, type DmaMapOps,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';
import type { Scatterlist } from '../../src/dma/scatterlist.js';
import { delta, pattern } from '../support/api-helpers.js';

/** The tiny bus: DMA address = physical address + BUS_OFFSET. */
const BUS_OFFSET = 0x8000_0000_0000;

type Call = [string, ...unknown[]];

function tinyBus(calls: Call[]): DmaMapOps {
  return {
    map_phys(dev, phys, size, dir, attrs) { calls.push(['map_phys', dev, phys, size, dir, attrs]); return phys + BUS_OFFSET; },
    unmap_phys(dev, addr, size, dir, attrs) { calls.push(['unmap_phys', dev, addr, size, dir, attrs]); },
    map_sg(dev, sgl, nents, dir, attrs) {
      calls.push(['map_sg', dev, sgl, nents, dir, attrs]);
      for (let i = 0; i < nents; i++) {
        const sg = sgl[i] as Scatterlist;
        sg.dma_address = sg_phys(sg) + BUS_OFFSET;
        sg.dma_length = sg.length;
      }
      return nents;
    },
    unmap_sg(dev, sgl, nents, dir, attrs) { calls.push(['unmap_sg', dev, sgl, nents, dir, attrs]); },
    sync_single_for_cpu(dev, addr, size, dir) { calls.push(['sync_single_for_cpu', dev, addr, size, dir]); },
    sync_single_for_device(dev, addr, size, dir) { calls.push(['sync_single_for_device', dev, addr, size, dir]); },
    sync_sg_for_cpu(dev, sgl, nents, dir) { calls.push(['sync_sg_for_cpu', dev, sgl, nents, dir]); },
    sync_sg_for_device(dev, sgl, nents, dir) { calls.push(['sync_sg_for_device', dev, sgl, nents, dir]); },
  };
}

async function setup(): Promise<{ m: Machine; dev: Device; calls: Call[] }> {
  const m = await createMachine({ seed: 13 });
  const calls: Call[] = [];
  const dev = m.createDevice({ name: 'tiny0', driver: 'tinybus', ops: tinyBus(calls) });
  expect(dma_set_mask(dev, DMA_BIT_MASK(64))).toBe(0); // ops without dma_supported: accepted
  return { m, dev, calls };
}

describe('a device on a bus with its own dma_map_ops', () => {
  test('dma_map_single / dma_sync_single_* / dma_unmap_single reach the callbacks with the kernel\'s arguments', async () => {
    const { m, dev, calls } = await setup();
    const buf = m.kmalloc(1024, GFP_KERNEL);
    const phys = m.virt_to_phys(buf);
    m.cpu.write(buf, pattern(1024, 1));
    let h = 0;
    const d = delta(m, () => {
      h = dma_map_single(dev, buf + 64, 512, DMA_TO_DEVICE, DMA_ATTR_WEAK_ORDERING);
      dma_sync_single_for_cpu(dev, h, 512, DMA_TO_DEVICE);
      dma_sync_single_for_device(dev, h, 512, DMA_TO_DEVICE);
      dma_unmap_single(dev, h, 512, DMA_TO_DEVICE, DMA_ATTR_WEAK_ORDERING);
    });
    expect(h).toBe(phys + 64 + BUS_OFFSET);
    expect(calls).toEqual([
      ['map_phys', dev, phys + 64, 512, DMA_TO_DEVICE, DMA_ATTR_WEAK_ORDERING],
      ['sync_single_for_cpu', dev, h, 512, DMA_TO_DEVICE],
      ['sync_single_for_device', dev, h, 512, DMA_TO_DEVICE],
      ['unmap_phys', dev, h, 512, DMA_TO_DEVICE, DMA_ATTR_WEAK_ORDERING],
    ]);
    // dma-direct's cache maintenance did not run: the CPU's lines are still dirty.
    expect(d.cacheMaintenanceOps).toBe(0);
    expect(d.barriers).toBe(0);
    expect(d.dmaOps).toBe(0);
    expect(m.cache.lineState(phys + 64)).toBe('dirty');
  });

  test('dma_map_sg / dma_sync_sg_* / dma_unmap_sg reach the callbacks, with the original nents', async () => {
    const { m, dev, calls } = await setup();
    const sgl = sg_init_table(3);
    for (let i = 0; i < 3; i++) {
      const b = m.kmalloc(4096, GFP_KERNEL);
      m.cpu.write(b, pattern(4096, i));
      sg_set_buf(sgl[i]!, b, 4096);
    }
    let n = 0;
    const d = delta(m, () => {
      n = dma_map_sg(dev, sgl, 3, DMA_FROM_DEVICE);
      dma_sync_sg_for_cpu(dev, sgl, 3, DMA_FROM_DEVICE);
      dma_sync_sg_for_device(dev, sgl, 3, DMA_FROM_DEVICE);
      dma_unmap_sg(dev, sgl, 3, DMA_FROM_DEVICE);
    });
    expect(n).toBe(3);
    for (const sg of sgl) expect(sg_dma_address(sg)).toBe(sg_phys(sg) + BUS_OFFSET);
    expect(calls).toEqual([
      ['map_sg', dev, sgl, 3, DMA_FROM_DEVICE, 0],
      ['sync_sg_for_cpu', dev, sgl, 3, DMA_FROM_DEVICE],
      ['sync_sg_for_device', dev, sgl, 3, DMA_FROM_DEVICE],
      ['unmap_sg', dev, sgl, 3, DMA_FROM_DEVICE, 0],
    ]);
    expect(d.cacheMaintenanceOps).toBe(0);
    expect(d.barriers).toBe(0);
  });

  test('ops without any sync callback: dma_set_mask makes the sync calls no-ops', async () => {
    const m = await createMachine({ seed: 13 });
    const calls: Call[] = [];
    const full = tinyBus(calls);
    const ops: DmaMapOps = { map_phys: full.map_phys!, unmap_phys: full.unmap_phys! };
    const dev = m.createDevice({ name: 'tiny1', driver: 'tinybus', ops });
    expect(dma_set_mask(dev, DMA_BIT_MASK(64))).toBe(0);
    expect(dev.dma_skip_sync).toBe(true);
    const buf = m.kmalloc(256, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 256, DMA_BIDIRECTIONAL);
    const d = delta(m, () => {
      dma_sync_single_for_cpu(dev, h, 256, DMA_BIDIRECTIONAL);
      dma_sync_single_for_device(dev, h, 256, DMA_BIDIRECTIONAL);
    });
    dma_unmap_single(dev, h, 256, DMA_BIDIRECTIONAL);
    expect(calls.map((c) => c[0])).toEqual(['map_phys', 'unmap_phys']);
    expect(d.cacheMaintenanceOps).toBe(0);
  });
});
