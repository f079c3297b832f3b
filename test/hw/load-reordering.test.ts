// Rule (load.loadReordering): a load from memory may return the bytes as they were at the last
// read barrier (rmb(), dma_rmb(), mb()), never older, never data the CPU itself has overwritten
// since, and never older than what an earlier load of the same bytes returned; off, nothing
// changes. A probability outside 0..1 is refused by name.
import { expect, test } from 'vitest';
import { createMachine, DMA_BIT_MASK, dma_alloc_coherent, dma_set_mask_and_coherent, GFP_KERNEL } from '../../src/index.js';
import { expectDmaSimError } from '../support/helpers.js';

async function rig(p: number, seed = 1) {
  const m = await createMachine({ arch: 'arm64', seed, load: { loadReordering: p } });
  const dev = m.createDevice({ name: 'dev0', coherent: false });
  dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
  const buf = dma_alloc_coherent(dev, 64, GFP_KERNEL);
  if (buf === null) throw new Error('alloc');
  m.cpu.writel(buf.cpu_addr, 1);
  m.cpu.mb();
  return { m, dev, cpu: buf.cpu_addr, dma: buf.dma_handle };
}

const word = (v: number): Uint8Array => new Uint8Array([v & 0xff, (v >>> 8) & 0xff, 0, 0]);

test('a load sees the value at the last read barrier or later, and never goes back', async () => {
  let early = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const { m, dev, cpu, dma } = await rig(0.5, seed);
    dev.dmaWrite(dma, word(2));
    dev.dmaWrite(dma, word(3));
    const seen = [m.cpu.readl(cpu), m.cpu.readl(cpu), m.cpu.readl(cpu)];
    for (const v of seen) expect([1, 3]).toContain(v); // never 2: early means as at the barrier
    if (seen[0] === 1) early++;
    const firstNew = seen.indexOf(3);
    if (firstNew >= 0) expect(seen.slice(firstNew)).toEqual(seen.slice(firstNew).map(() => 3));
    m.cpu.rmb();
    expect(m.cpu.readl(cpu)).toBe(3);
  }
  expect(early).toBeGreaterThan(0);
});

test("the CPU's own store is never undone", async () => {
  const { m, dev, cpu, dma } = await rig(0.99);
  dev.dmaWrite(dma, word(2));
  m.cpu.writel(cpu, 7);
  expect(m.cpu.readl(cpu)).toBe(7);
});

test('off by default: loads always see the device write', async () => {
  const { m, dev, cpu, dma } = await rig(0);
  dev.dmaWrite(dma, word(2));
  expect(m.cpu.readl(cpu)).toBe(2);
});

test('a probability outside 0..1 is refused', async () => {
  await expect(createMachine({ load: { loadReordering: 2 } })).rejects.toThrow(/load\.loadReordering/);
  const m = await createMachine({});
  expectDmaSimError('setLoad', () => m.setLoad({ loadReordering: -1 }));
});
