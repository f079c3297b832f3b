// Rule: a scheduled event runs at the first interleaving point (a CPU access, a DMA API call, a
// delay) at or after its deadline, in deadline order; ties run in the order they were scheduled.
import { expect, test } from 'vitest';
import { createMachine, DMA_TO_DEVICE, dma_map_single, dma_unmap_single, GFP_KERNEL } from '../../src/index.js';

test('an event due runs at the next CPU access, not before', async () => {
  const m = await createMachine({ seed: 1 });
  const p = m.kmalloc(64, GFP_KERNEL);
  const ran: number[] = [];
  m.schedule(0, () => ran.push(m.now()));
  expect(ran).toEqual([]);
  m.cpu.readl(p);
  expect(ran.length).toBe(1);
});

test('events run in deadline order, ties in scheduling order, each at its deadline during a delay', async () => {
  const m = await createMachine({ seed: 1 });
  const t0 = m.now();
  const seen: [string, number][] = [];
  m.schedule(3000, () => seen.push(['c', m.now() - t0]));
  m.schedule(1000, () => seen.push(['a', m.now() - t0]));
  m.schedule(1000, () => seen.push(['b', m.now() - t0]));
  m.udelay(5);
  expect(seen).toEqual([['a', 1000], ['b', 1000], ['c', 3000]]);
  expect(m.now() - t0).toBe(5000);
});

test('a DMA API call is an interleaving point, and priced work advances the clock', async () => {
  const m = await createMachine({ arch: 'arm64', seed: 1 });
  const dev = m.createDevice({ name: 'dev0', coherent: false });
  const buf = m.kmalloc(4096, GFP_KERNEL);
  const t0 = m.now();
  let ran = false;
  m.schedule(1, () => { ran = true; });
  const h = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE); // not due yet at the map's entry
  expect(m.now()).toBeGreaterThan(t0); // the map's cache maintenance is priced
  dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);
  expect(ran).toBe(true);
});

test('an event may schedule another; the same seed replays the same interleaving', async () => {
  const run = async (): Promise<number[]> => {
    const m = await createMachine({ seed: 7 });
    const p = m.kmalloc(64, GFP_KERNEL);
    const at: number[] = [];
    const tick = (): void => { at.push(m.now()); if (at.length < 5) m.schedule(100, tick); };
    m.schedule(100, tick);
    for (let i = 0; i < 1000; i++) m.cpu.writel(p, i);
    return at;
  };
  const a = await run();
  expect(a.length).toBe(5);
  expect(await run()).toEqual(a);
});
