// Rule: the order of operations of kernel/dma/direct.h on a non-coherent arm64 device.
// Towards the device the cache is cleaned *in the map* (dma_direct_map_phys ->
// arch_sync_dma_for_device), so RAM is right before the device may read; towards the CPU the
// cache is invalidated *in unmap / sync_for_cpu* (dma_direct_unmap_phys ->
// dma_direct_sync_single_for_cpu -> arch_sync_dma_for_cpu), after the device wrote.
// arch/arm64/mm/dma-mapping.c: arch_sync_dma_for_device() cleans for every direction
// (FROM_DEVICE included; the lines stay valid), arch_sync_dma_for_cpu() returns at once for
// DMA_TO_DEVICE.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_map_single,
  dma_sync_single_for_cpu, dma_sync_single_for_device, dma_unmap_single, GFP_KERNEL,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine, LineState } from '../../src/machine.js';
import { delta, pattern, probe64 } from '../support/api-helpers.js';

const LEN = 512;
const LINES = LEN / 64;

async function setup(): Promise<{ m: Machine; dev: Device; buf: number; phys: number }> {
  const m = await createMachine({ seed: 12 });
  const dev = probe64(m, { name: 'trace0' });
  const buf = m.kmalloc(LEN, GFP_KERNEL);
  return { m, dev, buf, phys: m.virt_to_phys(buf) };
}

function states(m: Machine, phys: number): LineState[] {
  return Array.from({ length: LINES }, (_, i) => m.cache.lineState(phys + i * 64));
}
const all = (s: LineState): LineState[] => Array<LineState>(LINES).fill(s);

describe('kernel/dma/direct.h order of cache operations (non-coherent arm64)', () => {
  test('TO_DEVICE: map cleans before the device may read; unmap invalidates nothing', async () => {
    const { m, dev, buf, phys } = await setup();
    m.cpu.write(buf, pattern(LEN, 1));
    expect(states(m, phys)).toEqual(all('dirty'));
    expect(dev.dmaRead(phys, LEN)).not.toEqual(pattern(LEN, 1)); // before the map: not in RAM

    let h = 0;
    const dm = delta(m, () => { h = dma_map_single(dev, buf, LEN, DMA_TO_DEVICE); });
    expect(dm.cacheMaintenanceOps).toBe(LINES);
    expect(dm.cacheLinesCleaned).toBe(LINES);
    expect(dm.cacheLinesInvalidated).toBe(0);
    expect(dm.barriers).toBe(1);
    expect(states(m, phys)).toEqual(all('clean')); // cleaned, still valid
    expect(dev.dmaRead(h, LEN)).toEqual(pattern(LEN, 1)); // right after the map

    const du = delta(m, () => dma_unmap_single(dev, h, LEN, DMA_TO_DEVICE));
    expect(du.cacheMaintenanceOps).toBe(0); // arch_sync_dma_for_cpu: return for TO_DEVICE
    // dma_direct_sync_single_for_cpu() still calls arch_sync_dma_flush(): Linux 7.1's arm64
    // issues its dsb(sy) with nothing queued.
    expect(du.barriers).toBe(1);
    expect(states(m, phys)).toEqual(all('clean'));
  });

  test('FROM_DEVICE: map cleans (no invalidate), unmap invalidates after the device wrote', async () => {
    const { m, dev, buf, phys } = await setup();
    m.cpu.write(buf, pattern(LEN, 2)); // e.g. memset by the driver
    let h = 0;
    const dm = delta(m, () => { h = dma_map_single(dev, buf, LEN, DMA_FROM_DEVICE); });
    expect(dm.cacheLinesCleaned).toBe(LINES);
    expect(dm.cacheLinesInvalidated).toBe(0);
    expect(states(m, phys)).toEqual(all('clean'));

    dev.dmaWrite(h, pattern(LEN, 3));
    expect(states(m, phys)).toEqual(all('clean')); // the device does not touch the cache
    const du = delta(m, () => dma_unmap_single(dev, h, LEN, DMA_FROM_DEVICE));
    expect(du.cacheMaintenanceOps).toBe(LINES);
    expect(du.cacheLinesInvalidated).toBe(LINES);
    expect(du.cacheLinesCleaned).toBe(0);
    expect(du.barriers).toBe(1);
    expect(states(m, phys)).toEqual(all('invalid'));
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 3));
  });

  test('sync_for_cpu invalidates (not for TO_DEVICE); sync_for_device(FROM_DEVICE) still cleans', async () => {
    const { m, dev, buf, phys } = await setup();
    m.cpu.fill(buf, LEN, 0); // kzalloc-style: the lines are resident when the buffer is mapped
    const h = dma_map_single(dev, buf, LEN, DMA_FROM_DEVICE);
    expect(states(m, phys)).toEqual(all('clean'));
    dev.dmaWrite(h, pattern(LEN, 4));
    const dc = delta(m, () => dma_sync_single_for_cpu(dev, h, LEN, DMA_FROM_DEVICE));
    expect(dc.cacheLinesInvalidated).toBe(LINES);
    expect(dc.cacheMaintenanceOps).toBe(LINES);
    expect(states(m, phys)).toEqual(all('invalid'));
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 4));
    expect(states(m, phys)).toEqual(all('clean'));

    // The driver recycles the buffer: it writes into it, then gives it back for FROM_DEVICE.
    m.cpu.write(buf, pattern(LEN, 5));
    expect(states(m, phys)).toEqual(all('dirty'));
    const dd = delta(m, () => dma_sync_single_for_device(dev, h, LEN, DMA_FROM_DEVICE));
    expect(dd.cacheLinesCleaned).toBe(LINES); // arm64 cleans whatever the direction
    expect(dd.cacheLinesInvalidated).toBe(0);
    expect(states(m, phys)).toEqual(all('clean'));
    expect(dev.dmaRead(h, LEN)).toEqual(pattern(LEN, 5));

    // sync_for_cpu(TO_DEVICE) does nothing; BIDIRECTIONAL invalidates.
    const dt = delta(m, () => dma_sync_single_for_cpu(dev, h, LEN, DMA_TO_DEVICE));
    expect(dt.cacheMaintenanceOps).toBe(0);
    expect(states(m, phys)).toEqual(all('clean'));
    const db = delta(m, () => dma_sync_single_for_cpu(dev, h, LEN, DMA_BIDIRECTIONAL));
    expect(db.cacheLinesInvalidated).toBe(LINES);
    expect(states(m, phys)).toEqual(all('invalid'));
    dma_unmap_single(dev, h, LEN, DMA_FROM_DEVICE);
  });
});
