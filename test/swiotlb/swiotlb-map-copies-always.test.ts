// KERNEL.md §9 item 1 / §3.9, kernel/dma/swiotlb.c:
//   swiotlb_tbl_map_single()          swiotlb_bounce(dev, tlb_addr, mapping_size, DMA_TO_DEVICE)
//                                     unconditionally: FROM_DEVICE and SKIP_CPU_SYNC included
//   __swiotlb_tbl_unmap_single()      bounce -> original only for FROM_DEVICE/BIDIRECTIONAL and
//                                     not with DMA_ATTR_SKIP_CPU_SYNC
//   __swiotlb_sync_single_for_device() original -> bounce only for TO_DEVICE/BIDIRECTIONAL
//   __swiotlb_sync_single_for_cpu()    bounce -> original only for FROM_DEVICE/BIDIRECTIONAL
// Every copy is a CPU memcpy, counted in stats().bounceBytes.
import { describe, expect, it } from 'vitest';
import {
  createMachine, DMA_ATTR_SKIP_CPU_SYNC, DMA_BIDIRECTIONAL, DMA_BIT_MASK, DMA_FROM_DEVICE,
  DMA_TO_DEVICE, dma_map_single, dma_mapping_error, dma_set_mask, dma_sync_single_for_cpu,
  dma_sync_single_for_device, dma_unmap_single, GFP_KERNEL, type DmaDirection,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';
import { delta, pattern } from '../support/api-helpers.js';

const LEN = 1500;

async function setup(): Promise<{ m: Machine; dev: Device; buf: number }> {
  const m = await createMachine({ seed: 11 });
  const dev = m.createDevice({ name: '0000:04:00.0', driver: 'bnc' });
  expect(dma_set_mask(dev, DMA_BIT_MASK(32))).toBe(0);
  const buf = m.kmalloc(LEN, GFP_KERNEL);
  m.cpu.write(buf, pattern(LEN, 31));
  return { m, dev, buf };
}

function mapCopies(m: Machine, dev: Device, buf: number, dir: DmaDirection, attrs: number): { h: number; bytes: number } {
  let h = 0;
  const d = delta(m, () => { h = dma_map_single(dev, buf, LEN, dir, attrs); });
  expect(dma_mapping_error(dev, h)).toBe(0);
  expect(m.swiotlb?.is_swiotlb_buffer(h)).toBe(true);
  return { h, bytes: d.bounceBytes };
}

describe('swiotlb copies: when and which way', () => {
  it.each([
    ['DMA_TO_DEVICE', DMA_TO_DEVICE, 0],
    ['DMA_FROM_DEVICE', DMA_FROM_DEVICE, 0],
    ['DMA_BIDIRECTIONAL', DMA_BIDIRECTIONAL, 0],
    ['DMA_TO_DEVICE + SKIP_CPU_SYNC', DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC],
    ['DMA_FROM_DEVICE + SKIP_CPU_SYNC', DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC],
  ] as const)('map %s copies original -> bounce (mapping_size bytes)', async (_name, dir, attrs) => {
    const { m, dev, buf } = await setup();
    const { h, bytes } = mapCopies(m, dev, buf, dir, attrs);
    expect(bytes).toBe(LEN);
    // With SKIP_CPU_SYNC the bounce slot was not cleaned, so the device (non-coherent) reads
    // RAM that the copy has not reached yet; cleaning shows the copy did happen.
    if (attrs & DMA_ATTR_SKIP_CPU_SYNC) m.cache.clean(h, LEN);
    expect(dev.dmaRead(h, LEN)).toEqual(pattern(LEN, 31));
  });

  it('unmap FROM_DEVICE with SKIP_CPU_SYNC copies nothing back; without it, mapping_size bytes', async () => {
    const { m, dev, buf } = await setup();
    const { h } = mapCopies(m, dev, buf, DMA_FROM_DEVICE, 0);
    dev.dmaWrite(h, pattern(LEN, 32));
    const skip = delta(m, () => dma_unmap_single(dev, h, LEN, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC));
    expect(skip.bounceBytes).toBe(0);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 31));
    expect(m.swiotlb?.totalUsed).toBe(0); // released all the same

    const { h: h2 } = mapCopies(m, dev, buf, DMA_FROM_DEVICE, 0);
    dev.dmaWrite(h2, pattern(LEN, 33));
    const back = delta(m, () => dma_unmap_single(dev, h2, LEN, DMA_FROM_DEVICE));
    expect(back.bounceBytes).toBe(LEN);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 33));
  });

  it('unmap TO_DEVICE copies nothing back', async () => {
    const { m, dev, buf } = await setup();
    const { h } = mapCopies(m, dev, buf, DMA_TO_DEVICE, 0);
    dev.dmaWrite(h, pattern(LEN, 34)); // a misbehaving device: must not reach the original
    expect(delta(m, () => dma_unmap_single(dev, h, LEN, DMA_TO_DEVICE)).bounceBytes).toBe(0);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 31));
  });

  it('sync_for_device(FROM_DEVICE) and sync_for_cpu(TO_DEVICE) copy nothing', async () => {
    const { m, dev, buf } = await setup();
    const rx = mapCopies(m, dev, buf, DMA_FROM_DEVICE, 0).h;
    expect(delta(m, () => dma_sync_single_for_device(dev, rx, LEN, DMA_FROM_DEVICE)).bounceBytes).toBe(0);
    dma_unmap_single(dev, rx, LEN, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);

    const tx = mapCopies(m, dev, buf, DMA_TO_DEVICE, 0).h;
    dev.dmaWrite(tx, pattern(LEN, 35));
    expect(delta(m, () => dma_sync_single_for_cpu(dev, tx, LEN, DMA_TO_DEVICE)).bounceBytes).toBe(0);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 31));
    dma_unmap_single(dev, tx, LEN, DMA_TO_DEVICE);
  });

  it('sync_for_device(TO_DEVICE|BIDIRECTIONAL) and sync_for_cpu(FROM_DEVICE|BIDIRECTIONAL) copy size bytes', async () => {
    const { m, dev, buf } = await setup();
    const tx = mapCopies(m, dev, buf, DMA_TO_DEVICE, 0).h;
    expect(delta(m, () => dma_sync_single_for_device(dev, tx, LEN, DMA_TO_DEVICE)).bounceBytes).toBe(LEN);
    dma_unmap_single(dev, tx, LEN, DMA_TO_DEVICE);
    const rx = mapCopies(m, dev, buf, DMA_FROM_DEVICE, 0).h;
    expect(delta(m, () => dma_sync_single_for_cpu(dev, rx, 700, DMA_FROM_DEVICE)).bounceBytes).toBe(700);
    dma_unmap_single(dev, rx, LEN, DMA_FROM_DEVICE);
    const bi = mapCopies(m, dev, buf, DMA_BIDIRECTIONAL, 0).h;
    expect(delta(m, () => dma_sync_single_for_device(dev, bi, LEN, DMA_BIDIRECTIONAL)).bounceBytes).toBe(LEN);
    expect(delta(m, () => dma_sync_single_for_cpu(dev, bi, LEN, DMA_BIDIRECTIONAL)).bounceBytes).toBe(LEN);
    expect(delta(m, () => dma_unmap_single(dev, bi, LEN, DMA_BIDIRECTIONAL)).bounceBytes).toBe(LEN);
  });
});
