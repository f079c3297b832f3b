// Rule: the accessors' fast paths for a linear-map buffer (cpu.readInto, cpu.write, and the
// 8-byte stores that go through it) model what the general paths model. Under
// load.loadReordering a readInto may be satisfied early exactly as cpu.read is (the same bytes
// on twin machines), and never undoes the CPU's own store; a store takes one interleaving point
// whatever its size, so writeq() costs the CPU access that writel() costs.
import { expect, test } from 'vitest';
import {
  createMachine, DMA_BIDIRECTIONAL, DMA_BIT_MASK, dma_map_single, dma_set_mask_and_coherent, GFP_KERNEL, type Machine,
} from '../../src/index.js';

/** A coherent device's DMA write into a kmalloc buffer the CPU has read before (no barrier since). */
async function rig(seed: number): Promise<{ m: Machine; buf: number }> {
  const m = await createMachine({ arch: 'arm64', seed, load: { loadReordering: 0.5 } });
  const dev = m.createDevice({ name: 'dev0', coherent: true });
  dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
  const buf = m.kmalloc(64, GFP_KERNEL);
  m.cpu.fill(buf, 64, 1);
  m.cpu.mb();
  const dma = dma_map_single(dev, buf, 64, DMA_BIDIRECTIONAL);
  dev.dmaFill(dma, 64, 2);
  return { m, buf };
}

test('readInto is satisfied early as read is, seed for seed', async () => {
  let early = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const a = await rig(seed);
    const b = await rig(seed);
    const got = a.m.cpu.read(a.buf, 16);
    const into = new Uint8Array(16);
    b.m.cpu.readInto(b.buf, into);
    expect(into).toEqual(got);
    if (got[0] === 1) early++;
  }
  expect(early).toBeGreaterThan(0);
});

test("readInto never undoes the CPU's own store made through cpu.write", async () => {
  for (let seed = 1; seed <= 20; seed++) {
    const { m, buf } = await rig(seed);
    m.cpu.write(buf, new Uint8Array(16).fill(7));
    const into = new Uint8Array(16);
    m.cpu.readInto(buf, into);
    expect([...into]).toEqual(new Array(16).fill(7));
  }
});

test('writeq() costs one CPU access, as writel() does', async () => {
  const m = await createMachine({ arch: 'arm64', seed: 1 });
  const buf = m.kmalloc(64, GFP_KERNEL);
  const t0 = m.now();
  m.cpu.writel(buf, 1);
  const t1 = m.now();
  m.cpu.writeq(buf + 8, 1);
  expect(m.now() - t1).toBe(t1 - t0);
});
