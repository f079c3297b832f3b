// Eviction pressure and speculation are random but seeded: the same program on the same seed
// gives the same bytes and the same counters; another seed gives another interleaving.
import { expect, test } from 'vitest';
import { SMALL_BUF, smallMachine } from '../support/helpers.js';
import type { Machine } from '../../src/machine.js';

async function run(seed: number): Promise<{ m: Machine; seen: number[] }> {
  const m = await smallMachine({ seed, load: { evictionPressure: 0.3, speculation: 0.3 }, cache: { size: 4096, ways: 4, lineSize: 64, replacement: 'random' } });
  const dev = m.createDevice({ name: 'nc0', coherent: false });
  const va = m.phys_to_virt(SMALL_BUF);
  const seen: number[] = [];
  for (let i = 0; i < 200; i++) {
    m.cpu.writeb(va + ((i * 97) % 8192), i & 0xff);
    seen.push(dev.dmaRead(SMALL_BUF + ((i * 61) % 8192), 1)[0] ?? -1);
  }
  return { m, seen };
}

test('the same seed reproduces the same run; another seed does not', async () => {
  const a = await run(11);
  const b = await run(11);
  const c = await run(12);
  expect(b.seen).toEqual(a.seen);
  expect(b.m.stats()).toEqual(a.m.stats());
  expect(a.m.stats().evictions).toBeGreaterThan(0);
  expect(c.m.stats()).not.toEqual(a.m.stats());
});
