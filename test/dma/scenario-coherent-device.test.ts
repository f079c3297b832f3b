// A coherent device snoops the CPU cache: it reads dirty lines, and its writes leave no stale
// copy in the cache, so no maintenance is ever needed (x86_64, or arm64 with dma-coherent).
import { expect, test } from 'vitest';
import { SMALL_BUF, smallMachine } from '../support/helpers.js';

test('a coherent device sees every CPU write and the CPU sees every device write', async () => {
  const m = await smallMachine({ arch: 'x86_64' });
  const dev = m.createDevice({ name: 'coh0' });
  expect(dev.dma_coherent).toBe(true);
  const va = m.phys_to_virt(SMALL_BUF);
  m.cpu.write(va, [9, 8, 7]);
  expect([...dev.dmaRead(SMALL_BUF, 3)]).toEqual([9, 8, 7]);

  expect(m.cpu.readb(va + 100)).toBe(0);
  dev.dmaWrite(SMALL_BUF + 100, [42]);
  expect(m.cpu.readb(va + 100)).toBe(42);
  // A partial device write into a dirty line keeps the CPU's other bytes.
  m.cpu.write(va + 200, [1, 1, 1, 1]);
  dev.dmaWrite(SMALL_BUF + 202, [5]);
  expect([...m.cpu.read(va + 200, 4)]).toEqual([1, 1, 5, 1]);
  expect(m.stats().cacheMaintenanceOps).toBe(0);
});
