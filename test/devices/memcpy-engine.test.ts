// Rule: the memcpy engine copies each descriptor's len bytes from src to dst as a bus master
// (through its device's DMA addresses), writes the descriptor's status last, counts COMPLETED,
// and sets STATUS.DONE for descriptors with MEMCPY_DESC_INT; a copy from an address that reaches
// no RAM sets ERR in the descriptor and STATUS. Its seeded latency jitter replays with the seed.
import { expect, test } from 'vitest';
import { DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_map_single, dma_unmap_single, GFP_KERNEL } from '../../src/index.js';
import { MEMCPY_DESC, MEMCPY_DESC_DONE, MEMCPY_DESC_ERR, MEMCPY_DESC_SIZE, MEMCPY_STATUS_DONE, MEMCPY_STATUS_ERR } from '../../src/devices/index.js';
import { MEMCPY_REG, memcpyDesc, memcpyRig, memcpyRing } from '../support/device-helpers.js';

test('three copies through mapped buffers arrive, in order, status last', async () => {
  const rig = await memcpyRig({}, { latencyNs: 300, jitterNs: 200 });
  const { m, dev, regs } = rig;
  const ring = memcpyRing(rig, 8);
  const src = m.kmalloc(3 * 256, GFP_KERNEL);
  const dst = m.kmalloc(3 * 256, GFP_KERNEL);
  for (let i = 0; i < 3; i++) m.cpu.fill(src + i * 256, 256, 0x10 + i);
  const s = dma_map_single(dev, src, 768, DMA_TO_DEVICE);
  const d = dma_map_single(dev, dst, 768, DMA_FROM_DEVICE);
  for (let i = 0; i < 3; i++) memcpyDesc(m, ring, i, s + i * 256, d + i * 256, 256);
  m.cpu.writel(regs + MEMCPY_REG.TAIL, 3);
  m.udelay(5);
  expect(m.cpu.readl(regs + MEMCPY_REG.COMPLETED)).toBe(3);
  expect(m.cpu.readl(regs + MEMCPY_REG.STATUS) & MEMCPY_STATUS_DONE).toBe(MEMCPY_STATUS_DONE);
  for (let i = 0; i < 3; i++) expect(m.cpu.readl(ring.cpu + i * MEMCPY_DESC_SIZE + MEMCPY_DESC.STATUS)).toBe(MEMCPY_DESC_DONE);
  dma_unmap_single(dev, d, 768, DMA_FROM_DEVICE);
  dma_unmap_single(dev, s, 768, DMA_TO_DEVICE);
  for (let i = 0; i < 3; i++) expect(Array.from(m.cpu.read(dst + i * 256, 256))).toEqual(Array(256).fill(0x10 + i));
});

test('a source that reaches no RAM: ERR in the descriptor and in STATUS, the engine goes on', async () => {
  const rig = await memcpyRig();
  const { m, regs } = rig;
  const ring = memcpyRing(rig, 4);
  const buf = m.virt_to_phys(m.kmalloc(128, GFP_KERNEL));
  memcpyDesc(m, ring, 0, 0x8000_0000_0000, buf, 64);
  memcpyDesc(m, ring, 1, buf, buf + 64, 64);
  m.cpu.writel(regs + MEMCPY_REG.TAIL, 2);
  m.udelay(5);
  expect(m.cpu.readl(ring.cpu + MEMCPY_DESC.STATUS)).toBe(MEMCPY_DESC_DONE | MEMCPY_DESC_ERR);
  expect(m.cpu.readl(ring.cpu + MEMCPY_DESC_SIZE + MEMCPY_DESC.STATUS)).toBe(MEMCPY_DESC_DONE);
  expect(m.cpu.readl(regs + MEMCPY_REG.STATUS) & MEMCPY_STATUS_ERR).toBe(MEMCPY_STATUS_ERR);
});

test('the jitter is drawn from the seed: the same seed completes at the same time', async () => {
  const finish = async (seed: number): Promise<number> => {
    const rig = await memcpyRig({ seed }, { latencyNs: 1000, jitterNs: 5000 });
    const ring = memcpyRing(rig, 4);
    const buf = rig.m.virt_to_phys(rig.m.kmalloc(128, GFP_KERNEL));
    memcpyDesc(rig.m, ring, 0, buf, buf + 64, 64);
    rig.m.cpu.writel(rig.regs + MEMCPY_REG.TAIL, 1);
    const t0 = rig.m.now();
    while (rig.m.cpu.readl(ring.cpu + MEMCPY_DESC.STATUS) === 0) rig.m.ndelay(10);
    return rig.m.now() - t0;
  };
  expect(await finish(11)).toBe(await finish(11));
  const times = new Set(await Promise.all([1, 2, 3, 4, 5].map(finish)));
  expect(times.size).toBeGreaterThan(1);
});
