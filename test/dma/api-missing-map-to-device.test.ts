// Rule: a buffer the CPU wrote must be mapped with dma_map_single(..., DMA_TO_DEVICE) before the
// device reads it: dma_direct_map_phys() (kernel/dma/direct.h) calls arch_sync_dma_for_device()
// -> dcache_clean_poc (arch/arm64/mm/dma-mapping.c), pushing the dirty lines to RAM. Without
// the map (or with DMA_ATTR_SKIP_CPU_SYNC, which skips exactly that call) the device reads
// what RAM held before.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_ATTR_SKIP_CPU_SYNC, DMA_TO_DEVICE, dma_map_single, dma_mapping_error,
  dma_unmap_single, GFP_KERNEL,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';
import { pattern, probe64 } from '../support/api-helpers.js';

const LEN = 1500;

/** A TX buffer that has carried one packet already (so RAM holds old, known bytes). */
async function txSetup(): Promise<{ m: Machine; dev: Device; buf: number; old: Uint8Array; pkt: Uint8Array }> {
  const m = await createMachine({ seed: 3 });
  const dev = probe64(m, { name: '0000:02:00.0', driver: 'mynic' });
  const buf = m.kmalloc(LEN, GFP_KERNEL);
  const old = pattern(LEN, 10);
  m.cpu.write(buf, old);
  const h = dma_map_single(dev, buf, LEN, DMA_TO_DEVICE);
  expect(dev.dmaRead(h, LEN)).toEqual(old);
  dma_unmap_single(dev, h, LEN, DMA_TO_DEVICE);
  const pkt = pattern(LEN, 11);
  m.cpu.write(buf, pkt); // the new packet sits in dirty lines
  return { m, dev, buf, old, pkt };
}

describe('TX buffer handed to a non-coherent device (arm64)', () => {
  test('bug: no dma_map_single, the device reads the old bytes from RAM', async () => {
    const { m, dev, buf, old, pkt } = await txSetup();
    const phys = m.virt_to_phys(buf); // the driver programs the physical address itself
    const got = dev.dmaRead(phys, LEN);
    expect(got).toEqual(old);
    expect(got).not.toEqual(pkt);
  });

  test('bug: dma_map_single with DMA_ATTR_SKIP_CPU_SYNC, the device reads the old bytes', async () => {
    const { dev, buf, old } = await txSetup();
    const h = dma_map_single(dev, buf, LEN, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    expect(dma_mapping_error(dev, h)).toBe(0);
    expect(dev.dmaRead(h, LEN)).toEqual(old);
    dma_unmap_single(dev, h, LEN, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
  });

  test('fix: dma_map_single(DMA_TO_DEVICE) cleans, the device reads the new packet', async () => {
    const { dev, buf, pkt } = await txSetup();
    const h = dma_map_single(dev, buf, LEN, DMA_TO_DEVICE);
    expect(dma_mapping_error(dev, h)).toBe(0);
    expect(dev.dmaRead(h, LEN)).toEqual(pkt);
    dma_unmap_single(dev, h, LEN, DMA_TO_DEVICE);
  });
});
