// The article's 32-bit device: dma_set_mask(DMA_BIT_MASK(32)) and a kmalloc buffer above 4 GiB.
// dma_direct_map_phys() (kernel/dma/direct.h) finds !dma_capable() and, swiotlb being active,
// calls swiotlb_map() (kernel/dma/swiotlb.c): the DMA address is a slot in the pool below 4 GiB,
// swiotlb_tbl_map_single() copies original -> bounce, __swiotlb_sync_single_for_device() copies
// original -> bounce for TO_DEVICE/BIDIRECTIONAL, __swiotlb_sync_single_for_cpu() and
// __swiotlb_tbl_unmap_single() copy bounce -> original for FROM_DEVICE/BIDIRECTIONAL.
// swiotlb_bounce() handles a sync address inside the buffer through tlb_offset, so
// dma_sync_single_range_for_cpu(dev, h, offset, len) copies exactly that range.
// Checked on non-coherent arm64 (clean/invalidate around the copies) and coherent x86_64.
import { describe, expect, it } from 'vitest';
import {
  createMachine, DMA_BIDIRECTIONAL, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_map_single,
  dma_mapping_error, dma_set_mask, dma_sync_single_for_cpu, dma_sync_single_for_device,
  dma_sync_single_range_for_cpu, dma_sync_single_range_for_device, dma_unmap_single, GFP_KERNEL,
  type DmaDirection,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';
import { pattern } from '../support/api-helpers.js';

const FOUR_GIB = 2 ** 32;
const LEN = 1500;

async function setup(arch: 'arm64' | 'x86_64'): Promise<{ m: Machine; dev: Device; buf: number }> {
  const m = await createMachine({ arch, seed: 3 });
  const dev = m.createDevice({ name: '0000:02:00.0', driver: 'old32' });
  expect(dma_set_mask(dev, DMA_BIT_MASK(32))).toBe(0);
  const buf = m.kmalloc(LEN, GFP_KERNEL);
  expect(m.virt_to_phys(buf)).toBeGreaterThanOrEqual(FOUR_GIB);
  return { m, dev, buf };
}

function map(m: Machine, dev: Device, buf: number, dir: DmaDirection): number {
  const h = dma_map_single(dev, buf, LEN, dir);
  expect(dma_mapping_error(dev, h)).toBe(0);
  expect(h).toBeLessThan(FOUR_GIB);
  expect(m.swiotlb?.is_swiotlb_buffer(h)).toBe(true); // no dma_range_map: the DMA address is the slot's phys
  expect(h).not.toBe(m.virt_to_phys(buf));
  return h;
}

describe.each(['arm64', 'x86_64'] as const)('32-bit device, buffer above 4 GiB, bounced through swiotlb (%s)', (arch) => {
  it('DMA_TO_DEVICE: the device reads what the CPU wrote', async () => {
    const { m, dev, buf } = await setup(arch);
    m.cpu.write(buf, pattern(LEN, 1));
    const h = map(m, dev, buf, DMA_TO_DEVICE);
    expect(dev.dmaRead(h, LEN)).toEqual(pattern(LEN, 1));
    dma_unmap_single(dev, h, LEN, DMA_TO_DEVICE);
    expect(m.swiotlb?.totalUsed).toBe(0);
  });

  it('DMA_FROM_DEVICE: after unmap the CPU reads what the device wrote', async () => {
    const { m, dev, buf } = await setup(arch);
    const h = map(m, dev, buf, DMA_FROM_DEVICE);
    dev.dmaWrite(h, pattern(LEN, 2));
    dma_unmap_single(dev, h, LEN, DMA_FROM_DEVICE);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 2));
  });

  it('DMA_BIDIRECTIONAL: both ways through one mapping', async () => {
    const { m, dev, buf } = await setup(arch);
    m.cpu.write(buf, pattern(LEN, 3));
    const h = map(m, dev, buf, DMA_BIDIRECTIONAL);
    expect(dev.dmaRead(h, LEN)).toEqual(pattern(LEN, 3));
    dev.dmaWrite(h, pattern(LEN, 4));
    dma_unmap_single(dev, h, LEN, DMA_BIDIRECTIONAL);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 4));
  });

  it('sync_single_for_cpu / for_device mid-mapping: an RX buffer reused for two packets', async () => {
    const { m, dev, buf } = await setup(arch);
    const h = map(m, dev, buf, DMA_FROM_DEVICE);
    dev.dmaWrite(h, pattern(LEN, 5));
    dma_sync_single_for_cpu(dev, h, LEN, DMA_FROM_DEVICE);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 5));
    dma_sync_single_for_device(dev, h, LEN, DMA_FROM_DEVICE);
    dev.dmaWrite(h, pattern(LEN, 6));
    dma_sync_single_for_cpu(dev, h, LEN, DMA_FROM_DEVICE);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 6));
    dma_unmap_single(dev, h, LEN, DMA_FROM_DEVICE);
    expect(m.cpu.read(buf, LEN)).toEqual(pattern(LEN, 6));
  });

  it('sync_single_for_device(TO_DEVICE) mid-mapping: a TX buffer refilled by the CPU', async () => {
    const { m, dev, buf } = await setup(arch);
    m.cpu.write(buf, pattern(LEN, 7));
    const h = map(m, dev, buf, DMA_TO_DEVICE);
    expect(dev.dmaRead(h, LEN)).toEqual(pattern(LEN, 7));
    dma_sync_single_for_cpu(dev, h, LEN, DMA_TO_DEVICE);
    m.cpu.write(buf, pattern(LEN, 8));
    dma_sync_single_for_device(dev, h, LEN, DMA_TO_DEVICE);
    expect(dev.dmaRead(h, LEN)).toEqual(pattern(LEN, 8));
    dma_unmap_single(dev, h, LEN, DMA_TO_DEVICE);
  });

  it('partial syncs: dma_sync_single_range_for_cpu copies only [offset, offset + len)', async () => {
    const { m, dev, buf } = await setup(arch);
    const old = pattern(LEN, 9);
    const next = pattern(LEN, 10);
    m.cpu.write(buf, old);
    const h = map(m, dev, buf, DMA_FROM_DEVICE);
    dev.dmaWrite(h, next);
    // 512..767 first, then 1000..1255: each sync copies only its own range back.
    dma_sync_single_range_for_cpu(dev, h, 512, 256, DMA_FROM_DEVICE);
    const got = m.cpu.read(buf, LEN);
    expect(got.subarray(512, 768)).toEqual(next.subarray(512, 768));
    expect(got.subarray(0, 512)).toEqual(old.subarray(0, 512));
    expect(got.subarray(768)).toEqual(old.subarray(768));
    dma_sync_single_range_for_cpu(dev, h, 1000, 256, DMA_FROM_DEVICE);
    expect(m.cpu.read(buf, LEN).subarray(1000, 1256)).toEqual(next.subarray(1000, 1256));
    expect(m.cpu.read(buf, LEN).subarray(768, 1000)).toEqual(old.subarray(768, 1000));
    dma_unmap_single(dev, h, LEN, DMA_FROM_DEVICE, 0);
    expect(m.cpu.read(buf, LEN)).toEqual(next);
  });

  it('partial syncs across a slot boundary (a 5000-byte buffer, offset 2000, 3000 bytes)', async () => {
    const { m, dev } = await setup(arch);
    const big = m.kmalloc(5000, GFP_KERNEL);
    m.cpu.write(big, pattern(5000, 11));
    const h = dma_map_single(dev, big, 5000, DMA_BIDIRECTIONAL);
    expect(m.swiotlb?.is_swiotlb_buffer(h)).toBe(true);
    dev.dmaWrite(h, pattern(5000, 12));
    dma_sync_single_range_for_cpu(dev, h, 2000, 3000, DMA_BIDIRECTIONAL);
    const got = m.cpu.read(big, 5000);
    expect(got.subarray(2000)).toEqual(pattern(5000, 12).subarray(2000));
    expect(got.subarray(0, 2000)).toEqual(pattern(5000, 11).subarray(0, 2000));
    // And towards the device: the CPU changes bytes 4096.. and syncs only them.
    m.cpu.write(big + 4096, pattern(904, 13));
    dma_sync_single_range_for_device(dev, h, 4096, 904, DMA_BIDIRECTIONAL);
    expect(dev.dmaRead(h + 4096, 904)).toEqual(pattern(904, 13));
    dma_unmap_single(dev, h, 5000, DMA_BIDIRECTIONAL);
  });
});
